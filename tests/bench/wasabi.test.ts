// The Wasabi-style rewriter of bench/wasabi: the rewritten module validates, computes what the
// original computes, and its hook counts what was executed — by construction, and exactly as the
// VM's monitors count the same calls.

import { describe, expect, it } from 'vitest';
import { HOOK_MODULE, HOOK_NAME, RewriteError, rewrite } from '../../bench/wasabi/rewrite.js';
import { Vm, type Value } from '../../host-intrinsics/vm.js';
import { fn, wat } from '../helpers/wat.js';

const guest = wat(`(module
  (import "env" "log" (func $log (param i32)))
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $double $inc)
  (elem declare func $inc)
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (global $fr funcref (ref.func $inc))
  (func $start (global.set $g (i32.const 42)))
  (start $start)
  (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func (export "g") (result i32) (global.get $g))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func (export "reffunc") (result i32)
    (i32.add (ref.is_null (ref.func $inc)) (ref.is_null (global.get $fr))))
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (call $double (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $log (local.get $s))
    (local.get $s))
  (func (export "sel") (param i32) (result i32)
    (if (result i32) (local.get 0) (then (i32.const 10)) (else (i32.const 20))))
  (func (export "maybe") (param i32) (result i32) (local $r i32)
    (if (local.get 0) (then (local.set $r (i32.const 5))))
    (local.get $r))
  (func (export "tbl") (param i32) (result i32)
    (block $a (block $b (br_table $a $b (local.get 0))) (return (i32.const 1)))
    (i32.const 2))
  (func (export "bulk") (param i32) (result i32)
    (memory.fill (i32.const 0) (local.get 0) (i32.const 16))
    (i32.add (i32.load8_u (i32.const 15)) (i32.trunc_sat_f64_s (f64.const 3.9)))))`);

// Calls and their results (the same natively, rewritten, and in the VM).
const CALLS: [string, number[], number][] = [
  ['g', [], 42],
  ['indirect', [0, 5], 10], ['indirect', [1, 5], 6],
  ['reffunc', [], 0],
  ['sum', [10], 90],
  ['sel', [1], 10], ['sel', [0], 20],
  ['maybe', [1], 5], ['maybe', [0], 0],
  ['tbl', [0], 2], ['tbl', [1], 1], ['tbl', [7], 1],
  ['bulk', [7], 10],
];

function native(bytes: Uint8Array, hook?: (op: number) => void) {
  const logged: number[] = [];
  const imports: WebAssembly.Imports = { env: { log: (v: number) => void logged.push(v) } };
  if (hook) imports[HOOK_MODULE] = { [HOOK_NAME]: hook };
  const ex = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), imports).exports as Record<string, (...a: number[]) => number>;
  return { ex, logged };
}

