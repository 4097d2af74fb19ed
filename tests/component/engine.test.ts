// The Engine interface, run on both implementations (Vm over the core module, ComponentEngine over
// the component): the same module, the same calls, the same answers.

import { describe, expect, it } from 'vitest';
import { EndActivation, type Value } from '../../host-intrinsics/vm.js';
import { ENGINES, addr, f32, f64, i32, i64, instantiate, wat } from './helpers.js';

describe.each(ENGINES)('%s', (_name, create) => {
  it('passes every value type through unchanged: i64 as bigint, NaN payloads bit-exact', () => {
    const engine = create();
    const ex = instantiate(engine, `(module
      (func $id (export "id") (param i32 i64 f32 f64 funcref externref) (result i32 i64 f32 f64 funcref externref)
        (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5))
      (func (export "ref") (result funcref) (ref.func $id)))`);
    const values: Value[] = [
      i32(-2147483648), i64(-9223372036854775808n), f32(0x7fa00001), f64(0xfff4000000000001n),
      { type: 'funcref', value: null }, { type: 'externref', value: 41 },
    ];
    expect(engine.invoke(addr(ex, 'id'), values)).toEqual({ kind: 'completed', values });
    const ref = engine.invoke(addr(ex, 'ref'), []);
    expect(ref).toEqual({ kind: 'completed', values: [{ type: 'funcref', value: addr(ex, 'id') }] });
    const more: Value[] = [i32(-1), i64(9223372036854775807n), f32(0x80000000), f64(0x7ff8000000000000n),
      { type: 'funcref', value: addr(ex, 'ref') }, { type: 'externref', value: null }];
    expect(engine.invoke(addr(ex, 'id'), more)).toEqual({ kind: 'completed', values: more });
  });

  it('serves host calls with typed arguments and results', () => {
    const engine = create();
    const seen: Value[][] = [];
    const host = engine.newHostFunc({ params: ['i64', 'f64'], results: ['i64'] }, (args) => {
      seen.push(args);
      return [i64((args[0] as { value: bigint }).value * 2n)];
    });
    if (!host.ok) throw new Error(host.message);
    const ex = instantiate(engine, `(module
      (import "h" "double" (func $d (param i64 f64) (result i64)))
      (func (export "f") (param i64) (result i64)
        (i64.add (call $d (local.get 0) (f64.const 1.5)) (call $d (i64.const -1) (f64.const -0)))))`, [host.addr]);
    expect(engine.invoke(addr(ex, 'f'), [i64(1n << 40n)])).toEqual({ kind: 'completed', values: [i64((1n << 41n) - 2n)] });
    expect(seen).toEqual([[i64(1n << 40n), f64(0x3ff8000000000000n)], [i64(-1n), f64(0x8000000000000000n)]]);
  });

  it('lets a host function read and write guest memory', () => {
    const engine = create();
    let mem = -1;
    const host = engine.newHostFunc({ params: ['i32', 'i32'], results: ['i32'] }, ([ptr, len]) => {
      const view = engine.guestMemory(mem);
      const p = (ptr as { value: number }).value;
      const n = (len as { value: number }).value;
      view.copyWithin(p + n, p, p + n); // the guest sees it after the call
      return [i32(view[p] + view[p + n - 1])];
    });
    if (!host.ok) throw new Error(host.message);
    const ex = instantiate(engine, `(module
      (import "h" "dup" (func $dup (param i32 i32) (result i32)))
      (memory (export "mem") 1) (data (i32.const 16) "\\01\\02\\03")
      (func (export "f") (result i32 i32) (call $dup (i32.const 16) (i32.const 3)) (i32.load8_u (i32.const 21))))`, [host.addr]);
    mem = addr(ex, 'mem');
    expect(engine.invoke(addr(ex, 'f'), [])).toEqual({ kind: 'completed', values: [i32(4), i32(3)] });
    expect([...engine.guestMemory(mem).subarray(16, 22)]).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('reports traps as outcomes and stays usable', () => {
    const engine = create();
    const ex = instantiate(engine, `(module
      (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 7) (local.get 0)))
      (func $deep (export "deep") (call $deep))
      (func (export "oob") (result i32) (i32.load (i32.const -1))) (memory 1))`);
    expect(engine.invoke(addr(ex, 'div'), [i32(0)])).toEqual({ kind: 'trap', code: 2, message: 'integer divide by zero' });
    expect(engine.invoke(addr(ex, 'deep'), [])).toEqual({ kind: 'trap', code: 10, message: 'call stack exhausted' });
    expect(engine.invoke(addr(ex, 'oob'), [])).toEqual({ kind: 'trap', code: 5, message: 'out of bounds memory access' });
    expect(engine.invoke(addr(ex, 'div'), [i32(2)])).toEqual({ kind: 'completed', values: [i32(3)] });
    expect(engine.usable).toBe(true);
  });

  it('refuses malformed, invalid, unlinkable and uninstantiable modules with values', () => {
    const engine = create();
    const good = wat('(module (func (export "f") (result i32) (i32.const 7)))');
    expect(engine.loadModule(good.subarray(0, good.length - 3))).toMatchObject({ ok: false, kind: 'malformed' });
    expect(engine.loadModule(new Uint8Array(0))).toMatchObject({ ok: false, kind: 'malformed' });
    const invalid = engine.loadModule(wat('(module (func (result i32) (i64.const 7)))'));
    expect(invalid).toMatchObject({ ok: false, kind: 'invalid', message: 'type mismatch' });
    expect((invalid as { offset: number }).offset).toBeGreaterThan(8);

    const importer = engine.loadModule(wat('(module (import "m" "f" (func (param i32))))'));
    if (!importer.ok) throw new Error(importer.message);
    const wrongType = engine.newHostFunc({ params: ['i64'], results: [] }, () => {});
    if (!wrongType.ok) throw new Error(wrongType.message);
    expect(engine.instantiate(importer.id, [wrongType.addr])).toMatchObject({ ok: false, kind: 'unlinkable' });

    const segment = engine.loadModule(wat('(module (memory 1) (data (i32.const 65535) "ab"))'));
    if (!segment.ok) throw new Error(segment.message);
    expect(engine.instantiate(segment.id, [])).toMatchObject({ ok: false, kind: 'uninstantiable', message: 'out of bounds memory access' });

    const start = engine.loadModule(wat('(module (func $s unreachable) (start $s))'));
    if (!start.ok) throw new Error(start.message);
    expect(engine.instantiate(start.id, [])).toMatchObject({ ok: false, kind: 'uninstantiable', trap: { code: 1 } });
    expect(engine.invoke(addr(instantiate(engine, '(module (func (export "f") (result i32) (i32.const 7)))'), 'f'), []))
      .toEqual({ kind: 'completed', values: [i32(7)] });
  });

  it('links host-made and guest-exported tables, memories and globals', () => {
    const engine = create();
    const table = engine.newTable({ elem: 'funcref', min: 2, max: null });
    const memory = engine.newMemory({ min: 1, max: 2 });
    const global = engine.newGlobal({ type: 'f64', mutable: true }, f64(0x400921fb54442d18n));
    if (!table.ok || !memory.ok || !global.ok) throw new Error('could not create the store objects');
    const a = instantiate(engine, `(module
      (import "h" "t" (table 2 funcref)) (import "h" "m" (memory 1 2)) (import "h" "g" (global $g (mut f64)))
      (func $seven (result i32) (i32.const 7)) (elem (i32.const 1) $seven)
      (func (export "set") (param f64) (global.set $g (local.get 0)))
      (export "t" (table 0)) (export "m" (memory 0)) (export "g" (global $g)))`, [table.addr, memory.addr, global.addr]);
    expect(engine.globalRead(global.addr, 'f64')).toEqual(f64(0x400921fb54442d18n));
    engine.invoke(addr(a, 'set'), [f64(0x7ff4000000000000n)]);
    expect(engine.globalRead(addr(a, 'g'), 'f64')).toEqual(f64(0x7ff4000000000000n));
    engine.globalWrite(global.addr, f64(0n));
    expect(engine.globalRead(global.addr, 'f64')).toEqual(f64(0n));
    expect(addr(a, 'm')).toBe(memory.addr);
    const b = instantiate(engine, `(module
      (import "a" "t" (table 1 funcref)) (import "a" "m" (memory 1))
      (type $r (func (result i32)))
      (func (export "f") (result i32)
        (i32.store (i32.const 0) (i32.const 99))
        (call_indirect (type $r) (i32.const 1))))`, [addr(a, 't'), addr(a, 'm')]);
    expect(engine.invoke(addr(b, 'f'), [])).toEqual({ kind: 'completed', values: [i32(7)] });
    expect(engine.guestMemory(memory.addr)[0]).toBe(99);
    expect(engine.exportAddr(0, 'memory', 0)).toBe(memory.addr);
    expect(engine.exportAddr(0, 'func', 99)).toBe(-1);
  });

  it('stops between slices on request and resumes to the same result', () => {
    const engine = create();
    const ex = instantiate(engine, `(module
      (func (export "sum") (param $n i64) (result i64) (local $acc i64)
        (block $done (loop $next
          (br_if $done (i64.eqz (local.get $n)))
          (local.set $acc (i64.add (local.get $acc) (local.get $n)))
          (local.set $n (i64.sub (local.get $n) (i64.const 1)))
          (br $next)))
        (local.get $acc)))`);
    engine.setSlice(1000);
    let asked = 0;
    const options = { shouldSuspend: () => ++asked % 5 === 0 };
    let outcome = engine.invoke(addr(ex, 'sum'), [i64(100000n)], options);
    let stops = 0;
    while (outcome.kind === 'suspended') {
      expect(outcome.reason).toBe('request');
      expect(engine.suspended).toBe(true);
      stops++;
      outcome = engine.resume(options);
    }
    expect(outcome).toEqual({ kind: 'completed', values: [i64(5000050000n)] });
    expect(stops).toBeGreaterThan(10);
    expect(engine.suspended).toBe(false);
  });

  it('runs metered code on a fuel budget, exactly', () => {
    const engine = create();
    engine.setMetering(true);
    const ex = instantiate(engine, `(module
      (func (export "count") (param $n i32) (result i32)
        (loop $l (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l (local.get $n)))
        (local.get $n)))`);
    engine.fuel = 50n;
    const first = engine.invoke(addr(ex, 'count'), [i32(100)]);
    expect(first).toEqual({ kind: 'suspended', reason: 'fuel' });
    expect(engine.fuel).toBeLessThan(50n);
    engine.fuel = 1000000n;
    expect(engine.resume()).toEqual({ kind: 'completed', values: [i32(0)] });
    const used = 1000000n - engine.fuel;
    expect(used).toBeGreaterThan(300n);
    engine.fuel = 1000n;
    engine.invoke(addr(ex, 'count'), [i32(1)]);
    // loop, local.get, i32.const, i32.sub, local.set, local.get, br_if, end, local.get, end
    expect(engine.fuel).toBe(1000n - 10n);
  });

  it('lets a host function end the run with EndActivation, and stays usable', () => {
    const engine = create();
    const exit = engine.newHostFunc({ params: ['i32'], results: [] }, ([code]) => {
      throw new EndActivation((code as { value: number }).value);
    });
    if (!exit.ok) throw new Error(exit.message);
    const ex = instantiate(engine, `(module
      (import "wasi" "exit" (func $exit (param i32)))
      (memory (export "mem") 1)
      (func (export "main") (i32.store (i32.const 0) (i32.const 5)) (call $exit (i32.const 3)) unreachable)
      (func (export "ok") (result i32) (i32.load (i32.const 0))))`, [exit.addr]);
    let thrown: unknown;
    try {
      engine.invoke(addr(ex, 'main'), []);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EndActivation);
    expect((thrown as EndActivation).value).toBe(3);
    expect(engine.usable).toBe(true);
    expect(engine.invoke(addr(ex, 'ok'), [])).toEqual({ kind: 'completed', values: [i32(5)] });
  });

  it('describes modules and refuses arguments of the wrong types before running', () => {
    const engine = create();
    const loaded = engine.loadModule(wat(`(module
      (import "spectest" "table" (table 10 20 funcref)) (import "M" "g" (global (mut f32)))
      (func (export "\\ef\\bb\\bf") (param i32) (result i64 i64) (i64.const 1) (i64.const 2))
      (global (export "\\c3\\a4") externref (ref.null extern)))`));
    expect(loaded).toMatchObject({
      ok: true,
      imports: [
        { module: 'spectest', name: 'table', kind: 'table', type: { elem: 'funcref', min: 10, max: 20 } },
        { module: 'M', name: 'g', kind: 'global', type: { type: 'f32', mutable: true } },
      ],
      exports: [
        { name: '\ufeff', index: 0, kind: 'func', type: { params: ['i32'], results: ['i64', 'i64'] } },
        { name: 'ä', index: 1, kind: 'global', type: { type: 'externref', mutable: false } },
      ],
    });
    const ex = instantiate(engine, '(module (func (export "f") (param i32)))');
    expect(() => engine.invoke(addr(ex, 'f'), [i64(1n)])).toThrow(TypeError);
    expect(engine.funcType(addr(ex, 'f'))).toEqual({ params: ['i32'], results: [] });
  });
});
