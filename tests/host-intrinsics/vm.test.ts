// The VM through the Node host (host-intrinsics/vm.ts): loading, linking, invoking, host calls,
// slices, traps and limits, on small modules whose results are known by construction.

import { describe, expect, it } from 'vitest';
import { AbiError, Vm, type Value } from '../../host-intrinsics/vm.js';
import { fn, instantiate, wat } from '../helpers/wat.js';

const i32 = (value: number): Value => ({ type: 'i32', value });
const i64 = (value: bigint): Value => ({ type: 'i64', value });

describe('loading', () => {
  it('describes imports and exports of every kind, absent maxima and non-ASCII names', () => {
    const vm = Vm.createSync();
    const loaded = vm.loadModule(wat(`(module
      (import "spectest" "print_i32" (func (param i32)))
      (import "spectest" "table" (table 10 20 funcref))
      (import "M" "mem" (memory 1))
      (import "M" "g" (global (mut f32)))
      (func (export "\\ef\\bb\\bf") (result i64 i64) (i64.const 1) (i64.const 2))
      (global (export "\\c3\\a4") externref (ref.null extern)))`));
    expect(loaded).toMatchObject({
      ok: true,
      imports: [
        { module: 'spectest', name: 'print_i32', kind: 'func', type: { params: ['i32'], results: [] } },
        { module: 'spectest', name: 'table', kind: 'table', type: { elem: 'funcref', min: 10, max: 20 } },
        { module: 'M', name: 'mem', kind: 'memory', type: { min: 1, max: null } },
        { module: 'M', name: 'g', kind: 'global', type: { type: 'f32', mutable: true } },
      ],
      exports: [
        { name: '\ufeff', index: 1, kind: 'func', type: { params: [], results: ['i64', 'i64'] } },
        { name: 'ä', index: 1, kind: 'global', type: { type: 'externref', mutable: false } },
      ],
    });
  });

  it('reports malformed and invalid modules as values with a byte offset', () => {
    const vm = Vm.createSync();
    const good = wat('(module (func (export "f") (result i32) (i32.const 7)))');
    expect(vm.loadModule(good.subarray(0, good.length - 3))).toMatchObject({ ok: false, kind: 'malformed' });
    const invalid = vm.loadModule(wat('(module (func (export "f") (result i32) (i64.const 7)))'));
    expect(invalid).toMatchObject({ ok: false, kind: 'invalid', message: 'type mismatch' });
    expect((invalid as { offset: number }).offset).toBeGreaterThan(8);
    expect(vm.loadModule(Uint8Array.from([0, 0x61, 0x73]))).toMatchObject({ ok: false, kind: 'malformed' });
    // The store is still usable.
    const ex = instantiate(vm, '(module (func (export "f") (result i32) (i32.const 7)))');
    expect(vm.invoke(fn(ex, 'f'), [])).toEqual({ kind: 'completed', values: [i32(7)] });
  });
});

