// The micro kernels of `npm run bench`: hand-written .wat loops, one operation per iteration of
// the class it exercises, assembled with wabt. Each exports run(n: i32) -> i32 and loops n times;
// `empty` is the same loop with no body, subtracted from the others (bench/kernel.js, micro).

import wabtInit from 'wabt';
import type { Mode } from './host.js';

export interface MicroKernel {
  name: string;
  /**
   * The intrinsics mode that offloads it; null for the empty loop. Bulk kernels need the memory
   * class too: `bulk` acts on host-owned memory only (on the VM's own memory, memory.copy is
   * already one native instruction).
   */
  cls: Mode | null;
  /** What one iteration does, for the report. */
  what: string;
  /** Iterations at full size. */
  iterations: number;
  wat: string;
}

const loop = (body: string, pages = 1) => `(module
  (memory ${pages})
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $x f64) (local $y f64) (local $v i32) (local $p i32)
    (local.set $x (f64.const 2.5)) (local.set $y (f64.const 1.75)) (local.set $p (i32.const 64))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ${body}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (local.get $v) (i32.trunc_f64_s (local.get $x)))))`;

export const MICRO_KERNELS: MicroKernel[] = [
  { name: 'empty', cls: null, what: 'the loop alone (baseline)', iterations: 1e6, wat: loop('') },
  { name: 'f64.sqrt', cls: 'float', what: 'x = sqrt(x)', iterations: 1e6, wat: loop('(local.set $x (f64.sqrt (f64.add (local.get $x) (local.get $y))))') },
  { name: 'f64.nearest', cls: 'float', what: 'x = nearest(x)', iterations: 1e6, wat: loop('(local.set $x (f64.nearest (local.get $y)))') },
  { name: 'f64.min', cls: 'float', what: 'x = min(x, y)', iterations: 1e6, wat: loop('(local.set $x (f64.min (local.get $x) (local.get $y)))') },
  { name: 'i32.load', cls: 'memory', what: 'v = load(p)', iterations: 1e6, wat: loop('(local.set $v (i32.load (local.get $p)))') },
  { name: 'i32.store', cls: 'memory', what: 'store(p, i)', iterations: 1e6, wat: loop('(i32.store (local.get $p) (local.get $i))') },
  { name: 'memory.copy 64 B', cls: 'bulk+memory', what: 'copy 64 bytes', iterations: 1e6, wat: loop('(memory.copy (i32.const 0) (i32.const 65536) (i32.const 64))', 3) },
  { name: 'memory.copy 64 KiB', cls: 'bulk+memory', what: 'copy 65536 bytes', iterations: 2e4, wat: loop('(memory.copy (i32.const 0) (i32.const 65536) (i32.const 65536))', 3) },
  { name: 'memory.fill 64 B', cls: 'bulk+memory', what: 'fill 64 bytes', iterations: 1e6, wat: loop('(memory.fill (i32.const 0) (local.get $i) (i32.const 64))', 2) },
  { name: 'memory.fill 64 KiB', cls: 'bulk+memory', what: 'fill 65536 bytes', iterations: 2e4, wat: loop('(memory.fill (i32.const 0) (local.get $i) (i32.const 65536))', 2) },
];

/** The kernels assembled: name → module bytes. */
export async function assembleMicro(): Promise<Map<string, Uint8Array>> {
  const wabt = await wabtInit();
  const out = new Map<string, Uint8Array>();
  for (const k of MICRO_KERNELS) {
    const m = wabt.parseWat(`${k.name}.wat`, k.wat, { bulk_memory: true });
    m.validate();
    out.set(k.name, new Uint8Array(m.toBinary({}).buffer));
    m.destroy();
  }
  return out;
}
