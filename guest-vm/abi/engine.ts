// Entry of the component build: the exports of interface handover:vm/engine (wit/vm.wit) over the
// plain ABI of ../index.ts. Each function takes its flattened parameters and returns a pointer to
// its results in the return area. Names are the WIT names in snake_case (`[method]r.m` as `r_m`);
// scripts/component-exports.mjs renames them to `handover:vm/engine#…` and adds the cabi_post_*
// aliases of `post_return`. Nothing here may trap: a trap would leave the component instance
// unusable, so every host value is checked and every failure is a result.

import * as core from "../index";
import { ExternKind, ValType } from "../binary/module";
import { GLOBAL_TYPE, NO_MAX, funcLive, funcRecord, funcType } from "../runtime/store";
import { externRecord } from "../runtime/link";
import {
  EVENT_BRANCH, EVENT_CALL, EVENT_INSTR, EVENT_MEMORY, PROBE_SITE, STATUS_COMPLETED, STATUS_HOST_CALL, STATUS_PROBE,
  STATUS_SUSPENDED, STATUS_TRAP, SUSPEND_SLICE, TRAP_KINDS, WIT_ERROR_UNLINKABLE, WIT_PROBE_FLAGS,
  trapMessage,
} from "../vocabulary";
import {
  RET, cabiRealloc, errResult, freeArg, lastErrorResult, misuse, okU32, okUnit, postReturn,
  putBytes, putString,
} from "./canon";
import {
  VALUES_OK, cellTypes, cellToValue, flatToCell, putFuncType, putValues, typeName, valTypeCode, valuesProblem,
  valuesToCells,
} from "./values";
import { exportRefs, importKinds, putModuleDesc } from "./describe";

// For hosts that hold this module's memory (a JS host through jco's instantiateCore hook): where a
// guest memory lives right now, without the cost of a component call. Not part of the WIT.
export { memory_region, io_buffer } from "../index";

// Handles for the resources this component defines; their reps are ids + 1 (hosts refuse rep 0).
@external("[export]handover:vm/engine", "[resource-new]module")
declare function newModuleHandle(rep: u32): u32;
@external("[export]handover:vm/engine", "[resource-new]instance")
declare function newInstanceHandle(rep: u32): u32;

const io = core.io_buffer();
const IO_CELLS: usize = 1024;
const NO_TARGET: u64 = 0xffffffff;
// Back-edges and calls per slice when the host sets no bound: the loop still returns here that
// often (so the engine's optimizing tier takes over the dispatch loop), and is re-entered at once.
const DEFAULT_SLICE: u32 = 1 << 20;

export function cabi_realloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return cabiRealloc(old, oldSize, align, newSize);
}

// Every cabi_post_* is this function: results live in blocks listed by canon.ts.
export function post_return(_ret: usize): void {
  postReturn();
}

// The module of each instance (by instance id), for describing its exports.
const instanceModules = new Map<u32, u32>();

// ── modules and instances ─────────────────────────────────────────────────────────────────────
export function load_module(ptr: usize, len: usize): usize {
  // module_new owns the block from here on (it frees it when the module is refused); an empty
  // list's pointer is no block of ours.
  const block = len != 0 ? ptr : heap.alloc(8);
  const id = core.module_new(block, <u32>len);
  if (id < 0) return lastErrorResult("module_new failed");
  return okU32(newModuleHandle(<u32>id + 1));
}

export function module_describe(rep: u32): usize {
  putModuleDesc(RET, core.module_describe(rep - 1), null);
  return RET;
}

const EXTERN_KINDS: StaticArray<string> = ["func", "table", "memory", "global"];

