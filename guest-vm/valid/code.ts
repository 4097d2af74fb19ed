// Function bodies (spec 3.3 "Instructions", 3.4.1 "Functions"; Wasm 2.0 without SIMD). The decoder
// leaves a body as a byte range, so this file both decodes its instructions (spec 5.4) and
// type-checks them, in one pass, with the spec's validation algorithm (appendix 7.3): an operand
// stack of value types, where UNKNOWN stands for the polymorphic stack below an unreachable
// instruction, and a control stack of frames (kind, block type, operand height, unreachable flag).
//
// Robustness: every index read from a body is checked before it is used, every loop is bounded by
// the bytes it reads, and nesting is an explicit stack, so no input can trap the VM or make it
// recurse. Error kinds: what the binary grammar rules out (illegal opcodes, non-zero reserved
// bytes, a body that does not end with its final `end`, memory.init/data.drop without a data count
// section) is Malformed; type errors and unknown indices are Invalid. The offset is the
// instruction's.
//
// Speed: the per-instruction path touches only primitives — module-level state and raw tables
// built once per module by beginModule — because AssemblyScript's incremental GC spills every
// managed reference that is live across a call to its shadow stack; and the stack primitives are
// inlined. Together that made validation about 4x faster (~3-5 ns per instruction on V8). The
// stacks are reused for all functions and modules.

import { ErrorKind, fail, hasError } from "../binary/error";
import { Reader } from "../binary/reader";
import { Code, Module, ValType } from "../binary/module";
import { Op, numericSig } from "../binary/opcodes";

// The bottom type of the spec's algorithm: matches every value type. No value type byte is 0.
const UNKNOWN: u8 = 0;
const I32: u8 = <u8>ValType.I32;

// Control frame kinds: the opcode that opened the frame; FUNC for the body's implicit block.
const FUNC: u8 = 0;
const LOOP: u8 = <u8>Op.LOOP;
const IF: u8 = <u8>Op.IF;
const ELSE: u8 = <u8>Op.ELSE;

// A block type is a type index (>= 0) or the negated type byte: -0x40 for the empty type, else the
// negated value type of its single result. A function's frame uses its type index.
const BT_EMPTY: i32 = -0x40;

// A control frame in memory: kind u8 @0, unreachable u8 @1, operand height u32 @4, block type @8.
const FRAME_SIZE: usize = 12;

// Implementation limits (ErrorKind.Limit) on the operand stack height and the nesting depth. Both
// grow with the body's size (one call can push up to 1000 results), so without them a large body
// could make the stacks outgrow the VM's memory; real code stays far below.
export const MAX_OPERANDS: u32 = 1 << 20;
export const MAX_NESTING: u32 = 1 << 20;

// A result type as (address of its value type bytes << 32) | count: a view into the module's
// FuncType arrays (or into SINGLE), so block and call types need no copying.
type Types = u64;
const NO_TYPES: Types = 0;

// Natural alignment (log2 of the access size) and value type of the loads and stores 0x28..0x3e.
// (Static data rather than StaticArrays: see "Speed" above.)
const MEM_ALIGN = memory.data<u8>([2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 3, 2, 3, 0, 1, 0, 1, 2]);
const MEM_TYPE = memory.data<u8>([
  0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e,
  0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e,
]);

// numericSig's table, copied to plain memory for the same reason.
const NUM_OPS: u32 = <u32>Op.TABLE_FILL + 1; // every opcode of Wasm 2.0 without SIMD
const SIGS: usize = heap.alloc(<usize>NUM_OPS << 2);
for (let op: u32 = 0; op < NUM_OPS; op++) store<u32>(SIGS + (<usize>op << 2), numericSig(op));

// SINGLE + t holds the byte t: the one-element result type [t] of a value block type.
const SINGLE: usize = heap.alloc(256);
for (let i = 0; i < 256; i++) store<u8>(SINGLE + i, <u8>i);

