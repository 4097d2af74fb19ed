// Hostile input: mutants of valid modules go to the VM's loader and to V8's validator. The VM must
// answer each with a module or a decode/validation error — never an exception out of Vm (a
// WebAssembly.RuntimeError out of the VM core is a VM bug), never a Vm left unusable, never a
// hang (the watchdog), never a runaway memory — and agree with V8 on accepting it, except where V8
// accepts a feature beyond Wasm 2.0 (usesPost20Features) or refuses for one of its implementation
// limits. Mutants both accept are run in both (differential.ts) when the VM finishes them within
// its budget.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Vm } from '../../host-intrinsics/vm.js';
import { wat } from '../helpers/wat.js';
import { compareRuns, makePlan, runV8, runVm, source, type Difference, type PlannedCall } from './differential.js';
import { mutate, usesPost20Features } from './mutate.js';
import { Rng } from './rng.js';
import { instrument, parseModule } from './wasm-binary.js';
import { translateToFuzz } from './wasm-opt.js';
import type { Watchdog } from './watchdog.js';

export interface MalformedFinding {
  kind: 'exception' | 'unusable' | 'accepts invalid' | 'refuses valid' | 'execution' | 'memory' | 'slow';
  base: string;
  what: string;
  bytes: Uint8Array;
  detail: string;
  /** For 'execution': the instrumented mutant both ran, the plan and the difference. */
  run?: { bytes: Uint8Array; plan: PlannedCall[]; difference: Difference };
}

export interface MalformedStats {
  bases: number;
  mutants: number;
  vmAccepted: number;
  v8Accepted: number;
  /** V8 accepted, the VM refused, and the mutant uses a feature beyond 2.0 that V8 has. */
  post20: number;
  /** The VM accepted, V8 refused for an implementation limit of its own. */
  v8Limits: number;
  /** VM error kinds of the refused mutants. */
  errorKinds: Record<string, number>;
  executed: number;
  /** Mutants whose runs differed only as the spec allows (a memory beyond the VM's limit, stack depth). */
  limitDifferences: number;
  /** Mutants the harness could not run in V8 (its own limitation, listed for fixing). */
  harnessErrors: string[];
  /** Accepted by both but not run: the VM ran out of its budget, or the mutant asks for too much memory. */
  notExecuted: number;
  findings: MalformedFinding[];
  slowestLoadMs: number;
  maxVmMemoryMiB: number;
}

export interface BaseModule {
  name: string;
  bytes: Uint8Array;
}

// V8's messages for its implementation limits (the spec allows an implementation to refuse these).
const V8_LIMITS = /exceeds|too many|maximum|limit|size of|out of memory|is larger than/i;

/** Budgets: a module that loads slower than this or grows the VM's memory past this is reported. */
const SLOW_LOAD_MS = 2000;
const MAX_VM_MEMORY = 512 << 20;
const MUTANTS_PER_VM = 64;

/** Handwritten modules with every section kind and the constructs -ttf does not make. */
export function handwrittenBases(): BaseModule[] {
  const sink = wat(`(module
    (type $t (func (param i32) (result i32)))
    (import "env" "f" (func $imp (param i32) (result i32)))
    (import "env" "g" (global $ig i32))
    (import "env" "t" (table $it 2 10 funcref))
    (global $g (mut i64) (i64.const 5))
    (global $gr funcref (ref.func $f))
    (memory 1 3)
    (table $tab 4 externref)
    (table $ft 3 funcref)
    (elem (table $ft) (i32.const 0) func $f $g2)
    (elem $pass funcref (ref.func $f) (ref.null func))
    (elem declare func $h)
    (data (i32.const 8) "hello")
    (data $pd "passive data")
    (start $s)
    (func $s (global.set $g (i64.const 6)))
    (func $f (type $t) (i32.add (local.get 0) (global.get $ig)))
    (func $g2 (type $t) (call $imp (local.get 0)))
    (func $h (export "h") (param i32 i64 f32 f64) (result i32 i64) (local i32)
      (local.get 0) (local.get 1))
    (func (export "bulk") (param i32 i32 i32)
      (memory.init $pd (local.get 0) (local.get 1) (local.get 2))
      (data.drop $pd)
      (memory.copy (local.get 0) (local.get 1) (local.get 2))
      (memory.fill (local.get 0) (i32.const 7) (local.get 2))
      (table.init $ft $pass (i32.const 0) (i32.const 0) (i32.const 1))
      (elem.drop $pass))
    (func (export "ops") (param i32) (result i32)
      (block $b (result i32)
        (br_table $b $b (i32.const 1) (local.get 0)))
      (call_indirect $ft (type $t) (i32.const 0))
      (drop (table.grow $tab (ref.null extern) (i32.const 1)))
      (drop (memory.grow (i32.const 0)))
      (i32.trunc_sat_f32_s (f32.const 1.5))
      (i32.extend8_s)
      (select (result i32) (i32.const 1) (local.get 0))
      (i64.extend_i32_u) (i32.wrap_i64)
      (if (result i32) (then (i32.const 1)) (else (i32.const 2)))
      (loop $l (br_if $l (i32.const 0)))
      (ref.is_null (ref.func $h)) (i32.add) (i32.add)))`);
  const small = wat(`(module (func (export "f") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))`);
  const mem = wat(`(module (memory (export "m") 1) (data (i32.const 0) "\\01\\02\\03")
    (func (export "ld") (param i32) (result i64) (i64.load offset=3 (local.get 0)))
    (func (export "st") (param i32 f64) (f64.store align=4 (local.get 0) (local.get 1))))`);
  return [
    { name: 'kitchen sink', bytes: sink },
    { name: 'small', bytes: small },
    { name: 'memory', bytes: mem },
  ];
}

