// A live migration's destination: the guest's memory arrives in rounds of changed 4 KiB blocks
// while it still runs at the source, written straight into a memory the destination made in its
// store (growing it as the guest grows), then a snapshot taken without memory arrives and the
// restored instance adopts that memory instead of making and filling its own. The guest must
// finish as an uninterrupted run does; memories that do not fit, and snapshots that carry memory,
// are refused with the store unchanged; and a long-lived VM that keeps adopting stays flat.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vm, type MemoryType, type Outcome, type Value } from '../../host-intrinsics/vm.js';
import { CollectSink, WasiContext, exitCodeOf, instantiateWasi, linkPreview1 } from '../../host-intrinsics/wasi/index.js';
import { fn, wat } from '../helpers/wat.js';
import { FIXTURES } from '../wasi/harness.js';

const BIG = 1n << 50n;
const PAGE = 65536;
const BLOCK = 4096;

/** How a WASI run ends: completed (exit 0), proc_exit, or stopped for fuel. */
type End = { exit: number } | { suspended: true };
function drive(step: () => Outcome): End {
  try {
    const outcome = step();
    if (outcome.kind === 'completed') return { exit: 0 };
    if (outcome.kind === 'suspended') return { suspended: true };
    throw new Error(`the guest stopped: ${JSON.stringify(outcome)}`);
  } catch (e) {
    const code = exitCodeOf(e);
    if (code === undefined) throw e;
    return { exit: code };
  }
}

function meteredVm(): Vm {
  const vm = Vm.createSync();
  vm.setMetering(true);
  return vm;
}

function exported(vm: Vm, instance: number, name: string, kind: 'func' | 'memory'): number {
  const e = vm.exports(instance).get(name);
  if (e?.kind !== kind) throw new Error(`no exported ${kind} ${name}`);
  return e.addr;
}

function uninterrupted(bytes: Uint8Array, args: string[]) {
  const vm = meteredVm();
  const stdout = new CollectSink();
  const stderr = new CollectSink();
  const ctx = WasiContext.create({ args, stdout, stderr });
  const inst = instantiateWasi(vm, bytes, ctx);
  if (!inst.ok) throw new Error('the fixture does not instantiate');
  vm.fuel = BIG;
  const end = drive(() => vm.invoke(exported(vm, inst.instance, '_start', 'func'), []));
  return { end, stdout: stdout.text(), stderr: stderr.text(), instructions: BIG - vm.fuel };
}

/**
 * The destination's side of the pre-copy rounds: a memory of the module's type in its own store,
 * grown as the source's grows, and the 4 KiB blocks that changed since the last round.
 */
class Receiver {
  readonly addr: number;
  private shadow = new Uint8Array(0); // what was sent so far, to find the changed blocks

  constructor(readonly vm: Vm, type: MemoryType) {
    const mem = vm.newMemory(type);
    if (!mem.ok) throw new Error(mem.message);
    this.addr = mem.addr;
  }

