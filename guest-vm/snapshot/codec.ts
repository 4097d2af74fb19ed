// The snapshot codec: writes a suspended instance (frames, globals, tables, memory, segments,
// fuel, the host's opaque state) in the format of snapshot/FORMAT.md, and restores one into a
// new instance of any store. Restoring checks the whole snapshot before it changes anything.

import { ErrorKind, fail } from "../binary/error";
import { ExternKind, Module, ValType } from "../binary/module";
import { Instance } from "../runtime/instance";
import { instantiate } from "../runtime/instantiate";
import { dropInstance, listedBy } from "../runtime/drop";
import { externRecord } from "../runtime/link";
import { builtinMemoryRec } from "../runtime/builtins";
import {
  FUNC_ADDR, FUNC_CODE, FUNC_HOST, FUNC_INSTANCE, FUNC_INDEX, FUNC_KIND, FUNC_NPARAMS, FUNC_NRESULTS, FUNC_WASM, FUNC_ZERO_BYTES,
  funcRecord, funcType,
  FUNC_ZERO_START, FUNC_FRAME_BYTES, GLOBAL_VALUE, MEM_BASE, MEM_PAGES, PAGE_SIZE, SEG_LEN, TABLE_ELEMS,
  TABLE_LEN, TABLE_TYPE, GLOBAL_TYPE, growMemory, growTable, MEM_MAX, NO_MAX, addressOf, memories, pageLimit,
} from "../runtime/store";
import { operandTypesOf } from "../valid/validate";
import { typesAtCount } from "../valid/code";
import { compileFunction, compiledFunctions, meteringEnabled, setMetering, stopsOf } from "../compile/compiler";
import {
  activationCount, activationCsp, activationFunc, activationIsDirectHost, beginRestoredActivation, setMachineState,
  setPendingHostCall,
} from "../exec/run";
import * as state from "../exec/state";
import { abort as abortActivation } from "../exec/run";
import { checksum64, sha256 } from "./hash";
import { hostedInit, hostedRead, hostedZero } from "../runtime/hosted";
import { countersOf, monitoringEnabled, setMonitoring } from "../probe/counters";
import * as probes from "../probe/probes";
import {
  SEC_STATE, SEC_GLOBALS, SEC_MEMORY, SEC_TABLES, SEC_SEGMENTS, SEC_FRAMES, SEC_HOST, SEC_MODULE, SEC_COUNTERS, SEC_HOST_CALL,
  SEC_PROBES, sectionRank,
} from "../vocabulary";

let scratchPage: usize = 0;

export const FORMAT_VERSION: u32 = 2;
export const VM_VERSION = "handover 0.1.0";
// "HOVRSNAP" little-endian
const MAGIC: u64 = 0x50414e5352564f48;

export const FLAG_EMBED_MODULE: u32 = 1;
// Only to takeSnapshot, never in the header: write each memory's size but none of its pages, for a
// host that sends memory separately (pre-copy migration). The snapshot restores to zeroed memory,
// or into memories the host filled as the pages arrived (restoreSnapshot's `adopted`).
export const FLAG_NO_MEMORY: u32 = 2;

// ── writing ───────────────────────────────────────────────────────────────────────────────
let out: usize = 0;
let outCap: usize = 0;
let outLen: usize = 0;

function reserve(n: usize): usize {
  if (outLen + n > outCap) {
    let cap = outCap == 0 ? <usize>65536 : outCap;
    while (cap < outLen + n) cap <<= 1;
    out = out == 0 ? heap.alloc(cap) : heap.realloc(out, cap);
    outCap = cap;
  }
  const p = out + outLen;
  outLen += n;
  return p;
}
function putU8(v: u32): void { store<u8>(reserve(1), <u8>v); }
function putU32(v: u32): void { store<u32>(reserve(4), v); }
function putU64(v: u64): void { store<u64>(reserve(8), v); }
function putBytes(p: usize, n: usize): void { memory.copy(reserve(n), p, n); }
function putStr(s: string): void {
  const n = <usize>String.UTF8.byteLength(s);
  putU32(<u32>n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, reserve(n));
}
// A section: tag, then a u32 byte length patched when it ends.
function beginSection(tag: u32): usize {
  putU32(tag);
  putU32(0);
  return outLen;
}
function endSection(start: usize): void {
  store<u32>(out + start - 4, <u32>(outLen - start));
}

export let snapshotLength: u32 = 0;

// ── references ───────────────────────────────────────────────────────────────────────────
// In a store a function reference is its address + 1; in a snapshot it is its index in the
// instance's function index space + 1 (0 is null), so a snapshot means the same in any store.
const refIndex = new Map<u32, u32>(); // address → index, for the instance being written
let refOutside = false; // a reference to a function outside the instance was met

function beginRefs(inst: Instance): void {
  refIndex.clear();
  refOutside = false;
  // The lowest index of a function imported twice.
  for (let i = inst.funcs.length - 1; i >= 0; i--) refIndex.set(load<u32>(unchecked(inst.funcs[i]), FUNC_ADDR), <u32>i);
}

function refOut(ref: u32): u32 {
  if (ref == 0) return 0;
  if (!refIndex.has(ref - 1)) {
    refOutside = true;
    return 0;
  }
  return refIndex.get(ref - 1) + 1;
}

// A snapshot's reference in the restored instance; refs past the index space were refused before.
function refIn(inst: Instance, ref: u32): u32 {
  return ref == 0 ? 0 : load<u32>(unchecked(inst.funcs[ref - 1]), FUNC_ADDR) + 1;
}

// Rewrites, in place, the function references among `n` slots at `p` whose value types are the
// bytes at `types` (`toSnapshot`: addresses to indices; else back, for `inst`). False when a
// snapshot's reference is out of the index space.
function mapRefs(p: usize, types: usize, n: u32, toSnapshot: bool, inst: Instance): bool {
  const limit = <u32>inst.funcs.length;
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(types + i) != ValType.FuncRef) continue;
    const at = p + (<usize>i << 3);
    const ref = load<u32>(at);
    if (toSnapshot) store<u64>(at, refOut(ref));
    else if (ref > limit) return false;
    else store<u64>(at, refIn(inst, ref));
  }
  return true;
}