// ── per-module tables (beginModule) ────────────────────────────────────────────────────────────
let base: usize = 0; // address of the module's byte 0, for error offsets
let typeTab: usize = heap.alloc(0); // per type: params Types @0, results Types @8
let numTypes: u32 = 0;
let funcTab: usize = heap.alloc(0); // per function: type index (u32)
let numFuncs: u32 = 0;
let globalTab: usize = heap.alloc(0); // per global: value type | 0x80 when mutable
let numGlobals: u32 = 0;
let tableTab: usize = heap.alloc(0); // per table: element type
let numTables: u32 = 0;
let elemTab: usize = heap.alloc(0); // per element segment: element type
let numElems: u32 = 0;
let declaredTab: usize = heap.alloc(0); // per function: 1 when ref.func may name it (C.refs)
let numMemories: u32 = 0;
let dataCount: i32 = -1; // -1: no data count section
let numDatas: u32 = 0; // segments in the data section

// ── per-function state ─────────────────────────────────────────────────────────────────────────
let pos: usize = 0; // next byte of the body
let end: usize = 0; // one past the body's final `end`
let at: usize = 0; // the instruction being validated
let failed = false; // an error has been recorded for this function

let vals: usize = heap.alloc(256); // operand stack: one value type byte per entry
let valsCap: u32 = 256;
let valsLen: u32 = 0;

let ctrls: usize = heap.alloc(64 * FRAME_SIZE); // control stack
let ctrlsCap: u32 = 64;
let ctrlsLen: u32 = 0;
let frame: usize = 0; // top frame

// Locals: the parameters, then runs of declared locals; runEnds[i] is one past the last local
// index of run i, so a local's type is found by binary search without expanding the runs (a body
// of a few bytes may declare 50000 locals).
let params: Types = NO_TYPES;
let runTypes: usize = 0; // the Code's localTypes bytes
let runEnds: usize = heap.alloc(64 << 2);
let runsCap: u32 = 64;
let numRuns: u32 = 0;
let numLocals: u32 = 0; // parameters included

// Multi-byte LEB128 immediates go through a Reader for its exact error messages.
const reader = new Reader(0, 0, 0);

function table(old: usize, size: usize): usize {
  heap.free(old);
  return heap.alloc(size);
}

@inline function types(arr: u8[]): Types {
  return (<u64>arr.dataStart << 32) | <u64>arr.length;
}

// ── module context (spec 3.1.1 "Contexts") ─────────────────────────────────────────────────────

// Prepares for the bodies of `m`, whose type, import and definition indices are known to be in
// range. The tables point into `m`'s arrays, which must not change until validation is over.
export function beginModule(m: Module): void {
  base = m.bytes;
  numTypes = <u32>m.types.length;
  typeTab = table(typeTab, <usize>numTypes << 4);
  for (let i: u32 = 0; i < numTypes; i++) {
    const t = unchecked(m.types[i]);
    store<u64>(typeTab + (<usize>i << 4), types(t.params));
    store<u64>(typeTab + (<usize>i << 4), types(t.results), 8);
  }
  numFuncs = m.numFuncs();
  funcTab = table(funcTab, <usize>numFuncs << 2);
  memory.copy(funcTab, m.funcTypeIndices.dataStart, <usize>numFuncs << 2);
  declaredTab = table(declaredTab, numFuncs);
  memory.fill(declaredTab, 0, numFuncs);
  numGlobals = <u32>m.globalTypes.length;
  globalTab = table(globalTab, numGlobals);
  for (let i: u32 = 0; i < numGlobals; i++) {
    const g = unchecked(m.globalTypes[i]);
    store<u8>(globalTab + i, g.valType | (g.mutable ? 0x80 : 0));
  }
  numTables = <u32>m.tableTypes.length;
  tableTab = table(tableTab, numTables);
  for (let i: u32 = 0; i < numTables; i++) store<u8>(tableTab + i, unchecked(m.tableTypes[i]).elemType);
  numElems = <u32>m.elems.length;
  elemTab = table(elemTab, numElems);
  for (let i: u32 = 0; i < numElems; i++) store<u8>(elemTab + i, unchecked(m.elems[i]).elemType);
  numMemories = <u32>m.memoryTypes.length;
  dataCount = m.dataCount;
  numDatas = <u32>m.datas.length;
}

