// build/handover.wasm, the VM as a plain WASI command, on real runtimes of other families
// (scripts/install-runtimes.sh): it runs the C fixtures with the output of the TypeScript CLI,
// and a guest handed over at seeded random suspension points — TypeScript CLI on Node →
// Wasmtime → WAMR → Wasm3 → node:wasi → TypeScript CLI — gives byte for byte the output and exit
// code of one uninterrupted run, with a file open across the legs. A runtime that is not
// installed fails its tests with the install line.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Vm } from '../../host-intrinsics/vm.js';
import { decodeHostState } from '../../host-intrinsics/hosts/snapshot-file.js';
import { RUNTIMES, handoverWasm, runtimeCommand, type RuntimeName } from '../../host-intrinsics/hosts/runtimes/runtimes.js';
import { FIXTURES, ROOT, requireBuild } from '../wasi/harness.js';
import { wat } from '../helpers/wat.js';

vi.setConfig({ testTimeout: 120_000 });
requireBuild('host-intrinsics/cli/main.js', ['host-intrinsics/cli', 'host-intrinsics/hosts', 'host-intrinsics/wasi']);
const MAIN = path.join(ROOT, 'build/js/host-intrinsics/cli/main.js');
const work = mkdtempSync(path.join(tmpdir(), 'handover-runtimes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result {
  stdout: string;
  stderr: string;
  status: number | null;
}

function check(r: ReturnType<typeof spawnSync>, what: string): Result {
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr), status: r.status };
}

/** The TypeScript CLI on this Node. */
function handover(args: string[]): Result {
  return check(spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: ROOT }), 'handover');
}

/** handover.wasm on `runtime`, which preopens the fixtures and the work folder. */
function onRuntime(runtime: RuntimeName, args: string[]): Result {
  const cmd = runtimeCommand(runtime, handoverWasm(), args, [FIXTURES, work]);
  return check(spawnSync(cmd.file, cmd.args, { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...cmd.env } }), runtime);
}

const fixture = (name: string) => path.join(FIXTURES, `${name}.wasm`);
const NOTE = /^handover: suspended on (\S+) after (\d+) instructions; snapshot (\S+) \((\d+) bytes\)\n$/;

function freshDir(): string {
  return mkdtempSync(path.join(work, 'sandbox-'));
}

// A small deterministic generator: the points are random, and the same on every run.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(RUNTIMES.filter((r) => r !== 'jco'))('handover.wasm on %s', (runtime) => {
  it.each([
    ['hello', []],
    ['args', ['3', 'hello', 'two words', '']],
    ['float', ['1000']],
    ['recursion', ['1']],
    // Grows the guest's memory, and so the VM's, past what it started with.
    ['memory', ['256']],
  ])('runs %s as the TypeScript CLI does', (name, args) => {
    const want = handover(['run', fixture(name as string), ...(args as string[])]);
    const got = onRuntime(runtime, ['run', fixture(name as string), ...(args as string[])]);
    expect(got).toEqual(want);
  });

  it('runs fileio in a preopened directory as the TypeScript CLI does', () => {
    const a = freshDir();
    const b = freshDir();
    const want = handover(['run', '--dir', `${a}::/sandbox`, fixture('fileio'), '/sandbox', '50']);
    const got = onRuntime(runtime, ['run', '--dir', `${b}::/sandbox`, fixture('fileio'), '/sandbox', '50']);
    expect(got).toEqual(want);
    expect(want.stdout).toContain('fileio in /sandbox/fio, 50 records');
  });
});

// Lists its preopen (fd 3) four times: whole from cookie 0, from cookie 1 into 30 bytes (cut off
// mid-entry), from cookie 2, past the end; printing each errno, bufused and the bytes.
const LISTER = wat(`(module
  (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $print (param $at i32) (param $n i32)
    (i32.store (i32.const 0) (local.get $at))
    (i32.store (i32.const 4) (local.get $n))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $list (param $cookie i64) (param $size i32)
    (i32.store (i32.const 0x100) (call $readdir (i32.const 3) (i32.const 0x1000) (local.get $size) (local.get $cookie) (i32.const 0x104)))
    (call $print (i32.const 0x100) (i32.const 8))
    (call $print (i32.const 0x1000) (i32.load (i32.const 0x104))))
  (func (export "_start")
    (call $list (i64.const 0) (i32.const 4096))
    (call $list (i64.const 1) (i32.const 30))
    (call $list (i64.const 2) (i32.const 4096))
    (call $list (i64.const 99) (i32.const 4096))))`);

describe.each(RUNTIMES.filter((r) => r !== 'jco'))('directory listings on %s', (runtime) => {
  it('read as under the TypeScript CLI: cookies that count entries, no d_ino, no . or ..', () => {
    const lister = path.join(work, 'lister.wasm');
    writeFileSync(lister, LISTER);
    const tree = () => {
      const d = freshDir();
      for (const f of ['alpha.txt', 'beta', 'gamma.bin']) writeFileSync(path.join(d, f), f);
      mkdirSync(path.join(d, 'sub'));
      return d;
    };
    const want = handover(['run', '--dir', `${tree()}::/sandbox`, lister]);
    const got = onRuntime(runtime, ['run', '--dir', `${tree()}::/sandbox`, lister]);
    expect(Buffer.from(got.stdout, 'latin1').toString('hex')).toBe(Buffer.from(want.stdout, 'latin1').toString('hex'));
    expect(got.status).toBe(want.status);
    for (const name of ['alpha.txt', 'beta', 'gamma.bin', 'sub']) expect(want.stdout).toContain(name);
  });
});

