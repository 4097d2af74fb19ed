// Turns preview1 functions into host functions for the imports a module declares: each import
// from `wasi_snapshot_preview1` becomes a VM host function with the import's exact signature whose
// body decodes the arguments, runs the function and returns its errno. Failures a guest should see
// become errnos; proc_exit's EndActivation passes through; anything else is a bug and propagates.

import type { WasiContext } from './context.js';
import { environmentFunctions } from './environment.js';
import { clockFunctions } from './clocks.js';
import { errnoOf } from './errno.js';
import { fdIoFunctions } from './fd-io.js';
import { fdMetaFunctions } from './fd-meta.js';
import type { Preview1Func } from './func.js';
import { pathFunctions } from './path.js';
import { pollFunctions } from './poll.js';
import { procFunctions } from './proc.js';
import { randomFunctions } from './random.js';
import { socketFunctions } from './sockets.js';
import { EndActivation, type HostFuncImpl, type ImportDesc, type Value, type WasiEngine } from './engine.js';

export const PREVIEW1 = 'wasi_snapshot_preview1';

/** Every preview1 function, by import name. */
export const PREVIEW1_FUNCTIONS: Readonly<Record<string, Preview1Func>> = {
  ...environmentFunctions, ...clockFunctions, ...randomFunctions, ...procFunctions, ...pollFunctions,
  ...fdIoFunctions, ...fdMetaFunctions, ...pathFunctions, ...socketFunctions,
};

function hostImpl(ctx: WasiContext, f: Preview1Func): HostFuncImpl {
  return (args: Value[]) => {
    // i32 arguments are pointers, lengths, fds and flags: all unsigned.
    const decoded = args.map((a) => (a.type === 'i32' ? a.value >>> 0 : (a as { value: bigint }).value));
    let errno: number;
    try {
      errno = f.impl(ctx, decoded) ?? 0;
    } catch (e) {
      if (e instanceof EndActivation) throw e;
      const mapped = errnoOf(e);
      if (mapped === undefined) throw e;
      errno = mapped;
    }
    return f.results.length === 0 ? [] : [{ type: 'i32', value: errno }];
  };
}

export type LinkResult = { ok: true; addrs: number[] } | { ok: false; message: string };

/** Host function addresses for `imports`, in order; only preview1 functions can be provided. */
export function linkPreview1(engine: WasiEngine, ctx: WasiContext, imports: readonly ImportDesc[]): LinkResult {
  const addrs: number[] = [];
  for (const imp of imports) {
    const f = imp.module === PREVIEW1 ? PREVIEW1_FUNCTIONS[imp.name] : undefined;
    if (!f) return { ok: false, message: `unknown import: ${imp.module}.${imp.name}` };
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);
    if (imp.kind !== 'func' || !same(imp.type.params, f.params) || !same(imp.type.results, f.results)) {
      return { ok: false, message: `incompatible import type: ${imp.module}.${imp.name}` };
    }
    const made = engine.newHostFunc({ params: [...f.params], results: [...f.results] }, hostImpl(ctx, f));
    if (!made.ok) return { ok: false, message: made.message };
    addrs.push(made.addr);
  }
  return { ok: true, addrs };
}