// Adds function x to C.refs, the functions that ref.func may name (spec 3.4.10).
export function declareFunc(x: u32): void {
  if (x < numFuncs) store<u8>(declaredTab + x, 1);
}

// ── errors ─────────────────────────────────────────────────────────────────────────────────────
function invalid(message: string): void {
  fail(ErrorKind.Invalid, message, <u32>(at - base));
  failed = true;
}

function malformed(message: string, where: usize): void {
  fail(ErrorKind.Malformed, message, <u32>(where - base));
  failed = true;
}

function unknown(what: string, index: u32): void {
  invalid("unknown " + what + " " + index.toString());
}

function mismatch(): void {
  invalid("type mismatch");
}

function limit(message: string): void {
  fail(ErrorKind.Limit, message, <u32>(at - base));
  failed = true;
}

// ── immediates (spec 5.4) ──────────────────────────────────────────────────────────────────────
// Single-byte encodings, by far the most common, are read inline.

const LEB_U32: i32 = 0;
const LEB_I32: i32 = 1;
const LEB_I64: i32 = 2;
const LEB_S33: i32 = 3;

// Reads a LEB128 of the given kind with the Reader; the value (s33 widened, others truncated).
function slowLeb(kind: i32): i64 {
  const r = reader;
  r.base = base;
  r.pos = pos;
  r.end = end;
  let v: i64 = 0;
  switch (kind) {
    case LEB_U32: v = <i64>r.u32(); break;
    case LEB_I32: v = <i64>r.i32(); break;
    case LEB_I64: v = r.i64(); break;
    default: v = r.s33();
  }
  pos = r.pos;
  if (hasError()) failed = true;
  return v;
}

@inline function readU32(): u32 {
  if (pos < end) {
    const b = <u32>load<u8>(pos);
    if (b < 0x80) { pos++; return b; }
  }
  return <u32>slowLeb(LEB_U32);
}

@inline function skipLeb(kind: i32): void {
  if (pos < end && load<u8>(pos) < 0x80) { pos++; return; }
  slowLeb(kind);
}

function readByte(): u32 {
  if (pos >= end) { malformed("unexpected end", pos); return 0; }
  return <u32>load<u8>(pos++);
}

function skipBytes(n: u32): void {
  if (end - pos < <usize>n) { malformed("unexpected end", pos); pos = end; return; }
  pos += n;
}

// A byte that Wasm 2.0 reserves as 0x00 (a memory index, spec 5.4.6): exactly one byte, so
// even an over-long LEB128 zero is malformed.
function zeroByte(): void {
  const where = pos;
  const b = readByte();
  if (!failed && b != 0) malformed("zero byte expected", where);
}

function isValType(b: u32): bool {
  return (b >= <u32>ValType.V128 && b <= <u32>ValType.I32) || isRef(<u8>b);
}

@inline function isRef(t: u8): bool {
  return t == <u8>ValType.FuncRef || t == <u8>ValType.ExternRef;
}

// ── operand stack (appendix: push_val, pop_val, push_vals, pop_vals) ───────────────────────────
@inline function push(t: u8): void {
  if (valsLen == valsCap && !growVals()) return;
  store<u8>(vals + valsLen, t);
  valsLen++;
}

function growVals(): bool {
  if (valsCap >= MAX_OPERANDS) { limit("operand stack exceeds the VM's limit"); return false; }
  valsCap <<= 1;
  vals = heap.realloc(vals, valsCap);
  return true;
}

// A value of a type taken from the module (a local, global, signature or block type). The VM's
// frames hold 8-byte slots, so v128 values, which only SIMD code produces, are refused here.
function pushType(t: u8): void {
  if (t == <u8>ValType.V128) { limit("SIMD (v128) is not supported"); return; }
  push(t);
}

// Pops any value; UNKNOWN when the stack is polymorphic. Fails on underflow.
@inline function pop(): u8 {
  const f = frame;
  if (valsLen == load<u32>(f, 4)) {
    if (load<u8>(f, 1) == 0) mismatch();
    return UNKNOWN;
  }
  valsLen--;
  return load<u8>(vals + valsLen);
}