describe('handover across runtime families', () => {
  // Node (TypeScript CLI) → Wasmtime → WAMR → Wasm3 → node:wasi → Node (TypeScript CLI).
  const LEGS: RuntimeName[] = ['wasmtime', 'wamr', 'wasm3', 'node'];

  it.each([1, 2, 3])('fileio, seed %i: every leg suspended at a random point, the output is one run\'s', (seed) => {
    const next = rng(seed * 7919);
    const records = '400';
    const refDir = freshDir();
    const want = handover(['run', '--dir', `${refDir}::/sandbox`, fixture('fileio'), '/sandbox', records]);
    expect(want.status).toBe(0);
    const dir = freshDir();
    const snap = (i: number) => path.join(work, `seed${seed}-leg${i}.snap`);
    // The run takes about 1.8 M instructions; six legs of at most 300 000 leave the last for Node.
    const fuel = () => String(100_000 + Math.floor(next() * 200_000));
    let out = '';
    const first = handover(['run', '--suspend-after', fuel(), '--snapshot', snap(0), '--dir', `${dir}::/sandbox`, fixture('fileio'), '/sandbox', records]);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(NOTE);
    out += first.stdout;
    let openFiles = 0;
    let hosts: string[] = [];
    LEGS.forEach((runtime, i) => {
      const state = decodeHostState((Vm.createSync().snapshotInfo(new Uint8Array(readFileSync(snap(i)))) as { hostState: Uint8Array }).hostState)!;
      openFiles += Object.values(state.wasi.fds).filter((e) => e.kind === 'file').length;
      const r = onRuntime(runtime, ['resume', snap(i), '--dir', `${dir}::/sandbox`, '--suspend-after', fuel(), '--snapshot', snap(i + 1), '--host', runtime]);
      expect(r.stderr, `${runtime}: ${r.stderr}`).toMatch(NOTE);
      expect(r.status).toBe(0);
      out += r.stdout;
    });
    const info = Vm.createSync().snapshotInfo(new Uint8Array(readFileSync(snap(LEGS.length))));
    hosts = decodeHostState((info as { hostState: Uint8Array }).hostState)!.hosts;
    expect(hosts).toEqual(['node', ...LEGS]);
    const last = handover(['resume', snap(LEGS.length), '--dir', `${dir}::/sandbox`]);
    out += last.stdout;
    expect(last.stderr).toBe(want.stderr);
    expect(last.status).toBe(want.status);
    expect(out).toBe(want.stdout);
    // The guest writes its records through one open file: the legs carried it.
    expect(openFiles).toBeGreaterThan(0);
  });

  it('the command component runs under jco run, and resumes a snapshot the TypeScript CLI wrote', () => {
    const dir = freshDir();
    // wasi:cli's exit says only success or failure: a guest's non-zero code arrives as 1.
    const want = handover(['run', fixture('args'), '0', 'hello']);
    expect(onRuntime('jco', ['run', fixture('args'), '0', 'hello'])).toEqual(want);
    expect(onRuntime('jco', ['run', fixture('args'), '3']).status).toBe(1);
    const s = path.join(work, 'jco.snap');
    const first = handover(['run', '--suspend-after', '20000', '--snapshot', s, '--dir', `${dir}::/sandbox`, fixture('fileio'), '/sandbox', '20']);
    const rest = onRuntime('jco', ['resume', s, '--dir', `${dir}::/sandbox`]);
    const ref = freshDir();
    const whole = handover(['run', '--dir', `${ref}::/sandbox`, fixture('fileio'), '/sandbox', '20']);
    expect(rest.status).toBe(0);
    expect(first.stdout + rest.stdout).toBe(whole.stdout);
  });
});

describe('suspension by a trigger file, and bad input', () => {
  it('--suspend-on suspends a running guest once the file exists; it resumes on Node', async () => {
    const trigger = path.join(work, 'stop-now');
    const s = path.join(work, 'trigger.snap');
    const cmd = runtimeCommand('wasmtime', handoverWasm(), ['run', '--suspend-on', trigger, '--snapshot', s, fixture('float'), '1000000'], [FIXTURES, work]);
    const child = spawn(cmd.file, cmd.args, { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(trigger, '');
    const status = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).toMatch(NOTE);
    expect(status).toBe(0);
    const rest = handover(['resume', s]);
    const whole = handover(['run', fixture('float'), '1000000']);
    expect(stdout + rest.stdout).toBe(whole.stdout);
    expect(rest.status).toBe(whole.status);
  });

  it('a forged snapshot, a missing file and a bad command line are one-line errors', () => {
    const s = path.join(work, 'forged.snap');
    expect(handover(['run', '--suspend-after', '5000', '--snapshot', s, fixture('float'), '1000']).status).toBe(0);
    const bytes = new Uint8Array(readFileSync(s));
    bytes[bytes.length - 40] ^= 0xff;
    writeFileSync(s, bytes);
    for (const args of [['resume', s], ['resume', path.join(work, 'nothing.snap')], ['run', '--suspend-after', 'x', fixture('hello')], ['frobnicate']]) {
      const r = onRuntime('wasmtime', args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^error: [^\n]+\n(run 'handover.wasm --help'[^\n]*\n)?$/);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(handoverWasm())).toBe(true);
  });
});
