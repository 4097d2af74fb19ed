// The contents of the non-custom sections (spec 5.3 types, 5.4 constant expressions, 5.5 module
// sections): one parser per section, each appending to the Module. decode.ts owns the section
// framing (ids, sizes, order) and the checks that span several sections.
//
// A section's contents are read with the reader bounded by the end of the *module*, not of the
// section, as the reference interpreter does: a section that is shorter than its contents then
// fails with the same message as in the spec tests (e.g. "integer representation too long" for an
// over-long LEB128 that crosses the section end), and decode.ts reports "section size mismatch"
// for everything else. Code entries and custom sections are bounded by their own size.

import { ErrorKind, fail } from "./error";
import { PREFIX_FC, opName } from "./opcodes";
import { Reader } from "./reader";
import {
  Code, ConstExpr, ConstOp, Data, Elem, Export, ExternKind, FuncType, Global, GlobalType, Import,
  Limits, Module, SegmentMode, TableType, ValType,
} from "./module";

// Implementation limit on the declared locals of one function (the same as V8's), so that a
// body's frame size stays small and a count such as 0xffffffff is rejected up front.
export const MAX_LOCALS: u64 = 50000;

export class Decoder {
  r: Reader;
  m: Module;
  // End of the section being decoded: a constant expression that runs past it is malformed
  // whatever the bytes after it are.
  sectionEnd: usize = 0;
  // A validation error found while decoding and reported only once decoding has succeeded,
  // because a malformed module must be reported as malformed even if it is also invalid.
  deferredMessage: string | null = null;
  deferredOffset: u32 = 0;

  constructor(r: Reader, m: Module) {
    this.r = r;
    this.m = m;
  }

  defer(message: string, at: usize): void {
    if (this.deferredMessage !== null) return;
    this.deferredMessage = message;
    this.deferredOffset = <u32>(at - this.r.base);
  }
}

// Records a decoding error located at `at` (an address) and stops the reader.
export function malformed(r: Reader, message: string, at: usize): void {
  fail(ErrorKind.Malformed, message, <u32>(at - r.base));
  r.pos = r.end;
}

// A vector length or byte count. Every vector element takes at least one byte, so a count larger
// than the bytes left is malformed; checking it here also bounds everything allocated from it.
// As in the reference interpreter the bytes left are counted from the count's own first byte, so
// a count that is only slightly too large fails later as "unexpected end", as the tests expect.
export function count(r: Reader): u32 {
  const at = r.pos;
  const n = r.u32();
  if (r.failed) return 0;
  if (<usize>n > r.end - at) { malformed(r, "length out of bounds", at); return 0; }
  return n;
}

// The size of something that is then skipped or bounded by it (a section, a code entry, data
// bytes), so it must fit exactly in what is left.
export function byteLength(r: Reader): u32 {
  const n = count(r);
  if (r.failed) return 0;
  if (n > r.remaining()) { r.error("unexpected end"); return 0; }
  return n;
}

// ---------------------------------------------------------------------------------------------
// 5.3 Types

export function isValType(b: u32): bool {
  const t = <i32>b;
  return (t >= ValType.V128 && t <= ValType.I32) || isRefType(b);
}

export function isRefType(b: u32): bool {
  return <i32>b == ValType.FuncRef || <i32>b == ValType.ExternRef;
}

// A type code byte (value type, reference type, function type form). The reference interpreter
// reads these as signed LEB128 numbers of at most 7 bits, so a byte with the continuation bit set
// is an over-long integer rather than an unknown type. Returns -1 after an error.
function typeCode(r: Reader): i32 {
  const at = r.pos;
  const b = r.u8();
  if (r.failed) return -1;
  if (b & 0x80) { malformed(r, "integer representation too long", at); return -1; }
  return <i32>b;
}

function valType(r: Reader): u8 {
  const at = r.pos;
  const b = typeCode(r);
  if (b < 0) return 0;
  if (!isValType(b)) { malformed(r, "malformed value type", at); return 0; }
  return <u8>b;
}

