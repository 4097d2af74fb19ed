// Hot loops: a loop body's first segment runs once per iteration (entering the loop and every
// branch back to it).
import { functionLabel, type FunctionCounters } from './counters.js';

export interface HotLoop {
  function: string;
  offset: number;
  iterations: bigint;
}

export function hotLoops(funcs: FunctionCounters[], top = 10): HotLoop[] {
  const loops: HotLoop[] = [];
  for (const f of funcs) {
    for (const s of f.segments) {
      if (s.loop && s.executions > 0n) loops.push({ function: functionLabel(f), offset: s.offset, iterations: s.executions });
    }
  }
  loops.sort((a, b) => (b.iterations > a.iterations ? 1 : b.iterations < a.iterations ? -1 : a.offset - b.offset));
  return loops.slice(0, top);
}
