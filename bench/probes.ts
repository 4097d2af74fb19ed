// The cost of one callback probe event (a host round trip: the VM stops with the event, the host
// reads it, calls onProbe, resumes), on Vm and on the component: a loop calling a one-instruction
// function n times, run plain and with a call probe (n events), in one process after a warm-up;
// (probed - plain) / n, best of 3.
import wabtInit from 'wabt';
import { ComponentEngine } from '../host-intrinsics/api.js';
import { Vm, type Engine, type ProbeConfig } from '../host-intrinsics/vm.js';

const wabt = await wabtInit();
const guest = wabt.parseWat('loop.wat', `(module
  (func $f (param i32) (result i32) (local.get 0))
  (func (export "run") (param $n i32) (local $i i32)
    (loop $l
      (drop (call $f (local.get $i)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))))`).toBinary({}).buffer;

function cpu(body: () => void): number {
  const start = process.cpuUsage();
  body();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function once(create: () => Engine, probes: ProbeConfig | null, n: number): { ms: number; events: number } {
  const engine = create();
  if (probes) engine.setProbes(probes);
  const loaded = engine.loadModule(guest);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = engine.instantiate(loaded.id, []);
  if (!inst.ok) throw new Error(inst.message);
  const run = engine.exports(inst.id).get('run')!.addr;
  let events = 0;
  const ms = cpu(() => {
    const o = engine.invoke(run, [{ type: 'i32', value: n }], { onProbe: () => { events++; } });
    if (o.kind !== 'completed') throw new Error(`probe bench: ${o.kind}`);
  });
  return { ms, events };
}

export function probeEventCost(quick: boolean): string[] {
  const lines = ['| engine | probe | events | plain ms | probed ms | µs per event |', '|---|---|---:|---:|---:|---:|'];
  const engines: [string, () => Engine, number][] = [
    ['Vm', () => Vm.createSync(), quick ? 100_000 : 400_000],
    ['ComponentEngine', () => ComponentEngine.create(), quick ? 50_000 : 200_000],
  ];
  const probes: [string, ProbeConfig][] = [['calls', { calls: true }], ['entry + exit', { entry: true, exit: true }]];
  for (const [name, create, n] of engines) {
    once(create, { calls: true }, n / 10); // warm-up: the dispatch loop and the glue reach the optimizing tier
    once(create, null, n);
    for (const [label, config] of probes) {
      let best = Infinity;
      let plainMs = 0;
      let probedMs = 0;
      let events = 0;
      for (let r = 0; r < 3; r++) {
        const plain = once(create, null, n);
        const probed = once(create, config, n);
        const per = ((probed.ms - plain.ms) * 1000) / probed.events;
        if (per < best) [best, plainMs, probedMs, events] = [per, plain.ms, probed.ms, probed.events];
      }
      lines.push(`| ${name} | ${label} | ${events.toLocaleString('en')} | ${plainMs.toFixed(1)} | ${probedMs.toFixed(1)} | ${best.toFixed(2)} |`);
    }
  }
  return lines;
}