describe('wasabi-style rewriter', () => {
  const { bytes, sites } = rewrite(guest);

  it('produces a valid module that imports the hook first', () => {
    expect(WebAssembly.validate(new Uint8Array(bytes))).toBe(true);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(new Uint8Array(bytes)));
    expect(imports[0]).toEqual({ module: HOOK_MODULE, name: HOOK_NAME, kind: 'function' });
    expect(imports.slice(1)).toEqual([{ module: 'env', name: 'log', kind: 'function' }]);
  });

  it('hooks every instruction of every body once (static sites)', () => {
    // 11 bodies (11 final ends), plus the ends of sum's block and loop, sel's and maybe's if,
    // tbl's 2 blocks; the ends of constant expressions are not code.
    expect(sites.get(0x0b)).toBe(11 + 2 /* sum */ + 1 /* sel */ + 1 /* maybe */ + 2 /* tbl */);
    expect(sites.get(0x10)).toBe(2); // call $double, call $log
    expect(sites.get(0x11)).toBe(1);
    expect(sites.get(0xd2)).toBe(1);
    expect(sites.get(0x10b)).toBe(1); // memory.fill
    expect(sites.get(0x102)).toBe(1); // i32.trunc_sat_f64_s
  });

  it('computes what the original computes, with the function indices shifted', () => {
    const plain = native(guest);
    const hooked = native(bytes, () => {});
    for (const [name, args, result] of CALLS) {
      expect(plain.ex[name](...args), `${name}(${args})`).toBe(result);
      expect(hooked.ex[name](...args), `${name}(${args}) rewritten`).toBe(result);
    }
    expect(hooked.logged).toEqual(plain.logged);
  });

  it('counts, for sum(n), what is executed by construction', () => {
    const counts = new Map<number, number>();
    const { ex } = native(bytes, (op) => void counts.set(op, (counts.get(op) ?? 0) + 1));
    // The start function ran at instantiation: global.set, i32.const, end.
    expect(Object.fromEntries(counts)).toEqual({ [0x41]: 1, [0x24]: 1, [0x0b]: 1 });
    counts.clear();
    const n = 10;
    expect(ex.sum(n)).toBe(90);
    // Loop test (4 instructions) n+1 times, the rest of the body (10) n times, $double (4) n
    // times, block + loop on entry, the 4 after the loop once. The loop's and the block's `end`
    // never run: `br` leaves the body, br_if's target lies past the block's end.
    expect(Object.fromEntries(counts)).toEqual({
      [0x02]: 1, [0x03]: 1, // block, loop
      [0x20]: 2 * (n + 1) + 3 * n + 2 + n, // local.get
      [0x4f]: n + 1, [0x0d]: n + 1, // i32.ge_u, br_if
      [0x10]: n + 1, // call $double ×n, call $log
      [0x6a]: 2 * n, [0x21]: 2 * n, [0x41]: 2 * n, // i32.add, local.set, i32.const
      [0x0c]: n, [0x6c]: n, // br, i32.mul
      [0x0b]: n + 1, // $double's end, sum's end
    });
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(18 * n + 10);
  });

  it('counts every opcode exactly as the VM monitors do', () => {
    const counts = new Map<number, number>();
    const hooked = native(bytes, (op) => void counts.set(op, (counts.get(op) ?? 0) + 1));

    const vm = Vm.createSync();
    vm.setMonitoring(true);
    const loaded = vm.loadModule(guest);
    if (!loaded.ok) throw new Error(loaded.message);
    const log = vm.newHostFunc({ params: ['i32'], results: [] }, () => {});
    if (!log.ok) throw new Error(log.message);
    const inst = vm.instantiate(loaded.id, [log.addr]);
    if (!inst.ok) throw new Error(inst.message);
    const exports = vm.exports(inst.id);
    for (const [name, args, result] of CALLS) {
      expect(hooked.ex[name](...args)).toBe(result);
      const values: Value[] = args.map((value) => ({ type: 'i32', value }));
      expect(vm.invoke(fn(exports, name), values)).toEqual({ kind: 'completed', values: [{ type: 'i32', value: result }] });
    }
    const vmCounts = new Map<number, number>();
    for (const f of vm.monitorCounters(inst.id)) {
      for (const s of f.segments) for (const op of s.ops) vmCounts.set(op, (vmCounts.get(op) ?? 0) + Number(s.executions));
    }
    for (const [op, k] of [...vmCounts]) if (k === 0) vmCounts.delete(op);
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(vmCounts));
  });

  it('adds type and import sections to a module without them, and drops the name section', () => {
    const empty = rewrite(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    expect(WebAssembly.Module.imports(new WebAssembly.Module(new Uint8Array(empty.bytes))).length).toBe(1);
    const named = wat('(module $m (func $f (export "f") (result i32) (i32.const 7)))');
    const out = rewrite(named).bytes;
    const m = new WebAssembly.Module(new Uint8Array(out));
    expect(WebAssembly.Module.customSections(m, 'name')).toEqual([]);
    const calls: number[] = [];
    const ex = new WebAssembly.Instance(m, { [HOOK_MODULE]: { [HOOK_NAME]: (op: number) => void calls.push(op) } }).exports as Record<string, () => number>;
    expect(ex.f()).toBe(7);
    expect(calls).toEqual([0x41, 0x0b]);
  });

  it('refuses what is not a module', () => {
    expect(() => rewrite(new Uint8Array([1, 2, 3]))).toThrow(RewriteError);
  });
});
