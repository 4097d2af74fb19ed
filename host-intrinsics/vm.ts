// The minimal Node host for the VM core module: finds and compiles build/vm.wasm once, gives each
// Vm its own instance (one instance = one store), and wraps the raw exports of guest-vm/ABI.md in a
// typed API. Failures the VM reports come back as values; an exception means host misuse or a VM bug
// (for example a WebAssembly.RuntimeError out of an export), after which the Vm refuses further use.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AbiError,
  CELL_SIZE,
  NO_MAX,
  Status,
  VALTYPE_CODES,
  decodeFuncType,
  decodeUtf8,
  decodeModuleDesc,
  checkCellTypes,
  checkValues,
  decodeSnapshotInfo,
  decodeProbeEvent,
  decodeRecorded,
  probeBits,
  recordingBits,
  type ProbeConfig,
  type ProbeEvent,
  type Recorded,
  type RecordingConfig,
  type SnapshotInfo,
  encodeFuncType,
  errorKindFromCode,
  externKindCode,
  readCell,
  writeCell,
  type ExternKind,
  type FuncType,
  type GlobalType,
  type MemoryType,
  type ModuleDesc,
  type TableType,
  type ValType,
  type Value,
} from './abi.js';
import { SuspendReason } from './vocabulary.js';
import { decodeCounters, type FunctionCounters } from './monitors/counters.js';
import { classMask, classesOf, defaultClasses, type IntrinsicClass } from './intrinsics/classes.js';
import { INTRINSIC_NAMES } from './intrinsics/names.js';

import {
  EndActivation,
  type Engine,
  type Extern,
  type HostFuncImpl,
  type InvokeOptions,
  type LoadedModule,
  type Outcome,
  type VmError,
} from './engine.js';

export * from './abi.js';
export * from './engine.js';
export * from './intrinsics/classes.js';

/** The import namespace through which the VM will call host intrinsics (see wit/). */
export const INTRINSICS_NAMESPACE = 'handover:vm/intrinsics';

const ABI_FUNCTIONS = [
  'io_buffer', 'alloc', 'free', 'result_length',
  'error_kind', 'error_offset', 'error_message',
  'module_new', 'module_describe',
  'host_func_new', 'global_new', 'table_new', 'memory_new', 'global_read', 'global_write', 'memory_region', 'memory_grow',
  'instance_new', 'instance_start', 'instance_extern', 'func_describe', 'instance_drop', 'module_drop', 'extern_drop',
  'invoke', 'resume', 'set_slice', 'set_intrinsics', 'get_intrinsics', 'host_fault', 'builtin_func_new', 'builtin_memory', 'trap_code', 'host_call_func', 'abort_activation',
  'set_metering', 'fuel_set', 'fuel_get', 'suspend_reason', 'set_limits', 'set_monitoring', 'monitor_dump', 'complete_host_call', 'snapshot_take', 'snapshot_info', 'snapshot_restore', 'snapshot_restore_into',
  'set_probes', 'probe_site', 'probe_event', 'trace_take', 'probe_dump',
] as const;

// Every ABI function takes and returns i32 (void ones return undefined, which is never read).
type VmExports = { memory: WebAssembly.Memory } & Record<(typeof ABI_FUNCTIONS)[number], (...args: number[]) => number>;

export interface VmOptions {
  /** Path of the VM core module; defaults to $HANDOVER_VM_WASM or <package root>/build/vm.wasm. */
  wasmPath?: string;
  /**
   * Functions for the `handover:vm/intrinsics` imports; by default the native helper
   * build/intrinsics.wasm (whose memory then holds a host-owned guest memory).
   */
  intrinsics?: WebAssembly.ModuleImports;
  /** The memory holding host-owned guest memory, when `intrinsics` are given (the helper's). */
  intrinsicsMemory?: WebAssembly.Memory;
  /** Operations handed to the intrinsics; default: the measured default for V8 (`defaultClasses`). */
  intrinsicClasses?: readonly IntrinsicClass[];
}

export interface RestoreOptions {
  /**
   * Memories (store addresses, from `newMemory`) the restored instance takes as its defined
   * memories, in order, instead of making its own; only for a snapshot taken `withoutMemory`.
   */
  memories?: readonly number[];
}

let helperModule: WebAssembly.Module | undefined;

export function intrinsicsWasmPath(): string {
  return path.join(packageRoot(), 'build', 'intrinsics.wasm');
}

/** The native intrinsic helper (build/intrinsics.wasm), compiled once. */
export function intrinsicHelperModule(): WebAssembly.Module {
  helperModule ??= new WebAssembly.Module(new Uint8Array(readFileSync(intrinsicsWasmPath())));
  return helperModule;
}

/** A fresh helper instance: its exports serve one VM's `handover:vm/intrinsics` imports. */
export function newIntrinsicHelper(): WebAssembly.Exports {
  return new WebAssembly.Instance(intrinsicHelperModule(), {}).exports;
}

