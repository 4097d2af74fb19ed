// What only the component engine does: nested activations, recovery from host exceptions and
// timeouts, guest memory through the WIT, and a component instance that no host mistake poisons
// (the raw WIT functions, called with everything wrong, answer errors and keep working).

import { describe, expect, it } from 'vitest';
import { AbiError, ComponentEngine } from '../../host-intrinsics/api.js';
import { witError, type Wit } from '../../host-intrinsics/component.js';
import { addr, i32, instantiate, wat } from './helpers.js';

/** The `error` a raw WIT call threw (jco throws err results as a ComponentError). */
function errorOf(body: () => unknown): Wit.Error | null {
  try {
    body();
  } catch (e) {
    return witError(e);
  }
  return null;
}

describe('ComponentEngine', () => {
  it('lets host functions call back into the engine, and unwinds only the failing activation', () => {
    const engine = ComponentEngine.create();
    let inner = 0;
    const fail = engine.newHostFunc({ params: [], results: [] }, () => {
      throw new Error('host failure');
    });
    const reenter = engine.newHostFunc({ params: ['i32'], results: ['i32'] }, ([x]) => {
      // A nested activation whose own host call throws: it is aborted, this one goes on.
      expect(() => engine.invoke(inner, [])).toThrow('host failure');
      const r = engine.invoke(addr(ex, 'square'), [x]);
      return r.kind === 'completed' ? r.values : [i32(-1)];
    });
    if (!fail.ok || !reenter.ok) throw new Error('host functions');
    const ex = instantiate(engine, `(module
      (import "h" "fail" (func $fail)) (import "h" "reenter" (func $re (param i32) (result i32)))
      (func (export "inner") (call $fail))
      (func (export "square") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
      (func (export "outer") (param i32) (result i32) (i32.add (call $re (local.get 0)) (i32.const 1))))`,
    [fail.addr, reenter.addr]);
    inner = addr(ex, 'inner');
    expect(engine.invoke(addr(ex, 'outer'), [i32(12)])).toEqual({ kind: 'completed', values: [i32(145)] });
    expect(engine.usable).toBe(true);
  });

  it('stays usable after a timeout (the activation is dropped)', () => {
    const engine = ComponentEngine.create();
    const ex = instantiate(engine, '(module (func (export "spin") (loop (br 0))) (func (export "one") (result i32) (i32.const 1)))');
    expect(engine.invoke(addr(ex, 'spin'), [], { timeoutMs: 20 })).toMatchObject({ kind: 'timeout' });
    expect(engine.usable).toBe(true);
    expect(engine.invoke(addr(ex, 'one'), [])).toEqual({ kind: 'completed', values: [i32(1)] });
  });

  it('reads and writes guest memory through the WIT, bounds-checked', () => {
    const engine = ComponentEngine.create();
    const ex = instantiate(engine, '(module (memory (export "m") 1) (data (i32.const 65530) "abcdef"))');
    const m = addr(ex, 'm');
    expect(new TextDecoder().decode(engine.memoryRead(m, 65530, 6))).toBe('abcdef');
    engine.memoryWrite(m, 0, Uint8Array.of(1, 2, 3));
    expect([...engine.guestMemory(m).subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(engine.memoryRead(m, 65536, 0)).toEqual(new Uint8Array(0));
    expect(() => engine.memoryRead(m, 65531, 6)).toThrow(AbiError);
    expect(() => engine.memoryWrite(m, 0xffffffff, Uint8Array.of(1))).toThrow(AbiError);
    expect(() => engine.guestMemory(12345)).toThrow(AbiError);
  });

  it('answers every host mistake in the raw WIT with an error and keeps working', () => {
    const engine = ComponentEngine.create();
    const w = engine.wit;
    const ex = instantiate(engine, `(module (memory (export "m") 1) (global (export "g") (mut i32) (i32.const 5))
      (func (export "f") (param i32) (result i32) (local.get 0)))`);
    const f = addr(ex, 'f');
    const kinds = [
      errorOf(() => w.call(f, [{ tag: 'i64', val: 1n }], undefined)),
      errorOf(() => w.call(f, [], undefined)),
      errorOf(() => w.call(999999, [], undefined)),
      errorOf(() => w.call(f, [{ tag: 'funcref', val: 999999 }], undefined)),
      errorOf(() => w.resume([], undefined)),
      errorOf(() => w.newHostFunc({ params: ['v128'], results: [] })),
      errorOf(() => w.newGlobal({ content: 'v128', mutable: false }, { tag: 'i32', val: 0 })),
      errorOf(() => w.newGlobal({ content: 'i64', mutable: false }, { tag: 'i32', val: 0 })),
      errorOf(() => w.newTable({ element: 'i32', limits: { min: 1, max: undefined } })),
      errorOf(() => w.globalRead(999999)),
      errorOf(() => w.globalWrite(addr(ex, 'g'), { tag: 'f32', val: 0 })),
      errorOf(() => w.describeFunc(999999)),
      errorOf(() => w.memoryRead(addr(ex, 'm'), 0xffffffff, 0xffffffff)),
      errorOf(() => w.memorySize(999999)),
    ].map((e) => e?.kind);
    expect(kinds).toEqual(Array(kinds.length).fill('misuse'));
    w.abort(); // nothing pending: no effect
    const mod = w.loadModule(wat('(module (import "a" "b" (func)))'));
    expect(errorOf(() => w.instantiate(mod, []))?.kind).toBe('misuse');
    expect(errorOf(() => w.instantiate(mod, [{ kind: 'memory', addr: addr(ex, 'm') }]))).toMatchObject({
      kind: 'unlinkable', message: expect.stringContaining('incompatible import type'),
    });
    expect(errorOf(() => w.instantiate(mod, [{ kind: 'func', addr: 999999 }]))?.kind).toBe('unlinkable');
    expect(w.globalRead(addr(ex, 'g'))).toEqual({ tag: 'i32', val: 5 });
    expect(w.call(f, [{ tag: 'i32', val: 9 }], undefined)).toEqual({ tag: 'completed', val: [{ tag: 'i32', val: 9 }] });
    expect(engine.usable).toBe(true);
  });

  it('checks host-call results before resuming, and the activation waits for good ones', () => {
    const engine = ComponentEngine.create();
    const host = engine.newHostFunc({ params: [], results: ['i32'] }, () => [i32(0)]);
    if (!host.ok) throw new Error(host.message);
    const ex = instantiate(engine, '(module (import "h" "h" (func $h (result i32))) (func (export "f") (result i32) (call $h)))', [host.addr]);
    const w = engine.wit;
    const o = w.call(addr(ex, 'f'), [], undefined);
    expect(o).toEqual({ tag: 'host-call', val: { func: host.addr, args: [] } });
    expect(errorOf(() => w.resume([{ tag: 'i64', val: 1n }], undefined))?.kind).toBe('misuse');
    expect(w.resume([{ tag: 'i32', val: 42 }], undefined)).toEqual({ tag: 'completed', val: [{ tag: 'i32', val: 42 }] });
  });

  it('bounds a run by its slice and resumes it through the WIT', () => {
    const engine = ComponentEngine.create();
    const ex = instantiate(engine, `(module (func (export "count") (param $n i32) (result i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $i)))`);
    const w = engine.wit;
    let o = w.call(addr(ex, 'count'), [{ tag: 'i32', val: 1000 }], 100);
    let slices = 0;
    for (; o.tag === 'suspended'; slices++) {
      expect(o.val).toBe('slice');
      o = w.resume([], 100);
    }
    expect(o).toEqual({ tag: 'completed', val: [{ tag: 'i32', val: 1000 }] });
    expect(slices).toBe(9); // 999 back-edges, 100 per slice
  });

  it('gives each engine its own store', () => {
    const a = ComponentEngine.create();
    const b = ComponentEngine.create();
    const text = '(module (global $g (mut i32) (i32.const 0)) (func (export "inc") (result i32) (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g)))';
    const ea = instantiate(a, text);
    const eb = instantiate(b, text);
    a.invoke(addr(ea, 'inc'), []);
    a.invoke(addr(ea, 'inc'), []);
    expect(b.invoke(addr(eb, 'inc'), [])).toEqual({ kind: 'completed', values: [i32(1)] });
    expect(a.invoke(addr(ea, 'inc'), [])).toEqual({ kind: 'completed', values: [i32(3)] });
  });
});
