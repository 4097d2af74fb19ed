// Without the spec suite the spec stage says so, loudly and with counts: never a silent pass.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../../host-intrinsics/vm.js';

it('a missing suite is reported as not run, with what did not run', () => {
  const root = packageRoot();
  const r = spawnSync(process.execPath, [path.join(root, 'build/js/tests/spec/run.js'), '--intrinsics', 'all'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, HANDOVER_SPEC_DIR: '/nonexistent/spec' },
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('SPEC SUITE NOT RUN: no scripts in /nonexistent/spec/core\n');
  expect(r.stdout).toContain('0 of the 28,018 core spec commands ran in this stage (--intrinsics all).\n');
  expect(r.stdout).toContain('"The spec suite"');
  expect(r.stdout.trimEnd().split('\n').pop()).toBe('spec: NOT RUN (0 commands)');
});
