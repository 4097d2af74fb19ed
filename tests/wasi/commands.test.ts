// Small WASI commands written in wat, run by runWasi and compared byte for byte with node:wasi:
// stdout and stderr, stdin, arguments and environment, clocks, proc_exit (also from deep inside
// the guest and from a start function), and how traps and modules that cannot run are reported.

import { describe, expect, it } from 'vitest';
import { Vm } from '../../host-intrinsics/vm.js';
import { CollectSink, WasiContext, bytesSource, instantiateWasi, runWasi } from '../../host-intrinsics/wasi/index.js';
import { fn, wat } from '../helpers/wat.js';
import { nodeRunBytes, vmRun } from './harness.js';

const WASI = 'wasi_snapshot_preview1';
const FD_WRITE = `(import "${WASI}" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))`;
const PROC_EXIT = `(import "${WASI}" "proc_exit" (func $proc_exit (param i32)))`;
// print(fd, ptr, len) through one iovec at 0.
const PRINT = `(func $print (param $fd i32) (param $ptr i32) (param $len i32)
  (i32.store (i32.const 0) (local.get $ptr)) (i32.store (i32.const 4) (local.get $len))
  (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))`;

const HELLO = wat(`(module ${FD_WRITE} ${PROC_EXIT} (memory (export "memory") 1)
  (data (i32.const 100) "hello from wat\\n") (data (i32.const 200) "a line on stderr\\n")
  ${PRINT}
  (func (export "_start") (call $print (i32.const 1) (i32.const 100) (i32.const 15))
    (call $print (i32.const 2) (i32.const 200) (i32.const 17)) (call $proc_exit (i32.const 7))))`);

// Copies stdin to stdout in 5-byte reads until end of input.
const ECHO = wat(`(module ${FD_WRITE}
  (import "${WASI}" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1) ${PRINT}
  (func (export "_start") (local $n i32)
    (loop $more
      (i32.store (i32.const 16) (i32.const 100)) (i32.store (i32.const 20) (i32.const 5))
      (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
      (local.set $n (i32.load (i32.const 24)))
      (if (local.get $n) (then (call $print (i32.const 1) (i32.const 100) (local.get $n)) (br $more))))))`);

// Writes the raw argument and environment buffers (NUL-separated) to stdout.
const ARGS_ENV = wat(`(module ${FD_WRITE}
  (import "${WASI}" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "${WASI}" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "${WASI}" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "${WASI}" "environ_get" (func $env_get (param i32 i32) (result i32)))
  (memory (export "memory") 1) ${PRINT}
  (func (export "_start")
    (drop (call $args_sizes (i32.const 32) (i32.const 36)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (call $print (i32.const 1) (i32.const 4096) (i32.load (i32.const 36)))
    (drop (call $env_sizes (i32.const 32) (i32.const 36)))
    (drop (call $env_get (i32.const 1024) (i32.const 8192)))
    (call $print (i32.const 1) (i32.const 8192) (i32.load (i32.const 36)))))`);

// Sleeps 20 ms on the monotonic clock with poll_oneoff and prints the event (userdata, error, type)
// and whether the clock moved at least that far.
const SLEEP = wat(`(module ${FD_WRITE}
  (import "${WASI}" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "${WASI}" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1) ${PRINT}
  (data (i32.const 300) "slept\\n")
  (func (export "_start") (local $t0 i64)
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 40))) (local.set $t0 (i64.load (i32.const 40)))
    (i64.store (i32.const 1000) (i64.const 0x1234))
    (i32.store8 (i32.const 1008) (i32.const 0))
    (i32.store (i32.const 1016) (i32.const 1))
    (i64.store (i32.const 1024) (i64.const 20000000))
    (i64.store (i32.const 1032) (i64.const 0))
    (i32.store16 (i32.const 1040) (i32.const 0))
    (drop (call $poll (i32.const 1000) (i32.const 2000) (i32.const 1) (i32.const 48)))
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 40)))
    (call $print (i32.const 1) (i32.const 48) (i32.const 4))
    (call $print (i32.const 1) (i32.const 2000) (i32.const 11))
    (if (i64.ge_u (i64.sub (i64.load (i32.const 40)) (local.get $t0)) (i64.const 20000000))
      (then (call $print (i32.const 1) (i32.const 300) (i32.const 6))))))`);

