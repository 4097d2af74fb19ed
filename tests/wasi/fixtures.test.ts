// Every C fixture (tests/fixtures) runs in the VM with the same args, env and preopens as under
// Node's own WASI, and its stdout, stderr and exit code must be byte-identical to that reference;
// some of them also on the VM component (ComponentEngine), through the same Engine interface.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComponentEngine } from '../../host-intrinsics/api.js';
import { FIXTURES, nodeRun, tempDir, vmRun } from './harness.js';

// The invocations of tests/fixtures/README.md (test sizes).
const CASES: { name: string; args: string[]; env?: Record<string, string>; sandbox?: boolean; exit: number }[] = [
  { name: 'hello', args: [], exit: 0 },
  { name: 'float', args: ['1000'], exit: 0 },
  { name: 'intarray', args: ['1000'], exit: 0 },
  { name: 'recursion', args: ['1'], exit: 0 },
  { name: 'memory', args: ['64'], exit: 0 },
  { name: 'fileio', args: ['/sandbox', '50'], sandbox: true, exit: 0 },
  { name: 'args', args: ['3', 'hello', 'two words', ''], env: { HANDOVER_GREETING: 'hi', LANG: 'C' }, exit: 3 },
  // Not preopened: fileio says so on stderr and exits 2.
  { name: 'fileio', args: ['/sandbox', '50'], exit: 2 },
];

function check(c: (typeof CASES)[number], engine?: () => ComponentEngine) {
  return () => {
    const file = path.join(FIXTURES, `${c.name}.wasm`);
    const refDir = c.sandbox ? tempDir() : undefined;
    const vmDir = c.sandbox ? tempDir() : undefined;
    const reference = nodeRun(file, c.args, c.env, refDir ? { '/sandbox': refDir } : {});
    expect(reference.exitCode).toBe(c.exit);
    const run = vmRun(new Uint8Array(readFileSync(file)), {
      args: [c.name, ...c.args], env: c.env, preopens: vmDir ? { '/sandbox': vmDir } : {},
    }, engine?.());
    expect(run.stdout).toBe(reference.stdout);
    expect(run.stderr).toBe(reference.stderr);
    expect(run.exitCode).toBe(reference.exitCode);
    // fileio cleans up after itself, in both.
    if (vmDir) expect(readdirSync(vmDir)).toEqual([]);
  };
}

const title = (c: (typeof CASES)[number]) => `${c.name} ${c.args.join(' ')}${c.sandbox ? ' (preopened /sandbox)' : ''}`;

describe('C fixtures match node:wasi byte for byte', () => {
  for (const c of CASES) it(title(c), check(c));
});

describe('on the VM component', () => {
  for (const c of CASES.filter((c) => ['hello', 'args', 'fileio'].includes(c.name))) {
    it(title(c), check(c, () => ComponentEngine.create()));
  }
});
