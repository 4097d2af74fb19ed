// One measurement, in its own process (so each host flag set applies, and node:wasi's occasional
// crash on repeated large runs cannot take the harness down): runs a fixture natively (node:wasi)
// or in the VM (on this Node) and prints {"ms": [...], "exit": N} — CPU milliseconds per run.
//   node build/js/bench/worker.js <native|vm> <fixture.wasm> <runs> [guest args…]

import { openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { Vm } from '../host-intrinsics/vm.js';
import { runWasi } from '../host-intrinsics/wasi/run.js';

const [mode, file, runsArg, ...args] = process.argv.slice(2);
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

const ms: number[] = [];
let exit = -1;
if (mode === 'native') {
  const module = new WebAssembly.Module(new Uint8Array(bytes));
  // The same warm-up as the VM gets: the module's hot functions reach TurboFan.
  const warm = new WASI({ version: 'preview1', args: [name, '1'], env: {}, returnOnExit: true, stdout: devNull });
  warm.start(new WebAssembly.Instance(module, importsOf(warm)));
  for (let i = 0; i < Number(runsArg); i++) {
    const wasi = new WASI({ version: 'preview1', args: [name, ...args], env: {}, returnOnExit: true, stdout: devNull });
    const instance = new WebAssembly.Instance(module, importsOf(wasi));
    const [t, code] = cpu(() => wasi.start(instance));
    ms.push(t);
    exit = code;
  }
} else {
  // A small warm-up run first: V8 tiers the dispatch loop up to TurboFan once it has run a while.
  runWasi(Vm.createSync(), bytes, { args: [name, '1'], env: {}, stdout: sink, stderr: process.stderr });
  for (let i = 0; i < Number(runsArg); i++) {
    const vm = Vm.createSync();
    const [t, result] = cpu(() => runWasi(vm, bytes, { args: [name, ...args], env: {}, stdout: sink, stderr: process.stderr }));
    ms.push(t);
    exit = 'exitCode' in result ? result.exitCode : -1;
  }
}
process.stdout.write(JSON.stringify({ ms, exit }) + '\n');
