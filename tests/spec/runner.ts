// Runs one wast2json script through the VM: builds the `spectest` host module, keeps the registry of
// registered and named modules, and decides the verdict of every command type. Each command yields
// exactly one verdict (pass, fail or skip); no exception escapes, and a Vm that may be poisoned is
// replaced by a fresh one for the rest of the script. With `snapshotEvery`, invokes hop between
// fresh Vms by snapshot (invokeMigrating).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TRAP_STACK_EXHAUSTED,
  Vm,
  type Engine,
  type Extern,
  type ImportDesc,
  type InvokeOptions,
  type Outcome,
  type ValType,
  type Value,
  type VmError,
} from '../../host-intrinsics/vm.js';
import {
  SpecFailure,
  f32Bits,
  f64Bits,
  formatExpected,
  formatValue,
  matchesAll,
  messageMatches,
  parseExpected,
  parseValue,
  trapMismatch,
  type JsonValue,
} from './values.js';

export interface Action {
  type: 'invoke' | 'get';
  module?: string;
  field: string;
  args?: JsonValue[];
}

export interface Command {
  type: string;
  line: number;
  filename?: string;
  name?: string;
  as?: string;
  action?: Action;
  expected?: JsonValue[];
  text?: string;
  module_type?: 'binary' | 'text';
}

export interface Script {
  name: string;
  /** The folder holding the script's .wasm files. */
  dir: string;
  commands: Command[];
}

export interface Failure {
  line: number;
  /** The command type and what it did, e.g. `assert_return invoke add(i32:1 i32:2)`. */
  command: string;
  message: string;
}

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** The assertions about modules that must be refused, each at its own stage. */
export const REFUSALS = ['assert_malformed', 'assert_invalid', 'assert_unlinkable', 'assert_uninstantiable'] as const;
export type Refusal = (typeof REFUSALS)[number];

export interface ScriptResult extends Tally {
  script: string;
  failures: Failure[];
  /** The refusal commands among the ones counted above, by type; text modules apart from binary ones. */
  refusals: Record<Refusal, Tally & { text: number }>;
  /** With `snapshotEvery`: how many invokes ran that way, and why the others did not. */
  migration?: Migration;
}

export interface Migration {
  /** Commands whose invoke ran under fuel `snapshotEvery`, moving to a fresh Vm at each stop. */
  commands: number;
  /** Those of them that ran out of fuel at least once. */
  suspended: number;
  /** Snapshots restored into a fresh Vm, and final states brought back to the script's Vm. */
  hops: number;
  homecomings: number;
  /** Runs given more fuel because a segment cost more than `snapshotEvery`. */
  raised: number;
  /**
   * Invoke commands that ran metered with unlimited fuel instead, by reason: a snapshot holds one
   * instance, and one linked to another instance cannot be rebuilt alone in a fresh Vm.
   */
  unmoved: Record<Unmoved, number>;
}

export function emptyRefusals(): ScriptResult['refusals'] {
  const out = {} as ScriptResult['refusals'];
  for (const r of REFUSALS) out[r] = { passed: 0, failed: 0, skipped: 0, text: 0 };
  return out;
}

/** Which refusal a command asserts (wast2json writes `assert_trap (module ...)` as assert_uninstantiable). */
export function refusalOf(cmd: Command): Refusal | null {
  if (cmd.type === 'assert_trap' && cmd.action === undefined && cmd.filename !== undefined) return 'assert_uninstantiable';
  return (REFUSALS as readonly string[]).includes(cmd.type) ? (cmd.type as Refusal) : null;
}

export interface RunnerOptions {
  /** A fresh store; may throw (e.g. build/vm.wasm missing), which fails the commands that need it. */
  newVm: () => Engine;
  /** Per invoke (and start function); a timed-out Vm is replaced. */
  timeoutMs: number;
  /** `set_slice` for every Vm, so the VM returns to the host often enough for the deadline. */
  slice: number;
  /** Given to every invoke and start function (probe callbacks). */
  invoke?: Pick<InvokeOptions, 'onProbe'>;
  /**
   * Fuel per run of every invoke (metered Vms): each time it runs out, the instance with its
   * suspended activation is snapshotted, restored into a fresh Vm and resumed there; the final
   * state comes back to the script's Vm.
   */
  snapshotEvery?: number;
}

type Verdict = { status: 'pass' } | { status: 'skip' } | { status: 'fail'; message: string };
const PASS: Verdict = { status: 'pass' };
const SKIP: Verdict = { status: 'skip' };
const fail = (message: string): Verdict => ({ status: 'fail', message });

