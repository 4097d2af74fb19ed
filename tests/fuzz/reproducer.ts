// Disagreements as reproducers: minimise one (fewer calls, fewer exports, binaryen's own
// shrinking passes, each kept only while the engines still disagree), write it to
// tests/fuzz-regressions/NAME.wasm + NAME.json, and replay one against the VM.
//
// A reproducer's JSON (see `Reproducer` in differential.ts): `origin` (how it was found),
// `difference` (what differed when it was written), `plan` (the export calls, in order, with their
// arguments), `metered`/`handover` (how the VM ran), and `expected`: V8's run, which the VM must
// match (memory as its length and SHA-256). Validation reproducers (kind "validation") hold a module
// V8 and the VM disagree to accept, and V8's verdict; snapshot reproducers (kind "snapshot") a
// module and a snapshot the VM must refuse cleanly. `open: true` marks a known, unfixed VM bug:
// the replay then expects the disagreement (it.fails), so it turns red once the bug is fixed and
// the flag should go.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Vm } from '../../host-intrinsics/vm.js';
import {
  compareRuns, runV8, runVm, source,
  type Difference, type PlannedCall, type Reproducer, type RunRecord,
} from './differential.js';
import { GLOBAL_EXPORT_PREFIX, MEMORY_EXPORT, filterExports, parseModule } from './wasm-binary.js';
import { FEATURE_FLAGS, wasmOpt } from './wasm-opt.js';
import { restoreIsolated } from './isolated.js';

export interface Case {
  bytes: Uint8Array;
  plan: PlannedCall[];
  metered: boolean;
  handover?: { call: number; fuel: number };
}

export interface ValidationReproducer {
  kind: 'validation';
  origin: string;
  /** WebAssembly.validate's verdict, which the VM's loadModule must share. */
  expected: { valid: boolean };
  /** The VM's verdict when the reproducer was written. */
  vm: string;
  open?: boolean;
}

/** Runs a case in both engines: their first difference, or null. */
export function differ(c: Case): { difference: Difference | null; v8: RunRecord; vm: RunRecord } {
  let info;
  try {
    info = parseModule(c.bytes);
  } catch {
    return { difference: null, v8: emptyRun('unparseable'), vm: emptyRun('unparseable') };
  }
  const v8 = runV8(c.bytes, c.plan, info);
  const vm = runVm(c.bytes, c.plan, { metered: c.metered, ...(c.handover ? { handover: c.handover } : {}) }, info);
  return { difference: compareRuns(v8, vm), v8, vm };
}

function emptyRun(why: string): RunRecord {
  return { instantiate: why, calls: [], memory: null, globals: [] };
}

function withoutCall(c: Case, j: number): Case {
  const plan = c.plan.filter((_, k) => k !== j);
  if (!c.handover) return { ...c, plan };
  if (c.handover.call === j) return { bytes: c.bytes, plan, metered: c.metered };
  return { ...c, plan, handover: { ...c.handover, call: c.handover.call - (j < c.handover.call ? 1 : 0) } };
}

/**
 * A smaller case on which the engines still disagree the same way (the same kind of difference):
 * calls dropped one by one, then exports the plan does not name, then binaryen's shrinking passes.
 * `budget` bounds the number of differential runs.
 */