// imports: list<extern>, extern = { kind @0: extern-kind, addr @4: u32 }.
export function instantiate(rep: u32, ptr: usize, len: usize): usize {
  const moduleId = rep - 1;
  const kinds: u8[] = [];
  importKinds(core.module_describe(moduleId), kinds);
  let r: usize = 0;
  if (len != <usize>kinds.length) {
    r = misuse("the module has " + kinds.length.toString() + " imports, got " + len.toString());
  }
  for (let i = 0; r == 0 && i < kinds.length; i++) {
    const kind = <u32>load<u8>(ptr + (<usize>i << 3));
    const want = <u32>unchecked(kinds[i]);
    // The VM resolves an address among the import's own kind only: a wrong kind is caught here.
    if (kind != want) {
      r = errResult(WIT_ERROR_UNLINKABLE, "incompatible import type: import " + i.toString() + " is a " + EXTERN_KINDS[want] +
        ", got a " + (kind < 4 ? EXTERN_KINDS[kind] : "?"));
    }
  }
  if (r == 0) {
    const addrs = heap.alloc(len == 0 ? 4 : len << 2);
    for (let i: usize = 0; i < len; i++) store<u32>(addrs + (i << 2), load<u32>(ptr + (i << 3), 4));
    const id = core.instance_new(moduleId, addrs);
    heap.free(addrs);
    if (id < 0) r = lastErrorResult("instance_new failed");
    else {
      instanceModules.set(<u32>id, moduleId);
      r = okU32(newInstanceHandle(<u32>id + 1));
    }
  }
  freeArg(ptr, len);
  return r;
}

export function instance_exports(rep: u32): usize {
  const id = rep - 1;
  if (!instanceModules.has(id)) {
    store<u64>(RET, 0); // an empty list: unreachable, reps come from instantiate
    return RET;
  }
  const moduleId = instanceModules.get(id);
  const kinds: u8[] = [];
  const indices: u32[] = [];
  exportRefs(core.module_describe(moduleId), kinds, indices);
  const addrs: u32[] = [];
  for (let i = 0; i < kinds.length; i++) {
    addrs.push(<u32>core.instance_extern(id, unchecked(kinds[i]), unchecked(indices[i])));
  }
  putModuleDesc(RET, core.module_describe(moduleId), addrs);
  return RET;
}

// option<u32> (tag @0, value @4) from an address or -1.
function optionAddr(addr: i32): usize {
  store<u8>(RET, addr >= 0 ? 1 : 0);
  store<u32>(RET, addr >= 0 ? <u32>addr : 0, 4);
  return RET;
}

export function instance_start(rep: u32): usize {
  return optionAddr(core.instance_start(rep - 1));
}

export function instance_address(rep: u32, kind: u32, index: u32): usize {
  return optionAddr(core.instance_extern(rep - 1, kind, index));
}

// ── host-provided store objects ───────────────────────────────────────────────────────────────
// A list<val-type> as binary codes after a u32 count (the plain ABI's typedesc half) at `p`;
// false when a tag is out of range or names v128.
function putTypedesc(p: usize, ptr: usize, len: usize): bool {
  store<u32>(p, <u32>len);
  for (let i: usize = 0; i < len; i++) {
    const code = valTypeCode(load<u8>(ptr + i));
    if (code == 0 || code == ValType.V128) return false;
    store<u8>(p + 4 + i, code);
  }
  return true;
}

export function new_host_func(pp: usize, pl: usize, rp: usize, rl: usize): usize {
  let r: usize = 0;
  if (pl > IO_CELLS || rl > IO_CELLS) r = misuse("a host function takes at most 1024 parameters and results");
  else {
    const desc = heap.alloc(8 + pl + rl);
    if (!putTypedesc(desc, pp, pl) || !putTypedesc(desc + 4 + pl, rp, rl)) {
      r = misuse("host functions take and return i32, i64, f32, f64 and references (v128 does not fit an io cell)");
    } else {
      const addr = core.host_func_new(desc);
      r = addr < 0 ? lastErrorResult("host_func_new failed") : okU32(<u32>addr);
    }
    heap.free(desc);
  }
  freeArg(pp, pl);
  freeArg(rp, rl);
  return r;
}

