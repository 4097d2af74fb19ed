// Host intrinsics (host-intrinsics/intrinsics/README.md): each class gives the same results as
// the VM computing inline, a guest's out-of-bounds access to host-owned memory is the guest's
// trap and leaves the Vm usable, host-owned memory snapshots and restores into a Vm without the
// class, and the component binds the float class to the native helper.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vm, packageRoot, type IntrinsicClass, type Value } from '../../host-intrinsics/vm.js';
import { ComponentEngine } from '../../host-intrinsics/api.js';
import { runWasi } from '../../host-intrinsics/wasi/run.js';
import { innerVm } from '../../host-intrinsics/hosts/vm-on-vm.js';
import { fn, instantiate, wat } from '../helpers/wat.js';

const i32 = (value: number): Value => ({ type: 'i32', value });
const F64: Value = { type: 'f64', bits: 0x401d000000000000n }; // 7.25

// Float operations whose results are exact bit patterns, loads/stores of every width, bulk.
const KERNEL = `(module
  (memory (export "mem") 1 4)
  (data (i32.const 16) "\\01\\02\\03\\04\\05\\06\\07\\08\\f0\\ff")
  (func (export "floats") (param $x f64) (result i64)
    (local $acc f64) (local $i i32)
    (loop $l
      (local.set $acc (f64.add (local.get $acc)
        (f64.mul (f64.sqrt (f64.add (local.get $x) (f64.convert_i32_s (local.get $i))))
                 (f64.nearest (f64.div (local.get $x) (f64.const 3))))))
      (local.set $acc (f64.copysign (f64.max (local.get $acc) (f64.min (local.get $acc) (f64.const -0)))
                                    (f64.neg (f64.abs (local.get $acc)))))
      (local.set $acc (f64.neg (local.get $acc)))
      (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.sqrt (f32.demote_f64 (local.get $x))))))
      (local.set $acc (f64.add (local.get $acc) (f64.convert_i64_u (i64.trunc_sat_f64_u (f64.floor (local.get $acc))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50))))
    (i64.reinterpret_f64 (local.get $acc)))
  (func (export "memory") (result i64)
    (local $s i64)
    (i64.store offset=100 (i32.const 0) (i64.load (i32.const 16)))
    (i32.store16 (i32.const 200) (i32.load8_s (i32.const 25)))
    (i64.store32 (i32.const 204) (i64.load16_u (i32.const 24)))
    (memory.copy (i32.const 300) (i32.const 16) (i32.const 10))
    (memory.copy (i32.const 302) (i32.const 300) (i32.const 9))
    (memory.fill (i32.const 400) (i32.const 0xab) (i32.const 13))
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 65540) (i32.const 0x12345678))
    (local.set $s (i64.add (i64.load (i32.const 100)) (i64.load32_s (i32.const 200))))
    (local.set $s (i64.add (local.get $s) (i64.load (i32.const 204))))
    (local.set $s (i64.add (local.get $s) (i64.load (i32.const 302))))
    (local.set $s (i64.add (local.get $s) (i64.load offset=5 (i32.const 400))))
    (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (i32.load16_u (i32.const 65542)))))
    (i64.add (local.get $s) (i64.extend_i32_u (memory.size))))
  (func (export "load") (param i32) (result i32) (i32.load offset=2 (local.get 0))))`;

const CLASSES: IntrinsicClass[][] = [[], ['float'], ['memory'], ['memory', 'bulk'], ['bulk', 'float', 'memory']];

function results(classes: IntrinsicClass[]) {
  const vm = Vm.createSync({ intrinsicClasses: classes });
  const ex = instantiate(vm, KERNEL);
  return {
    floats: vm.invoke(fn(ex, 'floats'), [F64]),
    memory: vm.invoke(fn(ex, 'memory'), []),
    bytes: [...vm.guestMemory(ex.get('mem')!.addr).subarray(296, 420)],
  };
}

describe('intrinsic classes', () => {
  it('give the results the VM computes inline, class by class', () => {
    const plain = results([]);
    expect(plain.floats.kind).toBe('completed');
    expect(plain.memory).toMatchObject({ kind: 'completed' });
    for (const classes of CLASSES.slice(1)) expect(results(classes), classes.join('+')).toEqual(plain);
  });

  it('run the C fixtures with the same output', () => {
    const bytes = new Uint8Array(readFileSync(path.join(packageRoot(), 'tests/fixtures/memory.wasm')));
    const outputs = CLASSES.map((classes) => {
      let out = '';
      const r = runWasi(Vm.createSync({ intrinsicClasses: classes }), bytes, { args: ['memory', '64'], stdout: { write: (b: Uint8Array) => void (out += Buffer.from(b).toString()) } });
      return { r, out };
    });
    expect(outputs[0].r).toEqual({ exitCode: 0 });
    for (const o of outputs.slice(1)) expect(o).toEqual(outputs[0]);
  });

  it('are chosen before anything runs, and unknown ones are refused', () => {
    const vm = Vm.createSync({ intrinsicClasses: [] });
    instantiate(vm, KERNEL);
    expect(() => vm.setIntrinsicClasses(['float'])).toThrow(/before any memory/);
    expect(() => Vm.createSync({ intrinsicClasses: ['fast' as IntrinsicClass] })).toThrow(/unknown intrinsic class/);
    expect(Vm.createSync({ intrinsicClasses: ['memory', 'float'] }).intrinsicClasses).toEqual(['float', 'memory']);
  });
});

