// Probes: a compile mode, like monitoring. Functions compiled while probes are set carry probe IR
// instructions at the points the probes name; code compiled without them has none, so the plain
// dispatch loop never tests for a probe. Two families (see README.md):
//   callback probes  stop the activation with STATUS_PROBE and an event (kind, function, bytecode
//                    offset, operands) that the host reads with `probe_event`, then resumes;
//   recording        in-VM state, no host call per event: a memory trace buffer (a full buffer
//                    stops with the event TRACE_FULL), indirect call targets per call site, and
//                    inclusive instructions per function from a shadow stack of entry clocks.

import { FUNC_ADDR, FUNC_INDEX, FUNC_INSTANCE, TABLE_ELEMS, TABLE_LEN, funcLive, funcRecord } from "../runtime/store";
import { instances } from "../runtime/instance";
import * as state from "../exec/state";

// Callback probe kinds (bits of `probeKinds`), recordings (bits of `recordKinds`) and event kinds
// (`probe_event` cell 0).
export {
  PROBE_INSTR, PROBE_SITE, PROBE_ENTRY, PROBE_EXIT, PROBE_MEMORY, PROBE_BRANCH, PROBE_CALL, PROBE_ALL,
  RECORD_MEMORY, RECORD_INDIRECT, RECORD_INCLUSIVE, RECORD_ALL,
  EVENT_INSTR, EVENT_SITE, EVENT_ENTRY, EVENT_EXIT, EVENT_MEMORY, EVENT_BRANCH, EVENT_CALL, EVENT_TRACE_FULL,
} from "../vocabulary";
import { EVENT_TRACE_FULL } from "../vocabulary";

// A call target the VM cannot name (the call_indirect will trap on its table lookup).
export const NO_TARGET: u32 = 0xffffffff;

export let probeKinds: u32 = 0;
export let recordKinds: u32 = 0;
// (function index << 32 | bytecode offset) of the site probes.
export const sites = new Set<u64>();
export function siteList(): u64[] {
  const v = sites.values();
  v.sort((a: u64, b: u64): i32 => (a < b ? -1 : a > b ? 1 : 0));
  return v;
}

export function setProbes(kinds: u32, records: u32): void {
  probeKinds = kinds;
  recordKinds = records;
}

@inline export function probing(): bool {
  return (probeKinds | recordKinds) != 0;
}

// ── the event of the last STATUS_PROBE ───────────────────────────────────────────────────
export let eventKind: u32 = 0;
export let eventFunc: u32 = 0; // function index in its module
export let eventAt: u32 = 0; // bytecode offset
export let eventA: u64 = 0; // memory: base | static offset << 32; branch: taken or index; call: target
export let eventB: u32 = 0; // memory: size | store << 8; branch: the wasm opcode; call: 1 if indirect

// Called by the dispatch loop when a callback probe fires (the loop has saved pc past it).
export function probeEvent(kind: u32, at: u32, a: u64, b: u32): i32 {
  eventKind = kind;
  eventFunc = load<u32>(state.stateFunc, FUNC_INDEX);
  eventAt = at;
  eventA = a;
  eventB = b;
  return state.STATUS_PROBE;
}

// The function index, in the caller's module, of what table `tab` holds at `i`; NO_TARGET when
// the entry is out of bounds, null, or names no function.
export function indirectTarget(tab: usize, i: u32): u32 {
  if (i >= load<u32>(tab, TABLE_LEN)) return NO_TARGET;
  const ref = load<u32>(load<usize>(tab, TABLE_ELEMS) + (<usize>i << 2));
  if (ref == 0 || !funcLive(ref - 1)) return NO_TARGET;
  const callee = funcRecord(ref - 1);
  const caller = state.stateFunc;
  const inst = load<u32>(caller, FUNC_INSTANCE);
  if (load<u32>(callee, FUNC_INSTANCE) == inst) return load<u32>(callee, FUNC_INDEX);
  // An imported function (or another instance's): its index among the caller's imports.
  const funcs = unchecked(instances[inst])!.funcs;
  for (let k = 0; k < funcs.length; k++) if (unchecked(funcs[k]) == callee) return <u32>k;
  return NO_TARGET;
}

// ── memory trace ─────────────────────────────────────────────────────────────────────────
// Records of 8 bytes: u32 effective address (0xffffffff when it does not fit: the access traps),
// u8 size, u8 flags (bit 0 store), u16 0. The dispatch loop appends; when the buffer is full the
// recording instruction stops the machine before it (EVENT_TRACE_FULL) and runs again once the
// host has drained the buffer.
export const TRACE_RECORD: u32 = 8;
export const DEFAULT_TRACE_RECORDS: u32 = 1 << 16;
export const MAX_TRACE_RECORDS: u32 = 1 << 26;
export let traceBase: usize = 0;
export let traceNext: usize = 0;
export let traceEnd: usize = 0;

