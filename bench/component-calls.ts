// What crossing the component boundary costs on this host (`node build/js/bench/component-calls.js`):
// an export call, a host-call round trip (guest → host function → guest) and a guest-memory access,
// each through Vm (the core module, plain WebAssembly API), ComponentEngine (the Engine API over the
// component) and the raw WIT bindings. Prints ns per operation, best of a few rounds.

import { ComponentEngine } from '../host-intrinsics/api.js';
import { Vm, type Engine, type Value } from '../host-intrinsics/vm.js';
import { wat } from '../tests/helpers/wat.js';

const N = 100_000;
const ROUNDS = 5;
const MODULE = wat(`(module
  (import "h" "f" (func $f (param i32) (result i32)))
  (memory (export "mem") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "calls") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $f (local.get $n))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc)))`);

function best(label: string, ops: number, body: () => void): void {
  let min = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    body();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / ops);
  }
  console.log(`${label.padEnd(52)} ${min.toFixed(min < 10 ? 1 : 0).padStart(7)} ns`);
}

function setUp(engine: Engine): { add: number; calls: number; mem: number } {
  const host = engine.newHostFunc({ params: ['i32'], results: ['i32'] }, () => [{ type: 'i32', value: 1 }]);
  const loaded = engine.loadModule(MODULE);
  if (!host.ok || !loaded.ok) throw new Error('set-up failed');
  const inst = engine.instantiate(loaded.id, [host.addr]);
  if (!inst.ok) throw new Error(inst.message);
  const ex = engine.exports(inst.id);
  return { add: ex.get('add')!.addr, calls: ex.get('calls')!.addr, mem: ex.get('mem')!.addr };
}

const args: Value[] = [{ type: 'i32', value: 2 }, { type: 'i32', value: 3 }];
for (const [name, engine] of [['Vm', Vm.createSync()], ['ComponentEngine', ComponentEngine.create()]] as const) {
  const { add, calls, mem } = setUp(engine);
  best(`${name}: invoke(add, 2 args)`, N, () => {
    for (let i = 0; i < N; i++) engine.invoke(add, args);
  });
  best(`${name}: host call round trip`, N, () => {
    if (engine.invoke(calls, [{ type: 'i32', value: N }]).kind !== 'completed') throw new Error('calls');
  });
  best(`${name}: guestMemory(mem) view`, N, () => {
    for (let i = 0; i < N; i++) engine.guestMemory(mem);
  });
  if (engine instanceof ComponentEngine) {
    const w = engine.wit;
    const witArgs = args.map((v) => ({ tag: 'i32' as const, val: (v as { value: number }).value }));
    best('raw WIT: call(add, 2 args)', N, () => {
      for (let i = 0; i < N; i++) w.call(add, witArgs, undefined);
    });
    best('raw WIT: host call round trip (call, resume…)', N, () => {
      let o = w.call(calls, [{ tag: 'i32', val: N }], undefined);
      while (o.tag === 'host-call') o = w.resume([{ tag: 'i32', val: 1 }], undefined);
    });
    best('raw WIT: memory-read 16 bytes', N, () => {
      for (let i = 0; i < N; i++) w.memoryRead(mem, 0, 16);
    });
    best('raw WIT: memory-size (smallest result<u32, error>)', N, () => {
      for (let i = 0; i < N; i++) w.memorySize(mem);
    });
  }
}
