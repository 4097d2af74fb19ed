// Differential execution: one module, one plan of export calls, run in V8 (Node's own
// WebAssembly) and in the VM (through Vm, host-intrinsics/vm.ts); everything observable is
// normalised to strings and compared.
//
// What is compared, call by call: the results (or the trap, coarsened to what V8's messages can
// tell apart, see TRAP_CLASSES) and the calls the module made to its `fuzzing-support` imports,
// in order, with their arguments. After the last call: the memory, byte for byte, and every
// global. Floats compare by bit pattern, except that any NaN equals any NaN: with the NaN
// canonicalisation of wasm-binary.ts `instrument`, a NaN's sign and payload can never reach memory
// or an integer, so "a NaN" is all that is left to agree on.
//
// Imports both sides provide identically (binaryen's fuzzing-support module):
//   log-<type>(x)          recorded in the log.
//   sleep(ms, id) -> id    no sleeping.
//   call-export(i, flags)  calls export #i (all exports, in the export section's order) with
//                          zero/null arguments; a trap or error inside propagates.
//   call-export-catch(i) -> 0, or 1 if the call trapped or failed.
//   call-ref(f, flags), call-ref-catch(f)   the same for a function reference (null fails).
//   table-get(i) / table-set(i, f)          on the exported table "table"; out of range fails.
//   anything else          fails (throws a host error).
//   __fuzz_import globals  externref → host reference 1; numbers → 7 (7n, 1.5, 2.5).
// While a start function runs there is no instance yet, so call-export and table-get/set fail
// on both sides. A top-level call stops (on both sides at the same point: "budget exhausted")
// after MAX_NESTED_CALLS nested calls or MAX_LOG log entries.
// In the VM the calling imports need a nested activation, which Vm does not offer from inside a
// host function, so they drive the core's ABI directly (invoke/resume/host_call_func/
// abort_activation: ABI.md's nested activations); the outer call is always Vm.invoke.

import {
  EndActivation,
  Vm,
  decodeFuncType,
  type Outcome,
  readCell,
  writeCell,
  type FuncType,
  type ValType,
  type Value,
} from '../../host-intrinsics/vm.js';
import { wat } from '../helpers/wat.js';
import { GLOBAL_EXPORT_PREFIX, MEMORY_EXPORT, funcType as typeOfFunc, parseModule, type ModuleInfo } from './wasm-binary.js';

