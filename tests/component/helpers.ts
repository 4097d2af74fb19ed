// Shared by the component tests: both engines behind the Engine interface, and text-format modules
// instantiated in either.

import { ComponentEngine } from '../../host-intrinsics/api.js';
import { Vm, type Engine, type Extern, type Value } from '../../host-intrinsics/vm.js';
import { wat } from '../helpers/wat.js';

/** Each implementation of Engine, by name: the same tests run on both. */
export const ENGINES: [string, () => Engine][] = [
  ['Vm', () => Vm.createSync()],
  ['ComponentEngine', () => ComponentEngine.create()],
];

/** Loads and instantiates `text` with the given import addresses; its exports. */
export function instantiate(engine: Engine, text: string, imports: number[] = []): Map<string, Extern> {
  const loaded = engine.loadModule(wat(text));
  if (!loaded.ok) throw new Error(`load failed: ${loaded.kind}: ${loaded.message}`);
  const inst = engine.instantiate(loaded.id, imports);
  if (!inst.ok) throw new Error(`instantiate failed: ${inst.kind}: ${inst.message}`);
  return engine.exports(inst.id);
}

export function addr(exports: Map<string, Extern>, name: string): number {
  const e = exports.get(name);
  if (!e) throw new Error(`no export ${name}`);
  return e.addr;
}

export const i32 = (value: number): Value => ({ type: 'i32', value });
export const i64 = (value: bigint): Value => ({ type: 'i64', value });
export const f32 = (bits: number): Value => ({ type: 'f32', bits });
export const f64 = (bits: bigint): Value => ({ type: 'f64', bits });

export { wat };
