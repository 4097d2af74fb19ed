// The store: every function, table, memory and global instance the VM holds, each with a
// store-wide address (a u32). The records the dispatch loop touches are unmanaged blocks with the
// fixed layouts drawn below; IR embeds their addresses, so a record never moves once allocated
// (a table's or memory's *contents* may move on grow; the record says where they are now).

import { FuncType, ValType } from "../binary/module";
import { blockBytes, blockFresh, extendBlock, takeBlock } from "./blocks";
import { hostedGrow, hostedMemory, hostedPages, hostedZero, setHostedMemory, wantHostedMemory } from "./hosted";

// ┌──────────── FuncInst (48 bytes) ─────────────────────────────────────────────┐
// │ 0 code: usize      IR entry point; 0 until compiled (or always, for host)    │
// │ 4 kind: u32        FUNC_WASM | FUNC_HOST                                     │
// │ 8 nparams: u16     10 nresults: u16                                          │
// │ 12 frameBytes: u32 bytes of value stack the frame may use (locals + temps)   │
// │ 16 zeroStart: u32  byte offset of the first non-parameter local (nparams*8)  │
// │ 20 zeroBytes: u32  bytes of declared locals to zero on entry                 │
// │ 24 memRec: usize   MemInst of the function's instance (EMPTY_MEM if none)    │
// │ 28 typeId: u32     canonical type id (equal types ⇔ equal ids)               │
// │ 32 instance: u32   instance id (host functions: 0xffffffff)                  │
// │ 36 index: u32      function index within its module                          │
// │ 40 addr: u32       store address                                             │
// │ 44 compiled: usize CompiledFunc metadata (exec side), 0 until compiled       │
// └──────────────────────────────────────────────────────────────────────────────┘
export const FUNC_SIZE: usize = 48;
export const FUNC_CODE: usize = 0;
export const FUNC_KIND: usize = 4;
export const FUNC_NPARAMS: usize = 8;
export const FUNC_NRESULTS: usize = 10;
export const FUNC_FRAME_BYTES: usize = 12;
export const FUNC_ZERO_START: usize = 16;
export const FUNC_ZERO_BYTES: usize = 20;
export const FUNC_MEM: usize = 24;
export const FUNC_TYPE_ID: usize = 28;
export const FUNC_INSTANCE: usize = 32;
export const FUNC_INDEX: usize = 36;
export const FUNC_ADDR: usize = 40;
export const FUNC_COMPILED: usize = 44;
export const FUNC_WASM: u32 = 0;
export const FUNC_HOST: u32 = 1;

// ┌──────────── MemInst (24 bytes) ─────────────────────────────────────────────┐
// │ 0 base: usize   first byte of contents                                       │
// │ 4 byteLen: u32  pages * 65536: what the guest sees                           │
// │ 8 pages: u32    12 maxPages: u32                                             │
// │ 16 capacity: u32  bytes the contents block holds (≥ byteLen)                 │
// │ 20 dirty: u32   bytes from base that may be non-zero (≥ byteLen); the rest    │
// │                 of the block is zero                                         │
// └──────────────────────────────────────────────────────────────────────────────┘
export const MEM_SIZE: usize = 24;
export const MEM_BASE: usize = 0;
export const MEM_BYTES: usize = 4;
export const MEM_PAGES: usize = 8;
export const MEM_MAX: usize = 12;
export const MEM_CAP: usize = 16;
export const MEM_DIRTY: usize = 20;
export const PAGE_SIZE: u32 = 65536;

// ┌──────────── TableInst (16 bytes) ────────────────────────────────┐
// │ 0 elems: usize  u32 refs (0 null, funcaddr+1, externref N+1)     │
// │ 4 size: u32     8 max: u32 (0xffffffff none)   12 elemType: u32  │
// └──────────────────────────────────────────────────────────────────┘
export const TABLE_SIZE: usize = 16;
export const TABLE_ELEMS: usize = 0;
export const TABLE_LEN: usize = 4;
export const TABLE_MAX: usize = 8;
export const TABLE_TYPE: usize = 12;

// A global is an 8-byte cell (GLOBAL_CELL) followed by its type: 8 valType: u8, 9 mutable: u8.
export const GLOBAL_SIZE: usize = 16;
export const GLOBAL_VALUE: usize = 0;
export const GLOBAL_TYPE: usize = 8;
export const GLOBAL_MUT: usize = 9;

