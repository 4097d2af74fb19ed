// Lowering of the instructions that move data — numeric operations, loads and stores, tables
// and bulk memory — into IR, over the compiler's abstract stack (compile/compiler.ts owns control
// flow, locals, calls and the stack itself).

import { Reader } from "../binary/reader";
import { Op, numericSig } from "../binary/opcodes";
import {
  IR, irSize, lowerUnary, lowerBinSs, lowerBinSi, lowerBrSs, lowerMem, swappedCmp, isCommutative,
  lowerUnaryX, lowerBinSsX, lowerBinSiX, lowerMemH,
} from "../ir/ops";
import { Compiler, CONST32, STACK, NONE } from "./compiler";

// Tables, memory size/grow and the bulk operations; false for anything else.
export function lowerMemoryOrTable(c: Compiler, op: u32): bool {
  const r = c.r;
  switch (op) {
    case Op.TABLE_GET: {
      const t = unchecked(c.inst.tables[r.u32()]);
      const i = c.operand(c.height - 1);
      c.pop();
      const dst = c.pushStack();
      c.begin(IR.table_get);
      c.w32(dst);
      c.w32(<u32>t);
      c.w32(i);
      c.lastDst = <i32>dst;
      break;
    }
    case Op.TABLE_SET: {
      const t = unchecked(c.inst.tables[r.u32()]);
      const h = c.height;
      const v = c.operand(h - 1);
      const i = c.operand(h - 2);
      c.truncate(h - 2);
      c.begin(IR.table_set);
      c.w32(<u32>t);
      c.w32(i);
      c.w32(v);
      break;
    }
    case Op.MEMORY_SIZE: {
      r.u8();
      const dst = c.pushStack();
      c.begin(IR.memory_size);
      c.w32(dst);
      c.lastDst = <i32>dst;
      break;
    }
    case Op.MEMORY_GROW: {
      r.u8();
      const n = c.operand(c.height - 1);
      c.pop();
      const dst = c.pushStack();
      c.begin(IR.memory_grow);
      c.w32(dst);
      c.w32(n);
      c.lastDst = <i32>dst;
      break;
    }
    case Op.MEMORY_INIT: {
      const seg = unchecked(c.inst.datas[r.u32()]);
      r.u8();
      bulk3(c, c.hosted ? IR.memory_init_h : IR.memory_init, <u32>seg, 0, true, false);
      break;
    }
    case Op.DATA_DROP: {
      c.begin(IR.seg_drop);
      c.w32(<u32>unchecked(c.inst.datas[r.u32()]));
      break;
    }
    case Op.MEMORY_COPY: r.u8(); r.u8(); bulk3(c, c.hosted ? IR.memory_copy_h : IR.memory_copy, 0, 0, false, false); break;
    case Op.MEMORY_FILL: r.u8(); bulk3(c, c.hosted ? IR.memory_fill_h : IR.memory_fill, 0, 0, false, false); break;
    case Op.TABLE_INIT: {
      const seg = unchecked(c.inst.elems[r.u32()]);
      const t = unchecked(c.inst.tables[r.u32()]);
      bulk3(c, IR.table_init, <u32>t, <u32>seg, true, true);
      break;
    }
    case Op.ELEM_DROP: {
      c.begin(IR.seg_drop);
      c.w32(<u32>unchecked(c.inst.elems[r.u32()]));
      break;
    }
    case Op.TABLE_COPY: {
      const dt = unchecked(c.inst.tables[r.u32()]);
      const st = unchecked(c.inst.tables[r.u32()]);
      bulk3(c, IR.table_copy, <u32>dt, <u32>st, true, true);
      break;
    }
    case Op.TABLE_GROW: {
      const t = unchecked(c.inst.tables[r.u32()]);
      const h = c.height;
      const n = c.operand(h - 1);
      const v = c.operand(h - 2);
      c.truncate(h - 2);
      const dst = c.pushStack();
      c.begin(IR.table_grow);
      c.w32(dst);
      c.w32(<u32>t);
      c.w32(v);
      c.w32(n);
      c.lastDst = <i32>dst;
      break;
    }
    case Op.TABLE_SIZE: {
      const t = unchecked(c.inst.tables[r.u32()]);
      const dst = c.pushStack();
      c.begin(IR.table_size);
      c.w32(dst);
      c.w32(<u32>t);
      c.lastDst = <i32>dst;
      break;
    }
    case Op.TABLE_FILL: {
      const t = unchecked(c.inst.tables[r.u32()]);
      bulk3(c, IR.table_fill, <u32>t, 0, true, false);
      break;
    }
    default: {
      if (op >= <u32>Op.I32_LOAD && op <= <u32>Op.I64_STORE32) {
        lowerMemoryAccess(c, op);
        return true;
      }
      return false;
    }
  }
  return true;
}

