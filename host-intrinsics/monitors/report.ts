// The monitors' report: one object with every monitor's result (JSON: bigints as numbers where
// exact, else strings) and text tables for a terminal.
import { branchOutcomes, type BranchOutcome } from './branches.js';
import { callProfile, type CallProfile } from './calls.js';
import { instructionCount } from './count.js';
import type { FunctionCounters } from './counters.js';
import { blockCoverage, type Coverage } from './coverage.js';
import { hotLoops, type HotLoop } from './loops.js';
import { memoryStats, type MemoryStats } from './memory.js';
import { opcodeHistogram } from './opcodes.js';
import { indirectTargets, type IndirectTarget } from './indirect.js';
import type { Recorded } from '../abi.js';

export const MONITORS = ['count', 'opcodes', 'calls', 'coverage', 'loops', 'branches', 'memory', 'indirect'] as const;
export type MonitorName = (typeof MONITORS)[number];

export interface Report {
  count: bigint;
  opcodes: Map<string, bigint>;
  calls: CallProfile[];
  coverage: Coverage;
  loops: HotLoop[];
  branches: BranchOutcome[];
  memory: MemoryStats;
  /** Empty unless indirect calls were recorded. */
  indirect: IndirectTarget[];
}

/** Every monitor, from the segment counters and (when recorded) the probes' recording. */
export function report(funcs: FunctionCounters[], recorded?: Recorded): Report {
  return {
    count: instructionCount(funcs),
    opcodes: opcodeHistogram(funcs),
    calls: callProfile(funcs, recorded?.inclusive),
    coverage: blockCoverage(funcs),
    loops: hotLoops(funcs),
    branches: branchOutcomes(funcs),
    memory: memoryStats(funcs),
    indirect: recorded ? indirectTargets(funcs, recorded) : [],
  };
}

// Counts stay exact in JSON: a number while it is a safe integer, else a decimal string.
function num(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return num(value);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The selected monitors as a JSON-ready object ({"count": N, "opcodes": {"i32.add": N, …}, …}). */
export function reportJson(r: Report, selected: readonly MonitorName[] = MONITORS): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of selected) out[name] = plain(r[name]);
  return out;
}

function table(title: string, header: string[], rows: (string | number | bigint)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [`${title}`, line(cells[0]), ...cells.slice(1).map(line)].join('\n');
}

const share = (n: bigint, total: bigint) => (total === 0n ? '0.0%' : `${(Number((n * 10000n) / total) / 100).toFixed(2)}%`);

/** Text tables of the selected monitors. */
export function reportText(r: Report, selected: readonly MonitorName[] = MONITORS, top = 20): string {
  const parts: string[] = [];
  for (const name of selected) {
    switch (name) {
      case 'count':
        parts.push(`instructions executed: ${r.count}`);
        break;
      case 'opcodes':
        parts.push(table('top instructions', ['op', 'count', 'share'], [...r.opcodes].slice(0, top).map(([op, n]) => [op, n, share(n, r.count)])));
        break;
      case 'calls': {
        const total = r.calls.some((c) => c.totalInstructions !== undefined);
        const header = ['function', 'calls', 'self instructions', 'share', ...(total ? ['total instructions', 'share'] : [])];
        parts.push(table('calls', header, r.calls.slice(0, top).map((c) => [c.name, c.calls, c.selfInstructions, share(c.selfInstructions, r.count),
          ...(total ? [c.totalInstructions ?? 0n, share(c.totalInstructions ?? 0n, r.count)] : [])])));
        break;
      }
      case 'indirect':
        parts.push(table('indirect call targets', ['function', 'at', 'target', 'calls'], r.indirect.slice(0, top).map((t) => [t.function, `0x${t.site.toString(16)}`, t.target, t.count])));
        break;
      case 'coverage': {
        const c = r.coverage;
        const pct = c.blocks === 0 ? 0 : (100 * c.covered) / c.blocks;
        parts.push(`basic-block coverage: ${c.covered}/${c.blocks} (${pct.toFixed(1)}%)\n` +
          table('', ['function', 'covered', 'blocks'], c.functions.filter((f) => f.covered > 0).slice(0, top).map((f) => [f.name, f.covered, f.blocks])).slice(1));
        break;
      }
      case 'loops':
        parts.push(table('hot loops', ['function', 'offset', 'iterations'], r.loops.map((l) => [l.function, `0x${l.offset.toString(16)}`, l.iterations])));
        break;
      case 'branches':
        parts.push(table('branches', ['function', 'at', 'kind', 'taken', 'not taken'], r.branches.slice(0, top).map((b) => [b.function, `0x${b.segment.toString(16)}`, b.kind, b.taken, b.notTaken])));
        break;
      case 'memory': {
        const m = r.memory;
        parts.push(table('memory accesses', ['width', 'loads', 'stores'], Object.entries(m.byWidth).map(([w, c]) => [w, c.loads, c.stores])) +
          `\nbytes loaded ${m.bytesLoaded}, stored ${m.bytesStored}` +
          (Object.keys(m.bulk).length ? `; ${Object.entries(m.bulk).map(([k, v]) => `${k} ×${v}`).join(', ')}` : ''));
        break;
      }
    }
  }
  return parts.join('\n\n') + '\n';
}
