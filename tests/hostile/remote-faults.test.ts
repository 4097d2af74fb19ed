// A remote engine's own failure (a trap out of the VM, an answer the ABI forbids, a crash) is a VM
// bug or a broken engine: the CLI says "internal error" and exits 70. Only the remote's verdict on
// the snapshot the user handed in is the user's error (exit 1). The remote here is a stand-in
// js102: a Node script running the real remote session (remote/core.js) over the real VM, with one
// ABI export sabotaged.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError, RemoteFault, decodeLoaded, decodeReply } from '../../host-intrinsics/hosts/protocol.js';
import { FIXTURES, ROOT, requireBuild } from '../wasi/harness.js';

requireBuild('host-intrinsics/cli/main.js', ['host-intrinsics/cli', 'host-intrinsics/hosts']);
const MAIN = path.join(ROOT, 'build/js/host-intrinsics/cli/main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'handover-remote-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Called as `js102 spidermonkey.js <core.js> <vm.wasm> <intrinsics.wasm>`; SABOTAGE picks the fault.
const FAKE_JS102 = `#!${process.execPath}
'use strict';
const fs = require('node:fs');
const [core, vmWasm, helperWasm] = process.argv.slice(3);
const lib = new Function(fs.readFileSync(core, 'utf8') + '\\nreturn { handoverRemote, handoverNativeVm, handoverInstantiateVm, handoverBase64 };')();
const vmModule = new WebAssembly.Module(fs.readFileSync(vmWasm));
const helperModule = new WebAssembly.Module(fs.readFileSync(helperWasm));
const session = lib.handoverRemote('stand-in js102');
const makeVm = () => {
  const real = lib.handoverNativeVm(lib.handoverInstantiateVm(vmModule, helperModule));
  const ex = Object.assign({}, real.ex);
  if (process.env.SABOTAGE === 'trap') ex.resume = () => { throw new WebAssembly.RuntimeError('unreachable'); };
  if (process.env.SABOTAGE === 'status') ex.resume = () => 77;
  // The snapshot as the remote receives it, one bit off: the real VM's refusal.
  if (process.env.SABOTAGE === 'refuse') ex.snapshot_restore = (ptr, len, ...rest) => { real.mem()[ptr + 20] ^= 1; return real.ex.snapshot_restore(ptr, len, ...rest); };
  return { ex, mem: real.mem };
};
if (process.env.SABOTAGE === 'crash') process.exit(9);
let buffered = '';
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (line) process.stdout.write(lib.handoverBase64.encode(session.handle(lib.handoverBase64.decode(line), makeVm)) + '\\n');
  }
});
`;
const fake = path.join(dir, 'js102');
writeFileSync(fake, FAKE_JS102);
chmodSync(fake, 0o755);

function handover(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('replies', () => {
  const reply = (tag: string, text: string) => new Uint8Array([tag.charCodeAt(0), ...new TextEncoder().encode(text)]);

  it("'E' is a refusal of the input, 'X' and anything unexpected a fault of the remote", () => {
    expect(() => decodeReply(reply('E', 'snapshot_restore: bad frame'))).toThrow(RemoteError);
    expect(() => decodeReply(reply('X', 'unreachable'))).toThrow(RemoteFault);
    expect(() => decodeReply(reply('Q', ''))).toThrow(RemoteFault);
    // Loading only stores the module: no answer but 'K' is the user's doing.
    expect(() => decodeLoaded(reply('E', 'x'))).toThrow(RemoteFault);
    expect(() => decodeLoaded(reply('X', 'x'))).toThrow(RemoteFault);
    expect(decodeLoaded(reply('K', 'an engine'))).toBe('an engine');
  });
});

describe('the CLI', () => {
  const snap = path.join(dir, 'a.snap');
  let made: ReturnType<typeof handover>;
  beforeAll(() => {
    made = handover(['run', '--suspend-after', '100000', '--snapshot', snap, path.join(FIXTURES, 'float.wasm'), '1000']);
  });
  const resume = (sabotage: string) => handover(['resume', snap, '--host', 'spidermonkey'], { HANDOVER_JS102: fake, SABOTAGE: sabotage });

  it('the stand-in engine works when nothing is sabotaged', () => {
    expect(made.status).toBe(0);
    const whole = handover(['run', path.join(FIXTURES, 'float.wasm'), '1000']);
    expect(made.stdout + resume('none').stdout).toBe(whole.stdout);
  });

  it.each([
    ['trap', /^handover: internal error: spidermonkey: RuntimeError: unreachable\n$/],
    ['status', /^handover: internal error: spidermonkey: resume returned unknown status 77\n$/],
    ['crash', /^handover: internal error: spidermonkey: the engine process ended \(exit 9\)\n$/],
  ])('a remote that fails by itself (%s) is an internal error, exit 70, without a stack trace', (sabotage, message) => {
    expect(resume(sabotage)).toMatchObject({ stderr: expect.stringMatching(message), status: 70 });
  });

  it("the remote refusing the user's snapshot is the user's error, exit 1", () => {
    expect(resume('refuse')).toMatchObject({ stderr: expect.stringMatching(/^error: \S+a\.snap: spidermonkey: snapshot_restore: [^\n]*checksum[^\n]*\n$/), status: 1 });
  });
});