/** `count` valid modules of the spec suite (../shared/spec, or $HANDOVER_SPEC_DIR), chosen by `rng`. */
export function specBases(rng: Rng, count: number, root = process.env.HANDOVER_SPEC_DIR ?? path.resolve('..', 'shared', 'spec')): BaseModule[] {
  const core = path.join(root, 'core');
  if (!existsSync(core)) return [];
  const all: BaseModule[] = [];
  for (const dir of readdirSync(core).sort()) {
    const json = path.join(core, dir, `${dir}.json`);
    if (!existsSync(json)) continue;
    const script = JSON.parse(readFileSync(json, 'utf8')) as { commands: { type: string; filename?: string; module_type?: string }[] };
    for (const c of script.commands) {
      if (c.type === 'module' && c.filename && c.filename.endsWith('.wasm')) all.push({ name: `spec ${dir}/${c.filename}`, bytes: new Uint8Array(readFileSync(path.join(core, dir, c.filename))) });
    }
  }
  const out: BaseModule[] = [];
  for (let i = 0; i < count && all.length > 0; i++) out.push(all.splice(rng.below(all.length), 1)[0]!);
  return out;
}

/** A -ttf module (not instrumented) for base `k` of a campaign seeded `seed`. */
export function ttfBase(seed: number): BaseModule {
  const rng = new Rng(seed);
  return { name: `ttf seed ${seed}`, bytes: translateToFuzz(rng.bytes(rng.range(256, 4096))) };
}

export interface MalformedOptions {
  seed: number;
  bases: BaseModule[];
  mutantsPerBase: number;
  /** Run the mutants both engines accept (default true), at most this many per base. */
  executePerBase?: number;
  watchdog?: Watchdog;
  onFinding?: (f: MalformedFinding) => void;
}

function memoryMiB(vm: Vm): number {
  return (vm.rawExports.memory as WebAssembly.Memory).buffer.byteLength / 2 ** 20;
}

/** Whether running the module would ask for a lot of memory (or table) up front. */
function greedy(bytes: Uint8Array): boolean {
  try {
    const info = parseModule(bytes);
    return info.memories.some((m) => m.min > 256) || info.tables.some((t) => t.min > 100_000);
  } catch {
    return true;
  }
}

