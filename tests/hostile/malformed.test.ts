// Malformed and invalid input: mutants of valid modules (bit flips, byte sets, truncation,
// insertion, deletion, sections swapped / repeated / dropped / renumbered, random bytes inside a
// section, LEB-encoded counts, sizes and immediates replaced by huge or overlong ones), and
// hand-made modules with huge counts and lengths. The VM must answer each with a module or a
// decode/validation error — never an exception, never an unusable Vm, never a hang (a watchdog
// kills the run naming the input), never a runaway memory or a slow load — agree with V8 on
// accepting it (except where V8 accepts a feature beyond Wasm 2.0, or refuses for an
// implementation limit of its own), and run the mutants both accept as V8 does. See
// tests/fuzz/malformed.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vm } from '../../host-intrinsics/vm.js';
import { handwrittenBases, runMalformed, specBases, ttfBase, type MalformedStats } from '../fuzz/malformed.js';
import { Rng } from '../fuzz/rng.js';
import { HEADER, concat, encodeSection, uleb } from '../fuzz/wasm-binary.js';
import { loadWasmOpt } from '../fuzz/wasm-opt.js';
import { source } from '../fuzz/differential.js';
import { Watchdog } from '../fuzz/watchdog.js';

const SEED = 0xbad_5eed;
const MUTANTS_PER_BASE = 150;

let watchdog: Watchdog;
beforeAll(async () => {
  await loadWasmOpt();
  watchdog = new Watchdog(60_000);
});
afterAll(() => watchdog?.stop());

/** `n` as a 5-byte (maximal) u32 LEB, or overlong beyond. */
function leb5(n: number, width = 5): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    let b = i < 5 ? Math.floor(n / 2 ** (7 * i)) % 128 : 0;
    if (i < width - 1) b |= 0x80;
    out.push(b);
  }
  return out;
}

const module = (...sections: number[][]) => concat([HEADER, ...sections]);
const FUNC_TYPE = encodeSection(1, [1, 0x60, 0, 0]);
const ONE_FUNC = encodeSection(3, [1, 0]);

// Modules that declare far more than they hold.
const HUGE: [string, Uint8Array][] = [
  ['type count 2^32-1', module(encodeSection(1, [...leb5(0xffffffff), 0x60, 0, 0]))],
  ['function count 2^32-1', module(FUNC_TYPE, encodeSection(3, [...leb5(0xffffffff), 0]))],
  ['2^32-1 locals in one group', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 8, 1, ...leb5(0xffffffff), 0x7f, 0x0b]))],
  ['two local groups summing past 2^32', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 14, 2, ...leb5(0x80000000), 0x7f, ...leb5(0x80000000), 0x7e, 0x0b]))],
  ['50001 locals', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 6, 1, ...uleb(50001), 0x7f, 0x0b]))],
  ['body size 2^32-1', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, ...leb5(0xffffffff), 0, 0x0b]))],
  ['section size 2^32-1', concat([HEADER, [1, ...leb5(0xffffffff), 1, 0x60, 0, 0]])],
  ['custom section size 2^32-1', concat([HEADER, [0, ...leb5(0xffffffff), 1, 0x61]])],
  ['custom section name length 2^32-1', module(encodeSection(0, [...leb5(0xffffffff), 0x61]))],
  ['import name length 2^32-1', module(FUNC_TYPE, encodeSection(2, [1, ...leb5(0xffffffff), 0x61, 1, 0x62, 0, 0]))],
  ['export count 2^32-1', module(FUNC_TYPE, ONE_FUNC, encodeSection(7, [...leb5(0xffffffff), 1, 0x66, 0, 0]), encodeSection(10, [1, 2, 0, 0x0b]))],
  ['br_table with 2^32-1 targets', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 12, 0, 0x41, 0, 0x0e, ...leb5(0xffffffff), 0, 0x0b]))],
  ['select with 2^32-1 types', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 10, 0, 0x1c, ...leb5(0xffffffff), 0x7f, 0x0b]))],
  ['memory of 65536 pages', module(encodeSection(5, [1, 0, ...uleb(65536)]))],
  ['memory of 65537 pages', module(encodeSection(5, [1, 0, ...uleb(65537)]))],
  ['memory max 2^32-1', module(encodeSection(5, [1, 1, 0, ...leb5(0xffffffff)]))],
  ['table of 2^32-1 elements', module(encodeSection(4, [1, 0x70, 0, ...leb5(0xffffffff)]))],
  ['table of 10^7+1 elements', module(encodeSection(4, [1, 0x70, 0, ...uleb(10_000_001)]))],
  ['data segment of length 2^32-1', module(encodeSection(5, [1, 0, 1]), encodeSection(11, [1, 0, 0x41, 0, 0x0b, ...leb5(0xffffffff), 1]))],
  ['data count 2^32-1', module(encodeSection(12, leb5(0xffffffff)))],
  ['element segment of 2^32-1 functions', module(FUNC_TYPE, ONE_FUNC, encodeSection(4, [1, 0x70, 0, 1]), encodeSection(9, [1, 0, 0x41, 0, 0x0b, ...leb5(0xffffffff), 0]), encodeSection(10, [1, 2, 0, 0x0b]))],
  ['global count 2^32-1', module(encodeSection(6, [...leb5(0xffffffff), 0x7f, 0, 0x41, 0, 0x0b]))],
  ['an overlong (6-byte) LEB count', module(encodeSection(1, [...leb5(1, 6), 0x60, 0, 0]))],
  ['a 5-byte LEB with unused bits set', module(encodeSection(1, [0x81, 0x80, 0x80, 0x80, 0x70, 0x60, 0, 0]))],
  ['i32.const with an overlong immediate', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 10, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b]))],
  ['memarg offset 2^32 (too long)', module(FUNC_TYPE, ONE_FUNC, encodeSection(5, [1, 0, 1]), encodeSection(10, [1, 13, 0, 0x41, 0, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1a, 0x0b]))],
  ['memarg alignment 2^31', module(FUNC_TYPE, ONE_FUNC, encodeSection(5, [1, 0, 1]), encodeSection(10, [1, 12, 0, 0x41, 0, 0x28, ...leb5(0x80000000), 0, 0x1a, 0x0b]))],
  ['block type index 2^32-1', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, 9, 0, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b, 0x0b]))],
  ['nesting 100000 blocks deep', module(FUNC_TYPE, ONE_FUNC, encodeSection(10, [1, ...uleb(200_002), 0, ...new Array<number>(100_000).fill(0).flatMap(() => [0x02, 0x40]), ...new Array<number>(100_000).fill(0x0b), 0x0b]))],
  ['100000 functions of one instruction', module(FUNC_TYPE, encodeSection(3, [...uleb(100_000), ...new Array<number>(100_000).fill(0)]), encodeSection(10, [...uleb(100_000), ...new Array<number>(100_000).fill(0).flatMap(() => [2, 0, 0x0b])]))],
];