/** What it takes to rebuild an instance in another store: its module and its imports by name. */
interface Home {
  id: number;
  moduleId: number;
  bytes: Uint8Array;
  imports: ImportDesc[];
  addrs: number[];
  /** Another instance links to this one (its addresses are in that instance). */
  imported: boolean;
}

/**
 * An instantiated module, or why there is none (later commands that use it fail with this).
 * `exports` is updated in place when the instance is replaced, so every name for it follows.
 */
type ModuleState = { ok: true; exports: Map<string, Extern>; home: Home | null } | { ok: false; reason: string };

/** How far a module got on its way to an instance. */
type Attempt =
  | { ok: true; exports: Map<string, Extern>; home: Home }
  | { ok: false; stage: 'load' | 'instantiate'; error: VmError }
  | { ok: false; stage: 'link'; reason: string };

const SPECTEST_PRINTS: [string, ValType[]][] = [
  ['print', []],
  ['print_i32', ['i32']],
  ['print_i64', ['i64']],
  ['print_f32', ['f32']],
  ['print_f64', ['f64']],
  ['print_i32_f32', ['i32', 'f32']],
  ['print_f64_f64', ['f64', 'f64']],
];

const SPECTEST_GLOBALS: [string, Value][] = [
  ['global_i32', { type: 'i32', value: 666 }],
  ['global_i64', { type: 'i64', value: 666n }],
  ['global_f32', { type: 'f32', bits: f32Bits(666.6) }],
  ['global_f64', { type: 'f64', bits: f64Bits(666.6) }],
];

function describeVmError(e: VmError): string {
  const where = e.kind === 'malformed' || e.kind === 'invalid' ? ` at offset ${e.offset}` : '';
  const code = e.trap ? ` (trap code ${e.trap.code})` : '';
  return `${e.kind}: ${e.message}${where}${code}`;
}

function describeAttempt(a: Attempt): string {
  if (a.ok) return 'it instantiated';
  if (a.stage === 'link') return `it failed to link: ${a.reason}`;
  return `it failed to ${a.stage === 'load' ? 'load' : 'instantiate'}: ${describeVmError(a.error)}`;
}

function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'completed':
      return `[${o.values.map(formatValue).join(' ')}]`;
    case 'trap':
      return `trap "${o.message}" (code ${o.code})`;
    case 'timeout':
      return `timeout: ${o.message}`;
    case 'suspended':
      return `suspended (${o.reason})`;
    case 'host-call':
      return `stopped at host function ${o.func}`;
    case 'probe':
      return `stopped at a ${o.event.probe} probe`;
  }
}

