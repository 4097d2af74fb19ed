// Instantiation (spec 4.5.4 "Instantiation", Wasm 2.0): from a validated module and the store
// addresses of its imports to a module instance — allocate its functions, tables, memories,
// globals and segments, then run the active element and data segments. The start function is
// the host's to invoke.

import { hostedInit } from "./hosted";
import { ConstExpr, ConstOp, ExternKind, Module, SegmentMode, ValType } from "../binary/module";
import { ErrorKind, fail } from "../binary/error";
import { Instance, registerInstance } from "./instance";
import { dropInstance } from "./drop";
import { resolveImports } from "./link";
import {
  EMPTY_MEM, FUNC_ADDR, FUNC_MEM, FUNC_WASM, GLOBAL_VALUE, MEM_BASE, MEM_BYTES, NO_MAX, SEG_LEN,
  SEG_PTR, SEG_SIZE, TABLE_ELEMS, TABLE_LEN, allocRecord, newFunc, newGlobal, newMemory, newTable,
  normalise,
} from "./store";

// Instantiates `module` with one u32 store address per import at `importAddrs`. Returns the new
// instance, or null with the error set: Unlinkable (imports), Limit (a memory or table too large
// for this VM) or Uninstantiable (a segment out of bounds).
//
// An instance that fails in its segments may stay registered in `instances`: the segments before
// the failing one stay written, so a shared table can hold its functions, and compiling one of them
// later needs its instance. The host gets no instance id for it.
//
// A restore passes `sizes`, the snapshot's pages per memory index: defined memories are made at
// that size at once (no growth, so each byte is zeroed once), or are the host's `adopted` memories
// (one per defined memory, taken as they are), and no data segment is written, since the
// snapshot's pages or the adopted contents are what memory holds.
export function instantiate(module: Module, importAddrs: usize, sizes: u32[] | null = null, adopted: usize[] | null = null): Instance | null {
  const imported: usize[] = [];
  if (!resolveImports(module, importAddrs, imported)) return null;

  const inst = new Instance(module);
  registerInstance(inst);
  module.instanceCount++;

  // A failed instance goes again unless a segment wrote its functions into a table it imported
  // (the first error, the instantiation's, is the one recorded).
  if (!allocate(inst, imported, sizes, adopted) || !initElems(inst) || !initDatas(inst, sizes === null)) {
    dropInstance(inst, adopted);
    return null;
  }
  return inst;
}

// 4.5.3.1 "Modules" (allocmodule): the instance's records, in index-space order (imports first).
function allocate(inst: Instance, imported: usize[], sizes: u32[] | null, adopted: usize[] | null): bool {
  const m = inst.module;
  const imports = m.imports;
  for (let i = 0; i < imports.length; i++) {
    const rec = unchecked(imported[i]);
    switch (<u32>unchecked(imports[i]).kind) {
      case ExternKind.Func: inst.funcs.push(rec); break;
      case ExternKind.Table: inst.tables.push(rec); break;
      case ExternKind.Memory: inst.memories.push(rec); break;
      case ExternKind.Global: inst.globals.push(rec); break;
    }
  }

  // Memories before functions: a defined function caches its instance's memory record.
  for (let i = 0; i < m.memories.length; i++) {
    if (adopted !== null) {
      inst.memories.push(unchecked(adopted[i]));
      continue;
    }
    const l = unchecked(m.memories[i]);
    const pages = sizes !== null ? unchecked(sizes[<i32>m.numImportedMemories + i]) : l.min;
    const rec = newMemory(pages, l.hasMax ? l.max : NO_MAX);
    if (rec == 0) {
      fail(ErrorKind.Limit, "memory size exceeds the VM's limit", 0);
      return false;
    }
    inst.memories.push(rec);
  }
  for (let i = 0; i < m.tables.length; i++) {
    const t = unchecked(m.tables[i]);
    const rec = newTable(t.elemType, t.limits.min, t.limits.hasMax ? t.limits.max : NO_MAX);
    if (rec == 0) {
      fail(ErrorKind.Limit, "table size exceeds the VM's limit", 0);
      return false;
    }
    inst.tables.push(rec);
  }

  // Imported functions keep the memory of the instance that defined them.
  const memRec = inst.memories.length > 0 ? unchecked(inst.memories[0]) : EMPTY_MEM;
  for (let i = 0; i < m.funcs.length; i++) {
    const index = m.numImportedFuncs + <u32>i;
    const rec = newFunc(unchecked(m.types[unchecked(m.funcs[i])]), FUNC_WASM, inst.id, index);
    store<usize>(rec, memRec, FUNC_MEM);
    inst.funcs.push(rec);
  }

  // Global initialisers may read imported globals (global.get) and take function references, so
  // they are evaluated once both index spaces are complete up to that point.
  for (let i = 0; i < m.globals.length; i++) {
    const g = unchecked(m.globals[i]);
    if (g.type.valType == ValType.V128) {
      // A global record holds an 8-byte cell.
      fail(ErrorKind.Limit, "v128 globals are not supported", 0);
      return false;
    }
    const value = normalise(g.type.valType, evalConst(inst, g.init));
    inst.globals.push(newGlobal(g.type.valType, g.type.mutable, value));
  }

  for (let i = 0; i < m.elems.length; i++) {
    const inits = unchecked(m.elems[i]).inits;
    const n = inits.length;
    const refs = allocRecord(n == 0 ? 4 : <usize>n << 2);
    for (let j = 0; j < n; j++) {
      store<u32>(refs + (<usize>j << 2), <u32>evalConst(inst, unchecked(inits[j])));
    }
    inst.elems.push(newSegment(refs, n));
  }
  for (let i = 0; i < m.datas.length; i++) {
    const d = unchecked(m.datas[i]);
    // The bytes stay in the module's block, which lives as long as the VM.
    inst.datas.push(newSegment(m.bytes + d.start, d.len));
  }
  return true;
}