  round(source: Uint8Array): number {
    const have = this.vm.guestMemory(this.addr).length;
    if (source.length > have) expect(this.vm.growMemory(this.addr, (source.length - have) / PAGE)).toBe(have / PAGE);
    if (source.length > this.shadow.length) {
      const grown = new Uint8Array(source.length);
      grown.set(this.shadow);
      this.shadow = grown;
    }
    const target = this.vm.guestMemory(this.addr);
    let sent = 0;
    for (let at = 0; at < source.length; at += BLOCK) {
      const block = source.subarray(at, at + BLOCK);
      if (sameBytes(block, this.shadow.subarray(at, at + BLOCK))) continue;
      target.set(block, at);
      this.shadow.set(block, at);
      sent++;
    }
    return sent;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs the fixture at the source for `point` instructions in `rounds` slices, then migrates it. */
function migrate(bytes: Uint8Array, args: string[], point: bigint, rounds: number) {
  const source = meteredVm();
  const stdout = [new CollectSink(), new CollectSink()];
  const stderr = [new CollectSink(), new CollectSink()];
  const ctx = WasiContext.create({ args, stdout: stdout[0], stderr: stderr[0] });
  const inst = instantiateWasi(source, bytes, ctx);
  if (!inst.ok) throw new Error('the fixture does not instantiate');
  const memory = exported(source, inst.instance, 'memory', 'memory');

  // The destination loads the module and makes the memory before the first round arrives.
  const dest = meteredVm();
  const loaded = dest.loadModule(bytes);
  if (!loaded.ok) throw new Error(loaded.message);
  const memType = loaded.exports.find((e) => e.kind === 'memory');
  if (memType?.kind !== 'memory') throw new Error('the fixture exports no memory');
  const receiver = new Receiver(dest, memType.type);

  const slice = point / BigInt(rounds);
  source.fuel = slice;
  let end = drive(() => source.invoke(exported(source, inst.instance, '_start', 'func'), []));
  let used = slice - source.fuel;
  for (let r = 1; r < rounds && 'suspended' in end; r++) {
    receiver.round(source.guestMemory(memory));
    source.fuel = slice;
    end = drive(() => source.resume());
    used += slice - source.fuel;
  }
  expect(end, `the guest ended before instruction ${point}`).toEqual({ suspended: true });
  const snapshot = source.snapshot(inst.instance, new Uint8Array(0), { withoutMemory: true });
  if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
  receiver.round(source.guestMemory(memory));
  const wasiState = ctx.toJSON();
  const sourceMemory = source.guestMemory(memory).slice();

  const wasi = WasiContext.fromJSON(wasiState, { stdout: stdout[1], stderr: stderr[1] });
  const linked = linkPreview1(dest, wasi, loaded.imports);
  if (!linked.ok) throw new Error(linked.message);
  const restored = dest.restore(snapshot, loaded.id, linked.addrs, [], { memories: [receiver.addr] });
  if (!restored.ok) throw new Error(restored.message);
  // The instance's memory is the one the rounds wrote, as they wrote it.
  expect(exported(dest, restored.id, 'memory', 'memory')).toBe(receiver.addr);
  expect(sameBytes(dest.guestMemory(receiver.addr), sourceMemory)).toBe(true);
  wasi.bindMemory(() => dest.guestMemory(receiver.addr));
  dest.fuel = BIG;
  end = drive(() => dest.resume());
  return {
    end,
    stdout: stdout[0].text() + stdout[1].text(),
    stderr: stderr[0].text() + stderr[1].text(),
    instructions: used + (BIG - dest.fuel),
  };
}

describe('restore adopting a migrated memory', () => {
  const cases = [
    { name: 'intarray', args: ['1000'] },
    // Grows from 17 to 27 pages while it runs: the destination grows its memory between rounds.
    { name: 'memory', args: ['64'] },
  ];
  for (const c of cases) {
    it(`finishes ${c.name} ${c.args.join(' ')} as an uninterrupted run does`, () => {
      const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, `${c.name}.wasm`)));
      const args = [c.name, ...c.args];
      const reference = uninterrupted(bytes, args);
      expect(reference.end).toEqual({ exit: 0 });
      for (const [fraction, rounds] of [[0.05, 1], [0.3, 4], [0.7, 6], [0.97, 3]] as const) {
        const point = BigInt(Math.floor(Number(reference.instructions) * fraction));
        const run = migrate(bytes, args, point, rounds);
        expect(run.stdout, `migrated at instruction ${point}`).toBe(reference.stdout);
        expect(run.stderr).toBe(reference.stderr);
        expect(run.end).toEqual(reference.end);
        expect(run.instructions).toBe(reference.instructions);
      }
    });
  }
});

