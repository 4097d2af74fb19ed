// A long-lived VM: one store takes thousands of modules, instances and restores one after another.
// Dropped instances and modules give their memory and addresses back, so the VM's own memory stays
// flat after warm-up; a snapshot names functions by index, so it restores into any store, whatever
// addresses that store hands out. Drops that would leave something dangling are refused.

import { describe, expect, it } from 'vitest';
import { Vm, type Value } from '../../host-intrinsics/vm.js';
import { fn, wat } from '../helpers/wat.js';

// Function references everywhere a snapshot holds values: a table, a funcref global, a funcref
// local, and on the operand stack under a host call.
const guest = wat(`(module
  (import "host" "tick" (func $tick (param i32) (result i32)))
  (memory (export "mem") 1)
  (type $t (func (param i64) (result i64)))
  (table 4 funcref) (elem (i32.const 0) $sq $dbl)
  (global $gf (mut funcref) (ref.func $dbl))
  (data (i32.const 64) "long-lived")
  (func $sq (type $t) (i64.mul (local.get 0) (local.get 0)))
  (func $dbl (type $t) (i64.add (local.get 0) (local.get 0)))
  (func $use (param $g funcref) (param $x i32) (result i64)
    (table.set (i32.const 3) (local.get $g))
    (call_indirect (type $t) (i64.extend_i32_u (local.get $x)) (i32.const 3)))
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $s i64) (local $f funcref)
    (loop $l
      (local.set $f (table.get (i32.and (local.get $i) (i32.const 1))))
      (table.set (i32.const 2) (global.get $gf))
      (global.set $gf (local.get $f))
      (local.set $s (i64.add (local.get $s) (call $use (local.get $f) (call $tick (local.get $i)))))
      (local.set $s (i64.add (local.get $s)
        (call_indirect (type $t) (i64.load8_u (i32.add (i32.const 64) (i32.rem_u (local.get $i) (i32.const 10)))) (i32.const 2))))
      (i64.store (i32.const 8) (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $s) (i64.load (i32.const 8))))
  (elem declare func $dbl))`);

const N: Value = { type: 'i32', value: 30 };
const BIG = 1n << 40n;

function vmWithTick(extraHostFuncs = 0) {
  const vm = Vm.createSync();
  vm.setMetering(true);
  // Host functions made before the guest's shift every address the store hands out.
  for (let k = 0; k < extraHostFuncs; k++) vm.newHostFunc({ params: [], results: [] }, () => []);
  const tick = vm.newHostFunc({ params: ['i32'], results: ['i32'] }, ([x]) => [
    { type: 'i32', value: x!.type === 'i32' ? (x!.value * 7 + 3) | 0 : 0 },
  ]);
  if (!tick.ok) throw new Error(tick.message);
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  return { vm, tick: tick.addr, module: loaded.id };
}

function instantiate(vm: Vm, module: number, tick: number): number {
  const inst = vm.instantiate(module, [tick]);
  if (!inst.ok) throw new Error(inst.message);
  return inst.id;
}

const vmMemory = (vm: Vm) => (vm.rawExports.memory as WebAssembly.Memory).buffer.byteLength;

