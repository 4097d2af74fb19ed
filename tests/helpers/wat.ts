// Test helper: text-format modules (wabt's parser) loaded and instantiated in a fresh Vm.
import wabtInit from 'wabt';
import { Vm, type Extern } from '../../host-intrinsics/vm.js';

const wabt = await wabtInit();

const features = { multi_value: true, bulk_memory: true, reference_types: true, sat_float_to_int: true, sign_extension: true };

/** The binary of a text-format module; not validated, so tests can build invalid modules too. */
export function wat(text: string): Uint8Array {
  const module = wabt.parseWat('test.wat', text, features);
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** Instantiates `text` (imports resolved by the caller's addresses) and returns its exports. */
export function instantiate(vm: Vm, text: string, imports: number[] = []): Map<string, Extern> {
  const loaded = vm.loadModule(wat(text));
  if (!loaded.ok) throw new Error(`load failed: ${loaded.message}`);
  const inst = vm.instantiate(loaded.id, imports);
  if (!inst.ok) throw new Error(`instantiate failed: ${inst.message}`);
  return vm.exports(inst.id);
}

/** The store address of an exported function. */
export function fn(exports: Map<string, Extern>, name: string): number {
  const e = exports.get(name);
  if (!e || e.kind !== 'func') throw new Error(`no exported function ${name}`);
  return e.addr;
}
