// One measurement, in its own process (so each host flag set applies, and node:wasi's occasional
// crash on repeated large runs cannot take the harness down): runs a fixture and prints
// {"ms": [...], "exit": N, ...} — CPU milliseconds per run.
//   node build/js/bench/worker.js <mode> <fixture.wasm> <runs> [--out <file>] [guest args…]
// Modes:
//   native        natively by Node (node:wasi)
//   wasabi        natively, after bench/wasabi/rewrite.ts hooked every instruction; the hook counts
//                 per opcode in JS (adds "count" and "ops" of the last run)
//   vm            in the VM, plain (no metering, no probes)
//   vm-metered    in the VM, metered with unlimited fuel (adds "count": the fuel used)
//   vm-monitored  in the VM, monitored (adds "count", "ops" and "derive": CPU ms of monitor_dump +
//                 decoding, and of deriving each monitor's report from the counters, after the run)
//   vm-recorded   monitored, and recording inclusive instructions and indirect call targets in the
//                 VM (the calls monitor's totals, the indirect monitor; adds "count")
//   vm-traced     monitored, and recording the memory trace (drained each 65536 accesses into a
//                 discarding sink; adds "count" and "accesses")
// The VM core module is $HANDOVER_VM_WASM when set (bench/run.ts: a baseline build).
// --out: the guest's stdout of the last run is written to <file> (else discarded).

import { openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { Vm } from '../host-intrinsics/vm.js';
import { runWasi } from '../host-intrinsics/wasi/run.js';
import type { FunctionCounters } from '../host-intrinsics/monitors/counters.js';
import { instructionCount } from '../host-intrinsics/monitors/count.js';
import { opcodeHistogram } from '../host-intrinsics/monitors/opcodes.js';
import { callProfile } from '../host-intrinsics/monitors/calls.js';
import { blockCoverage } from '../host-intrinsics/monitors/coverage.js';
import { hotLoops } from '../host-intrinsics/monitors/loops.js';
import { branchOutcomes } from '../host-intrinsics/monitors/branches.js';
import { memoryStats } from '../host-intrinsics/monitors/memory.js';
import { HOOK_MODULE, HOOK_NAME, rewrite } from './wasabi/rewrite.js';

const argv = process.argv.slice(2);
const [mode, file, runsArg] = argv;
let rest = argv.slice(3);
let outFile: string | undefined;
if (rest[0] === '--out') {
  outFile = rest[1];
  rest = rest.slice(2);
}
const args = rest;
const bytes = new Uint8Array(readFileSync(file));
const name = path.basename(file, '.wasm');
const devNull = openSync('/dev/null', 'w');
const sink = { write() {} };

function cpu<T>(body: () => T): [number, T] {
  const start = process.cpuUsage();
  const result = body();
  const used = process.cpuUsage(start);
  return [(used.user + used.system) / 1000, result];
}

// Node 20 has WASI#getImportObject; the pinned @types/node predates it.
const importsOf = (wasi: WASI) => (wasi as unknown as { getImportObject(): WebAssembly.Imports }).getImportObject();

/** Opcode → count, without zeros, as JSON-safe numbers. */
type Ops = Record<string, number>;

const ms: number[] = [];
let exit = -1;
const extra: { count?: number; ops?: Ops; derive?: Record<string, number>; accesses?: number } = {};

function native(module: WebAssembly.Module, extraImports: WebAssembly.Imports, beforeRun: () => void): void {
  // The same warm-up as the VM gets: the module's hot functions reach TurboFan.
  const warm = new WASI({ version: 'preview1', args: [name, '1'], env: {}, returnOnExit: true, stdout: devNull });
  warm.start(new WebAssembly.Instance(module, { ...importsOf(warm), ...extraImports }));
  for (let i = 0; i < Number(runsArg); i++) {
    const last = i === Number(runsArg) - 1;
    const stdout = last && outFile ? openSync(outFile, 'w') : devNull;
    const wasi = new WASI({ version: 'preview1', args: [name, ...args], env: {}, returnOnExit: true, stdout });
    const instance = new WebAssembly.Instance(module, { ...importsOf(wasi), ...extraImports });
    beforeRun();
    const [t, code] = cpu(() => wasi.start(instance));
    ms.push(t);
    exit = code;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

function opsOf(funcs: FunctionCounters[]): Ops {
  const byOp: Ops = {};
  for (const f of funcs) {
    for (const s of f.segments) {
      if (s.executions === 0n) continue;
      for (const op of s.ops) byOp[op] = (byOp[op] ?? 0) + Number(s.executions);
    }
  }
  return byOp;
}

if (mode === 'native') {
  native(new WebAssembly.Module(bytes), {}, () => {});
} else if (mode === 'wasabi') {
  const counts = new Float64Array(0x200);
  const hook = (op: number) => { counts[op]++; };
  native(new WebAssembly.Module(rewrite(bytes).bytes), { [HOOK_MODULE]: { [HOOK_NAME]: hook } }, () => counts.fill(0));
  const ops: Ops = {};
  counts.forEach((n, op) => { if (n > 0) ops[op] = n; });
  extra.ops = ops;
  extra.count = counts.reduce((a, b) => a + b, 0);
} else if (mode === 'vm' || mode === 'vm-metered' || mode === 'vm-monitored' || mode === 'vm-recorded' || mode === 'vm-traced') {
  let accesses = 0;
  const setUp = (vm: Vm) => {
    if (mode === 'vm-metered') vm.setMetering(true); // fuel starts unlimited (2^64 - 1)
    if (mode === 'vm-monitored' || mode === 'vm-recorded' || mode === 'vm-traced') vm.setMonitoring(true);
    if (mode === 'vm-recorded') vm.setRecording({ inclusive: true, indirectCalls: true });
    if (mode === 'vm-traced') {
      vm.setRecording({ memoryTrace: true });
      vm.onMemoryTrace = (records) => { accesses += records.length / 8; };
    }
    return vm;
  };
  // Small warm-up runs first, for a second: V8 tiers the dispatch loop up to TurboFan once it has
  // run a while, compiling it in a background thread — 60 ms on an idle core, several hundred
  // under load (the loop is one ~30 KB function). One short run used to be the whole warm-up, and
  // the measured run then started in Liftoff and paid for the compile. The new code is taken on
  // the loop's next entry (no on-stack replacement in V8 11), which a measured run makes at every
  // host call and slice end.
  const warmUntil = performance.now() + 1000;
  do runWasi(setUp(Vm.createSync()), bytes, { args: [name, '1'], env: {}, stdout: sink, stderr: process.stderr });
  while (performance.now() < warmUntil);
  for (let i = 0; i < Number(runsArg); i++) {
    const vm = setUp(Vm.createSync());
    const chunks: Uint8Array[] = [];
    const stdout = { write(b: Uint8Array) { chunks.push(b.slice()); } };
    accesses = 0;
    const [t, result] = cpu(() => runWasi(vm, bytes, { args: [name, ...args], env: {}, stdout, stderr: process.stderr }));
    ms.push(t);
    exit = 'exitCode' in result ? result.exitCode : -1;
    if (i < Number(runsArg) - 1) continue;
    if (outFile) writeFileSync(outFile, concat(chunks));
    if (mode === 'vm-metered') extra.count = Number(0xffffffffffffffffn - vm.fuel);
    if (mode === 'vm-recorded') {
      const recorded = vm.recorded(vm.lastInstance!);
      extra.count = Number(callProfile(vm.monitorCounters(vm.lastInstance!), recorded.inclusive).reduce((n, c) => (c.totalInstructions! > n ? c.totalInstructions! : n), 0n));
    }
    if (mode === 'vm-traced') {
      extra.accesses = accesses + vm.takeMemoryTrace().length / 8;
      extra.count = Number(instructionCount(vm.monitorCounters(vm.lastInstance!)));
    }
    if (mode === 'vm-monitored') {
      const instance = vm.lastInstance!;
      const derive: Record<string, number> = {};
      const [dump, funcs] = cpu(() => vm.monitorCounters(instance));
      derive.dump = dump;
      const monitors: [string, (f: FunctionCounters[]) => unknown][] = [
        ['count', instructionCount], ['opcodes', opcodeHistogram], ['calls', callProfile], ['coverage', blockCoverage],
        ['loops', hotLoops], ['branches', branchOutcomes], ['memory', memoryStats],
      ];
      for (const [m, derivation] of monitors) derive[m] = cpu(() => derivation(funcs))[0];
      extra.derive = derive;
      extra.count = Number(instructionCount(funcs));
      extra.ops = opsOf(funcs);
    }
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(JSON.stringify({ ms, exit, ...extra }) + '\n');
