// The WASI command (guest-vm/command/preview1.ts, AssemblyScript) and the TypeScript WASI
// (host-intrinsics/wasi) each hold the preview1 functions with their core signatures; a guest
// links the same way under both only while the two tables agree, name for name.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREVIEW1_FUNCTIONS } from '../../host-intrinsics/wasi/index.js';
import { ROOT } from './harness.js';

describe('the preview1 table', () => {
  it("of the WASI command is the TypeScript WASI's, signature for signature", () => {
    const source = readFileSync(path.join(ROOT, 'guest-vm/command/preview1.ts'), 'utf8');
    const table = /const FUNCS: string\[\] = \[([^\]]*)\];/.exec(source);
    expect(table, 'FUNCS in guest-vm/command/preview1.ts').not.toBeNull();
    const command = Object.fromEntries([...table![1].matchAll(/"(\w+)\(([iI]*)\)"/g)].map(([, name, params]) => [name, params]));
    const typescript = Object.fromEntries(Object.entries(PREVIEW1_FUNCTIONS).map(([name, f]) => [name, f.params.map((p) => (p === 'i64' ? 'I' : 'i')).join('')]));
    expect(command).toEqual(typescript);
    expect(PREVIEW1_FUNCTIONS.proc_exit!.results).toEqual([]);
  });
});
