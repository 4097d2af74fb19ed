// Running a WASI module: load, link its preview1 imports to a context, instantiate, and (for a
// command) call `_start`, turning the ways a run ends — return, proc_exit, trap, a module that does
// not load — into one result value.

import { WasiContext, type WasiOptions } from './context.js';
import { linkPreview1 } from './link.js';
import { ProcExit } from './proc.js';
import { EndActivation, type Extern, type Outcome, type WasiEngine } from './engine.js';

/** Why a module could not be run at all; `offset` is the byte where decoding or validation failed. */
export interface ModuleError {
  kind: string;
  message: string;
  offset: number;
}

/** The stop message of a metered run that ran out of fuel. */
export const OUT_OF_FUEL = 'out of fuel';

export type RunResult = { exitCode: number } | { trap: { message: string } } | { error: ModuleError };

export interface RunWasiOptions extends WasiOptions {
  /** Back-edges and calls per VM slice (how often the VM returns to the host). */
  slice?: number;
}

export interface WasiInstance {
  ok: true;
  instance: number;
  exports: Map<string, Extern>;
}

/**
 * Loads and instantiates `bytes` with its preview1 imports served by `ctx` (a module without
 * imports needs none). Runs the start function, if any: a proc_exit there is reported as `exited`.
 */
export function instantiateWasi(engine: WasiEngine, bytes: Uint8Array, ctx: WasiContext):
  WasiInstance | { ok: false; error: ModuleError } | { ok: false; trap: { message: string } } | { ok: false; exited: number } {
  const loaded = engine.loadModule(bytes);
  if (!loaded.ok) return { ok: false, error: { kind: loaded.kind, message: loaded.message, offset: loaded.offset } };
  const linked = linkPreview1(engine, ctx, loaded.imports);
  if (!linked.ok) return { ok: false, error: { kind: 'unlinkable', message: linked.message, offset: 0 } };
  let inst;
  try {
    inst = engine.instantiate(loaded.id, linked.addrs);
  } catch (e) {
    const code = exitCodeOf(e);
    if (code === undefined) throw e;
    return { ok: false, exited: code };
  }
  if (!inst.ok) {
    if (inst.trap) return { ok: false, trap: { message: inst.trap.message } };
    return { ok: false, error: { kind: inst.kind, message: inst.message, offset: inst.offset } };
  }
  const exports = engine.exports(inst.id);
  const memory = exports.get('memory');
  if (memory?.kind === 'memory') ctx.bindMemory(() => engine.guestMemory(memory.addr));
  return { ok: true, instance: inst.id, exports };
}

/** The exit code a proc_exit carried, or undefined for any other exception. */
export function exitCodeOf(e: unknown): number | undefined {
  return e instanceof EndActivation && e.value instanceof ProcExit ? e.value.code : undefined;
}

/**
 * Why a call did not complete, as a trap message. A run that stopped for fuel (the embedder
 * metered it) ends here: its pending activation is dropped.
 */
export function stopMessage(engine: WasiEngine, outcome: Exclude<Outcome, { kind: 'completed' }>): string {
  if (outcome.kind === 'host-call') return `stopped at a call of host function ${outcome.func}`;
  if (outcome.kind === 'probe') {
    engine.abandon();
    return `stopped at a ${outcome.event.probe} probe event nobody handled`;
  }
  if (outcome.kind !== 'suspended') return outcome.message;
  engine.abandon();
  return outcome.reason === 'fuel' ? OUT_OF_FUEL : 'suspended';
}

/** Calls the export `name` (no arguments, no results expected) and reports how the run ended. */
export function runExport(engine: WasiEngine, exports: Map<string, Extern>, name: string): RunResult {
  const f = exports.get(name);
  if (f?.kind !== 'func' || f.type.params.length > 0) {
    return { error: { kind: 'unlinkable', message: `the module exports no function ${name} without parameters`, offset: 0 } };
  }
  try {
    const outcome = engine.invoke(f.addr, []);
    if (outcome.kind === 'completed') return { exitCode: 0 };
    return { trap: { message: stopMessage(engine, outcome) } };
  } catch (e) {
    const code = exitCodeOf(e);
    if (code === undefined) throw e;
    return { exitCode: code };
  }
}

/** Runs a WASI command (its `_start`) to the end. */
export function runWasi(engine: WasiEngine, wasmBytes: Uint8Array, options: RunWasiOptions = {}): RunResult {
  const ctx = WasiContext.create(options);
  try {
    if (options.slice !== undefined) engine.setSlice(options.slice);
    const inst = instantiateWasi(engine, wasmBytes, ctx);
    if (!inst.ok) return 'exited' in inst ? { exitCode: inst.exited } : 'trap' in inst ? { trap: inst.trap } : { error: inst.error };
    return runExport(engine, inst.exports, '_start');
  } finally {
    ctx.close();
  }
}
