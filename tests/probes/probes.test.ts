// Probes on a module whose events are known by construction: callback probes of every kind on
// both engines, in-VM recording (memory trace, indirect call targets, inclusive instructions),
// and both across snapshots — at a probe stop and at random fuel points.

import { describe, expect, it } from 'vitest';
import { Vm, decodeTrace, type Engine, type ProbeConfig, type ProbeEvent, type Value } from '../../host-intrinsics/vm.js';
import { report } from '../../host-intrinsics/monitors/report.js';
import { ENGINES, addr, instantiate } from '../component/helpers.js';
import { wat } from '../helpers/wat.js';

const source = `(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $double $square)
  (type $t (func (param i32) (result i32)))
  (func $double (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $fact (param i32) (result i32)
    (if (result i32) (i32.le_u (local.get 0) (i32.const 1))
      (then (i32.const 1))
      (else (i32.mul (local.get 0) (call $fact (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store offset=12 (i32.const 4) (call_indirect (type $t) (local.get $i) (i32.and (local.get $i) (i32.const 1))))
        (local.set $s (i32.add (local.get $s) (i32.load16_u (i32.const 16))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (local.get $s) (call $fact (i32.const 4)))))`;
const guest = wat(source);
const N: Value = { type: 'i32', value: 4 };
// run(4): double(0), square(1), double(2), square(3) stored and summed (14), plus fact(4) = 24.
const RESULT = { kind: 'completed', values: [{ type: 'i32', value: 38 }] };
// Instructions by the metering rule: run's block + loop on entry, 21 per iteration (the test 4,
// the body 17), the test once more to leave, the tail 5; $double/$square 4 per call; $fact(n > 1)
// 12 (the if goes to its else arm, whose end and the body's end count), $fact(1) 7 (the then-arm
// falls into else, which jumps past the if's end).
const FACT4 = 3 * 12 + 7;
const TOTAL = 2 + 21 * 4 + 4 + 5 + 4 * 4 + FACT4;

function load(engine: Engine) {
  return addr(instantiate(engine, source), 'run');
}

function collect(engine: Engine, config: ProbeConfig): ProbeEvent[] {
  engine.setProbes(config);
  const run = load(engine);
  const events: ProbeEvent[] = [];
  expect(engine.invoke(run, [N], { onProbe: (e) => events.push(e) })).toEqual(RESULT);
  return events;
}

const tally = (events: ProbeEvent[], key: (e: ProbeEvent) => string) => {
  const out: Record<string, number> = {};
  for (const e of events) out[key(e)] = (out[key(e)] ?? 0) + 1;
  return out;
};

describe.each(ENGINES)('callback probes on %s', (_, create) => {
  it('fire before every instruction, as often as the fuel counts', () => {
    const events = collect(create(), { instruction: true });
    expect(events.length).toBe(TOTAL);
    expect(tally(events, (e) => String(e.func))).toEqual({ 0: 8, 1: 8, 2: FACT4, 3: TOTAL - 16 - FACT4 });
  });

  it('fire on entry and exit of every call, with the function', () => {
    const events = collect(create(), { entry: true, exit: true });
    expect(tally(events, (e) => `${e.probe} ${e.func}`)).toEqual({
      'entry 0': 2, 'exit 0': 2, 'entry 1': 2, 'exit 1': 2, 'entry 2': 4, 'exit 2': 4, 'entry 3': 1, 'exit 3': 1,
    });
    // Calls nest: every exit matches the latest unmatched entry.
    const stack: number[] = [];
    for (const e of events) {
      if (e.probe === 'entry') stack.push(e.func);
      else expect(stack.pop()).toBe(e.func);
    }
  });

  it('report every load and store with its effective address and size', () => {
    const events = collect(create(), { memory: true });
    expect(events.map((e) => e.probe === 'memory' && [e.address, e.base, e.staticOffset, e.size, e.store])).toEqual(
      Array.from({ length: 4 }, () => [[16, 4, 12, 4, true], [16, 16, 0, 2, false]]).flat(),
    );
  });

  it('report branch outcomes: br_if and if taken or not', () => {
    const events = collect(create(), { branches: true });
    expect(tally(events, (e) => (e.probe === 'branch' && 'taken' in e ? `${e.instruction} ${e.taken}` : '?'))).toEqual({
      'br_if false': 4, 'br_if true': 1, 'if false': 3, 'if true': 1,
    });
  });

  it('report call targets, direct and indirect', () => {
    const events = collect(create(), { calls: true });
    expect(events.map((e) => e.probe === 'call' && `${e.indirect ? 'indirect' : 'direct'} ${e.target}`)).toEqual([
      'indirect 0', 'indirect 1', 'indirect 0', 'indirect 1', 'direct 2', 'direct 2', 'direct 2', 'direct 2',
    ]);
  });

  it('fire at a site: before one instruction', () => {
    const branches = collect(create(), { branches: true });
    const brIf = branches.find((e) => e.probe === 'branch' && e.instruction === 'br_if')!;
    const events = collect(create(), { sites: [{ func: brIf.func, offset: brIf.offset }] });
    expect(events).toEqual(Array.from({ length: 5 }, () => ({ probe: 'site', func: 3, offset: brIf.offset })));
  });

  it('stop the run with outcome probe; resume continues after the event', () => {
    const engine = create();
    engine.setProbes({ calls: true });
    const run = load(engine);
    const targets: (number | null)[] = [];
    let o = engine.invoke(run, [N]);
    while (o.kind === 'probe') {
      if (o.event.probe === 'call') targets.push(o.event.target);
      o = engine.resume();
    }
    expect(o).toEqual(RESULT);
    expect(targets).toEqual([0, 1, 0, 1, 2, 2, 2, 2]);
  });

  it('refuse a bad configuration clearly, and a change once code runs', () => {
    const engine = create();
    expect(() => engine.setProbes({ branch: true } as ProbeConfig)).toThrow(/unknown option "branch"/);
    expect(() => engine.setProbes({ sites: [{ func: -1, offset: 0 }] })).toThrow(/not \{ func, offset \}/);
    engine.invoke(load(engine), [N]);
    expect(() => engine.setProbes({ entry: true })).toThrow(/before any function runs/);
  });
});

