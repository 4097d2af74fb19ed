// A module instance: the module plus the store records its index spaces resolve to. Read when
// instantiating and when compiling a function (IR embeds these record addresses); never on the
// dispatch loop's path.

import { Module } from "../binary/module";

export class Instance {
  id: u32 = 0;
  module: Module;
  funcs: usize[] = []; // FuncInst per function index (imports first)
  tables: usize[] = []; // TableInst per table index
  memories: usize[] = []; // MemInst per memory index (at most one in Wasm 2.0)
  globals: usize[] = []; // global record per global index
  elems: usize[] = []; // SegInst per element segment
  datas: usize[] = []; // SegInst per data segment

  constructor(module: Module) {
    this.module = module;
  }
}

// By instance id; a dropped instance's slot is null and its id is handed out again.
export const instances: Array<Instance | null> = [];
const freeIds: u32[] = [];

export function registerInstance(inst: Instance): void {
  if (freeIds.length > 0) {
    inst.id = freeIds.pop();
    unchecked((instances[inst.id] = inst));
  } else {
    inst.id = <u32>instances.length;
    instances.push(inst);
  }
}

export function unregisterInstance(inst: Instance): void {
  unchecked((instances[inst.id] = null));
  freeIds.push(inst.id);
}

// The live instance with id `id`, or null.
export function instanceOf(id: u32): Instance | null {
  return id < <u32>instances.length ? unchecked(instances[id]) : null;
}
