// Sandbox: whatever addresses, offsets and lengths a guest uses, it reaches its own linear memory
// and tables only, and exactly as the spec says.
//
// Set-up: three host memories A, B, C of one page each, allocated one after the other, so that in
// the VM's own memory B lies between A and C (the test checks where the regions are); the guest
// imports B. A and C are filled with canary patterns, B with a known pattern. Likewise three
// tables TA, TB, TC (TA and TC filled with references, read back through a helper module).
// For every load and store width, each memory-access form the VM compiles (address in a local;
// address from i32.add with a constant, which the VM folds; constant address) and many offsets
// and addresses — edges of the memory, 2^31 and 2^32 edges, address + offset wrapping past 2^32
// (0xffffffff with offset 0xffffffff and so on), and addresses chosen so that a 32-bit wrap of
// B's base + address + offset would land on A, on C, on the VM's address 0 or on its io buffer —
// the test checks:
// - the access traps ("out of bounds memory access") exactly when address + offset + width
//   exceeds B's size, computed without wrapping; otherwise a load returns B's bytes and a store
//   changes exactly those bytes of B;
// - a trapping store leaves B unchanged; A and C and the bytes between the regions never change.
// The same for memory.fill/copy/init with huge lengths and offsets, memory.grow past the maximum,
// and table.get/set/fill/copy/init/grow and call_indirect with huge indices (TA and TC unchanged).
// Everything runs twice, with and without metering (the VM compiles them differently).
// Not covered: the VM's own memory elsewhere (its stacks and records change legitimately while
// it runs); a wild access landing far from B would show up as a wrong trap/no-trap answer, a
// changed B, or a damaged VM, which the final checks look for.

import { describe, expect, it } from 'vitest';
import { Vm, type Value } from '../../host-intrinsics/vm.js';
import { fn, wat } from '../helpers/wat.js';

const PAGE = 65536;

type Load = { op: string; width: number; result: 'i32' | 'i64' | 'f32' | 'f64'; signed: boolean };
const LOADS: Load[] = [
  { op: 'i32.load', width: 4, result: 'i32', signed: true },
  { op: 'i64.load', width: 8, result: 'i64', signed: true },
  { op: 'f32.load', width: 4, result: 'f32', signed: false },
  { op: 'f64.load', width: 8, result: 'f64', signed: false },
  { op: 'i32.load8_s', width: 1, result: 'i32', signed: true },
  { op: 'i32.load8_u', width: 1, result: 'i32', signed: false },
  { op: 'i32.load16_s', width: 2, result: 'i32', signed: true },
  { op: 'i32.load16_u', width: 2, result: 'i32', signed: false },
  { op: 'i64.load8_s', width: 1, result: 'i64', signed: true },
  { op: 'i64.load8_u', width: 1, result: 'i64', signed: false },
  { op: 'i64.load16_s', width: 2, result: 'i64', signed: true },
  { op: 'i64.load16_u', width: 2, result: 'i64', signed: false },
  { op: 'i64.load32_s', width: 4, result: 'i64', signed: true },
  { op: 'i64.load32_u', width: 4, result: 'i64', signed: false },
];
type Store = { op: string; width: number; value: 'i32' | 'i64' | 'f32' | 'f64' };
const STORES: Store[] = [
  { op: 'i32.store', width: 4, value: 'i32' },
  { op: 'i64.store', width: 8, value: 'i64' },
  { op: 'f32.store', width: 4, value: 'f32' },
  { op: 'f64.store', width: 8, value: 'f64' },
  { op: 'i32.store8', width: 1, value: 'i32' },
  { op: 'i32.store16', width: 2, value: 'i32' },
  { op: 'i64.store8', width: 1, value: 'i64' },
  { op: 'i64.store16', width: 2, value: 'i64' },
  { op: 'i64.store32', width: 4, value: 'i64' },
];
const OFFSETS = [0, 1, 7, 0x7fff, 0xfff8, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffe, 0xffffffff];
/** The constant the i32.add form adds to the address (wraps: -16). */
const ADD_K = 0xfffffff0;
const CONST_ADDRESSES = [0, 65528, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];
const CONST_OFFSETS = [0, 1, 0xffff, 0x10000, 0xffffffff];

