// `RuntimeEngine` implements `Engine` (../../engine.ts) on build/handover.wasm running as
// `handover.wasm engine` under a WASI runtime of runtimes.ts (Wasmtime, WAMR, Wasm3, node:wasi):
// one runtime process per store, spoken to in the frames of guest-vm/command/engine.ts, one ABI
// call per request. Engine's methods are synchronous, and child_process pipes are not, so the
// process's stdin and stdout are FIFOs the parent reads and writes with blocking
// readSync/writeSync; the parent's ends are the only other ones, so a process that dies reads as
// the end of its replies (a RemoteFault naming its last line on stderr) and a parent that dies
// ends the process's input, which ends it. Host functions run here: the guest stops at each
// call, the reply carries its arguments, and the next request carries the results.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbiError, BlobReader, CELL_SIZE, NO_MAX, Status, VALTYPE_CODES, checkCellTypes, checkValues, decodeFuncType, decodeModuleDesc, decodeProbeEvent,
  encodeFuncType, errorKindFromCode, externKindCode, probeBits, writeCell,
  type ExternKind, type FuncType, type GlobalType, type MemoryType, type ModuleDesc, type ProbeConfig, type TableType, type ValType, type Value,
} from '../../abi.js';
import { SuspendReason } from '../../vocabulary.js';
import {
  type Created, type Engine, type Extern, type HostFuncImpl, type InvokeOptions, type LoadedModule, type Outcome, type VmError,
} from '../../engine.js';
import { classMask, type IntrinsicClass } from '../../intrinsics/classes.js';
import { RemoteFault } from '../protocol.js';
import { handoverWasm, runtimeCommand, type RuntimeName } from './runtimes.js';

// What a crash report quotes of the process's stderr.
const STDERR_TAIL = 1 << 16;

export interface RuntimeEngineOptions {
  /** The command module; default build/handover.wasm. */
  wasm?: string;
}

/** A request under construction: op, then little-endian fields. */
class Frame {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  length = 5;

  constructor(op: string) {
    this.bytes[4] = op.charCodeAt(0);
  }

  private room(n: number): number {
    if (this.length + n > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.room(1);
    this.view.setUint8(at, v);
    return this;
  }

  u32(v: number): this {
    const at = this.room(4);
    this.view.setUint32(at, v >>> 0, true);
    return this;
  }

  u64(v: bigint): this {
    const at = this.room(8);
    this.view.setBigUint64(at, BigInt.asUintN(64, v), true);
    return this;
  }

  raw(b: Uint8Array): this {
    const at = this.room(b.length);
    this.bytes.set(b, at);
    return this;
  }

  cells(values: readonly Value[]): this {
    const at = this.room(values.length * CELL_SIZE);
    values.forEach((v, i) => writeCell(this.view, at + i * CELL_SIZE, v));
    return this;
  }

  finish(): Uint8Array {
    this.view.setUint32(0, this.length - 4, true);
    return this.bytes.subarray(0, this.length);
  }
}

/** A reply being read: one that ends early is the engine's fault. */
class Reply extends BlobReader {
  constructor(bytes: Uint8Array) {
    super(bytes, (m) => new RemoteFault(`handover.wasm engine: a reply ends early (${m})`));
  }

  /** The VM's error after a -1. */
  error(call: string): VmError {
    const kind = errorKindFromCode(this.u32());
    const offset = this.u32();
    const message = this.str() || `${call} failed without a message`;
    return { ok: false, kind, message, offset };
  }
}

export class RuntimeEngine implements Engine {
  /** A fresh store: a new runtime process. Throws RuntimeMissing when the runtime is not installed. */
  static create(runtime: RuntimeName, options: RuntimeEngineOptions = {}): RuntimeEngine {
    return new RuntimeEngine(runtime, options);
  }

