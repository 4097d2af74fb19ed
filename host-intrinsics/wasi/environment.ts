// wasi:cli/environment for preview1: the guest's arguments and environment variables, copied out
// of the state as NUL-terminated strings with a pointer table.

import { def, SUCCESS, type Preview1Func } from './func.js';
import { stringTableSize, writeStringTable } from './memory.js';

export const environmentFunctions: Record<string, Preview1Func> = {
  args_sizes_get: def(['i32', 'i32'], (ctx, countPtr, bufSizePtr) => {
    const { count, bytes } = stringTableSize(ctx.state.args);
    const mem = ctx.memory();
    mem.setU32(countPtr, count);
    mem.setU32(bufSizePtr, bytes);
    return SUCCESS;
  }),
  args_get: def(['i32', 'i32'], (ctx, argvPtr, bufPtr) => {
    writeStringTable(ctx.memory(), ctx.state.args, argvPtr, bufPtr);
    return SUCCESS;
  }),
  environ_sizes_get: def(['i32', 'i32'], (ctx, countPtr, bufSizePtr) => {
    const { count, bytes } = stringTableSize(ctx.state.env);
    const mem = ctx.memory();
    mem.setU32(countPtr, count);
    mem.setU32(bufSizePtr, bytes);
    return SUCCESS;
  }),
  environ_get: def(['i32', 'i32'], (ctx, environPtr, bufPtr) => {
    writeStringTable(ctx.memory(), ctx.state.env, environPtr, bufPtr);
    return SUCCESS;
  }),
};
