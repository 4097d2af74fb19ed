// Hostile guests for the WASI forwarding of build/handover.wasm (guest-vm/command/preview1.ts):
// a seeded module makes CALLS preview1 calls with pointers at and past the end of memory, iovec
// lists that wrap or cross it, huge lengths, bad fds, unknown flags and paths that try to leave
// the sandbox, then prints their errnos. `forwardingCase` runs it under the TypeScript CLI and
// under the command on Wasmtime, each in a sandbox of its own, and returns both outcomes, which
// must be equal. Used by tests/hostile/wasi-forwarding.test.ts (fixed seeds) and `npm run fuzz`.

import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../host-intrinsics/vm.js';
import { PREVIEW1_FUNCTIONS } from '../../host-intrinsics/wasi/index.js';
import { handoverWasm, runtimeCommand } from '../../host-intrinsics/hosts/runtimes/runtimes.js';
import { Rng } from './rng.js';

const CALLS = 40;

// Calls that end the run, sleep or depend on the host's clock or randomness in their errno are left out.
const LEFT_OUT = new Set(['proc_exit', 'proc_raise', 'poll_oneoff', 'sched_yield']);
const NAMES = Object.keys(PREVIEW1_FUNCTIONS).filter((n) => !LEFT_OUT.has(n)).sort();

// The guest's memory (one page): paths, iovec lists and the bytes they name in [0x1000, 0x4000),
// errnos at RESULTS, the iovec that prints them at OUT. Valid pointers stay below 0x6000 with
// lengths up to 4096.
const RESULTS = 0x8000;
const OUT = 0x7000;
const END = 0x10000;
const PATHS = ['f.txt', 'dir', 'dir/g.txt', '../escape', '/abs', 'dir/../f.txt', '', 'new', 'dir/new', 'link', '.', '..'];
const PATH_AT = 0x1000;
const IOVS_AT = 0x2000;
// [ptr, len] pairs: inside, crossing the end of memory, wrapping around 2^32, empty.
const IOVECS: [number, number][] = [[0x3000, 16], [0x3100, 100], [END - 8, 32], [0x3000, 0xffffffff], [0xfffffff0, 0x20], [0x3200, 0], [END, 1]];

/**
 * Calls whose output differs from run to run (random bytes, times, inode numbers, the order of a
 * listing): [pointer argument, length argument or -1]. Their buffers lie in [0x6000, 0x7000) or
 * at and past the end of memory, so that what they write never reaches a path, an iovec or what
 * the guest prints.
 */
const VARYING_OUT: Record<string, [number, number]> = {
  random_get: [0, 1], clock_time_get: [2, -1], fd_filestat_get: [1, -1], path_filestat_get: [4, -1], fd_readdir: [1, 2],
};

/** Where each path function takes its path (ptr, len) arguments. */
const PATH_ARGS: Record<string, number[]> = {
  path_create_directory: [1], path_filestat_get: [2], path_filestat_set_times: [2], path_link: [2, 5], path_open: [2],
  path_readlink: [1], path_remove_directory: [1], path_rename: [1, 4], path_symlink: [0, 3], path_unlink_file: [1],
};

function layout(): { data: string[]; paths: [number, number][] } {
  const data: string[] = [];
  const paths: [number, number][] = [];
  let at = PATH_AT;
  for (const p of PATHS) {
    data.push(`(data (i32.const ${at}) "${p}")`);
    paths.push([at, p.length]);
    at += p.length + 1;
  }
  const iov = IOVECS.flatMap(([p, n]) => [p, n]).map((v) => Array.from({ length: 4 }, (_, k) => `\\${((v >>> (8 * k)) & 0xff).toString(16).padStart(2, '0')}`).join('')).join('');
  data.push(`(data (i32.const ${IOVS_AT}) "${iov}")`, `(data (i32.const 0x3000) "hello, sandbox\\0a")`);
  return { data, paths };
}

function i32Arg(rng: Rng): number {
  switch (rng.below(6)) {
    case 0: return rng.pick([0, 1, 2, 3, 4, 5, 99, 0xffffffff]);
    case 1: return rng.pick([0, 1, 2, 4, 8, 15, 0x10, 0xff, 0xffff, 0xffffffff]);
    case 2: return 0x1000 + rng.below(0x5000);
    case 3: return END - rng.below(9);
    case 4: return rng.pick([END, END + 1, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff]);
    default: return rng.pick([0, 1, 7, 64, 4096, 0x10000, 0x7fffffff, 0xffffffff]);
  }
}

function i64Arg(rng: Rng): string {
  return rng.pick(['0', '1', '-1', '100', '0x7fffffffffffffff', '0x8000000000000000', '0x1ff', String(rng.u32())]);
}

