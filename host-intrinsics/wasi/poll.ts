// poll_oneoff: waiting on clocks and fds. Files and the embedder's streams never block here
// (reads and writes complete synchronously), so fd subscriptions are ready at once; with none of
// those, the call sleeps until the earliest clock subscription is due.

import type { WasiContext } from './context.js';
import { clockNow } from './clocks.js';
import { Errno, errnoOf, WasiError } from './errno.js';
import { def, SUCCESS, type Preview1Func } from './func.js';
import { EVENT_SIZE, EventType, Rights, SUBCLOCK_ABSTIME, SUBSCRIPTION_SIZE } from './layout.js';

interface Event {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepNs(ns: bigint): void {
  if (ns > 0n) Atomics.wait(sleeper, 0, 0, Number(ns) / 1e6);
}

export const pollFunctions: Record<string, Preview1Func> = {
  poll_oneoff: def(['i32', 'i32', 'i32', 'i32'], (ctx: WasiContext, inPtr, outPtr, nsubs, neventsPtr) => {
    if (nsubs === 0) throw new WasiError(Errno.INVAL, 'no subscriptions');
    const mem = ctx.memory();
    mem.check(inPtr, nsubs * SUBSCRIPTION_SIZE);
    mem.check(outPtr, nsubs * EVENT_SIZE);
    const ready: Event[] = [];
    const clocks: { userdata: bigint; id: number; deadline: bigint }[] = [];
    for (let i = 0; i < nsubs; i++) {
      const s = inPtr + i * SUBSCRIPTION_SIZE;
      const userdata = mem.u64(s);
      const tag = mem.u8(s + 8);
      if (tag === EventType.CLOCK) {
        const id = mem.u32(s + 16);
        const timeout = mem.u64(s + 24);
        const absolute = (mem.u16(s + 40) & SUBCLOCK_ABSTIME) !== 0;
        try {
          clocks.push({ userdata, id, deadline: absolute ? timeout : clockNow(ctx, id) + timeout });
        } catch (e) {
          ready.push({ userdata, error: errnoOf(e) ?? Errno.INVAL, type: tag, nbytes: 0n });
        }
      } else if (tag === EventType.FD_READ || tag === EventType.FD_WRITE) {
        const fd = mem.u32(s + 16);
        let error = 0;
        try {
          ctx.withRights(fd, Rights.POLL_FD_READWRITE);
        } catch (e) {
          error = errnoOf(e) ?? Errno.BADF;
        }
        ready.push({ userdata, error, type: tag, nbytes: 0n });
      } else {
        ready.push({ userdata, error: Errno.INVAL, type: tag, nbytes: 0n });
      }
    }
    if (ready.length === 0 && clocks.length > 0) {
      const first = clocks.reduce((a, b) => (b.deadline < a.deadline ? b : a));
      sleepNs(first.deadline - clockNow(ctx, first.id));
    }
    for (const c of clocks) {
      if (clockNow(ctx, c.id) >= c.deadline) ready.push({ userdata: c.userdata, error: 0, type: EventType.CLOCK, nbytes: 0n });
    }
    ready.forEach((ev, i) => {
      const e = outPtr + i * EVENT_SIZE;
      for (let k = 0; k < EVENT_SIZE; k += 8) mem.setU64(e + k, 0n);
      mem.setU64(e, ev.userdata);
      mem.setU16(e + 8, ev.error);
      mem.setU8(e + 10, ev.type);
      mem.setU64(e + 16, ev.nbytes);
    });
    mem.setU32(neventsPtr, ready.length);
    return SUCCESS;
  }),
};