const name = (op: string, form: string, offset: number, addr = 0) => `${op}/${form}/${offset.toString(16)}${form === 'k' ? `@${addr.toString(16)}` : ''}`;

function guestText(): string {
  const funcs: string[] = [];
  for (const l of LOADS) {
    for (const o of OFFSETS) {
      funcs.push(`(func (export "${name(l.op, 'p', o)}") (param i32) (result ${l.result}) (${l.op} offset=${o} (local.get 0)))`);
      funcs.push(`(func (export "${name(l.op, 'a', o)}") (param i32) (result ${l.result}) (${l.op} offset=${o} (i32.add (local.get 0) (i32.const ${ADD_K | 0}))))`);
    }
    for (const o of CONST_OFFSETS) {
      for (const a of CONST_ADDRESSES) funcs.push(`(func (export "${name(l.op, 'k', o, a)}") (result ${l.result}) (${l.op} offset=${o} (i32.const ${a | 0})))`);
    }
  }
  for (const s of STORES) {
    for (const o of OFFSETS) {
      funcs.push(`(func (export "${name(s.op, 'p', o)}") (param i32 ${s.value}) (${s.op} offset=${o} (local.get 0) (local.get 1)))`);
      funcs.push(`(func (export "${name(s.op, 'a', o)}") (param i32 ${s.value}) (${s.op} offset=${o} (i32.add (local.get 0) (i32.const ${ADD_K | 0})) (local.get 1)))`);
    }
    for (const o of CONST_OFFSETS) {
      for (const a of CONST_ADDRESSES) funcs.push(`(func (export "${name(s.op, 'k', o, a)}") (param ${s.value}) (${s.op} offset=${o} (i32.const ${a | 0}) (local.get 0)))`);
    }
  }
  return `(module
    (import "m" "mem" (memory 1 1))
    (import "m" "tab" (table 8 8 funcref))
    (type $v (func (result i32)))
    (data $seg "0123456789abcdefghijklmnopqrstuvwxyz")
    (elem $eseg func $f1 $f2 $f1 $f2)
    (func $f1 (type $v) (i32.const 1))
    (func $f2 (type $v) (i32.const 2))
    (elem declare func $f1)
    ${funcs.join('\n    ')}
    (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
    (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
    (func (export "init") (param i32 i32 i32) (memory.init $seg (local.get 0) (local.get 1) (local.get 2)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size))
    (func (export "sum") (result i64) (local $i i32) (local $s i64)
      (loop $l (local.set $s (i64.add (local.get $s) (i64.load8_u (local.get $i))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 65536))))
      (local.get $s))
    (func (export "table.get") (param i32) (result i32) (ref.is_null (table.get 0 (local.get 0))))
    (func (export "table.set") (param i32) (table.set 0 (local.get 0) (ref.func $f1)))
    (func (export "table.fill") (param i32 i32) (table.fill 0 (local.get 0) (ref.func $f1) (local.get 1)))
    (func (export "table.copy") (param i32 i32 i32) (table.copy (local.get 0) (local.get 1) (local.get 2)))
    (func (export "table.init") (param i32 i32 i32) (table.init $eseg (local.get 0) (local.get 1) (local.get 2)))
    (func (export "table.grow") (param i32) (result i32) (table.grow 0 (ref.null func) (local.get 0)))
    (func (export "call_indirect") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))`;
}

const GUEST = wat(guestText());
// Reads and fills the neighbouring tables TA and TC.
const TABLE_HELPER = wat(`(module
  (import "m" "ta" (table 8 8 funcref)) (import "m" "tc" (table 8 8 funcref))
  (type $v (func (result i32)))
  (func $a (type $v) (i32.const 10)) (func $c (type $v) (i32.const 30))
  (elem declare func $a $c)
  (func (export "fill") (table.fill 0 (i32.const 0) (ref.func $a) (i32.const 8)) (table.fill 1 (i32.const 0) (ref.func $c) (i32.const 8)))
  (func (export "probe") (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (call_indirect 0 (type $v) (local.get $i))))
      (local.set $s (i32.add (local.get $s) (call_indirect 1 (type $v) (local.get $i))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 8))))
    (local.get $s)))`);

const i32 = (value: number): Value => ({ type: 'i32', value: value | 0 });

