#!/usr/bin/env node
// The long fuzzing campaign: `npm run fuzz -- --seconds N [--seed S] [--malformed-share F]
// [--forwarding-share F] [--out DIR]`.
//
// Runs the differential campaign of tests/fuzz/campaign.ts (wasm-opt -ttf modules in V8 and in the
// VM), for a share of the time (default 0.25) the malformed-input campaign of
// tests/fuzz/malformed.ts and for another (default 0.1) hostile guests against the WASI
// forwarding of build/handover.wasm on Wasmtime (tests/fuzz/forwarding.ts), from seed S on (default: from the clock; printed, so a run can be
// repeated). Each disagreement is minimised and written to DIR (default tests/fuzz-regressions/)
// as NAME.wasm + NAME.json, which `npm test` then replays (tests/fuzz/regressions.test.ts); at
// most a few per kind of difference, so that one bug does not flood the folder.
//
// The helpers are TypeScript: this script compiles the project (tsc, as `npm run build:ts` does)
// and imports them from build/js. A watchdog kills the run, naming the input, if one step hangs.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

function parseArgs(argv) {
  const options = { seconds: 60, seed: Date.now() % 1_000_000_000, malformedShare: 0.25, forwardingShare: 0.1, out: path.join(root, 'tests', 'fuzz-regressions'), perKind: 3 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--seconds') options.seconds = Number(value());
    else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--malformed-share') options.malformedShare = Number(value());
    else if (arg === '--forwarding-share') options.forwardingShare = Number(value());
    else if (arg === '--out') options.out = path.resolve(value());
    else if (arg === '--per-kind') options.perKind = Number(value());
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run fuzz -- [--seconds N] [--seed S] [--malformed-share F] [--forwarding-share F] [--out DIR] [--per-kind K]');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!(options.seconds > 0) || !Number.isInteger(options.seed)) throw new Error('--seconds must be positive and --seed an integer');
  const shares = [options.malformedShare, options.forwardingShare];
  if (!shares.every((f) => f >= 0 && f <= 1) || shares[0] + shares[1] > 1) throw new Error('--malformed-share and --forwarding-share are fractions that add up to at most 1');
  return options;
}

const options = parseArgs(process.argv.slice(2));

// Compile the TypeScript (tests/fuzz among it) to build/js.
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
const built = (p) => path.join(root, 'build', 'js', 'tests', 'fuzz', p);
if (tsc.status !== 0) {
  if (!existsSync(built('campaign.js'))) process.exit(tsc.status ?? 1);
  console.warn('fuzz: tsc reported errors (above); going on with what it emitted');
}

const { runCampaign } = await import(built('campaign.js'));
const { runMalformed, handwrittenBases, specBases, ttfBase } = await import(built('malformed.js'));
const { minimize, writeReproducer, writeValidationReproducer, differ } = await import(built('reproducer.js'));
const { loadWasmOpt, reloadWasmOpt, wasmOptTired } = await import(built('wasm-opt.js'));
const { Rng } = await import(built('rng.js'));
const { Watchdog } = await import(built('watchdog.js'));
const { forwardingCase, OUTSIDE } = await import(built('forwarding.js'));

const started = Date.now();
const deadline = started + options.seconds * 1000;
const watchdog = new Watchdog(120_000);
await loadWasmOpt();

const written = [];
const perSignature = new Map();
/** Whether another reproducer of this kind of difference is wanted (at most perKind each). */
function wanted(signature) {
  const n = perSignature.get(signature) ?? 0;
  perSignature.set(signature, n + 1);
  return n < options.perKind;
}
const signatureOf = (d) => `${d.what}|${d.vm.replace(/[0-9a-fx.:-]+/g, '#').slice(0, 80)}`;

function writeRun(name, c, origin, what) {
  watchdog.beat(`minimising ${name}`);
  const small = minimize(c, what, 80, (s) => console.log(`  ${name}: ${s}`));
  const { difference } = differ(small);
  if (!difference) {
    console.log(`  ${name}: no difference left after minimising; writing the original`);
    return writeReproducer(options.out, name, c, origin);
  }
  return writeReproducer(options.out, name, small, origin);
}

console.log(`fuzz: seed ${options.seed}, ${options.seconds} s (${Math.round(options.malformedShare * 100)}% malformed input, ${Math.round(options.forwardingShare * 100)}% WASI forwarding), reproducers to ${path.relative(root, options.out) || '.'}`);

// 1. Differential campaign.
const diffSeconds = options.seconds * (1 - options.malformedShare - options.forwardingShare);
const malformedDeadline = deadline - options.seconds * 1000 * options.forwardingShare;
const diff = await runCampaign({
  seed: options.seed,
  seconds: diffSeconds,
  maxInput: 16384,
  watchdog,
  onFinding: (f) => {
    const sig = signatureOf(f.difference);
    console.log(`DISAGREEMENT ${f.origin}${f.metered ? ' (metered)' : ''}: ${f.difference.what}${f.difference.call !== undefined ? ` in call ${f.difference.call}` : ''}\n  V8: ${f.difference.v8}\n  VM: ${f.difference.vm}`);
    if (!wanted(sig)) return console.log('  (a reproducer of this kind was written already)');
    const json = writeRun(`ttf-${f.seed}`, { bytes: f.bytes, plan: f.plan, metered: f.metered, ...(f.handover ? { handover: f.handover } : {}) }, f.origin, f.difference.what);
    written.push(json);
    console.log(`  -> ${path.relative(root, json)}`);
  },
  onProgress: (s, seed) => {
    if (s.modules % 200 === 0) console.log(`  ${s.modules} modules, ${s.calls} calls, ${s.findings.length} disagreements (seed ${seed}, ${Math.round((Date.now() - started) / 1000)} s)`);
  },
});

// 2. Malformed input, in rounds of fresh base modules until the time is up.
let malformed = { mutants: 0, executed: 0, limitDifferences: 0, findings: 0, post20: 0, v8Limits: 0 };
for (let round = 0; options.malformedShare > 0 && Date.now() < malformedDeadline; round++) {
  if (wasmOptTired()) await reloadWasmOpt();
  const seed = options.seed + 1_000_000 + round;
  const rng = new Rng(seed);
  const bases = [...(round === 0 ? handwrittenBases() : []), ...specBases(rng, 5), ...Array.from({ length: 5 }, (_, k) => ttfBase(seed * 16 + k))];
  const s = runMalformed({
    seed,
    bases,
    mutantsPerBase: 100,
    executePerBase: 6,
    watchdog,
    onFinding: (f) => {
      console.log(`MALFORMED ${f.kind}: ${f.base}: ${f.what}\n  ${f.detail}`);
      const sig = `${f.kind}|${f.detail.replace(/[0-9]+/g, '#').slice(0, 60)}`;
      if (!wanted(sig)) return console.log('  (a reproducer of this kind was written already)');
      const name = `mutant-${seed}-${written.length}`;
      const origin = `mutant of ${f.base} (campaign seed ${seed}): ${f.what}`;
      const json = f.kind === 'execution' && f.run
        ? writeRun(name, { bytes: f.run.bytes, plan: f.run.plan, metered: false }, origin, f.run.difference.what)
        : writeValidationReproducer(options.out, name, f.bytes, { kind: 'validation', origin: `${origin}; ${f.kind}: ${f.detail}`, expected: { valid: WebAssembly.validate(f.bytes) }, vm: f.detail });
      written.push(json);
      console.log(`  -> ${path.relative(root, json)}`);
    },
  });
  malformed = {
    mutants: malformed.mutants + s.mutants,
    executed: malformed.executed + s.executed,
    limitDifferences: malformed.limitDifferences + s.limitDifferences,
    findings: malformed.findings + s.findings.length,
    post20: malformed.post20 + s.post20,
    v8Limits: malformed.v8Limits + s.v8Limits,
  };
}

// 3. Hostile guests against the WASI forwarding of handover.wasm on Wasmtime, seed after seed.
// A disagreement is printed with its seed: `npm run fuzz -- --seed S --seconds 1
// --forwarding-share 1` runs that guest again.
const forwarding = { guests: 0, findings: 0 };
if (options.forwardingShare > 0) {
  const work = mkdtempSync(path.join(tmpdir(), 'handover-fuzz-forwarding-'));
  try {
    for (let seed = options.seed; forwarding.guests === 0 || Date.now() < deadline; seed++) {
      watchdog.beat(`forwarding guest ${seed}`);
      const { calls, want, got } = await forwardingCase(seed, work);
      forwarding.guests++;
      const same = JSON.stringify(want) === JSON.stringify(got);
      const escaped = JSON.stringify(want.outside) !== JSON.stringify(OUTSIDE) || JSON.stringify(got.outside) !== JSON.stringify(OUTSIDE);
      if (same && !escaped) continue;
      forwarding.findings++;
      console.log(`FORWARDING seed ${seed}: ${escaped ? 'a run reached the directory outside its sandbox' : 'handover.wasm on Wasmtime differs from the TypeScript CLI'}`);
      for (const k of ['status', 'stdout', 'stderr', 'files', 'outside']) {
        if (JSON.stringify(want[k]) !== JSON.stringify(got[k])) console.log(`  ${k}: TypeScript ${JSON.stringify(want[k]).slice(0, 200)}, handover.wasm ${JSON.stringify(got[k]).slice(0, 200)}`);
      }
      calls.forEach((c, i) => { if (want.errnos[i] !== got.errnos[i]) console.log(`  call ${i}: TypeScript ${want.errnos[i]}, handover.wasm ${got.errnos[i].slice(got.errnos[i].lastIndexOf('→'))}`); });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
watchdog.stop();

console.log(`fuzz: done in ${Math.round((Date.now() - started) / 1000)} s (seed ${options.seed})`);
console.log(`  differential: ${diff.modules} modules (${diff.meteredModules} metered, ${diff.handovers} handed over mid-call), ${diff.calls} calls, ${diff.traps} traps, ${diff.hostCalls} host calls; ${diff.findings.length} disagreements, ${diff.limits.length} differences the spec allows (stack depth, memory limit); ${diff.skipped.length} seeds skipped`);
console.log(`  malformed: ${malformed.mutants} mutants, ${malformed.executed} run in both engines (${malformed.limitDifferences} differing only as the spec allows), ${malformed.post20} post-2.0 in V8, ${malformed.v8Limits} V8 limits; ${malformed.findings} findings`);
console.log(`  WASI forwarding: ${forwarding.guests} hostile guests on Wasmtime against the TypeScript CLI; ${forwarding.findings} findings`);
console.log(`  reproducers written: ${written.length}${written.map((w) => `\n    ${path.relative(root, w)}`).join('')}`);
process.exit(diff.findings.length + malformed.findings + forwarding.findings > 0 ? 1 : 0);
