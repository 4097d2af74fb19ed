// CLI of the spec runner (`npm run spec -- [--verbose] [--simd] [--probes] [--snapshot-every N] [--engine vm|component|wasmtime|wamr|wasm3] [script ...]`):
// finds the suite, runs each script through the VM (a fresh store per script: build/vm.wasm through
// Vm, with `--engine component` the component through ComponentEngine, or with a runtime's name
// build/handover.wasm on that runtime through RuntimeEngine, one process per store), prints one row per
// script, one line per refusal assertion (how many modules were refused at the stage the assertion
// names), with --probes the events consumed and with --snapshot-every what ran that way (and what
// did not, why), and a final `spec: N passed, M failed, K skipped` line; exits 1 when anything failed.

import { existsSync } from 'node:fs';
import { Vm, parseClasses, type Engine, type IntrinsicClass, type ProbeConfig, type ProbeEvent } from '../../host-intrinsics/vm.js';
import { REFUSALS, UNMOVED, emptyRefusals, runScript, type Refusal, type RunnerOptions, type ScriptResult } from './runner.js';
import { listScripts, loadScript, specDir, suiteMissing, type ScriptFile } from './suite.js';
import { RuntimeEngine } from '../../host-intrinsics/hosts/runtimes/engine.js';
import { RuntimeMissing, runtimeCommand, handoverWasm } from '../../host-intrinsics/hosts/runtimes/runtimes.js';

// The WASI runtimes that run build/handover.wasm as an engine (runtimes.ts names them).
const RUNTIME_ENGINES = ['wasmtime', 'wamr', 'wasm3'] as const;
type EngineName = 'vm' | 'component' | (typeof RUNTIME_ENGINES)[number];
const ENGINES: readonly EngineName[] = ['vm', 'component', ...RUNTIME_ENGINES];

// Per call: far more than any call in the suite needs, even interpreted; it only stops a VM that hangs.
const TIMEOUT_MS = 30_000;
// Back-edges and calls per slice: the deadline is only checked between slices. TOOLCHAIN measured
// re-entry every 1e4-1e6 instructions as free.
const SLICE = 1_000_000;
// --probes: every callback kind but sites (which name offsets of one module), so every function
// the suite runs is compiled with probes before each instruction, at entry and exit, at each branch,
// call and memory access.
const PROBES: ProbeConfig = { instruction: true, entry: true, exit: true, calls: true, branches: true, memory: true };

interface Args {
  verbose: boolean;
  simd: boolean;
  metered: boolean; // run every script with metering on (fuel counting), unlimited fuel
  monitored: boolean; // run every script with monitoring on (segment counters)
  probes: boolean; // run every script with callback probes on (PROBES), each event counted
  snapshotEvery: number | null; // fuel per run of each invoke; each stop moves the instance to a fresh Vm
  engine: EngineName;
  intrinsics: IntrinsicClass[] | null; // intrinsic classes to switch on (--intrinsics bulk,float,memory)
  names: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { verbose: false, simd: false, metered: false, monitored: false, probes: false, snapshotEvery: null, engine: 'vm', intrinsics: null, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--verbose' || arg === '-v') args.verbose = true;
    else if (arg === '--engine') {
      const engine = argv[++i] as EngineName;
      if (!ENGINES.includes(engine)) usage(`--engine takes ${ENGINES.join(', ')}, not ${engine}`);
      args.engine = engine;
    }
    else if (arg === '--simd') args.simd = true;
    else if (arg === '--metered') args.metered = true;
    else if (arg === '--monitored') args.monitored = true;
    else if (arg === '--probes') args.probes = true;
    else if (arg === '--snapshot-every') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) usage(`--snapshot-every takes a positive whole number of instructions, not ${argv[i]}`);
      args.snapshotEvery = n;
    }
    else if (arg === '--intrinsics') {
      try { args.intrinsics = parseClasses(argv[++i] ?? ''); } catch (e) { usage((e as Error).message); }
    }
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else args.names.push(arg);
  }
  return args;
}