export function new_global(content: u32, mutable: u32, tag: u32, wide: u64, narrow: u32): usize {
  const code = valTypeCode(content);
  if (code == ValType.V128) return misuse("v128 globals cannot be created through the ABI");
  if (!flatToCell(code, tag, wide, narrow, io)) return misuse("the initial value is not a valid " + typeName(code));
  const addr = core.global_new(code, mutable);
  return addr < 0 ? lastErrorResult("global_new failed") : okU32(<u32>addr);
}

export function new_table(element: u32, min: u32, hasMax: u32, max: u32): usize {
  const code = valTypeCode(element);
  if (code != ValType.FuncRef && code != ValType.ExternRef) return misuse("a table holds funcref or externref");
  const addr = core.table_new(code, min, hasMax != 0 ? max : NO_MAX);
  return addr < 0 ? lastErrorResult("table_new failed") : okU32(<u32>addr);
}

export function new_memory(min: u32, hasMax: u32, max: u32): usize {
  const addr = core.memory_new(min, hasMax != 0 ? max : NO_MAX);
  return addr < 0 ? lastErrorResult("memory_new failed") : okU32(<u32>addr);
}

// result<value, error>: value is 8-aligned, so the payload is at 8.
export function global_read(addr: u32): usize {
  const rec = externRecord(ExternKind.Global, addr);
  if (rec == 0) return misuse("no global " + addr.toString(), 8);
  const code = load<u8>(rec, GLOBAL_TYPE);
  if (code == ValType.V128) return misuse("global " + addr.toString() + " is a v128, which the ABI cannot carry", 8);
  core.global_read(addr);
  store<u8>(RET, 0);
  cellToValue(io, code, RET + 8);
  return RET;
}

export function global_write(addr: u32, tag: u32, wide: u64, narrow: u32): usize {
  const rec = externRecord(ExternKind.Global, addr);
  if (rec == 0) return misuse("no global " + addr.toString());
  const code = load<u8>(rec, GLOBAL_TYPE);
  if (!flatToCell(code, tag, wide, narrow, io)) return misuse("the value is not a valid " + typeName(code));
  return core.global_write(addr) < 0 ? lastErrorResult("global_write failed") : okUnit();
}

export function describe_func(addr: u32): usize {
  if (!funcLive(addr)) return misuse("no function " + addr.toString());
  store<u8>(RET, 0);
  putFuncType(RET + 4, funcType(funcRecord(addr)));
  return RET;
}

// ── running ───────────────────────────────────────────────────────────────────────────────────
// The result types of each live activation, innermost last (they nest like the VM's own).
const activations: u8[][] = [];

function setSlice(hasSlice: u32, slice: u32): bool {
  core.set_slice(hasSlice != 0 ? (slice == 0 ? 1 : slice) : DEFAULT_SLICE);
  return hasSlice != 0;
}

function popActivation(): u8[] {
  return activations.length > 0 ? activations.pop() : [];
}

// result<outcome, error>: outcome at 4 (tag), its payload at 8.
// outcome = completed(list<value>) | suspended(suspend-reason)
//         | trap({ kind: trap-kind, message @4: string }) | host-call({ func: u32, args @4: list<value> })
function settle(status: i32, bounded: bool): usize {
  while (status == STATUS_SUSPENDED && !bounded && core.suspend_reason() == SUSPEND_SLICE) status = core.resume();
  store<u8>(RET, 0);
  const o = RET + 4;
  switch (status) {
    case STATUS_COMPLETED:
      store<u8>(o, 0);
      putValues(o + 4, popActivation(), io);
      break;
    case STATUS_SUSPENDED:
      store<u8>(o, 1);
      store<u8>(o + 4, core.suspend_reason() == SUSPEND_SLICE ? 0 : 1); // enum suspend-reason
      break;
    case STATUS_TRAP: {
      popActivation();
      const code = core.trap_code();
      if (code == 0 || code > TRAP_KINDS) return misuse("the VM stopped with trap code " + code.toString());
      store<u8>(o, 2);
      store<u8>(o + 4, <u8>(code - 1)); // enum trap-kind
      putString(o + 8, trapMessage(code));
      break;
    }
    case STATUS_HOST_CALL: {
      const callee = <u32>core.host_call_func();
      store<u8>(o, 3);
      store<u32>(o + 4, callee);
      putValues(o + 8, funcType(funcRecord(callee)).params, io);
      break;
    }
    case STATUS_PROBE:
      if (!putProbeEvent(o + 4)) return misuse("the VM stopped with a probe event the interface cannot carry");
      store<u8>(o, 4);
      break;
    default:
      return misuse("the VM returned status " + status.toString());
  }
  return RET;
}