// ┌──────────── SegInst (8 bytes): an element or data segment of an instance ─────┐
// │ 0 ptr: usize   data: bytes; elem: u32 refs    4 len: u32 (0 once dropped)     │
// └───────────────────────────────────────────────────────────────────────────────┘
export const SEG_SIZE: usize = 8;
export const SEG_PTR: usize = 0;
export const SEG_LEN: usize = 4;

export const NO_MAX: u32 = 0xffffffff;
export const NO_INSTANCE: u32 = 0xffffffff;

// Implementation limits.
export const MAX_PAGES: u32 = 65535; // byteLen fits a u32; the VM's own memory decides below that
export const MAX_TABLE: u32 = 10000000;

// Limits in force (set_limits lowers them): a memory or table may not grow past them; a module
// that needs more at instantiation is refused.
export let pageLimit: u32 = MAX_PAGES;
export let tableLimit: u32 = MAX_TABLE;
export function setStoreLimits(pages: u32, tableElems: u32): void {
  pageLimit = pages < MAX_PAGES ? pages : MAX_PAGES;
  tableLimit = tableElems < MAX_TABLE ? tableElems : MAX_TABLE;
}

// Zeroed: a block of `size` bytes that does not move until its owner is dropped (runtime/drop.ts).
export function allocRecord(size: usize): usize {
  const p = heap.alloc(size);
  memory.fill(p, 0, size);
  return p;
}

// A memory instance with no contents, for functions of instances without a memory.
export const EMPTY_MEM: usize = allocRecord(MEM_SIZE);

// ── store-wide address spaces ────────────────────────────────────────────────
// funcs[addr] is the FuncInst record; read by call_indirect through `funcTableBase`. A dropped
// object's slot holds 0 and its address is handed out again (the free lists), so a VM that keeps
// loading and dropping does not grow.
export let funcCount: u32 = 0;
export let funcCapacity: u32 = 0;
export let funcTableBase: usize = 0; // usize[funcCapacity]
export const tables: usize[] = [];
export const memories: usize[] = [];
export const globals: usize[] = [];
const freeFuncs: u32[] = [];
const freeTables: i32[] = [];
const freeMemories: i32[] = [];
const freeGlobals: i32[] = [];
// Memories in the store (memories.length counts dropped slots too).
export let liveMemories: u32 = 0;

// Whether `addr` names a function of the store (not dropped).
export function funcLive(addr: u32): bool {
  return addr < funcCount && funcRecord(addr) != 0;
}

// A slot for a new record in one of the table/memory/global spaces: a dropped one first. Its
// address in `placedAddress`.
export let placedAddress: i32 = 0;
function place(space: usize[], free: i32[], rec: usize): void {
  if (free.length > 0) {
    placedAddress = free.pop();
    unchecked((space[placedAddress] = rec));
  } else {
    placedAddress = space.length;
    space.push(rec);
  }
}

// Canonical function types: equal types share one id.
export const types: FuncType[] = [];

function sameTypes(a: u8[], b: u8[]): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (unchecked(a[i]) != unchecked(b[i])) return false;
  return true;
}

export function canonicalType(t: FuncType): u32 {
  for (let i = 0; i < types.length; i++) {
    const u = unchecked(types[i]);
    if (sameTypes(u.params, t.params) && sameTypes(u.results, t.results)) return <u32>i;
  }
  types.push(t);
  return <u32>(types.length - 1);
}

@inline export function funcRecord(addr: u32): usize {
  return load<usize>(funcTableBase + (<usize>addr << alignof<usize>()));
}

export function newFunc(type: FuncType, kind: u32, instance: u32, index: u32): usize {
  const rec = allocRecord(FUNC_SIZE);
  store<u32>(rec, kind, FUNC_KIND);
  store<u16>(rec, <u16>type.params.length, FUNC_NPARAMS);
  store<u16>(rec, <u16>type.results.length, FUNC_NRESULTS);
  store<u32>(rec, <u32>type.params.length << 3, FUNC_ZERO_START);
  store<usize>(rec, EMPTY_MEM, FUNC_MEM);
  store<u32>(rec, canonicalType(type), FUNC_TYPE_ID);
  store<u32>(rec, instance, FUNC_INSTANCE);
  store<u32>(rec, index, FUNC_INDEX);
  if (freeFuncs.length > 0) {
    const reused = freeFuncs.pop();
    store<u32>(rec, reused, FUNC_ADDR);
    store<usize>(funcTableBase + (<usize>reused << alignof<usize>()), rec);
    return rec;
  }
  if (funcCount == funcCapacity) {
    const cap = funcCapacity == 0 ? 256 : funcCapacity * 2;
    const bytes = <usize>cap << alignof<usize>();
    // heap.realloc needs an existing block: given 0 it traps.
    funcTableBase = funcTableBase == 0 ? heap.alloc(bytes) : heap.realloc(funcTableBase, bytes);
    funcCapacity = cap;
  }
  const addr = funcCount++;
  store<u32>(rec, addr, FUNC_ADDR);
  store<usize>(funcTableBase + (<usize>addr << alignof<usize>()), rec);
  return rec;
}

