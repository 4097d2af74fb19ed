// Dispatch profile, compiled in only with `--use HANDOVER_PROFILE=1` (scripts/build-vm.mjs
// --profile): how often each IR op ran, each (previous op, op) pair — the data for choosing
// superinstructions — and each instruction site (pc), to read hot loops in IR order. The normal
// build has no trace of it in the dispatch loop.

import { IR_COUNT } from "../ir/ops";

export const counts = new StaticArray<u64>(IR_COUNT);
export const pairs = new StaticArray<u64>(IR_COUNT * IR_COUNT);
export const sites = new Map<u32, u64>();
let previous: u32 = 0;

@inline export function countOp(op: u32, pc: usize): void {
  unchecked((counts[op] += 1));
  unchecked((pairs[previous * IR_COUNT + op] += 1));
  previous = op;
  const at = <u32>pc;
  sites.set(at, sites.has(at) ? sites.get(at) + 1 : 1);
}