describe('a long-lived VM', () => {
  it('takes 10,000 load/instantiate/run/drop cycles with its memory flat after warm-up', () => {
    const { vm, tick, module } = vmWithTick();
    const reference = (() => {
      const id = instantiate(vm, module, tick);
      vm.fuel = BIG;
      const outcome = vm.invoke(fn(vm.exports(id), 'run'), [N]);
      expect(vm.dropInstance(id)).toEqual({ ok: true });
      return outcome;
    })();
    expect(reference.kind).toBe('completed');
    expect(vm.dropModule(module)).toEqual({ ok: true });
    let warm = 0;
    for (let cycle = 0; cycle < 10_000; cycle++) {
      const loaded = vm.loadModule(guest);
      if (!loaded.ok) throw new Error(loaded.message);
      const id = instantiate(vm, loaded.id, tick);
      vm.fuel = BIG;
      // Every 100th cycle runs the guest (compiling its code); the others only instantiate.
      if (cycle % 100 === 0) expect(vm.invoke(fn(vm.exports(id), 'run'), [N])).toEqual(reference);
      expect(vm.dropInstance(id)).toEqual({ ok: true });
      expect(vm.dropModule(loaded.id)).toEqual({ ok: true });
      if (cycle === 1_000) warm = vmMemory(vm);
    }
    expect(vmMemory(vm)).toBe(warm);
  });

  it('takes 1,000 restores of snapshots from another store, its memory flat after warm-up', () => {
    const source = vmWithTick();
    const target = vmWithTick(5);
    // The uninterrupted run: its result, and its instruction count to pick suspension points across.
    const { reference, total } = (() => {
      const id = instantiate(source.vm, source.module, source.tick);
      source.vm.fuel = BIG;
      const outcome = source.vm.invoke(fn(source.vm.exports(id), 'run'), [N]);
      const used = BIG - source.vm.fuel;
      expect(source.vm.dropInstance(id)).toEqual({ ok: true });
      return { reference: outcome, total: used };
    })();
    expect(reference.kind).toBe('completed');
    let warmSource = 0;
    let warmTarget = 0;
    for (let k = 0; k < 1_000; k++) {
      const point = 1n + ((BigInt(k) * 7919n) % (total - 1n));
      const id = instantiate(source.vm, source.module, source.tick);
      source.vm.fuel = point;
      expect(source.vm.invoke(fn(source.vm.exports(id), 'run'), [N])).toEqual({ kind: 'suspended', reason: 'fuel' });
      const snapshot = source.vm.snapshot(id);
      if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
      source.vm.abandon();
      expect(source.vm.dropInstance(id)).toEqual({ ok: true });

      const restored = target.vm.restore(snapshot, target.module, [target.tick], ['i64']);
      if (!restored.ok) throw new Error(`restore at ${point}: ${restored.message}`);
      target.vm.fuel = BIG;
      expect(target.vm.resume(), `suspended at instruction ${point}`).toEqual(reference);
      expect(target.vm.dropInstance(restored.id)).toEqual({ ok: true });
      if (k === 500) [warmSource, warmTarget] = [vmMemory(source.vm), vmMemory(target.vm)];
    }
    expect(vmMemory(source.vm)).toBe(warmSource);
    expect(vmMemory(target.vm)).toBe(warmTarget);
  });

  it('refuses drops that would leave something dangling, and changes nothing', () => {
    const { vm, tick, module } = vmWithTick();
    const id = instantiate(vm, module, tick);
    const run = fn(vm.exports(id), 'run');
    expect(vm.dropModule(module)).toMatchObject({ ok: false, message: `module ${module} has 1 live instance` });
    expect(vm.dropExtern('func', tick)).toMatchObject({ ok: false, message: expect.stringMatching(/imported by instance/) });
    expect(vm.dropExtern('func', run)).toMatchObject({ ok: false, message: expect.stringMatching(/belongs to an instance/) });

    // Another instance imports this one's memory: neither the memory nor the instance may go.
    const memAddr = vm.exports(id).get('mem')!.addr;
    const user = vm.loadModule(wat(`(module (import "a" "mem" (memory 1)) (func (export "peek") (result i32) (i32.load8_u (i32.const 64))))`));
    if (!user.ok) throw new Error(user.message);
    const userInst = vm.instantiate(user.id, [memAddr]);
    if (!userInst.ok) throw new Error(userInst.message);
    expect(vm.dropInstance(id)).toMatchObject({ ok: false, message: `instance ${id} is imported by instance ${userInst.id}` });

    // A table outside the instance holds one of its functions.
    const table = vm.newTable({ elem: 'funcref', min: 1, max: null });
    if (!table.ok) throw new Error(table.message);
    const setter = vm.loadModule(wat(`(module (import "a" "t" (table 1 funcref)) (import "a" "f" (func $f (param i32) (result i64)))
      (elem (i32.const 0) $f))`));
    if (!setter.ok) throw new Error(setter.message);
    const setterInst = vm.instantiate(setter.id, [table.addr, run]);
    if (!setterInst.ok) throw new Error(setterInst.message);
    expect(vm.dropInstance(setterInst.id)).toEqual({ ok: true });
    expect(vm.dropInstance(userInst.id)).toEqual({ ok: true });
    expect(vm.dropInstance(id)).toMatchObject({ ok: false, message: `instance ${id} is still referenced: table ${table.addr} holds one of its functions` });

    // A pending activation has frames in it.
    vm.fuel = 50n;
    expect(vm.invoke(run, [N])).toEqual({ kind: 'suspended', reason: 'fuel' });
    expect(vm.dropExtern('table', table.addr)).toEqual({ ok: true });
    expect(vm.dropInstance(id)).toMatchObject({ ok: false, message: `instance ${id} has frames in a pending activation` });
    vm.fuel = BIG;
    expect(vm.resume()).toMatchObject({ kind: 'completed' });

    // Still whole after every refusal; then it goes, and its id and addresses name nothing.
    vm.fuel = BIG;
    expect(vm.invoke(run, [N])).toMatchObject({ kind: 'completed' });
    expect(vm.dropInstance(id)).toEqual({ ok: true });
    expect(vm.dropInstance(id)).toMatchObject({ ok: false, message: `no instance ${id}` });
    expect(vm.invoke(run, [N])).toMatchObject({ kind: 'trap', message: expect.stringMatching(/unknown function address/) });
    expect(vm.dropModule(module)).toEqual({ ok: true });
    expect(vm.dropModule(module)).toMatchObject({ ok: false, message: `no module ${module}` });
    expect(vm.dropExtern('func', tick)).toEqual({ ok: true });
  });

  it('a function at an address a dropped instance gave back is invoked with its own type', () => {
    const vm = Vm.createSync();
    const load = (text: string) => {
      const m = vm.loadModule(wat(text));
      if (!m.ok) throw new Error(m.message);
      const inst = vm.instantiate(m.id, []);
      if (!inst.ok) throw new Error(inst.message);
      return { inst: inst.id, f: fn(vm.exports(inst.id), 'f') };
    };
    const first = load('(module (func (export "f") (result i32) (i32.const 7)))');
    expect(vm.invoke(first.f, [])).toEqual({ kind: 'completed', values: [{ type: 'i32', value: 7 }] });
    expect(vm.dropInstance(first.inst)).toEqual({ ok: true });
    const second = load('(module (func (export "f") (param i64) (result i64 i64) (local.get 0) (i64.const 2)))');
    expect(second.f).toBe(first.f);
    expect(vm.invoke(second.f, [{ type: 'i64', value: 5n }])).toEqual({ kind: 'completed', values: [{ type: 'i64', value: 5n }, { type: 'i64', value: 2n }] });
  });
});
