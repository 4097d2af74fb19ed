// The machine state between entries to the dispatch loop, and the regions that hold guest frames.
// Everything here is plain memory or a scalar global, so a checkpoint can read it whole.

// ┌── call stack: one FRAME_RECORD per active guest call ──────────────────────────────┐
// │ 0 return pc: usize    4 caller fp: usize    8 caller FuncInst: usize               │
// └─────────────────────────────────────────────────────────────────────────────────────┘
// The value stack holds frames of 8-byte slots: parameters, locals, then operand slots. A callee's
// frame starts at its arguments inside the caller's frame; its results are left at its frame's base.
export const FRAME_RECORD: usize = 12;

export {
  STATUS_COMPLETED, STATUS_TRAP, STATUS_HOST_CALL, STATUS_SUSPENDED, STATUS_PROBE,
  TRAP_UNREACHABLE, TRAP_DIV_ZERO, TRAP_OVERFLOW, TRAP_CONVERSION, TRAP_MEMORY, TRAP_TABLE, TRAP_UNDEFINED,
  TRAP_UNINITIALIZED, TRAP_SIGNATURE, TRAP_STACK, SUSPEND_SLICE, SUSPEND_FUEL, trapMessage,
} from "../vocabulary";

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