/** The WebAssembly API's types want an ArrayBuffer-backed view; ours always are. */
export function source(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

// ── values ──────────────────────────────────────────────────────────────────────────────────────

/** An argument as it is stored in a reproducer (JSON): 64-bit values as decimal strings. */
export type Arg =
  | { type: 'i32'; value: number }
  | { type: 'i64'; value: string }
  | { type: 'f32'; bits: number }
  | { type: 'f64'; bits: string }
  | { type: 'externref'; value: number | null }
  | { type: 'funcref'; value: null };

export interface PlannedCall {
  export: string;
  args: Arg[];
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1);
const u64buf = new BigUint64Array(f64buf.buffer);

export function f32FromBits(bits: number): number {
  u32buf[0] = bits;
  return f32buf[0]!;
}
export function f32Bits(x: number): number {
  f32buf[0] = x;
  return u32buf[0]!;
}
export function f64FromBits(bits: bigint): number {
  u64buf[0] = BigInt.asUintN(64, bits);
  return f64buf[0]!;
}
export function f64Bits(x: number): bigint {
  f64buf[0] = x;
  return u64buf[0]!;
}

/** A normalised observable value: "i32:-5", "f32:0x80000000", "f64:nan", "funcref:#3", "externref:1". */
export type Obs = string;

function obsF32Bits(bits: number): Obs {
  return Number.isNaN(f32FromBits(bits)) ? 'f32:nan' : `f32:0x${(bits >>> 0).toString(16)}`;
}
function obsF64Bits(bits: bigint): Obs {
  return Number.isNaN(f64FromBits(bits)) ? 'f64:nan' : `f64:0x${BigInt.asUintN(64, bits).toString(16)}`;
}

/** A value V8 handed to JS, normalised. */
export function obsFromJs(type: ValType, x: unknown): Obs {
  switch (type) {
    case 'i32':
      return `i32:${Number(x) | 0}`;
    case 'i64':
      return `i64:${BigInt.asIntN(64, BigInt(x as bigint))}`;
    case 'f32':
      return obsF32Bits(f32Bits(Number(x)));
    case 'f64':
      return obsF64Bits(f64Bits(Number(x)));
    case 'funcref':
      return x === null ? 'funcref:null' : typeof x === 'function' ? `funcref:#${x.name}` : 'funcref:?';
    case 'externref':
      return x === null ? 'externref:null' : x instanceof HostRef ? `externref:${x.id}` : `externref:?${String(x)}`;
    case 'v128':
      return 'v128:?';
  }
}

// ── outcomes ────────────────────────────────────────────────────────────────────────────────────

/**
 * Trap classes: the spec's trap kinds, as coarse as V8's messages require. V8 says "float
 * unrepresentable in integer range" for both of the spec's "integer overflow" and "invalid
 * conversion to integer" out of a truncation, "table index is out of bounds" for both "out of
 * bounds table access" and "undefined element", and "null function or function signature
 * mismatch" for "uninitialized element" and "indirect call type mismatch".
 */
export const TRAP_CLASSES: Record<number, string> = {
  1: 'unreachable',
  2: 'divide by zero',
  3: 'overflow or conversion',
  4: 'overflow or conversion',
  5: 'memory out of bounds',
  6: 'table out of bounds',
  7: 'table out of bounds',
  8: 'null or signature mismatch',
  9: 'null or signature mismatch',
  10: 'stack exhausted',
};

/** The trap class of an exception out of V8, or null when it is no trap. */
export function v8TrapClass(e: unknown): string | null {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return TRAP_CLASSES[10]!;
  if (!(e instanceof WebAssembly.RuntimeError)) return null;
  const m = e.message;
  if (/^unreachable/.test(m)) return TRAP_CLASSES[1]!;
  if (/(divide|remainder) by zero/.test(m)) return TRAP_CLASSES[2]!;
  if (/unrepresentable/.test(m)) return TRAP_CLASSES[3]!;
  if (/memory access out of bounds|data segment/.test(m)) return TRAP_CLASSES[5]!;
  if (/table index is out of bounds|table access|element segment|out of bounds table/.test(m)) return TRAP_CLASSES[6]!;
  if (/null function|signature mismatch/.test(m)) return TRAP_CLASSES[8]!;
  return `unrecognised V8 trap: ${m}`;
}

/** One call's outcome, normalised: "values i32:1 f64:nan", "trap memory out of bounds", "host error", "hang", "exception ...". */
export type OutcomeText = string;

export interface CallRecord {
  export: string;
  outcome: OutcomeText;
  log: Obs[];
}

export interface RunRecord {
  /** "ok", or why instantiation failed: "trap <class>", "link error", "limit ...", "exception ...". */
  instantiate: string;
  calls: CallRecord[];
  /** Byte length and contents of the memory after the last call (absent without a memory). */
  memory: Uint8Array | null;
  globals: Obs[];
  /**
   * Set when V8's run went where the campaign does not follow: its memory grew past
   * VM_MAX_PAGES. The run stops there.
   */
  beyondVmLimits?: string;
}

/**
 * The largest memory the campaign follows V8 into (1 GiB). Past it the VM may legitimately fail a
 * grow that V8 makes (memory.grow may fail, says the spec; the VM's own memory sets its limit),
 * and comparing would copy gigabytes.
 */
export const VM_MAX_PAGES = 16383;

class HostRef {
  constructor(readonly id: number) {}
}

/** Thrown by the fuzzing-support imports on failure (V8: an ordinary JS exception). */
class HostFailure extends EndActivation {
  constructor(what: string) {
    super(null, what);
  }
}
/** A trap inside a nested call that propagates through the host function (VM side). */
class NestedTrap extends EndActivation {
  constructor(readonly code: number) {
    super(code, `nested trap ${code}`);
  }
}
/**
 * A top-level call made more nested calls (call-export*, call-ref*) or more log entries than the
 * harness allows. Modules can outrun their own hang limit through the catching imports (a trap
 * re-arms the limit and call-export-catch swallows it), so both sides stop them at the same
 * deterministic point; the catching imports do not catch this.
 */
class BudgetExceeded extends EndActivation {
  constructor(what: string) {
    super(null, what);
  }
}
export const MAX_NESTED_CALLS = 256;
export const MAX_LOG = 4096;

/** The VM ran past its budget (back-edges and calls). */
class Hang extends EndActivation {
  constructor() {
    super(null, 'budget exhausted');
  }
}

function importValue(type: ValType): { js: unknown; vm: Value } {
  switch (type) {
    case 'i32': return { js: 7, vm: { type, value: 7 } };
    case 'i64': return { js: 7n, vm: { type, value: 7n } };
    case 'f32': return { js: 1.5, vm: { type, bits: f32Bits(1.5) } };
    case 'f64': return { js: 2.5, vm: { type, bits: f64Bits(2.5) } };
    case 'externref': return { js: new HostRef(1), vm: { type, value: 1 } };
    default: return { js: null, vm: { type: 'funcref', value: null } };
  }
}

function zeroArg(type: ValType): Arg {
  switch (type) {
    case 'i32': return { type, value: 0 };
    case 'i64': return { type, value: '0' };
    case 'f32': return { type, bits: 0 };
    case 'f64': return { type, bits: '0' };
    case 'externref': return { type, value: null };
    default: return { type: 'funcref', value: null };
  }
}

function argToJs(a: Arg): unknown {
  switch (a.type) {
    case 'i32': return a.value;
    case 'i64': return BigInt(a.value);
    case 'f32': return f32FromBits(a.bits);
    case 'f64': return f64FromBits(BigInt(a.bits));
    case 'externref': return a.value === null ? null : new HostRef(a.value);
    case 'funcref': return null;
  }
}

function argToVm(a: Arg): Value {
  switch (a.type) {
    case 'i32': return { type: 'i32', value: a.value };
    case 'i64': return { type: 'i64', value: BigInt(a.value) };
    case 'f32': return { type: 'f32', bits: a.bits };
    case 'f64': return { type: 'f64', bits: BigInt(a.bits) };
    case 'externref': return { type: 'externref', value: a.value };
    case 'funcref': return { type: 'funcref', value: null };
  }
}

function logName(name: string): ValType | null {
  const m = /^log-(i32|i64|f32|f64|funcref|externref)$/.exec(name);
  return m ? (m[1] as ValType) : null;
}

// ── V8 ──────────────────────────────────────────────────────────────────────────────────────────

export function runV8(bytes: Uint8Array, plan: readonly PlannedCall[], info: ModuleInfo = parseModule(bytes)): RunRecord {
  const record: RunRecord = { instantiate: 'ok', calls: [], memory: null, globals: [] };
  let log: Obs[] = [];
  let nestedCalls = 0;
  const logged = (entry: Obs) => {
    if (log.length >= MAX_LOG) throw new BudgetExceeded('log budget');
    log.push(entry);
  };
  const countCall = () => {
    if (++nestedCalls > MAX_NESTED_CALLS) throw new BudgetExceeded('nested call budget');
  };
  let instance: WebAssembly.Instance | null = null;
  const exportFn = (name: string) => instance?.exports[name] as ((...args: unknown[]) => unknown) | undefined;

  const callExport = (i: number) => {
    countCall();
    const e = info.exports[i >>> 0];
    const fn = e && e.kind === 'func' ? exportFn(e.name) : undefined;
    if (!e || !fn) throw new HostFailure(`no function export ${i >>> 0}`);
    fn(...typeOfFunc(info, e.index).params.map((t) => argToJs(zeroArg(t))));
  };
  const callRef = (f: unknown) => {
    countCall();
    if (typeof f !== 'function') throw new HostFailure('call-ref of null');
    const type = typeOfFunc(info, Number(f.name));
    (f as (...args: unknown[]) => unknown)(...type.params.map((t) => argToJs(zeroArg(t))));
  };
  const caught = (body: () => void) => {
    try {
      body();
      return 0;
    } catch (e) {
      if (e instanceof BudgetExceeded) throw e;
      return 1;
    }
  };
  const table = () => {
    const t = instance?.exports.table;
    if (!(t instanceof WebAssembly.Table)) throw new HostFailure('no exported table');
    return t;
  };
  const support: Record<string, (...args: never[]) => unknown> = {
    'call-export': (i: number) => callExport(i),
    'call-export-catch': (i: number) => caught(() => callExport(i)),
    'call-ref': (f: unknown) => callRef(f),
    'call-ref-catch': (f: unknown) => caught(() => callRef(f)),
    'sleep': (_ms: number, id: number) => id,
    'table-get': (i: number) => {
      const t = table();
      if (i >>> 0 >= t.length) throw new HostFailure('table-get out of range');
      return t.get(i >>> 0);
    },
    'table-set': (i: number, f: unknown) => {
      const t = table();
      if (i >>> 0 >= t.length) throw new HostFailure('table-set out of range');
      t.set(i >>> 0, f as never);
    },
  };

  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const imp of info.imports) {
    const ns = (imports[imp.module] ??= {});
    if (imp.kind === 'func') {
      const logType = imp.module === 'fuzzing-support' ? logName(imp.name) : null;
      const params = imp.type.params;
      ns[imp.name] = logType
        ? (x: unknown) => logged(`${imp.name} ${obsFromJs(logType, x)}`)
        : imp.module === 'fuzzing-support' && support[imp.name]
          ? support[imp.name]!
          : () => {
              throw new HostFailure(`unknown import ${imp.module}.${imp.name} (${params.join(' ')})`);
            };
    } else if (imp.kind === 'global') {
      // The JS API of Node 20 names funcref 'anyfunc'.
      ns[imp.name] = new WebAssembly.Global({ value: (imp.type === 'funcref' ? 'anyfunc' : imp.type) as 'i32', mutable: imp.mutable }, importValue(imp.type).js as number);
    } else if (imp.kind === 'memory') {
      ns[imp.name] = new WebAssembly.Memory({ initial: imp.min, ...(imp.max === null ? {} : { maximum: imp.max }) });
    } else {
      ns[imp.name] = new WebAssembly.Table({ element: imp.elem === 'externref' ? 'externref' : 'anyfunc', initial: imp.min, ...(imp.max === null ? {} : { maximum: imp.max }) } as WebAssembly.TableDescriptor);
    }
  }

  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(source(bytes)), imports as WebAssembly.Imports);
  } catch (e) {
    record.instantiate = instantiationFailureV8(e);
    return record;
  }

  for (const call of plan) {
    log = [];
    nestedCalls = 0;
    const fn = exportFn(call.export);
    const e = info.exports.find((x) => x.name === call.export);
    let outcome: OutcomeText;
    if (!fn || !e || e.kind !== 'func') outcome = 'no such export';
    else {
      const results = typeOfFunc(info, e.index).results;
      try {
        const r = fn(...call.args.map(argToJs));
        const values = results.length === 1 ? [r] : results.length === 0 ? [] : (r as unknown[]);
        outcome = ['values', ...results.map((t, k) => obsFromJs(t, values[k]))].join(' ');
      } catch (err) {
        const trap = v8TrapClass(err);
        outcome = trap !== null ? `trap ${trap}` : err instanceof HostFailure ? 'host error' : err instanceof BudgetExceeded ? 'budget exhausted' : `exception ${String(err)}`;
      }
    }
    record.calls.push({ export: call.export, outcome, log });
    const m = memoryOf(instance);
    if (m && m.buffer.byteLength > VM_MAX_PAGES * 65536) {
      record.beyondVmLimits = `memory grew to ${m.buffer.byteLength / 65536} pages in call ${record.calls.length - 1}`;
      return record;
    }
  }
  const mem = memoryOf(instance);
  if (mem) record.memory = new Uint8Array(mem.buffer).slice();
  info.globals.forEach((g, i) => {
    const glob = instance!.exports[GLOBAL_EXPORT_PREFIX + i];
    record.globals.push(glob instanceof WebAssembly.Global ? obsFromJs(g.type, glob.value) : 'not exported');
  });
  return record;
}

