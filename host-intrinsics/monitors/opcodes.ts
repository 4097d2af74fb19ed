// Opcode histogram: each executed instruction under its own mnemonic, however the IR fused it.
import type { FunctionCounters } from './counters.js';
import { MNEMONICS } from './mnemonics.js';

export function opcodeHistogram(funcs: FunctionCounters[]): Map<string, bigint> {
  const byOp = new Map<number, bigint>();
  for (const f of funcs) {
    for (const s of f.segments) {
      if (s.executions === 0n) continue;
      for (const op of s.ops) byOp.set(op, (byOp.get(op) ?? 0n) + s.executions);
    }
  }
  const out = new Map<string, bigint>();
  for (const [op, n] of [...byOp].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] - b[0]))) {
    const name = MNEMONICS.get(op) ?? `0x${op.toString(16)}`;
    out.set(name, (out.get(name) ?? 0n) + n);
  }
  return out;
}