// The value types of a frame of function `index` stopped at bytecode `bc`: its locals, then the
// bytecode's operand stack there (from validation; at the body's end, the function's results).
// A pointer to `locals + height` type bytes (scratch, valid until the next call), or 0.
let frameTypesCap: u32 = 256;
let frameTypes: usize = heap.alloc(frameTypesCap);
function typesOfFrame(m: Module, index: u32, bc: u32, locals: u32, height: u32): usize {
  const n = locals + height;
  if (n > frameTypesCap) {
    frameTypesCap = n;
    heap.free(frameTypes);
    frameTypes = heap.alloc(frameTypesCap);
  }
  const params = m.funcType(index).params;
  for (let i = 0; i < params.length; i++) store<u8>(frameTypes + i, unchecked(params[i]));
  const code = unchecked(m.codes[index - m.numImportedFuncs]);
  let slot = <usize>params.length;
  for (let r = 0; r < code.localCounts.length; r++) {
    const k = <usize>unchecked(code.localCounts[r]);
    memory.fill(frameTypes + slot, unchecked(code.localTypes[r]), k);
    slot += k;
  }
  if (height == 0) return frameTypes;
  if (bc == code.bodyEnd) {
    const results = m.funcType(index).results;
    if (<u32>results.length < height) return 0;
    for (let i: u32 = 0; i < height; i++) store<u8>(frameTypes + locals + i, unchecked(results[i]));
    return frameTypes;
  }
  const ops = operandTypesOf(m, index, bc);
  if (ops == 0 || typesAtCount < height) return 0;
  memory.copy(frameTypes + locals, ops, height);
  return frameTypes;
}

function frameLocals(rec: usize): u32 {
  return (load<u32>(rec, FUNC_ZERO_START) + load<u32>(rec, FUNC_ZERO_BYTES)) >> 3;
}

// The stop point at IR offset `ir` of compiled function `rec`: (bytecode offset, height), or -1;
// its phase in `stopPhase`.
let stopPhase: u32 = 0;
function stopAt(rec: usize, ir: u32): i64 {
  const t = stopsOf(load<u32>(rec, FUNC_ADDR));
  if (t === null) return -1;
  for (let i = 0; i + 3 < t.length; i += 4) {
    if (unchecked(t[i]) == ir) {
      stopPhase = unchecked(t[i + 3]);
      return (<i64>unchecked(t[i + 2]) << 32) | <i64>unchecked(t[i + 1]);
    }
  }
  return -1;
}
// The phase of the top frame's stop (what already happened at its bytecode point: a fuel charge,
// probes), written in the probes section.
let topPhase: u32 = 0;

// Writes the snapshot of `inst` and returns its address (length in `snapshotLength`), or 0 with
// the error set. The instance's activation, if any, must be suspended (not in a host call).
export function takeSnapshot(inst: Instance, host: usize, hostLen: u32, flags: u32): usize {
  const acts = activationCount();
  if (acts > 1) { fail(ErrorKind.Snapshot, "cannot snapshot nested activations", 0); return 0; }
  if (acts == 1 && activationIsDirectHost(0)) {
    fail(ErrorKind.Snapshot, "cannot snapshot a direct call of a host function", 0);
    return 0;
  }
  const inHostCall = acts == 1 && state.hostCallee != 0;
  const m = inst.module;
  outLen = 0;
  putU64(MAGIC);
  putU32(FORMAT_VERSION);
  putU32(flags & FLAG_EMBED_MODULE);
  putStr(VM_VERSION);
  sha256(m.bytes, m.length, reserve(32));

  let s = beginSection(SEC_STATE);
  const probed = probes.probing();
  putU8((meteringEnabled ? 1 : 0) | (monitoringEnabled ? 2 : 0) | (probed ? 4 : 0));
  putU64(state.fuelLeft);
  putU32(<u32>inst.funcs.length);
  endSection(s);

  beginRefs(inst);
  s = beginSection(SEC_GLOBALS);
  putU32(<u32>inst.globals.length);
  for (let i = 0; i < inst.globals.length; i++) {
    const g = unchecked(inst.globals[i]);
    const v = load<u64>(g, GLOBAL_VALUE);
    putU64(load<u8>(g, GLOBAL_TYPE) == ValType.FuncRef ? <u64>refOut(<u32>v) : v);
  }
  endSection(s);

  s = beginSection(SEC_MEMORY);
  putU32(<u32>inst.memories.length);
  for (let i = 0; i < inst.memories.length; i++) {
    const rec = unchecked(inst.memories[i]);
    const base = load<usize>(rec, MEM_BASE);
    const pages = load<u32>(rec, MEM_PAGES);
    putU32(pages);
    const countAt = outLen;
    putU32(0);
    let stored: u32 = 0;
    if (flags & FLAG_NO_MEMORY) continue;
    // A host-owned memory (base 0) is read a page at a time into a scratch page.
    if (base == 0 && scratchPage == 0) scratchPage = heap.alloc(PAGE_SIZE);
    for (let pg: u32 = 0; pg < pages; pg++) {
      let p = base + <usize>pg * PAGE_SIZE;
      if (base == 0) {
        hostedRead(scratchPage, pg * PAGE_SIZE, PAGE_SIZE);
        p = scratchPage;
      }
      if (isZeroPage(p)) continue;
      putU32(pg);
      putBytes(p, PAGE_SIZE);
      stored++;
    }
    store<u32>(out + countAt, stored);
  }
  endSection(s);

  s = beginSection(SEC_TABLES);
  putU32(<u32>inst.tables.length);
  for (let i = 0; i < inst.tables.length; i++) {
    const rec = unchecked(inst.tables[i]);
    const size = load<u32>(rec, TABLE_LEN);
    putU32(size);
    const elems = load<usize>(rec, TABLE_ELEMS);
    if (load<u32>(rec, TABLE_TYPE) == ValType.FuncRef) {
      for (let k: u32 = 0; k < size; k++) putU32(refOut(load<u32>(elems + (<usize>k << 2))));
    } else putBytes(elems, <usize>size << 2);
  }
  endSection(s);

  s = beginSection(SEC_SEGMENTS);
  putU32(<u32>inst.elems.length);
  for (let i = 0; i < inst.elems.length; i++) putU32(load<u32>(unchecked(inst.elems[i]), SEG_LEN));
  putU32(<u32>inst.datas.length);
  for (let i = 0; i < inst.datas.length; i++) putU32(load<u32>(unchecked(inst.datas[i]), SEG_LEN));
  endSection(s);

  s = beginSection(SEC_FRAMES);
  topPhase = 0;
  if (acts == 0) putU32(0);
  else if (!writeFrames(inst)) return 0;
  endSection(s);

  s = beginSection(SEC_HOST);
  putU32(hostLen);
  putBytes(host, hostLen);
  endSection(s);

  if (inHostCall) {
    // The guest is waiting for a host function: which one, and its arguments (the frames above
    // stop at the call, as any caller does).
    s = beginSection(SEC_HOST_CALL);
    const callee = state.hostCallee;
    const np = <usize>load<u16>(callee, FUNC_NPARAMS);
    const addr = load<u32>(callee, FUNC_ADDR);
    if (!refIndex.has(addr)) {
      fail(ErrorKind.Snapshot, "the guest waits for a host function it does not import", 0);
      return 0;
    }
    putU32(refIndex.get(addr));
    putU32(<u32>np);
    const args = outLen;
    putBytes(state.hostFp, np << 3);
    mapRefs(out + args, funcType(callee).params.dataStart, <u32>np, true, inst);
    endSection(s);
  }
  if (refOutside) {
    fail(ErrorKind.Snapshot, "the guest holds a reference to a function of another instance", 0);
    return 0;
  }

  if (monitoringEnabled) {
    s = beginSection(SEC_COUNTERS);
    writeCounters(inst);
    endSection(s);
  }

  if (probed) {
    s = beginSection(SEC_PROBES);
    writeProbes(inst);
    endSection(s);
  }

  if (flags & FLAG_EMBED_MODULE) {
    s = beginSection(SEC_MODULE);
    putU32(m.length);
    putBytes(m.bytes, m.length);
    endSection(s);
  }

  putU64(checksum64(out, outLen));
  snapshotLength = <u32>outLen;
  return out;
}