describe('running', () => {
  it('calls host functions and continues with their results', () => {
    const vm = Vm.createSync();
    const seen: number[] = [];
    const host = vm.newHostFunc({ params: ['i32'], results: ['i32'] }, ([x]) => {
      seen.push((x as { value: number }).value);
      return [i32((x as { value: number }).value * 10)];
    });
    if (!host.ok) throw new Error(host.message);
    const ex = instantiate(vm, `(module
      (import "h" "times10" (func $h (param i32) (result i32)))
      (func (export "f") (param i32) (result i32)
        (i32.add (call $h (local.get 0)) (call $h (i32.const 2)))))`, [host.addr]);
    expect(vm.invoke(fn(ex, 'f'), [i32(4)])).toEqual({ kind: 'completed', values: [i32(60)] });
    expect(seen).toEqual([4, 2]);
  });

  it('returns to the host in slices and finishes with the same result', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, `(module
      (func (export "sum") (param $n i64) (result i64) (local $acc i64)
        (block $done (loop $next
          (br_if $done (i64.eqz (local.get $n)))
          (local.set $acc (i64.add (local.get $acc) (local.get $n)))
          (local.set $n (i64.sub (local.get $n) (i64.const 1)))
          (br $next)))
        (local.get $acc)))`);
    vm.setSlice(7);
    expect(vm.invoke(fn(ex, 'sum'), [i64(100000n)])).toEqual({ kind: 'completed', values: [i64(5000050000n)] });
  });

  it('turns deep recursion into the trap "call stack exhausted" and stays usable', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, `(module
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1))))))))`);
    expect(vm.invoke(fn(ex, 'down'), [i32(10000)])).toEqual({ kind: 'completed', values: [i32(10000)] });
    expect(vm.invoke(fn(ex, 'down'), [i32(-1)])).toEqual({ kind: 'trap', code: 10, message: 'call stack exhausted' });
    expect(vm.invoke(fn(ex, 'down'), [i32(3)])).toEqual({ kind: 'completed', values: [i32(3)] });
  });

  it('returns traps with the spec messages', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, `(module (memory 1)
      (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
      (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
      (func (export "unreachable") unreachable))`);
    const trap = (message: string) => expect.objectContaining({ kind: 'trap', message });
    expect(vm.invoke(fn(ex, 'div'), [i32(1), i32(0)])).toEqual(trap('integer divide by zero'));
    expect(vm.invoke(fn(ex, 'div'), [i32(-2147483648), i32(-1)])).toEqual(trap('integer overflow'));
    expect(vm.invoke(fn(ex, 'load'), [i32(65532)])).toEqual(trap('out of bounds memory access'));
    // address + offset wraps past 2^32 in 32 bits; it must not wrap here
    expect(vm.invoke(fn(ex, 'load'), [i32(-4)])).toEqual(trap('out of bounds memory access'));
    expect(vm.invoke(fn(ex, 'load'), [i32(65528)])).toEqual({ kind: 'completed', values: [i32(0)] });
    expect(vm.invoke(fn(ex, 'trunc'), [{ type: 'f64', bits: 0x7ff8000000000000n }])).toEqual(trap('invalid conversion to integer'));
    expect(vm.invoke(fn(ex, 'unreachable'), [])).toEqual(trap('unreachable'));
  });
});

// The compiler folds locals and constants into operands and rewrites destinations; these pin the
// cases where that must not change what the bytecode means.
describe('register IR', () => {
  const vm = Vm.createSync();
  const ex = instantiate(vm, `(module
    (global $g (mut i32) (i32.const 0))
    (func (export "swap") (param i32 i32) (result i32 i32)
      (local.get 0) (local.get 1) (local.set 0) (local.set 1) (local.get 0) (local.get 1))
    (func (export "tee-hazard") (param i32) (result i32)
      (local.get 0) (local.tee 0 (i32.add (local.get 0) (i32.const 5))) (i32.mul))
    (func (export "const-left") (result i32)
      (global.set $g (i32.add (i32.const 1) (global.get $g))) (i32.sub (i32.const 100) (global.get $g)))
    (func (export "br-if-values") (param i32) (result i32)
      (block (result i32) (i32.const 7) (local.get 0) (br_if 0 (i32.const 3) (local.get 0)) (drop) (drop) (drop) (i32.const 9)))
    (func (export "br-table") (param i32) (result i32)
      (block $a (result i32) (block $b (result i32) (i32.const 11) (i32.const 22)
        (br_table $a $b $a (local.get 0)) ) (i32.const 100) (i32.add)))
    (func (export "if-params") (param i32) (result i32)
      (i32.const 5) (local.get 0) (if (param i32) (result i32) (then (i32.const 2) (i32.mul)) (else (i32.const 3) (i32.add))))
    (func (export "float-cmp-if") (param f64) (result i32)
      (if (result i32) (f64.lt (local.get 0) (f64.const 1)) (then (i32.const 1)) (else (i32.const 0))))
    (func (export "extend-u") (param i32) (result i64) (i64.extend_i32_u (local.get 0))))`);
  const run = (name: string, args: Value[]) => vm.invoke(fn(ex, name), args);

  it('materialises a local before it is overwritten', () => {
    expect(run('swap', [i32(1), i32(2)])).toEqual({ kind: 'completed', values: [i32(2), i32(1)] });
    expect(run('tee-hazard', [i32(3)])).toEqual({ kind: 'completed', values: [i32(24)] });
  });

  it('swaps a constant left operand without losing the other', () => {
    expect(run('const-left', [])).toEqual({ kind: 'completed', values: [i32(99)] });
    expect(run('const-left', [])).toEqual({ kind: 'completed', values: [i32(98)] });
  });

  it('moves branch values into the label\'s slots only on the taken path', () => {
    expect(run('br-if-values', [i32(1)])).toEqual({ kind: 'completed', values: [i32(3)] });
    expect(run('br-if-values', [i32(0)])).toEqual({ kind: 'completed', values: [i32(9)] });
    expect(run('br-table', [i32(0)])).toEqual({ kind: 'completed', values: [i32(22)] });
    expect(run('br-table', [i32(1)])).toEqual({ kind: 'completed', values: [i32(122)] });
    expect(run('br-table', [i32(7)])).toEqual({ kind: 'completed', values: [i32(22)] });
  });

  it('keeps block parameters for the else arm', () => {
    expect(run('if-params', [i32(1)])).toEqual({ kind: 'completed', values: [i32(10)] });
    expect(run('if-params', [i32(0)])).toEqual({ kind: 'completed', values: [i32(8)] });
  });

  it('does not negate a float comparison to branch (NaN)', () => {
    const nan = { type: 'f64', bits: 0x7ff8000000000000n } as Value;
    expect(run('float-cmp-if', [nan])).toEqual({ kind: 'completed', values: [i32(0)] });
    expect(run('float-cmp-if', [{ type: 'f64', bits: 0n }])).toEqual({ kind: 'completed', values: [i32(1)] });
  });

  it('zero-extends i64.extend_i32_u', () => {
    expect(run('extend-u', [i32(-1)])).toEqual({ kind: 'completed', values: [i64(4294967295n)] });
  });
});