@inline function popExpect(expected: u8): void {
  const actual = pop();
  if (actual != expected && actual != UNKNOWN && expected != UNKNOWN) mismatch();
}

function popTypes(ts: Types): void {
  const p = <usize>(ts >>> 32);
  for (let i = <i32>(<u32>ts) - 1; i >= 0; i--) popExpect(load<u8>(p + i));
}

function pushTypes(ts: Types): void {
  const p = <usize>(ts >>> 32);
  for (let i: u32 = 0, n = <u32>ts; i < n; i++) pushType(load<u8>(p + i));
}

// Checks the top of the stack against `ts` without popping: br_table's pop_vals followed by
// push_vals of what was popped.
function peekTypes(ts: Types): void {
  const p = <usize>(ts >>> 32);
  const k = <u32>ts;
  const avail = valsLen - load<u32>(frame, 4);
  for (let j: u32 = 0; j < k; j++) {
    if (j >= avail) {
      if (load<u8>(frame, 1) == 0) mismatch();
      return;
    }
    const actual = load<u8>(vals + valsLen - 1 - j);
    if (actual != load<u8>(p + k - 1 - j) && actual != UNKNOWN) { mismatch(); return; }
  }
}

// ── types of block types and functions ─────────────────────────────────────────────────────────
@inline function typeParams(x: u32): Types { return load<u64>(typeTab + (<usize>x << 4)); }
@inline function typeResults(x: u32): Types { return load<u64>(typeTab + (<usize>x << 4), 8); }

function blockParams(bt: i32): Types {
  return bt >= 0 ? typeParams(<u32>bt) : NO_TYPES;
}

function blockResults(bt: i32): Types {
  if (bt >= 0) return typeResults(<u32>bt);
  if (bt == BT_EMPTY) return NO_TYPES;
  return (<u64>(SINGLE + <usize>(-bt)) << 32) | 1;
}

// 5.4.1 blocktype: 0x40, a value type, or a type index as a non-negative s33.
function blockType(): i32 {
  if (pos >= end) { malformed("unexpected end", pos); return BT_EMPTY; }
  const b = <u32>load<u8>(pos);
  if (b == 0x40) { pos++; return BT_EMPTY; }
  // As in the reference decoder, a byte 0b01xxxxxx is a value type, anything else starts an index.
  if ((b & 0xc0) == 0x40) {
    if (!isValType(b)) { malformed("malformed value type", pos); return BT_EMPTY; }
    pos++;
    return -<i32>b;
  }
  const x = slowLeb(LEB_S33);
  if (failed) return BT_EMPTY;
  if (x < 0 || x >= <i64>numTypes) { invalid("unknown type " + x.toString()); return BT_EMPTY; }
  return <i32>x;
}

// ── control stack (appendix: push_ctrl, pop_ctrl, label_types, unreachable) ────────────────────
function pushCtrl(kind: u8, bt: i32): void {
  if (ctrlsLen == ctrlsCap) {
    if (ctrlsCap >= MAX_NESTING) { limit("blocks nested deeper than the VM's limit"); return; }
    ctrlsCap <<= 1;
    ctrls = heap.realloc(ctrls, <usize>ctrlsCap * FRAME_SIZE);
  }
  const f = ctrls + <usize>ctrlsLen * FRAME_SIZE;
  ctrlsLen++;
  frame = f;
  store<u8>(f, kind);
  store<u8>(f, 0, 1);
  store<u32>(f, valsLen, 4);
  store<i32>(f, bt, 8);
  if (kind != FUNC) pushTypes(blockParams(bt));
}

// Pops the top frame after checking that the operand stack holds exactly its results; returns
// the frame's address, valid until the next pushCtrl.
function popCtrl(): usize {
  const f = frame;
  popTypes(blockResults(load<i32>(f, 8)));
  if (valsLen != load<u32>(f, 4)) mismatch();
  ctrlsLen--;
  frame = f - FRAME_SIZE; // never read once the stack is empty
  return f;
}