function isZeroPage(p: usize): bool {
  const end = p + PAGE_SIZE;
  for (let q = p; q < end; q += 32) {
    if ((load<u64>(q) | load<u64>(q, 8) | load<u64>(q, 16) | load<u64>(q, 24)) != 0) return false;
  }
  return true;
}

// Frames, bottom first: function index, bytecode offset, local count, operand count, then the
// locals and operands as 8-byte slots.
function writeFrames(inst: Instance): bool {
  const csp0 = activationCsp(0);
  const count = <u32>((state.stateCsp - csp0) / state.FRAME_RECORD);
  putU32(count);
  for (let k: u32 = 1; k <= count; k++) {
    let rec: usize, fp: usize, pc: usize;
    let calleeResults: u32 = 0;
    if (k < count) {
      const r = csp0 + <usize>k * state.FRAME_RECORD;
      pc = load<usize>(r);
      fp = load<usize>(r, 4);
      rec = load<usize>(r, 8);
      const callee = k + 1 < count ? load<usize>(csp0 + <usize>(k + 1) * state.FRAME_RECORD, 8) : state.stateFunc;
      calleeResults = <u32>load<u16>(callee, FUNC_NRESULTS);
    } else {
      pc = state.statePc;
      fp = state.stateFp;
      rec = state.stateFunc;
      if (state.hostCallee != 0) calleeResults = <u32>load<u16>(state.hostCallee, FUNC_NRESULTS);
    }
    if (load<u32>(rec, FUNC_INSTANCE) != inst.id) {
      fail(ErrorKind.Snapshot, "a frame belongs to another instance", 0);
      return false;
    }
    const at = stopAt(rec, <u32>(pc - load<usize>(rec, FUNC_CODE)));
    if (at < 0) {
      fail(ErrorKind.Snapshot, "the guest is not stopped at a resumable point", 0);
      return false;
    }
    const height = <u32>(at >>> 32) - calleeResults;
    if (k == count) topPhase = stopPhase;
    const locals = frameLocals(rec);
    const index = load<u32>(rec, FUNC_INDEX);
    putU32(index);
    putU32(<u32>at);
    putU32(locals);
    putU32(height);
    const slots = outLen;
    putBytes(fp, <usize>(locals + height) << 3);
    const types = typesOfFrame(inst.module, index, <u32>at, locals, height);
    if (types == 0) {
      fail(ErrorKind.Snapshot, "the operand types of a frame cannot be derived", 0);
      return false;
    }
    mapRefs(out + slots, types, locals + height, true, inst);
  }
  return true;
}

// Monitor counters of the instance's compiled functions: u32 n; per function u32 index,
// u32 segments, per segment (u32 bytecode offset, u64 executions).
function writeCounters(inst: Instance): void {
  const countAt = outLen;
  putU32(0);
  let n: u32 = 0;
  for (let i = <i32>inst.module.numImportedFuncs; i < inst.funcs.length; i++) {
    const c = countersOf(load<u32>(unchecked(inst.funcs[i]), FUNC_ADDR));
    if (c === null) continue;
    putU32(<u32>i);
    putU32(<u32>c.segments);
    for (let k = 0; k < c.segments; k++) {
      putU32(unchecked(c.segs[k * 4]));
      putU64(c.count(k));
    }
    n++;
  }
  store<u32>(out + countAt, n);
}

// Probe state: u32 callback kinds, u32 recordings, u32 trace capacity, u32 the top frame's phase;
// u32 n sites, n × (u32 function index, u32 offset); u64 clock; u32 n, n × (u32 function index,
// u64 inclusive instructions); u32 n shadow stack entries, bottom first, n × (u32 function index,
// u64 entry clock); u32 n, n × (u32 call site, u32 target, u64 executions); u32 n trace records,
// n × 8 bytes.
function writeProbes(inst: Instance): void {
  putU32(probes.probeKinds);
  putU32(probes.recordKinds);
  putU32(probes.traceCapacity());
  putU32(topPhase);
  const sites = probes.siteList();
  putU32(<u32>sites.length);
  for (let i = 0; i < sites.length; i++) {
    putU32(<u32>(unchecked(sites[i]) >>> 32));
    putU32(<u32>unchecked(sites[i]));
  }
  putU64(probes.clock());
  let countAt = outLen;
  putU32(0);
  let n: u32 = 0;
  for (let i = 0; i < inst.funcs.length; i++) {
    const v = probes.inclusiveOf(load<u32>(unchecked(inst.funcs[i]), FUNC_ADDR));
    if (v == 0) continue;
    putU32(<u32>i);
    putU64(v);
    n++;
  }
  store<u32>(out + countAt, n);
  const depth = probes.shadowDepth();
  putU32(<u32>depth);
  for (let i = 0; i < depth; i++) {
    putU32(load<u32>(funcRecord(probes.shadowEntryFunc(i)), FUNC_INDEX));
    putU64(probes.shadowEntryClock(i));
  }
  const keys = probes.indirect.keys();
  keys.sort((a: u64, b: u64): i32 => (a < b ? -1 : a > b ? 1 : 0));
  putU32(<u32>keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = unchecked(keys[i]);
    putU32(<u32>(key >>> 32));
    putU32(<u32>key);
    putU64(probes.indirect.get(key));
  }
  const held = probes.traceHeld();
  putU32(held);
  putBytes(probes.traceBase, <usize>held * probes.TRACE_RECORD);
}

