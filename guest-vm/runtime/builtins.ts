// Builtins: this VM's own implementations of the `handover:vm/intrinsics` functions, which a host
// can link as imports of a guest — in practice a second copy of the VM running inside this one
// (VM-on-VM). A call to a builtin never leaves the dispatch loop: a direct call of a float one
// compiles to the float instruction itself, of a load or store to one IR instruction on the
// builtin memory; any other call runs it in place (exec/interp.ts, ENTER). The memory ones work on the builtin memory: the inner VM's host-owned guest memory,
// owned here by the outer VM.

import { FuncType } from "../binary/module";
import { FUNC_HOST, FUNC_INDEX, FUNC_KIND, NO_INSTANCE, NO_MAX, newFunc, newMemory } from "./store";
import { BUILTIN_COUNT, builtinParams, builtinResults } from "./builtin-table";

export { BUILTIN_COUNT, builtinIrOp, builtinName, builtinWasmOp, runBuiltin } from "./builtin-table";

// Made with the first builtin, so the instructions that use it read it without a check.
export let builtinMemoryRec: usize = 0;

/** The builtin memory, made on first use. */
export function builtinMemory(): usize {
  if (builtinMemoryRec == 0) builtinMemoryRec = newMemory(0, NO_MAX, false);
  return builtinMemoryRec;
}

/** A host function record for builtin `id`; 0 if there is none. */
export function newBuiltinFunc(id: u32): usize {
  if (id >= BUILTIN_COUNT) return 0;
  const t = new FuncType();
  const ps = builtinParams(id);
  for (let i = 0; i < ps.length; i++) t.params.push(unchecked(ps[i]));
  const rs = builtinResults(id);
  for (let i = 0; i < rs.length; i++) t.results.push(unchecked(rs[i]));
  builtinMemory();
  // Host functions keep index 0; a builtin's index is its id + 1.
  return newFunc(t, FUNC_HOST, NO_INSTANCE, id + 1);
}

/** Builtin id + 1 of a function record, or 0 if it is no builtin. */
@inline export function builtinOf(rec: usize): u32 {
  return load<u32>(rec, FUNC_KIND) == FUNC_HOST ? load<u32>(rec, FUNC_INDEX) : 0;
}