function memoryOf(instance: WebAssembly.Instance): WebAssembly.Memory | null {
  const mem = instance.exports[MEMORY_EXPORT] ?? Object.values(instance.exports).find((x) => x instanceof WebAssembly.Memory);
  return mem instanceof WebAssembly.Memory ? mem : null;
}

function instantiationFailureV8(e: unknown): string {
  const trap = v8TrapClass(e);
  if (trap !== null) return `trap ${trap}`;
  if (e instanceof WebAssembly.LinkError) return 'link error';
  if (e instanceof WebAssembly.CompileError) return 'compile error';
  if (e instanceof HostFailure) return 'host error';
  if (e instanceof BudgetExceeded) return 'budget exhausted';
  return `exception ${String(e)}`;
}

// ── the VM ──────────────────────────────────────────────────────────────────────────────────────

export interface VmRunOptions {
  /** Compile with metering (a different code path in the VM); fuel stays unlimited. */
  metered?: boolean;
  /** Back-edges and calls per slice, and how many slices one call may use before it is a hang. */
  slice?: number;
  maxSlices?: number;
  /**
   * Metered runs only: give call `call` of the plan just `fuel` fuel; if it runs out (at the top
   * level), snapshot the instance, restore it into a fresh VM and finish the plan there.
   */
  handover?: { call: number; fuel: number };
}

