// The VM core module's exports: exactly the boundary described in ABI.md. Each export checks its
// arguments (ids, addresses, host pointers) before touching anything, so the host's mistakes come
// back as failure values, never as a trap out of the VM.

import { ErrorKind, clearError, fail, lastError } from "./binary/error";
import { ExternKind, FuncType, Module, ValType } from "./binary/module";
import { decodeModule } from "./binary/decode";
import { validateModule } from "./valid/validate";
import {
  describeCounters, describeProbes, describeTrace, describeFuncType, describeMessage, describeModule, describeSnapshot, noResult, resultLength,
} from "./describe";
import { Instance, instanceOf } from "./runtime/instance";
import { dropHostObject, dropInstance, moduleDroppable } from "./runtime/drop";
import { FORMAT_VERSION, parseSnapshot, restoreSnapshot, snapshotLength, takeSnapshot } from "./snapshot/codec";
import { completeHostCall } from "./exec/run";
import * as describeState from "./describe";
import { counts as profileCounts, pairs as profilePairs, sites as profileSites } from "./exec/profile";
import { IR_COUNT } from "./ir/ops";
import { instantiate } from "./runtime/instantiate";
import { externAddress, externRecord } from "./runtime/link";
import {
  FUNC_ADDR, FUNC_CODE, FUNC_HOST, GLOBAL_TYPE, GLOBAL_VALUE, MEM_BASE, MEM_BYTES, MEM_PAGES, NO_INSTANCE, NO_MAX, funcLive, funcRecord, liveMemories, placedAddress,
  funcType, globals, growMemory, memories, newFunc, newGlobal, newMemory, newTable, normalise, tables,
} from "./runtime/store";
import { compileFunction, compiledFunctions, meteringEnabled, setMetering } from "./compile/compiler";
import { monitoringEnabled, setMonitoring } from "./probe/counters";
import * as probes from "./probe/probes";
import { pageLimit, setStoreLimits, tableLimit } from "./runtime/store";
import * as runState from "./exec/state";
import {
  STATUS_TRAP, abort, hostCallee, hostFault as runHostFault, invoke as runInvoke, resume as runResume, setSlice, trapCode,
  trapMessage,
} from "./exec/run";
import { intrinsicClasses, setIntrinsicClasses } from "./runtime/hosted";
import { builtinMemory, newBuiltinFunc } from "./runtime/builtins";

// ── buffers ───────────────────────────────────────────────────────────────────────────────────
const IO_CELLS: usize = 1024;
const ioBuffer: usize = heap.alloc(IO_CELLS << 3);

// The allocator's largest block (TLSF's BLOCK_MAXSIZE, less headroom); larger requests would trap.
const MAX_ALLOC: usize = (1 << 30) - 64;

// Modules by id; a dropped module's slot is null and its id is handed out again. A module stays
// while it has instances: they, their data segments and compiled code point into it.
const modules: Array<Module | null> = [];
const freeModuleIds: i32[] = [];

function moduleOf(id: u32): Module | null {
  return id < <u32>modules.length ? unchecked(modules[id]) : null;
}

export function io_buffer(): usize {
  return ioBuffer;
}