// An instruction with three stack operands [x y z] and up to two immediates.
export function bulk3(c: Compiler, irOp: u32, imm1: u32, imm2: u32, has1: bool, has2: bool): void {
  const h = c.height;
  const z = c.operand(h - 1);
  const y = c.operand(h - 2);
  const x = c.operand(h - 3);
  c.truncate(h - 3);
  c.begin(irOp);
  if (has1) c.w32(imm1);
  if (has2) c.w32(imm2);
  c.w32(x);
  c.w32(y);
  c.w32(z);
}

// A direct call of a builtin load or store (runtime/builtins.ts): one instruction, its result
// slot first, then its (at most three) arguments wherever they are.
export function lowerBuiltin(c: Compiler, irOp: u32, np: u32, nr: u32): void {
  const h = c.height;
  const a = np > 0 ? c.operand(h - np) : 0;
  const b = np > 1 ? c.operand(h - np + 1) : 0;
  const v = np > 2 ? c.operand(h - np + 2) : 0;
  c.truncate(h - np);
  const dst = nr > 0 ? c.pushStack() : 0;
  c.begin(irOp);
  if (nr > 0) c.w32(dst);
  if (np > 0) c.w32(a);
  if (np > 1) c.w32(b);
  if (np > 2) c.w32(v);
  if (nr > 0) c.lastDst = <i32>dst;
}

// Loads and stores. The address folds into the instruction when it is a constant (form _k:
// the effective address is the immediate) or was just computed by i32.add with a constant
// (form _a: the add is dropped, its wrapping 32-bit sum recomputed by the access).
export function lowerMemoryAccess(c: Compiler, op: u32): void {
  const r = c.r;
  r.u32(); // alignment
  const offset = r.u32();
  const plain = c.hosted ? lowerMemH(op) : lowerMem(op); // followed by its _a and _k forms
  const h = c.height;
  const isStore = op >= <u32>Op.I32_STORE;
  const at = isStore ? h - 2 : h - 1;
  const kind = unchecked(c.kinds[at]);
  let form = plain;
  let p: u32 = 0;
  let k: u32 = 0;
  if (kind == CONST32) {
    form = plain + 2;
  } else if (kind == STACK && c.lastStart != NONE && c.lastDst == <i32>c.slot(at)
      && load<u32>(c.buf + <usize>c.lastStart) == IR.i32_add_si) {
    const add = c.buf + <usize>c.lastStart;
    p = load<u32>(add, 8);
    k = load<u32>(add, 12);
    c.dropLast();
    form = plain + 1;
  } else {
    p = c.operand(at);
  }
  const ea = <u64>unchecked(c.vals[at]) + <u64>offset;
  const v = isStore ? c.operand(h - 1) : 0;
  c.truncate(at);
  const dst = isStore ? 0 : c.pushStack();
  c.begin(form);
  if (!isStore) c.w32(dst);
  if (form == plain + 2) c.w64(ea);
  else {
    c.w32(p);
    if (form == plain + 1) c.w32(k);
    c.w32(offset);
  }
  if (isStore) c.w32(v);
  else c.lastDst = <i32>dst;
}

// With the float class on, float operations take their host-call forms where they have one.
function unaryForm(c: Compiler, op: u32): u32 {
  const x = c.floatX ? lowerUnaryX(op) : 0xffff;
  return x != 0xffff ? x : lowerUnary(op);
}
function binSsForm(c: Compiler, op: u32): u32 {
  const x = c.floatX ? lowerBinSsX(op) : 0xffff;
  return x != 0xffff ? x : lowerBinSs(op);
}
function binSiForm(c: Compiler, op: u32): u32 {
  const x = c.floatX ? lowerBinSiX(op) : 0xffff;
  return x != 0xffff ? x : lowerBinSi(op);
}