// A guest without imports that grows its memory as it goes and ends with a checksum of all of it.
const grower = wat(`(module
  (memory (export "memory") 1 40)
  (global $s (mut i64) (i64.const 0))
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $p i32)
    (loop $l
      (if (i32.and (i32.eqz (i32.and (local.get $i) (i32.const 127))) (i32.lt_u (memory.size) (i32.const 12)))
        (then (drop (memory.grow (i32.const 1)))))
      (local.set $p (i32.and (i32.rem_u (i32.mul (local.get $i) (i32.const 40503)) (i32.mul (memory.size) (i32.const 65536)))
        (i32.const -8)))
      (i64.store (local.get $p) (i64.add (i64.load (local.get $p)) (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1)))))
      (global.set $s (i64.add (global.get $s) (i64.load (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $p (i32.const 0))
    (loop $c
      (global.set $s (i64.add (i64.rotl (global.get $s) (i64.const 5)) (i64.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br_if $c (i32.lt_u (local.get $p) (i32.mul (memory.size) (i32.const 65536)))))
    (global.get $s)))`);
const GROWER_TYPE: MemoryType = { min: 1, max: 40 };
const N: Value = { type: 'i32', value: 2000 };

/** The grower suspended after `point` instructions: its snapshot (with or without memory) and memory. */
/** The grower instantiated in a metered Vm of its own. */
function growerInstance() {
  const vm = meteredVm();
  const loaded = vm.loadModule(grower);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = vm.instantiate(loaded.id, []);
  if (!inst.ok) throw new Error(inst.message);
  return { vm, inst };
}

function suspendedGrower(point: bigint, withoutMemory = true) {
  const { vm, inst } = growerInstance();
  vm.fuel = point;
  expect(vm.invoke(fn(vm.exports(inst.id), 'run'), [N])).toEqual({ kind: 'suspended', reason: 'fuel' });
  const snapshot = vm.snapshot(inst.id, new Uint8Array(0), { withoutMemory });
  if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
  return { snapshot, used: point - vm.fuel, image: vm.guestMemory(exported(vm, inst.id, 'memory', 'memory')).slice() };
}

function growerReference() {
  const { vm, inst } = growerInstance();
  vm.fuel = BIG;
  const outcome = vm.invoke(fn(vm.exports(inst.id), 'run'), [N]);
  return { outcome, instructions: BIG - vm.fuel };
}

/** A memory of the grower's type in `vm`, holding `image` (grown to its size, or to `pages`). */
function prepared(vm: Vm, image: Uint8Array, type: MemoryType = GROWER_TYPE, pages = image.length / PAGE): number {
  const mem = vm.newMemory(type);
  if (!mem.ok) throw new Error(mem.message);
  expect(vm.growMemory(mem.addr, pages - type.min)).toBe(type.min);
  vm.guestMemory(mem.addr).set(image.subarray(0, Math.min(image.length, pages * PAGE)));
  return mem.addr;
}