  private readonly child: ChildProcess;
  private readonly toChild: number;
  private readonly fromChild: number;
  private readonly stderr: number;
  private inbox = new Uint8Array(1 << 16);
  private inStart = 0;
  private inEnd = 0;
  private fault: RemoteFault | null = null;
  private abandoned = false;
  private pending: { results: readonly ValType[]; what: string; hostCall: { func: number; args: Value[] } | null } | null = null;
  private readonly hostFuncs = new Map<number, { type: FuncType; impl: HostFuncImpl }>();
  private readonly funcTypes = new Map<number, FuncType>();
  private readonly modules = new Map<number, ModuleDesc>();
  private readonly instances = new Map<number, ModuleDesc>();

  private constructor(readonly runtime: RuntimeName, options: RuntimeEngineOptions) {
    const cmd = runtimeCommand(runtime, options.wasm ?? handoverWasm(), ['engine'], []);
    const dir = mkdtempSync(path.join(tmpdir(), 'handover-engine-'));
    try {
      const requests = path.join(dir, 'requests');
      const replies = path.join(dir, 'replies');
      execFileSync('mkfifo', [requests, replies]);
      // Opening one end of a FIFO waits for the other; an O_RDWR hold on Linux never waits, and
      // is closed once both real ends are open, so that each end has one owner.
      const [childOut, fromChild] = fifoEnds(replies, 'w', 'r');
      const [childIn, toChild] = fifoEnds(requests, 'r', 'w');
      this.fromChild = fromChild;
      this.toChild = toChild;
      this.stderr = openSync(path.join(dir, 'stderr'), 'w+');
      this.child = spawn(cmd.file, cmd.args, { stdio: [childIn, childOut, this.stderr], env: { ...process.env, ...cmd.env } });
      closeSync(childIn);
      closeSync(childOut);
    } finally {
      // The FIFOs and the stderr file live on through their descriptors.
      rmSync(dir, { recursive: true, force: true });
    }
    // Without this the event loop would wait for a process that a forgotten engine leaves behind
    // (it ends with its input when this process exits).
    this.child.unref();
    this.child.on('error', () => {});
  }

  /** Ends the runtime process; the engine is unusable afterwards. */
  close(): void {
    if (this.fault === null) this.fault = new RemoteFault(`${this.runtime}: the engine was closed`);
    this.child.kill('SIGKILL');
    for (const fd of [this.toChild, this.fromChild, this.stderr]) {
      try { closeSync(fd); } catch { /* closed before */ }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The runtime process's id (for tests that end it). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get usable(): boolean {
    return this.fault === null && !this.abandoned;
  }

  // ── the wire ─────────────────────────────────────────────────────────────────────────────
  private call(frame: Frame): Reply {
    this.send(frame.finish());
    return new Reply(this.receive());
  }

  /** A request with no reply body (the command still answers with an empty frame). */
  private tell(frame: Frame): void {
    this.call(frame);
  }

  private send(bytes: Uint8Array): void {
    if (this.fault) throw this.fault;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.toChild, bytes, done, bytes.length - done);
    } catch (e) {
      throw this.died(e);
    }
  }

  private receive(): Uint8Array {
    while (this.inEnd - this.inStart < 4) this.fill();
    const n = new DataView(this.inbox.buffer, this.inStart, 4).getUint32(0, true);
    if (4 + n > this.inbox.length) {
      const bigger = new Uint8Array(Math.max(4 + n, this.inbox.length * 2));
      bigger.set(this.inbox.subarray(this.inStart, this.inEnd));
      this.inEnd -= this.inStart;
      this.inStart = 0;
      this.inbox = bigger;
    }
    while (this.inEnd - this.inStart < 4 + n) this.fill();
    const body = this.inbox.subarray(this.inStart + 4, this.inStart + 4 + n);
    this.inStart += 4 + n;
    return body;
  }

  private fill(): void {
    if (this.inStart > 0 && this.inStart === this.inEnd) this.inStart = this.inEnd = 0;
    if (this.inEnd === this.inbox.length) {
      this.inbox.copyWithin(0, this.inStart, this.inEnd);
      this.inEnd -= this.inStart;
      this.inStart = 0;
    }
    let got: number;
    try {
      got = readSync(this.fromChild, this.inbox, this.inEnd, this.inbox.length - this.inEnd, null);
    } catch (e) {
      throw this.died(e);
    }
    if (got === 0) throw this.died(null);
    this.inEnd += got;
  }