// The frame `depth` labels out, or 0 (after an error) when there is no such label.
function label(depth: u32): usize {
  if (depth >= ctrlsLen) { invalid("unknown label " + depth.toString()); return 0; }
  return frame - <usize>depth * FRAME_SIZE;
}

function labelTypes(f: usize): Types {
  const bt = load<i32>(f, 8);
  return load<u8>(f) == LOOP ? blockParams(bt) : blockResults(bt);
}

function unreachable(): void {
  valsLen = load<u32>(frame, 4);
  store<u8>(frame, 1, 1);
}

// ── locals (spec 3.4.1: C.locals = parameters, then declared locals) ───────────────────────────
function setLocals(typeIndex: u32, code: Code): void {
  params = typeParams(typeIndex);
  runTypes = code.localTypes.dataStart;
  const counts = code.localCounts;
  const n = <u32>counts.length;
  if (n > runsCap) {
    runsCap = n;
    runEnds = table(runEnds, <usize>n << 2);
  }
  // The decoder caps the declared locals (MAX_LOCALS), and each parameter takes a byte of the
  // type section, so the total fits a u32.
  let e = <u32>params;
  for (let i: u32 = 0; i < n; i++) {
    e += unchecked(counts[i]);
    store<u32>(runEnds + (<usize>i << 2), e);
  }
  numRuns = n;
  numLocals = e;
}

// The type of local x, or 0 (after an error) when there is no such local.
function localType(x: u32): u8 {
  if (x >= numLocals) { unknown("local", x); return 0; }
  const np = <u32>params;
  if (x < np) return load<u8>(<usize>(params >>> 32) + x);
  // The first run whose end is past x (x < numLocals, so there is one).
  let lo: u32 = 0;
  let hi: u32 = numRuns - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<u32>(runEnds + (<usize>mid << 2)) > x) hi = mid; else lo = mid + 1;
  }
  return load<u8>(runTypes + lo);
}

// ── function bodies (spec 3.4.1) ───────────────────────────────────────────────────────────────

// Validates defined function `funcIndex` (in the function index space) with body `code`. On
// failure the error is recorded (error.ts) and false returned.
export function validateFunction(funcIndex: u32, code: Code): bool {
  if (funcIndex >= numFuncs) { unknown("function", funcIndex); return false; } // not this module's
  beginBody(funcIndex, code);
  instructions();
  if (failed) return false;
  if (pos != end) {
    // The reference decoder reads a body up to its final `end`, then finds the entry's size wrong.
    malformed("section size mismatch", pos);
    return false;
  }
  return true;
}

function beginBody(funcIndex: u32, code: Code): void {
  pos = base + code.bodyStart;
  end = base + code.bodyEnd;
  at = pos;
  failed = false;
  const typeIndex = load<u32>(funcTab + (<usize>funcIndex << 2));
  setLocals(typeIndex, code);
  valsLen = 0;
  ctrlsLen = 0;
  pushCtrl(FUNC, <i32>typeIndex);
}

// The operand types at one bytecode offset of a validated function: the stack the snapshot codec
// needs to tell references from numbers in a frame's untyped slots. The pointer to the types
// (bottom first, valid until the next validation), their count in `typesAtCount`; 0 when the
// offset is no instruction boundary of the body.
let stopPos: usize = 0; // validation stops before the instruction here (0: runs to the end)
export let typesAtCount: u32 = 0;
// (At the body's end the function's results are the stack: see the caller.)
export function operandTypesAt(funcIndex: u32, code: Code, offset: u32): usize {
  if (funcIndex >= numFuncs || offset >= code.bodyEnd) return 0;
  beginBody(funcIndex, code);
  stopPos = base + offset;
  instructions();
  stopPos = 0;
  if (failed || pos != base + offset) return 0;
  typesAtCount = valsLen;
  return vals;
}

