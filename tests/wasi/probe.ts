// Probes: a module that imports every preview1 function (but proc_exit) and exports a wrapper of
// each, so a test can call one function at a time — in the VM, or under node:wasi (in the child
// process of node-probe-child.ts) — and read and write its memory. No vitest here: the child
// process imports this file too.

import { Vm } from '../../host-intrinsics/vm.js';
import { PREVIEW1, PREVIEW1_FUNCTIONS, WasiContext, instantiateWasi, type WasiOptions } from '../../host-intrinsics/wasi/index.js';
import { wat } from '../helpers/wat.js';

/** A module importing every preview1 function (but proc_exit) and exporting a wrapper of each. */
export const PROBE = (() => {
  const imports: string[] = [];
  const wrappers: string[] = [];
  for (const [name, f] of Object.entries(PREVIEW1_FUNCTIONS)) {
    if (name === 'proc_exit') continue;
    const sig = `(param ${f.params.join(' ')}) (result i32)`;
    imports.push(`(import "${PREVIEW1}" "${name}" (func $${name} ${sig}))`);
    const gets = f.params.map((_, i) => `(local.get ${i})`).join(' ');
    wrappers.push(`(func (export "${name}") ${sig} (call $${name} ${gets}))`);
  }
  return wat(`(module ${imports.join('\n')} ${wrappers.join('\n')} (memory (export "memory") 1))`);
})();

/** Calls preview1 functions one at a time, and reads and writes the probe's memory. */
export interface Probe {
  call(name: string, ...args: (number | bigint)[]): number;
  memory(): Uint8Array;
}

const encoder = new TextEncoder();
export function putString(p: Probe, ptr: number, s: string): [number, number] {
  const bytes = encoder.encode(s);
  p.memory().set(bytes, ptr);
  return [ptr, bytes.length];
}
export function u32(p: Probe, ptr: number): number {
  const m = p.memory();
  return new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(ptr, true);
}
export function u64(p: Probe, ptr: number): bigint {
  const m = p.memory();
  return new DataView(m.buffer, m.byteOffset, m.byteLength).getBigUint64(ptr, true);
}

function argValues(name: string, args: (number | bigint)[]) {
  return PREVIEW1_FUNCTIONS[name].params.map((t, i) =>
    t === 'i64' ? { type: 'i64' as const, value: BigInt(args[i]) } : { type: 'i32' as const, value: Number(args[i]) | 0 });
}

/** A probe in a fresh VM, with a new WASI context made from `options`, or the context given. */
export function vmProbe(options: WasiOptions | WasiContext = {}): Probe & { ctx: WasiContext } {
  const vm = Vm.createSync();
  const ctx = options instanceof WasiContext ? options : WasiContext.create(options);
  const inst = instantiateWasi(vm, PROBE, ctx);
  if (!inst.ok) throw new Error(`probe did not instantiate: ${JSON.stringify(inst)}`);
  const mem = inst.exports.get('memory')!.addr;
  return {
    ctx,
    call(name, ...args) {
      const out = vm.invoke(inst.exports.get(name)!.addr, argValues(name, args));
      if (out.kind !== 'completed') throw new Error(`${name}: ${JSON.stringify(out)}`);
      return (out.values[0] as { value: number }).value;
    },
    memory: () => vm.guestMemory(mem),
  };
}


/** A probe under node:wasi. Only for a process that makes no VMs (see harness.ts). */
export async function nodeProbe(preopens: Record<string, string>): Promise<Probe> {
  process.removeAllListeners('warning'); // node:wasi's ExperimentalWarning
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', returnOnExit: true, preopens });
  // @types/node 20.9 predates WASI#getImportObject.
  const imports = (wasi as unknown as { getImportObject(): WebAssembly.Imports }).getImportObject();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(PROBE)), imports);
  wasi.initialize(instance);
  const ex = instance.exports as Record<string, (...a: (number | bigint)[]) => number> & { memory: WebAssembly.Memory };
  return {
    call: (name, ...args) => ex[name](...args.map((a, i) => (PREVIEW1_FUNCTIONS[name].params[i] === 'i64' ? BigInt(a) : Number(a)))),
    memory: () => new Uint8Array(ex.memory.buffer),
  };
}
