// The `handover` command as a user runs it: a separate process (the compiled CLI in build/js), its
// stdout, stderr and exit status for every behaviour of `run`, `--invoke`, the options, and each
// kind of mistake — which must never show a JavaScript stack trace.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wat } from '../helpers/wat.js';
import { FIXTURES, ROOT, nodeRun, requireBuild, tempDir } from '../wasi/harness.js';

requireBuild('host-intrinsics/cli/main.js', ['host-intrinsics/cli', 'host-intrinsics/wasi']);
const MAIN = path.join(ROOT, 'build/js/host-intrinsics/cli/main.js');
const OUT_OF_FUEL = 'out of fuel: the guest used up its --fuel before it finished\n';

interface Result {
  stdout: string;
  stderr: string;
  status: number | null;
}

function handover(args: string[], input = ''): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', input, cwd: ROOT });
  expect(r.stderr).not.toMatch(/\n\s+at .*[:(]/); // no stack trace, ever
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// Modules live for the whole file (describe blocks make theirs before any test runs).
const modules = mkdtempSync(path.join(tmpdir(), 'handover-cli-'));
afterAll(() => rmSync(modules, { recursive: true, force: true }));
let count = 0;

/** Writes a wat module to a file and returns its path. */
function module(text: string): string {
  const file = path.join(modules, `m${count++}.wasm`);
  writeFileSync(file, wat(text));
  return file;
}

const fixture = (name: string) => path.join(FIXTURES, `${name}.wasm`);
const WASI = 'wasi_snapshot_preview1';
const FD_WRITE = `(import "${WASI}" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))`;
const PRINT_FUNC = `(func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr)) (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))`;
const PRINT = `${FD_WRITE} ${PRINT_FUNC}`;

describe('help and usage', () => {
  it('explains every command and option', () => {
    for (const args of [['--help'], ['help'], ['-h'], ['run', '--help']]) {
      const r = handover(args);
      expect(r.status).toBe(0);
      for (const word of ['handover run', '--invoke', '--dir', '--env', '--fuel', 'help', 'Exit status', '134']) expect(r.stdout).toContain(word);
    }
  });

  it('runs as `npx handover`, in place, even with an empty npm cache', () => {
    // With an empty cache npm would pack the checkout into its npx cache (running `prepare`, a full
    // rebuild of build/) if it took the command from the root package rather than node_modules/.bin.
    const cache = mkdtempSync(path.join(tmpdir(), 'handover-npm-cache-'));
    try {
      const env = { ...process.env, npm_config_cache: cache };
      const r = spawnSync('npx', ['--no-install', 'handover', 'run', fixture('hello')], { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });
      expect([r.stdout, r.status]).toEqual(['hello, world\n', 0]);
      expect(readdirSync(cache)).not.toContain('_npx');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('says which version it is', () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const args of [['--version'], ['-V'], ['version']]) expect(handover(args)).toEqual({ stdout: `handover ${version}\n`, stderr: '', status: 0 });
  });

  it('answers a bad command line with its error and one hint, exit 1', () => {
    const cases: [string[], string][] = [
      [[], 'no command given'],
      [['frobnicate'], 'unknown command frobnicate'],
      [['run'], 'run needs a module'],
      [['run', '--bogus', 'x.wasm'], 'unknown option --bogus'],
      [['run', fixture('hello'), '--verbose'], 'unknown option --verbose for run: only resume takes --verbose'],
      [['run', '--env', 'NOVALUE', fixture('hello')], '--env wants NAME=value'],
      [['run', '--fuel', 'lots', fixture('hello')], '--fuel wants a whole number'],
      [['run', '--dir'], '--dir needs a value'],
      [['run', '--dir', '::/x', fixture('hello')], '--dir wants <host>[::<guest>]'],
      [['run', '--host', 'chromium', fixture('hello')], "unknown option --host for run: only resume takes --host: run starts on this Node; 'handover resume <file> --host <host>' continues elsewhere"],
      [['resume', 'x.snap', '--fuel', '5'], "unknown option --fuel for resume: the guest's options were fixed by run and travel in the snapshot"],
    ];
    for (const [args, message] of cases) {
      const r = handover(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      const [line, hint, end] = r.stderr.split('\n');
      expect(line.startsWith(`error: ${message}`), line).toBe(true);
      expect([hint, end]).toEqual(["run 'handover --help' for the commands and their options", '']);
    }
  });

  it('warns once when a guest argument is spelled like one of its options', () => {
    const snap = path.join(tempDir(), 's.snap');
    const r = handover(['run', fixture('args'), '0', '--suspend-after', '5', '--snapshot', snap]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--suspend-after'); // the guest got it, as documented
    expect(r.stderr).toContain("warning: --suspend-after comes after the guest's first argument, so it goes to the guest as an argument; put handover's options before the module or right after it\n");
    expect(r.stderr.split('warning:')).toHaveLength(2); // once, though --snapshot is late too
    expect(readdirSync(path.dirname(snap))).toEqual([]);
    // After `--` the guest's arguments are explicit: no warning.
    expect(handover(['run', fixture('args'), '--', '0', '--fuel']).stderr).not.toContain('warning');
  });
});

describe('handover run <command>', () => {
  it('passes stdout through and exits with the guest\'s code', () => {
    expect(handover(['run', fixture('hello')])).toEqual({ stdout: 'hello, world\n', stderr: '', status: 0 });
  });

  it('gives the guest its arguments and --env, and matches node:wasi byte for byte', () => {
    const args = ['3', 'hello', 'two words', ''];
    const r = handover(['run', '--env', 'HANDOVER_GREETING=hi', '--env=LANG=C', fixture('args'), ...args]);
    const ref = nodeRun(fixture('args'), args, { HANDOVER_GREETING: 'hi', LANG: 'C' });
    expect(r).toEqual({ stdout: ref.stdout, stderr: ref.stderr, status: ref.exitCode });
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('args: exiting with code 3\n');
  });

  it('passes arguments after -- to the guest, options included', () => {
    const r = handover(['run', fixture('args'), '--', '0', '--dir', 'x']);
    expect(r.stdout).toContain('argv[2] (5 bytes) = "--dir"');
    expect(r.status).toBe(0);
  });

  it('preopens directories with --dir host::guest, like node:wasi', () => {
    const mine = tempDir();
    const theirs = tempDir();
    const r = handover(['run', '--dir', `${mine}::/sandbox`, fixture('fileio'), '/sandbox', '50']);
    const ref = nodeRun(fixture('fileio'), ['/sandbox', '50'], {}, { '/sandbox': theirs });
    expect(r).toEqual({ stdout: ref.stdout, stderr: ref.stderr, status: 0 });
    expect(r.stdout).toContain('open outside the preopen: error 76 (Capabilities insufficient)');
  });

  it('names a preopen after its host path when no guest name is given', () => {
    const dir = tempDir();
    const r = handover(['run', '--dir', dir, fixture('fileio'), dir, '8']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('done');
  });

  it('without the preopen, the guest says so and exits 2', () => {
    const r = handover(['run', fixture('fileio'), '/sandbox', '8']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('fileio: cannot create /sandbox/fio (the host must preopen /sandbox)\n');
  });

  it('passes stdin through', () => {
    const echo = module(`(module ${FD_WRITE}
      (import "${WASI}" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      ${PRINT_FUNC} (memory (export "memory") 1)
      (func (export "_start")
        (loop $more
          (i32.store (i32.const 16) (i32.const 100)) (i32.store (i32.const 20) (i32.const 64))
          (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
          (if (i32.load (i32.const 24)) (then (call $print (i32.const 100) (i32.load (i32.const 24))) (br $more))))))`);
    expect(handover(['run', echo], 'piped\ninput')).toEqual({ stdout: 'piped\ninput', stderr: '', status: 0 });
  });

  it('reports a trap on stderr and exits 134, after the output before it', () => {
    const trap = module(`(module ${PRINT} (memory (export "memory") 1) (data (i32.const 100) "before\\n")
      (func (export "_start") (call $print (i32.const 100) (i32.const 7)) (unreachable)))`);
    expect(handover(['run', trap])).toEqual({ stdout: 'before\n', stderr: 'trap: unreachable\n', status: 134 });
  });
});

describe('modules and files that cannot run', () => {
  it('reports a missing or unreadable file', () => {
    expect(handover(['run', 'no/such.wasm'])).toEqual({ stdout: '', stderr: 'error: cannot read no/such.wasm: no such file\n', status: 1 });
    expect(handover(['run', tempDir()]).stderr).toMatch(/^error: cannot read .*: is a directory\n$/);
    expect(handover(['run', '--dir', '/no/such/dir', fixture('hello')])).toMatchObject({ stderr: 'error: --dir /no/such/dir: no such directory\n', status: 1 });
    expect(handover(['run', '--dir', fixture('hello'), fixture('hello')])).toMatchObject({
      stderr: `error: --dir ${fixture('hello')}: not a directory (a preopen is a directory; give the one that holds the file)\n`, status: 1,
    });
  });

  it('reports a malformed or invalid module with the byte where it failed', () => {
    const junk = path.join(tempDir(), 'junk.wasm');
    writeFileSync(junk, 'not wasm at all');
    const r = handover(['run', junk]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${junk}: .+ \\(at byte 0\\)\n$`));
    const invalid = handover(['run', module('(module (func (export "_start") (i32.const 1)))')]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/^error: \/.*\.wasm: type mismatch \(at byte \d+\)\n$/);
  });

  it('reports imports it cannot provide, and a command without _start', () => {
    expect(handover(['run', module('(module (import "env" "f" (func)) (func (export "_start")))')]))
      .toMatchObject({ stdout: '', stderr: expect.stringMatching(/^error: \/.*\.wasm: unknown import: env\.f\n$/), status: 1 });
    expect(handover(['run', module('(module (func (export "main")))')]).stderr).toMatch(/^error: \/.*\.wasm: the module exports no function _start/);
  });
});

describe('handover run <module> --invoke', () => {
  // Parsing and printing of every kind of value is unit-tested in values.test.ts; here each
  // behaviour once, end to end.
  const calc = module(`(module
    (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "each") (param i32 i64 f32 f64 externref) (result i32 i64 f32 f64 funcref funcref externref)
      (local.get 0) (local.get 1) (local.get 2) (local.get 3) (ref.null func) (ref.func $add) (local.get 4))
    (func (export "none"))
    (func (export "boom") (result i32) (unreachable))
    (elem declare func $add))`);
  const invoke = (name: string, ...args: string[]) => handover(['run', calc, '--invoke', name, ...args]);

  it('parses arguments by the parameter types and prints each result on its own line', () => {
    expect(invoke('each', '-7', '0xffffffffffffffff', 'nan', '1.5', '9')).toEqual({
      stdout: 'i32:-7\ni64:-1\nf32:0x7fc00000\nf64:0x3ff8000000000000\nref.null\nref.func:0\nref.extern:9\n',
      stderr: '',
      status: 0,
    });
    expect(invoke('add', '4294967295', '-2')).toEqual({ stdout: 'i32:-3\n', stderr: '', status: 0 });
  });

  it('prints nothing for no results', () => {
    expect(invoke('none')).toEqual({ stdout: '', stderr: '', status: 0 });
  });

  it('refuses wrong arguments and unknown exports', () => {
    expect(invoke('add', '1')).toEqual({ stdout: '', stderr: 'error: add takes 2 arguments (i32 i32), got 1\n', status: 1 });
    expect(invoke('add', '1', '4294967296')).toMatchObject({ stderr: 'error: argument of add: out of range for i32: 4294967296\n', status: 1 });
    expect(invoke('nope')).toMatchObject({ stderr: 'error: the module exports no function "nope" (its functions: add, each, none, boom)\n', status: 1 });
  });

  it('reports a trap and exits 134', () => {
    expect(invoke('boom')).toEqual({ stdout: '', stderr: 'trap: unreachable\n', status: 134 });
  });

  it('serves WASI imports and runs _initialize first', () => {
    const reactor = module(`(module ${PRINT} (memory (export "memory") 1)
      (global $ready (mut i32) (i32.const 0)) (data (i32.const 100) "greetings\\n")
      (func (export "_initialize") (global.set $ready (i32.const 40)))
      (func (export "greet") (param i32) (result i32) (call $print (i32.const 100) (i32.const 10))
        (i32.add (global.get $ready) (local.get 0))))`);
    expect(handover(['run', reactor, '--invoke', 'greet', '2'])).toEqual({ stdout: 'greetings\ni32:42\n', stderr: '', status: 0 });
  });

  it('exits with the code of a proc_exit inside the export', () => {
    const exits = module(`(module (import "${WASI}" "proc_exit" (func $exit (param i32))) (memory (export "memory") 1)
      (func (export "quit") (result i32) (call $exit (i32.const 9)) (i32.const 0)))`);
    expect(handover(['run', exits, '--invoke', 'quit'])).toEqual({ stdout: '', stderr: '', status: 9 });
  });
});

describe('--fuel', () => {
  const add = module('(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))) (func (export "spin") (loop (br 0))))');

  it('counts one unit per executed instruction', () => {
    // local.get, local.get, i32.add, end
    expect(handover(['run', '--fuel', '4', add, '--invoke', 'add', '1', '2'])).toEqual({ stdout: 'i32:3\n', stderr: '', status: 0 });
    expect(handover(['run', '--fuel', '3', add, '--invoke', 'add', '1', '2'])).toEqual({ stdout: '', stderr: OUT_OF_FUEL, status: 2 });
  });

  it('stops a guest that would run forever', () => {
    expect(handover(['run', '--fuel=100000', add, '--invoke', 'spin'])).toMatchObject({ stderr: OUT_OF_FUEL, status: 2 });
  });

  it('lets a WASI command finish when it has enough, and stops it when not', () => {
    expect(handover(['run', '--fuel', '1000000', fixture('hello')])).toEqual({ stdout: 'hello, world\n', stderr: '', status: 0 });
    expect(handover(['run', '--fuel', '100', fixture('hello')])).toEqual({ stdout: '', stderr: OUT_OF_FUEL, status: 2 });
  });
});

describe('--monitor', () => {
  const loop = module(`(module (func (export "count") (param i32) (result i32) (local i32)
    (loop (local.set 1 (i32.add (local.get 1) (i32.const 1))) (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))`);

  it('writes exact counts as JSON, fused instructions under their own mnemonics', () => {
    const out = path.join(tempDir(), 'monitors.json');
    expect(handover(['run', '--monitor-out', out, loop, '--invoke', 'count', '10'])).toEqual({ stdout: 'i32:10\n', stderr: '', status: 0 });
    const json = JSON.parse(readFileSync(out, 'utf8'));
    // loop once; per iteration local.get, i32.const, i32.add, local.set, local.get, local.get,
    // i32.lt_u, br_if; then the loop's end, local.get, the function's end.
    expect(json.count).toBe(1 + 8 * 10 + 3);
    expect(json.opcodes).toEqual({ 'local.get': 31, 'i32.const': 10, 'i32.add': 10, 'local.set': 10, 'i32.lt_u': 10, 'br_if': 10, 'end': 2, 'loop': 1 });
    expect(json.calls).toEqual([{ name: 'func[0]', index: 0, calls: 1, selfInstructions: 84, totalInstructions: 84 }]);
    expect(json.indirect).toEqual([]);
  });

  it('prints the selected tables on stderr', () => {
    const r = handover(['run', '--monitor', 'count,opcodes', loop, '--invoke', 'count', '3']);
    expect(r.stdout).toBe('i32:3\n');
    expect(r.stderr).toMatch(/^instructions executed: 28\n\ntop instructions\nop +count +share\nlocal\.get +10 +35\.71%/);
    expect(handover(['run', '--monitor', 'nonsense', loop])).toMatchObject({ status: 1 });
  });

  const calls = module(`(module (memory 1) (table 2 funcref) (elem (i32.const 0) $a $b)
    (type $t (func (result i32)))
    (func $a (result i32) (i32.load8_u (i32.const 3)))
    (func $b (result i32) (i32.store16 (i32.const 8) (i32.const 7)) (i32.const 2))
    (func (export "go") (param i32) (result i32)
      (i32.add (call_indirect (type $t) (local.get 0)) (call_indirect (type $t) (i32.const 1)))))`);

  it('shows total instructions, indirect call targets, and streams the memory trace', () => {
    const dir = tempDir();
    const trace = path.join(dir, 'trace.bin');
    const out = path.join(dir, 'm.json');
    const r = handover(['run', '--monitor', 'calls,indirect', '--monitor-out', out, '--memory-trace', trace, calls, '--invoke', 'go', '0']);
    expect(r).toMatchObject({ stdout: 'i32:2\n', status: 0 });
    expect(r.stderr).toMatch(/^calls\nfunction +calls +self instructions +share +total instructions +share\nfunc\[2\] +1 +6 /);
    expect(r.stderr).toMatch(/indirect call targets\nfunction +at +target +calls\nfunc\[2\] +0x[0-9a-f]+ +func\[0\] +1\n/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    // go: local.get, call_indirect, i32.const, call_indirect, i32.add, end; $a 3, $b 5.
    expect(json.calls.map((c: { index: number; totalInstructions: number }) => [c.index, c.totalInstructions])).toEqual([[2, 14], [1, 5], [0, 3]]);
    expect(json.indirect.map((t: { target: string; count: number }) => [t.target, t.count])).toEqual([['func[0]', 1], ['func[1]', 1]]);
    const bytes = readFileSync(trace);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('HOVRMTRC');
    expect([...bytes.subarray(8, 16)]).toEqual([1, 0, 0, 0, 8, 0, 0, 0]);
    // The load of $a (1 byte at 3), the store of $b (2 bytes at 8).
    expect([...bytes.subarray(16)]).toEqual([3, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 2, 1, 0, 0]);
  });

  it('refuses a bad --memory-trace with a message, not a stack trace', () => {
    expect(handover(['run', '--memory-trace', '', calls])).toMatchObject({ status: 1, stderr: expect.stringMatching(/^error: --memory-trace needs a file name/) });
    expect(handover(['run', calls, '--memory-trace'])).toMatchObject({ status: 1, stderr: expect.stringMatching(/^error: --memory-trace needs a value/) });
    expect(handover(['run', '--memory-trace', '/nonexistent/dir/t.bin', calls, '--invoke', 'go', '0'])).toEqual({
      stdout: '', stderr: 'error: cannot write /nonexistent/dir/t.bin: ENOENT\n', status: 1,
    });
    expect(handover(['run', '--memory-trace', 't.bin', '--suspend-after', '5', '--snapshot', 's', calls])).toMatchObject({ status: 1 });
  });
});

describe('limits', () => {
  const deep = module(`(module (memory 1)
    (func $down (export "down") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
        (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);

  it('bounds call depth and memory from the command line', () => {
    expect(handover(['run', '--max-call-depth', '50', deep, '--invoke', 'down', '40'])).toEqual({ stdout: 'i32:0\n', stderr: '', status: 0 });
    expect(handover(['run', '--max-call-depth', '50', deep, '--invoke', 'down', '60'])).toEqual({ stdout: '', stderr: 'trap: call stack exhausted\n', status: 134 });
    expect(handover(['run', '--max-memory-pages', '4', deep, '--invoke', 'grow', '3'])).toMatchObject({ stdout: 'i32:1\n', status: 0 });
    expect(handover(['run', '--max-memory-pages', '4', deep, '--invoke', 'grow', '4'])).toMatchObject({ stdout: 'i32:-1\n', status: 0 });
    expect(handover(['run', '--max-memory-pages', '0', deep])).toMatchObject({ status: 1 });
  });
});