// Each iteration consumes at least the opcode byte, so the loop is bounded by the body.
function instructions(): void {
  while (ctrlsLen != 0) {
    if (pos == stopPos) return;
    if (pos >= end) {
      // The decoder saw a final 0x0b, but it was an immediate or closed an inner block.
      malformed("END opcode expected", end);
      return;
    }
    at = pos;
    const op = <u32>load<u8>(pos++);
    switch (op) {
      // 3.3.5 Variable instructions (the most frequent, first)
      case Op.LOCAL_GET: {
        const t = localType(readU32());
        if (!failed) pushType(t);
        break;
      }
      case Op.LOCAL_SET: {
        const t = localType(readU32());
        if (!failed) popExpect(t);
        break;
      }
      case Op.LOCAL_TEE: {
        const t = localType(readU32());
        if (!failed) { popExpect(t); pushType(t); }
        break;
      }
      case Op.GLOBAL_GET: case Op.GLOBAL_SET: variable(op); break;

      // 3.3.1 Numeric instructions: constants (the others are table-driven, below)
      case Op.I32_CONST: skipLeb(LEB_I32); push(I32); break;
      case Op.I64_CONST: skipLeb(LEB_I64); push(<u8>ValType.I64); break;
      case Op.F32_CONST: skipBytes(4); push(<u8>ValType.F32); break;
      case Op.F64_CONST: skipBytes(8); push(<u8>ValType.F64); break;

      // 3.3.8 Control instructions
      case Op.UNREACHABLE: unreachable(); break;
      case Op.NOP: break;
      case Op.BLOCK: case Op.LOOP: case Op.IF: {
        const bt = blockType();
        if (failed) break;
        if (op == Op.IF) popExpect(I32);
        popTypes(blockParams(bt));
        pushCtrl(<u8>op, bt);
        break;
      }
      case Op.ELSE: {
        // The binary grammar allows `else` only once, inside an `if`.
        if (load<u8>(frame) != IF) { malformed("END opcode expected", at); break; }
        pushCtrl(ELSE, load<i32>(popCtrl(), 8));
        break;
      }
      case Op.END: {
        const f = popCtrl();
        const kind = load<u8>(f);
        const bt = load<i32>(f, 8);
        if (kind == IF) {
          // An `if` without `else` has an empty else branch: it must turn the parameters into the
          // results.
          pushCtrl(ELSE, bt);
          popCtrl();
        }
        if (kind != FUNC) pushTypes(blockResults(bt));
        break;
      }
      case Op.BR: {
        const f = label(readU32());
        if (failed) break;
        popTypes(labelTypes(f));
        unreachable();
        break;
      }
      case Op.BR_IF: {
        const f = label(readU32());
        if (failed) break;
        popExpect(I32);
        const ts = labelTypes(f);
        popTypes(ts);
        pushTypes(ts);
        break;
      }
      case Op.BR_TABLE: brTable(); break;
      case Op.RETURN: {
        popTypes(blockResults(load<i32>(ctrls, 8)));
        unreachable();
        break;
      }
      case Op.CALL: case Op.CALL_INDIRECT: call(op); break;

      // 3.3.3 Reference instructions
      case Op.REF_NULL: {
        const where = pos;
        const t = <u8>readByte();
        if (failed) break;
        if (!isRef(t)) { malformed("malformed reference type", where); break; }
        push(t);
        break;
      }
      case Op.REF_IS_NULL: {
        const t = pop();
        if (t != UNKNOWN && !isRef(t)) { mismatch(); break; }
        push(I32);
        break;
      }
      case Op.REF_FUNC: {
        const x = readU32();
        if (failed) break;
        if (x >= numFuncs) { unknown("function", x); break; }
        if (load<u8>(declaredTab + x) == 0) { invalid("undeclared function reference"); break; }
        push(<u8>ValType.FuncRef);
        break;
      }

      // 3.3.4 Parametric instructions
      case Op.DROP: pop(); break;
      case Op.SELECT: {
        popExpect(I32);
        const t1 = pop();
        const t2 = pop();
        // Without a type annotation only numeric (and vector) operands are allowed.
        if (isRef(t1) || isRef(t2) || (t1 != t2 && t1 != UNKNOWN && t2 != UNKNOWN)) { mismatch(); break; }
        push(t1 == UNKNOWN ? t2 : t1);
        break;
      }
      case Op.SELECT_T: selectT(); break;

      // 3.3.6 Table instructions (the 0xFC ones are in prefixed())
      case Op.TABLE_GET: {
        const t = tableType(readU32());
        if (failed) break;
        popExpect(I32);
        push(t);
        break;
      }
      case Op.TABLE_SET: {
        const t = tableType(readU32());
        if (failed) break;
        popExpect(t);
        popExpect(I32);
        break;
      }

      // 3.3.7 Memory instructions (loads and stores below)
      case Op.MEMORY_SIZE: case Op.MEMORY_GROW: {
        zeroByte();
        if (failed) break;
        if (numMemories == 0) { unknown("memory", 0); break; }
        if (op == Op.MEMORY_GROW) popExpect(I32);
        push(I32);
        break;
      }

      case 0xfc: prefixed(); break;
      case 0xfd: limit("SIMD instructions are not supported"); break;
      default: {
        if (op >= <u32>Op.I32_LOAD && op <= <u32>Op.I64_STORE32) loadStore(op);
        else numeric(op);
      }
    }
    if (failed) return;
  }
}