function usage(problem: string): never {
  console.error(`spec: ${problem}\nusage: npm run spec -- [--verbose] [--simd] [--metered] [--monitored] [--probes] [--snapshot-every N] [--intrinsics all|none|bulk,float,memory] [--engine ${ENGINES.join('|')}] [script ...]`);
  process.exit(2);
}

function selectScripts(dir: string, args: Args): ScriptFile[] {
  const all = listScripts(dir, 'core');
  if (all.length === 0) suiteMissing(dir);
  const simd = listScripts(dir, 'simd');
  if (args.simd) all.push(...simd);
  if (args.names.length === 0) return all;
  const byName = new Map(all.map((s) => [s.name, s]));
  return args.names.map((name) => {
    const script = byName.get(name);
    if (script) return script;
    const hint = simd.some((s) => s.name === name) ? ' (it is a SIMD script: add --simd)' : '';
    return usage(`no script named ${name}${hint}`);
  });
}

/** A factory of fresh stores of the chosen engine; loading problems surface when it is called. */
async function engineFactory(kind: Args['engine']): Promise<() => Engine> {
  let create: (() => Engine) | null = null;
  let problem = '';
  try {
    if (kind !== 'vm' && kind !== 'component') {
      const runtime = kind;
      try {
        runtimeCommand(runtime, handoverWasm(), [], []);
      } catch (e) {
        if (!(e instanceof RuntimeMissing)) throw e;
        console.error(`spec: ${e.message}`);
        process.exit(2);
      }
      if (!existsSync(handoverWasm())) {
        console.error(`spec: ${handoverWasm()} is missing: run npm run build:vm`);
        process.exit(2);
      }
      create = () => RuntimeEngine.create(runtime);
    } else if (kind === 'component') {
      // Imported only here: loading the component's bindings needs them built.
      const { ComponentEngine } = await import('../../host-intrinsics/api.js');
      create = () => ComponentEngine.create();
    } else {
      // Compiled once; each script instantiates its own store from it.
      const vmModule = Vm.compile();
      create = () => Vm.fromModule(vmModule);
    }
  } catch (e) {
    problem = `cannot load the VM: ${e instanceof Error ? e.message : String(e)}`;
    console.error(`spec: ${problem} (every command that needs it fails)`);
  }
  return () => {
    if (create === null) throw new Error(problem);
    return create();
  };
}

const REFUSED_AS: Record<Refusal, string> = {
  assert_malformed: 'refused as malformed',
  assert_invalid: 'refused as invalid',
  assert_unlinkable: 'refused at link time',
  assert_uninstantiable: 'trapped at instantiation',
};

