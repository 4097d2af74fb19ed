// How a preview1 function is declared: its core signature and an implementation that takes the
// context and typed arguments (i32 as unsigned numbers, i64 as signed bigints) and returns an errno
// (or throws WasiError). The linker turns these into host functions.

import type { WasiContext } from './context.js';

export type Param = 'i32' | 'i64';
type ArgOf<T> = T extends 'i64' ? bigint : number;
export type Args<P extends readonly Param[]> = { -readonly [K in keyof P]: ArgOf<P[K]> };

export interface Preview1Func {
  params: readonly Param[];
  /** ['i32'] (the errno) for all but proc_exit. */
  results: readonly 'i32'[];
  impl: (ctx: WasiContext, args: (number | bigint)[]) => number | void;
}

export function def<const P extends readonly Param[]>(params: P, impl: (ctx: WasiContext, ...args: Args<P>) => number | void): Preview1Func {
  return { params, results: ['i32'], impl: (ctx, args) => impl(ctx, ...(args as Args<P>)) };
}

/** A function that never returns to the guest (proc_exit). */
export function defNoReturn<const P extends readonly Param[]>(params: P, impl: (ctx: WasiContext, ...args: Args<P>) => never): Preview1Func {
  return { params, results: [], impl: (ctx, args) => impl(ctx, ...(args as Args<P>)) };
}

export const SUCCESS = 0;
