// Replays every reproducer in tests/fuzz-regressions/ (written by `npm run fuzz`, see
// reproducer.ts): the VM must now do what V8 did (runs), share V8's verdict (validation), or
// refuse the snapshot cleanly (snapshot). A reproducer marked `open` is a known, unfixed bug: its
// replay is expected to fail, and starts failing the suite once the bug is fixed (then drop the
// flag). With no reproducers there is nothing to replay, and the suite passes.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listReproducers, replay } from './reproducer.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fuzz-regressions');
const reproducers = listReproducers(DIR);

describe('fuzz regressions', () => {
  if (reproducers.length === 0) it('has no reproducers to replay', () => {});
  for (const r of reproducers) {
    it(r.name, async () => {
      const { open, problem } = await replay(r.wasm, r.json);
      if (open) expect(problem, 'the bug is fixed: drop "open" from the reproducer').not.toBeNull();
      else expect(problem).toBeNull();
    }, 60000);
  }
});
