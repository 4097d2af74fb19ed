// Large guest memories. A guest that grows 1 MiB at a time to 1 GiB runs to the end, without a copy
// of its whole memory per memory.grow (the VM's resident memory stays near the guest's size), and
// growth the VM cannot hold gives -1 as the spec allows, after which the VM goes on working.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Vm } from '../../host-intrinsics/vm.js';
import { fn, instantiate, wat } from '../helpers/wat.js';

const MiB = 1 << 20;

// Grows 16 pages (1 MiB) `steps` times, writing a word into every 4 KiB of each new MiB, then
// reads every word back: their sum, or -1 if a grow failed.
const TOUCHER = `(module
  (memory (export "mem") 0)
  (func (export "run") (param $steps i32) (result i64)
    (local $i i32) (local $a i32) (local $end i32) (local $sum i64)
    (block $grown
      (loop $grow
        (br_if $grown (i32.ge_u (local.get $i) (local.get $steps)))
        (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then (return (i64.const -1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $end (i32.shl (local.get $i) (i32.const 20)))
        (loop $touch
          (i32.store (local.get $a) (i32.mul (i32.shr_u (local.get $a) (i32.const 12)) (i32.const 0x9e3779b1)))
          (local.set $a (i32.add (local.get $a) (i32.const 4096)))
          (br_if $touch (i32.ne (local.get $a) (local.get $end))))
        (br $grow)))
    (local.set $a (i32.const 0))
    (block $read
      (loop $sum
        (br_if $read (i32.eq (local.get $a) (local.get $end)))
        (local.set $sum (i64.add (local.get $sum) (i64.load32_u (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 4096)))
        (br $sum)))
    (local.get $sum)))`;

function touchedSum(steps: number): bigint {
  let sum = 0;
  for (let k = 0; k < steps * 256; k++) sum += Math.imul(k, 0x9e3779b1) >>> 0;
  return BigInt(sum);
}

// Grows `step` pages at a time until memory.grow fails: the size reached. `poke` writes and reads the
// last page (and grows by one more, which must fail again).
const grower = (limits: string, step = 16) => `(module
  (memory (export "mem") ${limits})
  (func (export "fill") (result i32)
    (block $full (loop $grow
      (br_if $full (i32.eq (memory.grow (i32.const ${step})) (i32.const -1)))
      (br $grow)))
    (memory.size))
  (func (export "poke") (param $v i64) (result i64)
    (local $top i32)
    (local.set $top (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 8)))
    (i64.store (local.get $top) (local.get $v))
    (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
    (i64.add (i64.load (local.get $top)) (i64.extend_i32_u (memory.size)))))`;