describe('hand-made modules with huge counts and lengths', () => {
  it.each(HUGE)('%s', (_what, bytes) => {
    watchdog.beat(`huge: ${_what}`);
    const vm = Vm.createSync();
    const before = (vm.rawExports.memory as WebAssembly.Memory).buffer.byteLength;
    const t = performance.now();
    const r = vm.loadModule(bytes);
    const ms = performance.now() - t;
    const grown = (vm.rawExports.memory as WebAssembly.Memory).buffer.byteLength - before;
    expect(vm.usable).toBe(true);
    expect(ms).toBeLessThan(2000);
    expect(grown).toBeLessThan(64 << 20);
    if (!r.ok) expect(['malformed', 'invalid', 'limit']).toContain(r.kind);
    // V8 as the oracle, but only where it has no limit of its own that the spec does not have.
    const v8 = WebAssembly.validate(source(bytes));
    if (v8 || !/locals|100000 functions|table of 10\^7|65536 pages/.test(_what)) expect(r.ok, r.ok ? 'accepted' : r.message).toBe(v8);
  });
});

describe('mutants of valid modules', () => {
  it(`are refused cleanly or run as in V8 (${MUTANTS_PER_BASE} per base module)`, () => {
    const rng = new Rng(SEED);
    const bases = [...handwrittenBases(), ...specBases(rng, 20), ...Array.from({ length: 12 }, (_, k) => ttfBase(SEED + k))];
    const stats: MalformedStats = runMalformed({ seed: SEED, bases, mutantsPerBase: MUTANTS_PER_BASE, watchdog });
    const { findings, ...rest } = stats;
    console.log(`malformed: ${JSON.stringify({ ...rest, harnessErrors: rest.harnessErrors.length, slowestLoadMs: Math.round(rest.slowestLoadMs) })}${rest.harnessErrors.length > 0 ? `\n  not run in V8 (harness): ${rest.harnessErrors.slice(0, 3).join('; ')}` : ''}`);
    expect(findings.map((f) => `${f.kind}: ${f.base}: ${f.what}: ${f.detail}`)).toEqual([]);
    expect(stats.mutants).toBe(bases.length * MUTANTS_PER_BASE);
    expect(stats.errorKinds.malformed).toBeGreaterThan(0);
    expect(stats.errorKinds.invalid).toBeGreaterThan(0);
    expect(stats.executed).toBeGreaterThan(0);
  }, 120_000);
});
