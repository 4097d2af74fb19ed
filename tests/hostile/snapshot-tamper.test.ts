// Snapshot tampering: real snapshots of a guest suspended by fuel (several frames deep, with
// funcrefs in locals, operands, a global and a table), then damaged.
// - Damaged without fixing the checksum (bit flips, truncations, extensions, header changes):
//   every one is refused with an error of kind 'snapshot'; nothing throws; the Vm stays usable,
//   has nothing pending, and — after all of them, in the same Vm — the intact snapshot restores
//   and finishes with the uninterrupted run's result (so no refused attempt restored anything).
// - Fields rewritten with the checksum recomputed (counts, sizes, page indices, frame functions,
//   positions, heights, function addresses, table entries, globals, frame slots): each is refused
//   with kind 'snapshot' (or 'limit'), or restored and then resumed to an ordinary outcome
//   (completed, trap, suspended) — never an exception out of the VM, never an unusable Vm; and
//   after a refusal, the intact snapshot still restores in that Vm and gives the right result.

import { describe, expect, it } from 'vitest';
import { Vm, type Outcome } from '../../host-intrinsics/vm.js';
import { fn, wat } from '../helpers/wat.js';
import { SNAPSHOT_GUEST as guest, SNAPSHOT_GUEST_ARG as N } from '../fuzz/snapshot-guest.js';
import { Rng } from '../fuzz/rng.js';
import { layout, resealed, withField } from '../fuzz/snapshot-format.js';
import { restoreIsolated } from '../fuzz/isolated.js';


function started() {
  const vm = Vm.createSync();
  vm.setMetering(true);
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = vm.instantiate(loaded.id, []);
  if (!inst.ok) throw new Error(inst.message);
  return { vm, inst: inst.id, run: fn(vm.exports(inst.id), 'run') };
}

const reference = (() => {
  const { vm, run } = started();
  vm.fuel = 1n << 40n;
  const outcome = vm.invoke(run, [N]);
  return { outcome, fuel: (1n << 40n) - vm.fuel };
})();

/** Snapshots suspended by fuel at `points` (instructions executed). */
function snapshotsAt(points: bigint[]): Uint8Array[] {
  return points.map((point) => {
    const { vm, inst, run } = started();
    vm.fuel = point;
    expect(vm.invoke(run, [N])).toEqual({ kind: 'suspended', reason: 'fuel' });
    const snap = vm.snapshot(inst, new Uint8Array([7, 7, 7]), { embedModule: true });
    if (!(snap instanceof Uint8Array)) throw new Error(snap.message);
    return snap;
  });
}

/** A fresh, metered Vm with the guest loaded, ready for `restore`. */
function fresh() {
  const vm = Vm.createSync();
  vm.setMetering(true);
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  return { vm, module: loaded.id };
}

// A tampered loop counter may make the rest of the run arbitrarily long: fuel bounds it.
function finish(vm: Vm): Outcome {
  vm.fuel = reference.fuel * 2n;
  return vm.resume();
}

/** Restores `bytes` in `vm`: the refusal (its kind), or the outcome of resuming. Throws only what the Vm threw. */
function attempt(vm: Vm, module: number, bytes: Uint8Array): { refused: string } | { outcome: Outcome } {
  const r = vm.restore(bytes, module, [], ['i64']);
  if (!r.ok) return { refused: r.kind };
  if (!vm.suspended) return { outcome: { kind: 'completed', values: [] } };
  return { outcome: finish(vm) };
}

