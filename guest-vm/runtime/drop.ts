// Dropping: a long-lived VM runs many guests one after another, so instances, modules and the
// host's own store objects can be dropped and their memory and addresses reused. Something goes
// only when nothing can reach it any more: a frame of a pending activation, another instance's
// import, a function reference in a table or global outside it. Otherwise the drop is refused
// (error kind 5, naming what still holds it) and nothing changes.

import { ErrorKind, fail } from "../binary/error";
import { ExternKind, Module, ValType } from "../binary/module";
import { Instance, instances, unregisterInstance } from "./instance";
import {
  FUNC_ADDR, FUNC_HOST, FUNC_INSTANCE, FUNC_KIND, GLOBAL_TYPE, GLOBAL_VALUE, SEG_PTR, TABLE_ELEMS, TABLE_LEN, TABLE_TYPE, freeFunc,
  freeGlobal, freeMemory, freeTable, funcLive, funcRecord, globals, tables,
} from "./store";
import { builtinMemoryRec } from "./builtins";
import { forgetCompiled } from "../compile/compiler";
import { forgetInclusive } from "../probe/probes";
import { runningFunc } from "../exec/run";

function refuse(what: string): bool {
  fail(ErrorKind.Limit, what, 0);
  return false;
}

// Whether a reference cell holds a function that `owned` says is going.
@inline function refGoing(ref: u32, owned: (rec: usize) => bool): bool {
  return ref != 0 && funcLive(ref - 1) && owned(funcRecord(ref - 1));
}

// The table or global (not among `keep`) that holds a reference to a function `owned` selects,
// as a message; "" when there is none.
function heldBy(owned: (rec: usize) => bool, keepTables: usize[], keepGlobals: usize[]): string {
  for (let t = 0; t < tables.length; t++) {
    const rec = unchecked(tables[t]);
    if (rec == 0 || load<u32>(rec, TABLE_TYPE) != ValType.FuncRef || keepTables.includes(rec)) continue;
    const elems = load<usize>(rec, TABLE_ELEMS);
    const n = load<u32>(rec, TABLE_LEN);
    for (let i: u32 = 0; i < n; i++) {
      if (refGoing(load<u32>(elems + (<usize>i << 2)), owned)) return "table " + t.toString() + " holds one of its functions";
    }
  }
  for (let g = 0; g < globals.length; g++) {
    const rec = unchecked(globals[g]);
    if (rec == 0 || load<u8>(rec, GLOBAL_TYPE) != ValType.FuncRef || keepGlobals.includes(rec)) continue;
    if (refGoing(<u32>load<u64>(rec, GLOBAL_VALUE), owned)) return "global " + g.toString() + " holds one of its functions";
  }
  return "";
}

// The live instance (other than `except`) that lists record `rec` of `kind`, or null.
export function listedBy(kind: u32, rec: usize, except: Instance | null): Instance | null {
  for (let i = 0; i < instances.length; i++) {
    const inst = unchecked(instances[i]);
    if (inst === null || inst === except) continue;
    let list: usize[];
    switch (kind) {
      case ExternKind.Func: list = inst.funcs; break;
      case ExternKind.Table: list = inst.tables; break;
      case ExternKind.Memory: list = inst.memories; break;
      default: list = inst.globals;
    }
    if (list.includes(rec)) return inst;
  }
  return null;
}

let dropping: u32 = 0;
function ownedByDropping(rec: usize): bool {
  return load<u32>(rec, FUNC_INSTANCE) == dropping && load<u32>(rec, FUNC_KIND) != FUNC_HOST;
}

