// Differential fuzzing against V8, the bounded share that runs in `npm test`: a fixed range of
// seeds, each turned by `wasm-opt -ttf` into a module that both engines run export by export
// (see campaign.ts and differential.ts for what is compared and how). `npm run fuzz` runs the same
// for longer and writes reproducers. First, checks of the harness itself: V8's trap messages map to
// the VM's trap codes, NaN bits are canonicalised where they become observable, and a real
// difference is found.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wat } from '../helpers/wat.js';
import { runCampaign, type CampaignStats } from './campaign.js';
import { TRAP_CLASSES, compareRuns, runV8, runVm, v8TrapClass } from './differential.js';
import { instrument, parseModule } from './wasm-binary.js';
import { loadWasmOpt } from './wasm-opt.js';
import { Watchdog } from './watchdog.js';

/** Seeds of the bounded campaign, and how many modules it runs. */
const SEED = 20_000;
const MODULES = 400;

describe('the differential harness', () => {
  it('maps every V8 trap message to the class of the VM trap code', () => {
    const bytes = instrument(wat(`(module (memory 1) (table 2 funcref) (type $t (func (param i32)))
      (func $a (result i32) (i32.const 1)) (elem (i32.const 0) $a) (elem $e func $a) (data $d "abc")
      (func (export "unreachable") unreachable)
      (func (export "div_s") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
      (func (export "rem_u") (result i32) (i32.rem_u (i32.const 1) (i32.const 0)))
      (func (export "div_overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
      (func (export "trunc_nan") (result i32) (i32.trunc_f32_s (f32.const nan)))
      (func (export "trunc_big") (result i64) (i64.trunc_f64_u (f64.const 1e30)))
      (func (export "load") (result i32) (i32.load (i32.const 65536)))
      (func (export "fill") (memory.fill (i32.const 65536) (i32.const 0) (i32.const 1)))
      (func (export "init") (memory.init $d (i32.const 0) (i32.const 0) (i32.const 4)))
      (func (export "table.get") (result funcref) (table.get (i32.const 5)))
      (func (export "table.init") (table.init $e (i32.const 1) (i32.const 0) (i32.const 5)))
      (func (export "call_oob") (call_indirect (type $t) (i32.const 0) (i32.const 7)))
      (func (export "call_null") (call_indirect (type $t) (i32.const 0) (i32.const 1)))
      (func (export "call_sig") (call_indirect (type $t) (i32.const 0) (i32.const 0)))
      (func $rec (export "stack") (call $rec)))`)).bytes;
    const info = parseModule(bytes);
    const plan = info.exports.filter((e) => e.kind === 'func').map((e) => ({ export: e.name, args: [] }));
    const v8 = runV8(bytes, plan, info);
    const vm = runVm(bytes, plan, {}, info);
    expect(v8.calls.every((c) => c.outcome.startsWith('trap ') && !c.outcome.includes('unrecognised'))).toBe(true);
    expect(compareRuns(v8, vm)).toBeNull();
    expect(new Set(v8.calls.map((c) => c.outcome)).size).toBe(new Set(Object.values(TRAP_CLASSES)).size);
    expect(v8TrapClass(new TypeError('x'))).toBeNull();
  });

  it('canonicalises NaNs only where their bits become observable', () => {
    // 0/0 gives V8's default NaN (sign set on x86); a spec-conforming engine may give +NaN.
    const text = `(module (memory 1)
      (func (export "bits") (param f32) (result i32) (i32.reinterpret_f32 (f32.div (local.get 0) (local.get 0))))
      (func (export "store") (param f64) (f64.store (i32.const 8) (f64.div (local.get 0) (local.get 0))))
      (func (export "sign") (param f32) (result f32) (f32.copysign (f32.const 1) (f32.div (local.get 0) (local.get 0))))
      (func (export "nan") (param f32) (result f32) (f32.div (local.get 0) (local.get 0))))`;
    const { bytes, canonicalised } = instrument(wat(text));
    expect(canonicalised).toBe(3);
    const plan = ['bits', 'store', 'sign', 'nan'].map((e) => ({ export: e, args: [e === 'store' ? { type: 'f64' as const, bits: '0' } : { type: 'f32' as const, bits: 0 }] }));
    const v8 = runV8(bytes, plan);
    expect(v8.calls.map((c) => c.outcome)).toEqual(['values i32:2143289344', 'values', 'values f32:0x3f800000', 'values f32:nan']);
    expect(compareRuns(v8, runVm(bytes, plan))).toBeNull();
  });

  it('finds a difference when there is one', () => {
    const a = instrument(wat('(module (global (export "g") (mut i32) (i32.const 1)) (func (export "f") (result i32) (i32.const 1)))')).bytes;
    const b = instrument(wat('(module (global (export "g") (mut i32) (i32.const 2)) (func (export "f") (result i32) (i32.const 2)))')).bytes;
    const plan = [{ export: 'f', args: [] }];
    expect(compareRuns(runV8(a, plan), runVm(b, plan))).toMatchObject({ what: 'call', call: 0 });
    expect(compareRuns(runV8(a, []), runVm(b, []))).toMatchObject({ what: 'global' });
  });
});

describe(`differential campaign: ${MODULES} wasm-opt -ttf modules, seeds ${SEED}…`, () => {
  let watchdog: Watchdog;
  let stats: CampaignStats;
  beforeAll(async () => {
    await loadWasmOpt();
    watchdog = new Watchdog(60_000);
  });
  afterAll(() => watchdog?.stop());

  it('V8 and the VM agree on every call, log, memory and global', async () => {
    stats = await runCampaign({ seed: SEED, modules: MODULES, watchdog });
    const { findings, ...rest } = stats;
    console.log(`differential: ${JSON.stringify({ ...rest, skipped: rest.skipped.length, limits: rest.limits.length, ms: Object.fromEntries(Object.entries(rest.ms).map(([k, v]) => [k, Math.round(v)])) })}`);
    expect(findings.map((f) => `${f.origin}${f.metered ? ' (metered)' : ''}: ${f.difference.what}${f.difference.call !== undefined ? ` in call ${f.difference.call} (${f.plan[f.difference.call]?.export})` : ''}: V8 ${f.difference.v8} | VM ${f.difference.vm}`)).toEqual([]);
    // The campaign exercised what it is meant to.
    expect(stats.skipped.length).toBeLessThan(MODULES / 20);
    expect(stats.calls).toBeGreaterThan(MODULES * 5);
    expect(stats.traps).toBeGreaterThan(0);
    expect(stats.hostCalls).toBeGreaterThan(0);
    expect(stats.handovers).toBeGreaterThan(0);
  }, 150_000);
});
