// `npm run bench -- --runtimes`: the SEC 2024 paper's table on the paper's runtimes. Each C
// fixture runs on each WASI runtime natively, and inside build/handover.wasm on that same runtime
// (the VM as a WASI command), as whole processes; the ratio is to the native run on the same
// runtime. Start-up (a process, a runtime, loading and compiling the modules) is measured on
// `hello` and reported apart: the compute ratio is of the times less that of hello on the
// same path. The paper's self-hosted Wasm3 ran 37x on Wasm3 and 112x on Wasmtime.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RUNTIME_LABELS, handoverWasm, runtimeCommand, type RuntimeName } from '../host-intrinsics/hosts/runtimes/runtimes.js';
import { packageRoot } from '../host-intrinsics/vm.js';

const RUNS: RuntimeName[] = ['wasmtime', 'wamr', 'wasm3', 'node'];
const PAPER: Partial<Record<RuntimeName, string>> = { wasmtime: '112x', wasm3: '37x' };

function time(cmd: { file: string; args: string[]; env?: Record<string, string> }, what: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd.file, cmd.args, { encoding: 'utf8', env: { ...process.env, ...cmd.env }, maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${(r.stderr ?? '').slice(0, 300)}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export function runtimesBench(quick: boolean, rounds: number): string[] {
  const fixtures = path.join(packageRoot(), 'tests', 'fixtures');
  // Sizes at which the slowest path (the VM on Wasm3) stays within a minute per run.
  const guests: [string, string[]][] = quick
    ? [['float', ['3000']], ['intarray', ['3000']], ['recursion', ['22']], ['memory', ['256']]]
    : [['float', ['30000']], ['intarray', ['30000']], ['recursion', ['27']], ['memory', ['1024']]];
  const lines = [
    `Each fixture natively on the runtime and in build/handover.wasm on the same runtime, whole processes, median of ${rounds}` +
      ` round${rounds > 1 ? 's' : ''}. "compute" is the ratio of the times less hello's on the same path (start-up apart).`,
    '',
    '| runtime | fixture | native ms | handover.wasm ms | whole | compute | paper |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const geo: string[] = [];
  for (const rt of RUNS) {
    const run = (inVm: boolean, name: string, args: string[]) => {
      const module = path.join(fixtures, `${name}.wasm`);
      const cmd = inVm ? runtimeCommand(rt, handoverWasm(), ['run', module, ...args], [fixtures]) : runtimeCommand(rt, module, args, [fixtures]);
      return median(Array.from({ length: rounds }, () => time(cmd, `${rt} ${inVm ? 'handover.wasm ' : ''}${name}`)));
    };
    const startNative = run(false, 'hello', []);
    const startVm = run(true, 'hello', []);
    lines.push(`| ${RUNTIME_LABELS[rt]} | hello (start-up) | ${startNative.toFixed(0)} | ${startVm.toFixed(0)} | | | |`);
    const ratios: number[] = [];
    for (const [name, args] of guests) {
      const native = run(false, name, args);
      let vm: number;
      try {
        vm = run(true, name, args);
      } catch (e) {
        lines.push(`| ${RUNTIME_LABELS[rt]} | ${name} ${args.join(' ')} | ${native.toFixed(0)} | failed: ${(e as Error).message.split('\n')[0]} | | | |`);
        continue;
      }
      const compute = (vm - startVm) / Math.max(1, native - startNative);
      ratios.push(compute);
      lines.push(`| ${RUNTIME_LABELS[rt]} | ${name} ${args.join(' ')} | ${native.toFixed(0)} | ${vm.toFixed(0)} | ${(vm / native).toFixed(1)}x | ${compute.toFixed(1)}x | ${name === 'float' ? PAPER[rt] ?? '' : ''} |`);
    }
    const g = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
    geo.push(`- ${RUNTIME_LABELS[rt]}: compute geomean **${g.toFixed(1)}x** its own native run` +
      (rt === 'wasmtime' ? ' (target ≤ 10x; the paper: 112x)' : rt === 'wasm3' ? ' (target ≤ 20x; the paper: 37x)' : ''));
  }
  return [...lines, '', ...geo, '', 'The paper\'s column is its Mandelbrot, beside float (whose core is n-body and Mandelbrot).'];
}