@inline export function funcType(rec: usize): FuncType {
  return unchecked(types[load<u32>(rec, FUNC_TYPE_ID)]);
}

// Memories: contents are a separate block that moves when it outgrows its capacity. Capacity
// grows by half each time, in place when the block ends the VM's memory, so the number of moves
// is logarithmic in the final size; the exact size when the VM cannot hold that much.
// A host-owned memory (runtime/hosted.ts) keeps base 0.
export function newMemory(minPages: u32, maxPages: u32, mayHost: bool = true): usize {
  if (minPages > pageLimit) return 0;
  const rec = allocRecord(MEM_SIZE);
  const bytes = <usize>minPages * PAGE_SIZE;
  let base: usize = 0;
  let cap: usize = 0;
  let dirty: usize = 0;
  // The host's memory must be exactly this memory's size (its bounds check is the only one), so
  // it is hosted only while the host's memory is not larger (a rolled-back store may have grown it).
  const have = mayHost && wantHostedMemory() ? hostedPages() : 0xffffffff;
  if (have <= minPages) {
    if (!hostedGrow(minPages - have)) {
      heap.free(rec);
      return 0;
    }
    hostedZero(0, have * PAGE_SIZE);
    setHostedMemory(rec);
  } else {
    base = takeBlock(bytes == 0 ? 8 : bytes);
    if (base == 0) {
      heap.free(rec);
      return 0;
    }
    cap = blockBytes;
    if (!blockFresh) {
      memory.fill(base, 0, bytes);
      dirty = cap;
    }
  }
  store<usize>(rec, base, MEM_BASE);
  store<u32>(rec, <u32>bytes, MEM_BYTES);
  store<u32>(rec, minPages, MEM_PAGES);
  store<u32>(rec, maxPages, MEM_MAX);
  store<u32>(rec, <u32>cap, MEM_CAP);
  store<u32>(rec, <u32>(dirty > bytes ? dirty : bytes), MEM_DIRTY);
  place(memories, freeMemories, rec);
  liveMemories++;
  return rec;
}

// A contents block of at least `newBytes` for a VM-owned memory (the first `oldBytes` kept), or
// false with nothing changed when the VM's memory cannot hold one.
function enlarge(rec: usize, oldBytes: usize, newBytes: usize, limitBytes: usize): bool {
  const base = load<usize>(rec, MEM_BASE);
  const cap = <u64>load<u32>(rec, MEM_CAP);
  let want = cap + (cap >> 1);
  if (want < <u64>newBytes) want = <u64>newBytes;
  if (want > <u64>limitBytes) want = <u64>limitBytes;
  if (extendBlock(base, <usize>want, newBytes)) {
    store<u32>(rec, <u32>blockBytes, MEM_CAP);
    return true;
  }
  let moved = takeBlock(<usize>want);
  if (moved == 0 && want > <u64>newBytes) moved = takeBlock(newBytes);
  if (moved == 0) return false;
  memory.copy(moved, base, oldBytes);
  heap.free(base);
  store<usize>(rec, moved, MEM_BASE);
  store<u32>(rec, <u32>blockBytes, MEM_CAP);
  store<u32>(rec, <u32>(blockFresh ? oldBytes : blockBytes), MEM_DIRTY);
  return true;
}