// ── reading ───────────────────────────────────────────────────────────────────────────────
// A parsed snapshot: section positions, checked for consistency before anything is applied.
export class Parsed {
  base: usize = 0;
  length: u32 = 0;
  flags: u32 = 0;
  version: string = "";
  hash: usize = 0; // 32 bytes
  state: usize = 0;
  globals: usize = 0;
  memory: usize = 0;
  tables: usize = 0;
  segments: usize = 0;
  frames: usize = 0;
  frameCount: u32 = 0;
  host: usize = 0;
  hostLen: u32 = 0;
  module: usize = 0;
  moduleLen: u32 = 0;
  counters: usize = 0;
  countersEnd: usize = 0;
  hostCall: usize = 0; // u32 function index, u32 n, n × 8-byte arguments
  hostCallEnd: usize = 0;
  probes: usize = 0;
}

// Bounds-checked cursor; any read past `end` marks it broken.
class Cursor {
  p: usize;
  end: usize;
  broken: bool = false;
  constructor(p: usize, end: usize) { this.p = p; this.end = end; }
  has(n: usize): bool {
    if (this.broken || n > this.end - this.p) { this.broken = true; return false; }
    return true;
  }
  u8(): u32 { if (!this.has(1)) return 0; const v = <u32>load<u8>(this.p); this.p += 1; return v; }
  u32(): u32 { if (!this.has(4)) return 0; const v = load<u32>(this.p); this.p += 4; return v; }
  u64(): u64 { if (!this.has(8)) return 0; const v = load<u64>(this.p); this.p += 8; return v; }
  skip(n: usize): usize { if (!this.has(n)) return 0; const at = this.p; this.p += n; return at; }
  // A length computed in 64 bits, so a huge count cannot wrap into a small one.
  skip64(n: u64): usize {
    if (this.broken || n > <u64>(this.end - this.p)) { this.broken = true; return 0; }
    return this.skip(<usize>n);
  }
  @inline get done(): bool { return !this.broken && this.p == this.end; }
}

// Whether section `tag` at [at, at + size) is laid out exactly as FORMAT.md says: every count
// and length within the section, nothing left over.
function wellFormed(tag: u32, at: usize, size: u32): bool {
  const c = new Cursor(at, at + size);
  switch (tag) {
    case SEC_STATE: c.u8(); c.u64(); c.u32(); break;
    case SEC_GLOBALS: c.skip64(<u64>c.u32() * 8); break;
    case SEC_MEMORY: {
      for (let n = c.u32(); n > 0 && !c.broken; n--) {
        const pages = c.u32();
        for (let k = c.u32(); k > 0 && !c.broken; k--) {
          if (c.u32() >= pages) return false;
          c.skip(PAGE_SIZE);
        }
      }
      break;
    }
    case SEC_TABLES: for (let n = c.u32(); n > 0 && !c.broken; n--) c.skip64(<u64>c.u32() * 4); break;
    case SEC_SEGMENTS: c.skip64(<u64>c.u32() * 4); c.skip64(<u64>c.u32() * 4); break;
    case SEC_FRAMES: {
      for (let n = c.u32(); n > 0 && !c.broken; n--) {
        c.u32(); c.u32();
        const slots = <u64>c.u32() + <u64>c.u32();
        c.skip64(slots * 8);
      }
      break;
    }
    case SEC_HOST: case SEC_MODULE: c.skip64(<u64>c.u32()); break;
    case SEC_COUNTERS: for (let n = c.u32(); n > 0 && !c.broken; n--) { c.u32(); c.skip64(<u64>c.u32() * 12); } break;
    case SEC_HOST_CALL: c.u32(); c.skip64(<u64>c.u32() * 8); break;
    case SEC_PROBES: {
      c.u32(); c.u32(); c.u32(); c.u32();
      c.skip64(<u64>c.u32() * 8);
      c.u64();
      c.skip64(<u64>c.u32() * 12);
      c.skip64(<u64>c.u32() * 12);
      c.skip64(<u64>c.u32() * 16);
      c.skip64(<u64>c.u32() * 8);
      break;
    }
  }
  return c.done;
}

function corrupt(what: string): Parsed | null {
  fail(ErrorKind.Snapshot, "corrupt snapshot: " + what, 0);
  return null;
}

// Checks the header, the checksum and the section structure.
export function parseSnapshot(p: usize, len: u32): Parsed | null {
  if (len < 24 || load<u64>(p) != MAGIC) return corrupt("not a handover snapshot");
  const version = load<u32>(p, 8);
  if (version != FORMAT_VERSION) {
    fail(ErrorKind.Snapshot, "unsupported snapshot format version " + version.toString() + " (this VM reads " + FORMAT_VERSION.toString() + ")", 0);
    return null;
  }
  if (checksum64(p, len - 8) != load<u64>(p + len - 8)) return corrupt("checksum mismatch (damaged or truncated)");
  const c = new Cursor(p + 12, p + len - 8);
  const s = new Parsed();
  s.base = p;
  s.length = len;
  s.flags = c.u32();
  const vlen = c.u32();
  const vp = c.skip(vlen);
  if (c.broken) return corrupt("header");
  s.version = String.UTF8.decodeUnsafe(vp, vlen);
  s.hash = c.skip(32);
  let last = 0;
  while (!c.broken && c.p < c.end) {
    const tag = c.u32();
    const size = c.u32();
    const at = c.skip(size);
    if (c.broken) break;
    const r = sectionRank(tag);
    if (r < 0) return corrupt("unknown section " + tag.toString());
    if (r <= last) return corrupt("section " + tag.toString() + " out of order or repeated");
    last = r;
    if (!wellFormed(tag, at, size)) return corrupt("section " + tag.toString() + " is not laid out as its counts say");
    switch (tag) {
      case SEC_STATE: s.state = at; break;
      case SEC_GLOBALS: s.globals = at; break;
      case SEC_MEMORY: s.memory = at; break;
      case SEC_TABLES: s.tables = at; break;
      case SEC_SEGMENTS: s.segments = at; break;
      case SEC_FRAMES: s.frames = at; s.frameCount = load<u32>(at); break;
      case SEC_HOST: s.host = at + 4; s.hostLen = load<u32>(at); break;
      case SEC_MODULE: s.module = at + 4; s.moduleLen = load<u32>(at); break;
      case SEC_COUNTERS: s.counters = at; s.countersEnd = at + size; break;
      case SEC_HOST_CALL: s.hostCall = at; s.hostCallEnd = at + size; break;
      case SEC_PROBES: s.probes = at; break;
      default: return corrupt("unknown section " + tag.toString());
    }
  }
  if (c.broken || s.state == 0 || s.globals == 0 || s.memory == 0 || s.tables == 0 || s.segments == 0 || s.frames == 0 || s.host == 0) {
    return corrupt("missing or truncated section");
  }
  if (((s.flags & FLAG_EMBED_MODULE) != 0) != (s.module != 0)) return corrupt("the module section does not match the header's flags");
  if (((load<u8>(s.state) & 2) != 0) != (s.counters != 0)) return corrupt("the counters section does not match the state's mode");
  if (((load<u8>(s.state) & 4) != 0) != (s.probes != 0)) return corrupt("the probes section does not match the state's mode");
  return s;
}

