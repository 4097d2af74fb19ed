// VM-on-VM: the VM's own core module (build/vm.wasm) run as a guest of an outer Vm on this Node.
// The outer VM serves the inner VM's `handover:vm/intrinsics` imports with its builtins — native
// code of the outer dispatch loop, not host calls — and holds the inner VM's host-owned guest
// memory (the memory class) in its builtin memory.

import { readFileSync } from 'node:fs';
import { Vm, defaultVmWasmPath } from '../vm.js';
import { INTRINSICS_NAMESPACE } from '../vm.js';
import { classMask, type IntrinsicClass } from '../intrinsics/classes.js';

export interface InnerVm {
  /** The inner VM's ABI exports (guest-vm/ABI.md), each one an invoke on the outer Vm. */
  ex: Record<string, (...args: number[]) => number | undefined>;
  /** The inner VM's linear memory, read through the outer Vm (re-fetch after each call). */
  mem(): Uint8Array;
  /** Where the inner VM's host-owned guest memory lives: the outer's builtin memory. */
  hostMemory(): Uint8Array;
  outer: Vm;
}

export class InnerVmError extends Error {}

let vmBytes: Uint8Array | undefined;

/** A fresh outer Vm running a fresh inner VM, with `classes` switched on in the inner one. */
export function innerVm(classes: readonly IntrinsicClass[] = [], outerClasses: readonly IntrinsicClass[] = []): InnerVm {
  vmBytes ??= new Uint8Array(readFileSync(defaultVmWasmPath()));
  const outer = Vm.createSync({ intrinsicClasses: outerClasses });
  const loaded = outer.loadModule(vmBytes);
  if (!loaded.ok) throw new InnerVmError(`build/vm.wasm does not load in the VM: ${loaded.message}`);
  const builtins = outer.builtinIntrinsics();
  const imports = loaded.imports.map((i) => {
    const addr = i.module === INTRINSICS_NAMESPACE ? builtins.get(i.name) : undefined;
    if (addr === undefined) throw new InnerVmError(`build/vm.wasm imports ${i.module}.${i.name}, which the outer VM does not serve`);
    return addr;
  });
  const inst = outer.instantiate(loaded.id, imports);
  if (!inst.ok) throw new InnerVmError(`build/vm.wasm does not instantiate in the VM: ${inst.message}`);
  const ex: InnerVm['ex'] = {};
  let memory = -1;
  for (const [name, e] of outer.exports(inst.id)) {
    if (e.kind === 'memory') memory = e.addr;
    if (e.kind !== 'func') continue;
    ex[name] = (...args: number[]) => {
      const outcome = outer.invoke(e.addr, args.map((value) => ({ type: 'i32' as const, value: value | 0 })));
      if (outcome.kind === 'trap' && (name === 'invoke' || name === 'resume')) {
        // A trap in a memory builtin: the inner VM's guest accessed out of bounds (host_fault).
        const status = ex.host_fault();
        if (status !== undefined && status >= 0) return status;
      }
      if (outcome.kind !== 'completed') throw new InnerVmError(`the inner VM's ${name} did not complete: ${'message' in outcome ? outcome.message : outcome.kind}`);
      const v = outcome.values[0];
      return v === undefined ? undefined : ((v as { value: number }).value);
    };
  }
  const builtinMemory = outer.builtinMemory;
  const mask = classMask(classes);
  if (mask !== 0 && ex.set_intrinsics(mask) !== 0) throw new InnerVmError('the inner VM refused its intrinsic classes');
  return { ex, mem: () => outer.guestMemory(memory), hostMemory: () => outer.guestMemory(builtinMemory), outer };
}