// memory.grow: the old size in pages, or -1 (limits, or the VM or host cannot hold it).
export function growMemory(rec: usize, delta: u32): i32 {
  const old = load<u32>(rec, MEM_PAGES);
  if (delta == 0) return <i32>old;
  const max = load<u32>(rec, MEM_MAX);
  const limit = max < pageLimit ? max : pageLimit;
  if (<u64>old + <u64>delta > <u64>limit) return -1;
  const pages = old + delta;
  const oldBytes = <usize>old * PAGE_SIZE;
  const newBytes = <usize>pages * PAGE_SIZE;
  if (load<usize>(rec, MEM_BASE) == 0) {
    if (!hostedGrow(delta)) return -1;
    store<u32>(rec, <u32>newBytes, MEM_BYTES);
    store<u32>(rec, pages, MEM_PAGES);
    return <i32>old;
  }
  if (newBytes > <usize>load<u32>(rec, MEM_CAP) && !enlarge(rec, oldBytes, newBytes, <usize>limit * PAGE_SIZE)) return -1;
  const dirty = <usize>load<u32>(rec, MEM_DIRTY);
  if (dirty > oldBytes) memory.fill(load<usize>(rec, MEM_BASE) + oldBytes, 0, (dirty < newBytes ? dirty : newBytes) - oldBytes);
  if (dirty < newBytes) store<u32>(rec, <u32>newBytes, MEM_DIRTY);
  store<u32>(rec, <u32>newBytes, MEM_BYTES);
  store<u32>(rec, pages, MEM_PAGES);
  return <i32>old;
}

export function newTable(elemType: u8, min: u32, max: u32): usize {
  if (min > tableLimit) return 0;
  const rec = allocRecord(TABLE_SIZE);
  const bytes = <usize>min << 2;
  const elems = heap.alloc(bytes == 0 ? 4 : bytes);
  memory.fill(elems, 0, bytes);
  store<usize>(rec, elems, TABLE_ELEMS);
  store<u32>(rec, min, TABLE_LEN);
  store<u32>(rec, max, TABLE_MAX);
  store<u32>(rec, elemType, TABLE_TYPE);
  place(tables, freeTables, rec);
  return rec;
}

// table.grow: the old size, or -1.
export function growTable(rec: usize, delta: u32, init: u32): i32 {
  const old = load<u32>(rec, TABLE_LEN);
  const max = load<u32>(rec, TABLE_MAX);
  const limit = max < tableLimit ? max : tableLimit;
  if (<u64>old + <u64>delta > <u64>limit) return -1;
  if (delta == 0) return <i32>old;
  const size = old + delta;
  const elems = heap.realloc(load<usize>(rec, TABLE_ELEMS), <usize>size << 2);
  for (let i = old; i < size; i++) store<u32>(elems + (<usize>i << 2), init);
  store<usize>(rec, elems, TABLE_ELEMS);
  store<u32>(rec, size, TABLE_LEN);
  return <i32>old;
}

export function newGlobal(valType: u8, mutable: bool, value: u64): usize {
  const rec = allocRecord(GLOBAL_SIZE);
  store<u64>(rec, value, GLOBAL_VALUE);
  store<u8>(rec, valType, GLOBAL_TYPE);
  store<u8>(rec, mutable ? 1 : 0, GLOBAL_MUT);
  place(globals, freeGlobals, rec);
  return rec;
}

// Values leave the VM normalised: 32-bit types with zero upper halves.
export function normalise(valType: u8, bits: u64): u64 {
  switch (<u32>valType) {
    case ValType.I32:
    case ValType.F32:
    case ValType.FuncRef:
    case ValType.ExternRef:
      return bits & 0xffffffff;
  }
  return bits;
}

// ── dropping (runtime/drop.ts decides what may go) ─────────────────────────────────
// Each frees the record and what it owns, and hands its address out again.
export function freeFunc(rec: usize): void {
  const addr = load<u32>(rec, FUNC_ADDR);
  store<usize>(funcTableBase + (<usize>addr << alignof<usize>()), 0);
  freeFuncs.push(addr);
  heap.free(rec);
}

// Records do not carry their table/memory/global address (the layouts are fixed and the dispatch
// loop never needs it), so the address is found by searching; only export lookups and drops come
// here. Newest first: an instance's own records are usually the most recent ones.
export function addressOf(space: usize[], rec: usize): i32 {
  return space.lastIndexOf(rec);
}

function release(space: usize[], free: i32[], rec: usize): void {
  const addr = addressOf(space, rec);
  if (addr >= 0) {
    unchecked((space[addr] = 0));
    free.push(addr);
  }
}

export function freeMemory(rec: usize): void {
  release(memories, freeMemories, rec);
  liveMemories--;
  const base = load<usize>(rec, MEM_BASE);
  if (base == 0) { if (rec == hostedMemory) setHostedMemory(0); }
  else heap.free(base);
  heap.free(rec);
}

export function freeTable(rec: usize): void {
  release(tables, freeTables, rec);
  heap.free(load<usize>(rec, TABLE_ELEMS));
  heap.free(rec);
}

export function freeGlobal(rec: usize): void {
  release(globals, freeGlobals, rec);
  heap.free(rec);
}