export function call(func: u32, ptr: usize, len: usize, hasSlice: u32, slice: u32): usize {
  let r: usize = 0;
  if (!funcLive(func)) r = misuse("no function " + func.toString());
  else {
    const t = funcType(funcRecord(func));
    if (!cellTypes(t.params) || !cellTypes(t.results) || <usize>t.params.length > IO_CELLS || <usize>t.results.length > IO_CELLS) {
      r = misuse("function " + func.toString() + " takes or returns v128 or more than 1024 values, which the ABI cannot carry");
    } else {
      const check = valuesToCells(ptr, len, t.params, io);
      if (check != VALUES_OK) r = misuse(valuesProblem(check, len, t.params, "arguments of function " + func.toString()));
      else {
        activations.push(t.results);
        const bounded = setSlice(hasSlice, slice);
        r = settle(core.invoke(func), bounded);
      }
    }
  }
  freeArg(ptr, len);
  return r;
}

export function resume(ptr: usize, len: usize, hasSlice: u32, slice: u32): usize {
  let r: usize = 0;
  if (activations.length == 0) r = misuse("nothing to resume");
  else {
    const callee = core.host_call_func();
    let problem = "";
    if (callee >= 0) {
      const results = funcType(funcRecord(<u32>callee)).results;
      const check = valuesToCells(ptr, len, results, io);
      if (check != VALUES_OK) problem = valuesProblem(check, len, results, "results of host function " + callee.toString());
    } else if (len != 0) {
      problem = "a suspended activation takes no results";
    }
    if (problem.length > 0) r = misuse(problem);
    else {
      const bounded = setSlice(hasSlice, slice);
      r = settle(core.resume(), bounded);
    }
  }
  freeArg(ptr, len);
  return r;
}

// probe-event = { kind @0: probe-kind, func @4, offset @8, operands @12: probe-operands }, where
// probe-operands = tag @0, payload @4: memory-access { base, static-offset @4, size @8, store @9 }
// | branch-outcome { instruction, taken @1 } | br-table(u32) | call(u32) | indirect-call(option<u32>).
function putProbeEvent(e: usize): bool {
  core.probe_event();
  const kind = <u32>load<u64>(io);
  const a = load<u64>(io, 24);
  const b = <u32>load<u64>(io, 32);
  // enum probe-kind: the events less the full trace buffer (the component sets no recording).
  if (kind < EVENT_INSTR || kind > EVENT_CALL) return false;
  store<u8>(e, <u8>(kind - EVENT_INSTR));
  store<u32>(e + 4, <u32>load<u64>(io, 8));
  store<u32>(e + 8, <u32>load<u64>(io, 16));
  const p = e + 12;
  store<u8>(p, 0);
  if (kind == EVENT_MEMORY) {
    store<u8>(p, 1);
    store<u32>(p + 4, <u32>a);
    store<u32>(p + 8, <u32>(a >>> 32));
    store<u8>(p + 12, <u8>(b & 0xff));
    store<u8>(p + 13, <u8>((b >>> 8) & 1));
  } else if (kind == EVENT_BRANCH && b == 0x0e) {
    store<u8>(p, 3);
    store<u32>(p + 4, <u32>a);
  } else if (kind == EVENT_BRANCH) {
    store<u8>(p, 2);
    store<u8>(p + 4, b == 0x04 ? 0 : 1);
    store<u8>(p + 5, a != 0 ? 1 : 0);
  } else if (kind == EVENT_CALL && b == 0) {
    store<u8>(p, 4);
    store<u32>(p + 4, <u32>a);
  } else if (kind == EVENT_CALL) {
    store<u8>(p, 5);
    store<u8>(p + 4, a != NO_TARGET ? 1 : 0);
    store<u32>(p + 8, a != NO_TARGET ? <u32>a : 0);
  }
  return true;
}

