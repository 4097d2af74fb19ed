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

export const instances: Instance[] = [];