// ── instructions that need more than a few lines (spec 3.3, by subsection) ─────────────────────

// 3.3.1 Numeric instructions, typed by the generated signature table; anything without a
// signature is not an instruction.
function numeric(op: u32): void {
  const sig = op < NUM_OPS ? load<u32>(SIGS + (<usize>op << 2)) : 0;
  if (sig == 0) { malformed("illegal opcode", at); return; }
  if ((sig >>> 24) == 2) popExpect(<u8>(sig >>> 8));
  popExpect(<u8>sig);
  push(<u8>(sig >>> 16));
}

// 3.3.4 select t*: exactly one type in Wasm 2.0.
function selectT(): void {
  const n = readU32();
  let t: u8 = 0;
  for (let i: u32 = 0; i < n && !failed; i++) {
    const where = pos;
    const b = readByte();
    if (failed) return;
    if (!isValType(b)) { malformed("malformed value type", where); return; }
    t = <u8>b;
  }
  if (failed) return;
  if (n != 1) { invalid("invalid result arity"); return; }
  popExpect(I32);
  popExpect(t);
  popExpect(t);
  pushType(t);
}

// 3.3.5 global.get and global.set.
function variable(op: u32): void {
  const x = readU32();
  if (failed) return;
  if (x >= numGlobals) { unknown("global", x); return; }
  const g = load<u8>(globalTab + x);
  const t = g & 0x7f;
  if (op == Op.GLOBAL_GET) { pushType(t); return; }
  if ((g & 0x80) == 0) { invalid("global is immutable"); return; }
  popExpect(t);
}

// The element type of table x, or 0 (after an error) when there is no such table.
function tableType(x: u32): u8 {
  if (failed) return 0;
  if (x >= numTables) { unknown("table", x); return 0; }
  return load<u8>(tableTab + x);
}

// 3.3.7 Loads and stores: memarg (spec 5.4.6) is the alignment exponent, then the offset.
function loadStore(op: u32): void {
  const where = pos;
  const align = readU32();
  readU32(); // the offset: any u32
  if (failed) return;
  // Alignment flags of 32 and above would be other encodings (multi-memory, memory64).
  if (align >= 32) { malformed("malformed memop flags", where); return; }
  if (numMemories == 0) { unknown("memory", 0); return; }
  const i = op - <u32>Op.I32_LOAD;
  if (align > <u32>load<u8>(MEM_ALIGN + i)) { invalid("alignment must not be larger than natural"); return; }
  const t = load<u8>(MEM_TYPE + i);
  if (op >= <u32>Op.I32_STORE) {
    popExpect(t);
    popExpect(I32);
  } else {
    popExpect(I32);
    push(t);
  }
}