export function runMalformed(options: MalformedOptions): MalformedStats {
  const stats: MalformedStats = {
    bases: 0, mutants: 0, vmAccepted: 0, v8Accepted: 0, post20: 0, v8Limits: 0, errorKinds: {}, executed: 0, limitDifferences: 0, notExecuted: 0, harnessErrors: [],
    findings: [], slowestLoadMs: 0, maxVmMemoryMiB: 0,
  };
  const report = (f: MalformedFinding) => {
    stats.findings.push(f);
    options.onFinding?.(f);
  };
  let vm = Vm.createSync();
  let loadsOnVm = 0;
  const rng = new Rng(options.seed);
  for (const base of options.bases) {
    stats.bases++;
    let executed = 0;
    for (let i = 0; i < options.mutantsPerBase; i++) {
      const m = mutate(base.bytes, rng);
      const label = `${base.name}: ${m.what}`;
      options.watchdog?.beat(`malformed: ${label}`);
      stats.mutants++;
      if (loadsOnVm++ >= MUTANTS_PER_VM || !vm.usable) {
        vm = Vm.createSync();
        loadsOnVm = 0;
      }

      // The VM: a module or an error, nothing else.
      const t = performance.now();
      let accepted: boolean;
      let verdict: string;
      try {
        const loaded = vm.loadModule(m.bytes);
        accepted = loaded.ok;
        verdict = loaded.ok ? 'accepted' : `${loaded.kind}: ${loaded.message} (at byte ${loaded.offset})`;
        if (!loaded.ok) stats.errorKinds[loaded.kind] = (stats.errorKinds[loaded.kind] ?? 0) + 1;
        if (!loaded.ok && !['malformed', 'invalid', 'limit'].includes(loaded.kind)) {
          report({ kind: 'exception', base: base.name, what: m.what, bytes: m.bytes, detail: `unexpected error kind ${verdict}` });
        }
      } catch (e) {
        report({ kind: 'exception', base: base.name, what: m.what, bytes: m.bytes, detail: `loadModule threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` });
        vm = Vm.createSync();
        loadsOnVm = 0;
        continue;
      }
      const ms = performance.now() - t;
      stats.slowestLoadMs = Math.max(stats.slowestLoadMs, ms);
      if (ms > SLOW_LOAD_MS) report({ kind: 'slow', base: base.name, what: m.what, bytes: m.bytes, detail: `loadModule took ${ms.toFixed(0)} ms (${verdict})` });
      if (!vm.usable) report({ kind: 'unusable', base: base.name, what: m.what, bytes: m.bytes, detail: `Vm unusable after loadModule (${verdict})` });
      const mib = memoryMiB(vm);
      stats.maxVmMemoryMiB = Math.max(stats.maxVmMemoryMiB, mib);
      if (mib * 2 ** 20 > MAX_VM_MEMORY) {
        report({ kind: 'memory', base: base.name, what: m.what, bytes: m.bytes, detail: `the VM's memory grew to ${mib.toFixed(0)} MiB loading a ${m.bytes.length}-byte module (${verdict})` });
        vm = Vm.createSync();
        loadsOnVm = 0;
      }

      // V8's verdict.
      const v8 = WebAssembly.validate(source(m.bytes));
      if (accepted) stats.vmAccepted++;
      if (v8) stats.v8Accepted++;
      if (v8 && !accepted) {
        const post = usesPost20Features(m.bytes);
        if (post === 'yes') stats.post20++;
        else report({ kind: 'refuses valid', base: base.name, what: m.what, bytes: m.bytes, detail: `V8 accepts (post-2.0 scan: ${post}); the VM: ${verdict}` });
        continue;
      }
      if (!v8 && accepted) {
        let message = '';
        try {
          new WebAssembly.Module(source(m.bytes));
        } catch (e) {
          message = e instanceof Error ? e.message : String(e);
        }
        if (V8_LIMITS.test(message)) stats.v8Limits++;
        else report({ kind: 'accepts invalid', base: base.name, what: m.what, bytes: m.bytes, detail: `V8: ${message || 'validate() false'}; the VM accepts it` });
        continue;
      }
      if (!v8 || !accepted || executed >= (options.executePerBase ?? 4)) continue;

      // Both accept: run it in both (the VM first, with a budget; V8 only if the VM finished).
      let instrumented: Uint8Array;
      try {
        instrumented = instrument(m.bytes).bytes;
        if (!WebAssembly.validate(source(instrumented)) || greedy(instrumented)) throw new Error('not runnable');
      } catch {
        stats.notExecuted++;
        continue;
      }
      const info = parseModule(instrumented);
      const plan = makePlan(info, rng.fork(i), 1, 12);
      options.watchdog?.beat(`malformed, VM run: ${label}`);
      const vmRun = runVm(instrumented, plan, { maxSlices: 50 }, info);
      if (vmRun.instantiate === 'hang' || vmRun.calls.some((c) => c.outcome === 'hang') || vmRun.instantiate.startsWith('limit')) {
        stats.notExecuted++;
        continue;
      }
      options.watchdog?.beat(`malformed, V8 run: ${label}`);
      let v8Run: ReturnType<typeof runV8>;
      try {
        v8Run = runV8(instrumented, plan, info);
      } catch (e) {
        // The harness could not set the module up in V8 (not the VM's doing): skip it.
        stats.notExecuted++;
        stats.harnessErrors.push(`${label}: ${String(e)}`);
        continue;
      }
      executed++;
      stats.executed++;
      const difference = compareRuns(v8Run, vmRun);
      if (difference?.limit) stats.limitDifferences++;
      else if (difference) {
        report({
          kind: 'execution', base: base.name, what: m.what, bytes: m.bytes,
          detail: `${difference.what}${difference.call !== undefined ? ` (call ${difference.call})` : ''}: V8 ${difference.v8} | VM ${difference.vm}`,
          run: { bytes: instrumented, plan, difference },
        });
      }
    }
  }
  return stats;
}
