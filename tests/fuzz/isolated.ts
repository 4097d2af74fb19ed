// Probes that may hang or exhaust the VM run in child processes: a VM export that loops forever
// cannot be interrupted in this thread. The child is plain JavaScript over the core module's raw
// ABI (guest-vm/ABI.md), so it needs no build of the TypeScript. For each case it makes a fresh VM
// instance, loads the module, restores the (tampered) snapshot, asks for the snapshot's info, and
// resumes a restored activation with bounded fuel; when the restore was refused it restores the
// intact snapshot in that same VM and runs it to the end, to show that the refused one left
// nothing behind. One JSON line per case. A watchdog thread in the child kills it when a case
// runs past its deadline; the parent reports that case as a hang and goes on in a new child.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultVmWasmPath, intrinsicsWasmPath } from '../../host-intrinsics/vm.js';
import { concat } from './wasm-binary.js';

const CHILD = String.raw`
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const [vmPath, helperPath, casesPath, first, last, timeoutMs] = process.argv.slice(1);
const beat = new Int32Array(new SharedArrayBuffer(4));
new Worker('const { workerData } = require("node:worker_threads"); let last = -1, since = Date.now();' +
  'setInterval(() => { const now = Atomics.load(workerData.beat, 0); if (now !== last) { last = now; since = Date.now(); }' +
  ' else if (Date.now() - since > workerData.timeout) process.kill(process.pid, "SIGKILL"); }, 50);',
  { eval: true, workerData: { beat, timeout: Number(timeoutMs) } }).unref();
const vmModule = new WebAssembly.Module(fs.readFileSync(vmPath));
const helperModule = new WebAssembly.Module(fs.readFileSync(helperPath));
const input = fs.readFileSync(casesPath);
const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
let at = 0;
const u32 = () => { const n = view.getUint32(at, true); at += 4; return n; };
const take = () => { const n = u32(); const b = input.subarray(at, at + n); at += n; return b; };
const metered = u32();
const fuel = view.getBigUint64(at, true); at += 8;
const moduleBytes = take();
const intact = take();
const cases = [];
while (at < input.length) cases.push(take());
const text = (ex, ptr) => new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ptr >>> 0, ex.result_length() >>> 0));
const copyIn = (ex, bytes) => { const p = ex.alloc(bytes.length) >>> 0; new Uint8Array(ex.memory.buffer, p, bytes.length).set(bytes); return p; };
const restore = (ex, m, snap) => {
  const id = ex.snapshot_restore(copyIn(ex, snap), snap.length, m, 0);
  return id >= 0 ? 'ok' : { kind: ex.error_kind(), message: text(ex, ex.error_message()) };
};
const resume = (ex) => {
  const io = ex.io_buffer() >>> 0;
  new DataView(ex.memory.buffer).setBigUint64(io, fuel, true);
  ex.fuel_set();
  const status = ex.resume();
  const v = new DataView(ex.memory.buffer);
  if (status === 0) return { status: 'completed', value: String(v.getBigInt64(io, true)) };
  if (status === 1) return { status: 'trap', code: ex.trap_code() };
  if (status === 3) { ex.abort_activation(); return { status: 'suspended' }; }
  ex.abort_activation();
  return { status: 'status ' + status };
};
for (let i = Number(first); i < Number(last); i++) {
  Atomics.add(beat, 0, 1);
  fs.writeSync(1, JSON.stringify({ start: i }) + '\n');
  const t = Date.now();
  const r = { case: i };
  let step = 'start';
  try {
    const helper = new WebAssembly.Instance(helperModule, {}).exports;
    const ex = new WebAssembly.Instance(vmModule, { 'handover:vm/intrinsics': helper }).exports;
    ex.set_metering(metered);
    const m = ex.module_new(copyIn(ex, moduleBytes), moduleBytes.length);
    if (m < 0) throw new Error('module refused: ' + text(ex, ex.error_message()));
    const snap = cases[i];
    step = 'restore';
    fs.writeSync(1, JSON.stringify({ step }) + '\n');
    r.restore = restore(ex, m, snap);
    step = 'info';
    fs.writeSync(1, JSON.stringify({ step }) + '\n');
    const blob = ex.snapshot_info(copyIn(ex, snap), snap.length);
    r.info = blob === 0 ? { kind: ex.error_kind(), message: text(ex, ex.error_message()) } : { bytes: ex.result_length() >>> 0 };
    if (r.restore === 'ok') {
      step = 'resume';
      fs.writeSync(1, JSON.stringify({ step }) + '\n');
      r.outcome = resume(ex);
    } else if (intact.length > 0) {
      step = 'intact restore';
      fs.writeSync(1, JSON.stringify({ step }) + '\n');
      const again = restore(ex, m, intact);
      step = 'intact resume';
      fs.writeSync(1, JSON.stringify({ step }) + '\n');
      r.intact = again === 'ok' ? resume(ex) : again;
    }
    r.vmMemoryMiB = Math.round(ex.memory.buffer.byteLength / 1048576);
  } catch (e) {
    r.threw = step + ': ' + String(e);
  }
  r.ms = Date.now() - t;
  fs.writeSync(1, JSON.stringify(r) + '\n');
}
process.exit(0);
`;