function sameHash(s: Parsed, m: Module): bool {
  const h = heap.alloc(32);
  sha256(m.bytes, m.length, h);
  let same = true;
  for (let i: usize = 0; i < 32; i += 8) if (load<u64>(h + i) != load<u64>(s.hash + i)) same = false;
  heap.free(h);
  return same;
}

// Restores snapshot `s` into a new instance of `m` (imports as for instantiate). Returns the
// instance, its activation (if any) suspended and ready to resume; or null with the error set.
// `adopted` (one MemInst per memory the module defines) are memories the host filled itself (a
// migration's pages): they become the instance's, grown to the snapshot's sizes, their contents
// untouched; refused, the restore leaves them as they were.
export function restoreSnapshot(s: Parsed, m: Module, importAddrs: usize, io: usize, adopted: usize[] | null = null): Instance | null {
  if (!sameHash(s, m)) {
    fail(ErrorKind.Snapshot, "the snapshot was taken from a different module", 0);
    return null;
  }
  const mode = load<u8>(s.state);
  const metered = (mode & 1) != 0;
  const monitored = (mode & 2) != 0;
  if ((metered != meteringEnabled || monitored != monitoringEnabled) && compiledFunctions > 0) {
    fail(ErrorKind.Snapshot, "the snapshot needs metering " + (metered ? "on" : "off") + (monitored ? " with monitoring" : "") + ", and this store already runs code", 0);
    return null;
  }
  if (monitored && s.counters == 0) return corruptInst("monitor counters missing");
  // Probes decide where functions stop: the restoring store compiles the snapshot's.
  if (!sameProbes(s)) {
    if (compiledFunctions > 0) {
      fail(ErrorKind.Snapshot, "the snapshot needs other probes, and this store already runs code", 0);
      return null;
    }
  }
  // The whole plan is checked against the module before the store changes.
  if (!checkPlan(s, m)) return null;
  if (adopted !== null && !checkAdopted(s, m, importAddrs, adopted)) return null;
  // Frames go at the bottom of the stacks: nothing else may be running.
  if (s.frameCount > 0 && activationCount() > 0) {
    fail(ErrorKind.Snapshot, "cannot restore a running guest while another activation is pending", 0);
    return null;
  }
  setMetering(metered);
  setMonitoring(monitored);
  adoptProbes(s);
  // Whatever fails from here on is undone: a refused snapshot's instance is dropped again.
  const acts = activationCount();
  const inst = instantiate(m, importAddrs, memorySizes(s), adopted);
  if (inst === null) return null;
  // Adopted memories grow last: the one change a later refusal could not take back.
  if (!applyData(s, inst, adopted !== null) || (s.counters != 0 && !applyCounters(s, inst)) || (s.frameCount > 0 && !applyFrames(s, inst, io))
      || (adopted !== null && !growAdopted(s, inst))) {
    if (activationCount() > acts) abortActivation();
    dropInstance(inst, adopted);
    return null;
  }
  state.fuelLeft = load<u64>(s.state, 1);
  if (s.probes != 0) applyProbes(s, inst);
  else probes.setClock(0);
  return inst;
}

function corruptInst(what: string): Instance | null {
  corrupt(what);
  return null;
}

// The probe configuration of the snapshot (none when it has no probes section).
function probeKindsOf(s: Parsed): u32 { return s.probes == 0 ? 0 : load<u32>(s.probes); }
function recordKindsOf(s: Parsed): u32 { return s.probes == 0 ? 0 : load<u32>(s.probes, 4); }

function sameProbes(s: Parsed): bool {
  if (probeKindsOf(s) != probes.probeKinds || recordKindsOf(s) != probes.recordKinds) return false;
  if (s.probes == 0) return true;
  const n = load<u32>(s.probes, 16);
  if (n != <u32>probes.sites.size) return false;
  for (let i: u32 = 0; i < n; i++) {
    const at = s.probes + 20 + (<usize>i << 3);
    if (!probes.sites.has((<u64>load<u32>(at) << 32) | <u64>load<u32>(at, 4))) return false;
  }
  return true;
}

function adoptProbes(s: Parsed): void {
  probes.setProbes(probeKindsOf(s), recordKindsOf(s));
  if (s.probes == 0) return;
  // A trace buffer from the start, even if the restore is refused later and the store runs on.
  if ((recordKindsOf(s) & probes.RECORD_MEMORY) != 0 && probes.traceCapacity() == 0) probes.setTraceCapacity(load<u32>(s.probes, 8));
  probes.sites.clear();
  const n = load<u32>(s.probes, 16);
  for (let i: u32 = 0; i < n; i++) {
    const at = s.probes + 20 + (<usize>i << 3);
    probes.sites.add((<u64>load<u32>(at) << 32) | <u64>load<u32>(at, 4));
  }
}