function recordingVm(capacity = 3) {
  const vm = Vm.createSync();
  vm.setMonitoring(true);
  vm.setRecording({ memoryTrace: { capacity }, indirectCalls: true, inclusive: true });
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = vm.instantiate(loaded.id, []);
  if (!inst.ok) throw new Error(inst.message);
  return { vm, module: loaded.id, inst: inst.id, run: addr(vm.exports(inst.id), 'run') };
}

describe('recording in the VM', () => {
  it('traces every access into a buffer the host drains when it fills', () => {
    const { vm, run } = recordingVm(3);
    const drained: number[] = [];
    const records: Uint8Array[] = [];
    vm.onMemoryTrace = (bytes) => { drained.push(bytes.length / 8); records.push(bytes); };
    expect(vm.invoke(run, [N])).toEqual(RESULT);
    records.push(vm.takeMemoryTrace());
    expect(drained).toEqual([3, 3]);
    const trace = records.flatMap((r) => decodeTrace(r));
    expect(trace).toEqual(Array.from({ length: 4 }, () => [{ address: 16, size: 4, store: true }, { address: 16, size: 2, store: false }]).flat());
  });

  it('stops with trace-full when nobody drains', () => {
    const { vm, run } = recordingVm(3);
    const o = vm.invoke(run, [N]);
    expect(o).toMatchObject({ kind: 'probe', event: { probe: 'trace-full', func: 3 } });
    expect(decodeTrace(vm.takeMemoryTrace())).toHaveLength(3);
    expect(vm.resume()).toMatchObject({ kind: 'probe', event: { probe: 'trace-full' } });
    vm.takeMemoryTrace();
    expect(vm.resume()).toEqual(RESULT);
    expect(decodeTrace(vm.takeMemoryTrace())).toHaveLength(2);
  });

  it('counts indirect call targets per site and inclusive instructions per function', () => {
    const { vm, inst, run } = recordingVm(64);
    expect(vm.invoke(run, [N])).toEqual(RESULT);
    const recorded = vm.recorded(inst);
    expect(recorded.indirect).toEqual([
      { site: expect.any(Number), target: 0, count: 2n },
      { site: recorded.indirect[0].site, target: 1, count: 2n },
    ]);
    // Recursion counts once: $fact(4)'s span includes $fact(3..1), which are not added again.
    expect(recorded.inclusive).toEqual(new Map([[0, 8n], [1, 8n], [2, BigInt(FACT4)], [3, BigInt(TOTAL)]]));
    const r = report(vm.monitorCounters(inst), recorded);
    expect(r.calls.map((c) => [c.index, c.calls, c.selfInstructions, c.totalInstructions])).toEqual([
      [3, 1n, BigInt(TOTAL - 16 - FACT4), BigInt(TOTAL)],
      [2, 4n, BigInt(FACT4), BigInt(FACT4)],
      [0, 2n, 8n, 8n],
      [1, 2n, 8n, 8n],
    ]);
    expect(r.indirect).toEqual([{ function: 'func[3]', site: recorded.indirect[0].site, target: 'func[0]', count: 2n },
      { function: 'func[3]', site: recorded.indirect[0].site, target: 'func[1]', count: 2n }]);
  });

  it('credits the frames a trap discards', () => {
    const vm = Vm.createSync();
    vm.setRecording({ inclusive: true });
    const exports = instantiate(vm, `(module
      (func $inner (unreachable))
      (func (export "outer") (call $inner)))`);
    expect(vm.invoke(addr(exports, 'outer'), [])).toMatchObject({ kind: 'trap' });
    expect(vm.recorded(vm.lastInstance!).inclusive).toEqual(new Map([[0, 1n], [1, 2n]]));
  });
});

