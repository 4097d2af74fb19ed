// The public embedding API over the VM component: `ComponentEngine` implements `Engine` (engine.ts)
// on the jco-transpiled component, so code written against `Vm` runs on it unchanged. One engine =
// one component instance = one store. The component serves guest imports by returning `host-call`
// outcomes; this class runs the host function and resumes, so `invoke` reads like a plain call.
//
// Unlike `Vm`, an exception out of a host function (EndActivation or any other) aborts only that
// activation and leaves the engine usable, and so does a timeout; host functions may call back
// into their engine (the activations nest).

import { classMask, type IntrinsicClass } from './intrinsics/classes.js';
import { AbiError, checkCellTypes, checkValues, probeBits, type ProbeConfig, type ProbeEvent, type ExternKind, type FuncType, type GlobalType, type MemoryType, type ModuleDesc, type TableType, type ValType, type Value } from './abi.js';
import {
  fromWitExternType, fromWitFuncType, fromWitModuleDesc, fromWitValue, instantiateComponent, toWitValue, trapCode,
  witError, type CoreAccess, type Wit, type WitEngine,
} from './component.js';
import type { Created, Engine, Extern, HostFuncImpl, InvokeOptions, LoadedModule, Outcome, VmError } from './engine.js';

export * from './abi.js';
export * from './engine.js';

// With a deadline or shouldSuspend and no setSlice, the host still has to see slices go by.
const CHECK_SLICE = 1 << 20;

export class ComponentEngine implements Engine {
  /** A fresh store: a new instance of the component. */
  static create(): ComponentEngine {
    const { engine, core } = instantiateComponent();
    return new ComponentEngine(engine, core);
  }

  private broken = false;
  private slice: number | undefined;
  private pending: { results: readonly ValType[]; what: string } | null = null;
  private nextModule = 0;
  private nextInstance = 0;
  private readonly modules = new Map<number, { handle: Wit.Module; desc: ModuleDesc }>();
  private readonly instances = new Map<number, { handle: Wit.Instance; desc: ModuleDesc; exports?: Map<string, Extern> }>();
  private readonly hostFuncs = new Map<number, { type: FuncType; impl: HostFuncImpl }>();
  private readonly funcTypes = new Map<number, FuncType>();

  private constructor(
    /** The component's `handover:vm/engine` exports, for what this class does not wrap. */
    readonly wit: WitEngine,
    private readonly core: CoreAccess | null,
  ) {}

  /** False once something other than a WIT error escaped from the component (a VM bug). */
  get usable(): boolean {
    return !this.broken;
  }

  loadModule(bytes: Uint8Array): LoadedModule | VmError {
    const handle = this.attempt(() => this.wit.loadModule(bytes));
    if ('ok' in handle) return handle;
    const desc = fromWitModuleDesc(this.enter(() => handle.describe()));
    const id = this.nextModule++;
    this.modules.set(id, { handle, desc });
    return { ok: true, id, ...desc };
  }

  newHostFunc(type: FuncType, impl: HostFuncImpl): Created {
    checkCellTypes(type.params, 'host function parameters');
    checkCellTypes(type.results, 'host function results');
    const addr = this.attempt(() => this.wit.newHostFunc({ params: [...type.params], results: [...type.results] }));
    if (typeof addr !== 'number') return addr;
    this.hostFuncs.set(addr, { type, impl });
    this.funcTypes.set(addr, type);
    return { ok: true, addr };
  }

  newGlobal(type: GlobalType, init: Value): Created {
    checkValues([init], [type.type], 'initial value of a global');
    return this.created(() => this.wit.newGlobal({ content: type.type, mutable: type.mutable }, toWitValue(init)));
  }

  newTable(type: TableType): Created {
    return this.created(() => this.wit.newTable({ element: type.elem, limits: { min: type.min, max: type.max ?? undefined } }));
  }

  newMemory(type: MemoryType): Created {
    return this.created(() => this.wit.newMemory({ min: type.min, max: type.max ?? undefined }));
  }

  /** The component knows each global's type: `type` is only checked to fit the ABI. */
  globalRead(addr: number, type: ValType): Value {
    checkCellTypes([type], `global ${addr}`);
    return fromWitValue(this.enter(() => this.wit.globalRead(addr)));
  }

  globalWrite(addr: number, value: Value): void {
    this.enter(() => this.wit.globalWrite(addr, toWitValue(value)));
  }

