// Setting a file's access and modification times (fd_filestat_set_times, path_filestat_set_times).
// Done by host path with node:fs: preview2-shim's setTimes hands milliseconds to an API that takes
// seconds.

import { lstatSync, lutimesSync, statSync, utimesSync } from 'node:fs';
import { wallClock } from '@bytecodealliance/preview2-shim/clocks';
import { Errno, WasiError } from './errno.js';
import { Fstflags } from './layout.js';

const toSeconds = (ns: bigint) => Number(ns) / 1e9;

export function setTimes(hostPath: string, atim: bigint, mtim: bigint, flags: number, follow: boolean): void {
  if (flags & ~(Fstflags.ATIM | Fstflags.ATIM_NOW | Fstflags.MTIM | Fstflags.MTIM_NOW)) throw new WasiError(Errno.INVAL, 'unknown fstflags');
  if ((flags & Fstflags.ATIM && flags & Fstflags.ATIM_NOW) || (flags & Fstflags.MTIM && flags & Fstflags.MTIM_NOW)) {
    throw new WasiError(Errno.INVAL, 'a time cannot be both given and now');
  }
  const st = (follow ? statSync : lstatSync)(hostPath, { bigint: true });
  const wall = wallClock.now();
  const now = wall.seconds * 1_000_000_000n + BigInt(wall.nanoseconds);
  const pick = (given: number, nowFlag: number, value: bigint, current: bigint) =>
    flags & nowFlag ? now : flags & given ? BigInt.asUintN(64, value) : current;
  const a = pick(Fstflags.ATIM, Fstflags.ATIM_NOW, atim, st.atimeNs);
  const m = pick(Fstflags.MTIM, Fstflags.MTIM_NOW, mtim, st.mtimeNs);
  (follow ? utimesSync : lutimesSync)(hostPath, toSeconds(a), toSeconds(m));
}
