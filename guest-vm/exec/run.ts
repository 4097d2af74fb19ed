// Activations: how the host enters the dispatch loop (invoke), continues it (resume), and what it
// learns when the loop stops. An activation is one host-initiated call; a host function may start
// another one (nested) before answering, so activations form a stack.

import { FuncType } from "../binary/module";
import {
  FUNC_CODE, FUNC_KIND, FUNC_HOST, FUNC_FRAME_BYTES, FUNC_ZERO_START, FUNC_ZERO_BYTES, FUNC_NPARAMS,
  FUNC_NRESULTS, FUNC_SIZE, FUNC_MEM, EMPTY_MEM, allocRecord, funcType, normalise,
} from "../runtime/store";
import { IR, hostFaultable } from "../ir/ops";
import { interp } from "./interp";
import { compileFunction } from "../compile/compiler";
import {
  FRAME_RECORD, STATUS_COMPLETED, STATUS_TRAP, STATUS_HOST_CALL, STATUS_SUSPENDED, TRAP_STACK,
  statePc, stateFp, stateCsp, stateFunc, hostCallee, hostFp, stackBase, stackLimit, callBase, callLimit,
  ensureStacks, setSliceBudget, trapMessage as messageOf,
} from "./state";
import * as state from "./state";
import { shadowDepth, shadowUnwind } from "../probe/probes";

export {
  STATUS_COMPLETED, STATUS_TRAP, STATUS_HOST_CALL, STATUS_SUSPENDED,
  TRAP_UNREACHABLE, TRAP_DIV_ZERO, TRAP_OVERFLOW, TRAP_CONVERSION, TRAP_MEMORY, TRAP_TABLE, TRAP_UNDEFINED,
  TRAP_UNINITIALIZED, TRAP_SIGNATURE, TRAP_STACK, trapCode, hostCallee,
} from "./state";

export function trapMessage(code: u32): string {
  return messageOf(code);
}

// The IR every activation returns to, and the FuncInst that "calls" the invoked function.
let haltCode: usize = 0;
let entryFunc: usize = 0;

// Per activation: the function invoked, where its frame starts, the call-stack depth it began at,
// and whether it is a direct call of a host function.
const actFunc: usize[] = [];
const actBase: usize[] = [];
const actCsp: usize[] = [];
const actDirectHost: bool[] = [];
// The shadow stack's depth (probe/probes.ts) when the activation began.
const actShadow: i32[] = [];

function setup(): void {
  ensureStacks();
  if (haltCode != 0) return;
  haltCode = allocRecord(8);
  store<u32>(haltCode, IR.halt);
  entryFunc = allocRecord(FUNC_SIZE);
  store<usize>(entryFunc, EMPTY_MEM, FUNC_MEM);
}

// Where a new activation's frame may start: above everything the live activation uses.
function nextBase(): usize {
  if (actFunc.length == 0) return stackBase;
  const top = actFunc.length - 1;
  if (unchecked(actDirectHost[top])) return unchecked(actBase[top]) + 8 * 1024;
  return stateFp + <usize>load<u32>(stateFunc, FUNC_FRAME_BYTES) + 8 * 1024;
}

function nextCsp(): usize {
  if (actFunc.length == 0) return callBase;
  return stateCsp;
}

function pop(): void {
  const top = actFunc.length - 1;
  // A trap or an abort leaves the activation's calls unfinished on the shadow stack.
  shadowUnwind(unchecked(actShadow[top]));
  actShadow.length = top;
  actFunc.length = top;
  actBase.length = top;
  actCsp.length = top;
  actDirectHost.length = top;
  // The enclosing activation (if any) resumes from its saved state, which a nested run
  // overwrote: restore it.
  if (top > 0) restoreSaved();
}

// Saved machine state of enclosing activations while a nested one runs.
const savedPc: usize[] = [];
const savedFp: usize[] = [];
const savedCsp: usize[] = [];
const savedFunc: usize[] = [];
const savedHostCallee: usize[] = [];
const savedHostFp: usize[] = [];

function saveState(): void {
  savedPc.push(statePc);
  savedFp.push(stateFp);
  savedCsp.push(stateCsp);
  savedFunc.push(stateFunc);
  savedHostCallee.push(hostCallee);
  savedHostFp.push(hostFp);
}

function restoreSaved(): void {
  state.statePc = savedPc.pop();
  state.stateFp = savedFp.pop();
  state.stateCsp = savedCsp.pop();
  state.stateFunc = savedFunc.pop();
  state.hostCallee = savedHostCallee.pop();
  state.hostFp = savedHostFp.pop();
}

function copyOut(type: FuncType, from: usize, io: usize): void {
  const results = type.results;
  for (let i = 0; i < results.length; i++) {
    const k = <usize>i << 3;
    store<u64>(io + k, normalise(unchecked(results[i]), load<u64>(from + k)));
  }
}

// Calls the function `rec` with its arguments in the 8-byte cells at `io`; on completion its
// results are written back to `io`.
export function invoke(rec: usize, io: usize): i32 {
  setup();
  const base = nextBase();
  const csp = nextCsp();
  if (actFunc.length > 0) saveState();
  actFunc.push(rec);
  actBase.push(base);
  actCsp.push(csp);
  actShadow.push(shadowDepth());
  const np = <usize>load<u16>(rec, FUNC_NPARAMS);
  const nr = <usize>load<u16>(rec, FUNC_NRESULTS);
  if (load<u32>(rec, FUNC_KIND) == FUNC_HOST) {
    actDirectHost.push(true);
    state.hostCallee = rec;
    state.hostFp = base;
    return STATUS_HOST_CALL; // arguments are already in io
  }
  actDirectHost.push(false);
  let code = load<usize>(rec, FUNC_CODE);
  if (code == 0) code = compileFunction(rec);
  const frame = <usize>load<u32>(rec, FUNC_FRAME_BYTES);
  if (base + frame + (np > nr ? np : nr) * 8 > stackLimit || csp >= callLimit) {
    state.trapCode = TRAP_STACK;
    pop();
    return STATUS_TRAP;
  }
  memory.copy(base, io, np << 3);
  const zs = base + <usize>load<u32>(rec, FUNC_ZERO_START);
  memory.fill(zs, 0, <usize>load<u32>(rec, FUNC_ZERO_BYTES));
  store<usize>(csp, haltCode);
  store<usize>(csp, base, 4);
  store<usize>(csp, entryFunc, 8);
  state.statePc = code;
  state.stateFp = base;
  state.stateCsp = csp + FRAME_RECORD;
  state.stateFunc = rec;
  return run(io);
}