export function minimize(start: Case, what: Difference['what'], budget = 80, note: (s: string) => void = () => {}): Case {
  let best = start;
  let runs = 0;
  const holds = (c: Case): boolean => {
    if (runs++ >= budget) return false;
    try {
      if (!WebAssembly.validate(source(c.bytes))) return false;
      const d = differ(c).difference;
      return d !== null && d.what === what && !d.limit;
    } catch {
      return false;
    }
  };

  // 1. The plan: cut everything after the first differing call, then drop calls from the end.
  const first = differ(best).difference;
  if (first?.what === 'call' && first.call !== undefined && first.call + 1 < best.plan.length) {
    const cut: Case = { ...best, plan: best.plan.slice(0, first.call + 1) };
    if (cut.handover && cut.handover.call > first.call) delete cut.handover;
    if (holds(cut)) best = cut;
  }
  for (let j = best.plan.length - 1; j >= 0 && best.plan.length > 1; j--) {
    const fewer = withoutCall(best, j);
    if (holds(fewer)) best = fewer;
  }
  note(`plan: ${start.plan.length} -> ${best.plan.length} calls`);

  // 2. Exports the plan does not call (call-export may need them: kept only if it still holds).
  const named = new Set(best.plan.map((p) => p.export));
  const fewerExports = filterExports(best.bytes, (name) => named.has(name) || name.startsWith(GLOBAL_EXPORT_PREFIX) || name === MEMORY_EXPORT || name === 'table');
  if (fewerExports.length < best.bytes.length && holds({ ...best, bytes: fewerExports })) best = { ...best, bytes: fewerExports };

  // 3. binaryen's passes, smallest result first; repeated while they help.
  const passes = [['-Oz'], ['-O1'], ['--remove-unused-module-elements', '--dce', '--vacuum'], ['--remove-unused-module-elements']];
  for (let round = 0; round < 3; round++) {
    const before = best.bytes.length;
    for (const p of passes) {
      let shrunk: Uint8Array;
      try {
        shrunk = wasmOpt(best.bytes, [...p, '-q', ...FEATURE_FLAGS]);
      } catch {
        continue;
      }
      if (shrunk.length < best.bytes.length && holds({ ...best, bytes: shrunk })) best = { ...best, bytes: shrunk };
    }
    if (best.bytes.length >= before) break;
  }
  note(`module: ${start.bytes.length} -> ${best.bytes.length} bytes (${runs} differential runs)`);
  return best;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function expectedOf(run: RunRecord): Reproducer['expected'] {
  return {
    instantiate: run.instantiate,
    calls: run.calls,
    memory: run.memory ? { length: run.memory.length, sha256: sha256(run.memory) } : null,
    globals: run.globals,
  };
}

/** Writes NAME.wasm and NAME.json into `dir`; returns the .json path. */
export function writeReproducer(dir: string, name: string, c: Case, origin: string): string {
  mkdirSync(dir, { recursive: true });
  const { difference, v8 } = differ(c);
  if (!difference) throw new Error(`${name}: the engines agree on this case`);
  const spec: Reproducer = {
    origin,
    difference,
    plan: c.plan,
    metered: c.metered,
    ...(c.handover ? { handover: c.handover } : {}),
    expected: expectedOf(v8),
  };
  writeFileSync(path.join(dir, `${name}.wasm`), c.bytes);
  const json = path.join(dir, `${name}.json`);
  writeFileSync(json, `${JSON.stringify(spec, null, 2)}\n`);
  return json;
}

export function writeValidationReproducer(dir: string, name: string, bytes: Uint8Array, spec: ValidationReproducer): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.wasm`), bytes);
  const json = path.join(dir, `${name}.json`);
  writeFileSync(json, `${JSON.stringify(spec, null, 2)}\n`);
  return json;
}

/** The reproducers in `dir`, by name. */
export function listReproducers(dir: string): { name: string; json: string; wasm: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.json'.length);
      return { name, json: path.join(dir, f), wasm: path.join(dir, `${name}.wasm`) };
    });
}

/**
 * A snapshot the VM must refuse: NAME.wasm is the module, NAME.snap the snapshot, and (optional)
 * NAME.intact.snap a good snapshot that must still restore, and finish with `intactValue`, in the
 * same VM after the refusal. Replayed in a child process (isolated.ts): it may hang the VM.
 */
export interface SnapshotReproducer {
  kind: 'snapshot';
  origin: string;
  /** What goes wrong, in words. */
  problem: string;
  metered: boolean;
  /** Fuel for resuming, as a decimal string. */
  fuel: string;
  intactValue?: string;
  /**
   * 'refused' (default): the restore must refuse the snapshot. 'safe': it may also restore it, if
   * resuming then ends in an ordinary outcome (a value, a trap, out of fuel) — for values the
   * format cannot type (untyped slots) and the VM checks where they are used.
   */
  expect?: 'refused' | 'safe';
  open?: boolean;
}

export type AnyReproducer = (Reproducer & { kind?: 'run' }) | ValidationReproducer | SnapshotReproducer;

export function writeSnapshotReproducer(dir: string, name: string, module: Uint8Array, snapshot: Uint8Array, spec: SnapshotReproducer, intact?: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.wasm`), module);
  writeFileSync(path.join(dir, `${name}.snap`), snapshot);
  if (intact) writeFileSync(path.join(dir, `${name}.intact.snap`), intact);
  const json = path.join(dir, `${name}.json`);
  writeFileSync(json, `${JSON.stringify(spec, null, 2)}\n`);
  return json;
}