// The recorded probe state, after the frames are in place (a refused snapshot changes none of it).
function applyProbes(s: Parsed, inst: Instance): void {
  const c = new Cursor(s.probes + 8, s.base + s.length);
  const capacity = c.u32();
  c.u32();
  c.skip(<usize>c.u32() << 3);
  probes.setClock(c.u64());
  for (let n = c.u32(); n > 0; n--) {
    const index = c.u32();
    const v = c.u64();
    if (index < <u32>inst.funcs.length) probes.setInclusive(load<u32>(unchecked(inst.funcs[index]), FUNC_ADDR), v);
  }
  for (let n = c.u32(); n > 0; n--) {
    const index = c.u32();
    const started = c.u64();
    if (index < <u32>inst.funcs.length) probes.shadowPush(load<u32>(unchecked(inst.funcs[index]), FUNC_ADDR), started);
  }
  probes.indirect.clear();
  for (let n = c.u32(); n > 0; n--) {
    const key = (<u64>c.u32() << 32) | <u64>c.u32();
    probes.indirect.set(key, c.u64());
  }
  const held = c.u32();
  if ((probes.recordKinds & probes.RECORD_MEMORY) != 0) {
    probes.setTraceCapacity(capacity > held ? capacity : held);
    probes.traceClear();
    probes.traceAppend(c.skip(<usize>held << 3), held);
  }
}

// The phase of the top frame's stop (0 without probes).
function topPhaseOf(s: Parsed): u32 {
  return s.probes == 0 ? 0 : load<u32>(s.probes, 12);
}

// Counters go to the same segments (matched by bytecode offset) of the recompiled functions.
function applyCounters(s: Parsed, inst: Instance): bool {
  const c = new Cursor(s.counters, s.countersEnd);
  const n = c.u32();
  for (let k: u32 = 0; k < n && !c.broken; k++) {
    const index = c.u32();
    const segs = c.u32();
    const defined = inst.module.numImportedFuncs;
    if (c.broken || index < defined || index >= <u32>inst.funcs.length) break;
    const rec = unchecked(inst.funcs[index]);
    if (load<usize>(rec, FUNC_CODE) == 0) compileFunction(rec);
    const counters = countersOf(load<u32>(rec, FUNC_ADDR));
    if (counters === null || <u32>counters.segments != segs) { corrupt("monitor counters do not match the module"); return false; }
    for (let i = 0; i < <i32>segs; i++) {
      const offset = c.u32();
      const count = c.u64();
      if (unchecked(counters.segs[i * 4]) != offset) { corrupt("monitor counters do not match the module"); return false; }
      counters.setCount(i, count);
    }
  }
  if (c.broken) { corrupt("monitor counters"); return false; }
  return true;
}

function checkPlan(s: Parsed, m: Module): bool {
  const bad = (what: string): bool => { corrupt(what); return false; };
  let c = new Cursor(s.globals, s.globals + 4 + <usize>load<u32>(s.globals) * 8);
  if (load<u32>(s.globals) != <u32>m.globalTypes.length) return bad("globals do not match the module");
  if (load<u32>(s.state, 9) != m.numFuncs()) return bad("functions do not match the module");
  if (!refsInRange(s, m)) return bad("a table or global holds a reference to no function of the instance");
  c = new Cursor(s.memory, s.base + s.length);
  const mems = c.u32();
  if (mems != <u32>m.memoryTypes.length) return bad("memories do not match the module");
  for (let i: u32 = 0; i < mems; i++) {
    const pages = c.u32();
    const t = unchecked(m.memoryTypes[i]);
    if (pages < t.min || (t.hasMax && pages > t.max)) return bad("memory size outside the module's limits");
    const n = c.u32();
    for (let k: u32 = 0; k < n; k++) {
      if (c.u32() >= pages) return bad("memory page out of range");
      c.skip(PAGE_SIZE);
    }
  }
  if (c.broken) return bad("memory section");
  c = new Cursor(s.tables, s.base + s.length);
  const tables = c.u32();
  if (tables != <u32>m.tableTypes.length) return bad("tables do not match the module");
  for (let i: u32 = 0; i < tables; i++) {
    const size = c.u32();
    const t = unchecked(m.tableTypes[i]);
    if (size < t.limits.min || (t.limits.hasMax && size > t.limits.max)) return bad("table size outside the module's limits");
    c.skip(<usize>size << 2);
  }
  if (c.broken) return bad("table section");
  c = new Cursor(s.segments, s.base + s.length);
  if (c.u32() != <u32>m.elems.length) return bad("element segments do not match the module");
  c.skip(<usize>m.elems.length << 2);
  if (c.u32() != <u32>m.datas.length) return bad("data segments do not match the module");
  c = new Cursor(s.frames + 4, s.base + s.length);
  for (let k: u32 = 0; k < s.frameCount; k++) {
    const index = c.u32();
    c.u32();
    const locals = c.u32();
    const height = c.u32();
    if (c.broken) return bad("frames");
    if (index < m.numImportedFuncs || index >= m.numFuncs()) return bad("a frame names no function of the module");
    const code = unchecked(m.codes[index - m.numImportedFuncs]);
    if (locals != <u32>m.funcType(index).params.length + code.numLocals) return bad("a frame's locals do not match its function");
    c.skip(<usize>(locals + height) << 3);
  }
  if (c.broken) return bad("frames");
  if (s.probes != 0) {
    const kinds = load<u32>(s.probes);
    const records = load<u32>(s.probes, 4);
    const capacity = load<u32>(s.probes, 8);
    if ((kinds & ~probes.PROBE_ALL) != 0 || (records & ~probes.RECORD_ALL) != 0) return bad("unknown probe kinds");
    if ((records & probes.RECORD_MEMORY) != 0 && (capacity == 0 || capacity > probes.MAX_TRACE_RECORDS)) return bad("memory trace capacity");
    c = new Cursor(s.probes + 16, s.base + s.length);
    c.skip(<usize>c.u32() << 3);
    c.u64();
    for (let n = c.u32(); n > 0 && !c.broken; n--) {
      const index = c.u32();
      c.u64();
      if (index >= m.numFuncs()) return bad("inclusive counts name no function of the module");
    }
    for (let n = c.u32(); n > 0 && !c.broken; n--) {
      const index = c.u32();
      c.u64();
      if (index < m.numImportedFuncs || index >= m.numFuncs()) return bad("the shadow stack names no function of the module");
    }
    c.skip(<usize>c.u32() << 4);
    const held = c.u32();
    if (c.broken || ((records & probes.RECORD_MEMORY) == 0 ? held != 0 : held > probes.MAX_TRACE_RECORDS)) return bad("probes");
  }
  if (s.hostCall != 0) {
    if (s.frameCount == 0 || s.hostCallEnd - s.hostCall < 8) return bad("pending host call");
    const np = load<u32>(s.hostCall, 4);
    if (<usize>8 + <usize>np * 8 != <usize>(s.hostCallEnd - s.hostCall)) return bad("pending host call");
  }
  return true;
}

