// The machine state between entries to the dispatch loop, and the regions that hold guest frames.
// Everything here is plain memory or a scalar global, so a checkpoint can read it whole.

// ┌── call stack: one FRAME_RECORD per active guest call ──────────────────────────────┐
// │ 0 return pc: usize    4 caller fp: usize    8 caller FuncInst: usize               │
// └─────────────────────────────────────────────────────────────────────────────────────┘
// The value stack holds frames of 8-byte slots: parameters, locals, then operand slots. A callee's
// frame starts at its arguments inside the caller's frame; its results are left at its frame's base.
export const FRAME_RECORD: usize = 12;

export const STATUS_COMPLETED: i32 = 0;
export const STATUS_TRAP: i32 = 1;
export const STATUS_HOST_CALL: i32 = 2;
export const STATUS_SUSPENDED: i32 = 3;
// A probe fired (probe/probes.ts): the event is in probe/probes.ts's event fields.
export const STATUS_PROBE: i32 = 4;

export const TRAP_UNREACHABLE: u32 = 1;
export const TRAP_DIV_ZERO: u32 = 2;
export const TRAP_OVERFLOW: u32 = 3;
export const TRAP_CONVERSION: u32 = 4;
export const TRAP_MEMORY: u32 = 5;
export const TRAP_TABLE: u32 = 6;
export const TRAP_UNDEFINED: u32 = 7;
export const TRAP_UNINITIALIZED: u32 = 8;
export const TRAP_SIGNATURE: u32 = 9;
export const TRAP_STACK: u32 = 10;

export let statePc: usize = 0;
export let stateFp: usize = 0;
export let stateCsp: usize = 0;
export let stateFunc: usize = 0;
export let sliceBudget: i32 = 1 << 20;
export let trapCode: u32 = 0;
export let hostCallee: usize = 0; // FuncInst of the pending host call
export let hostFp: usize = 0; // where its arguments are, and its results go

// Fuel: bytecode instructions the guest may still execute (metered code only).
export let fuelLeft: u64 = u64.MAX_VALUE;
export const SUSPEND_SLICE: u32 = 1; // the slice budget ran out: resume at will
export const SUSPEND_FUEL: u32 = 2; // out of fuel: add fuel, then resume
export let suspendReason: u32 = 0;

export const VALUE_STACK_BYTES: usize = 16 << 20;
export const MAX_CALL_DEPTH: u32 = 50000;
// Call depth in force (set_limits may lower it before anything runs).
export let callDepthLimit: u32 = MAX_CALL_DEPTH;

export let stackBase: usize = 0;
export let stackLimit: usize = 0;
export let callBase: usize = 0;
export let callLimit: usize = 0; // last record slot that may be pushed

export function ensureStacks(): void {
  if (stackBase != 0) return;
  stackBase = heap.alloc(VALUE_STACK_BYTES);
  stackLimit = stackBase + VALUE_STACK_BYTES;
  callBase = heap.alloc(<usize>(MAX_CALL_DEPTH + 2) * FRAME_RECORD);
  callLimit = callBase + <usize>callDepthLimit * FRAME_RECORD;
}

export function setCallDepthLimit(depth: u32): void {
  callDepthLimit = depth < MAX_CALL_DEPTH ? depth : MAX_CALL_DEPTH;
  if (stackBase != 0) callLimit = callBase + <usize>callDepthLimit * FRAME_RECORD;
}

export function setSliceBudget(n: i32): void {
  sliceBudget = n;
}

export function trapMessage(code: u32): string {
  switch (code) {
    case TRAP_UNREACHABLE: return "unreachable";
    case TRAP_DIV_ZERO: return "integer divide by zero";
    case TRAP_OVERFLOW: return "integer overflow";
    case TRAP_CONVERSION: return "invalid conversion to integer";
    case TRAP_MEMORY: return "out of bounds memory access";
    case TRAP_TABLE: return "out of bounds table access";
    case TRAP_UNDEFINED: return "undefined element";
    case TRAP_UNINITIALIZED: return "uninitialized element";
    case TRAP_SIGNATURE: return "indirect call type mismatch";
    case TRAP_STACK: return "call stack exhausted";
  }
  return "trap";
}
