// The one TypeScript surface of the VM that hosts program against, whichever way it is loaded:
// `Vm` (vm.ts, the core module through the plain WebAssembly API) and `ComponentEngine` (api.ts,
// the component through its jco bindings) both implement `Engine`, so the spec runner, the WASI
// bridge and the CLI switch between them by construction alone. Types only, plus EndActivation.

import type { IntrinsicClass } from './intrinsics/classes.js';
import type {
  ErrorKind, ExternKind, ExternType, FuncType, GlobalType, MemoryType, ModuleDesc, ProbeConfig, ProbeEvent, TableType,
  ValType, Value,
} from './abi.js';

export interface VmError {
  ok: false;
  /** The VM's error kind, or 'timeout' when a start function ran past InvokeOptions.timeoutMs. */
  kind: ErrorKind | 'timeout';
  message: string;
  offset: number;
  /** Set when instantiation failed because the start function trapped. */
  trap?: Trap;
}
export interface Trap {
  kind: 'trap';
  /** 1..10, the spec's traps (abi.ts's TRAP_MESSAGES); Vm says 0 for a call to an unknown address. */
  code: number;
  message: string;
}
export type Outcome =
  | { kind: 'completed'; values: Value[] }
  | Trap
  /** The deadline passed while the activation was still running (see each engine for what is left). */
  | { kind: 'timeout'; message: string }
  /** The activation stopped and is pending (out of fuel, or the host asked between slices). */
  | { kind: 'suspended'; reason: 'fuel' | 'request' }
  /**
   * With `stopAtHostCalls`: the guest called host function `func` and waits, pending, for its
   * results (`completeHostCall`, or `resume` to serve it the usual way).
   */
  | { kind: 'host-call'; func: number; args: Value[] }
  /**
   * A callback probe fired (`setProbes`), or the memory trace buffer is full (`trace-full`, Vm
   * without a trace sink): the activation is pending; `resume` continues after the event.
   */
  | { kind: 'probe'; event: ProbeEvent };

export interface LoadedModule extends ModuleDesc {
  ok: true;
  id: number;
}
export type Extern = ExternType & { addr: number };
/**
 * A host function. It gets its arguments typed and returns its results (none: `void`); it reads
 * and writes guest memory through its engine's `guestMemory`, and ends the guest's run by throwing
 * EndActivation.
 */
export type HostFuncImpl = (args: Value[]) => Value[] | void;

/**
 * Thrown by a host function to end the guest's run instead of returning (WASI `proc_exit`): the
 * engine abandons the activation, stays usable, and `invoke` (or `instantiate`, when the start
 * function was running) rethrows it to its caller, which reads `value`.
 */
export class EndActivation extends Error {
  override name = 'EndActivation';
  constructor(readonly value: unknown, message = 'a host function ended the activation') {
    super(message);
  }
}

export interface InvokeOptions {
  /** Give up after this long; only checked when the VM returns to the host (slices, host calls). */
  timeoutMs?: number;
  /** Asked between slices: true stops the activation there (outcome 'suspended', reason 'request'). */
  shouldSuspend?: () => boolean;
  /** Stop at each call of a host function instead of serving it (outcome 'host-call'; Vm only). */
  stopAtHostCalls?: boolean;
  /**
   * Called for each probe event, after which the activation resumes (without it, the event ends
   * the run with outcome 'probe'). A host round trip per event: the expensive path.
   */
  onProbe?: (event: ProbeEvent) => void;
}

export type Created = { ok: true; addr: number } | VmError;

/** One store: modules, instances and store objects, named by ids and store addresses. */
export interface Engine {
  /** False once the engine must not be entered again (an exception it could not recover from). */
  readonly usable: boolean;
  /** Decodes and validates a module; it stays in the store for `instantiate`. */
  loadModule(bytes: Uint8Array): LoadedModule | VmError;
  newHostFunc(type: FuncType, impl: HostFuncImpl): Created;
  newGlobal(type: GlobalType, init: Value): Created;
  newTable(type: TableType): Created;
  newMemory(type: MemoryType): Created;
  globalRead(addr: number, type: ValType): Value;
  globalWrite(addr: number, value: Value): void;
  /**
   * Instantiates module `moduleId` with one store address per import (in import order, of the
   * import's kind), then runs its start function: a trap there is an 'uninstantiable' failure.
   */
  instantiate(moduleId: number, importAddrs: readonly number[], options?: InvokeOptions): { ok: true; id: number } | VmError;
  /** The instance's exports by name, with their types and store addresses. */
  exports(instance: number): Map<string, Extern>;
  /** Store address of the instance's function/table/memory/global `index`; -1 past the end. */
  exportAddr(instance: number, kind: ExternKind, index: number): number;
  funcType(funcaddr: number): FuncType;
  /**
   * Guest memory `addr` (a store address) as a view. Valid until the VM runs again (guest memory
   * moves when it grows): fetch it afresh in each host call.
   */
  guestMemory(addr: number): Uint8Array;
  /** Metered code counts every executed bytecode instruction against the fuel; chosen before anything runs. */
  setMetering(on: boolean): void;
  /** Operations handed to the host intrinsics (intrinsics/README.md); before anything runs. */
  setIntrinsicClasses(classes: readonly IntrinsicClass[]): void;
  /**
   * Callback probes: code compiled from now on stops at each event (outcome 'probe', or
   * `InvokeOptions.onProbe`). Chosen before any function runs, like metering.
   */
  setProbes(config: ProbeConfig): void;
  /** Fuel left (bytecode instructions metered code may still execute). */
  fuel: bigint;
  /** Back-edges and calls per slice: how often the VM returns to the host while it runs. */
  setSlice(n: number): void;
  /**
   * Calls a function, serving its host calls and resuming its slices until it completes, traps, or
   * stops: out of fuel, or when `shouldSuspend` says so between slices. A stopped activation stays
   * pending: `resume` it or `abandon` it.
   */
  invoke(funcaddr: number, args: readonly Value[], options?: InvokeOptions): Outcome;
  /** Continues the suspended activation. */
  resume(options?: InvokeOptions): Outcome;
  /** Drops the suspended activation. */
  abandon(): void;
  /** Whether an activation is suspended. */
  readonly suspended: boolean;
}