function created(r: { ok: true; addr: number } | { ok: false; message: string }): number {
  if (!r.ok) throw new Error(r.message);
  return r.addr;
}

function setUp(metered: boolean) {
  const vm = Vm.createSync();
  if (metered) vm.setMetering(true);
  const mems = [0, 1, 2].map(() => created(vm.newMemory({ min: 1, max: 1 })));
  const tables = [0, 1, 2].map(() => created(vm.newTable({ elem: 'funcref', min: 8, max: 8 })));
  const loaded = vm.loadModule(GUEST);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = vm.instantiate(loaded.id, [mems[1]!, tables[1]!]);
  if (!inst.ok) throw new Error(inst.message);
  const helperMod = vm.loadModule(TABLE_HELPER);
  if (!helperMod.ok) throw new Error(helperMod.message);
  const helperInst = vm.instantiate(helperMod.id, [tables[0]!, tables[2]!]);
  if (!helperInst.ok) throw new Error(helperInst.message);
  const helper = vm.exports(helperInst.id);
  vm.invoke(fn(helper, 'fill'), []);
  const exports = vm.exports(inst.id);
  const raw = vm.rawExports.memory as WebAssembly.Memory;
  const region = (k: number) => vm.guestMemory(mems[k]!);
  // Patterns: A and C canaries, B a known pattern.
  region(0).forEach((_, i, a) => (a[i] = 0xa5 ^ (i & 0xff)));
  region(2).forEach((_, i, a) => (a[i] = 0x5a ^ ((i >> 8) & 0xff)));
  const pattern = (i: number) => (i * 31 + 7) & 0xff;
  region(1).forEach((_, i, a) => (a[i] = pattern(i)));
  const bases = [0, 1, 2].map((k) => region(k).byteOffset);
  const probeTables = () => {
    const r = vm.invoke(fn(helper, 'probe'), []);
    return r.kind === 'completed' ? (r.values[0] as { value: number }).value : -1;
  };
  const all = () => new Uint8Array(raw.buffer);
  const between = () => [all().slice(bases[0]! + PAGE, bases[1]!), all().slice(bases[1]! + PAGE, bases[2]!)];
  return { vm, exports, region, bases, pattern, probeTables, between, io: vm.rawExports.io_buffer as () => number };
}

function expectedLoad(l: Load, b: Uint8Array, ea: number): Value {
  const v = new DataView(b.buffer, b.byteOffset + ea, l.width);
  switch (l.result) {
    case 'f32': return { type: 'f32', bits: v.getUint32(0, true) };
    case 'f64': return { type: 'f64', bits: v.getBigUint64(0, true) };
    case 'i32': {
      const x = l.width === 4 ? v.getInt32(0, true) : l.width === 2 ? (l.signed ? v.getInt16(0, true) : v.getUint16(0, true)) : l.signed ? v.getInt8(0) : v.getUint8(0);
      return { type: 'i32', value: x | 0 };
    }
    case 'i64': {
      const x = l.width === 8 ? v.getBigInt64(0, true)
        : l.width === 4 ? BigInt(l.signed ? v.getInt32(0, true) : v.getUint32(0, true))
          : l.width === 2 ? BigInt(l.signed ? v.getInt16(0, true) : v.getUint16(0, true)) : BigInt(l.signed ? v.getInt8(0) : v.getUint8(0));
      return { type: 'i64', value: x };
    }
  }
}

/** The bytes a store of `value` with `width` writes (little-endian), and the Value to pass. */
function storeValue(s: Store, seed: number): { value: Value; bytes: number[] } {
  const bytes = Array.from({ length: 8 }, (_, k) => (seed * 13 + k * 29 + 1) & 0xff);
  const view = new DataView(Uint8Array.from(bytes).buffer);
  const value: Value = s.value === 'i32' ? { type: 'i32', value: view.getInt32(0, true) }
    : s.value === 'i64' ? { type: 'i64', value: view.getBigInt64(0, true) }
      : s.value === 'f32' ? { type: 'f32', bits: view.getUint32(0, true) & 0x7fbfffff } // no NaN: its bits would be the VM's to choose
        : { type: 'f64', bits: view.getBigUint64(0, true) & 0x7ff7ffffffffffffn };
  const out = new Uint8Array(8);
  const ov = new DataView(out.buffer);
  if (value.type === 'i32') ov.setInt32(0, value.value, true);
  else if (value.type === 'i64') ov.setBigInt64(0, value.value, true);
  else if (value.type === 'f32') ov.setUint32(0, value.bits, true);
  else ov.setBigUint64(0, value.bits, true);
  return { value, bytes: [...out.subarray(0, s.width)] };
}