/** The nearest folder at or above the file at `fromUrl` holding a package.json. */
export function packageRoot(fromUrl: string = import.meta.url): string {
  const start = path.dirname(fileURLToPath(fromUrl));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json at or above ${start}`);
  }
}

export function defaultVmWasmPath(): string {
  return process.env.HANDOVER_VM_WASM ?? path.join(packageRoot(), 'build', 'vm.wasm');
}

const compiled = new Map<string, WebAssembly.Module>();

export class Vm implements Engine {
  /** Compiles (once per path) the VM core module, synchronously. */
  static compile(wasmPath: string = defaultVmWasmPath()): WebAssembly.Module {
    let module = compiled.get(wasmPath);
    if (!module) {
      // Copied into a plain Uint8Array: Node's Buffer type admits a SharedArrayBuffer, which the
      // WebAssembly API's types refuse.
      module = new WebAssembly.Module(new Uint8Array(readFileSync(wasmPath)));
      compiled.set(wasmPath, module);
    }
    return module;
  }

  static async compileAsync(wasmPath: string = defaultVmWasmPath()): Promise<WebAssembly.Module> {
    let module = compiled.get(wasmPath);
    if (!module) {
      module = await WebAssembly.compile(new Uint8Array(await readFile(wasmPath)));
      compiled.set(wasmPath, module);
    }
    return module;
  }

  static async create(options: VmOptions = {}): Promise<Vm> {
    return Vm.fromModule(await Vm.compileAsync(options.wasmPath), options);
  }

  static createSync(options: VmOptions = {}): Vm {
    return Vm.fromModule(Vm.compile(options.wasmPath), options);
  }

  /** A fresh store from an already compiled VM core module. */
  static fromModule(module: WebAssembly.Module, options: VmOptions = {}): Vm {
    const wanted = WebAssembly.Module.imports(module);
    let intrinsics = options.intrinsics ?? {};
    let intrinsicsMemory = options.intrinsicsMemory;
    if (!options.intrinsics && wanted.length > 0) {
      const helper = newIntrinsicHelper();
      intrinsics = helper as WebAssembly.ModuleImports;
      intrinsicsMemory = helper.memory as WebAssembly.Memory;
    }
    const missing = wanted.filter((i) => i.module !== INTRINSICS_NAMESPACE || !(i.name in intrinsics));
    if (missing.length > 0) {
      const names = missing.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ');
      throw new Error(`the VM core module imports what this host does not provide: ${names}`);
    }
    const imports: WebAssembly.Imports = wanted.length > 0 ? { [INTRINSICS_NAMESPACE]: intrinsics } : {};
    const vm = Vm.fromExports(new WebAssembly.Instance(module, imports).exports);
    vm.hostMemory = intrinsicsMemory;
    vm.setIntrinsicClasses(options.intrinsicClasses ?? defaultClasses('v8'));
    return vm;
  }

  /** Wraps exports that follow the ABI, however they were instantiated. */
  static fromExports(exports: WebAssembly.Exports): Vm {
    const missing: string[] = ABI_FUNCTIONS.filter((name) => typeof exports[name] !== 'function');
    if (!(exports.memory instanceof WebAssembly.Memory)) missing.push('memory');
    if (missing.length > 0) throw new Error(`the VM core module lacks ABI exports: ${missing.join(', ')}`);
    return new Vm(exports as unknown as VmExports);
  }

  private readonly io: number;
  private buffer: ArrayBuffer;
  private dataView: DataView;
  // 'busy' while inside an export; an exception leaves it there, so a Vm whose state may be torn
  // (a VM trap out of an export, a throwing host function) is never entered again.
  private state: 'idle' | 'busy' | 'abandoned' = 'idle';
  private servingHostCall = false;
  private readonly hostFuncs = new Map<number, { type: FuncType; impl: HostFuncImpl }>();
  private readonly funcTypes = new Map<number, FuncType>();
  private readonly modules = new Map<number, ModuleDesc>();
  private readonly instances = new Map<number, ModuleDesc>();

  private hostMemory: WebAssembly.Memory | undefined;
  private readonly ex: VmExports;

  private constructor(raw: VmExports) {
    // A host trap out of the dispatch loop may be the guest's out-of-bounds access to host-owned
    // memory: the VM turns it into the guest's trap (host_fault), or says it was not.
    const recover = (e: unknown): number => {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      const status = raw.host_fault();
      if (status < 0) throw e;
      return status;
    };
    const ex = { ...raw } as VmExports;
    ex.invoke = (f: number) => { try { return raw.invoke(f); } catch (e) { return recover(e); } };
    ex.resume = () => { try { return raw.resume(); } catch (e) { return recover(e); } };
    this.ex = ex;
    this.buffer = ex.memory.buffer;
    this.dataView = new DataView(this.buffer);
    this.io = ex.io_buffer() >>> 0;
  }

  private latest: number | undefined;

  /** The instance this Vm created last (by instantiate or restore). */
  get lastInstance(): number | undefined {
    return this.latest;
  }

  /** The VM core module's exports, for tools that read what the ABI does not cover (profiles). */
  get rawExports(): WebAssembly.Exports {
    return this.ex as unknown as WebAssembly.Exports;
  }

  /**
   * Which operations go to the host intrinsics (host-intrinsics/intrinsics/README.md). Chosen
   * before anything is loaded; throws after.
   */
  setIntrinsicClasses(classes: readonly IntrinsicClass[]): void {
    const mask = classMask(classes);
    if ((mask & classMask(['memory'])) !== 0 && !this.hostMemory) {
      throw new Error('the memory class needs an intrinsics memory (the helper\'s): give intrinsicsMemory with intrinsics');
    }
    this.guarded(() => {
      if (this.ex.set_intrinsics(mask) < 0) throw new Error(this.string(this.ex.error_message()));
    });
  }

  /**
   * Externs serving a guest's `handover:vm/intrinsics` imports with this VM's own builtins (for a
   * VM running inside this one): name → function address. The memory ones work on
   * `builtinMemory`.
   */
  builtinIntrinsics(): Map<string, number> {
    return this.guarded(() => {
      const map = new Map<string, number>();
      INTRINSIC_NAMES.forEach((name, id) => {
        const addr = this.ex.builtin_func_new(id);
        if (addr < 0) throw new AbiError(this.string(this.ex.error_message()));
        map.set(name, addr >>> 0);
      });
      return map;
    });
  }

  /** Store address of the memory the memory builtins work on. */
  get builtinMemory(): number {
    return this.guarded(() => this.ex.builtin_memory() >>> 0);
  }

  get intrinsicClasses(): IntrinsicClass[] {
    return classesOf(this.ex.get_intrinsics());
  }

  /** False once an exception escaped from a call or an invoke timed out: use a fresh Vm. */
  get usable(): boolean {
    return this.state === 'idle';
  }

  /** Decodes and validates a module; it stays in the store for `instantiate`. */
  loadModule(bytes: Uint8Array): LoadedModule | VmError {
    return this.guarded(() => {
      const ptr = this.copyIn(bytes);
      if (ptr === null) return this.allocFailure(bytes.length);
      const id = this.ex.module_new(ptr, bytes.length);
      if (id < 0) return this.lastError('module_new');
      const desc = decodeModuleDesc(this.blob(this.ex.module_describe(id)));
      this.modules.set(id, desc);
      return { ok: true, id, ...desc };
    });
  }

  newHostFunc(type: FuncType, impl: HostFuncImpl): { ok: true; addr: number } | VmError {
    checkCellTypes(type.params, 'host function parameters');
    checkCellTypes(type.results, 'host function results');
    return this.guarded(() => {
      const desc = encodeFuncType(type);
      const ptr = this.copyIn(desc);
      if (ptr === null) return this.allocFailure(desc.length);
      const addr = this.ex.host_func_new(ptr);
      this.ex.free(ptr);
      if (addr === -1) return this.lastError('host_func_new');
      this.hostFuncs.set(addr >>> 0, { type, impl });
      this.funcTypes.set(addr >>> 0, type);
      return { ok: true, addr: addr >>> 0 };
    });
  }

  newGlobal(type: GlobalType, init: Value): { ok: true; addr: number } | VmError {
    checkValues([init], [type.type], 'initial value of a global');
    return this.guarded(() => {
      writeCell(this.view(), this.io, init);
      const addr = this.ex.global_new(VALTYPE_CODES[type.type], type.mutable ? 1 : 0);
      return addr === -1 ? this.lastError('global_new') : { ok: true, addr: addr >>> 0 };
    });
  }

  newTable(type: TableType): { ok: true; addr: number } | VmError {
    return this.guarded(() => {
      const addr = this.ex.table_new(VALTYPE_CODES[type.elem], type.min, type.max ?? NO_MAX);
      return addr === -1 ? this.lastError('table_new') : { ok: true, addr: addr >>> 0 };
    });
  }

  newMemory(type: MemoryType): { ok: true; addr: number } | VmError {
    return this.guarded(() => {
      const addr = this.ex.memory_new(type.min, type.max ?? NO_MAX);
      return addr === -1 ? this.lastError('memory_new') : { ok: true, addr: addr >>> 0 };
    });
  }

  /**
   * Grows memory `addr` by `deltaPages` as `memory.grow` would: the old size in pages, or -1 when
   * its maximum or the store's limit (`setLimits`) does not allow it. Views from `guestMemory`
   * are stale afterwards (the contents may move).
   */
  growMemory(addr: number, deltaPages: number): number {
    if (!Number.isInteger(deltaPages) || deltaPages < 0 || deltaPages > 0xffffffff) throw new RangeError('deltaPages must be a non-negative integer');
    // A bad address is the caller's mistake, not a torn VM: thrown once the Vm is idle again.
    const old = this.guarded(() => (this.ex.memory_region(addr) < 0 ? null : this.ex.memory_grow(addr, deltaPages)));
    if (old === null) throw new AbiError(`no memory at address ${addr}`);
    return old;
  }

  /**
   * The VM keeps no global types on the host side: the caller says what `addr` holds. A bad
   * address throws an AbiError with the VM's reason (io cell 0 would hold some earlier value).
   */
  globalRead(addr: number, type: ValType): Value {
    checkCellTypes([type], `global ${addr}`);
    // Thrown once the Vm is idle again: a bad address is the caller's mistake, not a torn VM.
    const value = this.guarded(() => (this.ex.global_read(addr) < 0 ? null : readCell(this.view(), this.io, type)));
    if (value === null) throw new AbiError(`globalRead: ${this.lastError('global_read').message}`);
    return value;
  }

  /** Throws an AbiError with the VM's reason for a bad address or a funcref naming no function. */
  globalWrite(addr: number, value: Value): void {
    const status = this.guarded(() => {
      writeCell(this.view(), this.io, value);
      return this.ex.global_write(addr);
    });
    if (status < 0) throw new AbiError(`globalWrite: ${this.lastError('global_write').message}`);
  }

  /**
   * Instantiates module `moduleId` with one store address per import (in import order, of the
   * import's kind), then runs its start function: a trap there is an 'uninstantiable' failure.
   */
  instantiate(moduleId: number, importAddrs: readonly number[], options: InvokeOptions = {}): { ok: true; id: number } | VmError {
    const desc = this.modules.get(moduleId);
    if (!desc) throw new Error(`module ${moduleId} was not loaded by this Vm`);
    if (importAddrs.length !== desc.imports.length) {
      throw new TypeError(`module ${moduleId} has ${desc.imports.length} imports, got ${importAddrs.length} addresses`);
    }
    const created = this.guarded(() => {
      const ptr = this.importList(importAddrs);
      if (ptr === null) return this.allocFailure(importAddrs.length * 4);
      const id = this.ex.instance_new(moduleId, ptr);
      if (ptr !== 0) this.ex.free(ptr);
      if (id < 0) return this.lastError('instance_new');
      this.instances.set(id, desc);
      this.latest = id;
      return { ok: true as const, id, start: this.ex.instance_start(id) };
    });
    if (!created.ok) return created;
    if (created.start >= 0) {
      const outcome = this.invoke(created.start >>> 0, [], options);
      if (outcome.kind === 'trap') return { ok: false, kind: 'uninstantiable', message: outcome.message, offset: 0, trap: outcome };
      if (outcome.kind === 'timeout') return { ok: false, kind: 'timeout', message: outcome.message, offset: 0 };
    }
    return { ok: true, id: created.id };
  }

  /**
   * Drops an instance: its functions, memories, tables and globals are freed and their addresses
   * handed out again. Refused (nothing changes) while a pending activation has frames in it,
   * another instance imports from it, or a table or global outside it holds one of its functions.
   */
  dropInstance(id: number): { ok: true } | VmError {
    return this.guarded(() => {
      if (this.ex.instance_drop(id) < 0) return this.lastError('instance_drop');
      this.instances.delete(id);
      // Its functions' addresses are handed out again, to functions of other types.
      for (const addr of this.funcTypes.keys()) if (!this.hostFuncs.has(addr)) this.funcTypes.delete(addr);
      if (this.latest === id) this.latest = undefined;
      return { ok: true as const };
    });
  }

  /** Drops a module and frees its bytes; refused while it has instances. */
  dropModule(id: number): { ok: true } | VmError {
    return this.guarded(() => {
      if (this.ex.module_drop(id) < 0) return this.lastError('module_drop');
      this.modules.delete(id);
      return { ok: true as const };
    });
  }

  /** Drops a function, table, memory or global this host made; refused while anything uses it. */
  dropExtern(kind: ExternKind, addr: number): { ok: true } | VmError {
    return this.guarded(() => {
      if (this.ex.extern_drop(externKindCode(kind), addr) < 0) return this.lastError('extern_drop');
      if (kind === 'func') {
        this.hostFuncs.delete(addr);
        this.funcTypes.delete(addr);
      }
      return { ok: true as const };
    });
  }

  /**
   * Store address of the instance's function/table/memory/global `index` (an export's index), or
   * -1 past the last one or for no such instance (the VM's answer: no address is that large).
   */
  exportAddr(instance: number, kind: ExternKind, index: number): number {
    const addr = this.guarded(() => this.ex.instance_extern(instance, externKindCode(kind), index));
    return addr < 0 ? -1 : addr;
  }

  /** The instance's exports by name, with their types and store addresses. */
  exports(instance: number): Map<string, Extern> {
    const desc = this.instances.get(instance);
    if (!desc) throw new Error(`instance ${instance} was not created by this Vm`);
    const out = new Map<string, Extern>();
    for (const { name, index, ...ext } of desc.exports) {
      out.set(name, { ...ext, addr: this.exportAddr(instance, ext.kind, index) } as Extern);
    }
    return out;
  }

  /**
   * The current contents of guest memory `addr` (a store address), as a view into the VM's memory.
   * The view is valid until the VM runs again (guest memory moves when it grows): re-fetch it
   * at each host call.
   */
  guestMemory(addr: number): Uint8Array {
    const region = () => {
      const base = this.ex.memory_region(addr);
      if (base < 0) throw new AbiError(`no memory at address ${addr}`);
      const length = Number(this.view().getBigUint64(this.io, true));
      // Base 0: the memory is host-owned (the memory class), at the start of the helper's memory.
      if (base === 0) {
        if (!this.hostMemory) throw new AbiError(`memory ${addr} is host-owned, and this Vm was given no intrinsics memory`);
        return new Uint8Array(this.hostMemory.buffer, 0, length);
      }
      return new Uint8Array(this.ex.memory.buffer, base >>> 0, length);
    };
    // A host function reads and writes its guest's memory (WASI): memory_region runs no guest
    // code and touches no activation state, so it is the one call allowed while the Vm is busy.
    return this.servingHostCall ? region() : this.guarded(region);
  }

  funcType(funcaddr: number): FuncType {
    const type = this.knownFuncType(funcaddr);
    if (!type) throw new AbiError(`no function at address ${funcaddr}`);
    return type;
  }

  /** The type of the function at `funcaddr`, or null when there is none (func_describe's empty blob). */
  private knownFuncType(funcaddr: number): FuncType | null {
    let type = this.funcTypes.get(funcaddr);
    if (!type) {
      const blob = this.guarded(() => this.blob(this.ex.func_describe(funcaddr)));
      if (blob.length === 0) return null;
      type = decodeFuncType(blob);
      this.funcTypes.set(funcaddr, type);
    }
    return type;
  }

  /**
   * Metered code counts every executed bytecode instruction against the fuel (see ABI.md for the
   * counting rule). Chosen before any function runs.
   */
  setMetering(on: boolean): void {
    this.guarded(() => {
      if (this.ex.set_metering(on ? 1 : 0) < 0) throw new AbiError(this.string(this.ex.error_message()));
    });
  }

  /**
   * Monitored code (implies metering) counts how often each straight-line segment runs; the
   * monitors in host-intrinsics/monitors derive their reports from `monitorCounters`. Chosen
   * before any function runs.
   */
  setMonitoring(on: boolean): void {
    this.guarded(() => {
      if (this.ex.set_monitoring(on ? 1 : 0) < 0) throw new AbiError(this.string(this.ex.error_message()));
    });
  }

  /** The segment counters of every function of `instance` (monitoring must be on). */
  monitorCounters(instance: number): FunctionCounters[] {
    return this.guarded(() => {
      const ptr = this.ex.monitor_dump(instance);
      if (ptr === 0) throw new AbiError(this.string(this.ex.error_message()));
      return decodeCounters(this.blob(ptr));
    });
  }

  private probeKinds = 0;
  private recordKinds = 0;
  private traceCapacity = 0;

  /**
   * Callback probes (guest-vm/probe/README.md): code compiled from now on stops at each event with
   * outcome 'probe' (or calls `InvokeOptions.onProbe` and goes on). Chosen before any function
   * runs; a mistake in `config` is a TypeError.
   */
  setProbes(config: ProbeConfig): void {
    const { kinds, sites } = probeBits(config);
    this.configureProbes(kinds, this.recordKinds, this.traceCapacity);
    this.guarded(() => {
      for (const site of sites) {
        if (this.ex.probe_site(site.func, site.offset) < 0) throw new AbiError(this.string(this.ex.error_message()));
      }
    });
  }

  /**
   * In-VM recording, no host call per event: the memory trace (drained by `onMemoryTrace` when the
   * buffer fills, else the run stops with a 'trace-full' probe event; `takeMemoryTrace`), indirect
   * call targets and inclusive instructions per function (`recorded`). Chosen before any function runs.
   */
  setRecording(config: RecordingConfig): void {
    const { records, capacity } = recordingBits(config);
    this.configureProbes(this.probeKinds, records, capacity);
  }

  /** Receives the memory trace's records (8 bytes each, see abi.ts decodeTrace) whenever the VM's buffer fills. */
  onMemoryTrace: ((records: Uint8Array) => void) | undefined;

  private configureProbes(kinds: number, records: number, capacity: number): void {
    this.guarded(() => {
      if (this.ex.set_probes(kinds, records, capacity) < 0) throw new AbiError(this.string(this.ex.error_message()));
    });
    this.probeKinds = kinds;
    this.recordKinds = records;
    this.traceCapacity = capacity;
  }

  /** The memory trace's records since the last take (8 bytes each), emptying the VM's buffer. */
  takeMemoryTrace(): Uint8Array {
    return this.guarded(() => this.traceRecords());
  }

  private traceRecords(): Uint8Array {
    const ptr = this.ex.trace_take();
    if (ptr === 0) throw new AbiError(this.string(this.ex.error_message()));
    return this.blob(ptr);
  }

  /** Inclusive instructions per function and indirect call targets recorded for `instance`. */
  recorded(instance: number): Recorded {
    return this.guarded(() => {
      const ptr = this.ex.probe_dump(instance);
      if (ptr === 0) throw new AbiError(this.string(this.ex.error_message()));
      return decodeRecorded(this.blob(ptr));
    });
  }

  private probeEvent(): ProbeEvent {
    this.ex.probe_event();
    const view = this.view();
    const cell = (i: number) => view.getBigUint64(this.io + i * CELL_SIZE, true);
    return decodeProbeEvent(Number(cell(0)), Number(cell(1)), Number(cell(2)), cell(3), Number(cell(4)));
  }

  /** Fuel left (bytecode instructions metered code may still execute). */
  get fuel(): bigint {
    return this.guarded(() => {
      this.ex.fuel_get();
      return this.view().getBigUint64(this.io, true);
    });
  }

  set fuel(value: bigint) {
    this.guarded(() => {
      this.view().setBigUint64(this.io, value, true);
      this.ex.fuel_set();
    });
  }

  /**
   * Lowers the store's limits: pages per memory, elements per table, call depth (an absent one is
   * kept). Growing past a limit fails (memory.grow/table.grow give -1), a module that needs more
   * is refused at instantiation (kind 'limit'), a deeper call traps "call stack exhausted".
   */
  setLimits(limits: { memoryPages?: number; tableElements?: number; callDepth?: number }): void {
    const n = (v: number | undefined, what: string) => {
      if (v === undefined) return 0;
      if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw new RangeError(`${what} must be a positive integer`);
      return v;
    };
    const pages = n(limits.memoryPages, 'memoryPages');
    const elems = n(limits.tableElements, 'tableElements');
    const depth = n(limits.callDepth, 'callDepth');
    this.guarded(() => void this.ex.set_limits(pages, elems, depth));
  }

  /** Back-edges and calls per slice before the VM returns to the host (status 3). */
  setSlice(n: number): void {
    this.guarded(() => void this.ex.set_slice(n));
  }

  /**
   * Calls a function, serving its host calls and resuming its slices until it completes, traps, or
   * stops: out of fuel, or when `shouldSuspend` says so between slices. A stopped activation stays
   * pending: `resume` it (after adding fuel, say), `snapshot` it, or `abandon` it.
   */
  invoke(funcaddr: number, args: readonly Value[], options: InvokeOptions = {}): Outcome {
    if (this.pending) throw new Error('an activation is suspended: resume or abandon it first');
    const type = this.knownFuncType(funcaddr);
    // No function there (a dropped instance's, say): the VM's trap says so.
    if (!type) return this.guarded(() => this.drive(this.ex.invoke(funcaddr), [], options, `function ${funcaddr}`));
    checkValues(args, type.params, `arguments of function ${funcaddr}`);
    checkCellTypes(type.results, `results of function ${funcaddr}`);
    return this.guarded((): Outcome => {
      this.writeCells(args);
      return this.drive(this.ex.invoke(funcaddr), type.results, options, `function ${funcaddr}`);
    });
  }

  /**
   * Continues the suspended activation (after `invoke` stopped, or after `restore`). One waiting
   * for a host call has it served first, as `invoke` would.
   */
  resume(options: InvokeOptions = {}): Outcome {
    const pending = this.pending;
    if (!pending) throw new Error('no activation is suspended');
    this.pending = null;
    if (pending.hostCall) {
      const { args } = pending.hostCall;
      return this.guarded(() => {
        this.writeCells(args);
        return this.drive(Status.HostCall, pending.results, options, pending.what);
      });
    }
    return this.guarded(() => this.drive(this.ex.resume(), pending.results, options, pending.what));
  }

  /**
   * Gives a pending host call (outcome 'host-call', or a restored snapshot taken during one) its
   * results without running the guest: it stays suspended right after the call, where it can be
   * snapshotted; `resume` continues it.
   */
  completeHostCall(results: readonly Value[]): void {
    const pending = this.pending;
    if (!pending?.hostCall) throw new Error('no host call is pending');
    const func = this.guarded(() => this.ex.host_call_func() >>> 0);
    const host = this.hostFuncs.get(func);
    if (!host) throw new AbiError(`host call to function ${func}, which is no host function of this Vm`);
    checkValues(results, host.type.results, `results of host function ${func}`);
    this.guarded(() => {
      this.writeCells(results);
      if (this.ex.complete_host_call() < 0) throw new AbiError(this.string(this.ex.error_message()));
    });
    pending.hostCall = null;
  }

  /**
   * Serves a pending host call with its host function's implementation, then leaves the guest
   * suspended right after the call (see `completeHostCall`). An `EndActivation` from the
   * implementation ends the activation and is rethrown, as during `invoke`.
   */
  servePendingHostCall(): void {
    const call = this.pendingHostCall;
    if (!call) throw new Error('no host call is pending');
    const host = this.hostFuncs.get(call.func)!;
    let results: Value[];
    try {
      results = host.impl(call.args) ?? [];
    } catch (e) {
      if (e instanceof EndActivation) {
        this.pending = null;
        this.guarded(() => void this.ex.abort_activation());
      }
      throw e;
    }
    this.completeHostCall(results);
  }

  /** The pending host call (function address and arguments), if the activation waits for one. */
  get pendingHostCall(): { func: number; args: Value[] } | null {
    return this.pending?.hostCall ?? null;
  }

  /** Drops the suspended activation. */
  abandon(): void {
    if (!this.pending) return;
    this.pending = null;
    this.guarded(() => void this.ex.abort_activation());
  }

  /** Whether an activation is suspended. */
  get suspended(): boolean {
    return this.pending !== null;
  }

  // A pending host call's arguments are copied when it starts waiting: the io cells they arrive in
  // are reused by other calls (fuel, globals) before the host serves it.
  private pending: { results: readonly ValType[]; what: string; hostCall?: { func: number; args: Value[] } | null } | null = null;

  private drive(status: number, results: readonly ValType[], options: InvokeOptions, what: string): Outcome {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      switch (status) {
        case Status.Completed:
          return { kind: 'completed', values: this.readCells(results) };
        case Status.Trap:
          return { kind: 'trap', code: this.ex.trap_code() >>> 0, message: this.string(this.ex.error_message()) };
        case Status.Probe: {
          const event = this.probeEvent();
          if (event.probe === 'trace-full' && this.onMemoryTrace) this.onMemoryTrace(this.traceRecords());
          else if (options.onProbe && event.probe !== 'trace-full') options.onProbe(event);
          else {
            this.pending = { results, what };
            return { kind: 'probe', event };
          }
          if (Date.now() > deadline) {
            this.state = 'abandoned';
            return { kind: 'timeout', message: `${what} still running after ${options.timeoutMs} ms` };
          }
          status = this.ex.resume();
          break;
        }
        case Status.HostCall:
        case Status.Suspended:
          // A guest that mostly makes host calls ends few slices: it may stop at a call as well,
          // which then waits, pending, to be served by `resume`.
          if (status === Status.HostCall && (options.stopAtHostCalls || options.shouldSuspend?.())) {
            const func = this.ex.host_call_func() >>> 0;
            const host = this.hostFuncs.get(func);
            if (!host) throw new AbiError(`host call to function ${func}, which is no host function of this Vm`);
            const args = this.readCells(host.type.params);
            this.pending = { results, what, hostCall: { func, args } };
            return options.stopAtHostCalls ? { kind: 'host-call', func, args } : { kind: 'suspended', reason: 'request' };
          }
          if (status === Status.Suspended) {
            const fuel = this.ex.suspend_reason() === SuspendReason.Fuel;
            if (fuel || options.shouldSuspend?.()) {
              this.pending = { results, what };
              return { kind: 'suspended', reason: fuel ? 'fuel' : 'request' };
            }
          }
          if (Date.now() > deadline) {
            this.state = 'abandoned';
            return { kind: 'timeout', message: `${what} still running after ${options.timeoutMs} ms` };
          }
          status = status === Status.HostCall ? this.serveHostCall() : this.ex.resume();
          break;
        default:
          throw new AbiError(`invoke returned unknown status ${status}`);
      }
    }
  }

  /**
   * A snapshot (guest-vm/snapshot/FORMAT.md) of `instance` with its suspended activation, if any,
   * carrying `hostState` (opaque bytes the host needs to continue, such as WASI's). `withoutMemory`
   * writes memory sizes only: it restores to zeroed memory the host then fills, or into memories
   * the host filled beforehand (`restore` with `memories`: a migration).
   */
  snapshot(instance: number, hostState: Uint8Array = new Uint8Array(0), options: { embedModule?: boolean; withoutMemory?: boolean } = {}): Uint8Array | VmError {
    return this.guarded(() => {
      const host = this.copyIn(hostState);
      if (host === null) return this.allocFailure(hostState.length);
      const flags = (options.embedModule ? 1 : 0) | (options.withoutMemory ? 2 : 0);
      const ptr = this.ex.snapshot_take(instance, host, hostState.length, flags);
      this.ex.free(host);
      if (ptr === 0) return this.lastError('snapshot_take');
      return this.blob(ptr);
    });
  }

  /** What a snapshot holds, after checking it whole (a corrupt one is an error). */
  snapshotInfo(bytes: Uint8Array): SnapshotInfo | VmError {
    return this.guarded(() => {
      const ptr = this.copyIn(bytes);
      if (ptr === null) return this.allocFailure(bytes.length);
      const blob = this.ex.snapshot_info(ptr, bytes.length);
      const result = blob === 0 ? this.lastError('snapshot_info') : decodeSnapshotInfo(this.blob(blob));
      this.ex.free(ptr);
      return result;
    });
  }

  /**
   * A new instance of `moduleId` in the snapshot's state, with its activation (if any) suspended:
   * `resume` continues it. Any store will do: a snapshot names functions by index, not address.
   *
   * With `memories` (store addresses from `newMemory`, one per memory the module defines, in
   * order), the instance adopts those memories, as the host wrote them through `guestMemory`,
   * instead of making its own: for a snapshot taken `withoutMemory` whose memory the host received
   * separately (a migration). Each is grown to the snapshot's size, only the added pages zeroed, and
   * is the instance's from then on (`dropInstance` frees it). A memory of another type, larger
   * than the snapshot's, or a snapshot that holds pages of it is refused, and nothing changes.
   */
  restore(bytes: Uint8Array, moduleId: number, importAddrs: readonly number[], results: readonly ValType[] = [], options: RestoreOptions = {}): { ok: true; id: number } | VmError {
    const adopt = options.memories;
    const result = this.guarded(() => {
      const ptr = this.copyIn(bytes);
      if (ptr === null) return this.allocFailure(bytes.length);
      const imports = this.importList(importAddrs);
      if (imports === null) return this.allocFailure(importAddrs.length * 4);
      let id: number;
      if (adopt) {
        const memories = this.importList(adopt);
        if (memories === null) return this.allocFailure(adopt.length * 4);
        id = this.ex.snapshot_restore_into(ptr, bytes.length, moduleId, imports, memories, adopt.length);
        if (memories !== 0) this.ex.free(memories);
      } else {
        id = this.ex.snapshot_restore(ptr, bytes.length, moduleId, imports);
      }
      if (imports !== 0) this.ex.free(imports);
      this.ex.free(ptr);
      if (id < 0) return this.lastError(adopt ? 'snapshot_restore_into' : 'snapshot_restore');
      return { ok: true as const, id };
    });
    if (result.ok) {
      this.latest = result.id;
      const desc = this.modules.get(moduleId);
      if (desc) this.instances.set(result.id, desc);
      const info = this.snapshotInfo(bytes);
      if ('frames' in info && info.frames.length > 0) {
        const func = this.guarded(() => this.ex.host_call_func());
        const host = func >= 0 ? this.hostFuncs.get(func >>> 0) : undefined;
        const hostCall = host ? { func: func >>> 0, args: this.guarded(() => this.readCells(host.type.params)) } : null;
        this.pending = { results, what: 'the restored activation', hostCall };
      }
    }
    return result;
  }

  private serveHostCall(): number {
    const addr = this.ex.host_call_func() >>> 0;
    const host = this.hostFuncs.get(addr);
    if (!host) throw new AbiError(`host call to function ${addr}, which is no host function of this Vm`);
    let results: Value[];
    this.servingHostCall = true;
    try {
      results = host.impl(this.readCells(host.type.params)) ?? [];
    } catch (e) {
      if (e instanceof EndActivation) {
        // The guest's frames are gone and nothing is torn: the Vm may be entered again.
        this.ex.abort_activation();
        this.state = 'idle';
      }
      throw e;
    } finally {
      this.servingHostCall = false;
    }
    checkValues(results, host.type.results, `results of host function ${addr}`);
    this.writeCells(results);
    return this.ex.resume();
  }

  private guarded<T>(body: () => T): T {
    if (this.state !== 'idle') {
      throw new Error(
        this.state === 'abandoned'
          ? 'Vm unusable: an earlier invoke timed out with its activation pending'
          : 'Vm busy: a host function called back into its Vm, or an earlier call threw out of it',
      );
    }
    this.state = 'busy';
    const result = body();
    if (this.state === 'busy') this.state = 'idle';
    return result;
  }

  // Memory can grow during any export call, which detaches the old buffer.
  private view(): DataView {
    const buffer = this.ex.memory.buffer;
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.dataView = new DataView(buffer);
    }
    return this.dataView;
  }

  private readCells(types: readonly ValType[]): Value[] {
    const view = this.view();
    return types.map((type, i) => readCell(view, this.io + i * CELL_SIZE, type));
  }

  private writeCells(values: readonly Value[]): void {
    const view = this.view();
    values.forEach((value, i) => writeCell(view, this.io + i * CELL_SIZE, value));
  }

  /** One u32 store address per import, in a fresh `alloc` block (0 for none; null when the VM cannot allocate). */
  private importList(addrs: readonly number[]): number | null {
    if (addrs.length === 0) return 0;
    const list = new Uint8Array(addrs.length * 4);
    const view = new DataView(list.buffer);
    addrs.forEach((addr, i) => view.setUint32(i * 4, addr, true));
    return this.copyIn(list);
  }

  /** Copies `bytes` into a fresh `alloc` block; null when the VM cannot allocate. */
  private copyIn(bytes: Uint8Array): number | null {
    const ptr = this.ex.alloc(bytes.length) >>> 0;
    if (ptr === 0 && bytes.length > 0) return null;
    new Uint8Array(this.ex.memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  }

  /** The `result_length()` bytes at `ptr`, copied out of VM memory. */
  private blob(ptr: number): Uint8Array {
    const len = this.ex.result_length() >>> 0;
    return new Uint8Array(this.ex.memory.buffer, ptr >>> 0, len).slice();
  }

  private string(ptr: number): string {
    return decodeUtf8(this.blob(ptr));
  }

  private lastError(call: string): VmError {
    const kind = errorKindFromCode(this.ex.error_kind() >>> 0);
    const offset = this.ex.error_offset() >>> 0;
    const message = this.string(this.ex.error_message()) || `${call} failed without a message`;
    return { ok: false, kind, message, offset };
  }

  private allocFailure(size: number): VmError {
    return { ok: false, kind: 'limit', message: `alloc(${size}) failed`, offset: 0 };
  }
}