  instantiate(moduleId: number, importAddrs: readonly number[], options: InvokeOptions = {}): { ok: true; id: number } | VmError {
    const module = this.modules.get(moduleId);
    if (!module) throw new Error(`module ${moduleId} was not loaded by this engine`);
    const { imports } = module.desc;
    if (importAddrs.length !== imports.length) {
      throw new TypeError(`module ${moduleId} has ${imports.length} imports, got ${importAddrs.length} addresses`);
    }
    const externs = importAddrs.map((addr, i) => ({ kind: imports[i].kind, addr }));
    const handle = this.attempt(() => this.wit.instantiate(module.handle, externs));
    if ('ok' in handle) return handle;
    const id = this.nextInstance++;
    this.instances.set(id, { handle, desc: module.desc });
    const start = this.enter(() => handle.start());
    if (start !== undefined) {
      const outcome = this.invoke(start, [], options);
      if (outcome.kind === 'trap') return { ok: false, kind: 'uninstantiable', message: outcome.message, offset: 0, trap: outcome };
      if (outcome.kind === 'timeout') return { ok: false, kind: 'timeout', message: outcome.message, offset: 0 };
    }
    return { ok: true, id };
  }

  exports(instance: number): Map<string, Extern> {
    const inst = this.instance(instance);
    if (!inst.exports) {
      inst.exports = new Map();
      for (const e of this.enter(() => inst.handle.exports())) {
        inst.exports.set(e.name, { ...fromWitExternType(e.ty), addr: e.addr });
      }
    }
    return inst.exports;
  }

  exportAddr(instance: number, kind: ExternKind, index: number): number {
    const inst = this.instance(instance);
    return this.enter(() => inst.handle.address(kind, index)) ?? -1;
  }

  funcType(funcaddr: number): FuncType {
    let type = this.funcTypes.get(funcaddr);
    if (!type) {
      type = fromWitFuncType(this.enter(() => this.wit.describeFunc(funcaddr)));
      this.funcTypes.set(funcaddr, type);
    }
    return type;
  }

  /**
   * A view of guest memory `addr` inside the VM's own memory, through the core instance (a JS
   * host can reach it; the WIT cannot). Valid until the VM runs again.
   */
  guestMemory(addr: number): Uint8Array {
    const core = this.core;
    if (!core) throw new Error('the VM core instance is not reachable: use memoryRead / memoryWrite');
    const base = core.memory_region(addr);
    if (base < 0) throw new AbiError(`no memory at address ${addr}`);
    const length = Number(new DataView(core.memory.buffer).getBigUint64(core.ioBuffer, true));
    return new Uint8Array(core.memory.buffer, base >>> 0, length);
  }

  /** A copy of `length` bytes of guest memory `addr` from `offset`, through the WIT (memory-read). */
  memoryRead(addr: number, offset: number, length: number): Uint8Array {
    return this.enter(() => this.wit.memoryRead(addr, offset, length));
  }

  /** Copies `bytes` into guest memory `addr` at `offset`, through the WIT (memory-write). */
  memoryWrite(addr: number, offset: number, bytes: Uint8Array): void {
    this.enter(() => this.wit.memoryWrite(addr, offset, bytes));
  }

  setMetering(on: boolean): void {
    this.enter(() => this.wit.setMetering(on));
  }

  setIntrinsicClasses(classes: readonly IntrinsicClass[]): void {
    this.enter(() => this.wit.setIntrinsics(classMask(classes)));
  }

  /** As Vm.setProbes, through `set-probes`. (In-VM recording is Vm only.) */
  setProbes(config: ProbeConfig): void {
    const { sites } = probeBits(config);
    const kinds = {
      instruction: !!config.instruction, entry: !!config.entry, exit: !!config.exit,
      memory: !!config.memory, branches: !!config.branches, calls: !!config.calls,
    };
    this.enter(() => this.wit.setProbes(kinds, sites));
  }

  get fuel(): bigint {
    return this.enter(() => this.wit.fuel());
  }

  set fuel(value: bigint) {
    this.enter(() => this.wit.setFuel(BigInt.asUintN(64, value)));
  }

  /** As Vm.setSlice (0: no bound). Passed with every call and resume. */
  setSlice(n: number): void {
    this.slice = n > 0 ? n : undefined;
  }

  invoke(funcaddr: number, args: readonly Value[], options: InvokeOptions = {}): Outcome {
    if (this.pending) throw new Error('an activation is suspended: resume or abandon it first');
    const type = this.funcType(funcaddr);
    checkValues(args, type.params, `arguments of function ${funcaddr}`);
    checkCellTypes(type.results, `results of function ${funcaddr}`);
    const slice = this.sliceFor(options);
    const first = this.enter(() => this.wit.call(funcaddr, args.map(toWitValue), slice));
    return this.drive(first, slice, type.results, options, `function ${funcaddr}`);
  }

  resume(options: InvokeOptions = {}): Outcome {
    const pending = this.pending;
    if (!pending) throw new Error('no activation is suspended');
    this.pending = null;
    const slice = this.sliceFor(options);
    return this.drive(this.enter(() => this.wit.resume([], slice)), slice, pending.results, options, pending.what);
  }

