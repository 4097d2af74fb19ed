// One host's share of `npm run bench`, in its own Node process (so its V8 flags apply):
//   node [--no-liftoff | --liftoff-only] build/js/bench/host.js <plan.json>
// The plan (written by bench/run.ts) says what to run: `fixture` (one C fixture natively and in
// the VM per intrinsics mode, paired round by round) or `micro` (the .wat micro kernels in the VM
// per setting), on `node` (the VM is build/vm.wasm on this V8) or `vm-on-vm` (the VM is an inner
// build/vm.wasm interpreted by an outer Vm on this V8). The measuring itself is bench/kernel.js,
// the same code js102 runs (bench/host-js102.js). Prints one JSON line: the kernel's result.
// Progress goes to stderr.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Vm, packageRoot } from '../host-intrinsics/vm.js';
import { innerVm } from '../host-intrinsics/hosts/vm-on-vm.js';

export type Mode = 'none' | 'bulk' | 'float' | 'memory' | 'all' | 'bulk+memory';
/** The fixture modes ('bulk+memory' is for micro kernels: bulk acts on host-owned memory only). */
export const MODES: readonly Mode[] = ['none', 'bulk', 'float', 'memory', 'all'];
export type IntrinsicClass = 'bulk' | 'float' | 'memory';
export const CLASSES: readonly IntrinsicClass[] = ['bulk', 'float', 'memory'];
export const NOT_BUILT = 'n/a (not built)';

export interface RawVm {
  ex: Record<string, (...a: number[]) => number | undefined>;
  mem(): Uint8Array;
  guestMemory?(addr: number): Uint8Array;
}

export interface FixturePlan {
  kind: 'fixture';
  host: 'node' | 'vm-on-vm';
  name: string;
  file: string;
  args: string[];
  warmArgs: string[];
  rounds: number;
  modes: Mode[];
}

export interface MicroPlan {
  kind: 'micro';
  host: 'node' | 'vm-on-vm';
  kernels: { name: string; cls: Mode | null; file: string; iterations: number }[];
  baseline: string;
  reps: number;
}

export type Plan = FixturePlan | MicroPlan;

export const classesOf = (mode: Mode): IntrinsicClass[] => (mode === 'none' ? [] : mode === 'all' ? [...CLASSES] : mode === 'bulk+memory' ? ['bulk', 'memory'] : [mode]);

interface Kernel {
  fixture(plan: object): unknown;
  micro(plan: object): unknown;
}

export function loadKernel(): Kernel {
  const source = readFileSync(path.join(packageRoot(), 'bench', 'kernel.js'), 'utf8');
  return new Function(`${source}\nreturn handoverBench;`)() as Kernel;
}

/** The VM on this Node, with intrinsic classes `classes`, or why it cannot be had. */
export function nodeVm(classes: IntrinsicClass[]): RawVm | string {
  const vm = Vm.createSync({ intrinsicClasses: classes });
  const ex = vm.rawExports as unknown as RawVm['ex'] & { memory: WebAssembly.Memory };
  if (classes.length > 0 && typeof ex.set_intrinsics !== 'function') return NOT_BUILT;
  return { ex, mem: () => new Uint8Array(ex.memory.buffer), guestMemory: (addr) => vm.guestMemory(addr) };
}

/** The inner VM of VM-on-VM (host-intrinsics/hosts/vm-on-vm.ts), its classes on, the outer's off. */
export function vmOnVm(classes: IntrinsicClass[]): RawVm {
  const inner = innerVm(classes);
  const io = () => new DataView(inner.mem().buffer, inner.mem().byteOffset + (inner.ex.io_buffer()! >>> 0), 8);
  return {
    ex: inner.ex,
    mem: inner.mem,
    guestMemory(addr: number): Uint8Array {
      const base = inner.ex.memory_region(addr)!;
      if (base < 0) throw new Error(`no memory ${addr} in the inner VM`);
      const length = Number(io().getBigUint64(0, true));
      // Base 0: host-owned (the memory class), held by the outer VM's builtin memory.
      return base === 0 ? inner.hostMemory().subarray(0, length) : inner.mem().subarray(base >>> 0, (base >>> 0) + length);
    },
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export async function runPlan(plan: Plan, progress: (s: string) => void = () => {}): Promise<unknown> {
  const kernel = loadKernel();
  const makeVm = (mode: Mode): RawVm | string => (plan.host === 'node' ? nodeVm(classesOf(mode)) : vmOnVm(classesOf(mode)));
  const read = (file: string) => new Uint8Array(readFileSync(file));
  if (plan.kind === 'fixture') {
    return kernel.fixture({ ...plan, bytes: read(plan.file), makeVm, clock: cpuMs, progress });
  }
  return kernel.micro({
    ...plan,
    kernels: plan.kernels.map((k) => ({ ...k, bytes: read(k.file) })),
    makeVm,
    clock: cpuMs,
    progress,
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Plan;
  const label = process.argv[3] ?? '';
  const result = await runPlan(plan, (s) => process.stderr.write(`  ${label}${s}\n`));
  process.stdout.write(JSON.stringify(result) + '\n');
}