// Function references in the tables and reference globals name functions of the instance.
function refsInRange(s: Parsed, m: Module): bool {
  const n = m.numFuncs();
  const c = new Cursor(s.tables + 4, s.base + s.length);
  for (let i = 0; i < m.tableTypes.length && !c.broken; i++) {
    const size = c.u32();
    const funcs = unchecked(m.tableTypes[i]).elemType == ValType.FuncRef;
    for (let k: u32 = 0; k < size && !c.broken; k++) if (c.u32() > n && funcs) return false;
  }
  for (let i = 0; i < m.globalTypes.length; i++) {
    const v = load<u64>(s.globals + 4 + (<usize>i << 3));
    if (unchecked(m.globalTypes[i]).valType == ValType.FuncRef && v > <u64>n) return false;
  }
  return true;
}

// The snapshot's pages per memory index (checkPlan proved the section well formed).
function memorySizes(s: Parsed): u32[] {
  const c = new Cursor(s.memory, s.base + s.length);
  const sizes: u32[] = [];
  for (let n = c.u32(); n > 0; n--) {
    sizes.push(c.u32());
    c.skip(<usize>c.u32() * (4 + PAGE_SIZE));
  }
  return sizes;
}

// Whether the host's memories may become the defined memories of an instance of `m` restored
// from `s`: the snapshot carries none of their pages (it was taken without memory), each has the
// module's type, is not larger than the snapshot says, may grow to that size, and nothing else
// holds it.
function checkAdopted(s: Parsed, m: Module, importAddrs: usize, adopted: usize[]): bool {
  const c = new Cursor(s.memory, s.base + s.length);
  const first = m.numImportedMemories;
  const n = c.u32();
  for (let i: u32 = 0; i < n; i++) {
    const pages = c.u32();
    const stored = c.u32();
    c.skip(<usize>stored * (4 + PAGE_SIZE));
    if (i < first) continue;
    const rec = unchecked(adopted[i - first]);
    const addr = addressOf(memories, rec).toString();
    if (stored != 0) {
      fail(ErrorKind.Snapshot, "the snapshot carries the contents of memory " + i.toString() + ": adopting memory " + addr + " needs a snapshot taken without memory", 0);
      return false;
    }
    const t = unchecked(m.memoryTypes[i]);
    const max = load<u32>(rec, MEM_MAX);
    const have = load<u32>(rec, MEM_PAGES);
    if (max != (t.hasMax ? t.max : NO_MAX) || have < t.min) {
      fail(ErrorKind.Unlinkable, "memory " + addr + " (" + limitsText(have, max) + ") does not match the module's memory " + i.toString() + " (" + limitsText(t.min, t.hasMax ? t.max : NO_MAX) + ")", 0);
      return false;
    }
    if (have > pages) {
      fail(ErrorKind.Snapshot, "memory " + addr + " has " + have.toString() + " pages, more than the snapshot's " + pages.toString(), 0);
      return false;
    }
    if (pages > pageLimit) {
      fail(ErrorKind.Limit, "cannot grow memory to the snapshot's " + pages.toString() + " pages", 0);
      return false;
    }
    const user = listedBy(ExternKind.Memory, rec, null);
    if (user !== null) {
      fail(ErrorKind.Limit, "memory " + addr + " belongs to or is imported by instance " + user.id.toString(), 0);
      return false;
    }
    if (rec == builtinMemoryRec) {
      fail(ErrorKind.Limit, "memory " + addr + " is the builtin memory", 0);
      return false;
    }
    for (let k = 0; k < m.imports.length; k++) {
      const imp = unchecked(m.imports[k]);
      if (imp.kind == ExternKind.Memory && externRecord(ExternKind.Memory, load<u32>(importAddrs + (<usize>k << 2))) == rec) {
        fail(ErrorKind.Limit, "memory " + addr + " is also one of the module's imports", 0);
        return false;
      }
    }
  }
  return true;
}

function limitsText(min: u32, max: u32): string {
  return max == NO_MAX ? min.toString() + " pages, no maximum" : min.toString() + " pages, maximum " + max.toString();
}

// Grows each adopted memory to the snapshot's size: what growth adds is zero, the rest is the
// host's, as it wrote it.
function growAdopted(s: Parsed, inst: Instance): bool {
  const sizes = memorySizes(s);
  for (let i = <i32>inst.module.numImportedMemories; i < inst.memories.length; i++) {
    const rec = unchecked(inst.memories[i]);
    const pages = unchecked(sizes[i]);
    const have = load<u32>(rec, MEM_PAGES);
    if (pages > have && growMemory(rec, pages - have) < 0) {
      fail(ErrorKind.Limit, "cannot grow memory to the snapshot's " + pages.toString() + " pages", 0);
      return false;
    }
  }
  return true;
}

