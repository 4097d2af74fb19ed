// Checkpoint/restore within Node: suspend a guest anywhere (by fuel, or between slices), take a
// snapshot, restore it into a fresh VM and finish there: the result and the total instruction
// count must equal an uninterrupted run's. Corrupt, truncated, foreign and future snapshots are
// refused with a clear error and change nothing.

import { describe, expect, it } from 'vitest';
import { Vm, type Value } from '../../host-intrinsics/vm.js';
import { fn, wat } from '../helpers/wat.js';

// Recursion, a loop, memory, a mutable global, a table and call_indirect, so a snapshot has
// frames several deep, operands and locals, memory pages, a global and table entries.
const guest = wat(`(module
  (memory (export "mem") 1)
  (global $g (mut i64) (i64.const 0))
  (type $t (func (param i64) (result i64)))
  (table 2 funcref) (elem (i32.const 0) $sq $dbl)
  (func $sq (param i64) (result i64) (i64.mul (local.get 0) (local.get 0)))
  (func $dbl (param i64) (result i64) (i64.add (local.get 0) (local.get 0)))
  (func $rec (param $d i32) (param $acc i64) (result i64)
    (if (result i64) (i32.eqz (local.get $d)) (then (local.get $acc))
      (else
        (i64.store (i32.mul (i32.and (local.get $d) (i32.const 255)) (i32.const 8)) (local.get $acc))
        (global.set $g (i64.add (global.get $g)
          (call_indirect (type $t) (local.get $acc) (i32.and (local.get $d) (i32.const 1)))))
        (i64.add (i64.const 1)
          (call $rec (i32.sub (local.get $d) (i32.const 1)) (i64.xor (local.get $acc) (i64.extend_i32_u (local.get $d))))))))
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (call $rec (i32.const 50) (i64.extend_i32_u (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $s) (i64.add (global.get $g) (i64.load (i32.const 80))))))`);

const N: Value = { type: 'i32', value: 40 };
const BIG = 1n << 40n;

function start(metered: boolean) {
  const vm = Vm.createSync();
  if (metered) vm.setMetering(true);
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = vm.instantiate(loaded.id, []);
  if (!inst.ok) throw new Error(inst.message);
  return { vm, module: loaded.id, inst: inst.id, run: fn(vm.exports(inst.id), 'run') };
}

function uninterrupted() {
  const { vm, run } = start(true);
  vm.fuel = BIG;
  const outcome = vm.invoke(run, [N]);
  return { outcome, fuel: BIG - vm.fuel };
}

