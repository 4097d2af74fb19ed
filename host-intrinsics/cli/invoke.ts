// `handover run <module> --invoke <export> [args…]`: instantiates any module (WASI imports served
// if it has them), runs a reactor's _initialize, calls the export with arguments parsed by its
// parameter types and prints one `<type>:<value>` line per result.

import {
  WasiContext, exitCodeOf, instantiateWasi, runExport, stopMessage, type WasiOptions,
} from '../wasi/index.js';
import type { CliEngine } from './engine.js';
import { moduleErrorText, printTrap } from './run.js';
import { CliError } from './usage.js';
import { ValueError, formatValue, parseValue } from './values.js';
import type { Value } from '../wasi/engine.js';

/** Maps store function addresses back to the instance's function indices (for ref.func:<index>). */
function funcIndexer(engine: CliEngine, instance: number): (addr: number) => number | undefined {
  let byAddr: Map<number, number> | undefined;
  return (addr) => {
    if (!byAddr) {
      byAddr = new Map();
      for (let i = 0; i < 1 << 20; i++) {
        const a = engine.exportAddr(instance, 'func', i);
        if (a < 0) break;
        byAddr.set(a, i);
      }
    }
    return byAddr.get(addr);
  };
}

export function invokeExport(engine: CliEngine, file: string, bytes: Uint8Array, name: string, args: readonly string[], wasi: WasiOptions): number {
  const ctx = WasiContext.create(wasi);
  try {
    const inst = instantiateWasi(engine, bytes, ctx);
    if (!inst.ok) {
      if ('exited' in inst) return inst.exited;
      if ('trap' in inst) return printTrap(inst.trap.message);
      throw new CliError(moduleErrorText(file, inst.error));
    }
    if (inst.exports.get('_initialize')?.kind === 'func') {
      const init = runExport(engine, inst.exports, '_initialize');
      if ('error' in init) throw new CliError(init.error.message);
      if ('trap' in init) return printTrap(init.trap.message);
      if (init.exitCode !== 0) return init.exitCode;
    }
    const f = inst.exports.get(name);
    if (f?.kind !== 'func') {
      const funcs = [...inst.exports].filter(([, e]) => e.kind === 'func').map(([n]) => n);
      throw new CliError(`the module exports no function "${name}" (its functions: ${funcs.join(', ') || 'none'})`);
    }
    const { params } = f.type;
    if (args.length !== params.length) {
      throw new CliError(`${name} takes ${params.length} argument${params.length === 1 ? '' : 's'} (${params.join(' ')}), got ${args.length}`);
    }
    let values: Value[];
    try {
      values = params.map((t, i) => parseValue(t, args[i]));
    } catch (e) {
      if (e instanceof ValueError) throw new CliError(`argument of ${name}: ${e.message}`);
      throw e;
    }
    let outcome;
    try {
      outcome = engine.invoke(f.addr, values);
    } catch (e) {
      const code = exitCodeOf(e);
      if (code === undefined) throw e;
      return code;
    }
    if (outcome.kind !== 'completed') return printTrap(stopMessage(engine, outcome));
    const index = funcIndexer(engine, inst.instance);
    ctx.stdout.write(new TextEncoder().encode(outcome.values.map((v) => `${formatValue(v, index)}\n`).join('')));
    return 0;
  } finally {
    ctx.close();
  }
}
