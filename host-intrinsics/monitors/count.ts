// Instruction count: every executed bytecode instruction once (the metering rule, ABI.md).
import type { FunctionCounters } from './counters.js';

export function instructionCount(funcs: FunctionCounters[]): bigint {
  let total = 0n;
  for (const f of funcs) for (const s of f.segments) total += s.executions * BigInt(s.ops.length);
  return total;
}
