// The ABI's result blobs (see ABI.md "Modules"): module descriptions, type descriptors and
// messages, written into one reused unmanaged block that the host reads before its next call.

import { ExternKind, FuncType, GlobalType, Limits, Module, TableType } from "./binary/module";
import { NO_MAX } from "./runtime/store";
import { Parsed } from "./snapshot/codec";
import { countersOf } from "./probe/counters";
import { indirect, inclusiveOf, traceBase, traceHeld, TRACE_RECORD } from "./probe/probes";
import { Instance } from "./runtime/instance";
import { FUNC_ADDR } from "./runtime/store";

// Allocated up front: heap.realloc needs an existing block.
let capacity: usize = 256;
let base: usize = heap.alloc(capacity);
let used: usize = 0;

// Byte length of the blob last returned (ABI `result_length`).
export let resultLength: u32 = 0;

function reserve(n: usize): usize {
  if (used + n > capacity) {
    let cap = capacity;
    while (cap < used + n) cap <<= 1;
    base = heap.realloc(base, cap);
    capacity = cap;
  }
  const p = base + used;
  used += n;
  return p;
}

function begin(): void {
  used = 0;
}

function finish(): usize {
  resultLength = <u32>used;
  return base;
}

function putU8(v: u32): void {
  store<u8>(reserve(1), <u8>v);
}

function putU32(v: u32): void {
  store<u32>(reserve(4), v);
}

