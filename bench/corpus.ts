// `npm run bench -- --corpus`: the benchmark corpus (bench/corpus/*.wasm, C sources beside them,
// bench/corpus/README.md), natively and in the VM on Node (default tiering) and, when installed,
// SpiderMonkey (js102). Each program runs as one plan of the host-runtime comparison (bench/host.ts,
// bench/kernel.js: warm-up, rounds of a native run and a VM run back to back, the VM's output
// checked against native's), without intrinsics. Programs belong to one of two sets: `tuning`,
// the only material interpreter superinstructions and pairs may be chosen from (with the C
// fixtures of tests/fixtures), and `report`, which the headline geomean is taken over, so that the
// number does not measure how well the VM was fitted to its own benchmark. Written to
// bench/results/<date>-corpus.md; `--quick`: the test sizes, one round (a smoke run, its ratios
// are noise-dominated).

import path from 'node:path';
import type { Plan } from './host.js';
import { geomean, median, type FixtureResult } from './report.js';

export type CorpusSet = 'tuning' | 'report';

export interface CorpusProgram {
  name: string;
  kind: string;
  set: CorpusSet;
  /** The size argument of tests (a few ms natively); the benchmark runs the program's default. */
  test: string[];
}

// In the order of scripts/build-corpus.sh and bench/corpus/README.md.
export const CORPUS: CorpusProgram[] = [
  { name: 'hash', kind: 'hashing', set: 'tuning', test: ['8'] },
  { name: 'sort', kind: 'sorting', set: 'tuning', test: ['2000'] },
  { name: 'bignum', kind: 'big-number arithmetic', set: 'tuning', test: ['100'] },
  { name: 'fluid', kind: 'floating-point simulation', set: 'tuning', test: ['1'] },
  { name: 'lz', kind: 'compression', set: 'report', test: ['8'] },
  { name: 'json', kind: 'parser', set: 'report', test: ['60'] },
  { name: 'bytecode', kind: 'bytecode interpreter', set: 'report', test: ['600'] },
  { name: 'regex', kind: 'regex engine', set: 'report', test: ['200'] },
  { name: 'btree', kind: 'database-like workload', set: 'report', test: ['1500'] },
  { name: 'strings', kind: 'string processing', set: 'report', test: ['8'] },
];

export const CORPUS_DIR = 'bench/corpus';

export interface CorpusHost {
  id: string;
  label: string;
  note?: string;
}

export interface CorpusRow {
  program: CorpusProgram;
  args: string[];
  result: FixtureResult;
}

export interface CorpusOptions {
  root: string;
  quick: boolean;
  rounds: number;
  hosts: CorpusHost[];
  /** Runs a plan in the host's own process (bench/run.ts's runChild). */
  run(host: CorpusHost, plan: Plan): FixtureResult;
  progress(line: string): void;
}

/** Measures every program on every host; any failure, a VM run printing something else than native included, throws. */
export function corpusMeasure(o: CorpusOptions): Map<string, CorpusRow[]> {
  const out = new Map<string, CorpusRow[]>();
  for (const h of o.hosts) {
    const rows: CorpusRow[] = [];
    for (const p of CORPUS) {
      const args = o.quick ? p.test : [];
      o.progress(`${h.label}: ${p.name} ${args.join(' ')}`);
      const plan: Plan = {
        kind: 'fixture',
        host: 'node',
        name: p.name,
        file: path.join(o.root, CORPUS_DIR, `${p.name}.wasm`),
        args,
        warmArgs: p.test,
        rounds: o.rounds,
        modes: ['none'],
      };
      let result: FixtureResult;
      try {
        result = o.run(h, plan);
      } catch (e) {
        throw new Error(`${h.label}: ${p.name} failed: ${(e as Error).message}`);
      }
      if (!result.vm.none?.length) throw new Error(`${h.label}: ${p.name}: no VM run (${result.na.none ?? 'unknown reason'})`);
      rows.push({ program: p, args, result });
    }
    out.set(h.id, rows);
  }
  return out;
}

const x2 = (v: number) => `${v.toFixed(2)}x`;
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

export interface SetSummary {
  set: CorpusSet;
  programs: number;
  ratio: number;
  min: number;
  max: number;
}

/** Geomean of the per-program median ratios of one set. */
export function setSummary(rows: CorpusRow[], set: CorpusSet): SetSummary {
  const rs = rows.filter((r) => r.program.set === set).map((r) => median(r.result.ratio.none!));
  return { set, programs: rs.length, ratio: geomean(rs), min: Math.min(...rs), max: Math.max(...rs) };
}

export function renderCorpus(hosts: CorpusHost[], results: Map<string, CorpusRow[]>, meta: { title: string; preamble: string[] }): string[] {
  const L = [`# ${meta.title}`, '', ...meta.preamble, ''];
  const first = hosts.find((h) => results.has(h.id));
  if (first) {
    const s = setSummary(results.get(first.id)!, 'report');
    L.push(`**Report set: the VM runs at ${x2(s.ratio)} of native on ${first.label}** (geomean of ${s.programs} programs, spread ${s.min.toFixed(2)}–${s.max.toFixed(2)}).`, '');
  }
  L.push('## Geomeans per set', '');
  L.push('Geomean of the per-program medians of VM / native; in parentheses the min–max of the per-program ratios. The report set is the headline; the tuning set is what superinstructions may be fitted to.', '');
  L.push('| host | report set | tuning set | all programs |', '|---|---:|---:|---:|');
  for (const h of hosts) {
    const rows = results.get(h.id);
    if (!rows) continue;
    const cell = (s: SetSummary) => `${x2(s.ratio)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
    const all = rows.map((r) => median(r.result.ratio.none!));
    L.push(`| ${h.label} | **${cell(setSummary(rows, 'report'))}** | ${cell(setSummary(rows, 'tuning'))} | ${x2(geomean(all))} |`);
  }
  L.push('');
  for (const h of hosts) {
    const rows = results.get(h.id);
    if (!rows) continue;
    L.push(`## ${h.label}`, '');
    if (h.note) L.push(h.note, '');
    L.push('| program | set | kind | args | native ms | VM ms | VM / native (min–max of rounds) |', '|---|---|---|---|---:|---:|---:|');
    for (const set of ['report', 'tuning'] as const) {
      for (const r of rows.filter((q) => q.program.set === set)) {
        const ratio = r.result.ratio.none!;
        const spread = ratio.length > 1 ? ` (${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)})` : '';
        L.push(`| ${r.program.name} | ${set} | ${r.program.kind} | ${r.args.join(' ') || '(default)'} | ${ms(median(r.result.native))} | ${ms(median(r.result.vm.none!))} | ${x2(median(ratio))}${spread} |`);
      }
    }
    L.push('');
  }
  return L;
}