/** Replays a snapshot reproducer: null when the VM now refuses it cleanly, else what is wrong. */
export async function replaySnapshot(wasmPath: string, jsonPath: string): Promise<string | null> {
  const spec = JSON.parse(readFileSync(jsonPath, 'utf8')) as SnapshotReproducer;
  const base = jsonPath.slice(0, -'.json'.length);
  const module = new Uint8Array(readFileSync(wasmPath));
  const snapshot = new Uint8Array(readFileSync(`${base}.snap`));
  const intact = existsSync(`${base}.intact.snap`) ? new Uint8Array(readFileSync(`${base}.intact.snap`)) : undefined;
  const [r] = await restoreIsolated(module, [snapshot], { metered: spec.metered, fuel: BigInt(spec.fuel), parallel: 1, ...(intact ? { intact } : {}) });
  if (!r) return 'no result';
  if (r.hang) return `the VM hangs (in ${r.step})`;
  if (r.threw) return `the VM threw in ${r.threw}`;
  if (r.info && 'bytes' in r.info && r.info.bytes > snapshot.length + 256) return `snapshot_info returned ${r.info.bytes} bytes for a ${snapshot.length}-byte snapshot`;
  if (r.restore === 'ok') {
    const ordinary = r.outcome && ['completed', 'trap', 'suspended'].includes(r.outcome.status);
    return spec.expect === 'safe' && ordinary ? null : `restored (then ${JSON.stringify(r.outcome)})`;
  }
  if (r.restore && r.restore.kind !== 6 && r.restore.kind !== 5) return `refused with error kind ${r.restore.kind}: ${r.restore.message}`;
  if (intact && (!r.intact || !('status' in r.intact) || r.intact.value !== spec.intactValue)) return `refused, but then the intact snapshot gave ${JSON.stringify(r.intact)}`;
  return null;
}

/** Replays a reproducer against the VM: null when the VM now does what V8 did, else what differs. */
export async function replay(wasmPath: string, jsonPath: string): Promise<{ open: boolean; problem: string | null }> {
  const bytes = new Uint8Array(readFileSync(wasmPath));
  const spec = JSON.parse(readFileSync(jsonPath, 'utf8')) as AnyReproducer;
  const open = spec.open === true;
  if (spec.kind === 'snapshot') return { open, problem: await replaySnapshot(wasmPath, jsonPath) };
  if (spec.kind === 'validation') {
    const loaded = Vm.createSync().loadModule(bytes);
    const valid = loaded.ok;
    return { open, problem: valid === spec.expected.valid ? null : `V8 says ${spec.expected.valid ? 'valid' : 'invalid'}, the VM ${loaded.ok ? 'accepts it' : `refuses it (${loaded.kind}: ${loaded.message})`}` };
  }
  const vm = runVm(bytes, spec.plan, { metered: spec.metered, ...(spec.handover ? { handover: spec.handover } : {}) });
  const expected: RunRecord = { instantiate: spec.expected.instantiate, calls: spec.expected.calls, memory: null, globals: spec.expected.globals };
  const got: RunRecord = { ...vm, memory: null };
  const d = compareRuns(expected, got);
  if (d) return { open, problem: `${d.what}${d.call !== undefined ? ` (call ${d.call})` : ''}: V8 ${d.v8} | VM ${d.vm}` };
  const mem = vm.memory ? { length: vm.memory.length, sha256: sha256(vm.memory) } : null;
  if (JSON.stringify(mem) !== JSON.stringify(spec.expected.memory)) {
    return { open, problem: `memory: V8 ${JSON.stringify(spec.expected.memory)} | VM ${JSON.stringify(mem)}` };
  }
  return { open, problem: null };
}