// Drops instance `inst`: frees its functions (and their compiled code), memories, tables,
// globals and segments. False (the error set) when something still reaches it. Memories in
// `spared` stay in the store: a refused restore gives the host back the memories it adopted.
export function dropInstance(inst: Instance, spared: usize[] | null = null): bool {
  const m = inst.module;
  const id = inst.id;
  const nf = <i32>m.numImportedFuncs;
  for (let i = nf; i < inst.funcs.length; i++) {
    if (runningFunc(unchecked(inst.funcs[i]))) return refuse("instance " + id.toString() + " has frames in a pending activation");
  }
  const own = definedRecords(inst);
  for (let k: u32 = 0; k < 4; k++) {
    const recs = unchecked(own[k]);
    for (let i = 0; i < recs.length; i++) {
      const user = listedBy(k, unchecked(recs[i]), inst);
      if (user !== null) return refuse("instance " + id.toString() + " is imported by instance " + user.id.toString());
    }
  }
  dropping = id;
  const holder = heldBy(ownedByDropping, unchecked(own[ExternKind.Table]), unchecked(own[ExternKind.Global]));
  if (holder.length > 0) return refuse("instance " + id.toString() + " is still referenced: " + holder);

  for (let i = nf; i < inst.funcs.length; i++) {
    const rec = unchecked(inst.funcs[i]);
    forgetCompiled(rec);
    forgetInclusive(load<u32>(rec, FUNC_ADDR));
    freeFunc(rec);
  }
  const memories = unchecked(own[ExternKind.Memory]);
  for (let i = 0; i < memories.length; i++) {
    const rec = unchecked(memories[i]);
    if (spared === null || !spared.includes(rec)) freeMemory(rec);
  }
  const tablesOwn = unchecked(own[ExternKind.Table]);
  for (let i = 0; i < tablesOwn.length; i++) freeTable(unchecked(tablesOwn[i]));
  const globalsOwn = unchecked(own[ExternKind.Global]);
  for (let i = 0; i < globalsOwn.length; i++) freeGlobal(unchecked(globalsOwn[i]));
  for (let i = 0; i < inst.elems.length; i++) {
    const seg = unchecked(inst.elems[i]);
    heap.free(load<usize>(seg, SEG_PTR));
    heap.free(seg);
  }
  // Data segments point into the module's bytes, which the module owns.
  for (let i = 0; i < inst.datas.length; i++) heap.free(unchecked(inst.datas[i]));
  unregisterInstance(inst);
  m.instanceCount--;
  return true;
}

// The records the instance defined (not imported), by extern kind.
function definedRecords(inst: Instance): StaticArray<usize[]> {
  const m = inst.module;
  const own = new StaticArray<usize[]>(4);
  unchecked((own[ExternKind.Func] = inst.funcs.slice(<i32>m.numImportedFuncs)));
  unchecked((own[ExternKind.Table] = inst.tables.slice(<i32>m.numImportedTables)));
  unchecked((own[ExternKind.Memory] = inst.memories.slice(<i32>m.numImportedMemories)));
  unchecked((own[ExternKind.Global] = inst.globals.slice(<i32>m.numImportedGlobals)));
  return own;
}

// Whether module `m` may go: none of its instances is left.
export function moduleDroppable(m: Module, id: u32): bool {
  if (m.instanceCount > 0) {
    return refuse("module " + id.toString() + " has " + m.instanceCount.toString() + " live instance" + (m.instanceCount == 1 ? "" : "s"));
  }
  return true;
}

let droppingRec: usize = 0;
function isDroppingRec(rec: usize): bool {
  return rec == droppingRec;
}

// Drops a store object the host made (host_func_new, table_new, memory_new, global_new) whose
// record is `rec`. Instances' own objects go with their instance.
export function dropHostObject(kind: u32, addr: u32, rec: usize): bool {
  const what = "store object " + addr.toString();
  if (kind == ExternKind.Func && load<u32>(rec, FUNC_KIND) != FUNC_HOST) return refuse(what + " belongs to an instance");
  if (kind == ExternKind.Memory && rec == builtinMemoryRec) return refuse(what + " is the builtin memory");
  const user = listedBy(kind, rec, null);
  if (user !== null) {
    return refuse(what + (kind == ExternKind.Func ? " is imported by instance " : " belongs to or is imported by instance ") + user.id.toString());
  }
  if (kind == ExternKind.Func) {
    if (runningFunc(rec)) return refuse(what + " is in a pending activation");
    droppingRec = rec;
    const holder = heldBy(isDroppingRec, [], []);
    if (holder.length > 0) return refuse(what + " is still referenced: " + holder);
    freeFunc(rec);
  } else if (kind == ExternKind.Table) freeTable(rec);
  else if (kind == ExternKind.Memory) freeMemory(rec);
  else freeGlobal(rec);
  return true;
}
