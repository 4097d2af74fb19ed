// Linking between the store's address spaces and module index spaces: resolving an import's store
// address to a record and checking that the record's type matches what the module imports (spec
// 4.5.3 "Import subtyping", 4.5.4 step 4), and the reverse, an instance's extern to its address.

import { ExternKind, Import, Limits, Module } from "../binary/module";
import { ErrorKind, fail } from "../binary/error";
import { Instance } from "./instance";
import {
  FUNC_ADDR, FUNC_TYPE_ID, GLOBAL_MUT, GLOBAL_TYPE, MEM_MAX, MEM_PAGES, NO_MAX, TABLE_LEN, TABLE_MAX,
  TABLE_TYPE, addressOf, canonicalType, funcLive, funcRecord, globals, memories, tables,
} from "./store";

// The record at store address `addr` in the address space of `kind`, or 0 when there is none.
export function externRecord(kind: u32, addr: u32): usize {
  switch (kind) {
    case ExternKind.Func: return funcLive(addr) ? funcRecord(addr) : 0;
    case ExternKind.Table: return addr < <u32>tables.length ? unchecked(tables[addr]) : 0;
    case ExternKind.Memory: return addr < <u32>memories.length ? unchecked(memories[addr]) : 0;
    case ExternKind.Global: return addr < <u32>globals.length ? unchecked(globals[addr]) : 0;
  }
  return 0;
}

// The store address of the instance's function/table/memory/global `index`, or -1.
export function externAddress(inst: Instance, kind: u32, index: u32): i32 {
  switch (kind) {
    case ExternKind.Func:
      if (index >= <u32>inst.funcs.length) break;
      return <i32>load<u32>(unchecked(inst.funcs[index]), FUNC_ADDR);
    case ExternKind.Table:
      if (index >= <u32>inst.tables.length) break;
      return addressOf(tables, unchecked(inst.tables[index]));
    case ExternKind.Memory:
      if (index >= <u32>inst.memories.length) break;
      return addressOf(memories, unchecked(inst.memories[index]));
    case ExternKind.Global:
      if (index >= <u32>inst.globals.length) break;
      return addressOf(globals, unchecked(inst.globals[index]));
  }
  return -1;
}

// Limits of an existing table or memory match the imported limits when the instance is at least
// as large as required now, and is guaranteed never to grow past the import's maximum.
function limitsMatch(size: u32, max: u32, want: Limits): bool {
  if (size < want.min) return false;
  if (!want.hasMax) return true;
  return max != NO_MAX && max <= want.max;
}

// Whether `rec` (resolved from the import's address) may be imported as `imp`. Wasm 2.0 has no
// subtyping between value types, so functions and globals need equal types.
function importMatches(module: Module, imp: Import, rec: usize): bool {
  switch (<u32>imp.kind) {
    case ExternKind.Func: {
      const want = canonicalType(unchecked(module.types[imp.typeIndex]));
      return load<u32>(rec, FUNC_TYPE_ID) == want;
    }
    case ExternKind.Table: {
      const t = imp.table!;
      if (load<u32>(rec, TABLE_TYPE) != <u32>t.elemType) return false;
      return limitsMatch(load<u32>(rec, TABLE_LEN), load<u32>(rec, TABLE_MAX), t.limits);
    }
    case ExternKind.Memory:
      return limitsMatch(load<u32>(rec, MEM_PAGES), load<u32>(rec, MEM_MAX), imp.memory!);
    case ExternKind.Global: {
      const g = imp.global!;
      return load<u8>(rec, GLOBAL_TYPE) == g.valType && (load<u8>(rec, GLOBAL_MUT) != 0) == g.mutable;
    }
  }
  return false;
}

// Resolves every import of `module` from the u32 store addresses at `importAddrs` (one per import,
// in import order) into `out`. All imports are checked before anything is allocated, so an
// unlinkable module leaves no trace in the store. On failure the error is set (kind Unlinkable).
export function resolveImports(module: Module, importAddrs: usize, out: usize[]): bool {
  const imports = module.imports;
  for (let i = 0; i < imports.length; i++) {
    const imp = unchecked(imports[i]);
    const rec = externRecord(imp.kind, load<u32>(importAddrs + (<usize>i << 2)));
    if (rec == 0) {
      fail(ErrorKind.Unlinkable, "unknown import", 0);
      return false;
    }
    if (!importMatches(module, imp, rec)) {
      fail(ErrorKind.Unlinkable, "incompatible import type", 0);
      return false;
    }
    out.push(rec);
  }
  return true;
}