  /** The process is gone (or its pipes broke): one line, with the last it said on stderr. */
  private died(cause: unknown): RemoteFault {
    if (this.fault) return this.fault;
    let said = '';
    try {
      const size = fstatSync(this.stderr).size;
      const tail = Buffer.alloc(Math.min(size, STDERR_TAIL));
      readSync(this.stderr, tail, 0, tail.length, size - tail.length);
      said = lastWords(tail.toString('utf8'));
    } catch { /* no stderr to quote */ }
    const how = cause instanceof Error ? ` (${cause.message})` : '';
    this.fault = new RemoteFault(`${this.runtime} running handover.wasm engine ended${how}: ${said || 'it said nothing on stderr'}`);
    this.close();
    return this.fault;
  }

  // ── Engine ───────────────────────────────────────────────────────────────────────────────
  loadModule(bytes: Uint8Array): LoadedModule | VmError {
    const r = this.call(new Frame('M').raw(bytes));
    const id = r.i32();
    if (id < 0) return r.error('module_new');
    const desc = decodeModuleDesc(r.rest());
    this.modules.set(id, desc);
    return { ok: true, id, ...desc };
  }

  newHostFunc(type: FuncType, impl: HostFuncImpl): Created {
    checkCellTypes(type.params, 'host function parameters');
    checkCellTypes(type.results, 'host function results');
    const r = this.call(new Frame('F').raw(encodeFuncType(type)));
    const addr = r.i32();
    if (addr < 0) return r.error('host_func_new');
    this.hostFuncs.set(addr, { type, impl });
    this.funcTypes.set(addr, type);
    return { ok: true, addr };
  }

  newGlobal(type: GlobalType, init: Value): Created {
    checkValues([init], [type.type], 'initial value of a global');
    return this.created(new Frame('G').u8(VALTYPE_CODES[type.type]).u8(type.mutable ? 1 : 0).cells([init]), 'global_new');
  }

  newTable(type: TableType): Created {
    return this.created(new Frame('T').u8(VALTYPE_CODES[type.elem]).u32(type.min).u32(type.max ?? NO_MAX), 'table_new');
  }

  newMemory(type: MemoryType): Created {
    return this.created(new Frame('Y').u32(type.min).u32(type.max ?? NO_MAX), 'memory_new');
  }

  private created(frame: Frame, call: string): Created {
    const r = this.call(frame);
    const addr = r.i32();
    return addr < 0 ? r.error(call) : { ok: true, addr };
  }

  globalRead(addr: number, type: ValType): Value {
    checkCellTypes([type], `global ${addr}`);
    const r = this.call(new Frame('r').u32(addr));
    if (r.i32() < 0) throw new AbiError(`globalRead: ${r.error('global_read').message}`);
    return r.cells([type])[0]!;
  }

  globalWrite(addr: number, value: Value): void {
    const r = this.call(new Frame('w').u32(addr).cells([value]));
    if (r.i32() < 0) throw new AbiError(`globalWrite: ${r.error('global_write').message}`);
  }

  instantiate(moduleId: number, importAddrs: readonly number[], options: InvokeOptions = {}): { ok: true; id: number } | VmError {
    const desc = this.modules.get(moduleId);
    if (!desc) throw new Error(`module ${moduleId} was not loaded by this engine`);
    if (importAddrs.length !== desc.imports.length) {
      throw new TypeError(`module ${moduleId} has ${desc.imports.length} imports, got ${importAddrs.length} addresses`);
    }
    const frame = new Frame('N').u32(moduleId).u32(importAddrs.length);
    for (const a of importAddrs) frame.u32(a);
    const r = this.call(frame);
    const id = r.i32();
    if (id < 0) return r.error('instance_new');
    this.instances.set(id, desc);
    const start = r.i32();
    if (start >= 0) {
      const outcome = this.invoke(start, [], options);
      if (outcome.kind === 'trap') return { ok: false, kind: 'uninstantiable', message: outcome.message, offset: 0, trap: outcome };
      if (outcome.kind === 'timeout') return { ok: false, kind: 'timeout', message: outcome.message, offset: 0 };
    }
    return { ok: true, id };
  }