describe('adopting memories', () => {
  const reference = growerReference();
  const point = reference.instructions / 2n;
  const { snapshot, used, image } = suspendedGrower(point);
  const pages = image.length / PAGE;

  const target = () => {
    const vm = meteredVm();
    const loaded = vm.loadModule(grower);
    if (!loaded.ok) throw new Error(loaded.message);
    return { vm, module: loaded.id };
  };
  const finish = (vm: Vm) => {
    vm.fuel = BIG;
    const outcome = vm.resume();
    return { outcome, instructions: used + BIG - vm.fuel };
  };

  it('grows the adopted memory to the snapshot\'s size, zeroing only what growth adds', () => {
    expect(pages).toBeGreaterThan(2);
    const { vm, module } = target();
    // Prepared one page short (the guest grew during the last round): the restore grows it.
    const addr = prepared(vm, image, GROWER_TYPE, pages - 1);
    vm.guestMemory(addr).fill(0xaa, (pages - 1) * PAGE - 16);
    const restored = vm.restore(snapshot, module, [], ['i64'], { memories: [addr] });
    expect(restored).toMatchObject({ ok: true });
    const mem = vm.guestMemory(addr);
    expect(mem.length).toBe(pages * PAGE);
    expect([...mem.subarray((pages - 1) * PAGE - 16, (pages - 1) * PAGE)]).toEqual(new Array(16).fill(0xaa));
    expect(mem.subarray((pages - 1) * PAGE).every((b) => b === 0)).toBe(true);
    // The guest's last page arrives after the final step, before it resumes.
    mem.set(image.subarray((pages - 1) * PAGE - 16), (pages - 1) * PAGE - 16);
    expect(finish(vm)).toEqual(reference);
  });

  it('grows standalone memories from the host within their maximum and the store\'s limit', () => {
    const vm = Vm.createSync();
    const mem = vm.newMemory({ min: 2, max: 5 });
    if (!mem.ok) throw new Error(mem.message);
    vm.guestMemory(mem.addr).fill(7);
    expect(vm.growMemory(mem.addr, 0)).toBe(2);
    expect(vm.growMemory(mem.addr, 2)).toBe(2);
    const view = vm.guestMemory(mem.addr);
    expect(view.length).toBe(4 * PAGE);
    expect(view.subarray(0, 2 * PAGE).every((b) => b === 7)).toBe(true);
    expect(view.subarray(2 * PAGE).every((b) => b === 0)).toBe(true);
    expect(vm.growMemory(mem.addr, 2)).toBe(-1);
    expect(vm.growMemory(mem.addr, 1)).toBe(4);
    vm.setLimits({ memoryPages: 8 });
    const unbounded = vm.newMemory({ min: 1, max: null });
    if (!unbounded.ok) throw new Error(unbounded.message);
    expect(vm.growMemory(unbounded.addr, 8)).toBe(-1);
    expect(vm.growMemory(unbounded.addr, 7)).toBe(1);
    expect(() => vm.growMemory(9999, 1)).toThrow(/no memory at address 9999/);
    expect(vm.usable).toBe(true);
  });

  it('refuses a memory of another type, and changes nothing', () => {
    const { vm, module } = target();
    for (const type of [{ min: 1, max: 41 }, { min: 1, max: null }, { min: 0, max: 40 }]) {
      const wrong = vm.newMemory(type);
      if (!wrong.ok) throw new Error(wrong.message);
      vm.guestMemory(wrong.addr).fill(0x5a);
      const refused = vm.restore(snapshot, module, [], ['i64'], { memories: [wrong.addr] });
      expect(refused).toMatchObject({ ok: false, kind: 'unlinkable', message: expect.stringMatching(/^memory \d+ \(.*\) does not match the module's memory 0 \(1 pages, maximum 40\)$/) });
      // Still the host's, as it was.
      expect(vm.guestMemory(wrong.addr).length).toBe(type.min * PAGE);
      expect(vm.guestMemory(wrong.addr).every((b) => b === 0x5a)).toBe(true);
      expect(vm.dropExtern('memory', wrong.addr)).toEqual({ ok: true });
    }
    expect(vm.suspended).toBe(false);
    const restored = vm.restore(snapshot, module, [], ['i64'], { memories: [prepared(vm, image)] });
    expect(restored).toMatchObject({ ok: true });
    expect(finish(vm)).toEqual(reference);
  });

  it('refuses a snapshot that carries memory, and one smaller than the memory', () => {
    const { vm, module } = target();
    const addr = prepared(vm, image);
    const withMemory = suspendedGrower(point, false).snapshot;
    expect(vm.restore(withMemory, module, [], ['i64'], { memories: [addr] })).toMatchObject({
      ok: false, kind: 'snapshot', message: `the snapshot carries the contents of memory 0: adopting memory ${addr} needs a snapshot taken without memory`,
    });
    const earlier = suspendedGrower(50n).snapshot;
    expect(vm.restore(earlier, module, [], ['i64'], { memories: [addr] })).toMatchObject({
      ok: false, kind: 'snapshot', message: expect.stringMatching(new RegExp(`^memory ${addr} has ${pages} pages, more than the snapshot's \\d+$`)),
    });
    expect(sameBytes(vm.guestMemory(addr), image)).toBe(true);
    const restored = vm.restore(snapshot, module, [], ['i64'], { memories: [addr] });
    expect(restored).toMatchObject({ ok: true });
    expect(finish(vm)).toEqual(reference);
  });

  it('refuses memories that are not the host\'s to give, or the wrong number of them', () => {
    const { vm, module } = target();
    const addr = prepared(vm, image);
    expect(vm.restore(snapshot, module, [], ['i64'], { memories: [] })).toMatchObject({
      ok: false, message: 'the module defines 1 memory, 0 given to adopt',
    });
    expect(vm.restore(snapshot, module, [], ['i64'], { memories: [addr, addr] })).toMatchObject({
      ok: false, message: 'the module defines 1 memory, 2 given to adopt',
    });
    expect(vm.restore(snapshot, module, [], ['i64'], { memories: [12345] })).toMatchObject({ ok: false, message: 'no memory 12345' });
    const first = vm.restore(snapshot, module, [], ['i64'], { memories: [addr] });
    if (!first.ok) throw new Error(first.message);
    vm.abandon();
    // Now the first instance's memory: a second instance may not take it.
    expect(vm.restore(snapshot, module, [], ['i64'], { memories: [addr] })).toMatchObject({
      ok: false, message: `memory ${addr} belongs to or is imported by instance ${first.id}`,
    });
    expect(vm.dropExtern('memory', addr)).toMatchObject({ ok: false });
    // Dropping the instance frees its adopted memory.
    expect(vm.dropInstance(first.id)).toEqual({ ok: true });
    expect(() => vm.growMemory(addr, 0)).toThrow(`no memory at address ${addr}`);
    const restored = vm.restore(snapshot, module, [], ['i64'], { memories: [prepared(vm, image)] });
    expect(restored).toMatchObject({ ok: true });
    expect(finish(vm)).toEqual(reference);
  });

  it('adopts a host-owned memory (the memory intrinsics class)', () => {
    const vm = Vm.createSync({ intrinsicClasses: ['bulk', 'memory'] });
    vm.setMetering(true);
    const loaded = vm.loadModule(grower);
    if (!loaded.ok) throw new Error(loaded.message);
    const addr = prepared(vm, image, GROWER_TYPE, pages - 1);
    expect(vm.guestMemory(addr).buffer).not.toBe((vm.rawExports.memory as WebAssembly.Memory).buffer);
    const restored = vm.restore(snapshot, loaded.id, [], ['i64'], { memories: [addr] });
    expect(restored).toMatchObject({ ok: true });
    const mem = vm.guestMemory(addr);
    expect(mem.length).toBe(pages * PAGE);
    expect(mem.subarray((pages - 1) * PAGE).every((b) => b === 0)).toBe(true);
    mem.set(image.subarray((pages - 1) * PAGE), (pages - 1) * PAGE);
    expect(finish(vm)).toEqual(reference);
  });

  it('takes 100 adopt-restores in one VM with its memory flat after warm-up', () => {
    const { vm, module } = target();
    const vmMemory = () => (vm.rawExports.memory as WebAssembly.Memory).buffer.byteLength;
    let warm = 0;
    for (let k = 0; k < 100; k++) {
      const restored = vm.restore(snapshot, module, [], ['i64'], { memories: [prepared(vm, image)] });
      if (!restored.ok) throw new Error(`restore ${k}: ${restored.message}`);
      expect(finish(vm)).toEqual(reference);
      expect(vm.dropInstance(restored.id)).toEqual({ ok: true });
      if (k === 20) warm = vmMemory();
    }
    expect(vmMemory()).toBe(warm);
  });

  it('keeps restoring the usual way when no memories are given', () => {
    const { vm, module } = target();
    const full = suspendedGrower(point, false).snapshot;
    const restored = vm.restore(full, module, [], ['i64']);
    expect(restored).toMatchObject({ ok: true });
    expect(finish(vm)).toEqual(reference);
    // Without memory and without memories to adopt: zeroed memory of the snapshot's size.
    const bare = vm.restore(snapshot, module, [], ['i64']);
    if (!bare.ok) throw new Error(bare.message);
    const mem = vm.guestMemory(exported(vm, bare.id, 'memory', 'memory'));
    expect(mem.length).toBe(pages * PAGE);
    expect(mem.every((b) => b === 0)).toBe(true);
  });
});
