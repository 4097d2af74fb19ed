// Errors reach the guest as the right errno, and files behave as under node:wasi: every scenario of
// scenarios.ts runs in the VM here and under node:wasi in a child process (node-probe-child.ts),
// each on a fresh copy of the same layout. Leaving the preopen (by `..`, or through a symlink) is
// refused with ENOTCAPABLE, as node:wasi does, and creates nothing outside.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuild, tempDir } from './harness.js';
import { Errno, O, open, stat } from './ops.js';
import { vmProbe } from './probe.js';
import { ERRNO_SCENARIOS, RESULT_SCENARIOS, layout, leaked } from './scenarios.js';

type Reference = Record<string, { result: unknown; leaked: string[] }>;
let reference: Reference;

beforeAll(() => {
  requireBuild('tests/wasi/node-probe-child.js', ['tests/wasi', 'host-intrinsics/wasi']);
  const child = spawnSync(process.execPath, [path.join(ROOT, 'build/js/tests/wasi/node-probe-child.js')], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node:wasi probe child failed (${child.status ?? child.signal}): ${child.stderr}`);
  reference = JSON.parse(child.stdout) as Reference;
});

function inVm(body: (p: ReturnType<typeof vmProbe>) => unknown): { result: unknown; leaked: string[] } {
  const base = tempDir();
  const p = vmProbe({ preopens: { '/sandbox': layout(base) } });
  try {
    return { result: body(p), leaked: leaked(base) };
  } finally {
    p.ctx.close();
  }
}

const errnoName = (n: number) => Object.entries(Errno).find(([, v]) => v === n)![0];

describe('errno mapping: the VM and node:wasi answer the same', () => {
  for (const [what, errno, body] of ERRNO_SCENARIOS) {
    it(`${what}: E${errnoName(errno)}`, () => {
      expect(reference[what]).toEqual({ result: errno, leaked: [] });
      expect(inVm(body)).toEqual({ result: errno, leaked: [] });
    });
  }
});

describe('files: the VM and node:wasi produce the same', () => {
  for (const [what, body] of RESULT_SCENARIOS) {
    it(what, () => {
      expect(inVm(body)).toEqual(reference[what]);
    });
  }
});

describe('what only the VM refuses', () => {
  // uvwasi checks paths lexically only: node:wasi reads base/outside.txt through root/link-out.
  it('does not follow a symlink that points outside', () => {
    const p = vmProbe({ preopens: { '/sandbox': layout(tempDir()) } });
    expect(open(p, 'link-out/outside.txt').errno).toBe(Errno.NOTCAPABLE);
    expect(stat(p, 'link-out').errno).toBe(Errno.NOTCAPABLE);
    expect(stat(p, 'link-out', 0).errno).toBe(0); // the link itself lies inside
    expect(open(p, 'dangling-out', O.CREAT).errno).toBe(Errno.NOTCAPABLE);
  });

  // node:wasi resolves an absolute path against the preopen's guest name; wasi-libc never sends
  // one, and the VM refuses them outright.
  it('refuses absolute paths', () => {
    const p = vmProbe({ preopens: { '/sandbox': layout(tempDir()) } });
    expect(open(p, '/etc/passwd').errno).toBe(Errno.NOTCAPABLE);
    expect(open(p, '/sandbox/file.txt').errno).toBe(Errno.NOTCAPABLE);
  });

  it('answers a bad guest pointer with EFAULT', () => {
    const p = vmProbe();
    expect(p.call('args_sizes_get', 65534, 0)).toBe(Errno.FAULT);
    expect(p.call('fd_write', 1, 65532, 1, 0)).toBe(Errno.FAULT);
  });
});