describe('tampered snapshots', () => {
  const points = [reference.fuel / 7n, reference.fuel / 3n, (reference.fuel * 5n) / 6n];
  const snaps = snapshotsAt(points);

  it('the intact snapshots restore and finish with the uninterrupted result', () => {
    expect(reference.outcome.kind).toBe('completed');
    for (const s of snaps) {
      const { vm, module } = fresh();
      expect(attempt(vm, module, s)).toEqual({ outcome: reference.outcome });
      expect(layout(s).sections.map((x) => x.tag)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });

  it('refuses every damaged snapshot, restores none of them even in part', () => {
    const rng = new Rng(0x5a5a);
    let tried = 0;
    for (const good of snaps) {
      const { vm, module } = fresh();
      const { sections } = layout(good);
      const mutants: { what: string; bytes: Uint8Array }[] = [];
      // Bit flips spread over the whole snapshot (header, every section, the trailer).
      for (let k = 0; k < 60; k++) {
        const at = k < 40 ? Math.floor((k / 40) * good.length) : rng.below(good.length);
        const bytes = good.slice();
        bytes[at]! ^= 1 << rng.below(8);
        mutants.push({ what: `bit flip at ${at}`, bytes });
      }
      // Truncations at and around every section boundary, and extensions.
      for (const s of sections) {
        for (const cut of [s.start, s.start + 4, s.payload, s.payload + 1, s.end - 1]) mutants.push({ what: `truncated to ${cut}`, bytes: good.slice(0, cut) });
      }
      for (const cut of [0, 1, 7, 8, 12, 23, 24, good.length - 9, good.length - 8, good.length - 1]) mutants.push({ what: `truncated to ${cut}`, bytes: good.slice(0, cut) });
      mutants.push({ what: 'one byte appended', bytes: Uint8Array.from([...good, 0]) });
      mutants.push({ what: 'trailer duplicated', bytes: Uint8Array.from([...good, ...good.subarray(good.length - 8)]) });
      mutants.push({ what: 'all zero', bytes: new Uint8Array(good.length) });
      mutants.push({ what: 'all 0xff', bytes: new Uint8Array(good.length).fill(0xff) });
      for (const m of mutants) {
        tried++;
        const r = vm.restore(m.bytes, module, [], ['i64']);
        expect(r, m.what).toMatchObject({ ok: false, kind: 'snapshot' });
        expect(vm.usable, m.what).toBe(true);
        expect(vm.suspended, m.what).toBe(false);
        expect(vm.snapshotInfo(m.bytes), m.what).toMatchObject({ ok: false, kind: 'snapshot' });
      }
      // Nothing of the refused ones was restored: the intact one still restores here.
      expect(attempt(vm, module, good)).toEqual({ outcome: reference.outcome });
    }
    expect(tried).toBeGreaterThan(300);
  });

  it('names a future format version and refuses a foreign module, restoring nothing', () => {
    const { vm, module } = fresh();
    const future = withField(snaps[0]!, 8, 4, 3n);
    expect(vm.restore(future, module, [], ['i64'])).toMatchObject({ ok: false, kind: 'snapshot', message: expect.stringMatching(/version 3/) });
    const other = vm.loadModule(wat('(module (memory 1) (func (export "run") (param i32) (result i64) (i64.const 0)))'));
    if (!other.ok) throw new Error(other.message);
    expect(vm.restore(snaps[0]!, other.id, [], ['i64'])).toMatchObject({ ok: false, kind: 'snapshot' });
    expect(attempt(vm, module, snaps[0]!)).toEqual({ outcome: reference.outcome });
  });

  // Each field rewritten (checksum recomputed) with values near and far from the real one. These
  // run in child processes (isolated.ts): a VM that loops forever on one must not stall the suite.
  it('survives rewritten fields: refused (leaving nothing behind), or restored and run to an ordinary outcome', async () => {
    const good = snaps[1]!;
    const { fields } = layout(good);
    const view = new DataView(good.buffer, good.byteOffset);
    const frameOf = (name: string) => Number(/^frame (\d+) slot/.exec(name)?.[1] ?? -1);
    const lastFrame = Math.max(...fields.map((f) => frameOf(f.name)));
    // Fields that frame the structure: any other value makes the snapshot inconsistent.
    // (A segment's length is a value: 0 when dropped; the VM takes any smaller one for dropped.)
    const structural = /count|section \d+ length|host state length|module length|locals|operands|stored pages|table \d+ size|tag/;
    const cases: { field: string; value: bigint; structural: boolean; bytes: Uint8Array }[] = [];
    for (const f of fields) {
      if (f.name === 'magic' || f.name === 'format version' || f.name === 'module hash') continue;
      const k = frameOf(f.name);
      if (k > 1 && k < lastFrame - 1) continue;
      const old = f.width === 1 ? BigInt(view.getUint8(f.at)) : f.width === 4 ? BigInt(view.getUint32(f.at, true)) : view.getBigUint64(f.at, true);
      const values = new Set<bigint>([old + 1n, old === 0n ? 2n : old - 1n, 0n, 0xffffffffn, 0x7fffffffn, old + 4096n]);
      if (f.width === 8) for (const v of [0xdeadbeefn, 0xffffffff_ffffffffn, 0x1_0000_0001n]) values.add(v);
      if (f.width === 1) for (const v of [0xffn, 0x80n]) values.add(v);
      values.delete(old);
      for (const value of values) {
        if (f.width === 1 && value > 0xffn) continue;
        cases.push({ field: f.name, value, structural: structural.test(f.name), bytes: withField(good, f.at, f.width, value) });
      }
    }
    const results = await restoreIsolated(guest, cases.map((c) => c.bytes), { metered: true, fuel: reference.fuel * 2n, intact: good, timeoutMs: 3000 });
    const expected = reference.outcome.kind === 'completed' ? String((reference.outcome.values[0] as { value: bigint }).value) : '?';
    const problems: string[] = [];
    const accepted: Record<string, number> = {};
    results.forEach((r, i) => {
      const c = cases[i]!;
      const what = `${c.field} := ${c.value}`;
      if (r.hang) return void problems.push(`${what}: hangs (in ${r.step})`);
      if (r.threw) return void problems.push(`${what}: the VM threw in ${r.threw}`);
      // A snapshot may legitimately give a memory up to the VM's limit.
      if ((r.vmMemoryMiB ?? 0) > 128 && !/^memory \d+ pages$/.test(c.field)) problems.push(`${what}: the VM's memory grew to ${r.vmMemoryMiB} MiB`);
      if (r.info && 'bytes' in r.info && r.info.bytes > c.bytes.length + 256) problems.push(`${what}: snapshot_info returned ${r.info.bytes} bytes for a ${c.bytes.length}-byte snapshot`);
      if (r.restore === 'ok') {
        const field = c.field.replace(/\d+/g, 'N');
        accepted[field] = (accepted[field] ?? 0) + 1;
        if (c.structural) problems.push(`${what}: an inconsistent snapshot was restored`);
        if (!r.outcome || !['completed', 'trap', 'suspended'].includes(r.outcome.status)) problems.push(`${what}: resumed to ${JSON.stringify(r.outcome)}`);
      } else if (r.restore) {
        if (r.restore.kind !== 6 && r.restore.kind !== 5) problems.push(`${what}: refused with error kind ${r.restore.kind} (${r.restore.message})`);
        if (!r.intact || !('status' in r.intact) || r.intact.status !== 'completed' || r.intact.value !== expected) {
          problems.push(`${what}: refused (${r.restore.message}), but then the intact snapshot gave ${JSON.stringify(r.intact)}`);
        }
      }
    });
    console.log(`snapshot fields: ${cases.length} rewrites in ${results.reduce((n, r) => n + r.ms, 0)} ms of child time; accepted (a different but consistent state) by field: ${JSON.stringify(accepted)}`);
    expect(problems).toEqual([]);
  }, 120000);

  it('refuses a resealed snapshot with a section dropped, repeated or out of order', () => {
    const good = snaps[1]!;
    const { sections } = layout(good);
    const parts = sections.map((s) => good.subarray(s.start, s.end));
    const head = good.subarray(0, sections[0]!.start);
    const build = (ps: Uint8Array[]) => resealed(Uint8Array.from([...head, ...ps.flatMap((p) => [...p]), 0, 0, 0, 0, 0, 0, 0, 0]));
    const { vm, module } = fresh();
    const accepted: string[] = [];
    const tryIt = (what: string, bytes: Uint8Array) => {
      const r = vm.restore(bytes, module, [], ['i64']);
      if (r.ok) {
        accepted.push(what);
        vm.abandon();
      } else expect(r.kind, what).toBe('snapshot');
    };
    for (let i = 0; i < parts.length; i++) {
      const tag = sections[i]!.tag;
      tryIt(`section ${tag} dropped`, build(parts.filter((_, k) => k !== i)));
      const dup = [...parts];
      dup.splice(i, 0, parts[i]!);
      tryIt(`section ${tag} twice`, build(dup));
      if (i + 1 < parts.length) {
        const swapped = [...parts];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
        tryIt(`sections ${tag} and ${sections[i + 1]!.tag} swapped`, build(swapped));
      }
    }
    // FORMAT.md: each section once, in this order.
    expect(accepted).toEqual([]);
  });
});
