// `npm run bench`: the host-runtime comparison. The C fixtures run natively and in the VM on each
// host — Node (default tiering, TurboFan only, Liftoff only), SpiderMonkey (js102) and VM-on-VM —
// per intrinsics mode (none, each class, all), each VM run paired with a native run; plus micro
// kernels (ns per operation in the VM against offloaded). Each host runs in its own process
// (bench/host.ts, bench/host-js102.js) with the same measuring code (bench/kernel.js); the report
// (bench/report.ts) goes to bench/results/<date>.md with one SVG chart per host beside it.
// `--quick`: smaller sizes, one round (about a minute). `--hosts node,spidermonkey`, `--rounds N`,
// `--no-micro`, `--name NAME` narrow or rename a run.
//
// `npm run bench -- --monitors` (default tiering only): per fixture, native; native with the
// Wasabi-style hook before every instruction (bench/wasabi/rewrite.ts); the VM plain, metered and
// monitored; plus the CPU time of deriving each monitor's report from the counters. Checks that
// every configuration prints what native prints and that the hook's per-opcode counts equal the
// VM's. Written to bench/results/<date>-monitors.md (`--quick`: smaller sizes, one round).
//
// `npm run bench -- --snapshots`: checkpoint and restore times and snapshot sizes against touched
// memory (bench/snapshot.ts), written to bench/results/<date>-snapshots.md.
//
// `npm run bench -- --migration`: live migration between two nodes of a real cluster, pre-copy
// against stop-and-copy of the same guest, per guest size and write rate (bench/migration.ts),
// written to bench/results/<date>-migration.md with an SVG chart beside it (`--quick`: 1 and 64
// MiB, three write rates, about two minutes; the full run about fifteen).
//
// `npm run bench -- --runtimes`: the fixtures natively and inside build/handover.wasm on Wasmtime,
// WAMR, Wasm3 and node:wasi (bench/runtimes.ts), the paper's table, written to
// bench/results/<date>-runtimes.md.
//
// `npm run bench -- --corpus`: the benchmark corpus (bench/corpus.ts, bench/corpus/README.md),
// natively and in the VM on Node and js102, the report set's geomean the headline, written to
// bench/results/<date>-corpus.md (`--quick`: test sizes, one round; `--hosts node` narrows).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../host-intrinsics/vm.js';
import { MNEMONICS } from '../host-intrinsics/monitors/mnemonics.js';
import { rewrite } from './wasabi/rewrite.js';
import { snapshotBench } from './snapshot.js';
import { migrationBench } from './migration.js';
import { runtimesBench } from './runtimes.js';
import { MODES as VM_MODES, type Mode as VmMode, type Plan } from './host.js';
import { MICRO_KERNELS, assembleMicro } from './micro.js';
import { KERNEL_CLASS, renderChart, renderReport, summarize, type FixtureResult, type HostResult } from './report.js';
import { probeEventCost } from './probes.js';
import { corpusMeasure, renderCorpus, type CorpusHost } from './corpus.js';

const root = packageRoot();
const quick = process.argv.includes('--quick');
const monitorsMode = process.argv.includes('--monitors');
const snapshotsMode = process.argv.includes('--snapshots');
const migrationMode = process.argv.includes('--migration');
const runtimesMode = process.argv.includes('--runtimes');
const corpusMode = process.argv.includes('--corpus');

// Default sizes run ~0.15–0.25 s natively (tests/fixtures/README.md).
const fixtures: [string, string[]][] = quick
  ? [['float', ['200000']], ['intarray', ['30000']], ['recursion', ['40']], ['memory', ['2048']]]
  : [['float', []], ['intarray', []], ['recursion', []], ['memory', []]];

interface Measured { ms: number[]; exit: number; count?: number; ops?: Record<string, number>; derive?: Record<string, number>; accesses?: number }

// `--baseline <dir>`: the build/ directory of a commit without probe support (copied inside the
// checkout, e.g. build/baseline, so its modules resolve), for the plain-VM comparison of the
// monitors mode: its own worker and host code run its own vm.wasm.
const baselineAt = process.argv.indexOf('--baseline');
const baselineVm = baselineAt >= 0 ? path.resolve(process.argv[baselineAt + 1] ?? '') : undefined;

