// `npm run bench`: the fixtures run natively by Node and in the VM on Node, per V8 tier
// configuration, paired back to back; medians and ratios to native, written to
// bench/results/<date>.md. `--quick` runs smaller sizes once per host configuration.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../host-intrinsics/vm.js';

const root = packageRoot();
const quick = process.argv.includes('--quick');

// Default sizes run ~0.15–0.25 s natively (tests/fixtures/README.md).
const fixtures: [string, string[]][] = quick
  ? [['float', ['200000']], ['intarray', ['30000']], ['recursion', ['40']], ['memory', ['2048']]]
  : [['float', []], ['intarray', []], ['recursion', []], ['memory', []]];
const hosts: [string, string[]][] = quick
  ? [['Node (default tiering)', []]]
  : [['Node (default tiering)', []], ['Node, TurboFan only', ['--no-liftoff']], ['Node, Liftoff only', ['--liftoff-only']]];
const rounds = quick ? 1 : 5;

function measure(flags: string[], mode: 'native' | 'vm', fixture: string, args: string[]): number {
  const worker = path.join(root, 'build/js/bench/worker.js');
  const out = spawnSync(process.execPath, [...flags, '--no-warnings', worker, mode, path.join(root, 'tests/fixtures', `${fixture}.wasm`), '1', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (out.status !== 0) throw new Error(`${mode} ${fixture} failed: ${out.stderr}`);
  const { ms, exit } = JSON.parse(out.stdout.trim().split('\n').pop()!) as { ms: number[]; exit: number };
  if (exit !== 0) throw new Error(`${mode} ${fixture} exited ${exit}`);
  return ms[0];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

interface Row { host: string; fixture: string; native: number; vm: number; ratio: number; spread: [number, number] }
const rows: Row[] = [];
for (const [host, flags] of hosts) {
  for (const [fixture, args] of fixtures) {
    const native: number[] = [];
    const vm: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Paired back to back, so load on this shared machine hits both alike.
      const n = measure(flags, 'native', fixture, args);
      const v = measure(flags, 'vm', fixture, args);
      native.push(n);
      vm.push(v);
      ratios.push(v / n);
      process.stderr.write(`\r${host}: ${fixture} round ${r + 1}/${rounds}: native ${n.toFixed(0)} ms, VM ${v.toFixed(0)} ms      `);
    }
    rows.push({ host, fixture, native: median(native), vm: median(vm), ratio: median(ratios), spread: [Math.min(...ratios), Math.max(...ratios)] });
  }
}
process.stderr.write('\n');

const lines: string[] = [];
const date = new Date().toISOString().slice(0, 10);
lines.push(`# Benchmark ${date}${quick ? ' (quick)' : ''}`, '');
lines.push(`Node ${process.version}; CPU time of the guest's run (VM: including loading and instantiating the guest, after a warm-up run in the same process), median of ${rounds}, each VM run paired with a native run of the same guest.`, '');
lines.push('| host | fixture | native ms | VM ms | VM / native | spread |', '|---|---|---:|---:|---:|---|');
for (const r of rows) {
  lines.push(`| ${r.host} | ${r.fixture} | ${r.native.toFixed(1)} | ${r.vm.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)} |`);
}
lines.push('', '| host | geomean VM / native |', '|---|---:|');
for (const [host] of hosts) lines.push(`| ${host} | ${geomean(rows.filter((r) => r.host === host).map((r) => r.ratio)).toFixed(2)}x |`);
const text = lines.join('\n') + '\n';
process.stdout.write(text);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results', `${date}${quick ? '-quick' : ''}.md`), text);
