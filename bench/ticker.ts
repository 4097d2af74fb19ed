// The ticker guest (tests/fixtures/ticker.wat: chosen memory size and write rate), assembled by
// wabt when first asked for: the migration benchmark, the cluster tests and the demo move it.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../host-intrinsics/vm.js';

export const TICKER_WAT = path.join(packageRoot(import.meta.url), 'tests', 'fixtures', 'ticker.wat');

let cached: Uint8Array | undefined;

export async function tickerModule(): Promise<Uint8Array> {
  if (cached) return cached;
  const wabt = await (await import('wabt')).default();
  const m = wabt.parseWat('ticker.wat', readFileSync(TICKER_WAT, 'utf8'), { bulk_memory: true });
  try {
    cached = new Uint8Array(m.toBinary({}).buffer);
    return cached;
  } finally {
    m.destroy();
  }
}
