// Module validation (spec 3.4 "Modules", Wasm 2.0 without SIMD): the checks on a decoded Module
// that span its definitions — type indices, limits, constant expressions, segments, the start
// function, exports — and then every function body through code.ts.
//
// The order of the checks is close to the reference interpreter's (imports, functions' types,
// tables, memories, globals, segments, start, exports; bodies last, as the most expensive), so a
// module with several errors mostly reports the one the spec tests name. The Module model keeps no positions for its definitions,
// so module-level errors carry offset 0; body errors carry the instruction's offset.

import { ErrorKind, fail, hasError } from "../binary/error";
import {
  ConstExpr, ConstOp, ExternKind, Limits, Module, SegmentMode, TableType, ValType,
} from "../binary/module";
import { beginModule, declareFunc, operandTypesAt, validateFunction } from "./code";

// 3.2.5 Memory types: at most 2^16 pages of 64 KiB, the 32-bit address space.
const MAX_PAGES: u32 = 65536;

// Implementation limit on the parameters and results of a function type (the same as V8's): it
// bounds the work of validating one call or branch, and so the time a body of n bytes can take.
export const MAX_FUNC_ARITY: i32 = 1000;

function invalid(message: string): bool {
  fail(ErrorKind.Invalid, message, 0);
  return false;
}

function unknown(what: string, index: u32): bool {
  return invalid("unknown " + what + " " + index.toString());
}

// Validates the decoded module `m`. On failure the error is recorded (error.ts) and false returned.
export function validateModule(m: Module): bool {
  if (hasError()) return false;
  return functionTypes(m) && imports(m) && functions(m) && tables(m) && memories(m) &&
    globals(m) && elems(m) && datas(m) && start(m) && exports(m) && bodies(m);
}

// ---------------------------------------------------------------------------------------------
// 3.2.3 Function types: always valid; the VM limits their size.

