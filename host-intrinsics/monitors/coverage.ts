// Basic-block coverage: a segment is a basic block (it starts at a label, after a branch or a
// call, or at the function's start); covered once it has run.
import { functionLabel, type FunctionCounters } from './counters.js';

export interface Coverage {
  blocks: number;
  covered: number;
  functions: { name: string; blocks: number; covered: number }[];
}

export function blockCoverage(funcs: FunctionCounters[]): Coverage {
  const functions = funcs.map((f) => ({
    name: functionLabel(f),
    blocks: f.segments.length,
    covered: f.segments.filter((s) => s.executions > 0n).length,
  }));
  return {
    blocks: functions.reduce((n, f) => n + f.blocks, 0),
    covered: functions.reduce((n, f) => n + f.covered, 0),
    functions,
  };
}