/** Fuel standing for "unlimited" in metered runs. */
const PLENTY = 1n << 62n;

// Module with which the VM side reads and writes the exported table for table-get/table-set.
let tableHelper: Uint8Array | null = null;
function tableHelperBytes(): Uint8Array {
  return (tableHelper ??= wat(`(module
    (import "m" "table" (table 0 funcref))
    (func (export "get") (param i32) (result funcref) (table.get 0 (local.get 0)))
    (func (export "set") (param i32 funcref) (table.set 0 (local.get 0) (local.get 1))))`));
}

type RawExports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };

/** What happened to a `handover` request: no handover (the call ended first), or where it was. */
export interface VmRunRecord extends RunRecord {
  handedOver?: { call: number; snapshotBytes: number; frames: number } | { call: number; failed: string };
}

export function runVm(bytes: Uint8Array, plan: readonly PlannedCall[], options: VmRunOptions = {}, info: ModuleInfo = parseModule(bytes)): VmRunRecord {
  const record: VmRunRecord = { instantiate: 'ok', calls: [], memory: null, globals: [] };
  const slice = options.slice ?? 20000;
  const maxSlices = options.maxSlices ?? 500;
  const metered = options.metered ?? false;

  // The VM and everything that names its store addresses; a handover replaces all of it.
  let vm!: Vm;
  let raw!: RawExports;
  let io = 0;
  let instance = -1;
  let hostImpls = new Map<number, { type: FuncType; impl: (args: Value[]) => Value[] | void }>();
  let funcs = new Map<number, { index: number; type: FuncType }>(); // store address → function of the instance
  let exportAddrs = new Map<string, number>();
  let exported = new Map<string, { kind: string; addr: number }>();
  let helper: { get: number; set: number } | null = null;

  let log: Obs[] = [];
  let nestedCalls = 0;
  let slices = 0;

  const view = () => new DataView(raw.memory.buffer);
  // A nested activation, driven through the ABI (Vm is busy serving the outer host call).
  const nested = (addr: number, type: FuncType, args: Value[]): { trap: number } | { values: Value[] } => {
    args.forEach((v, i) => writeCell(view(), io + 8 * i, v));
    let status = raw.invoke!(addr);
    for (;;) {
      if (status === 0) return { values: type.results.map((t, i) => readCell(view(), io + 8 * i, t)) };
      if (status === 1) return { trap: raw.trap_code!() >>> 0 };
      if (status === 3) {
        if (raw.suspend_reason!() === 2) {
          // Out of fuel inside a nested activation (a handover run's budget): nested activations
          // cannot be snapshotted, so refuel and go on.
          view().setBigUint64(io, PLENTY, true);
          raw.fuel_set!();
        } else if (++slices > maxSlices) {
          raw.abort_activation!();
          throw new Hang();
        }
        status = raw.resume!();
        continue;
      }
      if (status !== 2) throw new Error(`invoke returned status ${status}`);
      const callee = raw.host_call_func!() >>> 0;
      const host = hostImpls.get(callee);
      if (!host) throw new Error(`host call to unknown function ${callee}`);
      let results: Value[];
      try {
        results = host.impl(host.type.params.map((t, i) => readCell(view(), io + 8 * i, t))) ?? [];
      } catch (e) {
        raw.abort_activation!();
        throw e;
      }
      results.forEach((v, i) => writeCell(view(), io + 8 * i, v));
      status = raw.resume!();
    }
  };
  const callAddr = (addr: number) => {
    if (++nestedCalls > MAX_NESTED_CALLS) throw new BudgetExceeded('nested call budget');
    // During instantiation (a start function) the instance's addresses are not known yet: ask the
    // core for the type (Vm itself is busy serving the host call).
    const type = funcs.get(addr)?.type ?? describeRaw(addr);
    if (!type) throw new HostFailure(`call of unknown function address ${addr}`);
    const r = nested(addr, type, type.params.map((t) => argToVm(zeroArg(t))));
    if ('trap' in r) throw new NestedTrap(r.trap);
  };
  const describeRaw = (addr: number): FuncType | null => {
    const p = raw.func_describe!(addr) >>> 0;
    if (p === 0) return null;
    return decodeFuncType(new Uint8Array(raw.memory.buffer, p, raw.result_length!() >>> 0).slice());
  };
  const callRef = (v: number | null) => {
    if (v === null) {
      if (++nestedCalls > MAX_NESTED_CALLS) throw new BudgetExceeded('nested call budget');
      throw new HostFailure('call-ref of null');
    }
    callAddr(v);
  };
  const callExport = (i: number) => {
    const e = info.exports[i >>> 0];
    const addr = e && e.kind === 'func' ? exportAddrs.get(e.name) : undefined;
    if (addr === undefined) {
      if (++nestedCalls > MAX_NESTED_CALLS) throw new BudgetExceeded('nested call budget');
      throw new HostFailure(`no function export ${i >>> 0}`);
    }
    callAddr(addr);
  };
  const caught = (body: () => void): Value[] => {
    try {
      body();
      return [{ type: 'i32', value: 0 }];
    } catch (e) {
      if (e instanceof Hang || e instanceof BudgetExceeded || !(e instanceof EndActivation)) throw e;
      return [{ type: 'i32', value: 1 }];
    }
  };
  const tableOp = (which: 'get' | 'set', args: Value[]): Value[] => {
    if (!helper) throw new HostFailure('no exported table');
    const r = nested(which === 'get' ? helper.get : helper.set, { params: which === 'get' ? ['i32'] : ['i32', 'funcref'], results: which === 'get' ? ['funcref'] : [] }, args);
    if ('trap' in r) throw new HostFailure(`table-${which} out of range`);
    return r.values;
  };
  const support: Record<string, (args: Value[]) => Value[] | void> = {
    'call-export': ([i]) => callExport((i as { value: number }).value),
    'call-export-catch': ([i]) => caught(() => callExport((i as { value: number }).value)),
    'call-ref': ([f]) => callRef((f as { value: number | null }).value),
    'call-ref-catch': ([f]) => caught(() => callRef((f as { value: number | null }).value)),
    'sleep': ([, id]) => [id!],
    'table-get': (args) => tableOp('get', args),
    'table-set': (args) => tableOp('set', args),
  };
  const obsVm = (v: Value): Obs => {
    switch (v.type) {
      case 'i32': return `i32:${v.value}`;
      case 'i64': return `i64:${v.value}`;
      case 'f32': return obsF32Bits(v.bits);
      case 'f64': return obsF64Bits(v.bits);
      case 'funcref': {
        if (v.value === null) return 'funcref:null';
        const f = funcs.get(v.value);
        return f ? `funcref:#${f.index}` : `funcref:?${v.value}`;
      }
      case 'externref': return v.value === null ? 'externref:null' : `externref:${v.value}`;
    }
  };

  /** A fresh VM with the module loaded and its imports created (in import order, before anything else). */
  const prepare = (): { moduleId: number; addrs: number[] } | string => {
    vm = Vm.createSync();
    raw = vm.rawExports as unknown as RawExports;
    io = raw.io_buffer!() >>> 0;
    hostImpls = new Map();
    if (metered) vm.setMetering(true);
    vm.setSlice(slice);
    const addrs: number[] = [];
    for (const imp of info.imports) {
      let created: { ok: true; addr: number } | { ok: false; message: string };
      if (imp.kind === 'func') {
        const logged = imp.module === 'fuzzing-support' ? logName(imp.name) : null;
        const impl: (args: Value[]) => Value[] | void = logged
          ? ([x]) => {
              if (log.length >= MAX_LOG) throw new BudgetExceeded('log budget');
              log.push(`${imp.name} ${obsVm(x!)}`);
            }
          : imp.module === 'fuzzing-support' && support[imp.name]
            ? support[imp.name]!
            : () => {
                throw new HostFailure(`unknown import ${imp.module}.${imp.name}`);
              };
        created = vm.newHostFunc(imp.type, impl);
        if (created.ok) hostImpls.set(created.addr, { type: imp.type, impl });
      } else if (imp.kind === 'global') created = vm.newGlobal({ type: imp.type, mutable: imp.mutable }, importValue(imp.type).vm);
      else if (imp.kind === 'memory') created = vm.newMemory({ min: imp.min, max: imp.max });
      else created = vm.newTable({ elem: imp.elem as 'funcref', min: imp.min, max: imp.max });
      if (!created.ok) return `import failed: ${created.message}`;
      addrs.push(created.addr);
    }
    const loaded = vm.loadModule(bytes);
    if (!loaded.ok) return `load failed: ${loaded.kind}: ${loaded.message}`;
    return { moduleId: loaded.id, addrs };
  };

  /** The maps from store addresses to the instance's functions and exports, and the table helper. */
  const learnInstance = () => {
    funcs = new Map();
    for (let index = 0; index < info.funcTypes.length; index++) {
      const addr = vm.exportAddr(instance, 'func', index);
      funcs.set(addr, { index, type: typeOfFunc(info, index) });
      vm.funcType(addr); // cached by Vm, so nested calls need not ask the busy Vm
    }
    exported = vm.exports(instance);
    exportAddrs = new Map([...exported].map(([name, ext]) => [name, ext.addr]));
    helper = null;
    const table = exported.get('table');
    if (table && table.kind === 'table') {
      const h = vm.loadModule(tableHelperBytes());
      const hi = h.ok ? vm.instantiate(h.id, [table.addr]) : h;
      if (!hi.ok) throw new Error(`table helper: ${hi.message}`);
      const hx = vm.exports(hi.id);
      helper = { get: hx.get('get')!.addr, set: hx.get('set')!.addr };
      for (const f of [helper.get, helper.set]) vm.funcType(f);
    }
  };

  const run = (body: () => OutcomeText): OutcomeText => {
    slices = 0;
    nestedCalls = 0;
    try {
      return body();
    } catch (e) {
      if (e instanceof NestedTrap) return `trap ${TRAP_CLASSES[e.code] ?? `code ${e.code}`}`;
      if (e instanceof Hang) return 'hang';
      if (e instanceof BudgetExceeded) return 'budget exhausted';
      if (e instanceof HostFailure) return 'host error';
      return `exception ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }
  };
  const shouldSuspend = () => ++slices > maxSlices;
  const outcomeText = (r: Outcome): OutcomeText => {
    switch (r.kind) {
      case 'completed':
        return ['values', ...r.values.map(obsVm)].join(' ');
      case 'trap':
        return `trap ${TRAP_CLASSES[r.code] ?? `code ${r.code}`}`;
      case 'suspended':
        vm.abandon();
        return r.reason === 'fuel' ? 'exception out of fuel' : 'hang';
      case 'timeout':
        return 'hang';
      default:
        return `exception unknown outcome ${JSON.stringify(r)}`;
    }
  };

  const prepared = prepare();
  if (typeof prepared === 'string') {
    record.instantiate = prepared;
    return record;
  }
  // Instantiation; the start function (if any) runs inside, with the same imports.
  const inst = run(() => {
    const r = vm.instantiate(prepared.moduleId, prepared.addrs, { shouldSuspend });
    if (vm.suspended) {
      vm.abandon();
      return 'hang';
    }
    if (r.ok) {
      instance = r.id;
      return 'ok';
    }
    if (r.trap) return `trap ${TRAP_CLASSES[r.trap.code] ?? `code ${r.trap.code}`}`;
    if (r.kind === 'uninstantiable') return `trap ${/table|element/.test(r.message) ? TRAP_CLASSES[6] : TRAP_CLASSES[5]}`;
    if (r.kind === 'unlinkable') return 'link error';
    return `${r.kind}: ${r.message}`;
  });
  if (inst !== 'ok') {
    record.instantiate = inst;
    return record;
  }
  learnInstance();

  /** Snapshot the suspended activation, restore it into a fresh VM, resume there. */
  const handOver = (callIndex: number, results: readonly ValType[]): OutcomeText => {
    const snap = vm.snapshot(instance);
    if (!(snap instanceof Uint8Array)) {
      record.handedOver = { call: callIndex, failed: `snapshot: ${snap.message}` };
      vm.abandon();
      return `exception snapshot failed: ${snap.message}`;
    }
    const frames = (() => {
      const i = vm.snapshotInfo(snap);
      return 'frames' in i ? i.frames.length : -1;
    })();
    const again = prepare();
    if (typeof again === 'string') throw new Error(`handover: ${again}`);
    const restored = vm.restore(snap, again.moduleId, again.addrs, results);
    if (!restored.ok) {
      record.handedOver = { call: callIndex, failed: `restore: ${restored.kind}: ${restored.message}` };
      return `exception restore failed: ${restored.message}`;
    }
    instance = restored.id;
    learnInstance();
    record.handedOver = { call: callIndex, snapshotBytes: snap.length, frames };
    vm.fuel = PLENTY;
    return outcomeText(vm.resume({ shouldSuspend }));
  };

  plan.forEach((call, callIndex) => {
    log = [];
    const addr = exportAddrs.get(call.export);
    const f = addr === undefined ? undefined : funcs.get(addr);
    const outcome = !f || addr === undefined
      ? 'no such export'
      : run(() => {
          if (!vm.usable) return 'exception Vm unusable';
          const handover = metered && options.handover?.call === callIndex;
          if (!handover) return outcomeText(vm.invoke(addr, call.args.map(argToVm), { shouldSuspend }));
          vm.fuel = BigInt(options.handover!.fuel);
          let r: Outcome;
          try {
            r = vm.invoke(addr, call.args.map(argToVm), { shouldSuspend });
          } finally {
            if (vm.usable && !vm.suspended) vm.fuel = PLENTY;
          }
          if (r.kind === 'suspended' && r.reason === 'fuel') return handOver(callIndex, f.type.results);
          return outcomeText(r);
        });
    record.calls.push({ export: call.export, outcome, log });
  });
  if (!vm.usable) return record;
  const mem = exported.get(MEMORY_EXPORT) ?? [...exported.values()].find((x) => x.kind === 'memory');
  if (mem) record.memory = vm.guestMemory(mem.addr).slice();
  info.globals.forEach((g, i) => {
    const glob = exported.get(GLOBAL_EXPORT_PREFIX + i);
    record.globals.push(glob ? obsVm(vm.globalRead(glob.addr, g.type)) : 'not exported');
  });
  return record;
}

// ── comparing ───────────────────────────────────────────────────────────────────────────────────

export interface Difference {
  /** 'instantiate', 'call' (result or log of plan[call]), 'memory' or 'global'. */
  what: 'instantiate' | 'call' | 'memory' | 'global';
  call?: number;
  v8: string;
  vm: string;
  /**
   * Set when the difference is one the spec allows an implementation: the call stack ran out in
   * one engine only, or in both at different depths (what the recursion left behind differs), or
   * V8 went past the VM's memory limit. Not a VM bug.
   */
  limit?: string;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function hex(bytes: Uint8Array, at: number): string {
  return [...bytes.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The first difference between the two runs, or null when they agree on everything. */
export function compareRuns(v8: RunRecord, vm: RunRecord): Difference | null {
  const d = firstDifference(v8, vm);
  if (!d) return null;
  if (v8.beyondVmLimits) return { ...d, limit: v8.beyondVmLimits };
  const stack = TRAP_CLASSES[10]!;
  if (d.what === 'call' && d.v8.includes(stack) !== d.vm.includes(stack)) return { ...d, limit: 'the call stack ran out in one engine only' };
  // Both ran out, at depths of their own: what the recursion left behind (log, globals, memory)
  // depends on each engine's depth.
  const exhausted = (r: RunRecord) => r.calls.some((c) => c.outcome.includes(stack));
  if (exhausted(v8) && exhausted(vm)) return { ...d, limit: 'the call stack ran out in both engines, at different depths' };
  return d;
}

function firstDifference(v8: RunRecord, vm: RunRecord): Difference | null {
  if (v8.instantiate !== vm.instantiate) return { what: 'instantiate', v8: v8.instantiate, vm: vm.instantiate };
  for (let i = 0; i < Math.max(v8.calls.length, vm.calls.length); i++) {
    const a = v8.calls[i];
    const b = vm.calls[i];
    if (!a || !b || a.outcome !== b.outcome || a.log.join('|') !== b.log.join('|')) {
      // The log from its first difference on (a few entries), with its length.
      let from = 0;
      while (a && b && from < a.log.length && a.log[from] === b.log[from]) from++;
      const text = (c: CallRecord | undefined) => {
        if (!c) return 'missing';
        const tail = c.log.slice(from, from + 4).join(', ') + (c.log.length > from + 4 ? ', ...' : '');
        return `${c.export}: ${c.outcome}; log of ${c.log.length}${from > 0 ? `, from entry ${from}` : ''}: [${tail}]`;
      };
      return { what: 'call', call: i, v8: text(a), vm: text(b) };
    }
  }
  if ((v8.memory === null) !== (vm.memory === null)) return { what: 'memory', v8: String(v8.memory?.length), vm: String(vm.memory?.length) };
  if (v8.memory && vm.memory) {
    const at = firstDiff(v8.memory, vm.memory);
    if (at >= 0) {
      return {
        what: 'memory',
        v8: `${v8.memory.length} bytes, at ${at}: ${hex(v8.memory, at)}`,
        vm: `${vm.memory.length} bytes, at ${at}: ${hex(vm.memory, at)}`,
      };
    }
  }
  if (v8.globals.join('|') !== vm.globals.join('|')) {
    const i = v8.globals.findIndex((g, k) => g !== vm.globals[k]);
    return { what: 'global', v8: `global ${i}: ${v8.globals[i]}`, vm: `global ${i}: ${vm.globals[i]}` };
  }
  return null;
}

// ── plans ───────────────────────────────────────────────────────────────────────────────────────

const I32_EDGES = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0xff, 0x8000, 65536, -65536];
const I64_EDGES = ['0', '1', '-1', '9223372036854775807', '-9223372036854775808', '4294967295', '4294967296', '-4294967296'];
const F32_EDGES = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x00000001, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x3f000000];
const F64_EDGES = ['0', '9223372036854775808', '4607182418800017408', '13830554455654793216', '9218868437227405312', '18442240474082181120', '9221120237041090560', '1', '9218868437227405311', '4746794007248502784', '13970166044103278592', '4602678819172646912'];

interface RandomSource {
  below(n: number): number;
  u32(): number;
  chance(p: number): boolean;
}

/** An argument of `type`: an edge value or a random one (about half each). */
export function chooseArg(rng: RandomSource, type: ValType): Arg {
  const edge = rng.chance(0.5);
  switch (type) {
    case 'i32':
      return { type, value: edge ? I32_EDGES[rng.below(I32_EDGES.length)]! : rng.u32() | 0 };
    case 'i64':
      return { type, value: edge ? I64_EDGES[rng.below(I64_EDGES.length)]! : BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())).toString() };
    case 'f32': {
      // Random bit patterns, but NaNs only canonical: V8 turns a JS NaN argument into one.
      const bits = edge ? F32_EDGES[rng.below(F32_EDGES.length)]! : rng.u32();
      return { type, bits: Number.isNaN(f32FromBits(bits)) ? 0x7fc00000 : bits };
    }
    case 'f64': {
      const bits = edge ? BigInt(F64_EDGES[rng.below(F64_EDGES.length)]!) : (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
      return { type, bits: (Number.isNaN(f64FromBits(bits)) ? 0x7ff8000000000000n : bits).toString() };
    }
    case 'externref':
      return { type, value: rng.chance(0.5) ? null : 2 };
    default:
      return { type: 'funcref', value: null };
  }
}

/** `rounds` calls of every function the module exports (not the instrumentation's), in export order. */
export function makePlan(info: ModuleInfo, rng: RandomSource, rounds = 2, maxCalls = 48): PlannedCall[] {
  const plan: PlannedCall[] = [];
  const funcs = info.exports.filter((e) => e.kind === 'func' && !e.name.startsWith('__fuzz_'));
  for (let round = 0; round < rounds; round++) {
    for (const e of funcs) {
      if (plan.length >= maxCalls) return plan;
      const type = typeOfFunc(info, e.index);
      if (type.params.includes('v128') || type.results.includes('v128')) continue;
      plan.push({ export: e.name, args: type.params.map((t) => chooseArg(rng, t)) });
    }
  }
  return plan;
}

export interface Reproducer {
  /** How the module came about (seed, mutation) and what went wrong, for people. */
  origin: string;
  difference: Difference;
  /** The calls to make, in order, on one instance. */
  plan: PlannedCall[];
  metered: boolean;
  handover?: { call: number; fuel: number };
  /** V8's run of the plan: what the VM must match. Memory as length + SHA-256. */
  expected: { instantiate: string; calls: CallRecord[]; memory: { length: number; sha256: string } | null; globals: Obs[] };
  /** Set while the bug is known and unfixed: the replay then expects the disagreement. */
  open?: boolean;
}
