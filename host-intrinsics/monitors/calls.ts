// Call profile: calls per function (its first segment runs once per call: no branch can target
// a function's start), the instructions it executed itself, and — with inclusive recording
// (Vm.setRecording({ inclusive: true })) — the instructions executed from its entry to its return,
// callees included, each outermost call counted once (recursion is not counted twice).
import { functionLabel, type FunctionCounters } from './counters.js';

export interface CallProfile {
  name: string;
  index: number;
  calls: bigint;
  selfInstructions: bigint;
  /** Inclusive ("total") instructions; present when they were recorded. */
  totalInstructions?: bigint;
}

export function callProfile(funcs: FunctionCounters[], inclusive?: ReadonlyMap<number, bigint>): CallProfile[] {
  return funcs
    .map((f) => {
      const p: CallProfile = {
        name: functionLabel(f),
        index: f.index,
        calls: f.segments[0]?.executions ?? 0n,
        selfInstructions: f.segments.reduce((n, s) => n + s.executions * BigInt(s.ops.length), 0n),
      };
      if (inclusive) p.totalInstructions = inclusive.get(f.index) ?? 0n;
      return p;
    })
    .filter((p) => p.calls > 0n)
    .sort((a, b) => (b.selfInstructions > a.selfInstructions ? 1 : b.selfInstructions < a.selfInstructions ? -1 : a.index - b.index));
}