export function lowerNumeric(c: Compiler, op: u32): void {
  const sig = numericSig(op);
  const h = c.height;
  if ((sig >>> 24) == 1) {
    const irOp = unaryForm(c, op);
    // Reinterpretations and i32.wrap_i64 leave the slot's low bits as they are: nothing to do.
    if (irOp == IR.copy || op == Op.I32_WRAP_I64) return;
    const a = c.operand(h - 1);
    c.pop();
    const dst = c.pushStack();
    c.begin(irOp);
    c.w32(dst);
    c.w32(a);
    c.lastDst = <i32>dst;
    c.lastWasm = op == Op.I32_EQZ || op == Op.I64_EQZ ? op : 0;
    return;
  }
  const wideImm = ((sig >>> 8) & 0xff) == 0x7e || ((sig >>> 8) & 0xff) == 0x7c;
  let wasmOp = op;
  let immForm = binSiForm(c, op);
  let immAt: u32 = h - 1; // the constant operand
  let regAt: u32 = h - 2; // the other one
  if (immForm != 0xffff && !c.isConst(h - 1) && c.isConst(h - 2)) {
    // Constant on the left: swap the operands where the operation allows it.
    const swapped = isCommutative(op) ? op : swappedCmp(op);
    if (swapped != 0xffff && binSiForm(c, swapped) != 0xffff) {
      wasmOp = swapped;
      immForm = binSiForm(c, swapped);
      immAt = h - 2;
      regAt = h - 1;
    }
  }
  if (immForm != 0xffff && c.isConst(immAt)) {
    const imm = unchecked(c.vals[immAt]);
    const a = c.operand(regAt);
    c.truncate(h - 2);
    const dst = c.pushStack();
    c.begin(immForm);
    c.w32(dst);
    c.w32(a);
    if (wideImm) c.w64(imm); else c.w32(<u32>imm);
    c.lastDst = <i32>dst;
    c.lastWasm = lowerBrSs(wasmOp) != 0xffff || wasmOp == Op.I32_AND ? wasmOp : 0;
    return;
  }
  const b = c.operand(h - 1);
  const a = c.operand(h - 2);
  c.truncate(h - 2);
  const dst = c.pushStack();
  c.begin(binSsForm(c, wasmOp));
  c.w32(dst);
  c.w32(a);
  c.w32(b);
  c.lastDst = <i32>dst;
  c.lastWasm = lowerBrSs(wasmOp) != 0xffff ? wasmOp : 0;
}
// Skips the immediates of an instruction (bytecode already validated).
export function skipImmediates(r: Reader, op: u32): void {
  switch (op) {
    case Op.BR: case Op.BR_IF: case Op.CALL: case Op.LOCAL_GET: case Op.LOCAL_SET: case Op.LOCAL_TEE:
    case Op.GLOBAL_GET: case Op.GLOBAL_SET: case Op.TABLE_GET: case Op.TABLE_SET: case Op.REF_FUNC:
    case Op.DATA_DROP: case Op.ELEM_DROP: case Op.TABLE_GROW: case Op.TABLE_SIZE: case Op.TABLE_FILL:
      r.u32(); return;
    case Op.BR_TABLE: {
      const n = r.u32();
      for (let i: u32 = 0; i <= n; i++) r.u32();
      return;
    }
    case Op.CALL_INDIRECT: case Op.TABLE_INIT: case Op.TABLE_COPY: r.u32(); r.u32(); return;
    case Op.SELECT_T: {
      const n = r.u32();
      for (let i: u32 = 0; i < n; i++) r.u8();
      return;
    }
    case Op.MEMORY_SIZE: case Op.MEMORY_GROW: case Op.REF_NULL: case Op.MEMORY_FILL: r.u8(); return;
    case Op.MEMORY_COPY: r.u8(); r.u8(); return;
    case Op.MEMORY_INIT: r.u32(); r.u8(); return;
    case Op.I32_CONST: r.i32(); return;
    case Op.I64_CONST: r.i64(); return;
    case Op.F32_CONST: r.fixed32(); return;
    case Op.F64_CONST: r.fixed64(); return;
  }
  if (op >= <u32>Op.I32_LOAD && op <= <u32>Op.I64_STORE32) { r.u32(); r.u32(); }
}