function refType(r: Reader): u8 {
  const at = r.pos;
  const b = typeCode(r);
  if (b < 0) return 0;
  if (!isRefType(b)) { malformed(r, "malformed reference type", at); return 0; }
  return <u8>b;
}

function resultType(r: Reader, out: u8[]): void {
  const n = count(r);
  for (let i: u32 = 0; i < n && !r.failed; i++) out.push(valType(r));
}

function funcType(r: Reader): FuncType | null {
  const at = r.pos;
  const form = typeCode(r);
  if (form < 0) return null;
  if (form != 0x60) { malformed(r, "malformed function type", at); return null; }
  const t = new FuncType();
  resultType(r, t.params);
  resultType(r, t.results);
  return r.failed ? null : t;
}

function limits(r: Reader): Limits | null {
  // The flag is a one-bit LEB128 number (the reference interpreter's vu1), hence these messages
  // for anything but a single byte 0 or 1; 2.0 has no other limits flags (shared, memory64).
  const at = r.pos;
  const flag = r.u8();
  if (r.failed) return null;
  if (flag & 0x80) { malformed(r, "integer representation too long", at); return null; }
  if (flag > 1) { malformed(r, "integer too large", at); return null; }
  const l = new Limits();
  l.min = r.u32();
  if (flag == 1) {
    l.hasMax = true;
    l.max = r.u32();
  }
  return r.failed ? null : l;
}

function tableType(r: Reader): TableType | null {
  const t = new TableType();
  t.elemType = refType(r);
  if (r.failed) return null;
  const l = limits(r);
  if (l === null) return null;
  t.limits = l;
  return t;
}

function globalType(r: Reader): GlobalType | null {
  const t = new GlobalType();
  t.valType = valType(r);
  const at = r.pos;
  const mut = r.u8();
  if (r.failed) return null;
  if (mut > 1) { malformed(r, "malformed mutability", at); return null; }
  t.mutable = mut == 1;
  return t;
}

// ---------------------------------------------------------------------------------------------
// 5.4 Instructions, as far as constant expressions need them

// Wasm 2.0 constant expression: one of t.const, ref.null, ref.func, global.get (and v128.const),
// then `end`. A sequence of several constant instructions, or none, is well-formed but has the
// wrong type; a non-constant instruction is well-formed but not constant. Both are validation
// errors, told apart from malformed bytes here because the model keeps only one instruction.
export function constExpr(d: Decoder, out: ConstExpr): void {
  const r = d.r;
  const start = r.pos;
  let n: u32 = 0;
  while (true) {
    const at = r.pos;
    const op = r.u8();
    if (r.failed) return;
    if (op == 0x0b) break;
    let value: i64 = 0;
    let high: i64 = 0;
    let index: u32 = 0;
    switch (op) {
      case ConstOp.I32: value = <i64>r.i32(); break;
      case ConstOp.I64: value = r.i64(); break;
      case ConstOp.F32: value = <i64>r.fixed32(); break;
      case ConstOp.F64: value = <i64>r.fixed64(); break;
      case ConstOp.RefNull: index = refType(r); break;
      case ConstOp.RefFunc: index = r.u32(); break;
      case ConstOp.GlobalGet: index = r.u32(); break;
      case 0xfc: {
        const sub = r.u32();
        if (r.failed) return;
        notConstant(d, sub <= 0xff && opName(PREFIX_FC + sub) != "", at);
        return;
      }
      case 0xfd: {
        const sub = r.u32();
        if (r.failed) return;
        // 0xfd 0x0c is v128.const. The other SIMD opcodes are all below 0x100 (the few unused
        // ones there only change which error a module that is rejected anyway gets).
        if (sub != 0x0c) { notConstant(d, sub <= 0xff, at); return; }
        value = <i64>r.fixed64();
        high = <i64>r.fixed64();
        break;
      }
      default:
        notConstant(d, opName(op) != "", at);
        return;
    }
    if (r.failed) return;
    if (n == 0) {
      out.op = <u8>op;
      out.value = value;
      out.high = high;
      out.index = index;
    }
    n++;
  }
  if (n != 1) d.defer("type mismatch", start);
}