// The process's peak resident memory (it runs this file alone, this test first).
function peakResident(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

function completed(outcome: ReturnType<Vm['invoke']>): bigint | number {
  if (outcome.kind !== 'completed') throw new Error(`expected completion, got ${JSON.stringify(outcome)}`);
  return (outcome.values[0] as { value: bigint | number }).value;
}

describe('large guest memories', () => {
  it('grows 1 MiB at a time to 1 GiB, touching every page, with resident memory near the guest size', () => {
    const steps = 1024;
    const guest = steps * MiB;
    const before = peakResident();
    const vm = Vm.createSync();
    const ex = instantiate(vm, TOUCHER);
    const t0 = performance.now();
    const sum = completed(vm.invoke(fn(ex, 'run'), [{ type: 'i32', value: steps }]));
    const ms = performance.now() - t0;
    const peak = peakResident();
    expect(sum).toBe(touchedSum(steps));
    expect(vm.guestMemory(ex.get('mem')!.addr).length).toBe(guest);
    // Growing by 0 steps reads nothing: the VM is still usable after the big run.
    expect(completed(vm.invoke(fn(ex, 'run'), [{ type: 'i32', value: 0 }]))).toBe(0n);
    console.log(`1 GiB guest: ${Math.round(ms)} ms in the VM; peak resident ${Math.round(peak / MiB)} MiB, ${Math.round(before / MiB)} MiB before the run`);
    // The worker's own memory is in both; a copy of the whole memory per step would add gigabytes.
    expect(peak - before).toBeLessThan(1.5 * guest);
    expect(peak).toBeLessThan(2.5 * guest);
  }, 120_000);

  it('gives -1 at the maximum the guest declares, and the VM goes on', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, grower('1 200'));
    expect(completed(vm.invoke(fn(ex, 'fill'), []))).toBe(193);
    expect(vm.guestMemory(ex.get('mem')!.addr).length).toBe(193 * 65536);
    expect(completed(vm.invoke(fn(ex, 'poke'), [{ type: 'i64', value: 5n }]))).toBe(5n + 193n);
  });

  it('shows only the guest\'s size, and growth reads zero even in a block that held another memory', () => {
    const vm = Vm.createSync();
    // Room beyond the size is invisible: the page after the last traps.
    const more = instantiate(vm, `(module (memory 4) (func (export "g") (result i32)
      (drop (memory.grow (i32.const 1))) (i32.load (i32.const 327680))))`);
    expect(vm.invoke(fn(more, 'g'), []).kind).toBe('trap');
    // An instance fills 40 pages with ones and goes; the next grows a page at a time into what
    // the allocator hands out again, and must see zeros.
    // (f has g's type: the next instance's g gets f's function address.)
    const dirty = vm.loadModule(wat(`(module (memory 40) (func (export "f") (result i32)
      (memory.fill (i32.const 0) (i32.const 0xff) (i32.const 2621440)) (i32.const 0)))`));
    if (!dirty.ok) throw new Error(dirty.message);
    const sums: number[] = [];
    for (let round = 0; round < 3; round++) {
      const a = vm.instantiate(dirty.id, []);
      if (!a.ok) throw new Error(a.message);
      expect(vm.invoke(vm.exports(a.id).get('f')!.addr, []).kind).toBe('completed');
      expect(vm.dropInstance(a.id).ok).toBe(true);
      const b = instantiate(vm, `(module (memory 1) (func (export "g") (result i32) (local $a i32) (local $s i32)
        (block $done (loop $l
          (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const 80)))
          (br $l)))
        (loop $sum
          (local.set $s (i32.or (local.get $s) (i32.load (local.get $a))))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (br_if $sum (i32.lt_u (local.get $a) (i32.const 5308416))))
        (local.get $s)))`);
      sums.push(completed(vm.invoke(fn(b, 'g'), [])) as number);
    }
    expect(sums).toEqual([0, 0, 0]);
  });

  it('gives -1 where the VM cannot hold more, without a maximum, and the VM goes on', () => {
    const vm = Vm.createSync();
    const ex = instantiate(vm, grower('0'));
    const pages = completed(vm.invoke(fn(ex, 'fill'), [])) as number;
    // The VM's own memory is 4 GiB at most: it holds well over 1 GiB of guest, and gives -1
    // short of the spec's 65536 pages.
    expect(pages).toBeGreaterThan(16384);
    expect(pages).toBeLessThan(65536);
    expect(completed(vm.invoke(fn(ex, 'poke'), [{ type: 'i64', value: 7n }]))).toBe(7n + BigInt(pages));
    // The store still makes instances, memories and runs them.
    const small = instantiate(vm, grower('1 3'));
    expect(completed(vm.invoke(fn(small, 'fill'), []))).toBe(1);
    expect(vm.newMemory({ min: 1, max: null }).ok).toBe(true);
    // A memory of a second instance cannot have what the first one took: -1, not a crash.
    const second = instantiate(vm, grower('0'));
    const got = completed(vm.invoke(fn(second, 'fill'), [])) as number;
    expect(got).toBeLessThan(pages);
    expect(completed(vm.invoke(fn(ex, 'poke'), [{ type: 'i64', value: 9n }]))).toBe(9n + BigInt(pages));
  }, 120_000);

  it('keeps a host-owned memory (the memory intrinsic class) as before', () => {
    const vm = Vm.createSync();
    vm.setIntrinsicClasses(['memory']);
    const ex = instantiate(vm, grower('1 64'));
    expect(completed(vm.invoke(fn(ex, 'fill'), []))).toBe(49);
    expect(completed(vm.invoke(fn(ex, 'poke'), [{ type: 'i64', value: 3n }]))).toBe(3n + 49n);
    const t = instantiate(vm, TOUCHER);
    expect(completed(vm.invoke(fn(t, 'run'), [{ type: 'i32', value: 4 }]))).toBe(touchedSum(4));
  });
});