/** e.g. `assert_malformed 1300: 719 refused as malformed, 0 failed, 581 skipped (text modules)`. */
function refusalLine(r: Refusal, t: ScriptResult['refusals'][Refusal]): string {
  const all = t.passed + t.failed + t.skipped;
  const parts = t.failed === 0 && t.skipped === 0
    ? [`all ${REFUSED_AS[r]}`]
    : [`${t.passed} ${REFUSED_AS[r]}`, `${t.failed} failed`];
  if (t.skipped > 0) {
    // Only text modules are skipped today; say so rather than hide other skips in the same number.
    parts.push(t.skipped === t.text ? `${t.skipped} skipped (text modules, no .wat parser)` : `${t.skipped} skipped (${t.text} text modules)`);
  }
  return `${r.padEnd(21)} ${String(all).padStart(5)}: ${parts.join(', ')}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scripts = selectScripts(specDir(), args);
  const create = await engineFactory(args.engine);
  // A runtime engine is a process: those of a script end with it.
  const open: RuntimeEngine[] = [];
  const newVm = (): Engine => {
    const vm = create();
    if (vm instanceof RuntimeEngine) open.push(vm);
    if (args.metered || args.snapshotEvery !== null) vm.setMetering(true);
    if (args.monitored) {
      if (!(vm instanceof Vm)) usage('--monitored needs --engine vm');
      vm.setMonitoring(true);
    }
    if (args.intrinsics) {
      if (!(vm instanceof Vm)) usage('--intrinsics needs --engine vm');
      vm.setIntrinsicClasses(args.intrinsics);
    }
    if (args.probes) vm.setProbes(PROBES);
    if (args.snapshotEvery !== null && !(vm instanceof Vm)) usage('--snapshot-every needs --engine vm');
    return vm;
  };
  const events = new Map<ProbeEvent['probe'], number>();
  const options: RunnerOptions = { newVm, timeoutMs: TIMEOUT_MS, slice: SLICE };
  if (args.probes) options.invoke = { onProbe: (e) => void events.set(e.probe, (events.get(e.probe) ?? 0) + 1) };
  if (args.snapshotEvery !== null) options.snapshotEvery = args.snapshotEvery;
  const migrated = { commands: 0, suspended: 0, hops: 0, homecomings: 0, raised: 0, scripts: 0 };
  const unmoved = new Map<keyof typeof UNMOVED, { count: number; where: string[] }>();

  const width = Math.max(6, ...scripts.map((s) => s.name.length));
  const row = (script: string, passed: number | string, failed: number | string, skipped: number | string) =>
    `${script.padEnd(width)}  ${String(passed).padStart(7)}  ${String(failed).padStart(7)}  ${String(skipped).padStart(7)}`;
  console.log(row('script', 'passed', 'failed', 'skipped'));

  const total = { passed: 0, failed: 0, skipped: 0 };
  const refusals = emptyRefusals();
  for (const file of scripts) {
    let result: ScriptResult;
    try {
      result = runScript(loadScript(file), options);
    } catch (e) {
      // Only an unreadable script gets here; the runner itself turns every command into a verdict.
      const message = e instanceof Error ? e.message : String(e);
      result = { script: file.name, passed: 0, failed: 1, skipped: 0, failures: [{ line: 0, command: 'script', message }], refusals: emptyRefusals() };
    }
    for (const engine of open.splice(0)) engine.close();
    if (args.verbose) {
      for (const f of result.failures) console.log(`  FAIL ${file.name}.wast:${f.line} ${f.command}: ${f.message}`);
    }
    console.log(row(file.name, result.passed, result.failed, result.skipped));
    total.passed += result.passed;
    total.failed += result.failed;
    total.skipped += result.skipped;
    for (const r of REFUSALS) {
      for (const k of ['passed', 'failed', 'skipped', 'text'] as const) refusals[r][k] += result.refusals[r][k];
    }
    const m = result.migration;
    if (m) {
      if (m.commands > 0) migrated.scripts++;
      for (const k of ['commands', 'suspended', 'hops', 'homecomings', 'raised'] as const) migrated[k] += m[k];
      for (const [why, n] of Object.entries(m.unmoved) as [keyof typeof UNMOVED, number][]) {
        if (n === 0) continue;
        const u = unmoved.get(why) ?? { count: 0, where: [] };
        u.count += n;
        u.where.push(`${file.name} ${n}`);
        unmoved.set(why, u);
      }
    }
  }
  for (const r of REFUSALS) console.log(refusalLine(r, refusals[r]));
  if (args.probes) {
    const total = [...events.values()].reduce((a, b) => a + b, 0);
    const kinds = [...events].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(`probes: ${total} events consumed (${kinds || 'none'})`);
  }
  if (args.snapshotEvery !== null) {
    console.log(`snapshots: ${migrated.commands} invoke commands in ${migrated.scripts} scripts ran with fuel ${args.snapshotEvery} at a time, ` +
      `${migrated.suspended} of them ran out of it: ${migrated.hops} snapshots restored into a fresh Vm, ${migrated.homecomings} final states restored back` +
      (migrated.raised > 0 ? ` (${migrated.raised} runs given more fuel: a segment cost more than ${args.snapshotEvery})` : ''));
    for (const [why, { count, where }] of unmoved) {
      console.log(`snapshots: ${count} invoke commands ran metered without snapshots because ${UNMOVED[why]}: ${where.join(', ')}`);
    }
  }
  if (total.failed > 0 && !args.verbose) console.log('(run with --verbose to see each failure)');
  console.log(`spec: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exitCode = total.failed > 0 ? 1 : 0;
}

await main();
