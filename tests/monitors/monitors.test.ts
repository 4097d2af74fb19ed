// Monitors on modules whose counts are known by construction (see each expectation's comment),
// and their survival across a snapshot and restore.

import { describe, expect, it } from 'vitest';
import { Vm, type Value } from '../../host-intrinsics/vm.js';
import { report, reportJson, reportText } from '../../host-intrinsics/monitors/report.js';
import { fn, wat } from '../helpers/wat.js';

const guest = wat(`(module
  (memory 1)
  (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $unused (result i32) (i32.const 0))
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (call $sq (local.get $i))))
        (i32.store (i32.const 8) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.load (i32.const 8))))`);

// Per run(n), by segment:
//   entry         block, loop                                              once
//   loop body     local.get, local.get, i32.ge_u, br_if                    n+1 times
//   before call   local.get, local.get, call                               n times
//   after call    i32.add, local.set, i32.const, local.get, i32.store,
//                 local.get, i32.const, i32.add, local.set, br             n times
//   exit          i32.const, i32.load, end                                 once
//   $sq           local.get, local.get, i32.mul, end                       n times
// The loop's and the block's `end` never run: `br` leaves the loop body, and br_if's target is
// past the block's end.
const total = (n: number) => 2 + 4 * (n + 1) + 3 * n + 10 * n + 3 + 4 * n;

function monitored() {
  const vm = Vm.createSync();
  vm.setMonitoring(true);
  vm.fuel = 1n << 50n;
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = vm.instantiate(loaded.id, []);
  if (!inst.ok) throw new Error(inst.message);
  return { vm, module: loaded.id, inst: inst.id, run: fn(vm.exports(inst.id), 'run') };
}

const N: Value = { type: 'i32', value: 10 };

describe('monitors', () => {
  const { vm, inst, run } = monitored();
  expect(vm.invoke(run, [N])).toEqual({ kind: 'completed', values: [{ type: 'i32', value: 285 }] });
  const r = report(vm.monitorCounters(inst));

  it('counts every executed instruction once', () => {
    expect(r.count).toBe(BigInt(total(10)));
    expect((1n << 50n) - vm.fuel).toBe(BigInt(total(10)));
  });

  it('counts each instruction under its own mnemonic, whatever the IR fused', () => {
    expect(Object.fromEntries(r.opcodes)).toEqual({
      'local.get': 2n * 11n + 2n * 10n + 2n * 10n + 2n * 10n, // loop test, call args, store and add, $sq
      'i32.const': 2n * 10n + 1n, // store address and increment; the exit's load address
      'i32.add': 20n,
      'local.set': 20n,
      'br_if': 11n,
      'i32.ge_u': 11n,
      'call': 10n,
      'i32.store': 10n,
      'br': 10n,
      'i32.mul': 10n,
      'end': 11n,
      'block': 1n,
      'loop': 1n,
      'i32.load': 1n,
    });
    const sum = [...r.opcodes.values()].reduce((a, b) => a + b, 0n);
    expect(sum).toBe(r.count);
  });

  it('profiles calls, coverage, loops, branches and memory accesses', () => {
    expect(r.calls.map((c) => [c.index, c.calls, c.selfInstructions])).toEqual([
      [2, 1n, BigInt(total(10) - 40)],
      [0, 10n, 40n],
    ]);
    expect(r.coverage.blocks).toBe(5 + 1 + 1);
    expect(r.coverage.covered).toBe(6); // $unused never ran
    expect(r.loops).toEqual([{ function: 'func[2]', offset: expect.any(Number), iterations: 11n }]);
    expect(r.branches).toEqual([{ function: 'func[2]', segment: r.loops[0].offset, kind: 'br_if', taken: 1n, notTaken: 10n }]);
    expect(r.memory).toMatchObject({ loads: 1n, stores: 10n, bytesLoaded: 4n, bytesStored: 40n });
  });

  it('writes JSON with exact counts and text tables', () => {
    const json = reportJson(r, ['count', 'opcodes']);
    expect(json).toEqual({ count: total(10), opcodes: expect.objectContaining({ 'local.get': 82, 'i32.store': 10 }) });
    expect(reportText(r, ['opcodes'])).toMatch(/top instructions\nop\s+count\s+share\nlocal\.get\s+82\s+\d+\.\d\d%/);
  });
});

describe('monitors across a snapshot', () => {
  it('go on counting: a migrated run totals what an unmigrated one does', () => {
    const whole = monitored();
    whole.vm.invoke(whole.run, [N]);
    const expected = report(whole.vm.monitorCounters(whole.inst));

    for (const at of [1n, 37n, BigInt(total(10) - 3)]) {
      const first = monitored();
      first.vm.fuel = at;
      expect(first.vm.invoke(first.run, [N])).toMatchObject({ kind: 'suspended' });
      const snapshot = first.vm.snapshot(first.inst);
      if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
      const second = Vm.createSync();
      second.setMonitoring(true);
      const loaded = second.loadModule(guest);
      if (!loaded.ok) throw new Error(loaded.message);
      const restored = second.restore(snapshot, loaded.id, [], ['i32']);
      if (!restored.ok) throw new Error(restored.message);
      second.fuel = 1n << 50n;
      expect(second.resume()).toEqual({ kind: 'completed', values: [{ type: 'i32', value: 285 }] });
      const migrated = report(second.monitorCounters(restored.id));
      expect(migrated.count).toBe(expected.count);
      expect(migrated.opcodes).toEqual(expected.opcodes);
      expect(migrated.calls).toEqual(expected.calls);
      expect(migrated.branches).toEqual(expected.branches);
    }
  });
});
