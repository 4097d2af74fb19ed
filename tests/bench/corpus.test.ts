// The benchmark corpus (bench/corpus): every program at its test size gives, in the VM, the
// stdout, stderr and exit code of Node's own WASI byte for byte; and the three places that list
// the programs (scripts/build-corpus.sh, bench/corpus/README.md, bench/corpus.ts) agree, with a
// committed .wasm beside every .c.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, CORPUS_DIR } from '../../bench/corpus.js';
import { ROOT, nodeRun, vmRun } from '../wasi/harness.js';

const dir = path.join(ROOT, CORPUS_DIR);

describe('benchmark corpus matches node:wasi byte for byte', () => {
  for (const p of CORPUS) {
    it(`${p.name} ${p.test.join(' ')}`, () => {
      const file = path.join(dir, `${p.name}.wasm`);
      const reference = nodeRun(file, p.test);
      expect(reference.exitCode).toBe(0);
      expect(reference.stdout.length).toBeGreaterThan(0);
      const run = vmRun(new Uint8Array(readFileSync(file)), { args: [p.name, ...p.test] });
      expect(run.stdout).toBe(reference.stdout);
      expect(run.stderr).toBe(reference.stderr);
      expect(run.exitCode).toBe(reference.exitCode);
    });
  }
});

describe('the corpus is listed alike everywhere', () => {
  const names = CORPUS.map((p) => p.name);

  it('every .c has a .wasm and an entry in bench/corpus.ts, and the other way round', () => {
    const sources = readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
    expect(sources).toEqual([...names].sort());
    for (const n of names) expect(existsSync(path.join(dir, `${n}.wasm`)), `${n}.wasm`).toBe(true);
  });

  it("scripts/build-corpus.sh builds the programs in bench/corpus.ts's order", () => {
    const script = readFileSync(path.join(ROOT, 'scripts/build-corpus.sh'), 'utf8');
    const list = /^CORPUS=\(([^)]*)\)$/m.exec(script);
    expect(list, 'CORPUS=(…) in build-corpus.sh').not.toBeNull();
    expect(list![1].trim().split(/\s+/)).toEqual(names);
  });

  it("bench/corpus/README.md's table has a row per program with its kind, set and test args", () => {
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => /^\| `[a-z]+` \|/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    expect(rows.map((r) => r[0].replace(/`/g, ''))).toEqual(names);
    for (const [i, p] of CORPUS.entries()) {
      const [, kind, set] = rows[i];
      expect(kind, p.name).toBe(p.kind);
      expect(set, p.name).toBe(p.set);
      expect(rows[i].some((c) => c === `\`${p.test.join(' ')}\``), `${p.name}: test args \`${p.test.join(' ')}\``).toBe(true);
    }
    // The split the README describes: about four tuning programs, at least six to report on.
    expect(CORPUS.filter((p) => p.set === 'report').length).toBeGreaterThanOrEqual(6);
    expect(CORPUS.filter((p) => p.set === 'tuning').length).toBeGreaterThanOrEqual(3);
  });
});