export interface IsolatedResult {
  case: number;
  /** 'ok', or the VM's error (kind code, message). */
  restore?: 'ok' | { kind: number; message: string };
  info?: { bytes: number } | { kind: number; message: string };
  /** After an accepted restore: resuming it with the fuel given. */
  outcome?: { status: string; code?: number; value?: string };
  /** After a refused restore: the intact snapshot restored and run in the same VM. */
  intact?: { status: string; code?: number; value?: string } | { kind: number; message: string };
  vmMemoryMiB?: number;
  /** The step during which the VM threw (a trap out of an export: a VM bug). */
  threw?: string;
  /** The case did not finish within the deadline; `step` says where it was. */
  hang?: true;
  step?: string;
  ms: number;
}

function runChild(file: string, first: number, last: number, timeoutMs: number): Promise<{ stdout: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', CHILD, defaultVmWasmPath(), intrinsicsWasmPath(), file, String(first), String(last), String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.resume();
    child.on('close', (status) => resolve({ stdout, status }));
  });
}

/** The cases [first, last) in children, one after another as hangs end them. */
async function runRange(file: string, first: number, last: number, timeoutMs: number): Promise<IsolatedResult[]> {
  const results: IsolatedResult[] = [];
  let next = first;
  while (next < last) {
    const t = Date.now();
    const { stdout, status } = await runChild(file, next, last, timeoutMs);
    let started = -1;
    let step = 'start';
    for (const line of stdout.split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as { start?: number; step?: string } & IsolatedResult;
      if (r.start !== undefined) {
        started = r.start;
        step = 'start';
      } else if (r.step !== undefined && r.case === undefined) step = r.step;
      else {
        results.push(r);
        started = -1;
        next = r.case + 1;
      }
    }
    if (started >= 0) {
      results.push({ case: started, hang: true, step, ms: Date.now() - t });
      next = started + 1;
    } else if (next < last) {
      results.push({ case: next, threw: `child exited with ${status} before the case`, ms: Date.now() - t });
      next++;
    }
  }
  return results;
}

export interface IsolatedOptions {
  metered: boolean;
  /** Fuel for resuming a restored activation. */
  fuel: bigint;
  /** Restored and run in the same VM after a refused case (empty: not done). */
  intact?: Uint8Array;
  timeoutMs?: number;
  /** Children run in parallel (default 2). */
  parallel?: number;
}

/** Restores each snapshot of `cases` into a fresh VM in a child process; results in case order. */
export async function restoreIsolated(module: Uint8Array, cases: Uint8Array[], options: IsolatedOptions): Promise<IsolatedResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'handover-isolated-'));
  try {
    const u32 = (n: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, n, true);
      return b;
    };
    const fuel = new Uint8Array(8);
    new DataView(fuel.buffer).setBigUint64(0, options.fuel, true);
    const intact = options.intact ?? new Uint8Array(0);
    const parts: Uint8Array[] = [u32(options.metered ? 1 : 0), fuel, u32(module.length), module, u32(intact.length), intact];
    for (const c of cases) parts.push(u32(c.length), c);
    const file = path.join(dir, 'cases.bin');
    writeFileSync(file, concat(parts));
    const n = Math.max(1, Math.min(options.parallel ?? 2, cases.length));
    const size = Math.ceil(cases.length / n);
    const chunks = await Promise.all(Array.from({ length: n }, (_, k) => runRange(file, k * size, Math.min(cases.length, (k + 1) * size), options.timeoutMs ?? 3000)));
    return chunks.flat().sort((a, b) => a.case - b.case);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