// kinds: flags probe-kinds (WIT_PROBE_FLAGS in bit order); sites: list<probe-site> of
// { func, offset @4 }.
export function set_probes(flags: u32, ptr: usize, len: usize): usize {
  let kinds: u32 = 0;
  for (let i = 0; i < WIT_PROBE_FLAGS.length; i++) if ((flags & (1 << i)) != 0) kinds |= unchecked(WIT_PROBE_FLAGS[i]);
  if (len > 0) kinds |= PROBE_SITE;
  let r: usize = 0;
  if (core.set_probes(kinds, 0, 0) < 0) r = lastErrorResult("set_probes failed");
  for (let i: usize = 0; r == 0 && i < len; i++) {
    if (core.probe_site(load<u32>(ptr + (i << 3)), load<u32>(ptr + (i << 3), 4)) < 0) r = lastErrorResult("probe_site failed");
  }
  freeArg(ptr, len);
  return r == 0 ? okUnit() : r;
}

export function abort(): void {
  if (activations.length == 0) return;
  activations.pop();
  core.abort_activation();
}

export function set_metering(on: u32): usize {
  return core.set_metering(on) < 0 ? lastErrorResult("set_metering failed") : okUnit();
}

export function set_intrinsics(classes: u32): usize {
  if ((classes & 4) != 0) {
    return misuse("the memory class is not available in the component: a trap in an intrinsic would end the instance");
  }
  return core.set_intrinsics(classes) < 0 ? lastErrorResult("set_intrinsics failed") : okUnit();
}

export function fuel(): u64 {
  core.fuel_get();
  return load<u64>(io);
}

export function set_fuel(value: u64): void {
  store<u64>(io, value);
  core.fuel_set();
}

// ── guest memory ──────────────────────────────────────────────────────────────────────────────
// The base of memory `addr` in this module's memory and its byte length, or -1.
function region(addr: u32): i64 {
  const base = core.memory_region(addr);
  return base < 0 ? -1 : <i64><u32>base;
}

function outOfBounds(offset: u32, len: usize): bool {
  return <u64>offset + <u64>len > load<u64>(io);
}

export function memory_read(addr: u32, offset: u32, len: u32): usize {
  const base = region(addr);
  if (base < 0) return misuse("no memory " + addr.toString());
  if (outOfBounds(offset, len)) return misuse("read past the end of memory " + addr.toString());
  store<u8>(RET, 0);
  putBytes(RET + 4, <usize>base + offset, len);
  return RET;
}

export function memory_write(addr: u32, offset: u32, ptr: usize, len: usize): usize {
  const base = region(addr);
  let r: usize;
  if (base < 0) r = misuse("no memory " + addr.toString());
  else if (outOfBounds(offset, len)) r = misuse("write past the end of memory " + addr.toString());
  else {
    memory.copy(<usize>base + offset, ptr, len);
    r = okUnit();
  }
  freeArg(ptr, len);
  return r;
}

export function memory_size(addr: u32): usize {
  const base = region(addr);
  if (base < 0) return misuse("no memory " + addr.toString());
  return okU32(<u32>load<u64>(io));
}
