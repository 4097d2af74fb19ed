// The host-runtime benchmark's smallest paths (bench/run.ts's default mode), so the harness cannot
// rot silently: one tiny fixture natively and in the VM per intrinsics mode on this Node, the same
// on js102 (when installed) and VM-on-VM, the micro kernels at a few iterations, and the report and
// chart rendered from what came back.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODES, runPlan, type Plan } from '../../bench/host.js';
import { MICRO_KERNELS, assembleMicro } from '../../bench/micro.js';
import { renderChart, renderReport, type FixtureResult, type HostResult } from '../../bench/report.js';
import { findExecutable } from '../../host-intrinsics/hosts/engines.js';
import { packageRoot } from '../../host-intrinsics/vm.js';

const root = packageRoot();
const fixture = path.join(root, 'tests/fixtures/recursion.wasm');
const tmp = mkdtempSync(path.join(tmpdir(), 'handover-bench-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const plan = (host: 'node' | 'vm-on-vm', modes = [...MODES]): Plan => ({ kind: 'fixture', host, name: 'recursion', file: fixture, args: ['1'], warmArgs: ['1'], rounds: 1, modes });

function checkFixture(r: FixtureResult, modes: readonly string[]) {
  expect(r.native).toHaveLength(modes.length - Object.keys(r.na).length);
  for (const m of modes) {
    if (r.na[m as keyof typeof r.na]) continue;
    expect(r.vm[m as keyof typeof r.vm]![0]).toBeGreaterThan(0);
    expect(r.ratio[m as keyof typeof r.ratio]![0]).toBeGreaterThan(0);
  }
  // Without intrinsics the VM always runs.
  expect(r.vm.none).toHaveLength(1);
}

describe('host-runtime bench, smallest path', () => {
  const hosts: HostResult[] = [];

  it('measures a fixture natively and in the VM per mode on Node', async () => {
    const r = (await runPlan(plan('node'))) as FixtureResult;
    checkFixture(r, MODES);
    hosts.push({ id: 'node', label: 'Node', fixtures: [{ name: 'recursion', args: ['1'], result: r }] });
  });

  it('does the same on js102, when installed', () => {
    const js = findExecutable(process.env.HANDOVER_JS102 ?? 'js102');
    if (!js) return;
    const file = path.join(tmp, 'plan.json');
    writeFileSync(file, JSON.stringify(plan('node')));
    const out = spawnSync(js, [path.join(root, 'bench/host-js102.js'), path.join(root, 'bench/kernel.js'), path.join(root, 'build/vm.wasm'), file], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout.trim().split('\n').pop()!) as FixtureResult;
    checkFixture(r, MODES);
    hosts.push({ id: 'spidermonkey', label: 'js102', fixtures: [{ name: 'recursion', args: ['1'], result: r }] });
  });

  it('runs VM-on-VM', async () => {
    const r = (await runPlan(plan('vm-on-vm', ['none']))) as FixtureResult;
    checkFixture(r, ['none']);
  });

  it('times the micro kernels and renders the report', async () => {
    const bytes = await assembleMicro();
    const kernels = MICRO_KERNELS.filter((k) => ['empty', 'f64.sqrt', 'memory.copy 64 B'].includes(k.name)).map((k) => {
      const file = path.join(tmp, `${k.name.replace(/[^a-z0-9.]/gi, '_')}.wasm`);
      writeFileSync(file, bytes.get(k.name)!);
      return { name: k.name, cls: k.cls, file, iterations: 2000 };
    });
    const micro = (await runPlan({ kind: 'micro', host: 'node', kernels, baseline: 'empty', reps: 1 })) as Record<string, Record<string, number> | string>;
    expect(typeof (micro.none as Record<string, number>)['f64.sqrt']).toBe('number');
    hosts[0].micro = micro;
    const charts = new Map([['node', 'x-node.svg']]);
    const md = renderReport(hosts, { title: 't', preamble: [], charts, microWhat: new Map(kernels.map((k) => [k.name, k.name])) }).join('\n');
    expect(md).toContain('## Native vs self-hosted, per host');
    expect(md).toContain('pays off on Node');
    expect(md).toContain('## Micro');
    const svg = renderChart(hosts[0])!;
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});