// `legal`: whether the instruction exists in Wasm 2.0, which decides between a validation error
// (a real instruction that is not constant) and a decoding error (an illegal opcode).
function notConstant(d: Decoder, legal: bool, at: usize): void {
  const r = d.r;
  if (!legal) { malformed(r, "illegal opcode", at); return; }
  // An instruction past the section's end belongs to a malformed section, not to this expression.
  if (at >= d.sectionEnd) { malformed(r, "section size mismatch", at); return; }
  // The instruction's immediates are not known here, so decoding cannot continue past it.
  fail(ErrorKind.Invalid, "constant expression required", <u32>(at - r.base));
  r.pos = r.end;
}

// ---------------------------------------------------------------------------------------------
// 5.5.4 Type section

export function typeSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const t = funcType(r);
    if (t === null) return;
    d.m.types.push(t);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.5 Import section

export function importSection(d: Decoder): void {
  const r = d.r;
  const m = d.m;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const moduleName = r.name();
    if (moduleName === null) return;
    const name = r.name();
    if (name === null) return;
    const imp = new Import();
    imp.module = moduleName;
    imp.name = name;
    const at = r.pos;
    const kind = r.u8();
    if (r.failed) return;
    imp.kind = <u8>kind;
    switch (kind) {
      case ExternKind.Func:
        imp.typeIndex = r.u32();
        m.numImportedFuncs++;
        break;
      case ExternKind.Table:
        imp.table = tableType(r);
        m.numImportedTables++;
        break;
      case ExternKind.Memory:
        imp.memory = limits(r);
        m.numImportedMemories++;
        break;
      case ExternKind.Global:
        imp.global = globalType(r);
        m.numImportedGlobals++;
        break;
      default:
        malformed(r, "malformed import kind", at);
        return;
    }
    if (r.failed) return;
    m.imports.push(imp);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.6 Function section

export function functionSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const typeIndex = r.u32();
    if (r.failed) return;
    d.m.funcs.push(typeIndex);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.7 Table section

export function tableSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const t = tableType(r);
    if (t === null) return;
    d.m.tables.push(t);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.8 Memory section

export function memorySection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const l = limits(r);
    if (l === null) return;
    d.m.memories.push(l);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.9 Global section

export function globalSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const t = globalType(r);
    if (t === null) return;
    const g = new Global();
    g.type = t;
    constExpr(d, g.init);
    if (r.failed) return;
    d.m.globals.push(g);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.10 Export section

export function exportSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const name = r.name();
    if (name === null) return;
    const e = new Export();
    e.name = name;
    const at = r.pos;
    const kind = r.u8();
    if (r.failed) return;
    if (kind > <u32>ExternKind.Global) { malformed(r, "malformed export kind", at); return; }
    e.kind = <u8>kind;
    e.index = r.u32();
    if (r.failed) return;
    d.m.exports.push(e);
  }
}

// ---------------------------------------------------------------------------------------------
// 5.5.11 Start section

export function startSection(d: Decoder): void {
  const r = d.r;
  const at = r.pos;
  const index = r.u32();
  if (r.failed) return;
  // Module.start is an i32 with -1 for "none". No module can hold 2^31 functions (each takes
  // several bytes), so such an index is out of range: the validation error is reported here.
  if (index > <u32>i32.MAX_VALUE) { d.defer("unknown function", at); return; }
  d.m.start = <i32>index;
}

// ---------------------------------------------------------------------------------------------
// 5.5.12 Element section

export function elemSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const e = elemSegment(d);
    if (e === null) return;
    d.m.elems.push(e);
  }
}