// Raw UTF-8, without a length prefix.
function putUtf8(s: string): void {
  const n = <usize>String.UTF8.byteLength(s);
  const p = reserve(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
}

// `str`: u32 byte length, then the UTF-8 bytes.
function putStr(s: string): void {
  putU32(<u32>String.UTF8.byteLength(s));
  putUtf8(s);
}

function putFuncType(t: FuncType): void {
  putU32(<u32>t.params.length);
  for (let i = 0; i < t.params.length; i++) putU8(unchecked(t.params[i]));
  putU32(<u32>t.results.length);
  for (let i = 0; i < t.results.length; i++) putU8(unchecked(t.results[i]));
}

function putLimits(l: Limits): void {
  putU32(l.min);
  putU32(l.hasMax ? l.max : NO_MAX);
}

function putTableType(t: TableType): void {
  putU8(t.elemType);
  putLimits(t.limits);
}

function putGlobalType(g: GlobalType): void {
  putU8(g.valType);
  putU8(g.mutable ? 1 : 0);
}

// A failed describe call: pointer 0, length 0.
export function noResult(): usize {
  resultLength = 0;
  return 0;
}

// The message as a blob: UTF-8 bytes, no prefix.
export function describeMessage(message: string): usize {
  begin();
  putUtf8(message);
  return finish();
}

export function describeFuncType(t: FuncType): usize {
  begin();
  putFuncType(t);
  return finish();
}

// Imports then exports, each with its type. The module is validated, so every index is in range.
export function describeModule(m: Module): usize {
  begin();
  const imports = m.imports;
  putU32(<u32>imports.length);
  for (let i = 0; i < imports.length; i++) {
    const imp = unchecked(imports[i]);
    putStr(imp.module);
    putStr(imp.name);
    putU8(imp.kind);
    switch (<u32>imp.kind) {
      case ExternKind.Func: putFuncType(unchecked(m.types[imp.typeIndex])); break;
      case ExternKind.Table: putTableType(imp.table!); break;
      case ExternKind.Memory: putLimits(imp.memory!); break;
      case ExternKind.Global: putGlobalType(imp.global!); break;
    }
  }
  const exports = m.exports;
  putU32(<u32>exports.length);
  for (let i = 0; i < exports.length; i++) {
    const exp = unchecked(exports[i]);
    const index = exp.index;
    putStr(exp.name);
    putU8(exp.kind);
    putU32(index);
    switch (<u32>exp.kind) {
      case ExternKind.Func: putFuncType(m.funcType(index)); break;
      case ExternKind.Table: putTableType(unchecked(m.tableTypes[index])); break;
      case ExternKind.Memory: putLimits(unchecked(m.memoryTypes[index])); break;
      case ExternKind.Global: putGlobalType(unchecked(m.globalTypes[index])); break;
    }
  }
  return finish();
}

// What a snapshot holds (ABI `snapshot_info`): u32 format version, str VM version, u32 flags,
// 32-byte module hash, u8 metered, u64 fuel left; u32 memories, each (u32 pages, u32 stored
// pages); u32 frames, each (u32 function index, u32 bytecode offset, u32 locals, u32 operands);
// u32 + bytes host state; u32 + bytes embedded module (length 0 if none).
export function describeSnapshot(s: Parsed, formatVersion: u32): usize {
  begin();
  putU32(formatVersion);
  putStr(s.version);
  putU32(s.flags);
  memory.copy(reserve(32), s.hash, 32);
  putU8(load<u8>(s.state));
  store<u64>(reserve(8), load<u64>(s.state, 1));
  let p = s.memory;
  const mems = load<u32>(p);
  putU32(mems);
  p += 4;
  for (let i: u32 = 0; i < mems; i++) {
    const pages = load<u32>(p);
    const stored = load<u32>(p, 4);
    putU32(pages);
    putU32(stored);
    p += 8 + <usize>stored * (4 + 65536);
  }
  putU32(s.frameCount);
  p = s.frames + 4;
  for (let k: u32 = 0; k < s.frameCount; k++) {
    for (let i: usize = 0; i < 16; i += 4) putU32(load<u32>(p + i));
    p += 16 + (<usize>(load<u32>(p, 8) + load<u32>(p, 12)) << 3);
  }
  putU32(s.hostLen);
  memory.copy(reserve(s.hostLen), s.host, s.hostLen);
  putU32(s.moduleLen);
  memory.copy(reserve(s.moduleLen), s.module, s.moduleLen);
  return finish();
}

// The monitors' raw data (ABI `monitor_dump`): u32 n functions; per defined function of the
// instance: u32 index, str name ("" if the name section has none), u32 segments; per segment:
// u32 bytecode offset, u32 instructions, u32 flags (1: starts a loop body), u64 executions,
// u32 k, k × u16 opcodes.
export function describeCounters(inst: Instance): usize {
  begin();
  const m = inst.module;
  const first = m.numImportedFuncs;
  putU32(<u32>inst.funcs.length - first);
  for (let i = first; i < <u32>inst.funcs.length; i++) {
    putU32(i);
    putStr(m.funcNames.has(i) ? m.funcNames.get(i) : "");
    const c = countersOf(load<u32>(unchecked(inst.funcs[i]), FUNC_ADDR));
    if (c === null) { putU32(0); continue; }
    const n = c.segments;
    putU32(<u32>n);
    for (let k = 0; k < n; k++) {
      putU32(unchecked(c.segs[k * 4]));
      const count = unchecked(c.segs[k * 4 + 1]);
      putU32(count);
      putU32(unchecked(c.segs[k * 4 + 3]));
      store<u64>(reserve(8), c.count(k));
      putU32(count);
      const start = <i32>unchecked(c.segs[k * 4 + 2]);
      for (let j = 0; j < <i32>count; j++) store<u16>(reserve(2), unchecked(c.ops[start + j]));
    }
  }
  return finish();
}

// What the recording probes hold for an instance (ABI `probe_dump`): u32 n; per defined function
// u32 index, u64 inclusive instructions; then u32 m; per (call site, target) of call_indirect
// u32 bytecode offset, u32 target function index (0xffffffff: none), u64 executions, in order.
export function describeProbes(inst: Instance): usize {
  begin();
  const m = inst.module;
  const first = m.numImportedFuncs;
  putU32(<u32>inst.funcs.length - first);
  for (let i = first; i < <u32>inst.funcs.length; i++) {
    putU32(i);
    store<u64>(reserve(8), inclusiveOf(load<u32>(unchecked(inst.funcs[i]), FUNC_ADDR)));
  }
  const keys = indirect.keys();
  keys.sort((a: u64, b: u64): i32 => (a < b ? -1 : a > b ? 1 : 0));
  putU32(0);
  const countAt = used - 4;
  let n: u32 = 0;
  for (let k = 0; k < keys.length; k++) {
    const key = unchecked(keys[k]);
    const site = <u32>(key >>> 32);
    // The histogram is the store's: keep the sites inside this instance's module.
    if (site >= m.length) continue;
    putU32(site);
    putU32(<u32>key);
    store<u64>(reserve(8), indirect.get(key));
    n++;
  }
  store<u32>(base + countAt, n);
  return finish();
}

// The memory trace's records, in order (ABI `trace_take`): 8 bytes each.
export function describeTrace(): usize {
  begin();
  const n = <usize>traceHeld() * TRACE_RECORD;
  memory.copy(reserve(n), traceBase, n);
  return finish();
}
