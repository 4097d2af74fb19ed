// The bench report as a reader meets it: values at the edge of the noise, where the report went,
// and a bad option.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_CLASS, renderReport, type HostResult } from '../../bench/report.js';
import { packageRoot } from '../../host-intrinsics/vm.js';

const root = packageRoot();

describe('bench report', () => {
  it('shows a micro cost at or below the empty loop as ≈0, never as negative nanoseconds', () => {
    KERNEL_CLASS.set('f64.sqrt', 'float');
    const host: HostResult = {
      id: 'node', label: 'Node', fixtures: [],
      micro: { none: { empty: 3.2, 'f64.sqrt': -0.4 }, float: { empty: 3.1, 'f64.sqrt': 12.5 } },
    };
    const md = renderReport([host], { title: 't', preamble: [], charts: new Map(), microWhat: new Map([['empty', 'loop'], ['f64.sqrt', 'sqrt']]) });
    const row = md.find((l) => l.startsWith('| Node | in the VM |'))!;
    expect(row).toBe('| Node | in the VM | 3.20 | ≈0 |');
    expect(md.find((l) => l.startsWith('| Node | offloaded |'))).toBe('| Node | offloaded | 3.10 | 13 |');
    expect(md.join('\n')).not.toMatch(/\| -\d/);
  });
});

describe('npm run bench', () => {
  const bench = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'build/js/bench/run.js'), ...args], { cwd: root, encoding: 'utf8' });

  it('ends by saying where it wrote its report', () => {
    const name = `test-${process.pid}`;
    try {
      const r = bench(['--quick', '--hosts', 'node', '--rounds', '1', '--no-micro', '--name', name]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trimEnd().split('\n').pop()).toBe(`report written to bench/results/${name}.md (an SVG chart per host beside it)`);
      expect(existsSync(path.join(root, 'bench/results', `${name}.md`))).toBe(true);
    } finally {
      for (const f of readdirSync(path.join(root, 'bench/results'))) if (f.startsWith(name)) rmSync(path.join(root, 'bench/results', f));
    }
  });

  it('refuses bad options in one line', () => {
    for (const [args, message] of [[['--hosts', 'wasmtime'], 'unknown host wasmtime'], [['--rounds', 'x'], '--rounds wants'], [['--name', '/tmp/x'], '--name wants a plain file name']] as const) {
      const r = bench([...args]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^bench: error: ${message}.*\\n$`));
    }
  });
});