  exports(instance: number): Map<string, Extern> {
    const desc = this.instances.get(instance);
    if (!desc) throw new Error(`instance ${instance} was not created by this engine`);
    const addrs = this.externs(instance, desc.exports.map((e) => [e.kind, e.index]));
    const out = new Map<string, Extern>();
    desc.exports.forEach(({ name, index: _, ...ext }, i) => out.set(name, { ...ext, addr: addrs[i]! } as Extern));
    return out;
  }

  exportAddr(instance: number, kind: ExternKind, index: number): number {
    return this.externs(instance, [[kind, index]])[0]!;
  }

  /** Store addresses of an instance's externs, in one round trip. */
  private externs(instance: number, which: readonly (readonly [ExternKind, number])[]): number[] {
    const frame = new Frame('X').u32(instance).u32(which.length);
    for (const [kind, index] of which) frame.u8(externKindCode(kind)).u32(index);
    const r = this.call(frame);
    return which.map(() => {
      const addr = r.i32();
      return addr < 0 ? -1 : addr;
    });
  }

  funcType(funcaddr: number): FuncType {
    let type = this.funcTypes.get(funcaddr);
    if (!type) {
      type = decodeFuncType(this.call(new Frame('D').u32(funcaddr)).rest());
      this.funcTypes.set(funcaddr, type);
    }
    return type;
  }

  /**
   * A copy of guest memory `addr`, as it is now: the memory lives in the runtime process, so
   * writing to the copy changes nothing there.
   */
  guestMemory(addr: number): Uint8Array {
    const r = this.call(new Frame('R').u32(addr));
    if (r.i32() < 0) throw new AbiError(`no memory at address ${addr}`);
    return r.rest();
  }

  setMetering(on: boolean): void {
    this.checked(new Frame('E').u32(on ? 1 : 0), 'set_metering');
  }

  /** handover.wasm is built without the intrinsic imports: only the empty set is accepted. */
  setIntrinsicClasses(classes: readonly IntrinsicClass[]): void {
    this.checked(new Frame('C').u32(classMask(classes)), 'set_intrinsics');
  }

  setProbes(config: ProbeConfig): void {
    const { kinds, sites } = probeBits(config);
    const frame = new Frame('P').u32(kinds).u32(0).u32(0).u32(sites.length);
    for (const s of sites) frame.u32(s.func).u32(s.offset);
    this.checked(frame, 'set_probes');
  }

  private checked(frame: Frame, call: string): void {
    const r = this.call(frame);
    if (r.i32() < 0) throw new AbiError(r.error(call).message);
  }

  get fuel(): bigint {
    return this.call(new Frame('f')).u64();
  }

  set fuel(value: bigint) {
    this.tell(new Frame('u').u64(value));
  }

  setSlice(n: number): void {
    this.tell(new Frame('S').u32(n));
  }

  invoke(funcaddr: number, args: readonly Value[], options: InvokeOptions = {}): Outcome {
    if (this.pending) throw new Error('an activation is suspended: resume or abandon it first');
    if (this.abandoned) throw new Error('engine unusable: an earlier invoke timed out with its activation pending');
    const type = this.funcType(funcaddr);
    checkValues(args, type.params, `arguments of function ${funcaddr}`);
    checkCellTypes(type.results, `results of function ${funcaddr}`);
    const reply = this.call(new Frame('i').u32(funcaddr).u32(type.results.length).u32(args.length).cells(args));
    return this.drive(reply, type.results, options, `function ${funcaddr}`);
  }

  resume(options: InvokeOptions = {}): Outcome {
    const pending = this.pending;
    if (!pending) throw new Error('no activation is suspended');
    this.pending = null;
    const reply = pending.hostCall
      ? this.serveHostCall(pending.hostCall.func, pending.hostCall.args, pending.results)
      : this.call(new Frame('c').u32(pending.results.length).u32(0));
    return this.drive(reply, pending.results, options, pending.what);
  }

  abandon(): void {
    if (!this.pending) return;
    this.pending = null;
    this.tell(new Frame('a'));
  }