// 3.3.8 br_table l* l_N: every label must have the same arity and accept the operands.
function brTable(): void {
  popExpect(I32);
  const n = readU32();
  if (failed) return;
  let arity: i64 = -1;
  // The n labels and the default; a count larger than the body fails in readU32.
  for (let i: u32 = 0; ; i++) {
    const f = label(readU32());
    if (failed) return;
    const ts = labelTypes(f);
    if (arity < 0) arity = <i64>(<u32>ts);
    else if (<i64>(<u32>ts) != arity) { mismatch(); return; }
    peekTypes(ts);
    if (failed || i == n) break;
  }
  if (!failed) unreachable();
}

// 3.3.8 call x, call_indirect x y (type index, then table index).
function call(op: u32): void {
  let typeIndex: u32;
  if (op == Op.CALL) {
    const x = readU32();
    if (failed) return;
    if (x >= numFuncs) { unknown("function", x); return; }
    typeIndex = load<u32>(funcTab + (<usize>x << 2));
  } else {
    typeIndex = readU32();
    const t = tableType(readU32());
    if (failed) return;
    if (t != <u8>ValType.FuncRef) { mismatch(); return; }
    if (typeIndex >= numTypes) { unknown("type", typeIndex); return; }
    popExpect(I32);
  }
  popTypes(typeParams(typeIndex));
  pushTypes(typeResults(typeIndex));
}

// 0xFC-prefixed instructions: saturating truncation (3.3.1), table instructions (3.3.6) and bulk
// memory (3.3.7). The sub-opcode is a u32 LEB128.
function prefixed(): void {
  const sub = readU32();
  if (failed) return;
  if (sub > 17) { malformed("illegal opcode", at); return; }
  const op = <u32>0x100 + sub;
  switch (op) {
    case Op.MEMORY_INIT: case Op.DATA_DROP: {
      const x = readU32();
      if (op == Op.MEMORY_INIT) zeroByte();
      if (failed) return;
      if (op == Op.MEMORY_INIT && numMemories == 0) { unknown("memory", 0); return; }
      // Bodies are validated once the whole module is decoded, so without a data count section
      // the data section still tells an index that names no segment (invalid, as the spec suite
      // asserts) from one that does, for which the binary format demands the data count section
      // because a single-pass reader meets the code before the data (spec 5.5.15): malformed.
      if (x >= (dataCount < 0 ? numDatas : <u32>dataCount)) { unknown("data segment", x); return; }
      if (dataCount < 0) { malformed("data count section required", at); return; }
      if (op == Op.MEMORY_INIT) pop3I32();
      return;
    }
    case Op.MEMORY_COPY: case Op.MEMORY_FILL: {
      zeroByte();
      if (op == Op.MEMORY_COPY) zeroByte();
      if (failed) return;
      if (numMemories == 0) { unknown("memory", 0); return; }
      pop3I32();
      return;
    }
    case Op.TABLE_INIT: {
      const y = readU32();
      const t = tableType(readU32());
      if (failed) return;
      if (y >= numElems) { unknown("elem segment", y); return; }
      if (load<u8>(elemTab + y) != t) { mismatch(); return; }
      pop3I32();
      return;
    }
    case Op.ELEM_DROP: {
      const x = readU32();
      if (failed) return;
      if (x >= numElems) unknown("elem segment", x);
      return;
    }
    case Op.TABLE_COPY: {
      const t1 = tableType(readU32());
      const t2 = tableType(readU32());
      if (failed) return;
      if (t1 != t2) { mismatch(); return; }
      pop3I32();
      return;
    }
    case Op.TABLE_GROW: case Op.TABLE_FILL: {
      const t = tableType(readU32());
      if (failed) return;
      popExpect(I32);
      popExpect(t);
      if (op == Op.TABLE_GROW) push(I32); else popExpect(I32);
      return;
    }
    case Op.TABLE_SIZE: {
      tableType(readU32());
      if (!failed) push(I32);
      return;
    }
  }
  numeric(op); // i32/i64.trunc_sat_f32/f64_s/u
}

function pop3I32(): void {
  popExpect(I32);
  popExpect(I32);
  popExpect(I32);
}