// The flags' bits: 0 = passive or declarative (else active), 1 = with a table index (active) or
// declarative (otherwise), 2 = initialisers are expressions (else function indices). The type
// (elemkind or reftype) is present unless the flags are 0 or 4, which imply funcref.
function elemSegment(d: Decoder): Elem | null {
  const r = d.r;
  const at = r.pos;
  const flags = r.u32();
  if (r.failed) return null;
  if (flags > 7) { malformed(r, "malformed elements segment kind", at); return null; }
  const e = new Elem();
  const exprs = (flags & 4) != 0;
  if (flags & 1) {
    e.mode = <u8>(flags & 2 ? SegmentMode.Declarative : SegmentMode.Passive);
  } else {
    e.mode = <u8>SegmentMode.Active;
    if (flags & 2) e.table = r.u32();
    constExpr(d, e.offset);
  }
  if (r.failed) return null;
  if (flags & 3) {
    if (exprs) {
      e.elemType = refType(r);
    } else {
      const kindAt = r.pos;
      const kind = r.u8();
      if (r.failed) return null;
      if (kind != 0x00) { malformed(r, "malformed element kind", kindAt); return null; }
      e.elemType = <u8>ValType.FuncRef;
    }
    if (r.failed) return null;
  }
  const len = count(r);
  for (let i: u32 = 0; i < len; i++) {
    const init = new ConstExpr();
    if (exprs) {
      constExpr(d, init);
    } else {
      init.op = <u8>ConstOp.RefFunc;
      init.index = r.u32();
    }
    if (r.failed) return null;
    e.inits.push(init);
  }
  return r.failed ? null : e;
}

// ---------------------------------------------------------------------------------------------
// 5.5.13 Code section

// Only the frame of each function is decoded here: the instructions are decoded and validated
// later from [bodyStart, bodyEnd).
export function codeSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const c = codeEntry(r);
    if (c === null) return;
    d.m.codes.push(c);
  }
}

function codeEntry(r: Reader): Code | null {
  const c = new Code();
  c.start = <u32>(r.pos - r.base);
  const size = byteLength(r);
  if (r.failed) return null;
  const entryEnd = r.pos + size;
  const moduleEnd = r.end;
  r.end = entryEnd;
  let total: u64 = 0;
  const runs = count(r);
  for (let i: u32 = 0; i < runs; i++) {
    const at = r.pos;
    const n = r.u32();
    const t = valType(r);
    if (r.failed) return null;
    total += n;
    if (total > MAX_LOCALS) { malformed(r, "too many locals", at); return null; }
    c.localCounts.push(n);
    c.localTypes.push(t);
  }
  if (r.failed) return null;
  r.end = moduleEnd;
  c.numLocals = <u32>total;
  c.bodyStart = <u32>(r.pos - r.base);
  c.bodyEnd = <u32>(entryEnd - r.base);
  // Every body ends with the `end` of its implicit block; checked here so that a lazily compiled
  // body is known to be closed. Whether that byte really is an `end` (not an immediate) is for
  // the body validator.
  if (r.pos >= entryEnd) { malformed(r, "unexpected end of section or function", r.pos); return null; }
  if (load<u8>(entryEnd - 1) != 0x0b) { malformed(r, "END opcode expected", entryEnd - 1); return null; }
  r.pos = entryEnd;
  return c;
}

// ---------------------------------------------------------------------------------------------
// 5.5.14 Data section

export function dataSection(d: Decoder): void {
  const r = d.r;
  const n = count(r);
  for (let i: u32 = 0; i < n; i++) {
    const seg = dataSegment(d);
    if (seg === null) return;
    d.m.datas.push(seg);
  }
}

function dataSegment(d: Decoder): Data | null {
  const r = d.r;
  const at = r.pos;
  const flags = r.u32();
  if (r.failed) return null;
  const seg = new Data();
  switch (flags) {
    case 0:
      constExpr(d, seg.offset);
      break;
    case 1:
      seg.mode = <u8>SegmentMode.Passive;
      break;
    case 2:
      seg.memory = r.u32();
      constExpr(d, seg.offset);
      break;
    default:
      malformed(r, "malformed data segment kind", at);
      return null;
  }
  const len = byteLength(r);
  if (r.failed) return null;
  seg.start = <u32>(r.pos - r.base);
  seg.len = len;
  r.pos += len;
  return seg;
}

// ---------------------------------------------------------------------------------------------
// 5.5.15 Data count section

// Returns the count; the caller records it once the data section is known to agree.
export function dataCountSection(d: Decoder): u32 {
  return d.r.u32();
}