// Memories get the snapshot's pages. Defined memories were made at the snapshot's size and are
// all zero (instantiate with sizes), adopted ones are left to growAdopted; an imported memory
// holds what its owner put there, so it is zeroed, except for the pages its growth adds.
function applyData(s: Parsed, inst: Instance, adopting: bool): bool {
  for (let i = 0; i < inst.globals.length; i++) {
    const g = unchecked(inst.globals[i]);
    const v = load<u64>(s.globals + 4 + (<usize>i << 3));
    store<u64>(g, load<u8>(g, GLOBAL_TYPE) == ValType.FuncRef ? <u64>refIn(inst, <u32>v) : v, GLOBAL_VALUE);
  }
  let c = new Cursor(s.memory + 4, s.base + s.length);
  const first = <i32>inst.module.numImportedMemories;
  for (let i = 0; i < inst.memories.length; i++) {
    const rec = unchecked(inst.memories[i]);
    const pages = c.u32();
    if (i >= first && adopting) {
      c.u32();
      continue;
    }
    const have = load<u32>(rec, MEM_PAGES);
    if (pages > have && growMemory(rec, pages - have) < 0) {
      fail(ErrorKind.Limit, "cannot grow memory to the snapshot's " + pages.toString() + " pages", 0);
      return false;
    }
    const base = load<usize>(rec, MEM_BASE);
    if (i < first) {
      if (base == 0) hostedZero(0, have * PAGE_SIZE);
      else memory.fill(base, 0, <usize>have * PAGE_SIZE);
    }
    const n = c.u32();
    for (let k: u32 = 0; k < n; k++) {
      const pg = c.u32();
      if (base == 0) hostedInit(pg * PAGE_SIZE, c.skip(PAGE_SIZE), PAGE_SIZE);
      else memory.copy(base + <usize>pg * PAGE_SIZE, c.skip(PAGE_SIZE), PAGE_SIZE);
    }
  }
  c = new Cursor(s.tables + 4, s.base + s.length);
  for (let i = 0; i < inst.tables.length; i++) {
    const rec = unchecked(inst.tables[i]);
    const size = c.u32();
    const have = load<u32>(rec, TABLE_LEN);
    if (size > have && growTable(rec, size - have, 0) < 0) {
      fail(ErrorKind.Limit, "cannot grow a table to the snapshot's size", 0);
      return false;
    }
    const elems = load<usize>(rec, TABLE_ELEMS);
    const from = c.skip(<usize>size << 2);
    if (load<u32>(rec, TABLE_TYPE) == ValType.FuncRef) {
      for (let k: u32 = 0; k < size; k++) store<u32>(elems + (<usize>k << 2), refIn(inst, load<u32>(from + (<usize>k << 2))));
    } else memory.copy(elems, from, <usize>size << 2);
  }
  c = new Cursor(s.segments, s.base + s.length);
  c.u32();
  for (let i = 0; i < inst.elems.length; i++) setSegLen(unchecked(inst.elems[i]), c.u32());
  c.u32();
  for (let i = 0; i < inst.datas.length; i++) setSegLen(unchecked(inst.datas[i]), c.u32());
  return true;
}

// A segment only ever shrinks to 0 (dropped).
function setSegLen(seg: usize, len: u32): void {
  if (len < load<u32>(seg, SEG_LEN)) store<u32>(seg, 0, SEG_LEN);
}

// The IR offset of the stop point (bytecode offset, height, phase) in compiled function `rec`, or -1.
function stopFor(rec: usize, bc: u32, height: u32, phase: u32): i64 {
  const t = stopsOf(load<u32>(rec, FUNC_ADDR));
  if (t === null) return -1;
  for (let i = 0; i + 3 < t.length; i += 4) {
    if (unchecked(t[i + 1]) == bc && unchecked(t[i + 2]) == height && unchecked(t[i + 3]) == phase) return <i64>unchecked(t[i]);
  }
  return -1;
}

function applyFrames(s: Parsed, inst: Instance, io: usize): bool {
  // A snapshot taken while the guest waited for a host function: one of the instance's imports,
  // a host function here too (instantiation checked its type).
  let hostCallee: usize = 0;
  if (s.hostCall != 0) {
    const index = load<u32>(s.hostCall);
    if (index >= inst.module.numImportedFuncs || load<u32>(unchecked(inst.funcs[index]), FUNC_KIND) != FUNC_HOST
        || <u32>load<u16>(unchecked(inst.funcs[index]), FUNC_NPARAMS) != load<u32>(s.hostCall, 4)) {
      corrupt("the pending host call names no imported host function");
      return false;
    }
    hostCallee = unchecked(inst.funcs[index]);
  }
  const c = new Cursor(s.frames + 4, s.base + s.length);
  // Each frame's function, to know the callee's result count of the frame below.
  const recs = new StaticArray<usize>(s.frameCount);
  let p = c.p;
  for (let k: u32 = 0; k < s.frameCount; k++) {
    const index = load<u32>(p);
    unchecked((recs[k] = unchecked(inst.funcs[index])));
    p += 16 + (<usize>(load<u32>(p, 8) + load<u32>(p, 12)) << 3);
  }
  let csp = beginRestoredActivation(unchecked(recs[0]));
  let fp = state.stackBase;
  for (let k: u32 = 0; k < s.frameCount; k++) {
    const rec = unchecked(recs[k]);
    c.u32();
    const bc = c.u32();
    const locals = c.u32();
    const height = c.u32();
    if (load<u32>(rec, FUNC_KIND) != FUNC_WASM) { corrupt("a frame names a host function"); return false; }
    let code = load<usize>(rec, FUNC_CODE);
    if (code == 0) code = compileFunction(rec);
    const top = k + 1 == s.frameCount;
    const callee = top ? hostCallee : unchecked(recs[k + 1]);
    const stopHeight = callee == 0 ? height : height + <u32>load<u16>(callee, FUNC_NRESULTS);
    const ir = stopFor(rec, bc, stopHeight, top ? topPhaseOf(s) : 0);
    if (ir < 0) { corrupt("a frame's position is no resumable point of its function"); return false; }
    const bytes = <usize>(locals + height) << 3;
    if (fp + <usize>load<u32>(rec, FUNC_FRAME_BYTES) > state.stackLimit || csp >= state.callLimit) {
      fail(ErrorKind.Limit, "the snapshot's frames exceed this VM's stack", 0);
      return false;
    }
    const values = c.skip(bytes);
    memory.copy(fp, values, bytes);
    const types = typesOfFrame(inst.module, load<u32>(rec, FUNC_INDEX), bc, locals, height);
    if (types == 0 || !mapRefs(fp, types, locals + height, false, inst)) { corrupt("a frame's slots do not fit its function"); return false; }
    const pc = code + <usize>ir;
    if (top) {
      setMachineState(pc, fp, csp, rec);
      if (hostCallee != 0) {
        // The arguments go where the call left them: the callee's frame, above this one.
        const np = <usize>load<u16>(hostCallee, FUNC_NPARAMS);
        memory.copy(fp + bytes, s.hostCall + 8, np << 3);
        if (!mapRefs(fp + bytes, funcType(hostCallee).params.dataStart, <u32>np, false, inst)) { corrupt("pending host call"); return false; }
        setPendingHostCall(hostCallee, fp + bytes, io);
      }
    } else {
      store<usize>(csp, pc);
      store<usize>(csp, fp, 4);
      store<usize>(csp, rec, 8);
      csp += state.FRAME_RECORD;
      fp += bytes;
    }
  }
  state.suspendReason = state.SUSPEND_SLICE;
  return true;
}