/** Restores `snapshot` into a fresh VM and finishes the run there. */
function finishElsewhere(snapshot: Uint8Array, metered: boolean) {
  const vm = Vm.createSync();
  if (metered) vm.setMetering(true);
  const info = vm.snapshotInfo(snapshot);
  if (!('frames' in info)) throw new Error(info.message);
  const loaded = vm.loadModule(info.module ?? guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const restored = vm.restore(snapshot, loaded.id, [], ['i64']);
  if (!restored.ok) throw new Error(restored.message);
  vm.fuel = BIG;
  const outcome = vm.resume();
  return { outcome, fuel: BIG - vm.fuel, info };
}

describe('snapshot round trip', () => {
  const reference = uninterrupted();

  it('finishes with the same result and instruction count, from any fuel point', () => {
    expect(reference.outcome.kind).toBe('completed');
    // A spread of points, plus the very start and the last instruction.
    const points = [1n, 2n, 17n, reference.fuel - 1n];
    let seed = 12345;
    for (let i = 0; i < 12; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      points.push(1n + (BigInt(seed) % (reference.fuel - 1n)));
    }
    for (const point of points) {
      const { vm, inst, run } = start(true);
      vm.fuel = point;
      expect(vm.invoke(run, [N])).toEqual({ kind: 'suspended', reason: 'fuel' });
      const used = point - vm.fuel;
      const snapshot = vm.snapshot(inst, new Uint8Array([1, 2, 3]), { embedModule: true });
      if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
      const rest = finishElsewhere(snapshot, true);
      expect(rest.outcome, `suspended after ${used} instructions`).toEqual(reference.outcome);
      expect(used + rest.fuel).toBe(reference.fuel);
      expect([...rest.info.hostState]).toEqual([1, 2, 3]);
    }
  });

  it('chains handovers: suspend again after a restore', () => {
    let { vm, inst, run } = start(true);
    vm.fuel = reference.fuel / 3n;
    expect(vm.invoke(run, [N])).toMatchObject({ kind: 'suspended' });
    let snapshot = vm.snapshot(inst, undefined, { embedModule: true }) as Uint8Array;
    for (let hop = 0; hop < 2; hop++) {
      const next = Vm.createSync();
      next.setMetering(true);
      const loaded = next.loadModule(guest);
      if (!loaded.ok) throw new Error(loaded.message);
      const restored = next.restore(snapshot, loaded.id, [], ['i64']);
      if (!restored.ok) throw new Error(restored.message);
      next.fuel = reference.fuel / 3n;
      expect(next.resume()).toMatchObject({ kind: 'suspended' });
      snapshot = next.snapshot(restored.id) as Uint8Array;
      [vm, inst] = [next, restored.id];
    }
    expect(finishElsewhere(snapshot, true).outcome).toEqual(reference.outcome);
    void run;
  });

  it('suspends between slices without metering, and restores there', () => {
    for (const stopAfter of [1, 5, 40]) {
      const { vm, inst, run } = start(false);
      vm.setSlice(50);
      let slices = 0;
      const outcome = vm.invoke(run, [N], { shouldSuspend: () => ++slices >= stopAfter });
      expect(outcome).toEqual({ kind: 'suspended', reason: 'request' });
      const snapshot = vm.snapshot(inst) as Uint8Array;
      expect(finishElsewhere(snapshot, false).outcome).toEqual(reference.outcome);
    }
  });

  it('stores only non-zero memory pages', () => {
    const { vm, inst, run } = start(true);
    vm.fuel = reference.fuel / 2n;
    vm.invoke(run, [N]);
    const snapshot = vm.snapshot(inst) as Uint8Array;
    const info = vm.snapshotInfo(snapshot);
    expect(info).toMatchObject({ formatVersion: 2, metered: true, memories: [{ pages: 1, storedPages: 1 }] });
    expect(snapshot.length).toBeLessThan(65536 + 8192);
  });
});

describe('refused snapshots', () => {
  const { vm, inst, run } = start(true);
  vm.fuel = 5000n;
  vm.invoke(run, [N]);
  const good = vm.snapshot(inst) as Uint8Array;

  const restoreInto = (bytes: Uint8Array, module = guest) => {
    const fresh = Vm.createSync();
    fresh.setMetering(true);
    const loaded = fresh.loadModule(module);
    if (!loaded.ok) throw new Error(loaded.message);
    return fresh.restore(bytes, loaded.id, [], ['i64']);
  };

  it('restores the intact one', () => {
    expect(restoreInto(good)).toMatchObject({ ok: true });
  });

  it('refuses a damaged, truncated or foreign snapshot with a clear error', () => {
    for (const at of [20, 100, good.length >> 1, good.length - 20]) {
      const bad = good.slice();
      bad[at] ^= 0x10;
      expect(restoreInto(bad)).toMatchObject({ ok: false, kind: 'snapshot', message: expect.stringMatching(/corrupt snapshot/) });
    }
    expect(restoreInto(good.slice(0, good.length - 1))).toMatchObject({ ok: false, kind: 'snapshot' });
    expect(restoreInto(good.slice(0, 10))).toMatchObject({ ok: false, kind: 'snapshot' });
    expect(restoreInto(new Uint8Array(0))).toMatchObject({ ok: false, kind: 'snapshot' });
    const other = wat('(module (memory 1) (func (export "run") (param i32) (result i64) (i64.const 0)))');
    expect(restoreInto(good, other)).toMatchObject({ ok: false, kind: 'snapshot', message: expect.stringMatching(/different module/) });
  });

  it('names the format version it cannot read', () => {
    const future = good.slice();
    new DataView(future.buffer).setUint32(8, 99, true);
    expect(restoreInto(future)).toMatchObject({ ok: false, message: expect.stringMatching(/format version 99/) });
  });
});

// A handover can happen while the guest waits for the host: the snapshot carries the pending
// call, the restoring side serves it and goes on (or hands over again right after it).
describe('snapshot at a host call', () => {
  const withHost = wat(`(module
    (import "host" "twice" (func $twice (param i64) (result i64)))
    (func (export "run") (param $n i32) (result i64) (local $s i64)
      (loop $l
        (local.set $s (i64.add (local.get $s) (call $twice (i64.extend_i32_u (local.get $n)))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $l (local.get $n)))
      (local.get $s)))`);
  const fresh = () => {
    const vm = Vm.createSync();
    const calls: bigint[] = [];
    const host = vm.newHostFunc({ params: ['i64'], results: ['i64'] }, ([x]) => {
      calls.push((x as { value: bigint }).value);
      return [{ type: 'i64', value: 2n * (x as { value: bigint }).value }];
    });
    if (!host.ok) throw new Error(host.message);
    const loaded = vm.loadModule(withHost);
    if (!loaded.ok) throw new Error(loaded.message);
    return { vm, calls, host: host.addr, module: loaded.id };
  };

  it('moves between VMs at every host call and finishes with the same result', () => {
    const first = fresh();
    const inst = first.vm.instantiate(first.module, [first.host]);
    if (!inst.ok) throw new Error(inst.message);
    let outcome = first.vm.invoke(fn(first.vm.exports(inst.id), 'run'), [{ type: 'i32', value: 5 }], { stopAtHostCalls: true });
    let current = first;
    let instance = inst.id;
    const served: bigint[] = [];
    while (outcome.kind === 'host-call') {
      // Hand over while the guest waits: the next VM serves the call and runs to the next one.
      const snapshot = current.vm.snapshot(instance) as Uint8Array;
      const next = fresh();
      const restored = next.vm.restore(snapshot, next.module, [next.host], ['i64']);
      if (!restored.ok) throw new Error(restored.message);
      const pending = next.vm.pendingHostCall!;
      expect(pending.func).toBe(next.host);
      const x = (pending.args[0] as { value: bigint }).value;
      served.push(x);
      next.vm.completeHostCall([{ type: 'i64', value: 2n * x }]);
      outcome = next.vm.resume({ stopAtHostCalls: true });
      [current, instance] = [next, restored.id];
    }
    expect(served).toEqual([5n, 4n, 3n, 2n, 1n]);
    expect(outcome).toEqual({ kind: 'completed', values: [{ type: 'i64', value: 30n }] });
  });
});