  abandon(): void {
    if (!this.pending) return;
    this.pending = null;
    this.enter(() => this.wit.abort());
  }

  get suspended(): boolean {
    return this.pending !== null;
  }

  private sliceFor(options: InvokeOptions): number | undefined {
    const watched = options.timeoutMs !== undefined || options.shouldSuspend !== undefined;
    return this.slice ?? (watched ? CHECK_SLICE : undefined);
  }

  private drive(outcome: Wit.Outcome, slice: number | undefined, results: readonly ValType[], options: InvokeOptions, what: string): Outcome {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (let o = outcome; ; ) {
      switch (o.tag) {
        case 'completed':
          return { kind: 'completed', values: o.val.map(fromWitValue) };
        case 'trap':
          return { kind: 'trap', code: trapCode(o.val.kind), message: o.val.message };
        case 'suspended':
          if (o.val === 'fuel' || options.shouldSuspend?.()) {
            this.pending = { results, what };
            return { kind: 'suspended', reason: o.val === 'fuel' ? 'fuel' : 'request' };
          }
          break;
        case 'host-call':
          break;
        case 'probe': {
          const event = fromWitProbeEvent(o.val);
          if (!options.onProbe) {
            this.pending = { results, what };
            return { kind: 'probe', event };
          }
          options.onProbe(event);
          break;
        }
      }
      if (Date.now() > deadline) {
        // The activation is dropped, so the engine stays usable (a Vm cannot say the same).
        this.enter(() => this.wit.abort());
        return { kind: 'timeout', message: `${what} still running after ${options.timeoutMs} ms` };
      }
      o = o.tag === 'host-call' ? this.serveHostCall(o.val, slice) : this.enter(() => this.wit.resume([], slice));
    }
  }

  private serveHostCall(call: Wit.HostCall, slice: number | undefined): Wit.Outcome {
    let results: Value[];
    try {
      const host = this.hostFuncs.get(call.func);
      if (!host) throw new AbiError(`host call to function ${call.func}, which is no host function of this engine`);
      results = host.impl(call.args.map(fromWitValue)) ?? [];
      checkValues(results, host.type.results, `results of host function ${call.func}`);
    } catch (e) {
      // Whatever the host function threw (EndActivation for proc_exit, or a failure), the guest's
      // activation ends here and nothing else: the engine stays usable.
      this.enter(() => this.wit.abort());
      throw e;
    }
    return this.enter(() => this.wit.resume(results.map(toWitValue), slice));
  }

  private instance(id: number): { handle: Wit.Instance; desc: ModuleDesc; exports?: Map<string, Extern> } {
    const inst = this.instances.get(id);
    if (!inst) throw new Error(`instance ${id} was not created by this engine`);
    return inst;
  }

  /** Calls into the component: a WIT error is a host mistake (AbiError); anything else breaks the engine. */
  private enter<T>(body: () => T): T {
    try {
      return body();
    } catch (e) {
      const err = witError(e);
      if (err) throw new AbiError(`${err.kind}: ${err.message}`);
      this.broken = true;
      throw e;
    }
  }

  /** Like `enter`, but a WIT error other than `misuse` is the caller's result. */
  private attempt<T>(body: () => T): T | VmError {
    try {
      return body();
    } catch (e) {
      const err = witError(e);
      if (!err) this.broken = true;
      if (!err) throw e;
      if (err.kind === 'misuse') throw new AbiError(`misuse: ${err.message}`);
      return { ok: false, kind: err.kind, message: err.message, offset: err.offset };
    }
  }

  private created(body: () => number): Created {
    const addr = this.attempt(body);
    return typeof addr === 'number' ? { ok: true, addr } : addr;
  }
}

function fromWitProbeEvent(e: Wit.ProbeEvent): ProbeEvent {
  const at = { func: e.func, offset: e.offset };
  const o = e.operands;
  switch (o.tag) {
    case 'memory': {
      const { base, staticOffset, size, store } = o.val;
      return { probe: 'memory', ...at, address: base + staticOffset, base, staticOffset, size, store };
    }
    case 'branch':
      return { probe: 'branch', ...at, instruction: o.val.instruction === 'if' ? 'if' : 'br_if', taken: o.val.taken };
    case 'br-table':
      return { probe: 'branch', ...at, instruction: 'br_table', index: o.val };
    case 'call':
      return { probe: 'call', ...at, target: o.val, indirect: false };
    case 'indirect-call':
      return { probe: 'call', ...at, target: o.val ?? null, indirect: true };
    case 'none':
      if (e.kind === 'memory' || e.kind === 'branch' || e.kind === 'call') throw new AbiError(`probe event ${e.kind} without operands`);
      return { probe: e.kind, ...at };
  }
}