describe('guest memory', () => {
  it('is readable and writable by the host, across growth', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, `(module (memory (export "m") 1)
      (func (export "grow") (result i32) (memory.grow (i32.const 2)))
      (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`);
    const mem = ex.get('m')!.addr;
    expect(vm.guestMemory(mem).length).toBe(65536);
    vm.guestMemory(mem)[100] = 42;
    expect(vm.invoke(fn(ex, 'peek'), [i32(100)])).toEqual({ kind: 'completed', values: [i32(42)] });
    expect(vm.invoke(fn(ex, 'grow'), [])).toEqual({ kind: 'completed', values: [i32(1)] });
    const after = vm.guestMemory(mem);
    expect(after.length).toBe(3 * 65536);
    expect(after[100]).toBe(42);
    after[3 * 65536 - 1] = 7;
    expect(vm.invoke(fn(ex, 'peek'), [i32(3 * 65536 - 1)])).toEqual({ kind: 'completed', values: [i32(7)] });
  });
});

// Fuel counts bytecode instructions by the rule in guest-vm/ABI.md ("Metering").
describe('metering', () => {
  const loop = `(module (func (export "count") (param i32) (result i32) (local i32)
    (loop (local.set 1 (i32.add (local.get 1) (i32.const 1))) (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))`;
  // loop: 1; each iteration: 8 (local.get, i32.const, i32.add, local.set, local.get, local.get,
  // i32.lt_u, br_if); after it: end, local.get, the function's end.
  const cost = (n: number) => 1 + 8 * n + 3;

  it('charges one unit per executed bytecode instruction', () => {
    const vm = Vm.createSync();
    vm.setMetering(true);
    const ex = instantiate(vm, loop);
    for (const n of [1, 10, 1000]) {
      vm.fuel = 1_000_000n;
      expect(vm.invoke(fn(ex, 'count'), [i32(n)])).toEqual({ kind: 'completed', values: [i32(n)] });
      expect(1_000_000n - vm.fuel).toBe(BigInt(cost(n)));
    }
  });

  it('stops before the segment that does not fit, never after', () => {
    const vm = Vm.createSync();
    vm.setMetering(true);
    const ex = instantiate(vm, loop);
    vm.fuel = BigInt(cost(10) - 1);
    expect(vm.invoke(fn(ex, 'count'), [i32(10)])).toEqual({ kind: 'suspended', reason: 'fuel' });
    // 1 + 8*10 ran; the last segment (local.get, end) did not fit.
    expect(vm.fuel).toBe(1n);
    vm.fuel = 1n + 2n;
    expect(vm.resume()).toEqual({ kind: 'completed', values: [i32(10)] });
    expect(vm.fuel).toBe(1n);
    vm.fuel = 50n;
    expect(vm.invoke(fn(ex, 'count'), [i32(10)])).toEqual({ kind: 'suspended', reason: 'fuel' });
    expect(vm.fuel).toBe(1n); // 1 + 8*6 = 49 ran
    vm.abandon();
    vm.fuel = BigInt(cost(10));
    expect(vm.invoke(fn(ex, 'count'), [i32(10)])).toEqual({ kind: 'completed', values: [i32(10)] });
    expect(vm.fuel).toBe(0n);
  });

  it('is chosen before anything runs', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, loop);
    expect(vm.invoke(fn(ex, 'count'), [i32(3)])).toMatchObject({ kind: 'completed' });
    expect(() => vm.setMetering(true)).toThrow(/before any function runs/);
  });
});