describe('host-owned memory', () => {
  it('turns an out-of-bounds access in the host into the guest trap, many times over', () => {
    const vm = Vm.createSync({ intrinsicClasses: ['memory'] });
    const ex = instantiate(vm, KERNEL);
    for (let i = 0; i < 5000; i++) {
      expect(vm.invoke(fn(ex, 'load'), [i32(65534 + (i % 3))])).toEqual({ kind: 'trap', code: 5, message: 'out of bounds memory access' });
    }
    // offset 2 past a 32-bit address that wraps: still out of bounds, never a wrapped access
    expect(vm.invoke(fn(ex, 'load'), [i32(-1)])).toMatchObject({ kind: 'trap', message: 'out of bounds memory access' });
    expect(vm.invoke(fn(ex, 'load'), [i32(14)])).toEqual({ kind: 'completed', values: [i32(0x04030201)] });
    expect(vm.usable).toBe(true);
  });

  it('is snapshotted and restored across Vms with and without the class', () => {
    const FILL = `(module (memory (export "mem") 2)
      (func (export "fill") (result i32) (local $i i32)
        (loop $l
          (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (i32.const 2654435761)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 30000))))
        (i32.load (i32.const 40000))))`;
    const reference = Vm.createSync();
    const refEx = instantiate(reference, FILL);
    const expected = reference.invoke(fn(refEx, 'fill'), []);
    const expectedBytes = reference.guestMemory(refEx.get('mem')!.addr).slice();
    for (const [from, to] of [[['memory'], []], [[], ['memory', 'bulk']], [['memory', 'bulk'], ['memory']]] as IntrinsicClass[][][]) {
      const a = Vm.createSync({ intrinsicClasses: from });
      a.setMetering(true);
      const loaded = a.loadModule(wat(FILL));
      if (!loaded.ok) throw new Error(loaded.message);
      const inst = a.instantiate(loaded.id, []);
      if (!inst.ok) throw new Error(inst.message);
      a.fuel = 77_777n;
      expect(a.invoke(fn(a.exports(inst.id), 'fill'), [])).toMatchObject({ kind: 'suspended' });
      const snap = a.snapshot(inst.id);
      if (!(snap instanceof Uint8Array)) throw new Error(snap.message);
      const b = Vm.createSync({ intrinsicClasses: to });
      b.setMetering(true);
      const l2 = b.loadModule(wat(FILL));
      if (!l2.ok) throw new Error(l2.message);
      const restored = b.restore(snap, l2.id, [], ['i32']);
      if (!restored.ok) throw new Error(restored.message);
      b.fuel = 1n << 40n; // the snapshot carried the fuel left: none
      expect(b.resume(), `${from} → ${to}`).toEqual(expected);
      expect(b.guestMemory(b.exports(restored.id).get('mem')!.addr)).toEqual(expectedBytes);
    }
  });
});

describe('the component', () => {
  it('binds the float class to the native helper, with the inline results, and refuses the memory class', () => {
    const plain = results([]);
    const engine = ComponentEngine.create();
    engine.setIntrinsicClasses(['float']);
    const loaded = engine.loadModule(wat(KERNEL));
    if (!loaded.ok) throw new Error(loaded.message);
    const inst = engine.instantiate(loaded.id, []);
    if (!inst.ok) throw new Error(inst.message);
    const f = engine.exports(inst.id).get('floats')!.addr;
    expect(engine.invoke(f, [F64])).toEqual(plain.floats);
    const other = ComponentEngine.create();
    expect(() => other.setIntrinsicClasses(['memory'])).toThrow(/memory class is not available/);
  });
});

describe('VM-on-VM', () => {
  // The inner VM driven through its raw ABI (guest-vm/ABI.md): load, instantiate, invoke export k.
  function innerRun(classes: IntrinsicClass[], name: 'floats' | 'memory' | 'load', arg: Value | null) {
    const vm = innerVm(classes);
    const { ex } = vm;
    const copyIn = (b: Uint8Array) => {
      const p = ex.alloc(b.length)! >>> 0;
      vm.mem().set(b, p);
      return p;
    };
    const bytes = wat(KERNEL);
    const mid = ex.module_new(copyIn(bytes), bytes.length)!;
    const inst = ex.instance_new(mid, 0)!;
    expect(inst).toBeGreaterThanOrEqual(0);
    const f = ex.instance_extern(inst, 0, ['floats', 'memory', 'load'].indexOf(name))!;
    const io = ex.io_buffer()! >>> 0;
    const view = () => new DataView(vm.mem().buffer, vm.mem().byteOffset);
    if (arg?.type === 'f64') view().setBigUint64(io, arg.bits, true);
    if (arg?.type === 'i32') view().setInt32(io, arg.value, true);
    let status = ex.invoke(f)!;
    while (status === 3) status = ex.resume()!;
    return { status, result: view().getBigUint64(io, true), trap: status === 1 ? ex.trap_code() : 0 };
  }

  it('serves the inner VM\'s intrinsics with the outer VM\'s builtins, with the inline results', () => {
    const plain = results([]);
    for (const classes of CLASSES) {
      const floats = innerRun(classes, 'floats', F64);
      expect(floats.status, classes.join('+')).toBe(0);
      expect({ kind: 'completed', values: [{ type: 'i64', value: BigInt.asIntN(64, floats.result) }] }).toEqual(plain.floats);
      const memory = innerRun(classes, 'memory', null);
      expect({ kind: 'completed', values: [{ type: 'i64', value: BigInt.asIntN(64, memory.result) }] }).toEqual(plain.memory);
    }
  });

  it('turns an out-of-bounds access in a memory builtin into the inner guest\'s trap', () => {
    for (const classes of [[], ['memory']] as IntrinsicClass[][]) {
      expect(innerRun(classes, 'load', i32(65535)), classes.join('+')).toMatchObject({ status: 1, trap: 5 });
      expect(innerRun(classes, 'load', i32(14))).toMatchObject({ status: 0, result: 0x04030201n });
    }
  });
});
