// Call profile: calls per function (its first segment runs once per call: no branch can target
// a function's start) and the instructions it executed itself.
import { functionLabel, type FunctionCounters } from './counters.js';

export interface CallProfile {
  name: string;
  index: number;
  calls: bigint;
  selfInstructions: bigint;
}

export function callProfile(funcs: FunctionCounters[]): CallProfile[] {
  return funcs
    .map((f) => ({
      name: functionLabel(f),
      index: f.index,
      calls: f.segments[0]?.executions ?? 0n,
      selfInstructions: f.segments.reduce((n, s) => n + s.executions * BigInt(s.ops.length), 0n),
    }))
    .filter((p) => p.calls > 0n)
    .sort((a, b) => (b.selfInstructions > a.selfInstructions ? 1 : b.selfInstructions < a.selfInstructions ? -1 : a.index - b.index));
}
