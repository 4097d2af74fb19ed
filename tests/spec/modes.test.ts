// The runner's modes that change how a script runs but not its verdicts: snapshots (each stop for
// fuel moves the instance to a fresh Vm, the final state comes back) and probes (events consumed).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Vm, type ProbeEvent } from '../../host-intrinsics/vm.js';
import { wat } from '../helpers/wat.js';
import { runScript, type Command, type RunnerOptions } from './runner.js';

const dir = mkdtempSync(path.join(tmpdir(), 'handover-spec-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A loop long enough to run out of small fuel many times, leaving state in a global and memory.
writeFileSync(path.join(dir, 'loop.wasm'), wat(`(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (memory (export "mem") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "run") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (global.set $g (i32.add (global.get $g) (local.get $i)))
      (i32.store (i32.mul (local.get $i) (i32.const 4)) (global.get $g))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $print (global.get $g))
    (global.get $g))
  (func (export "at") (param i32) (result i32) (i32.load (i32.mul (local.get 0) (i32.const 4)))))`));
writeFileSync(path.join(dir, 'user.wasm'), wat(`(module
  (import "loop" "run" (func $run (param i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (i32.add (call $run (local.get 0)) (call $run (local.get 0)))))`));

const i32 = (n: number) => ({ type: 'i32', value: String(n >>> 0) });
const sum = (n: number) => (n * (n - 1)) / 2;

function run(commands: Omit<Command, 'line'>[], extra: Partial<RunnerOptions>, metered = false) {
  const script = { name: 'modes', dir, commands: commands.map((c, i) => ({ line: i + 1, ...c })) };
  const newVm = () => {
    const vm = Vm.createSync();
    if (metered) vm.setMetering(true);
    return vm;
  };
  return runScript(script, { newVm, timeoutMs: 10_000, slice: 1_000_000, ...extra });
}

const invoke = (field: string, args: number[], expected: number[], module?: string): Omit<Command, 'line'> => ({
  type: 'assert_return',
  action: { type: 'invoke', field, args: args.map(i32), ...(module ? { module } : {}) },
  expected: expected.map(i32),
});

describe('--snapshot-every', () => {
  it('moves a call through fresh Vms and brings its final state back', () => {
    const r = run([
      { type: 'module', filename: 'loop.wasm' },
      invoke('run', [100], [sum(100)]),
      // The state of the first call is where the second one starts, in the replaced instance.
      invoke('run', [100], [2 * sum(100)]),
      { type: 'assert_return', action: { type: 'get', field: 'g' }, expected: [i32(2 * sum(100))] },
      invoke('at', [99], [2 * sum(100)]),
      invoke('at', [0], [sum(100)]),
    ], { snapshotEvery: 100 }, true);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(6);
    expect(r.migration).toMatchObject({ commands: 4, suspended: 2, homecomings: 2, unmoved: { imports: 0, imported: 0 } });
    expect(r.migration!.hops).toBeGreaterThan(2 * 5);
  });

  it('runs the invokes of instances linked to others without moving them, and says why', () => {
    const r = run([
      { type: 'module', filename: 'loop.wasm', name: '$loop' },
      { type: 'register', as: 'loop', name: '$loop' },
      { type: 'module', filename: 'user.wasm' },
      invoke('twice', [300], [sum(300) * 3]),
      invoke('run', [300], [sum(300) * 3], '$loop'),
    ], { snapshotEvery: 50 }, true);
    expect(r.failures).toEqual([]);
    expect(r.migration).toMatchObject({ commands: 0, hops: 0, unmoved: { imports: 1, imported: 1 } });
  });

});

describe('probes', () => {
  it('consumes every event and leaves the results alone', () => {
    const events: ProbeEvent['probe'][] = [];
    const script = { name: 'modes', dir, commands: [{ type: 'module', filename: 'loop.wasm' }, invoke('run', [10], [sum(10)])].map((c, i) => ({ line: i + 1, ...c })) };
    const newVm = () => {
      const vm = Vm.createSync();
      vm.setProbes({ entry: true, exit: true, branches: true, memory: true, calls: true });
      return vm;
    };
    const r = runScript(script, { newVm, timeoutMs: 10_000, slice: 1_000_000, invoke: { onProbe: (e) => void events.push(e.probe) } });
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(2);
    expect(events.filter((e) => e === 'entry')).toHaveLength(1);
    expect(events.filter((e) => e === 'exit')).toHaveLength(1);
    expect(events.filter((e) => e === 'branch')).toHaveLength(10);
    expect(events.filter((e) => e === 'memory')).toHaveLength(10);
    expect(events.filter((e) => e === 'call')).toHaveLength(1);
  });
});
