// wasi:clocks for preview1: wall time and monotonic time from preview2-shim, the monotonic clock
// shifted by the context's base so that it keeps counting across a restore in another process;
// the CPU-time clocks from the host process's usage.

import { wallClock } from '@bytecodealliance/preview2-shim/clocks';
import type { WasiContext } from './context.js';
import { Errno, WasiError } from './errno.js';
import { def, SUCCESS, type Preview1Func } from './func.js';
import { ClockId } from './layout.js';

function cpuTimeNs(): bigint {
  const { user, system } = process.cpuUsage();
  return BigInt(user + system) * 1000n;
}

function now(ctx: WasiContext, id: number): bigint {
  switch (id) {
    case ClockId.REALTIME: {
      const t = wallClock.now();
      return t.seconds * 1_000_000_000n + BigInt(t.nanoseconds);
    }
    case ClockId.MONOTONIC:
      return ctx.monotonicNow();
    case ClockId.PROCESS_CPUTIME:
    case ClockId.THREAD_CPUTIME:
      return cpuTimeNs();
    default:
      throw new WasiError(Errno.INVAL, `no clock ${id}`);
  }
}

function resolution(id: number): bigint {
  switch (id) {
    case ClockId.REALTIME: {
      const r = wallClock.resolution();
      return r.seconds * 1_000_000_000n + BigInt(r.nanoseconds);
    }
    case ClockId.MONOTONIC:
      return 1n;
    case ClockId.PROCESS_CPUTIME:
    case ClockId.THREAD_CPUTIME:
      return 1000n; // process.cpuUsage counts microseconds
    default:
      throw new WasiError(Errno.INVAL, `no clock ${id}`);
  }
}

export { now as clockNow };

export const clockFunctions: Record<string, Preview1Func> = {
  clock_res_get: def(['i32', 'i32'], (ctx, id, resPtr) => {
    ctx.memory().setU64(resPtr, resolution(id));
    return SUCCESS;
  }),
  clock_time_get: def(['i32', 'i64', 'i32'], (ctx, id, _precision, timePtr) => {
    ctx.memory().setU64(timePtr, now(ctx, id));
    return SUCCESS;
  }),
};
