// wasi:random for preview1: random_get fills guest memory from preview2-shim's secure source.

import { random } from '@bytecodealliance/preview2-shim/random';
import { def, SUCCESS, type Preview1Func } from './func.js';

export const randomFunctions: Record<string, Preview1Func> = {
  random_get: def(['i32', 'i32'], (ctx, bufPtr, len) => {
    ctx.memory().check(bufPtr, len);
    const bytes = random.getRandomBytes(BigInt(len));
    ctx.memory().write(bufPtr, bytes);
    return SUCCESS;
  }),
};