/** Addresses for an access with `offset`: the edges, and ones a 32-bit wrap would send to a neighbour. */
function addressesFor(offset: number, width: number, bases: number[], io: number): number[] {
  const wrapTo = (target: number) => (target - bases[1]! - offset) >>> 0;
  const set = new Set<number>([
    0, 1, PAGE - width, PAGE - width + 1, PAGE - 1, PAGE, PAGE + 1, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffff8, 0xfffffffe, 0xffffffff,
    (PAGE - width - offset) >>> 0, (PAGE - width - offset + 1) >>> 0, (-offset) >>> 0, (-offset - 1) >>> 0,
    wrapTo(bases[0]! + 100), wrapTo(bases[0]! + PAGE - 4), wrapTo(bases[2]!), wrapTo(bases[2]! + 100), wrapTo(0), wrapTo(16), wrapTo(io),
  ]);
  return [...set];
}

const inBounds = (addr: number, offset: number, width: number, size = PAGE) => BigInt(addr >>> 0) + BigInt(offset >>> 0) + BigInt(width) <= BigInt(size);

describe.each([false, true])('the guest stays in its memory and tables (metered: %s)', (metered) => {
  it('A and C surround B in the VM memory', () => {
    const { bases } = setUp(metered);
    expect(bases[0]! + PAGE).toBeLessThanOrEqual(bases[1]!);
    expect(bases[1]! + PAGE).toBeLessThanOrEqual(bases[2]!);
    // Only small records between them (the allocator's headers, the next memory's record): an
    // overrun of B of more than a few hundred bytes lands in A or C.
    expect(bases[1]! - (bases[0]! + PAGE)).toBeLessThanOrEqual(256);
    expect(bases[2]! - (bases[1]! + PAGE)).toBeLessThanOrEqual(256);
  });

  it('loads and stores of every width, form, offset and address', () => {
    const s = setUp(metered);
    const { vm, exports, region, bases, pattern } = s;
    const io = s.io() >>> 0;
    const canaryA = region(0).slice();
    const canaryC = region(2).slice();
    const gaps = s.between();
    const tables = s.probeTables();
    const failures: string[] = [];
    let checked = 0;
    const check = (what: string) => {
      if (Buffer.compare(region(0), canaryA) !== 0) failures.push(`${what}: memory A changed`);
      if (Buffer.compare(region(2), canaryC) !== 0) failures.push(`${what}: memory C changed`);
      const g = s.between();
      if (Buffer.compare(g[0]!, gaps[0]!) !== 0 || Buffer.compare(g[1]!, gaps[1]!) !== 0) failures.push(`${what}: the bytes between the regions changed`);
    };
    const resetB = () => region(1).forEach((_, i, a) => (a[i] = pattern(i)));
    const pristineB = region(1).slice();

    for (const l of LOADS) {
      for (const form of ['p', 'a'] as const) {
        for (const offset of OFFSETS) {
          const f = fn(exports, name(l.op, form, offset));
          for (const addr of addressesFor(offset, l.width, bases, io)) {
            // Form 'a' adds ADD_K (wrapping, as i32.add does) to the argument.
            const arg = form === 'a' ? (addr - ADD_K) >>> 0 : addr;
            const what = `${l.op} offset=${offset} at ${addr} (${form})`;
            const r = vm.invoke(f, [i32(arg)]);
            checked++;
            if (inBounds(addr, offset, l.width)) {
              const want = expectedLoad(l, region(1), addr + offset);
              if (r.kind !== 'completed' || JSON.stringify(r.values[0], big) !== JSON.stringify(want, big)) failures.push(`${what}: ${JSON.stringify(r, big)}, expected ${JSON.stringify(want, big)}`);
            } else if (r.kind !== 'trap' || r.code !== 5) failures.push(`${what}: ${JSON.stringify(r, big)}, expected an out of bounds trap`);
          }
          check(`${l.op} ${form} offset=${offset}`);
        }
      }
      for (const offset of CONST_OFFSETS) {
        for (const addr of CONST_ADDRESSES) {
          const r = vm.invoke(fn(exports, name(l.op, 'k', offset, addr)), []);
          checked++;
          const what = `${l.op} offset=${offset} (i32.const ${addr})`;
          if (inBounds(addr, offset, l.width)) {
            const want = expectedLoad(l, region(1), addr + offset);
            if (r.kind !== 'completed' || JSON.stringify(r.values[0], big) !== JSON.stringify(want, big)) failures.push(`${what}: ${JSON.stringify(r, big)}, expected ${JSON.stringify(want, big)}`);
          } else if (r.kind !== 'trap' || r.code !== 5) failures.push(`${what}: ${JSON.stringify(r, big)}, expected an out of bounds trap`);
        }
      }
      check(`${l.op} constant addresses`);
    }

    let seed = 0;
    for (const st of STORES) {
      const storeCase = (what: string, addr: number, offset: number, run: (v: Value) => ReturnType<Vm['invoke']>) => {
        const { value, bytes } = storeValue(st, seed++);
        const r = run(value);
        checked++;
        const b = region(1);
        if (inBounds(addr, offset, st.width)) {
          const ea = addr + offset;
          const expected = pristineB.slice();
          expected.set(bytes, ea);
          if (r.kind !== 'completed') failures.push(`${what}: ${JSON.stringify(r, big)}, expected to store`);
          else if (Buffer.compare(b, expected) !== 0) failures.push(`${what}: B holds other bytes than expected`);
          resetB();
        } else {
          if (r.kind !== 'trap' || r.code !== 5) failures.push(`${what}: ${JSON.stringify(r, big)}, expected an out of bounds trap`);
          if (Buffer.compare(b, pristineB) !== 0) {
            failures.push(`${what}: a trapping store changed B`);
            resetB();
          }
        }
      };
      for (const form of ['p', 'a'] as const) {
        for (const offset of OFFSETS) {
          const f = fn(exports, name(st.op, form, offset));
          for (const addr of addressesFor(offset, st.width, bases, io)) {
            const arg = form === 'a' ? (addr - ADD_K) >>> 0 : addr;
            storeCase(`${st.op} offset=${offset} at ${addr} (${form})`, addr, offset, (v) => vm.invoke(f, [i32(arg), v]));
          }
          check(`${st.op} ${form} offset=${offset}`);
        }
      }
      for (const offset of CONST_OFFSETS) {
        for (const addr of CONST_ADDRESSES) {
          const f = fn(exports, name(st.op, 'k', offset, addr));
          storeCase(`${st.op} offset=${offset} (i32.const ${addr})`, addr, offset, (v) => vm.invoke(f, [v]));
        }
      }
      check(`${st.op} constant addresses`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(s.probeTables()).toBe(tables);
    expect(vm.usable).toBe(true);
    // The guest's view of B is intact, computed by the guest itself.
    const sum = vm.invoke(fn(exports, 'sum'), []);
    expect(sum).toEqual({ kind: 'completed', values: [{ type: 'i64', value: BigInt(pristineB.reduce((n, x) => n + x, 0)) }] });
    expect(checked).toBeGreaterThan(5000);
  });

  it('bulk memory operations with huge lengths and offsets', () => {
    const s = setUp(metered);
    const { vm, exports, region, pattern } = s;
    const canaryA = region(0).slice();
    const canaryC = region(2).slice();
    const gaps = s.between();
    const pristine = region(1).slice();
    const big32 = [0, 1, 0x8000, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];
    const SEG = 36;
    const failures: string[] = [];
    const reset = () => region(1).forEach((_, i, a) => (a[i] = pattern(i)));
    for (const d of big32) {
      for (const n of big32) {
        for (const src of [0, 0xffff, 0x10000, 0xffffffff]) {
          const cases: [string, Value[], boolean][] = [
            ['fill', [i32(d), i32(0x77), i32(n)], inBounds(d, 0, n)],
            ['copy', [i32(d), i32(src), i32(n)], inBounds(d, 0, n) && inBounds(src, 0, n)],
            ['init', [i32(d), i32(src), i32(n)], inBounds(d, 0, n) && inBounds(src, 0, n, SEG)],
          ];
          for (const [op, args, ok] of cases) {
            const r = vm.invoke(fn(exports, op), args);
            const what = `memory.${op}(${args.map((a) => ((a as { value: number }).value >>> 0).toString(16)).join(', ')})`;
            if (ok ? r.kind !== 'completed' : r.kind !== 'trap' || r.code !== 5) failures.push(`${what}: ${JSON.stringify(r)}`);
            if (!ok && Buffer.compare(region(1), pristine) !== 0) failures.push(`${what}: trapped but changed B`);
            if (Buffer.compare(region(0), canaryA) !== 0 || Buffer.compare(region(2), canaryC) !== 0) failures.push(`${what}: changed A or C`);
            reset();
          }
        }
      }
    }
    const g = s.between();
    expect(Buffer.compare(g[0]!, gaps[0]!) === 0 && Buffer.compare(g[1]!, gaps[1]!) === 0).toBe(true);
    for (const delta of [1, 2, 0x10000, 0x7fffffff, 0xffffffff]) expect(vm.invoke(fn(exports, 'grow'), [i32(delta)])).toEqual({ kind: 'completed', values: [i32(-1)] });
    expect(vm.invoke(fn(exports, 'size'), [])).toEqual({ kind: 'completed', values: [i32(1)] });
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('table operations with huge indices', () => {
    const s = setUp(metered);
    const { vm, exports } = s;
    const before = s.probeTables();
    expect(before).toBe(8 * 40);
    const huge = [8, 9, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];
    const failures: string[] = [];
    const expectTrap = (what: string, r: ReturnType<Vm['invoke']>, codes: number[]) => {
      if (r.kind !== 'trap' || !codes.includes(r.code)) failures.push(`${what}: ${JSON.stringify(r)}`);
    };
    for (const i of huge) {
      expectTrap(`table.get ${i}`, vm.invoke(fn(exports, 'table.get'), [i32(i)]), [6]);
      expectTrap(`table.set ${i}`, vm.invoke(fn(exports, 'table.set'), [i32(i)]), [6]);
      expectTrap(`call_indirect ${i}`, vm.invoke(fn(exports, 'call_indirect'), [i32(i)]), [7]);
      for (const n of [1, 8, 0x7fffffff, 0xffffffff]) {
        expectTrap(`table.fill ${i} ${n}`, vm.invoke(fn(exports, 'table.fill'), [i32(i), i32(n)]), [6]);
        expectTrap(`table.copy ${i} 0 ${n}`, vm.invoke(fn(exports, 'table.copy'), [i32(i), i32(0), i32(n)]), [6]);
        expectTrap(`table.copy 0 ${i} ${n}`, vm.invoke(fn(exports, 'table.copy'), [i32(0), i32(i), i32(n)]), [6]);
        expectTrap(`table.init ${i} 0 ${n}`, vm.invoke(fn(exports, 'table.init'), [i32(i), i32(0), i32(n)]), [6]);
        expectTrap(`table.init 0 ${i} ${n}`, vm.invoke(fn(exports, 'table.init'), [i32(0), i32(i), i32(n)]), [6]);
      }
    }
    for (const n of [9, 0x10000, 0x7fffffff, 0xffffffff]) expect(vm.invoke(fn(exports, 'table.fill'), [i32(0), i32(n)])).toMatchObject({ kind: 'trap', code: 6 });
    for (const d of [1, 0x7fffffff, 0xffffffff]) expect(vm.invoke(fn(exports, 'table.grow'), [i32(d)])).toEqual({ kind: 'completed', values: [i32(-1)] });
    // In range, everything works, and only TB changes.
    expect(vm.invoke(fn(exports, 'table.fill'), [i32(0), i32(8)])).toEqual({ kind: 'completed', values: [] });
    expect(vm.invoke(fn(exports, 'call_indirect'), [i32(7)])).toEqual({ kind: 'completed', values: [i32(1)] });
    expect(failures.slice(0, 20)).toEqual([]);
    expect(s.probeTables()).toBe(before);
  });
});

function big(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
