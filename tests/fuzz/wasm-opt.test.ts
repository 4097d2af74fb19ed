// Loading binaryen's wasm-opt into this process prints nothing: its command-line main must not run
// (and complain of missing arguments) at load.

import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { packageRoot } from '../../host-intrinsics/vm.js';

it('loads wasm-opt silently, and it still works', () => {
  const script = `const m = await import('./build/js/tests/fuzz/wasm-opt.js'); await m.loadWasmOpt();
    const bytes = m.translateToFuzz(new Uint8Array(64).fill(7)); console.log(bytes.length > 8 ? 'ok' : 'empty');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot(), encoding: 'utf8' });
  expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ stdout: 'ok\n', stderr: '', status: 0 });
});
