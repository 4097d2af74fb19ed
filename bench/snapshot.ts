// Snapshot costs (`npm run bench -- --snapshots`): per guest, suspended midway by fuel on Node —
// checkpoint time (Vm.snapshot), restore time (a fresh Vm: load the module, restore), snapshot
// size against the memory the guest touched (non-zero pages). Targets: 64 MiB of touched memory
// checkpointed and restored in ≤ 50 ms each; size ≤ touched pages + 1%.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Vm } from '../host-intrinsics/vm.js';
import { WasiContext, instantiateWasi } from '../host-intrinsics/wasi/index.js';

const PAGE = 65536;

function ms(body: () => void): number {
  const t = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function snapshotBench(quick: boolean): Promise<string[]> {
  const wabt = await (await import('wabt')).default();
  const synth = (mib: number) => wabt.parseWat('touch.wat', `(module (memory (export "memory") ${mib * 16})
    (func (export "_start") (local $i i32) (local $spin i32)
      (loop $fill
        (i64.store (local.get $i) (i64.or (i64.extend_i32_u (local.get $i)) (i64.const 0x0101010101010101)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br_if $fill (i32.lt_u (local.get $i) (i32.const ${mib * 1024 * 1024}))))
      (loop $forever (local.set $spin (i32.add (local.get $spin) (i32.const 1))) (br $forever))))`).toBinary({}).buffer;
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
  const guests: { name: string; bytes: Uint8Array; args: string[]; fuel: bigint }[] = [];
  for (const mib of quick ? [1, 64] : [1, 16, 64]) {
    guests.push({ name: `touch ${mib} MiB`, bytes: synth(mib), args: [], fuel: BigInt(mib) * 1024n * 1024n / 8n * 16n });
  }
  for (const f of ['float', 'intarray', 'recursion', 'memory']) {
    guests.push({ name: f, bytes: new Uint8Array(readFileSync(path.join(root, 'tests/fixtures', `${f}.wasm`))), args: [], fuel: quick ? 50_000_000n : 500_000_000n });
  }
  const lines = ['| guest | touched pages | snapshot bytes | size / touched | checkpoint ms | restore ms |', '|---|---:|---:|---:|---:|---:|'];
  for (const g of guests) {
    const vm = Vm.createSync();
    vm.setMetering(true);
    const ctx = WasiContext.create({ args: [g.name, ...g.args], env: {}, stdout: { write() {} }, stderr: { write() {} } });
    const inst = instantiateWasi(vm, g.bytes, ctx);
    if (!inst.ok) throw new Error(`${g.name}: cannot instantiate`);
    vm.fuel = g.fuel;
    const outcome = vm.invoke(inst.exports.get('_start')!.addr, []);
    if (outcome.kind !== 'suspended') throw new Error(`${g.name}: finished before the suspension point (${outcome.kind})`);
    const memAddr = inst.exports.get('memory')?.addr;
    let touched = 0;
    if (memAddr !== undefined) {
      const mem = vm.guestMemory(memAddr);
      for (let p = 0; p < mem.length; p += PAGE) if (mem.subarray(p, p + PAGE).some((b) => b !== 0)) touched++;
    }
    let snapshot: Uint8Array | null = null;
    const take = Math.min(...[0, 1, 2].map(() => ms(() => { snapshot = vm.snapshot(inst.instance) as Uint8Array; })));
    const bytes = snapshot! as Uint8Array;
    // Restore time alone: each try gets a fresh VM with the module loaded and the same host
    // functions created, in import order, as when the snapshot was taken.
    const restore = Math.min(...[0, 1, 2].map(() => {
      const next = Vm.createSync();
      next.setMetering(true);
      const loaded = next.loadModule(g.bytes);
      if (!loaded.ok) throw new Error(loaded.message);
      const imports = loaded.imports.map((imp) => {
        if (imp.kind !== 'func') throw new Error('only function imports');
        const h = next.newHostFunc(imp.type, () => { throw new Error('not called'); });
        if (!h.ok) throw new Error(h.message);
        return h.addr;
      });
      return ms(() => {
        const r = next.restore(bytes, loaded.id, imports);
        if (!r.ok) throw new Error(`${g.name}: ${r.message}`);
      });
    }));
    const ratio = touched === 0 ? '–' : `${((bytes.length / (touched * PAGE)) * 100).toFixed(2)}%`;
    lines.push(`| ${g.name} | ${touched} | ${bytes.length} | ${ratio} | ${take.toFixed(1)} | ${restore.toFixed(1)} |`);
    process.stderr.write(`\rsnapshots: ${g.name}          `);
  }
  process.stderr.write('\n');
  return lines;
}