function functionTypes(m: Module): bool {
  for (let i = 0, n = m.types.length; i < n; i++) {
    const t = unchecked(m.types[i]);
    if (t.params.length > MAX_FUNC_ARITY || t.results.length > MAX_FUNC_ARITY) {
      const message = "function type " + i.toString() + " has more than 1000 parameters or results";
      fail(ErrorKind.Limit, message, 0);
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.2.1 Limits, 3.2.4 Table types, 3.2.5 Memory types

function tableType(t: TableType): bool {
  // A table's range is the whole u32, so only the order of min and max can be wrong.
  const l = t.limits;
  if (l.hasMax && l.min > l.max) return invalid("size minimum must not be greater than maximum");
  return true;
}

function memoryType(l: Limits): bool {
  const tooLarge = "memory size must be at most 65536 pages (4GiB)";
  if (l.min > MAX_PAGES) return invalid(tooLarge);
  if (l.hasMax) {
    if (l.max > MAX_PAGES) return invalid(tooLarge);
    if (l.min > l.max) return invalid("size minimum must not be greater than maximum");
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.9 Imports

function imports(m: Module): bool {
  const numTypes = <u32>m.types.length;
  for (let i = 0, n = m.imports.length; i < n; i++) {
    const imp = unchecked(m.imports[i]);
    switch (<i32>imp.kind) {
      case ExternKind.Func:
        if (imp.typeIndex >= numTypes) return unknown("type", imp.typeIndex);
        break;
      case ExternKind.Table:
        if (!tableType(imp.table!)) return false;
        break;
      case ExternKind.Memory:
        if (!memoryType(imp.memory!)) return false;
        break;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.1 Functions: the type index of each defined function (bodies are checked last)

function functions(m: Module): bool {
  const numTypes = <u32>m.types.length;
  for (let i = 0, n = m.funcs.length; i < n; i++) {
    const x = unchecked(m.funcs[i]);
    if (x >= numTypes) return unknown("type", x);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.2 Tables, 3.4.3 Memories

function tables(m: Module): bool {
  for (let i = 0, n = m.tables.length; i < n; i++) {
    if (!tableType(unchecked(m.tables[i]))) return false;
  }
  return true;
}

function memories(m: Module): bool {
  for (let i = 0, n = m.memories.length; i < n; i++) {
    if (!memoryType(unchecked(m.memories[i]))) return false;
  }
  // Wasm 2.0 has a single memory, imported or defined.
  if (m.memoryTypes.length > 1) return invalid("multiple memories");
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.3.10 Constant expressions
//
// The decoder has already reduced each expression to its single instruction (or reported a
// non-constant one). In Wasm 2.0 the context of constant expressions holds only the imported
// globals, as the reference interpreter checks for globals, element and data segments alike, and
// global.get must read an immutable one.

// The type of `e`, or 0 after recording an error.
function constType(m: Module, e: ConstExpr): u8 {
  switch (<i32>e.op) {
    case ConstOp.I32: return <u8>ValType.I32;
    case ConstOp.I64: return <u8>ValType.I64;
    case ConstOp.F32: return <u8>ValType.F32;
    case ConstOp.F64: return <u8>ValType.F64;
    case ConstOp.V128: return <u8>ValType.V128;
    case ConstOp.RefNull: return <u8>e.index; // the decoder checked it is a reference type
    case ConstOp.RefFunc:
      if (e.index >= m.numFuncs()) { unknown("function", e.index); return 0; }
      return <u8>ValType.FuncRef;
    case ConstOp.GlobalGet: {
      if (e.index >= m.numImportedGlobals) { unknown("global", e.index); return 0; }
      const g = unchecked(m.globalTypes[e.index]);
      if (g.mutable) { invalid("constant expression required"); return 0; }
      return g.valType;
    }
  }
  invalid("constant expression required");
  return 0;
}

function constExpr(m: Module, e: ConstExpr, expected: u8): bool {
  const t = constType(m, e);
  if (t == 0) return false;
  if (t != expected) return invalid("type mismatch");
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.4 Globals

function globals(m: Module): bool {
  for (let i = 0, n = m.globals.length; i < n; i++) {
    const g = unchecked(m.globals[i]);
    if (!constExpr(m, g.init, g.type.valType)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.5 Element segments

function elems(m: Module): bool {
  for (let i = 0, n = m.elems.length; i < n; i++) {
    const e = unchecked(m.elems[i]);
    if (e.mode == <u8>SegmentMode.Active) {
      if (e.table >= <u32>m.tableTypes.length) return unknown("table", e.table);
      if (!constExpr(m, e.offset, <u8>ValType.I32)) return false;
      if (unchecked(m.tableTypes[e.table]).elemType != e.elemType) return invalid("type mismatch");
    }
    const inits = e.inits;
    for (let j = 0, k = inits.length; j < k; j++) {
      if (!constExpr(m, unchecked(inits[j]), e.elemType)) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.6 Data segments

function datas(m: Module): bool {
  for (let i = 0, n = m.datas.length; i < n; i++) {
    const d = unchecked(m.datas[i]);
    if (d.mode != <u8>SegmentMode.Active) continue;
    if (d.memory >= <u32>m.memoryTypes.length) return unknown("memory", d.memory);
    if (!constExpr(m, d.offset, <u8>ValType.I32)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.7 Start function

function start(m: Module): bool {
  if (m.start < 0) return true;
  const x = <u32>m.start;
  if (x >= m.numFuncs()) return unknown("function", x);
  const t = m.funcType(x);
  if (t.params.length != 0 || t.results.length != 0) return invalid("start function");
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.8 Exports (and 3.4.10: export names are unique)

function exports(m: Module): bool {
  const names = new Set<string>();
  for (let i = 0, n = m.exports.length; i < n; i++) {
    const e = unchecked(m.exports[i]);
    const x = e.index;
    switch (<i32>e.kind) {
      case ExternKind.Func:
        if (x >= m.numFuncs()) return unknown("function", x);
        break;
      case ExternKind.Table:
        if (x >= <u32>m.tableTypes.length) return unknown("table", x);
        break;
      case ExternKind.Memory:
        if (x >= <u32>m.memoryTypes.length) return unknown("memory", x);
        break;
      case ExternKind.Global:
        if (x >= <u32>m.globalTypes.length) return unknown("global", x);
        break;
    }
    if (names.has(e.name)) return invalid("duplicate export name");
    names.add(e.name);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3.4.1 Functions: the bodies

function bodies(m: Module): bool {
  prepared = m;
  beginModule(m);
  declareFuncs(m);
  const first = m.numImportedFuncs;
  // The decoder checked that there are as many bodies as defined functions.
  for (let i = 0, n = m.codes.length; i < n; i++) {
    if (!validateFunction(first + <u32>i, unchecked(m.codes[i]))) return false;
  }
  return true;
}

// The operand types at bytecode `offset` of defined function `funcIndex` of validated module `m`
// (valid/code.ts operandTypesAt): a pointer to the types, bottom first, their count in
// `typesAtCount`; 0 when `offset` is no instruction boundary inside the body.
let prepared: Module | null = null; // the module code.ts's tables are for
export function operandTypesOf(m: Module, funcIndex: u32, offset: u32): usize {
  if (prepared !== m) {
    beginModule(m);
    declareFuncs(m);
    prepared = m;
  }
  return operandTypesAt(funcIndex, unchecked(m.codes[funcIndex - m.numImportedFuncs]), offset);
}

// 3.4.10 Modules: C.refs, the functions that ref.func may name in a body, are those referenced
// outside the functions: in element segments, exports and global initialisers.
function declareFuncs(m: Module): void {
  for (let i = 0, k = m.elems.length; i < k; i++) {
    const inits = unchecked(m.elems[i]).inits;
    for (let j = 0, l = inits.length; j < l; j++) declareConst(unchecked(inits[j]));
  }
  for (let i = 0, k = m.globals.length; i < k; i++) declareConst(unchecked(m.globals[i]).init);
  for (let i = 0, k = m.exports.length; i < k; i++) {
    const e = unchecked(m.exports[i]);
    if (e.kind == <u8>ExternKind.Func) declareFunc(e.index);
  }
}

function declareConst(e: ConstExpr): void {
  if (e.op == <u8>ConstOp.RefFunc) declareFunc(e.index);
}
