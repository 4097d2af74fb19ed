// Indirect call targets: how often each call_indirect site called each function, recorded in the
// VM (Vm.setRecording({ indirectCalls: true })) per (site, target) with no host call per event.
import type { Recorded } from '../abi.js';
import { functionLabel, type FunctionCounters } from './counters.js';

export interface IndirectTarget {
  /** The function holding the call site. */
  function: string;
  /** Bytecode offset of the call_indirect. */
  site: number;
  /** The callee, or "none" when the table held no function there (the call trapped). */
  target: string;
  count: bigint;
}

export function indirectTargets(funcs: FunctionCounters[], recorded: Recorded): IndirectTarget[] {
  const byIndex = new Map(funcs.map((f) => [f.index, f]));
  // A site belongs to the function with the last first segment at or before it.
  const starts = funcs.filter((f) => f.segments.length > 0).map((f) => [f.segments[0].offset, f] as const).sort((a, b) => a[0] - b[0]);
  const holder = (site: number) => {
    let found: FunctionCounters | undefined;
    for (const [offset, f] of starts) if (offset <= site) found = f;
    return found ? functionLabel(found) : '?';
  };
  const label = (index: number | null) => {
    if (index === null) return 'none';
    const f = byIndex.get(index);
    return f ? functionLabel(f) : `func[${index}]`;
  };
  return recorded.indirect
    .map((r) => ({ function: holder(r.site), site: r.site, target: label(r.target), count: r.count }))
    .sort((a, b) => (b.count > a.count ? 1 : b.count < a.count ? -1 : a.site - b.site || a.target.localeCompare(b.target)));
}
