// The VM component on Node: loads the jco bindings that scripts/build-component.mjs writes to
// build/component/js/, instantiates the component (sync), and converts between the WIT shapes of
// interface handover:vm/engine and the TypeScript shapes of abi.ts. api.ts builds the Engine on it.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
// Type-only, by the package's own name: the declarations then resolve from build/js/ as well.
import type * as Bindings from 'handover/component-bindings';
import type * as Wit from 'handover/component-bindings/engine';
import { AbiError, TRAP_MESSAGES, type ExternType, type FuncType, type ModuleDesc, type Value } from './abi.js';
import { TRAP_KINDS } from './vocabulary.js';
import { newIntrinsicHelper, packageRoot } from './vm.js';
import { INTRINSIC_NAMES } from './intrinsics/names.js';

export type { Wit };
export type WitEngine = typeof Wit;

/** Where the bindings are: $HANDOVER_COMPONENT_JS or <package root>/build/component/js. */
export function componentJsDir(): string {
  return process.env.HANDOVER_COMPONENT_JS ?? path.join(packageRoot(), 'build', 'component', 'js');
}

const BINDINGS = 'handover-vm.js';

async function loadBindings(): Promise<typeof Bindings> {
  const file = path.join(componentJsDir(), BINDINGS);
  try {
    return (await import(pathToFileURL(file).href)) as typeof Bindings;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot load the VM component's bindings ${file} (run \`npm run build\`): ${why}`);
  }
}

// ESM with top-level await: importing this module loads the bindings once, so that engines can
// then be created synchronously.
const bindings = await loadBindings();
const coreModules = new Map<string, WebAssembly.Module>();

function coreModule(file: string): WebAssembly.Module {
  const full = path.join(componentJsDir(), file);
  let module = coreModules.get(full);
  if (!module) {
    module = new WebAssembly.Module(new Uint8Array(readFileSync(full)));
    coreModules.set(full, module);
  }
  return module;
}

/**
 * The core exports a JS host may use beside the component's interface: the VM's own memory and
 * where a guest memory lives in it. Not part of the WIT (no other component host can reach them).
 */
export interface CoreAccess {
  memory: WebAssembly.Memory;
  /** Base of guest memory `addr` in `memory`, its byte length in the u64 at `ioBuffer`; -1 if none. */
  memory_region(addr: number): number;
  ioBuffer: number;
}

const CABI_LOWER = Symbol.for('cabiLower');

/**
 * The component's `handover:vm/intrinsics` imports, served by a fresh native helper instance:
 * each value carries the helper's core function under Symbol.for('cabiLower'), so jco's hybrid
 * bindings wire it straight into the core imports, without a JS trampoline.
 */
export function componentIntrinsics(): Record<string, unknown> {
  const helper = newIntrinsicHelper();
  const out: Record<string, unknown> = {};
  for (const name of INTRINSIC_NAMES) {
    const fn = helper[name] as (...args: unknown[]) => unknown;
    const value = (...args: unknown[]) => fn(...args);
    (value as unknown as Record<symbol, unknown>)[CABI_LOWER] = () => fn;
    out[name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  return out;
}

/** A new instance of the component (one store), and its core exports. */
export function instantiateComponent(): { engine: WitEngine; core: CoreAccess | null } {
  let core: CoreAccess | null = null;
  const root = bindings.instantiate(coreModule, { 'handover:vm/intrinsics': componentIntrinsics() } as unknown as Parameters<typeof bindings.instantiate>[1], (module, imports) => {
    const instance = new WebAssembly.Instance(module, imports);
    const ex = instance.exports as Record<string, unknown>;
    if (ex.memory instanceof WebAssembly.Memory && typeof ex.memory_region === 'function' && typeof ex.io_buffer === 'function') {
      core = { memory: ex.memory, memory_region: ex.memory_region as CoreAccess['memory_region'], ioBuffer: (ex.io_buffer as () => number)() >>> 0 };
    }
    return instance;
  });
  return { engine: root.engine, core };
}

// ── errors ────────────────────────────────────────────────────────────────────────────────────
/** The `error` of a `result<_, error>` that jco threw as a ComponentError, or null. */
export function witError(e: unknown): Wit.Error | null {
  if (!(e instanceof Error) || !('payload' in e)) return null;
  const p = (e as { payload: unknown }).payload;
  return typeof p === 'object' && p !== null && 'kind' in p && 'message' in p ? (p as Wit.Error) : null;
}

// ── values ────────────────────────────────────────────────────────────────────────────────────
/** Any 32/64-bit pattern in, as the VM takes it (abi.ts's Value accepts unsigned too). */
export function toWitValue(v: Value): Wit.Value {
  switch (v.type) {
    case 'i32':
      return { tag: 'i32', val: v.value | 0 };
    case 'i64':
      return { tag: 'i64', val: BigInt.asIntN(64, v.value) };
    case 'f32':
      return { tag: 'f32', val: v.bits >>> 0 };
    case 'f64':
      return { tag: 'f64', val: BigInt.asUintN(64, v.bits) };
    case 'funcref':
    case 'externref':
      return { tag: v.type, val: v.value ?? undefined };
  }
}

export function fromWitValue(w: Wit.Value): Value {
  switch (w.tag) {
    case 'i32':
      return { type: 'i32', value: w.val };
    case 'i64':
      return { type: 'i64', value: w.val };
    case 'f32':
      return { type: 'f32', bits: w.val };
    case 'f64':
      return { type: 'f64', bits: w.val };
    case 'funcref':
    case 'externref':
      return { type: w.tag, value: w.val ?? null };
  }
}

// ── types ─────────────────────────────────────────────────────────────────────────────────────
export function fromWitFuncType(t: Wit.FuncType): FuncType {
  return { params: t.params, results: t.results };
}

export function fromWitExternType(t: Wit.ExternType): ExternType {
  switch (t.tag) {
    case 'func':
      return { kind: 'func', type: fromWitFuncType(t.val) };
    case 'table': {
      const elem = t.val.element;
      if (elem !== 'funcref' && elem !== 'externref') throw new AbiError(`a table of ${elem}`);
      return { kind: 'table', type: { elem, min: t.val.limits.min, max: t.val.limits.max ?? null } };
    }
    case 'memory':
      return { kind: 'memory', type: { min: t.val.min, max: t.val.max ?? null } };
    case 'global':
      return { kind: 'global', type: { type: t.val.content, mutable: t.val.mutable } };
  }
}

export function fromWitModuleDesc(d: Wit.ModuleDesc): ModuleDesc {
  return {
    imports: d.imports.map((i) => ({ module: i.module, name: i.name, ...fromWitExternType(i.ty) })),
    exports: d.exports.map((e) => ({ name: e.name, index: e.index, ...fromWitExternType(e.ty) })),
  };
}

/** The trap code (abi.ts's TRAP_MESSAGES) of a trap-kind. */
export function trapCode(kind: Wit.TrapKind): number {
  const kinds: readonly Wit.TrapKind[] = TRAP_KINDS;
  const code = kinds.indexOf(kind) + 1;
  if (TRAP_MESSAGES[code] === undefined) throw new AbiError(`unknown trap kind ${kind}`);
  return code;
}