/** A guest making CALLS hostile calls, then printing their errnos; and the calls, as WAT. */
export function guest(seed: number): { wat: string; calls: string[] } {
  const rng = new Rng(seed);
  const { data, paths } = layout();
  const imports = NAMES.map((n) => {
    const f = PREVIEW1_FUNCTIONS[n]!;
    return `(import "wasi_snapshot_preview1" "${n}" (func $${n} (param ${f.params.join(' ')}) (result i32)))`;
  });
  const body: string[] = [];
  const calls: string[] = [];
  for (let i = 0; i < CALLS; i++) {
    const name = rng.pick(NAMES);
    const f = PREVIEW1_FUNCTIONS[name]!;
    const args: string[] = f.params.map((t) => (t === 'i64' ? `(i64.const ${i64Arg(rng)})` : `(i32.const ${i32Arg(rng)})`));
    // Mostly a real descriptor first, and iovec lists or a sandbox path where they go, so calls get past their first check.
    if ((name.startsWith('fd_') || name.startsWith('path_')) && rng.chance(0.8) && f.params[0] === 'i32') args[0] = `(i32.const ${rng.pick([1, 2, 3, 3, 3, 4, 5])})`;
    if (/^fd_(p?write|p?read)$/.test(name) && rng.chance(0.8)) {
      const first = rng.below(IOVECS.length);
      args[1] = `(i32.const ${IOVS_AT + 8 * first})`;
      args[2] = `(i32.const ${rng.range(1, IOVECS.length - first)})`;
    }
    for (const k of PATH_ARGS[name] ?? []) {
      if (!rng.chance(0.8)) continue;
      const [p, n] = rng.pick(paths);
      args[k] = `(i32.const ${p})`;
      args[k + 1] = `(i32.const ${rng.chance(0.9) ? n : i32Arg(rng)})`;
      // path_open's fd and the other fd of two-path calls: the preopen.
      if (name === 'path_open' || k > 0) args[k === 0 ? 2 : k - 1] = '(i32.const 3)';
    }
    // Standard output stays open and writable: the guest prints its errnos there at the end.
    if (name === 'fd_close' || name === 'fd_renumber' || name === 'fd_fdstat_set_rights') args.forEach((a, k) => { if (a === '(i32.const 1)') args[k] = '(i32.const 2)'; });
    const varying = VARYING_OUT[name];
    if (varying) {
      const [p, n] = varying;
      const inside = rng.chance(0.8);
      args[p] = `(i32.const ${inside ? 0x6000 + rng.below(0x800) : rng.pick([END - rng.below(9), END, 0x7fffffff, 0xffffffff])})`;
      if (n >= 0) args[n] = `(i32.const ${inside ? rng.below(0x801) : i32Arg(rng)})`;
    }
    calls.push(`${name} ${args.join(' ')}`);
    body.push(`(i32.store (i32.const ${RESULTS + 4 * i}) (call $${name} ${args.join(' ')}))`);
  }
  const wat = `(module
  ${imports.join('\n  ')}
  (memory (export "memory") 1)
  ${data.join('\n  ')}
  (func (export "_start")
    ${body.join('\n    ')}
    (i32.store (i32.const ${OUT}) (i32.const ${RESULTS}))
    (i32.store (i32.const ${OUT + 4}) (i32.const ${4 * CALLS}))
    (drop (call $fd_write (i32.const 1) (i32.const ${OUT}) (i32.const 1) (i32.const ${OUT + 8})))))`;
  return { wat, calls };
}

export async function assemble(wat: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const m = wabt.parseWat('guest.wat', wat, {});
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/** A sandbox with a file, a directory with a file, and a link out of it. */
export function sandbox(work: string, name: string): string {
  const d = path.join(work, name, 'sandbox');
  mkdirSync(path.join(d, 'dir'), { recursive: true });
  writeFileSync(path.join(d, 'f.txt'), 'the file\n');
  writeFileSync(path.join(d, 'dir', 'g.txt'), 'another\n');
  mkdirSync(path.join(d, '../outside'));
  writeFileSync(path.join(d, '../outside/secret.txt'), 'outside\n');
  symlinkSync('../outside', path.join(d, 'link'));
  return d;
}

/** What a run left in a directory: every path with its kind and, for files, its bytes; links by their text. */
export function tree(dir: string, at = ''): string[] {
  return readdirSync(path.join(dir, at)).sort().flatMap((n) => {
    const rel = path.join(at, n);
    const st = lstatSync(path.join(dir, rel));
    if (st.isSymbolicLink()) return [`${rel} -> ${readlinkSync(path.join(dir, rel))}`];
    if (st.isDirectory()) return [`${rel}/`, ...tree(dir, rel)];
    return [`${rel}: ${readFileSync(path.join(dir, rel)).toString('hex')}`];
  });
}

export interface Outcome { status: number | null; errnos: string[]; stdout: string; stderr: string; files: string[]; outside: string[] }

/** What the link out of a sandbox points to holds before any run. */
export const OUTSIDE = ['secret.txt: 6f7574736964650a'];

/** Seed `seed`'s guest under the TypeScript CLI (want) and handover.wasm on Wasmtime (got), sandboxes under `work`. */
export async function forwardingCase(seed: number, work: string): Promise<{ calls: string[]; want: Outcome; got: Outcome }> {
  const root = packageRoot();
  const file = path.join(work, `guest-${seed}.wasm`);
  const { wat, calls } = guest(seed);
  writeFileSync(file, await assemble(wat));
  const outcome = (r: ReturnType<typeof spawnSync>, dir: string): Outcome => {
    if (r.error) throw r.error;
    // What the guest wrote to stdout itself, then its errnos.
    const out = r.stdout as Buffer;
    const printed = Math.max(0, out.length - 4 * calls.length);
    const errnos = calls.map((c, i) => (printed + 4 * i + 4 <= out.length ? `${c} → ${out.readUInt32LE(printed + 4 * i)}` : `${c} → (not printed)`));
    return { status: r.status, errnos, stdout: out.subarray(0, printed).toString('hex'), stderr: String(r.stderr), files: tree(dir), outside: tree(path.join(dir, '../outside')) };
  };
  const a = sandbox(work, `ts-${seed}`);
  const main = path.join(root, 'build/js/host-intrinsics/cli/main.js');
  const want = outcome(spawnSync(process.execPath, [main, 'run', '--dir', `${a}::/sandbox`, file], { cwd: root }), a);
  const b = sandbox(work, `cmd-${seed}`);
  const cmd = runtimeCommand('wasmtime', handoverWasm(), ['run', '--dir', `${b}::/sandbox`, file], [work]);
  const got = outcome(spawnSync(cmd.file, cmd.args, { cwd: root, env: { ...process.env, ...cmd.env } }), b);
  return { calls, want, got };
}
