// binaryen's wasm-opt (npm `binaryen`, an Emscripten build), loaded once into this process and
// called like the command line: starting it afresh costs 1–3 s per call on this machine, a call
// into the loaded one ~50 ms. Files go through the real file system (the build uses NODERAWFS).
//
// `-ttf` (translate-to-fuzz) turns arbitrary bytes into a valid module. The feature flags below
// keep it to what the VM implements (Wasm 2.0 without SIMD): MVP + mutable globals, sign-ext, non-trapping
// float-to-int, multi-value, bulk memory, reference types. Binaryen adds `fuzzing-support`
// imports (log-*, sleep, call-export*, call-ref*, table-get/set) and `__fuzz_import` externref
// globals; the harness provides them. Its modules bound their own running time with a hang limit:
// a global decremented at every function entry and loop iteration, trapping (`unreachable`) and
// re-arming at zero.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

export const FEATURE_FLAGS = [
  '--mvp-features',
  '--enable-mutable-globals',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-bulk-memory',
  '--enable-reference-types',
];

type Main = (args: string[]) => number;

let loaded: Promise<Main> | null = null;
let output: string[] = [];

function binPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('binaryen/package.json')), 'bin', 'wasm-opt');
}

async function load(): Promise<Main> {
  const file = binPath();
  let source = readFileSync(file, 'utf8');
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  // The script is CommonJS; run it in a function scope that also exposes its callMain and a
  // console that collects its output instead of printing it.
  // `Module` as a parameter survives the script's `var Module = typeof Module != …`: with
  // noInitialRun the CLI's main does not run (and complain of no arguments) at load.
  const wrapper = vm.runInThisContext(
    `(function (module, exports, require, __filename, __dirname, console, Module) {${source}\n;` +
      'module.exports.__callMain = callMain; module.exports.__ready = () => runtimeInitialized;' +
      'module.exports.__heapBytes = () => wasmMemory.buffer.byteLength;})',
    { filename: file },
  ) as (...args: unknown[]) => void;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  const quiet = { log: (...a: unknown[]) => output.push(a.join(' ')), error: (...a: unknown[]) => output.push(a.join(' ')), warn: () => {} };
  const savedArgv = process.argv;
  process.argv = [savedArgv[0]!, file];
  try {
    wrapper(mod, mod.exports, createRequire(file), file, path.dirname(file), quiet, { noInitialRun: true });
  } finally {
    process.argv = savedArgv;
  }
  const api = mod.exports as { __callMain: Main; __ready: () => boolean; __heapBytes: () => number };
  while (!api.__ready()) await new Promise((resolve) => setTimeout(resolve, 5));
  heapBytes = api.__heapBytes;
  return api.__callMain;
}

const workDir = mkdtempSync(path.join(tmpdir(), 'handover-fuzz-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
let counter = 0;

/** Bytes of wasm-opt's heap (0 before it is loaded). */
export function wasmOptHeapBytes(): number {
  return heapBytes?.() ?? 0;
}
let heapBytes: (() => number) | null = null;

/** Loads wasm-opt (once); the other functions here need it loaded. */
export async function loadWasmOpt(): Promise<void> {
  callMain = await (loaded ??= load());
}

// wasm-opt leaks about 0.25 MiB per call, and near 400 MiB of heap a -ttf call was seen to hang:
// long campaigns load a fresh copy (about a second) once the heap has grown this far.
const FRESH_HEAP_BYTES = 128 << 20;

/** Whether the loaded wasm-opt has leaked enough to be replaced (see `reloadWasmOpt`). */
export function wasmOptTired(): boolean {
  return wasmOptHeapBytes() > FRESH_HEAP_BYTES;
}

/** Drops the loaded wasm-opt for a fresh one. */
export async function reloadWasmOpt(): Promise<void> {
  loaded = null;
  callMain = null;
  heapBytes = null;
  await loadWasmOpt();
}

let callMain: Main | null = null;

export class WasmOptError extends Error {
  override name = 'WasmOptError';
}

/** Runs `wasm-opt <input> ...args -o <output>` on bytes; throws WasmOptError with its output on failure. */
export function wasmOpt(input: Uint8Array, args: string[]): Uint8Array {
  if (!callMain) throw new Error('call loadWasmOpt() first');
  if (wasmOptHeapBytes() > 3 * FRESH_HEAP_BYTES) throw new WasmOptError('wasm-opt has leaked too much memory: reloadWasmOpt() first');
  const n = counter++;
  const inFile = path.join(workDir, `in${n}`);
  const outFile = path.join(workDir, `out${n}.wasm`);
  writeFileSync(inFile, input);
  output = [];
  const savedExitCode = process.exitCode;
  let status: number;
  try {
    status = callMain([inFile, ...args, '-o', outFile]);
  } catch (e) {
    throw new WasmOptError(`wasm-opt ${args.join(' ')} threw ${String(e)}: ${output.join('\n')}`);
  } finally {
    process.exitCode = savedExitCode; // the Emscripten runtime sets it on exit
    rmSync(inFile, { force: true });
  }
  try {
    if (status !== 0) throw new WasmOptError(`wasm-opt ${args.join(' ')} exited with ${status}: ${output.join('\n')}`);
    return new Uint8Array(readFileSync(outFile));
  } finally {
    rmSync(outFile, { force: true });
  }
}

/** A valid module made by `wasm-opt -ttf` from `random` bytes (the same bytes, the same module). */
export function translateToFuzz(random: Uint8Array, extraArgs: string[] = []): Uint8Array {
  return wasmOpt(random, ['-ttf', '-q', ...FEATURE_FLAGS, ...extraArgs]);
}