function newSegment(ptr: usize, len: u32): usize {
  const rec = allocRecord(SEG_SIZE);
  store<usize>(rec, ptr, SEG_PTR);
  store<u32>(rec, len, SEG_LEN);
  return rec;
}

// 4.4.10 constant expressions, as the bits of a value cell. Validation restricted global.get to
// imported globals and ref.func to declared functions, so the indices are in range.
function evalConst(inst: Instance, e: ConstExpr): u64 {
  switch (<u32>e.op) {
    case ConstOp.I32:
    case ConstOp.I64:
    case ConstOp.F32:
    case ConstOp.F64:
      return <u64>e.value;
    case ConstOp.RefNull:
      return 0;
    case ConstOp.RefFunc:
      return <u64>load<u32>(unchecked(inst.funcs[e.index]), FUNC_ADDR) + 1;
    case ConstOp.GlobalGet:
      return load<u64>(unchecked(inst.globals[e.index]), GLOBAL_VALUE);
  }
  return 0;
}

// Active element segments run as `table.init` then `elem.drop`; declarative ones are only dropped.
// Wasm 2.0 checks each segment's bounds when its turn comes, so earlier segments stay written.
function initElems(inst: Instance): bool {
  const elems = inst.module.elems;
  for (let i = 0; i < elems.length; i++) {
    const e = unchecked(elems[i]);
    if (e.mode == SegmentMode.Passive) continue;
    const seg = unchecked(inst.elems[i]);
    if (e.mode == SegmentMode.Active) {
      const table = unchecked(inst.tables[e.table]);
      const offset = <u32>evalConst(inst, e.offset);
      const n = load<u32>(seg, SEG_LEN);
      if (<u64>offset + <u64>n > <u64>load<u32>(table, TABLE_LEN)) {
        fail(ErrorKind.Uninstantiable, "out of bounds table access", 0);
        return false;
      }
      memory.copy(
        load<usize>(table, TABLE_ELEMS) + (<usize>offset << 2),
        load<usize>(seg, SEG_PTR),
        <usize>n << 2,
      );
    }
    store<u32>(seg, 0, SEG_LEN);
  }
  return true;
}

// Active data segments run as `memory.init` then `data.drop`, after all element segments; without
// `write` (a restore) they are only dropped.
function initDatas(inst: Instance, write: bool): bool {
  const datas = inst.module.datas;
  for (let i = 0; i < datas.length; i++) {
    const d = unchecked(datas[i]);
    if (d.mode != SegmentMode.Active) continue;
    const seg = unchecked(inst.datas[i]);
    if (!write) {
      store<u32>(seg, 0, SEG_LEN);
      continue;
    }
    const mem = unchecked(inst.memories[d.memory]);
    const offset = <u32>evalConst(inst, d.offset);
    const n = load<u32>(seg, SEG_LEN);
    if (<u64>offset + <u64>n > <u64>load<u32>(mem, MEM_BYTES)) {
      fail(ErrorKind.Uninstantiable, "out of bounds memory access", 0);
      return false;
    }
    const base = load<usize>(mem, MEM_BASE);
    if (base == 0) hostedInit(offset, load<usize>(seg, SEG_PTR), n);
    else memory.copy(base + <usize>offset, load<usize>(seg, SEG_PTR), <usize>n);
    store<u32>(seg, 0, SEG_LEN);
  }
  return true;
}