// 0 when the request cannot be met.
export function alloc(size: usize): usize {
  if (size > MAX_ALLOC) return 0;
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

export function result_length(): u32 {
  return resultLength;
}

// Whether [ptr, ptr + len) lies inside the VM's memory: a host pointer is checked before it is
// read, because a load out of bounds would trap out of the export.
function inMemory(ptr: usize, len: usize): bool {
  return <u64>ptr + <u64>len <= (<u64>memory.size() << 16);
}

// A host error (a bad id, address or argument). The ABI has no kind for it; Limit is the nearest
// ("this VM cannot do that") and the message names the problem.
function misuse(message: string): void {
  fail(ErrorKind.Limit, message, 0);
}

// ── errors ────────────────────────────────────────────────────────────────────────────────────
// The message of the last status 1, for error_message when no error was recorded.
let trapText: string = "";
let lastTrapCode: u32 = 0;

export function error_kind(): u32 {
  return lastError.kind;
}

export function error_offset(): u32 {
  return lastError.offset;
}

export function error_message(): usize {
  return describeMessage(lastError.kind != ErrorKind.None ? lastError.message : trapText);
}

// ── modules ───────────────────────────────────────────────────────────────────────────────────
export function module_new(ptr: usize, len: u32): i32 {
  clearError();
  if (!inMemory(ptr, len)) {
    misuse("module bytes outside the VM's memory");
    return -1;
  }
  const m = decodeModule(ptr, len);
  let ok = m !== null;
  if (!ok) fail(ErrorKind.Malformed, "malformed module", 0); // in case the decoder said nothing
  if (ok) {
    ok = validateModule(m!);
    if (!ok) fail(ErrorKind.Invalid, "invalid module", 0);
  }
  if (!ok) {
    // The block was handed over to the VM, and no module keeps it.
    heap.free(ptr);
    return -1;
  }
  if (freeModuleIds.length > 0) {
    const id = freeModuleIds.pop();
    unchecked((modules[id] = m));
    return id;
  }
  modules.push(m);
  return modules.length - 1;
}

export function module_describe(id: u32): usize {
  clearError();
  if (moduleOf(id) === null) {
    misuse("no module " + id.toString());
    return noResult();
  }
  return describeModule(moduleOf(id)!);
}

// ── host-provided store objects ───────────────────────────────────────────────────────────────
function isNumOrRef(t: u32): bool {
  switch (t) {
    case ValType.I32: case ValType.I64: case ValType.F32: case ValType.F64:
    case ValType.FuncRef: case ValType.ExternRef:
      return true;
  }
  return false;
}

function isRef(t: u32): bool {
  return t == ValType.FuncRef || t == ValType.ExternRef;
}

// A funcref the host hands in must name an existing function: the dispatch loop trusts it.
function validRef(t: u32, bits: u64): bool {
  return t != ValType.FuncRef || bits == 0 || (bits >> 32 == 0 && funcLive(<u32>bits - 1));
}

// Reads `n` value types from the host's typedesc into `out`; false if any is not usable here.
// (v128 is not: an io cell holds 8 bytes.)
function readValTypes(p: usize, n: u32, out: u8[]): bool {
  for (let i: u32 = 0; i < n; i++) {
    const t = <u32>load<u8>(p + i);
    if (!isNumOrRef(t)) return false;
    out.push(<u8>t);
  }
  return true;
}

export function host_func_new(ptr: usize): i32 {
  clearError();
  const t = new FuncType();
  let p = ptr;
  let ok = inMemory(p, 4);
  const np = ok ? load<u32>(p) : 0;
  p += 4;
  ok = ok && np <= <u32>IO_CELLS && inMemory(p, <usize>np + 4) && readValTypes(p, np, t.params);
  p += np;
  const nr = ok ? load<u32>(p) : 0;
  p += 4;
  ok = ok && nr <= <u32>IO_CELLS && inMemory(p, nr) && readValTypes(p, nr, t.results);
  if (!ok) {
    misuse("bad function type descriptor");
    return -1;
  }
  return <i32>load<u32>(newFunc(t, FUNC_HOST, NO_INSTANCE, 0), FUNC_ADDR);
}

export function global_new(valtype: u32, mutable: u32): i32 {
  clearError();
  const bits = normalise(<u8>valtype, load<u64>(ioBuffer));
  if (!isNumOrRef(valtype) || !validRef(valtype, bits)) {
    misuse("bad global type or value");
    return -1;
  }
  newGlobal(<u8>valtype, mutable != 0, bits);
  return placedAddress;
}

export function table_new(elemtype: u32, min: u32, max: u32): i32 {
  clearError();
  if (!isRef(elemtype) || (max != NO_MAX && max < min)) {
    misuse("bad table type");
    return -1;
  }
  if (newTable(<u8>elemtype, min, max) == 0) {
    fail(ErrorKind.Limit, "table size exceeds the VM's limit", 0);
    return -1;
  }
  return placedAddress;
}

const MAX_MEMORY_PAGES: u32 = 65536; // the spec's limit for a 32-bit memory

// Right after the host made or grew a large memory the heap has no room left, and the next
// allocation would have the allocator double the VM's memory, which takes milliseconds once it is
// large: for a migration's destination that is the restore at the final step, its downtime.
// Making room here moves that to the rounds before it: the machine's stacks (made on first use,
// 16 MiB), and a block of HEADROOM for what a restore needs besides (the snapshot, the instance's
// records, the frames' compiled code) for ordinary guests. Small memories are left alone: growing
// a small VM memory is cheap, and hosts rely on small memories lying one after the other.
const HEADROOM: usize = 1 << 20;
const HEADROOM_FROM_PAGES: u32 = 256;
function keepHeadroom(rec: usize): void {
  if (load<u32>(rec, MEM_PAGES) < HEADROOM_FROM_PAGES || load<usize>(rec, MEM_BASE) == 0) return;
  // Never near the edge of the address space, where the allocator would trap rather than fail.
  if (memory.size() >= 65536 - 512) return;
  runState.ensureStacks();
  heap.free(heap.alloc(HEADROOM));
}

export function memory_new(min: u32, max: u32): i32 {
  clearError();
  if (min > MAX_MEMORY_PAGES || (max != NO_MAX && (max < min || max > MAX_MEMORY_PAGES))) {
    misuse("bad memory type");
    return -1;
  }
  const rec = newMemory(min, max);
  if (rec == 0) {
    fail(ErrorKind.Limit, "memory size exceeds the VM's limit", 0);
    return -1;
  }
  const addr = placedAddress;
  keepHeadroom(rec);
  return addr;
}

export function global_read(addr: u32): i32 {
  clearError();
  const rec = externRecord(ExternKind.Global, addr);
  if (rec == 0) {
    misuse("no global " + addr.toString());
    return -1;
  }
  store<u64>(ioBuffer, load<u64>(rec, GLOBAL_VALUE));
  return 0;
}

// Where memory `addr`'s contents are now (they move when it grows): the address in the VM's
// memory, and the byte length in io cell 0. Hosts read and write guest memory through it (WASI).
export function memory_region(addr: u32): i32 {
  clearError();
  const rec = externRecord(ExternKind.Memory, addr);
  if (rec == 0) {
    misuse("no memory " + addr.toString());
    return -1;
  }
  store<u64>(ioBuffer, <u64>load<u32>(rec, MEM_BYTES));
  return <i32>load<usize>(rec, MEM_BASE);
}

// memory.grow from the host, on any memory of the store (a migration's destination grows the
// memory it prepares as the guest grows at the source): the old size in pages, or -1 when the
// memory's maximum or the store's limit does not allow it (error set).
export function memory_grow(addr: u32, delta: u32): i32 {
  clearError();
  const rec = externRecord(ExternKind.Memory, addr);
  if (rec == 0) {
    misuse("no memory " + addr.toString());
    return -1;
  }
  const old = growMemory(rec, delta);
  if (old < 0) fail(ErrorKind.Limit, "cannot grow memory " + addr.toString() + " by " + delta.toString() + " pages", 0);
  else if (delta > 0) keepHeadroom(rec);
  return old;
}

// The host may write any global, mutable or not (it initialises its own).
export function global_write(addr: u32): i32 {
  clearError();
  const rec = externRecord(ExternKind.Global, addr);
  if (rec == 0) {
    misuse("no global " + addr.toString());
    return -1;
  }
  const t = <u32>load<u8>(rec, GLOBAL_TYPE);
  const bits = normalise(<u8>t, load<u64>(ioBuffer));
  if (!validRef(t, bits)) {
    misuse("bad function reference");
    return -1;
  }
  store<u64>(rec, bits, GLOBAL_VALUE);
  return 0;
}

// ── instances ─────────────────────────────────────────────────────────────────────────────────
export function instance_new(moduleId: u32, importsPtr: usize): i32 {
  clearError();
  const m = moduleOf(moduleId);
  if (m === null) {
    misuse("no module " + moduleId.toString());
    return -1;
  }
  if (!inMemory(importsPtr, <usize>m.imports.length << 2)) {
    misuse("import list outside the VM's memory");
    return -1;
  }
  const inst = instantiate(m, importsPtr);
  return inst === null ? -1 : <i32>inst.id;
}

// The live instance `id` the host names, or null with the error set.
function instanceArg(id: u32): Instance | null {
  const inst = instanceOf(id);
  if (inst === null) misuse("no instance " + id.toString());
  return inst;
}

// Drops instance `id` (runtime/drop.ts): 0, or -1 when something still reaches it.
export function instance_drop(id: u32): i32 {
  clearError();
  const inst = instanceArg(id);
  return inst !== null && dropInstance(inst) ? 0 : -1;
}

// Drops module `id` and frees its bytes: 0, or -1 while it has instances.
export function module_drop(id: u32): i32 {
  clearError();
  const m = moduleOf(id);
  if (m === null) {
    misuse("no module " + id.toString());
    return -1;
  }
  if (!moduleDroppable(m, id)) return -1;
  heap.free(m.bytes);
  unchecked((modules[id] = null));
  freeModuleIds.push(id);
  return 0;
}

// Drops a store object the host made (host_func_new, table_new, memory_new, global_new): 0, or
// -1 when it is an instance's, or still in use.
export function extern_drop(kind: u32, addr: u32): i32 {
  clearError();
  const rec = externRecord(kind, addr);
  if (rec == 0) {
    misuse("no such extern");
    return -1;
  }
  return dropHostObject(kind, addr, rec) ? 0 : -1;
}

export function instance_start(id: u32): i32 {
  clearError();
  const inst = instanceArg(id);
  if (inst === null) return -1;
  const start = inst.module.start;
  if (start < 0) return -1;
  return <i32>load<u32>(unchecked(inst.funcs[start]), FUNC_ADDR);
}

export function instance_extern(id: u32, kind: u32, index: u32): i32 {
  clearError();
  const inst = instanceOf(id);
  const addr = inst !== null ? externAddress(inst, kind, index) : -1;
  if (addr < 0) misuse("no such extern");
  return addr;
}

export function func_describe(addr: u32): usize {
  clearError();
  const rec = externRecord(ExternKind.Func, addr);
  if (rec == 0) {
    misuse("no function " + addr.toString());
    return noResult();
  }
  return describeFuncType(funcType(rec));
}

// ── running ───────────────────────────────────────────────────────────────────────────────────
// Status 1 leaves its message where error_message finds it.
function settle(status: i32): i32 {
  if (status == STATUS_TRAP) {
    lastTrapCode = trapCode;
    trapText = trapMessage(trapCode);
  }
  return status;
}

export function invoke(funcaddr: u32): i32 {
  clearError();
  lastTrapCode = 0;
  trapText = "";
  if (!funcLive(funcaddr)) {
    trapText = "unknown function address " + funcaddr.toString();
    return STATUS_TRAP;
  }
  return settle(runInvoke(funcRecord(funcaddr), ioBuffer));
}

export function resume(): i32 {
  clearError();
  lastTrapCode = 0;
  trapText = "";
  return settle(runResume(ioBuffer));
}

export function set_slice(n: u32): void {
  setSlice(n);
}

export function trap_code(): u32 {
  return lastTrapCode;
}

export function host_call_func(): i32 {
  return hostCallee == 0 ? -1 : <i32>load<u32>(hostCallee, FUNC_ADDR);
}

// Abandons the innermost activation instead of resuming it: a host function ended the guest's run
// (WASI proc_exit). Its frames are discarded and the store stays usable; nothing pending is a no-op.
export function abort_activation(): void {
  abort();
}

// ── metering ─────────────────────────────────────────────────────────────────────────────
// Metered code counts every executed bytecode instruction against a fuel budget. Whether code is
// metered is decided when it is compiled, so metering is switched on before anything runs.

export function set_metering(on: u32): i32 {
  clearError();
  if (compiledFunctions > 0 && (on != 0) != meteringEnabled) {
    misuse("metering must be chosen before any function runs");
    return -1;
  }
  setMetering(on != 0);
  return 0;
}

// ── intrinsic classes ───────────────────────────────────────────────────────────────────
// Which operations go to the host's intrinsics (runtime/hosted.ts): bit 1 bulk, 2 float, 4
// memory. Like metering, decided when code is compiled and memories are made: set before.
export function set_intrinsics(mask: u32): i32 {
  clearError();
  if ((compiledFunctions > 0 || liveMemories > 0) && mask != intrinsicClasses) {
    misuse("intrinsic classes must be chosen before any memory is made or function runs");
    return -1;
  }
  setIntrinsicClasses(mask);
  return 0;
}

export function get_intrinsics(): u32 {
  return intrinsicClasses;
}

// A host function served by this VM itself: intrinsic `id` (the order of
// host-intrinsics/intrinsics/names.ts), for a VM running inside this one. Its address, or -1.
export function builtin_func_new(id: u32): i32 {
  clearError();
  const rec = newBuiltinFunc(id);
  if (rec == 0) {
    misuse("no intrinsic " + id.toString());
    return -1;
  }
  return <i32>load<u32>(rec, FUNC_ADDR);
}

// The store address of the builtin memory (a VM inside this one keeps its host-owned guest memory
// there), made on first use.
export function builtin_memory(): i32 {
  clearError();
  return memories.indexOf(builtinMemory());
}

// The host calls this when invoke or resume threw a trap out of the VM: STATUS_TRAP if it was
// the guest's out-of-bounds access to host-owned memory (trap_code and the message as for any
// trap), else -1 and the VM must not be entered again.
export function host_fault(): i32 {
  clearError();
  lastTrapCode = 0;
  trapText = "";
  if (!runHostFault()) {
    misuse("the VM stopped in a host trap outside a host-owned memory access");
    return -1;
  }
  return settle(STATUS_TRAP);
}

// Fuel left, as a u64 in io cell 0 (read by fuel_get, written by fuel_set).
export function fuel_set(): void {
  probes.setFuel(load<u64>(ioBuffer));
}

export function fuel_get(): void {
  store<u64>(ioBuffer, runState.fuelLeft);
}

// After STATUS_SUSPENDED: SUSPEND_SLICE (resume at will) or SUSPEND_FUEL (add fuel, then resume).
export function suspend_reason(): u32 {
  return runState.suspendReason;
}

// ── snapshots (snapshot/FORMAT.md) ────────────────────────────────────────────────────────

// Snapshot of instance `id`, whose activation (if any) is suspended; `host` is opaque host state
// stored inside (WASI's). Flags: 1 embed the module, 2 leave memory contents out (sizes only).
// Pointer to the bytes (result_length), or 0.
export function snapshot_take(id: u32, host: usize, hostLen: u32, flags: u32): usize {
  clearError();
  const inst = instanceOf(id);
  if (inst === null || (hostLen > 0 && !inMemory(host, hostLen))) {
    misuse("bad instance or host state");
    return noResult();
  }
  const p = takeSnapshot(inst, host, hostLen, flags);
  if (p == 0) return noResult();
  describeState.resultLength = snapshotLength;
  return p;
}

// What the snapshot at [ptr, ptr + len) holds (see describeSnapshot), after checking it whole.
export function snapshot_info(ptr: usize, len: u32): usize {
  clearError();
  if (!inMemory(ptr, len)) {
    misuse("bad snapshot pointer");
    return noResult();
  }
  const s = parseSnapshot(ptr, len);
  if (s === null) return noResult();
  return describeSnapshot(s, FORMAT_VERSION);
}

// A new instance of module `moduleId` in the state of the snapshot, its activation suspended:
// the host then calls resume(). Imports as for instance_new. Instance id, or -1.
export function snapshot_restore(ptr: usize, len: u32, moduleId: u32, importsPtr: usize): i32 {
  clearError();
  const m = moduleOf(moduleId);
  if (!inMemory(ptr, len) || m === null) {
    misuse("bad snapshot pointer or module id");
    return -1;
  }
  const s = parseSnapshot(ptr, len);
  if (s === null) return -1;
  const inst = restoreSnapshot(s, m, importsPtr, ioBuffer);
  return inst === null ? -1 : <i32>inst.id;
}

// snapshot_restore, with the instance's defined memories taken from the store rather than made:
// `memoriesPtr` holds `count` u32 memory addresses, one per memory the module defines, in order
// (see codec.ts restoreSnapshot for what is checked).
export function snapshot_restore_into(ptr: usize, len: u32, moduleId: u32, importsPtr: usize, memoriesPtr: usize, count: u32): i32 {
  clearError();
  const m = moduleOf(moduleId);
  if (!inMemory(ptr, len) || m === null) {
    misuse("bad snapshot pointer or module id");
    return -1;
  }
  const n = m.memories.length;
  if (count != <u32>n) {
    misuse("the module defines " + n.toString() + " memor" + (n == 1 ? "y" : "ies") + ", " + count.toString() + " given to adopt");
    return -1;
  }
  if (!inMemory(memoriesPtr, <usize>n << 2)) {
    misuse("memory list outside the VM's memory");
    return -1;
  }
  const adopted: usize[] = [];
  for (let i = 0; i < n; i++) {
    const addr = load<u32>(memoriesPtr + (<usize>i << 2));
    const rec = externRecord(ExternKind.Memory, addr);
    if (rec == 0) {
      misuse("no memory " + addr.toString());
      return -1;
    }
    if (adopted.includes(rec)) {
      misuse("memory " + addr.toString() + " given twice");
      return -1;
    }
    adopted.push(rec);
  }
  const s = parseSnapshot(ptr, len);
  if (s === null) return -1;
  const inst = restoreSnapshot(s, m, importsPtr, ioBuffer, adopted);
  return inst === null ? -1 : <i32>inst.id;
}

// ── profiling builds only (scripts/build-vm.mjs --profile) ───────────────────────────────
// Address of the op counts (u64 per IR op), the op-pair counts, then the instruction sites
// (a u64 count, then u64 pairs: pc, executions); 0 in normal builds.
export function profile_data(): usize {
  if (!isDefined(HANDOVER_PROFILE)) return 0;
  const keys = profileSites.keys();
  const head = <usize>(IR_COUNT + IR_COUNT * IR_COUNT) << 3;
  const p = heap.alloc(head + 8 + (<usize>keys.length << 4));
  memory.copy(p, changetype<usize>(profileCounts), <usize>IR_COUNT << 3);
  memory.copy(p + (<usize>IR_COUNT << 3), changetype<usize>(profilePairs), <usize>(IR_COUNT * IR_COUNT) << 3);
  // Then the instruction sites: a count, and (pc, executions) per site.
  store<u64>(p + head, <u64>keys.length);
  for (let i = 0; i < keys.length; i++) {
    const at = unchecked(keys[i]);
    store<u64>(p + head + 8 + (<usize>i << 4), <u64>at);
    store<u64>(p + head + 16 + (<usize>i << 4), profileSites.get(at));
  }
  return p;
}

// ── limits ───────────────────────────────────────────────────────────────────────────────
// Lowers the store's limits (0 keeps one as it is): pages per memory, elements per table,
// call depth. Growing past a limit fails as the spec allows (memory.grow and table.grow return
// -1), instantiating a module that needs more is an error of kind limit, and a call past the
// depth is the trap "call stack exhausted". Limits apply from the next operation on.
export function set_limits(pages: u32, tableElems: u32, callDepth: u32): void {
  setStoreLimits(pages == 0 ? pageLimit : pages, tableElems == 0 ? tableLimit : tableElems);
  if (callDepth != 0) runState.setCallDepthLimit(callDepth);
}

// ── monitors (probe/counters.ts) ─────────────────────────────────────────────────────────
// Monitored code counts each segment's executions (and is metered). Chosen before any function
// runs, like metering.
export function set_monitoring(on: u32): i32 {
  clearError();
  if (compiledFunctions > 0 && (on != 0) != monitoringEnabled) {
    misuse("monitoring must be chosen before any function runs");
    return -1;
  }
  setMonitoring(on != 0);
  return 0;
}

// The counters of every defined function of instance `id` (compiling those not yet run, so
// coverage sees all of them): see describeCounters. Pointer (result_length), or 0.
export function monitor_dump(id: u32): usize {
  clearError();
  const inst = instanceOf(id);
  if (inst === null || !monitoringEnabled) {
    misuse(monitoringEnabled ? "no instance " + id.toString() : "monitoring is off");
    return noResult();
  }
  for (let i = <i32>inst.module.numImportedFuncs; i < inst.funcs.length; i++) {
    const rec = unchecked(inst.funcs[i]);
    if (load<usize>(rec, FUNC_CODE) == 0) compileFunction(rec);
  }
  return describeCounters(inst);
}

// After status 2 (or a restore that left a host call pending): takes the host function's results
// from the io cells and leaves the guest suspended right after the call, without running it, so
// it can be snapshotted there; resume() then continues. -1 if no host call is pending.
export function complete_host_call(): i32 {
  clearError();
  if (!completeHostCall(ioBuffer)) {
    misuse("no host call is pending");
    return -1;
  }
  return 0;
}

// ── probes (probe/probes.ts) ─────────────────────────────────────────────────────────────
// Probes are a compile mode: chosen before any function runs, like metering. `kinds` are the
// callback probes (PROBE_* bits), `records` the in-VM recordings (RECORD_* bits), `traceRecords`
// the trace buffer's capacity in records (0: the default, 65536).
export function set_probes(kinds: u32, records: u32, traceRecords: u32): i32 {
  clearError();
  if ((kinds & ~probes.PROBE_ALL) != 0 || (records & ~probes.RECORD_ALL) != 0) {
    misuse("unknown probe kind");
    return -1;
  }
  if (compiledFunctions > 0 && (kinds != probes.probeKinds || records != probes.recordKinds)) {
    misuse("probes must be set before any function runs");
    return -1;
  }
  if (traceRecords > probes.MAX_TRACE_RECORDS) {
    misuse("trace buffer too large");
    return -1;
  }
  probes.setProbes(kinds, records);
  if ((records & probes.RECORD_MEMORY) != 0) {
    probes.setTraceCapacity(traceRecords == 0 ? probes.DEFAULT_TRACE_RECORDS : traceRecords);
  }
  return 0;
}

// A site probe before the instruction at bytecode offset `offset` of function `func` (an index
// in its module); sites apply to functions compiled afterwards, so they are added before any
// function runs.
export function probe_site(func: u32, offset: u32): i32 {
  clearError();
  if (compiledFunctions > 0) {
    misuse("probe sites must be added before any function runs");
    return -1;
  }
  probes.sites.add((<u64>func << 32) | <u64>offset);
  return 0;
}

// After STATUS_PROBE: the event, in io cells 0..4 — kind (EVENT_*), function index, bytecode offset, then two operands:
// memory (base | static offset << 32, size | store << 8), branch (taken or br_table index, the
// wasm opcode), call (target function index or 0xffffffff, 1 if indirect).
export function probe_event(): void {
  store<u64>(ioBuffer, <u64>probes.eventKind);
  store<u64>(ioBuffer, <u64>probes.eventFunc, 8);
  store<u64>(ioBuffer, <u64>probes.eventAt, 16);
  store<u64>(ioBuffer, probes.eventA, 24);
  store<u64>(ioBuffer, <u64>probes.eventB, 32);
}

// The memory trace's records since the last call (8 bytes each: u32 address, u8 size, u8 flags
// bit 0 store, u16 0), and empties the buffer. Pointer (result_length), or 0 when it is off.
export function trace_take(): usize {
  clearError();
  if ((probes.recordKinds & probes.RECORD_MEMORY) == 0) {
    misuse("the memory trace is off");
    return noResult();
  }
  const p = describeTrace();
  probes.traceClear();
  return p;
}

// Inclusive instructions per function and the indirect call targets of instance `id` (see
// describeProbes). Pointer (result_length), or 0.
export function probe_dump(id: u32): usize {
  clearError();
  const inst = instanceArg(id);
  if (inst === null) return noResult();
  return describeProbes(inst);
}
