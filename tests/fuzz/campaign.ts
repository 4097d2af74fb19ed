// The differential campaign: seed → random bytes → `wasm-opt -ttf` → instrument → plan → run in
// V8 and in the VM → compare. Shared by the bounded campaign in `npm test`
// (tests/fuzz/differential.test.ts) and the long one (`npm run fuzz`, scripts/fuzz.mjs).

import { Rng } from './rng.js';
import type { Watchdog } from './watchdog.js';
import { instrument, parseModule } from './wasm-binary.js';
import { loadWasmOpt, reloadWasmOpt, translateToFuzz, wasmOptTired } from './wasm-opt.js';
import {
  compareRuns, makePlan, runV8, runVm, source,
  type Difference, type PlannedCall, type RunRecord,
} from './differential.js';

export interface Finding {
  seed: number;
  origin: string;
  /** The instrumented module both engines ran. */
  bytes: Uint8Array;
  plan: PlannedCall[];
  metered: boolean;
  handover?: { call: number; fuel: number };
  difference: Difference;
  v8: RunRecord;
  vm: RunRecord;
}

export interface CampaignStats {
  modules: number;
  calls: number;
  /** Calls that trapped in V8 (and, unless reported, in the VM). */
  traps: number;
  hostCalls: number;
  meteredModules: number;
  /** Metered runs that were snapshotted mid-call and finished in a fresh VM. */
  handovers: number;
  findings: Finding[];
  /** Differences the spec allows (Difference.limit): not counted as findings. */
  limits: { seed: number; limit: string }[];
  /** Seeds whose module could not be generated or instrumented (a harness problem, not the VM's). */
  skipped: { seed: number; reason: string }[];
  ms: { generate: number; v8: number; vm: number };
}

export interface CampaignOptions {
  /** First seed; module k uses seed + k. */
  seed: number;
  modules?: number;
  /** Stop starting new modules after this many seconds. */
  seconds?: number;
  /** Bytes of random input per module: larger inputs give larger modules. */
  minInput?: number;
  maxInput?: number;
  onFinding?: (f: Finding) => void;
  onProgress?: (stats: CampaignStats, seed: number) => void;
  /** Told about every step, so that a hang names its seed. */
  watchdog?: Watchdog;
}

/** Everything one seed determines: the instrumented module, its plan, metering. */
export interface SeededModule {
  bytes: Uint8Array;
  plan: PlannedCall[];
  /** Metered VM run, and (then) the call at which to hand over to a fresh VM after `fuel`. */
  metered: boolean;
  handover?: { call: number; fuel: number };
  canonicalised: number;
}

export function moduleForSeed(seed: number, minInput = 512, maxInput = 6144): SeededModule {
  const rng = new Rng(seed);
  const random = rng.bytes(rng.range(minInput, maxInput));
  const generated = translateToFuzz(random);
  if (!WebAssembly.validate(source(generated))) throw new Error('binaryen made a module V8 finds invalid');
  const { bytes, canonicalised } = instrument(generated);
  const plan = makePlan(parseModule(bytes), rng.fork(1));
  const metered = rng.chance(0.4);
  const handover = metered && plan.length > 0 && rng.chance(0.75) ? { call: rng.below(plan.length), fuel: rng.range(1, rng.pick([20, 200, 2000])) } : undefined;
  return { bytes, plan, metered, canonicalised, ...(handover ? { handover } : {}) };
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignStats> {
  await loadWasmOpt();
  const stats: CampaignStats = { modules: 0, calls: 0, traps: 0, hostCalls: 0, meteredModules: 0, handovers: 0, findings: [], limits: [], skipped: [], ms: { generate: 0, v8: 0, vm: 0 } };
  const deadline = options.seconds === undefined ? Infinity : Date.now() + options.seconds * 1000;
  for (let k = 0; options.modules === undefined || k < options.modules; k++) {
    if (Date.now() > deadline) break;
    const seed = options.seed + k;
    const beat = (what: string) => options.watchdog?.beat(`seed ${seed}: ${what}`);
    if (wasmOptTired()) {
      beat('reloading wasm-opt');
      await reloadWasmOpt();
    }
    beat('wasm-opt -ttf');
    let t = performance.now();
    let made: ReturnType<typeof moduleForSeed>;
    try {
      made = moduleForSeed(seed, options.minInput, options.maxInput);
      if (!WebAssembly.validate(source(made.bytes))) throw new Error('the instrumented module does not validate in V8');
    } catch (e) {
      stats.skipped.push({ seed, reason: String(e) });
      continue;
    } finally {
      stats.ms.generate += performance.now() - t;
    }
    const { bytes, plan, metered, handover } = made;
    const info = parseModule(bytes);
    beat('V8 run');
    t = performance.now();
    const v8 = runV8(bytes, plan, info);
    stats.ms.v8 += performance.now() - t;
    beat(`VM run${metered ? ' (metered)' : ''}`);
    t = performance.now();
    const vm = runVm(bytes, plan, { metered, ...(handover ? { handover } : {}) }, info);
    if (vm.handedOver && 'frames' in vm.handedOver) stats.handovers++;
    stats.ms.vm += performance.now() - t;
    stats.modules++;
    if (metered) stats.meteredModules++;
    stats.calls += v8.calls.length;
    stats.traps += v8.calls.filter((c) => c.outcome.startsWith('trap')).length;
    stats.hostCalls += v8.calls.reduce((n, c) => n + c.log.length, 0);
    const difference = compareRuns(v8, vm);
    if (difference?.limit) stats.limits.push({ seed, limit: difference.limit });
    else if (difference) {
      const origin = `wasm-opt -ttf, seed ${seed}${vm.handedOver ? `, handed over to a fresh VM in call ${vm.handedOver.call}` : ''}`;
      const finding: Finding = { seed, origin, bytes, plan, metered, ...(handover ? { handover } : {}), difference, v8, vm };
      stats.findings.push(finding);
      options.onFinding?.(finding);
    }
    options.onProgress?.(stats, seed);
  }
  return stats;
}
