// Memory-access statistics: loads and stores by width, and bulk-memory operations, counted from
// the instructions that ran.
import type { FunctionCounters } from './counters.js';

const LOAD_BYTES: Record<number, number> = {
  0x28: 4, 0x29: 8, 0x2a: 4, 0x2b: 8, 0x2c: 1, 0x2d: 1, 0x2e: 2, 0x2f: 2, 0x30: 1, 0x31: 1, 0x32: 2, 0x33: 2, 0x34: 4, 0x35: 4,
};
const STORE_BYTES: Record<number, number> = { 0x36: 4, 0x37: 8, 0x38: 4, 0x39: 8, 0x3a: 1, 0x3b: 2, 0x3c: 1, 0x3d: 2, 0x3e: 4 };
const BULK: Record<number, string> = { 0x108: 'memory.init', 0x10a: 'memory.copy', 0x10b: 'memory.fill', 0x40: 'memory.grow' };

export interface MemoryStats {
  loads: bigint;
  stores: bigint;
  bytesLoaded: bigint;
  bytesStored: bigint;
  byWidth: Record<string, { loads: bigint; stores: bigint }>;
  bulk: Record<string, bigint>;
}

export function memoryStats(funcs: FunctionCounters[]): MemoryStats {
  const stats: MemoryStats = { loads: 0n, stores: 0n, bytesLoaded: 0n, bytesStored: 0n, byWidth: {}, bulk: {} };
  const width = (bytes: number) => (stats.byWidth[`${bytes * 8}-bit`] ??= { loads: 0n, stores: 0n });
  for (const f of funcs) {
    for (const s of f.segments) {
      if (s.executions === 0n) continue;
      for (const op of s.ops) {
        if (op in LOAD_BYTES) {
          stats.loads += s.executions;
          stats.bytesLoaded += s.executions * BigInt(LOAD_BYTES[op]);
          width(LOAD_BYTES[op]).loads += s.executions;
        } else if (op in STORE_BYTES) {
          stats.stores += s.executions;
          stats.bytesStored += s.executions * BigInt(STORE_BYTES[op]);
          width(STORE_BYTES[op]).stores += s.executions;
        } else if (op in BULK) {
          stats.bulk[BULK[op]] = (stats.bulk[BULK[op]] ?? 0n) + s.executions;
        }
      }
    }
  }
  return stats;
}