function describeException(e: unknown): string {
  if (e instanceof SpecFailure) return e.message;
  if (e instanceof WebAssembly.RuntimeError) return `the VM trapped out of an export (a VM bug): ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `exception: ${String(e)}`;
}

export function describeCommand(cmd: Command): string {
  const a = cmd.action;
  if (!a) return `${cmd.type} ${cmd.filename ?? cmd.as ?? ''}`.trimEnd();
  const target = `${a.module ? `${a.module}.` : ''}${a.field}`;
  const args = a.type === 'invoke' ? `(${(a.args ?? []).map((v) => `${v.type}:${v.value}`).join(' ')})` : '';
  return `${cmd.type} ${a.type} ${target}${args}`;
}

function createSpectest(vm: Engine): Map<string, Extern> {
  const must = <T extends { ok: true }>(r: T | VmError, name: string): T => {
    if (!r.ok) throw new SpecFailure(`spectest.${name}: ${describeVmError(r)}`);
    return r;
  };
  const out = new Map<string, Extern>();
  for (const [name, params] of SPECTEST_PRINTS) {
    const type = { params, results: [] };
    out.set(name, { kind: 'func', type, addr: must(vm.newHostFunc(type, () => {}), name).addr });
  }
  for (const [name, init] of SPECTEST_GLOBALS) {
    const type = { type: init.type, mutable: false };
    out.set(name, { kind: 'global', type, addr: must(vm.newGlobal(type, init), name).addr });
  }
  const table = { elem: 'funcref' as const, min: 10, max: 20 };
  out.set('table', { kind: 'table', type: table, addr: must(vm.newTable(table), 'table').addr });
  const memory = { min: 1, max: 2 };
  out.set('memory', { kind: 'memory', type: memory, addr: must(vm.newMemory(memory), 'memory').addr });
  return out;
}

class ScriptRunner {
  private vm: Engine | null = null;
  private vmProblem = '';
  /** Import namespaces: `spectest` and every `register`ed module. */
  private readonly registry = new Map<string, ModuleState>();
  private readonly named = new Map<string, ModuleState>();
  private current: ModuleState | undefined;
  private readonly migration: Migration | null;

  constructor(
    private readonly script: Script,
    private readonly options: RunnerOptions,
  ) {
    const every = options.snapshotEvery;
    if (every !== undefined && !(Number.isInteger(every) && every > 0)) throw new Error(`snapshotEvery must be a positive integer, not ${every}`);
    this.migration = every === undefined ? null : { commands: 0, suspended: 0, hops: 0, homecomings: 0, raised: 0, unmoved: { imports: 0, imported: 0 } };
    this.freshVm();
  }

  run(): ScriptResult {
    const result: ScriptResult = { script: this.script.name, passed: 0, failed: 0, skipped: 0, failures: [], refusals: emptyRefusals() };
    if (this.migration) result.migration = this.migration;
    for (const cmd of this.script.commands) {
      let verdict: Verdict;
      try {
        verdict = this.exec(cmd);
      } catch (e) {
        verdict = fail(describeException(e));
      }
      // The Vm knows when an exception or a timeout may have torn its state.
      if (this.vm !== null && !this.vm.usable) this.replaceVm(cmd.line);
      const refusal = refusalOf(cmd);
      const tallies: Tally[] = refusal === null ? [result] : [result, result.refusals[refusal]];
      if (refusal !== null && cmd.module_type === 'text') result.refusals[refusal].text++;
      for (const t of tallies) {
        if (verdict.status === 'pass') t.passed++;
        else if (verdict.status === 'skip') t.skipped++;
        else t.failed++;
      }
      if (verdict.status === 'fail') result.failures.push({ line: cmd.line, command: describeCommand(cmd), message: verdict.message });
    }
    return result;
  }

  /** Instances die with their Vm: everything that referred to them now fails with a reason. */
  private replaceVm(line: number): void {
    const lost: ModuleState = { ok: false, reason: `its instance was lost when the Vm was replaced after line ${line}` };
    for (const map of [this.registry, this.named]) {
      for (const [key, state] of map) if (state.ok) map.set(key, lost);
    }
    if (this.current?.ok) this.current = lost;
    this.freshVm();
  }

  private freshVm(): void {
    try {
      this.vm = this.options.newVm();
      this.vm.setSlice(this.options.slice);
    } catch (e) {
      this.vm = null;
      this.vmProblem = `no Vm: ${describeException(e)}`;
      this.registry.set('spectest', { ok: false, reason: this.vmProblem });
      return;
    }
    try {
      this.registry.set('spectest', { ok: true, exports: createSpectest(this.vm), home: null });
    } catch (e) {
      this.registry.set('spectest', { ok: false, reason: `no spectest module: ${describeException(e)}` });
    }
  }

  private needVm(): Engine {
    if (this.vm === null) throw new SpecFailure(this.vmProblem);
    return this.vm;
  }

  private exec(cmd: Command): Verdict {
    switch (cmd.type) {
      case 'module':
        return this.module(cmd);
      case 'register':
        return this.register(cmd);
      case 'action': {
        const outcome = this.perform(cmd.action);
        return outcome.kind === 'completed' ? PASS : fail(`expected completion, got ${describeOutcome(outcome)}`);
      }
      case 'assert_return':
        return this.assertReturn(cmd);
      case 'assert_trap':
        // wast2json writes `assert_trap (module ...)` as assert_uninstantiable; accept the raw form too.
        return cmd.action === undefined && cmd.filename !== undefined ? this.assertUninstantiable(cmd) : this.assertTrap(cmd);
      case 'assert_exhaustion': {
        const outcome = this.perform(cmd.action);
        if (outcome.kind === 'trap' && outcome.code === TRAP_STACK_EXHAUSTED) return PASS;
        return fail(`expected trap code ${TRAP_STACK_EXHAUSTED} (call stack exhausted), got ${describeOutcome(outcome)}`);
      }
      case 'assert_invalid':
        return this.assertRefusedAtLoad(cmd, 'invalid');
      case 'assert_malformed':
        return this.assertRefusedAtLoad(cmd, 'malformed');
      case 'assert_unlinkable':
        return this.assertUnlinkable(cmd);
      case 'assert_uninstantiable':
        return this.assertUninstantiable(cmd);
      default:
        return fail(`unknown command type ${JSON.stringify(cmd.type)}`);
    }
  }

  private module(cmd: Command): Verdict {
    let attempt: Attempt;
    try {
      attempt = this.attempt(cmd);
    } catch (e) {
      // Later commands on this module must fail too, not act on the previous one.
      this.setCurrent(cmd, { ok: false, reason: `the module at line ${cmd.line} is missing: ${describeException(e)}` });
      throw e;
    }
    if (attempt.ok) {
      this.setCurrent(cmd, { ok: true, exports: attempt.exports, home: attempt.home });
      return PASS;
    }
    const reason = describeAttempt(attempt);
    this.setCurrent(cmd, { ok: false, reason: `the module at line ${cmd.line} is missing: ${reason}` });
    return fail(`expected the module to instantiate, but ${reason}`);
  }

  private setCurrent(cmd: Command, state: ModuleState): void {
    this.current = state;
    if (cmd.name !== undefined) this.named.set(cmd.name, state);
  }

  private register(cmd: Command): Verdict {
    if (cmd.as === undefined) return fail('register without "as"');
    const module = cmd.name !== undefined ? this.named.get(cmd.name) : this.current;
    const state: ModuleState = module ?? { ok: false, reason: `no module ${cmd.name ?? '(current)'} to register` };
    this.registry.set(cmd.as, state);
    return state.ok ? PASS : fail(state.reason);
  }

  private assertReturn(cmd: Command): Verdict {
    const expected = (cmd.expected ?? []).map(parseExpected);
    const outcome = this.perform(cmd.action);
    const want = `[${expected.map(formatExpected).join(' ')}]`;
    if (outcome.kind !== 'completed') return fail(`expected ${want}, got ${describeOutcome(outcome)}`);
    return matchesAll(expected, outcome.values) ? PASS : fail(`expected ${want}, got ${describeOutcome(outcome)}`);
  }

  private assertTrap(cmd: Command): Verdict {
    const text = cmd.text ?? '';
    const outcome = this.perform(cmd.action);
    if (outcome.kind !== 'trap') return fail(`expected trap "${text}", got ${describeOutcome(outcome)}`);
    const mismatch = trapMismatch(text, outcome.code, outcome.message);
    return mismatch === null ? PASS : fail(mismatch);
  }

  /**
   * assert_malformed must fail to decode and assert_invalid to validate: a refusal of the other kind
   * is a VM bug too. Text modules need a .wat parser the VM does not have: they are skipped.
   */
  private assertRefusedAtLoad(cmd: Command, kind: 'malformed' | 'invalid'): Verdict {
    if (cmd.module_type === 'text') return SKIP;
    const loaded = this.needVm().loadModule(this.readModule(cmd));
    if (loaded.ok) return fail(`expected the module to be refused as ${kind} ("${cmd.text}"), but it loaded`);
    if (loaded.kind !== kind) return fail(`expected the module to be refused as ${kind} ("${cmd.text}"), but it was refused as ${describeVmError(loaded)}`);
    return PASS;
  }

  /** The module must load and then fail to link: by the runner's name and kind checks, or the VM's type check. */
  private assertUnlinkable(cmd: Command): Verdict {
    const attempt = this.attempt(cmd);
    if (!attempt.ok && (attempt.stage === 'link' || (attempt.stage === 'instantiate' && attempt.error.kind === 'unlinkable'))) return PASS;
    return fail(`expected unlinkable ("${cmd.text}"), but ${describeAttempt(attempt)}`);
  }

  /** Either a segment initialisation traps (kind uninstantiable) or the start function does. */
  private assertUninstantiable(cmd: Command): Verdict {
    const text = cmd.text ?? '';
    const attempt = this.attempt(cmd);
    if (!attempt.ok && attempt.stage === 'instantiate' && attempt.error.kind === 'uninstantiable') {
      const { trap, message } = attempt.error;
      if (trap) {
        const mismatch = trapMismatch(text, trap.code, trap.message);
        return mismatch === null ? PASS : fail(mismatch);
      }
      return messageMatches(text, message) ? PASS : fail(`expected "${text}", got "${message}"`);
    }
    return fail(`expected uninstantiable ("${text}"), but ${describeAttempt(attempt)}`);
  }

  private attempt(cmd: Command): Attempt {
    const vm = this.needVm();
    const bytes = this.readModule(cmd);
    const loaded = vm.loadModule(bytes);
    if (!loaded.ok) return { ok: false, stage: 'load', error: loaded };
    const addrs: number[] = [];
    for (const imp of loaded.imports) {
      const resolved = this.resolveImport(imp);
      if (typeof resolved === 'string') return { ok: false, stage: 'link', reason: resolved };
      addrs.push(resolved);
    }
    // Start functions run to the end: the fuel limit is for invokes only.
    if (this.migration) vm.fuel = UNLIMITED_FUEL;
    const instance = vm.instantiate(loaded.id, addrs, { ...this.options.invoke, timeoutMs: this.options.timeoutMs });
    if (!instance.ok) return { ok: false, stage: 'instantiate', error: instance };
    const home: Home = { id: instance.id, moduleId: loaded.id, bytes, imports: loaded.imports, addrs, imported: false };
    return { ok: true, exports: vm.exports(instance.id), home };
  }

  /**
   * The store address for an import, or why it cannot link. Names and kinds are the runner's to
   * check (the VM cannot tell a table address from a function address); types are the VM's.
   */
  private resolveImport(imp: ImportDesc): number | string {
    const what = `${imp.module}.${imp.name}`;
    const namespace = this.registry.get(imp.module);
    if (!namespace) return `unknown import ${what}: nothing registered as "${imp.module}"`;
    // A namespace that should exist but failed cannot decide linkability: the command fails.
    if (!namespace.ok) throw new SpecFailure(`import ${what}: ${namespace.reason}`);
    const ext = namespace.exports.get(imp.name);
    if (!ext) return `unknown import ${what}`;
    if (ext.kind !== imp.kind) return `incompatible import type: ${what} is a ${ext.kind}, imported as a ${imp.kind}`;
    if (namespace.home) namespace.home.imported = true;
    return ext.addr;
  }

  private perform(action: Action | undefined): Outcome {
    if (!action) throw new SpecFailure('the command has no action');
    const module = action.module !== undefined ? this.named.get(action.module) : this.current;
    if (!module) throw new SpecFailure(action.module !== undefined ? `no module named ${action.module}` : 'no current module');
    if (!module.ok) throw new SpecFailure(module.reason);
    const ext = module.exports.get(action.field);
    const vm = this.needVm();
    switch (action.type) {
      case 'invoke': {
        if (ext?.kind !== 'func') throw new SpecFailure(`no exported function "${action.field}"`);
        const args = (action.args ?? []).map(parseValue);
        if (this.migration && module.home) {
          const why = unmovable(module.home);
          if (why === null) return this.invokeMigrating(module, module.home, ext.addr, args);
          this.migration.unmoved[why]++;
          vm.fuel = UNLIMITED_FUEL;
        }
        return vm.invoke(ext.addr, args, { ...this.options.invoke, timeoutMs: this.options.timeoutMs });
      }
      case 'get':
        if (ext?.kind !== 'global') throw new SpecFailure(`no exported global "${action.field}"`);
        return { kind: 'completed', values: [vm.globalRead(ext.addr, ext.type.type)] };
      default:
        throw new SpecFailure(`unknown action type ${JSON.stringify((action as { type: unknown }).type)}`);
    }
  }

  /**
   * Runs the invoke with fuel `snapshotEvery` at a time; at each stop for fuel the instance and its
   * activation move by snapshot to a fresh Vm, where the run resumes. The state it ends in is
   * brought back into the script's Vm, replacing the instance there.
   */
  private invokeMigrating(module: ModuleState & { ok: true }, start: Home, funcaddr: number, args: Value[]): Outcome {
    const tally = this.migration!;
    const fuel = BigInt(this.options.snapshotEvery!);
    const home = this.needVm();
    if (!(home instanceof Vm)) throw new SpecFailure('snapshots need the Vm engine');
    const results = home.funcType(funcaddr).results;
    // The deadline is for the guest's run: the time spent moving it between Vms does not count.
    let budget = this.options.timeoutMs;
    const timed = (run: (o: InvokeOptions) => Outcome): Outcome => {
      const t = Date.now();
      const out = run({ ...this.options.invoke, timeoutMs: Math.max(1, budget) });
      budget -= Date.now() - t;
      return out;
    };
    tally.commands++;
    home.fuel = fuel;
    let outcome = timed((o) => home.invoke(funcaddr, args, o));
    if (outcome.kind === 'suspended' && outcome.reason === 'fuel') tally.suspended++;
    let where = { vm: home, id: start.id };
    let back = true;
    try {
      let given = fuel;
      let hops = 0;
      while (outcome.kind === 'suspended' && outcome.reason === 'fuel') {
        back = false;
        if (budget <= 0) {
          where.vm.abandon();
          outcome = { kind: 'timeout', message: `still running after ${this.options.timeoutMs} ms of its own (${hops} snapshots into fresh Vms)` };
          break;
        }
        // The VM charges a straight-line segment before running it: one that costs more than the
        // fuel never starts, so the next run gets twice as much until it does.
        given = where.vm.fuel === given ? given * 2n : fuel;
        if (given !== fuel) tally.raised++;
        const snapshot = where.vm.snapshot(where.id);
        if (!(snapshot instanceof Uint8Array)) throw new SpecFailure(`snapshot refused: ${describeVmError(snapshot)}`);
        where.vm.abandon();
        where = this.restoreFresh(start, snapshot, results);
        tally.hops++;
        hops++;
        where.vm.fuel = given;
        const vm = where.vm;
        outcome = timed((o) => vm.resume(o));
      }
      if (!back && outcome.kind !== 'timeout') {
        this.bringHome(home, module, start, where);
        tally.homecomings++;
        back = true;
      }
    } catch (e) {
      if (where.vm.usable) where.vm.abandon();
      throw e;
    } finally {
      // The instance in the script's Vm stopped mid-call: without its final state it is gone.
      if (!back) this.lose(module, `its state was lost in a fresh Vm during the invoke of function ${funcaddr}`);
    }
    return outcome;
  }

  private lose(module: ModuleState, reason: string): void {
    const lost: ModuleState = { ok: false, reason };
    for (const map of [this.registry, this.named]) {
      for (const [key, state] of map) if (state === module) map.set(key, lost);
    }
    if (this.current === module) this.current = lost;
  }

  /** A fresh Vm with the spectest module, the module and `snapshot` restored, its activation pending. */
  private restoreFresh(home: Home, snapshot: Uint8Array, results: readonly ValType[]): { vm: Vm; id: number } {
    const vm = this.options.newVm();
    if (!(vm instanceof Vm)) throw new SpecFailure('snapshots need the Vm engine');
    vm.setSlice(this.options.slice);
    const spectest = createSpectest(vm);
    const loaded = vm.loadModule(home.bytes);
    if (!loaded.ok) throw new SpecFailure(`the module did not load again in a fresh Vm: ${describeVmError(loaded)}`);
    const addrs = home.imports.map((imp) => {
      const ext = imp.module === 'spectest' ? spectest.get(imp.name) : undefined;
      if (!ext) throw new SpecFailure(`import ${imp.module}.${imp.name} cannot be made in a fresh Vm`);
      return ext.addr;
    });
    const restored = vm.restore(snapshot, loaded.id, addrs, results);
    if (!restored.ok) throw new SpecFailure(`restore into a fresh Vm refused: ${describeVmError(restored)}`);
    return { vm, id: restored.id };
  }

  /** Replaces the module's instance in the script's Vm by the state it ended in elsewhere. */
  private bringHome(vm: Vm, module: ModuleState & { ok: true }, old: Home, from: { vm: Vm; id: number }): void {
    const snapshot = from.vm.snapshot(from.id);
    if (!(snapshot instanceof Uint8Array)) throw new SpecFailure(`final snapshot refused: ${describeVmError(snapshot)}`);
    const restored = vm.restore(snapshot, old.moduleId, old.addrs);
    if (!restored.ok) throw new SpecFailure(`restore of the final state refused: ${describeVmError(restored)}`);
    // The replaced instance goes, its memory and addresses handed out again; refused (something
    // still refers to it), it stays.
    vm.dropInstance(old.id);
    module.home = { ...old, id: restored.id };
    for (const [name, ext] of vm.exports(restored.id)) module.exports.set(name, ext);
  }

  private readModule(cmd: Command): Uint8Array {
    if (cmd.filename === undefined) throw new SpecFailure('the command names no module file');
    return new Uint8Array(readFileSync(path.join(this.script.dir, cmd.filename)));
  }
}

const UNLIMITED_FUEL = 0xffff_ffff_ffff_ffffn;

export const UNMOVED = { imports: 'the instance imports from another instance', imported: 'another instance imports from it' } as const;
export type Unmoved = keyof typeof UNMOVED;

/** Why an instance's invokes cannot move by snapshot, or null. */
function unmovable(home: Home): Unmoved | null {
  if (home.imports.some((imp) => imp.module !== 'spectest')) return 'imports';
  return home.imported ? 'imported' : null;
}

export function runScript(script: Script, options: RunnerOptions): ScriptResult {
  return new ScriptRunner(script, options).run();
}
