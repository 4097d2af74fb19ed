// The guest-visible WASI state as plain data: arguments, environment, preopened directories, the
// fd table (what each fd names — by path, never by host handle — its offset, flags and rights) and
// the guest's clock reading. Everything here survives JSON.stringify, so a snapshot can carry it to
// another process, where files are reopened by path and reads continue at the recorded offsets.

import { DIRECTORY_INHERITING, DIRECTORY_RIGHTS, Filetype, Rights, TTY_RIGHTS } from './layout.js';

export const STATE_VERSION = 1;

export type FdEntry =
  /** One of the process's standard streams (0 in, 1 out, 2 err), wherever the fd now sits. */
  | ({ kind: 'stdio'; stream: 0 | 1 | 2 } & FdCommon)
  /** A preopened directory (`preopen` indexes `preopens`), or a file or directory opened under one. */
  | ({ kind: 'preopen' | 'dir' | 'file'; preopen: number; path: string } & FdCommon);

interface FdCommon {
  filetype: number;
  /** Current position of a file (positional I/O underneath, so the offset lives only here). */
  offset: number;
  fdflags: number;
  rightsBase: number;
  rightsInheriting: number;
}

export interface Preopen {
  /** The name the guest sees (fd_prestat_dir_name). */
  guestPath: string;
  hostPath: string;
}

export interface WasiState {
  version: typeof STATE_VERSION;
  args: string[];
  /** `KEY=value` strings, in the order the guest sees them. */
  env: string[];
  preopens: Preopen[];
  /** By fd number. A file's `path` is relative to its preopen's host path: '/'-separated, no `.` or `..`. */
  fds: Record<number, FdEntry>;
  /** The guest's monotonic clock when the state was captured (decimal ns); absent for a fresh state. */
  clock: { monotonicNs?: string };
}

export interface StateOptions {
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Guest path → host path, in fd order from 3. */
  preopens?: Readonly<Record<string, string>>;
  /** Which of stdin, stdout, stderr are terminals (fd_fdstat_get says CHARACTER_DEVICE only for those). */
  stdioIsTty?: readonly [boolean, boolean, boolean];
}

/** A fresh state: stdio on 0–2, then the preopens from fd 3 (where wasi-libc looks for them). */
export function newState(options: StateOptions): WasiState {
  const stdio = (stream: 0 | 1 | 2): FdEntry => ({
    // A non-terminal stream's real type (pipe, file) is the embedder's business: UNKNOWN says only
    // "no terminal", which is what wasi-libc's isatty and its stdout buffering look at.
    kind: 'stdio', stream, filetype: options.stdioIsTty?.[stream] ? Filetype.CHARACTER_DEVICE : Filetype.UNKNOWN,
    offset: 0, fdflags: 0,
    rightsBase: TTY_RIGHTS, rightsInheriting: 0,
  });
  const preopens = Object.entries(options.preopens ?? {}).map(([guestPath, hostPath]) => ({ guestPath, hostPath }));
  const fds: Record<number, FdEntry> = { 0: stdio(0), 1: stdio(1), 2: stdio(2) };
  preopens.forEach((_, i) => {
    fds[3 + i] = {
      kind: 'preopen', preopen: i, path: '', filetype: Filetype.DIRECTORY, offset: 0, fdflags: 0,
      rightsBase: DIRECTORY_RIGHTS, rightsInheriting: DIRECTORY_INHERITING,
    };
  });
  return {
    version: STATE_VERSION,
    args: [...(options.args ?? [])],
    env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    preopens,
    fds,
    clock: {},
  };
}

/** The lowest unused fd number (as POSIX and uvwasi allocate). */
export function lowestFreeFd(state: WasiState): number {
  let fd = 0;
  while (state.fds[fd] !== undefined) fd++;
  return fd;
}

export class StateError extends Error {
  override name = 'StateError';
}

/** Checks that `data` (parsed JSON) is a state this version can resume; throws StateError if not. */
export function checkState(data: unknown): WasiState {
  const fail = (what: string): never => {
    throw new StateError(`not a WASI state: ${what}`);
  };
  if (typeof data !== 'object' || data === null) fail('not an object');
  const s = data as WasiState;
  if (s.version !== STATE_VERSION) fail(`version ${String(s.version)}, expected ${STATE_VERSION}`);
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!strings(s.args) || !strings(s.env)) fail('args and env must be lists of strings');
  if (!Array.isArray(s.preopens) || !s.preopens.every((p) => typeof p?.guestPath === 'string' && typeof p?.hostPath === 'string')) {
    fail('bad preopens');
  }
  if (typeof s.fds !== 'object' || s.fds === null) fail('no fd table');
  for (const [fd, e] of Object.entries(s.fds)) {
    const ints = [e?.filetype, e?.offset, e?.fdflags, e?.rightsBase, e?.rightsInheriting];
    if (!/^\d+$/.test(fd) || !ints.every((n) => Number.isSafeInteger(n) && n >= 0)) fail(`bad fd ${fd}`);
    if (e.kind === 'stdio' ? ![0, 1, 2].includes(e.stream)
      : !['preopen', 'dir', 'file'].includes(e.kind) || s.preopens[e.preopen] === undefined || typeof e.path !== 'string'
        || e.path.split('/').some((seg) => seg === '..' || seg === '.')) {
      fail(`bad fd ${fd}`);
    }
  }
  if (typeof s.clock !== 'object' || s.clock === null || (s.clock.monotonicNs !== undefined && !/^\d+$/.test(s.clock.monotonicNs))) {
    fail('bad clock');
  }
  return s;
}

export const ALL_RIGHTS = (Rights.SOCK_ACCEPT << 1) - 1;