function restoreInto(snapshot: Uint8Array, setUp: (vm: Vm) => void) {
  const vm = Vm.createSync();
  setUp(vm);
  const loaded = vm.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const restored = vm.restore(snapshot, loaded.id, [], ['i32']);
  if (!restored.ok) throw new Error(restored.message);
  return { vm, inst: restored.id };
}

describe('probes across a snapshot', () => {
  it('a snapshot at a probe stop resumes after the event: none is lost or repeated', () => {
    const config: ProbeConfig = { entry: true, exit: true, memory: true, branches: true, calls: true };
    const whole = collect(Vm.createSync(), config);
    for (const k of [0, 1, 7, 20, whole.length - 1]) {
      const vm = Vm.createSync();
      vm.setProbes(config);
      const run = load(vm);
      const events: ProbeEvent[] = [];
      let o = vm.invoke(run, [N]);
      while (events.length < k && o.kind === 'probe') {
        events.push(o.event);
        o = vm.resume();
      }
      expect(o.kind).toBe('probe');
      if (o.kind === 'probe') events.push(o.event);
      const snapshot = vm.snapshot(vm.lastInstance!);
      if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
      // The restoring store compiles the snapshot's probes (they travel in it).
      const second = restoreInto(snapshot, () => {});
      expect(second.vm.resume({ onProbe: (e) => events.push(e) })).toEqual(RESULT);
      expect(events).toEqual(whole);
    }
  });

  it('recorded state goes on: a run migrated at random fuel points totals an unmigrated one', () => {
    const whole = recordingVm(5);
    const wholeTrace: Uint8Array[] = [];
    whole.vm.onMemoryTrace = (b) => wholeTrace.push(b);
    expect(whole.vm.invoke(whole.run, [N])).toEqual(RESULT);
    wholeTrace.push(whole.vm.takeMemoryTrace());
    const expected = { recorded: whole.vm.recorded(whole.inst), report: report(whole.vm.monitorCounters(whole.inst)) };

    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 12; round++) {
      const first = recordingVm(5);
      const trace: Uint8Array[] = [];
      first.vm.onMemoryTrace = (b) => trace.push(b);
      first.vm.fuel = BigInt(1 + Math.floor(random() * (TOTAL - 1)));
      expect(first.vm.invoke(first.run, [N])).toMatchObject({ kind: 'suspended', reason: 'fuel' });
      const snapshot = first.vm.snapshot(first.inst);
      if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
      const second = restoreInto(snapshot, (vm) => { vm.setMonitoring(true); });
      second.vm.onMemoryTrace = (b) => trace.push(b);
      second.vm.fuel = 1n << 40n;
      expect(second.vm.resume()).toEqual(RESULT);
      trace.push(second.vm.takeMemoryTrace());
      expect(second.vm.recorded(second.inst)).toEqual(expected.recorded);
      const migrated = report(second.vm.monitorCounters(second.inst));
      expect(migrated.count).toBe(expected.report.count);
      expect(migrated.calls).toEqual(expected.report.calls);
      expect(trace.flatMap((b) => decodeTrace(b))).toEqual(wholeTrace.flatMap((b) => decodeTrace(b)));
    }
  });

  it('a store that already runs code cannot take a snapshot with other probes', () => {
    const first = recordingVm();
    first.vm.fuel = 30n;
    first.vm.invoke(first.run, [N]);
    const snapshot = first.vm.snapshot(first.inst) as Uint8Array;
    const vm = Vm.createSync();
    vm.setMonitoring(true);
    const loaded = vm.loadModule(guest);
    if (!loaded.ok) throw new Error(loaded.message);
    const inst = vm.instantiate(loaded.id, []);
    if (!inst.ok) throw new Error(inst.message);
    vm.invoke(addr(vm.exports(inst.id), 'run'), [N]);
    expect(vm.restore(snapshot, loaded.id, [], ['i32'])).toMatchObject({ ok: false, message: expect.stringMatching(/other probes/) });
  });
});