export function setTraceCapacity(records: u32): void {
  const held = traceNext - traceBase;
  const bytes = <usize>records * TRACE_RECORD;
  const p = heap.alloc(bytes > held ? bytes : held);
  if (traceBase != 0) {
    memory.copy(p, traceBase, held);
    heap.free(traceBase);
  }
  traceBase = p;
  traceNext = p + held;
  traceEnd = p + bytes;
}

export function traceCapacity(): u32 {
  return <u32>((traceEnd - traceBase) / TRACE_RECORD);
}

export function traceHeld(): u32 {
  return <u32>((traceNext - traceBase) / TRACE_RECORD);
}

export function traceFullEvent(at: u32): i32 {
  return probeEvent(EVENT_TRACE_FULL, at, 0, 0);
}

export function traceAppend(p: usize, n: u32): void {
  memory.copy(traceNext, p, <usize>n * TRACE_RECORD);
  traceNext += <usize>n * TRACE_RECORD;
}

export function traceClear(): void {
  traceNext = traceBase;
}

// ── indirect call targets ────────────────────────────────────────────────────────────────
// (call site offset << 32 | target index) → executions.
export const indirect = new Map<u64, u64>();

export function recordIndirect(at: u32, tab: usize, i: u32): void {
  const key = (<u64>at << 32) | <u64>indirectTarget(tab, i);
  indirect.set(key, indirect.has(key) ? indirect.get(key) + 1 : 1);
}

// ── inclusive instructions ───────────────────────────────────────────────────────────────
// The clock is the number of instructions metered code has executed: fuel used, kept continuous
// across the host's fuel changes (setFuel).
let clockBase: u64 = 0;
let fuelMark: u64 = u64.MAX_VALUE;

export function clock(): u64 {
  return clockBase + (fuelMark - state.fuelLeft);
}

export function setFuel(fuel: u64): void {
  clockBase = clock();
  fuelMark = fuel;
  state.fuelLeft = fuel;
}

export function setClock(c: u64): void {
  clockBase = c;
  fuelMark = state.fuelLeft;
}

// By function address: how many of its calls are on the shadow stack, and its inclusive total.
// A function's span counts only when its outermost call returns, so recursion is not counted twice.
const active: u32[] = [];
const inclusive: u64[] = [];
// The shadow stack: function address and entry clock of each metered call in progress.
const shadowFunc: u32[] = [];
const shadowClock: u64[] = [];

function grow(addr: u32): void {
  while (<u32>active.length <= addr) {
    active.push(0);
    inclusive.push(0);
  }
}

export function shadowEnter(func: usize): void {
  const addr = load<u32>(func, FUNC_ADDR);
  grow(addr);
  shadowFunc.push(addr);
  shadowClock.push(clock());
  unchecked((active[addr] = active[addr] + 1));
}

export function shadowExit(): void {
  const n = shadowFunc.length;
  if (n == 0) return;
  const addr = unchecked(shadowFunc[n - 1]);
  const started = unchecked(shadowClock[n - 1]);
  shadowFunc.length = n - 1;
  shadowClock.length = n - 1;
  const left = unchecked(active[addr]) - 1;
  unchecked((active[addr] = left));
  if (left == 0) unchecked((inclusive[addr] = inclusive[addr] + (clock() - started)));
}

export function shadowDepth(): i32 {
  return shadowFunc.length;
}

// Frames discarded by a trap or an abort leave their functions at the current clock.
export function shadowUnwind(depth: i32): void {
  while (shadowFunc.length > depth) shadowExit();
}

export function shadowEntryFunc(i: i32): u32 {
  return unchecked(shadowFunc[i]);
}
export function shadowEntryClock(i: i32): u64 {
  return unchecked(shadowClock[i]);
}
export function shadowPush(addr: u32, started: u64): void {
  grow(addr);
  shadowFunc.push(addr);
  shadowClock.push(started);
  unchecked((active[addr] = active[addr] + 1));
}

export function inclusiveOf(addr: u32): u64 {
  return addr < <u32>inclusive.length ? unchecked(inclusive[addr]) : 0;
}
// A dropped function's address is handed out again: it starts from nothing.
export function forgetInclusive(addr: u32): void {
  if (addr >= <u32>inclusive.length) return;
  unchecked((inclusive[addr] = 0));
  unchecked((active[addr] = 0));
}
export function setInclusive(addr: u32, v: u64): void {
  grow(addr);
  unchecked((inclusive[addr] = v));
}