function measureOne(flags: string[], mode: string, fixture: string, args: string[], outFile?: string, build?: string): Measured {
  const worker = path.join(build ?? path.join(root, 'build'), 'js/bench/worker.js');
  const out = spawnSync(process.execPath, [...flags, '--no-warnings', worker, mode, path.join(root, 'tests/fixtures', `${fixture}.wasm`), '1',
    ...(outFile ? ['--out', outFile] : []), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: build ? { ...process.env, HANDOVER_VM_WASM: path.join(build, 'vm.wasm') } : process.env,
  });
  if (out.status !== 0) throw new Error(`${mode} ${fixture} failed: ${out.stderr}`);
  const m = JSON.parse(out.stdout.trim().split('\n').pop()!) as Measured;
  if (m.exit !== 0) throw new Error(`${mode} ${fixture} exited ${m.exit}`);
  return m;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const date = new Date().toISOString().slice(0, 10);
const xr = (v: number) => `${v.toFixed(2)}x`;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

function write(name: string, lines: string[], beside = ''): void {
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results', `${name}.md`), text);
  // Last, so that it is the line left on the screen.
  process.stderr.write(`report written to ${path.join('bench/results', `${name}.md`)}${beside}\n`);
}

// --- the host-runtime comparison (the default mode) ---------------------------------------

interface HostSpec {
  id: string;
  label: string;
  /** How the child runs: Node with flags (the VM on this V8), js102, or the VM on the VM on Node. */
  kind: 'node' | 'js102' | 'vm-on-vm';
  flags: string[];
}

const HOSTS: HostSpec[] = [
  { id: 'node', label: 'Node (default tiering)', kind: 'node', flags: [] },
  { id: 'node-turbofan', label: 'Node, TurboFan only', kind: 'node', flags: ['--no-liftoff'] },
  { id: 'node-liftoff', label: 'Node, Liftoff only', kind: 'node', flags: ['--liftoff-only'] },
  { id: 'spidermonkey', label: 'SpiderMonkey (js102)', kind: 'js102', flags: [] },
  { id: 'vm-on-vm', label: 'VM-on-VM (on Node)', kind: 'vm-on-vm', flags: [] },
];

// Sizes: native runs of ~25–35 ms on Node keep the full run (5 hosts × 4 fixtures × 5 modes × 5
// rounds, each VM run paired with a native one) within ten minutes on the 2-core dev machine;
// VM-on-VM interprets the interpreter, ~30–60x slower than the VM, so it gets sizes whose native
// run takes a few ms (its runs then take ~0.3–0.6 s; at smaller sizes the inner VM loading the
// guest, itself interpreted, would be most of each run). About 5 minutes at a load of 3–5.
const SIZES: Record<'full' | 'quick', Record<'direct' | 'vm-on-vm', [string, string[]][]>> = {
  full: {
    direct: [['float', ['300000']], ['intarray', ['45000']], ['recursion', ['54']], ['memory', ['2304']]],
    'vm-on-vm': [['float', ['14000']], ['intarray', ['4000']], ['recursion', ['6']], ['memory', ['384']]],
  },
  quick: {
    direct: [['float', ['60000']], ['intarray', ['10000']], ['recursion', ['12']], ['memory', ['512']]],
    'vm-on-vm': [['float', ['2000']], ['intarray', ['1000']], ['recursion', ['1']], ['memory', ['64']]],
  },
};
const WARM_ARGS: Record<string, string[]> = { float: ['1000'], intarray: ['1000'], recursion: ['1'], memory: ['64'] };

function js102Path(): string | null {
  const name = process.env.HANDOVER_JS102 ?? 'js102';
  const r = spawnSync('sh', ['-c', `command -v "${name}"`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Runs one plan in the host's own process; its progress lines stream to our stderr. */
function runChild(h: HostSpec, plan: Plan, tmp: string, label: string): unknown {
  const planFile = path.join(tmp, `plan-${h.id}.json`);
  writeFileSync(planFile, JSON.stringify(plan));
  let cmd: string;
  let argv: string[];
  if (h.kind === 'js102') {
    const js = js102Path();
    if (!js) throw new Error('js102 not found — apt-get install libmozjs-102-dev');
    cmd = js;
    argv = [path.join(root, 'bench/host-js102.js'), path.join(root, 'bench/kernel.js'), path.join(root, 'build/vm.wasm'), planFile, label];
  } else {
    cmd = process.execPath;
    argv = [...h.flags, '--no-warnings', path.join(root, 'build/js/bench/host.js'), planFile, label];
  }
  const out = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.status !== 0) throw new Error(`exit ${out.status ?? out.signal}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!);
}

export interface HostsBenchOptions {
  quick: boolean;
  rounds: number;
  hosts: string[];
  micro: boolean;
  /** Written as bench/results/<name>.md and <name>-<host>.svg. */
  name: string;
}

async function hostsBench(o: HostsBenchOptions): Promise<void> {
  const started = Date.now();
  const loadBefore = load();
  const tmp = mkdtempSync(path.join(tmpdir(), 'handover-bench-'));
  const hosts = HOSTS.filter((h) => o.hosts.includes(h.id));
  const results: HostResult[] = [];
  const microWhat = new Map<string, string>();
  try {
    const microFiles = new Map<string, string>();
    if (o.micro) {
      for (const [name, bytes] of await assembleMicro()) {
        const file = path.join(tmp, `micro-${name.replace(/[^a-z0-9.]/gi, '_')}.wasm`);
        writeFileSync(file, bytes);
        microFiles.set(name, file);
      }
      for (const k of MICRO_KERNELS) {
        microWhat.set(k.name, k.what);
        if (k.cls) KERNEL_CLASS.set(k.name, k.cls);
      }
    }
    for (const h of hosts) {
      const sizes = SIZES[o.quick ? 'quick' : 'full'][h.kind === 'vm-on-vm' ? 'vm-on-vm' : 'direct'];
      const hr: HostResult = { id: h.id, label: h.label, fixtures: [] };
      if (h.kind === 'vm-on-vm') hr.note = `Smaller sizes than the other hosts (the VM interprets build/vm.wasm, which interprets the guest). "Native" is still the guest run natively by Node (default tiering).`;
      if (h.kind === 'js102') hr.note = `Native = the guest run natively by js102 (its default tiers, baseline then Ion), with the same preview1 shim (bench/kernel.js); the VM is build/vm.wasm on js102.`;
      results.push(hr);
      for (const [fixture, args] of sizes) {
        const elapsed = ((Date.now() - started) / 1000).toFixed(0);
        process.stderr.write(`[${elapsed} s] ${h.label}: ${fixture} ${args.join(' ')}\n`);
        const plan: Plan = {
          kind: 'fixture',
          host: h.kind === 'vm-on-vm' ? 'vm-on-vm' : 'node',
          name: fixture,
          file: path.join(root, 'tests/fixtures', `${fixture}.wasm`),
          args,
          warmArgs: WARM_ARGS[fixture],
          rounds: o.rounds,
          modes: [...VM_MODES],
        };
        let result: FixtureResult | { error: string };
        try {
          result = runChild(h, plan, tmp, `${h.id}: `) as FixtureResult;
        } catch (e) {
          result = { error: (e as Error).message };
          process.stderr.write(`  ${h.label}: ${fixture} failed: ${result.error}\n`);
        }
        hr.fixtures.push({ name: fixture, args, result });
      }
      if (o.micro) {
        process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${h.label}: micro kernels\n`);
        // VM-on-VM: half the iterations (ns per operation does not depend on n).
        const scale = (h.kind === 'vm-on-vm' ? 1 / 2 : 1) * (o.quick ? 1 / 10 : 1);
        const plan: Plan = {
          kind: 'micro',
          host: h.kind === 'vm-on-vm' ? 'vm-on-vm' : 'node',
          kernels: MICRO_KERNELS.map((k) => ({ name: k.name, cls: k.cls, file: microFiles.get(k.name)!, iterations: Math.max(100, Math.round(k.iterations * scale)) })),
          baseline: 'empty',
          reps: o.quick ? 1 : 5,
        };
        try {
          hr.micro = runChild(h, plan, tmp, `${h.id}: `) as HostResult['micro'];
        } catch (e) {
          hr.micro = { error: (e as Error).message };
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const charts = new Map<string, string>();
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  for (const h of results) {
    const svg = renderChart(h);
    if (!svg) continue;
    const file = `${o.name}-${h.id}.svg`;
    writeFileSync(path.join(root, 'bench/results', file), svg);
    charts.set(h.id, file);
  }
  const js = hosts.some((h) => h.kind === 'js102') ? js102Path() : null;
  const jsVersion = js ? spawnSync(js, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const lines = renderReport(results, {
    title: `Host runtimes ${date}${o.quick ? ' (quick)' : ''}`,
    preamble: [
      `Node ${process.version} (V8 ${process.versions.v8})${jsVersion ? `, ${jsVersion}` : ''}; ${cpus().length} cores shared with other work, load average (1/5/15 min) ${loadBefore} at the start, ${load()} at the end; the run took ${minutes} min (\`npm run bench${o.quick ? ' -- --quick' : ''}\`).`,
      '',
      `Method: per host and fixture one process (its own V8 flags); after warm-up runs (native at the measured size, the VM at a small size, the first mode for 1.5 s of CPU, so the guest's functions and the VM's dispatch loop reach the optimizing tier), ${o.rounds} round${o.rounds > 1 ? 's' : ''}, each running, per mode, the guest natively and then in the VM back to back; CPU time of each run (native: instantiating and running the compiled guest; VM: loading, instantiating and running it in a fresh VM). Each round's VM runs are divided by the median of that round's native runs (the native run right before a VM run is a biased partner: its time depends on which VM run freed memory just before it), and ratios are the medians of these per-round ratios. Every VM run must print exactly what the native run printed. Native and VM use the same small WASI preview1 shim (bench/kernel.js, the same code on every host).`,
      '',
      'Modes (host-intrinsics/intrinsics/README.md): the VM without intrinsics; with one class of host intrinsics on — `float`: f32/f64 arithmetic and conversions as calls (on VM-on-VM: builtins of the outer VM); `memory`: guest memory owned by the host (the helper\'s memory, or the outer VM\'s builtin memory), every load and store a call; `bulk`: memory.copy/fill as one call each, on host-owned memory only, so alone it changes nothing (the VM\'s own memory.copy is already native) — with all three classes it does.',
    ],
    charts,
    microWhat,
  });
  lines.push('## Targets', '');
  const node = results.find((h) => h.id === 'node');
  const s = node ? summarize(node) : null;
  if (s) {
    const best = Math.min(s.ratioNone, s.ratioAll ?? Infinity);
    lines.push(`- *VM on Node ≤ 4x native (geomean)*: ${xr(s.ratioNone)} without intrinsics${s.ratioAll !== undefined ? `, ${xr(s.ratioAll)} with all classes` : ''} — ${best <= 4 ? 'met' : 'missed'}.`);
  }
  const vv = results.find((h) => h.id === 'vm-on-vm');
  const vf = vv?.fixtures.find((f) => f.name === 'float');
  if (vf && !('error' in vf.result)) {
    const r = vf.result;
    const speedup = (m: VmMode) => (r.vm[m]?.length && r.vm.none?.length ? median(r.vm.none.map((v, i) => v / r.vm[m]![i])) : null);
    const f = speedup('float');
    const a = speedup('all');
    lines.push(`- *VM-on-VM with intrinsics ≥ 2x faster than without, on float*: ${f === null ? r.na.float ?? 'not measured' : `float class ${xr(f)} as fast`}${a === null ? '' : `, all classes ${xr(a)}`} — ${f === null && a === null ? 'not measured' : Math.max(f ?? 0, a ?? 0) >= 2 ? 'met' : 'missed'}.`);
  }
  lines.push(`- *Noise*: a shared 2-core machine; the spreads (min–max of the rounds) show how far single pairs moved.`);
  write(o.name, lines, ' (an SVG chart per host beside it)');
}

const MODES = ['native', 'wasabi', 'vm', 'vm-metered', 'vm-monitored', 'vm-recorded', 'vm-traced'] as const;
type Mode = (typeof MODES)[number];
const DERIVED = ['dump', 'count', 'opcodes', 'calls', 'coverage', 'loops', 'branches', 'memory'] as const;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Where the hook's histogram and the VM's differ, opcode by opcode ('' when they agree exactly). */
function opsDiff(hook: Record<string, number>, vm: Record<string, number>): string {
  const diffs: string[] = [];
  for (const op of new Set([...Object.keys(hook), ...Object.keys(vm)])) {
    const a = hook[op] ?? 0;
    const b = vm[op] ?? 0;
    if (a !== b) diffs.push(`${MNEMONICS.get(Number(op)) ?? op}: hook ${a}, VM ${b}`);
  }
  return diffs.join('; ');
}

function monitors(): void {
  const flags: string[] = [];
  const rounds = 3;
  // The hooked run is the slow one, and 20x is far from noise: once in --quick (to stay near a
  // minute), every round otherwise.
  const hookRounds = quick ? 1 : rounds;
  const loadBefore = load();
  const tmp = mkdtempSync(path.join(tmpdir(), 'handover-bench-'));

  interface Row {
    fixture: string;
    args: string[];
    ms: Record<Mode, number>;
    /** Medians of per-round ratios. */
    ratio: Record<string, number>;
    /** Min and max of the per-round ratios. */
    spread: Record<string, [number, number]>;
    derive: Record<string, number>;
    count: number;
    traceRecords: number;
    check: string;
    sizes: [number, number, number];
  }
  const rows: Row[] = [];
  try {
    for (const [fixture, args] of fixtures) {
      const bytes = new Uint8Array(readFileSync(path.join(root, 'tests/fixtures', `${fixture}.wasm`)));
      const rewritten = rewrite(bytes);
      const sites = [...rewritten.sites.values()].reduce((a, b) => a + b, 0);
      const samples = Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, number[]>;
      const ratios: Record<string, number[]> = {};
      const derives: Record<string, number[]> = {};
      const problems: string[] = [];
      let count = 0;
      let traceRecords = 0;
      for (let r = 0; r < rounds; r++) {
        // All five back to back, so load on this shared machine hits them alike.
        const got = {} as Record<Mode, Measured>;
        const modes = MODES.filter((m) => m !== 'wasabi' || r < hookRounds);
        for (const mode of modes) {
          got[mode] = measureOne(flags, mode, fixture, args, path.join(tmp, mode));
          samples[mode].push(got[mode].ms[0]);
          process.stderr.write(`\r${fixture} round ${r + 1}/${rounds}: ${mode} ${got[mode].ms[0].toFixed(0)} ms          `);
        }
        const expected = new Uint8Array(readFileSync(path.join(tmp, 'native')));
        for (const mode of modes.slice(1)) {
          if (!sameBytes(new Uint8Array(readFileSync(path.join(tmp, mode))), expected)) problems.push(`${mode} printed something else than native`);
          rmSync(path.join(tmp, mode));
        }
        const mon = got['vm-monitored'];
        const met = got['vm-metered'];
        count = mon.count!;
        if (met.count !== mon.count) problems.push(`counts: VM monitored ${mon.count}, VM fuel used ${met.count}`);
        const rec = got['vm-recorded'];
        if (rec.count !== mon.count) problems.push(`the outermost function's total instructions ${rec.count}, VM monitored ${mon.count}`);
        const traced = got['vm-traced'];
        const accesses = Object.entries(mon.ops!).filter(([op]) => Number(op) >= 0x28 && Number(op) <= 0x3e).reduce((n, [, c]) => n + c, 0);
        if (traced.accesses !== accesses) problems.push(`memory trace ${traced.accesses} records, ${accesses} loads and stores ran`);
        traceRecords = traced.accesses!;
        const hook = got.wasabi;
        if (hook) {
          if (hook.count !== mon.count) problems.push(`counts: hook ${hook.count}, VM monitored ${mon.count}`);
          const diff = opsDiff(hook.ops!, mon.ops!);
          if (diff) problems.push(diff);
        }
        const add = (k: string, v: number) => (ratios[k] ??= []).push(v);
        const ms = (m: Mode) => got[m].ms[0];
        for (const d of DERIVED) (derives[d] ??= []).push(mon.derive![d]);
        if (hook) add('hook/native', ms('wasabi') / ms('native'));
        add('vm/native', ms('vm') / ms('native'));
        add('metered/vm', ms('vm-metered') / ms('vm'));
        add('monitored/vm', ms('vm-monitored') / ms('vm'));
        add('recorded/vm', ms('vm-recorded') / ms('vm'));
        add('traced/vm', ms('vm-traced') / ms('vm'));
        add('histogram/vm', (ms('vm-monitored') + mon.derive!.dump + mon.derive!.opcodes) / ms('vm'));
        add('all/vm', (ms('vm-monitored') + DERIVED.reduce((s, d) => s + mon.derive![d], 0)) / ms('vm'));
        if (hook) add('hook/monitored', ms('wasabi') / ms('vm-monitored'));
        if (hook) add('hook/vm', ms('wasabi') / ms('vm'));
      }
      rows.push({
        fixture,
        args,
        ms: Object.fromEntries(MODES.map((m) => [m, median(samples[m])])) as Record<Mode, number>,
        ratio: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, median(v)])),
        spread: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, [Math.min(...v), Math.max(...v)]])),
        derive: Object.fromEntries(Object.entries(derives).map(([k, v]) => [k, median(v)])),
        count,
        traceRecords,
        check: problems.length ? [...new Set(problems)].join('; ') : 'equal, every opcode',
        sizes: [bytes.length, rewritten.bytes.length, sites],
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  process.stderr.write('\n');

  const x = (v: number) => `${v.toFixed(2)}x`;
  const f1 = (v: number) => v.toFixed(1);
  // A ratio with the spread of its rounds, when there was more than one.
  const xs = (r: Row, k: string) => {
    const [lo, hi] = r.spread[k];
    return lo === hi ? x(r.ratio[k]) : `${x(r.ratio[k])} (${lo.toFixed(2)}–${hi.toFixed(2)})`;
  };
  const g = (k: string) => geomean(rows.map((r) => r.ratio[k]));
  const lines: string[] = [];
  lines.push(`# Monitor overhead ${date}${quick ? ' (quick)' : ''}`, '');
  lines.push(`Node ${process.version}, default tiering; load average (1/5/15 min) ${loadBefore} at the start, ${load()} at the end, on ${
    cpus().length} cores. CPU time of the guest's run, each configuration in its own process after a warm-up run, the five run back to back per round; median of ${rounds} rounds (ratios: median of the per-round ratios; in parentheses their min–max)${hookRounds < rounds ? `; the hooked run in the first round only` : ''}. VM runs include loading and instantiating the guest.`, '');
  lines.push('- **native**: Node runs the fixture (node:wasi).');
  lines.push('- **+hook**: natively, after `bench/wasabi/rewrite.ts` put `i32.const <opcode>; call $wasabi.hook` before every instruction; the JS hook counts per opcode (Wasabi-style static instrumentation, an opcode histogram).');
  lines.push('- **VM plain**: no metering, no probes. **VM metered**: fuel counted per segment (unlimited fuel). **VM monitored**: metered plus one u64 counter per segment; every monitor is derived from those counters after the run.');
  lines.push('');
  lines.push('| fixture | args | instructions | native ms | +hook ms | VM plain ms | VM metered ms | VM monitored ms | +hook / native | VM / native | metered / VM | monitored / VM | +hook / VM monitored |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(`| ${r.fixture} | ${r.args.join(' ') || '(default)'} | ${r.count.toLocaleString('en')} | ${f1(r.ms.native)} | ${f1(r.ms.wasabi)} | ${f1(r.ms.vm)} | ${f1(r.ms['vm-metered'])} | ${f1(r.ms['vm-monitored'])} | ${x(r.ratio['hook/native'])} | ${x(r.ratio['vm/native'])} | ${xs(r, 'metered/vm')} | ${xs(r, 'monitored/vm')} | ${x(r.ratio['hook/monitored'])} |`);
  }
  lines.push(`| geomean | | | | | | | | ${x(g('hook/native'))} | ${x(g('vm/native'))} | ${x(g('metered/vm'))} | ${x(g('monitored/vm'))} | ${x(g('hook/monitored'))} |`);
  lines.push('');
  lines.push('Recording in the VM (no host call per event), against VM plain: **recorded** = monitored + inclusive instructions (shadow stack at every call and return) + indirect call targets — the `calls` monitor with totals and the `indirect` monitor; **traced** = monitored + every load and store into the VM\'s trace buffer (65536 records, drained when full into a sink that only counts) — `--memory-trace`:', '');
  lines.push('| fixture | VM recorded ms | VM traced ms | trace records | recorded / VM | traced / VM |', '|---|---:|---:|---:|---:|---:|');
  for (const r of rows) lines.push(`| ${r.fixture} | ${f1(r.ms['vm-recorded'])} | ${f1(r.ms['vm-traced'])} | ${r.traceRecords.toLocaleString('en')} | ${xs(r, 'recorded/vm')} | ${xs(r, 'traced/vm')} |`);
  lines.push(`| geomean | | | | ${x(g('recorded/vm'))} | ${x(g('traced/vm'))} |`);
  lines.push('');
  lines.push('Each monitor = the monitored run + deriving its report. CPU ms after the run: `dump` is `monitor_dump` + decoding the counters (shared by all monitors), then each monitor alone:', '');
  lines.push(`| fixture | ${DERIVED.join(' | ')} | opcode histogram / VM plain (run + dump + opcodes) | all monitors / VM plain |`);
  lines.push(`|---|${DERIVED.map(() => '---:').join('|')}|---:|---:|`);
  for (const r of rows) lines.push(`| ${r.fixture} | ${DERIVED.map((d) => r.derive[d].toFixed(2)).join(' | ')} | ${xs(r, 'histogram/vm')} | ${x(r.ratio['all/vm'])} |`);
  lines.push(`| geomean | ${DERIVED.map(() => '').join(' | ')} | ${x(g('histogram/vm'))} | ${x(g('all/vm'))} |`);
  lines.push('');
  lines.push('Checks, per round: every configuration printed exactly what native printed (exit 0), the hook\'s count equals the VM\'s — total and per opcode —, the outermost function\'s total instructions equal the count, and the trace holds one record per load and store that ran:', '');
  lines.push('| fixture | hook count vs VM (monitored, and fuel used when metered) | module bytes → rewritten | hook sites |', '|---|---|---:|---:|');
  for (const r of rows) lines.push(`| ${r.fixture} | ${r.check} | ${r.sizes[0]} → ${r.sizes[1]} | ${r.sizes[2]} |`);
  lines.push('');
  const hist = g('histogram/vm');
  const base = baselineVm ? baseline() : null;
  lines.push('Callback probes: the cost of one event, a host round trip (bench/probes.ts: a loop calling a one-instruction function, plain and probed in one process; (probed − plain) / events, best of 3):', '');
  lines.push(...probeEventCost(quick), '');
  if (base) lines.push(...base.lines, '');
  lines.push('Targets:', '');
  lines.push(`- *No probes ≤ 3% slower than a build without probe support*: probes are a compile mode — plain code holds no probe instruction and the dispatch loop no test for one; what probe support adds to a plain run is switch cases it never reaches and a shadow-stack depth saved per activation. ${base ? `Measured against the build before probe support (${base.summary}): ${base.met ? 'met' : 'missed'}.` : 'Run with `--baseline <build directory of the commit before>` to measure it.'}`);
  lines.push(`- *Opcode histogram ≤ 1.3x*: ${x(hist)} geomean (run + dump + derivation against VM plain) — ${hist <= 1.3 ? 'met' : 'missed'}; per fixture ${rows.map((r) => `${r.fixture} ${x(r.ratio['histogram/vm'])}`).join(', ')}.`);
  lines.push(`- *Wasabi-style baseline*: the same histogram by static rewriting costs ${x(g('hook/native'))} of native (geomean), ${x(g('hook/monitored'))} of the VM's monitored run, ${x(g('hook/vm'))} of the plain VM.`);
  lines.push(`- *Noise*: on a shared machine single runs of a few hundred ms vary by tens of percent (the min–max in parentheses); a difference smaller than that spread is not resolved by this run${quick ? ' — the full mode (default sizes, every run ~10x longer) resolves more' : ''}; a quiet machine, more still.`);
  write(`${date}-monitors${quick ? '-quick' : ''}`, lines);
}

// VM plain of this build against VM plain of `--baseline-vm`, paired back to back, default sizes.
function baseline(): { lines: string[]; summary: string; met: boolean } {
  const rounds = 7;
  const sizes: [string, string[]][] = [['float', []], ['intarray', []], ['recursion', []], ['memory', []]];
  const lines = [`Plain VM, this build against the baseline build (${path.relative(root, baselineVm!)}), default sizes, ${rounds} rounds, each a pair run back to back in alternating order; ratio = median of the per-round ratios (min–max):`, '',
    '| fixture | baseline ms | this build ms | this / baseline |', '|---|---:|---:|---:|'];
  const ratios: number[] = [];
  for (const [fixture, args] of sizes) {
    const mine: number[] = [];
    const theirs: number[] = [];
    const rs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      const t: number[] = [];
      for (const useBaseline of order) t[useBaseline ? 1 : 0] = measureOne([], 'vm', fixture, args, undefined, useBaseline ? baselineVm : undefined).ms[0];
      mine.push(t[0]);
      theirs.push(t[1]);
      rs.push(t[0] / t[1]);
      process.stderr.write(`\rbaseline ${fixture} round ${r + 1}/${rounds}: this ${t[0].toFixed(0)} ms, baseline ${t[1].toFixed(0)} ms      `);
    }
    ratios.push(median(rs));
    lines.push(`| ${fixture} | ${median(theirs).toFixed(1)} | ${median(mine).toFixed(1)} | ${median(rs).toFixed(3)}x (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}) |`);
  }
  process.stderr.write('\n');
  const gm = geomean(ratios);
  lines.push(`| geomean | | | ${gm.toFixed(3)}x |`);
  return { lines, summary: `${((gm - 1) * 100).toFixed(1)}% geomean, per fixture ${sizes.map(([f], i) => `${f} ${((ratios[i] - 1) * 100).toFixed(1)}%`).join(', ')}`, met: gm <= 1.03 };
}

async function snapshots(): Promise<void> {
  const lines = [`# Snapshots ${date}${quick ? ' (quick)' : ''}`, '',
    `Node ${process.version}, ${cpus().length} cores, load ${load()}. Each guest is suspended by fuel on Node; checkpoint = Vm.snapshot, restore = Vm.restore into a fresh VM (module loaded and host functions created beforehand); best of 3. Targets: 64 MiB touched memory checkpointed and restored in ≤ 50 ms each; size ≤ touched pages + 1%.`, ''];
  lines.push(...(await snapshotBench(quick)));
  write(`${date}-snapshots${quick ? '-quick' : ''}`, lines);
}

async function migration(): Promise<void> {
  const name = `${date}-migration${quick ? '-quick' : ''}`;
  const { lines, svg } = await migrationBench(quick, `${name}.svg`);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results', `${name}.svg`), svg);
  write(name, [`# Live migration ${date}${quick ? ' (quick)' : ''}`, '', ...lines], ' (an SVG chart beside it)');
}

// --- the benchmark corpus (bench/corpus.ts): the host plans, on Node and js102 -------------------

function corpus(): void {
  const started = Date.now();
  const loadBefore = load();
  const rounds = Number(option('--rounds') ?? (quick ? 1 : 5));
  if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds wants a positive whole number, got "${option('--rounds')}"`);
  const wanted = option('--hosts')?.split(',') ?? ['node', 'spidermonkey'];
  const js = js102Path();
  const hosts: CorpusHost[] = HOSTS.filter((h) => wanted.includes(h.id) && (h.id === 'node' || (h.id === 'spidermonkey' && js))).map((h) => ({
    id: h.id,
    label: h.label,
    note: h.kind === 'js102' ? 'Native = the guest run natively by js102 (baseline, then Ion), with the same preview1 shim (bench/kernel.js); the VM is build/vm.wasm on js102.' : undefined,
  }));
  if (hosts.length === 0) usage(`--hosts: the corpus runs on node${js ? ' and spidermonkey' : ''}`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'handover-bench-'));
  let results;
  try {
    results = corpusMeasure({
      root,
      quick,
      rounds,
      hosts,
      run: (h, plan) => runChild(HOSTS.find((q) => q.id === h.id)!, plan, tmp, `${h.id}: `) as FixtureResult,
      progress: (s) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${s}\n`),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const jsVersion = hosts.some((h) => h.id === 'spidermonkey') && js ? spawnSync(js, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  write(`${date}-corpus${quick ? '-quick' : ''}`, renderCorpus(hosts, results, {
    title: `Benchmark corpus ${date}${quick ? ' (quick)' : ''}`,
    preamble: [
      `Node ${process.version} (V8 ${process.versions.v8})${jsVersion ? `, ${jsVersion}` : ', js102 not installed (SpiderMonkey not measured)'}; ${cpus().length} cores shared with other work, load average (1/5/15 min) ${loadBefore} at the start, ${load()} at the end; the run took ${minutes} min (\`npm run bench -- --corpus${quick ? ' --quick' : ''}\`).`,
      '',
      `Programs: bench/corpus/README.md, ${quick ? 'at their test sizes (a smoke run: most take a few ms natively, so the ratios are dominated by the VM loading the guest)' : 'at their default sizes (~0.1–0.3 s natively)'}. Sets: superinstructions and pairs of the interpreter may be chosen from the tuning set (and the C fixtures of tests/fixtures) only; the report set is what the VM's speed is reported on.`,
      '',
      `Method: that of \`npm run bench\` (bench/kernel.js), the VM without intrinsics: per host and program one process; after warm-up runs (native at the measured size, the VM at the test size for 1.5 s of CPU), ${rounds} round${rounds > 1 ? 's' : ''}, each the guest natively and then in the VM back to back; CPU time of each run (native: instantiating and running the compiled guest; VM: loading, validating, compiling, instantiating and running it in a fresh VM). Ratio = the median of the per-round ratios. Every VM run printed exactly what the native run printed, and exited 0 (checked per run; a difference fails the whole run).`,
    ],
  }));
}

function usage(message: string): never {
  process.stderr.write(`bench: error: ${message}\n`);
  process.exit(1);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (monitorsMode) monitors();
else if (corpusMode) corpus();
else if (snapshotsMode) await snapshots();
else if (migrationMode) await migration();
else if (runtimesMode) {
  const name = `${date}-runtimes${quick ? '-quick' : ''}`;
  write(name, [`# build/handover.wasm on WASI runtimes ${date}${quick ? ' (quick)' : ''}`, '', `Load average at start: ${load()}.`, '',
    ...runtimesBench(quick, Number(option('--rounds') ?? (quick ? 1 : 3)))]);
}
else {
  const hosts = option('--hosts')?.split(',') ?? HOSTS.map((h) => h.id);
  const unknown = hosts.filter((h) => !HOSTS.some((q) => q.id === h));
  if (unknown.length) usage(`unknown host ${unknown.join(', ')}; hosts: ${HOSTS.map((h) => h.id).join(', ')}`);
  const rounds = Number(option('--rounds') ?? (quick ? 1 : 5));
  if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds wants a positive whole number, got "${option('--rounds')}"`);
  const name = option('--name') ?? `${date}${quick ? '-quick' : ''}`;
  if (!/^[\w.-]+$/.test(name)) usage(`--name wants a plain file name (the report goes to bench/results/), got "${name}"`);
  await hostsBench({ quick, rounds, hosts, micro: !process.argv.includes('--no-micro'), name });
}