  get suspended(): boolean {
    return this.pending !== null;
  }

  /** Vm's loop (vm.ts drive), over run replies. */
  private drive(reply: Reply, results: readonly ValType[], options: InvokeOptions, what: string): Outcome {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const timedOut = (): Outcome | null => {
      if (Date.now() <= deadline) return null;
      this.abandoned = true;
      return { kind: 'timeout', message: `${what} still running after ${options.timeoutMs} ms` };
    };
    const resume = () => this.call(new Frame('c').u32(results.length).u32(0));
    for (;;) {
      const status = reply.u8();
      switch (status) {
        case Status.Completed:
          return { kind: 'completed', values: reply.cells(results) };
        case Status.Trap: {
          const code = reply.u32();
          return { kind: 'trap', code, message: reply.str() };
        }
        case Status.Probe: {
          const cells = reply.cells(['i64', 'i64', 'i64', 'i64', 'i64']).map((c) => BigInt.asUintN(64, (c as { value: bigint }).value));
          const event = decodeProbeEvent(Number(cells[0]), Number(cells[1]), Number(cells[2]), cells[3]!, Number(cells[4]));
          if (!options.onProbe || event.probe === 'trace-full') {
            this.pending = { results, what, hostCall: null };
            return { kind: 'probe', event };
          }
          options.onProbe(event);
          const late = timedOut();
          if (late) return late;
          reply = resume();
          break;
        }
        case Status.HostCall: {
          const func = reply.u32();
          const host = this.hostFuncs.get(func);
          if (!host) throw this.broken(`host call to function ${func}, which is no host function of this engine`);
          const args = reply.cells(host.type.params);
          if (options.stopAtHostCalls || options.shouldSuspend?.()) {
            this.pending = { results, what, hostCall: { func, args } };
            return options.stopAtHostCalls ? { kind: 'host-call', func, args } : { kind: 'suspended', reason: 'request' };
          }
          const late = timedOut();
          if (late) return late;
          reply = this.serveHostCall(func, args, results);
          break;
        }
        case Status.Suspended: {
          const fuel = reply.u32() === SuspendReason.Fuel;
          if (fuel || options.shouldSuspend?.()) {
            this.pending = { results, what, hostCall: null };
            return { kind: 'suspended', reason: fuel ? 'fuel' : 'request' };
          }
          const late = timedOut();
          if (late) return late;
          reply = resume();
          break;
        }
        default:
          throw this.broken(`handover.wasm engine answered a run with status ${status}`);
      }
    }
  }

  /**
   * Runs host function `func` and sends its results; a throwing one ends the activation (the
   * store stays usable, and the exception, EndActivation or any other, goes on to the caller).
   */
  private serveHostCall(func: number, args: Value[], results: readonly ValType[]): Reply {
    const host = this.hostFuncs.get(func)!;
    let values: Value[];
    try {
      values = host.impl(args) ?? [];
      checkValues(values, host.type.results, `results of host function ${func}`);
    } catch (e) {
      this.tell(new Frame('a'));
      throw e;
    }
    return this.call(new Frame('c').u32(results.length).u32(values.length).cells(values));
  }

  private broken(message: string): RemoteFault {
    this.fault = new RemoteFault(message);
    this.close();
    return this.fault;
  }
}

/**
 * The line of a runtime's dying words that says why: before Wasmtime's native backtrace, without
 * Node's stack frames and version line, without Wasmtime's "N: " cause numbers.
 */
function lastWords(stderr: string): string {
  const lines: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('Stack backtrace:')) break;
    const l = line.trim();
    if (l !== '' && !l.startsWith('at ') && !/^Node\.js v\d/.test(l)) lines.push(l);
  }
  return (lines.pop() ?? '').replace(/^\d+: /, '');
}

/** Both ends of the FIFO at `file`, opened without waiting for a peer. */
function fifoEnds(file: string, first: 'r' | 'w', second: 'r' | 'w'): [number, number] {
  const hold = openSync(file, 'r+');
  try {
    return [openSync(file, first), openSync(file, second)];
  } finally {
    closeSync(hold);
  }
}