// Continues after STATUS_HOST_CALL (the host call's results in the cells at `io`) or
// STATUS_SUSPENDED.
export function resume(io: usize): i32 {
  if (actFunc.length == 0) {
    state.trapCode = 0;
    return STATUS_TRAP;
  }
  const top = actFunc.length - 1;
  if (state.hostCallee != 0) {
    const callee = state.hostCallee;
    state.hostCallee = 0;
    if (unchecked(actDirectHost[top])) {
      pop();
      return STATUS_COMPLETED; // results are already in io
    }
    memory.copy(state.hostFp, io, <usize>load<u16>(callee, FUNC_NRESULTS) << 3);
  }
  return run(io);
}

// Takes the pending host call's results from `io` and leaves the activation suspended there,
// without running the guest: the point right after a call is a resumable one, so the guest can
// be snapshotted between a host call and its continuation. False if no host call is pending.
export function completeHostCall(io: usize): bool {
  if (actFunc.length == 0 || state.hostCallee == 0 || unchecked(actDirectHost[actFunc.length - 1])) return false;
  const callee = state.hostCallee;
  state.hostCallee = 0;
  memory.copy(state.hostFp, io, <usize>load<u16>(callee, FUNC_NRESULTS) << 3);
  state.suspendReason = state.SUSPEND_SLICE;
  return true;
}

// Re-creates a pending host call (a restored snapshot taken during one): its arguments are
// already in the frame at `fp`; they are copied to `io` as after STATUS_HOST_CALL.
export function setPendingHostCall(callee: usize, fp: usize, io: usize): void {
  state.hostCallee = callee;
  state.hostFp = fp;
  memory.copy(io, fp, <usize>load<u16>(callee, FUNC_NPARAMS) << 3);
}

function run(io: usize): i32 {
  const status = interp();
  const top = actFunc.length - 1;
  if (status == STATUS_COMPLETED) {
    copyOut(funcType(unchecked(actFunc[top])), stateFp, io);
    pop();
  } else if (status == STATUS_TRAP) {
    pop();
  } else if (status == STATUS_HOST_CALL) {
    memory.copy(io, hostFp, <usize>load<u16>(hostCallee, FUNC_NPARAMS) << 3);
  }
  return status;
}

// After a host trap unwound the dispatch loop: if it stopped at an access to host-owned memory
// (which saved pc before calling the host), that access was out of bounds — the guest traps
// there, and the activation ends as after STATUS_TRAP. False if the state shows no such access.
export function hostFault(): bool {
  if (actFunc.length == 0 || statePc == 0 || !hostFaultable(load<u32>(statePc))) return false;
  state.trapCode = state.TRAP_MEMORY;
  state.hostCallee = 0;
  pop();
  return true;
}

// Abandons the innermost activation (after a host function failed, say).
export function abort(): void {
  // Before pop(), which restores an enclosing activation's pending host call.
  state.hostCallee = 0;
  if (actFunc.length > 0) pop();
}

// Whether function `rec` is in a pending activation: invoked, or in a frame (runtime/drop.ts).
export function runningFunc(rec: usize): bool {
  if (actFunc.length == 0) return false;
  if (actFunc.includes(rec) || stateFunc == rec || savedFunc.includes(rec) || hostCallee == rec || savedHostCallee.includes(rec)) return true;
  for (let r = callBase; r < stateCsp; r += FRAME_RECORD) if (load<usize>(r, 8) == rec) return true;
  return false;
}

// ── for snapshots ────────────────────────────────────────────────────────────────────────
export function activationCount(): i32 {
  return actFunc.length;
}
export function activationFunc(i: i32): usize {
  return unchecked(actFunc[i]);
}
export function activationCsp(i: i32): usize {
  return unchecked(actCsp[i]);
}
export function activationIsDirectHost(i: i32): bool {
  return unchecked(actDirectHost[i]);
}

// Re-creates a suspended activation of `rec` whose frames a restore has written: the entry record
// goes at the bottom of the call stack, frames start at the bottom of the value stack. Returns
// the address of the first call record after the entry one.
export function beginRestoredActivation(rec: usize): usize {
  setup();
  actFunc.push(rec);
  actBase.push(stackBase);
  actCsp.push(callBase);
  actShadow.push(0);
  actDirectHost.push(false);
  store<usize>(callBase, haltCode);
  store<usize>(callBase, stackBase, 4);
  store<usize>(callBase, entryFunc, 8);
  return callBase + FRAME_RECORD;
}

export function setMachineState(pc: usize, fp: usize, csp: usize, func: usize): void {
  state.statePc = pc;
  state.stateFp = fp;
  state.stateCsp = csp;
  state.stateFunc = func;
  state.hostCallee = 0;
}

export function setSlice(n: u32): void {
  setSliceBudget(n == 0 || n > <u32>i32.MAX_VALUE ? i32.MAX_VALUE : <i32>n);
}