describe('wat commands match node:wasi', () => {
  it('writes stdout and stderr and exits through proc_exit', () => {
    const vm = vmRun(HELLO, { args: ['hello'] });
    expect({ ...vm, result: undefined }).toEqual({ ...nodeRunBytes(HELLO, 'hello', []), result: undefined });
    expect(vm.result).toEqual({ exitCode: 7 });
  });

  it('reads stdin to its end', () => {
    const input = 'three\nlines of\ninput, not a multiple of five';
    const vm = vmRun(ECHO, { args: ['echo'], stdin: bytesSource(input) });
    const node = nodeRunBytes(ECHO, 'echo', [], {}, input);
    expect(vm.stdout).toBe(input);
    expect([vm.stdout, vm.stderr, vm.exitCode]).toEqual([node.stdout, node.stderr, node.exitCode]);
  });

  it('sees its arguments and environment', () => {
    const args = ['', 'two words', 'ünïcödé', '--flag=1'];
    const vm = vmRun(ARGS_ENV, { args: ['args-env', ...args], env: { A: '1', EMPTY: '', UTF: 'ä' } });
    const node = nodeRunBytes(ARGS_ENV, 'args-env', args, { A: '1', EMPTY: '', UTF: 'ä' });
    expect(vm.stdout).toBe('args-env\0\0two words\0ünïcödé\0--flag=1\0A=1\0EMPTY=\0UTF=ä\0');
    expect([vm.stdout, vm.exitCode]).toEqual([node.stdout, node.exitCode]);
  });

  it('sleeps on a clock subscription', () => {
    const vm = vmRun(SLEEP, { args: ['sleep'] });
    const node = nodeRunBytes(SLEEP, 'sleep', []);
    // nevents = 1, then userdata 0x1234, error 0, type clock; "slept" if the clock moved 20 ms
    // (node:wasi's libuv timer may wake a little early, so only the VM is held to that).
    const event = '\x01\0\0\0\x34\x12\0\0\0\0\0\0\0\0\0';
    expect(vm.stdout).toBe(`${event}slept\n`);
    expect(node.stdout.slice(0, event.length)).toBe(event);
  });
});

describe('how a run ends', () => {
  it('reports a trap with its message, after the output before it', () => {
    const bytes = wat(`(module ${FD_WRITE} (memory (export "memory") 1) (data (i32.const 100) "before\\n") ${PRINT}
      (func (export "_start") (call $print (i32.const 1) (i32.const 100) (i32.const 7)) (unreachable)))`);
    const run = vmRun(bytes);
    expect(run.result).toEqual({ trap: { message: 'unreachable' } });
    expect(run.stdout).toBe('before\n');
  });

  it('exits from deep inside the guest, and the VM stays usable', () => {
    const text = `(module ${PROC_EXIT} (memory (export "memory") 1)
      (func $down (param i32) (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)))) (else (call $proc_exit (i32.const 42)))))
      (func (export "_start") (call $down (i32.const 500)))
      (func (export "seven") (result i32) (i32.const 7)))`;
    const vm = Vm.createSync();
    const ctx = WasiContext.create();
    const inst = instantiateWasi(vm, wat(text), ctx);
    if (!inst.ok) throw new Error('instantiate failed');
    expect(runWasi(vm, wat(text))).toEqual({ exitCode: 42 });
    expect(vm.usable).toBe(true);
    expect(vm.invoke(fn(inst.exports, 'seven'), [])).toEqual({ kind: 'completed', values: [{ type: 'i32', value: 7 }] });
    expect(runWasi(vm, wat(text))).toEqual({ exitCode: 42 });
  });

  it('exits from a start function', () => {
    const bytes = wat(`(module ${PROC_EXIT} (memory (export "memory") 1)
      (func $init (call $proc_exit (i32.const 3))) (start $init) (func (export "_start") (unreachable)))`);
    expect(runWasi(Vm.createSync(), bytes)).toEqual({ exitCode: 3 });
  });

  it('returns 0 when _start returns, and keeps unsigned exit codes', () => {
    expect(runWasi(Vm.createSync(), wat('(module (func (export "_start")))'))).toEqual({ exitCode: 0 });
    const big = wat(`(module ${PROC_EXIT} (func (export "_start") (call $proc_exit (i32.const -1))))`);
    expect(runWasi(Vm.createSync(), big)).toEqual({ exitCode: 0xffffffff });
  });

  it('reports modules that cannot run as errors with their kind and byte offset', () => {
    const vm = Vm.createSync();
    expect(runWasi(vm, Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]))).toMatchObject({ error: { kind: 'malformed' } });
    const invalid = runWasi(vm, wat('(module (func (export "_start") (i32.const 1)))'));
    expect(invalid).toMatchObject({ error: { kind: 'invalid', message: 'type mismatch' } });
    expect((invalid as { error: { offset: number } }).error.offset).toBeGreaterThan(8);
    expect(runWasi(vm, wat('(module (import "env" "f" (func)) (func (export "_start")))')))
      .toEqual({ error: { kind: 'unlinkable', message: 'unknown import: env.f', offset: 0 } });
    expect(runWasi(vm, wat(`(module (import "${WASI}" "fd_write" (func (param i32))) (func (export "_start")))`)))
      .toMatchObject({ error: { kind: 'unlinkable', message: `incompatible import type: ${WASI}.fd_write` } });
    expect(runWasi(vm, wat('(module (func (export "main")))'))).toMatchObject({ error: { kind: 'unlinkable' } });
  });

  it('writes to the sinks it is given, and nowhere when given none', () => {
    const out = new CollectSink();
    expect(runWasi(Vm.createSync(), HELLO, { stdout: out })).toEqual({ exitCode: 7 });
    expect(out.text()).toBe('hello from wat\n');
    expect(runWasi(Vm.createSync(), HELLO)).toEqual({ exitCode: 7 });
  });
});
