// The files generated from the instruction table (scripts/isa.mjs) and from the vocabulary of codes
// (scripts/vocabulary.mjs) must match them.
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('generated files are up to date with scripts/isa.mjs', () => {
  expect(() => execFileSync(process.execPath, ['scripts/gen-isa.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
});

it('generated files are up to date with scripts/vocabulary.mjs', () => {
  expect(() => execFileSync(process.execPath, ['scripts/gen-vocabulary.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
});
