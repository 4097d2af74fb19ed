// Branch outcomes of br_if and if. A conditional branch ends its segment, and the next segment
// in bytecode order starts right after it; that segment can only be entered by falling through
// (it starts at no label), so its executions are the not-taken count.
import { functionLabel, type FunctionCounters } from './counters.js';

const BR_IF = 0x0d;
const IF = 0x04;

export interface BranchOutcome {
  function: string;
  /** Offset of the segment that ends with the branch. */
  segment: number;
  kind: 'br_if' | 'if';
  /** br_if: branched; if: went to the else arm (or past the end). */
  taken: bigint;
  notTaken: bigint;
}

export function branchOutcomes(funcs: FunctionCounters[]): BranchOutcome[] {
  const out: BranchOutcome[] = [];
  for (const f of funcs) {
    f.segments.forEach((s, i) => {
      const last = s.ops[s.ops.length - 1];
      if ((last !== BR_IF && last !== IF) || s.executions === 0n) return;
      const next = f.segments[i + 1];
      const notTaken = next ? next.executions : 0n;
      out.push({ function: functionLabel(f), segment: s.offset, kind: last === IF ? 'if' : 'br_if', taken: s.executions - notTaken, notTaken });
    });
  }
  return out;
}