describe('limits', () => {
  it('caps memory and table growth, refuses modules that need more, and bounds call depth', () => {
    const vm = Vm.createSync();
    vm.setLimits({ memoryPages: 4, tableElements: 8, callDepth: 100 });
    const ex = instantiate(vm, `(module (memory 1) (table 2 funcref)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (call $down (i32.sub (local.get 0) (i32.const 1)))))))`);
    expect(vm.invoke(fn(ex, 'grow'), [i32(3)])).toEqual({ kind: 'completed', values: [i32(1)] });
    expect(vm.invoke(fn(ex, 'grow'), [i32(1)])).toEqual({ kind: 'completed', values: [i32(-1)] });
    expect(vm.invoke(fn(ex, 'tgrow'), [i32(6)])).toEqual({ kind: 'completed', values: [i32(2)] });
    expect(vm.invoke(fn(ex, 'tgrow'), [i32(1)])).toEqual({ kind: 'completed', values: [i32(-1)] });
    expect(vm.invoke(fn(ex, 'down'), [i32(90)])).toEqual({ kind: 'completed', values: [i32(0)] });
    expect(vm.invoke(fn(ex, 'down'), [i32(200)])).toMatchObject({ kind: 'trap', message: 'call stack exhausted' });
    const big = vm.loadModule(wat('(module (memory 5))'));
    if (!big.ok) throw new Error(big.message);
    expect(vm.instantiate(big.id, [])).toMatchObject({ ok: false, kind: 'limit' });
    expect(() => vm.setLimits({ memoryPages: 0 })).toThrow(RangeError);
  });
});

describe('addresses the VM does not know', () => {
  it('globalRead and globalWrite throw the VM\'s reason, never hand back a stale cell, and leave the Vm usable', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, `(module
      (global (export "g") (mut i32) (i32.const 41))
      (global (export "f") (mut funcref) (ref.null func)))`);
    const g = ex.get('g')!;
    const f = ex.get('f')!;
    // io cell 0 now holds 41: a read of a bad address used to return it.
    expect(vm.globalRead(g.addr, 'i32')).toEqual(i32(41));
    expect(() => vm.globalRead(9999, 'i32')).toThrow(AbiError);
    expect(() => vm.globalRead(9999, 'i32')).toThrow(/globalRead: no global 9999/);
    expect(() => vm.globalWrite(9999, i32(1))).toThrow(/globalWrite: no global 9999/);
    expect(() => vm.globalWrite(f.addr, { type: 'funcref', value: 123456 })).toThrow(/globalWrite: bad function reference/);
    expect(vm.usable).toBe(true);
    vm.globalWrite(g.addr, i32(42));
    expect(vm.globalRead(g.addr, 'i32')).toEqual(i32(42));
    expect(vm.globalRead(f.addr, 'funcref')).toEqual({ type: 'funcref', value: null });
  });

  it('exportAddr is -1 past the last extern of a kind and for an unknown instance', () => {
    const vm = Vm.createSync();
    const loaded = vm.loadModule(wat('(module (func (export "a")) (func (export "b")) (memory (export "m") 1))'));
    if (!loaded.ok) throw new Error(loaded.message);
    const inst = vm.instantiate(loaded.id, []);
    if (!inst.ok) throw new Error(inst.message);
    const ex = vm.exports(inst.id);
    expect([vm.exportAddr(inst.id, 'func', 0), vm.exportAddr(inst.id, 'func', 1)]).toEqual([fn(ex, 'a'), fn(ex, 'b')]);
    expect(vm.exportAddr(inst.id, 'func', 2)).toBe(-1);
    expect(vm.exportAddr(inst.id, 'memory', 0)).toBe(ex.get('m')!.addr);
    expect(vm.exportAddr(inst.id, 'memory', 1)).toBe(-1);
    expect(vm.exportAddr(inst.id, 'table', 0)).toBe(-1);
    expect(vm.exportAddr(inst.id + 100, 'func', 0)).toBe(-1);
    expect(vm.usable).toBe(true);
  });
});
