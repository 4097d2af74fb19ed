// One guest's WASI world while it runs: the serialisable state (state.ts), the live things that
// cannot be serialised (host descriptors, the standard streams, where guest memory is) and the
// lookups every preview1 function starts with. toJSON/fromJSON move the state between processes.

import { monotonicClock } from '@bytecodealliance/preview2-shim/clocks';
import { Errno, WasiError } from './errno.js';
import { Files, type PathEntry } from './files.js';
import { GuestMemory } from './memory.js';
import { checkState, newState, type FdEntry, type StateOptions, type WasiState } from './state.js';
import { emptySource, discardSink, type ByteSink, type ByteSource } from './stdio.js';

export interface Stdio {
  stdin?: ByteSource;
  stdout?: ByteSink;
  stderr?: ByteSink;
}
export type WasiOptions = StateOptions & Stdio;

export class WasiContext {
  readonly files: Files;
  readonly stdin: ByteSource;
  readonly stdout: ByteSink;
  readonly stderr: ByteSink;
  /** Guest monotonic time = host monotonic time + this (non-zero after a restore elsewhere). */
  private readonly monotonicOffset: bigint;
  private memorySource: (() => Uint8Array) | null = null;

  private constructor(readonly state: WasiState, stdio: Stdio) {
    this.files = new Files(state.preopens);
    this.stdin = stdio.stdin ?? emptySource;
    this.stdout = stdio.stdout ?? discardSink;
    this.stderr = stdio.stderr ?? discardSink;
    const saved = state.clock.monotonicNs;
    this.monotonicOffset = saved === undefined ? 0n : BigInt(saved) - monotonicClock.now();
  }

  static create(options: WasiOptions = {}): WasiContext {
    const isTty = (s?: { isTTY?: boolean }) => s?.isTTY === true;
    const state = newState({ ...options, stdioIsTty: [isTty(options.stdin), isTty(options.stdout), isTty(options.stderr)] });
    return new WasiContext(state, options);
  }

  /** Resumes a state captured by toJSON (here or in another process). Throws StateError if it is not one. */
  static fromJSON(data: unknown, stdio: Stdio = {}): WasiContext {
    return new WasiContext(structuredClone(checkState(data)), stdio);
  }

  /** The state as plain data, with the guest's clock reading taken now. */
  toJSON(): WasiState {
    const copy = structuredClone(this.state);
    copy.clock = { monotonicNs: this.monotonicNow().toString() };
    return copy;
  }

  monotonicNow(): bigint {
    return monotonicClock.now() + this.monotonicOffset;
  }

  /** Where the guest's memory is; called again on every use, because it moves as it grows. */
  bindMemory(source: () => Uint8Array): void {
    this.memorySource = source;
  }

  memory(): GuestMemory {
    if (!this.memorySource) throw new WasiError(Errno.FAULT, 'the guest has no memory');
    return new GuestMemory(this.memorySource());
  }

  entry(fd: number): FdEntry {
    const e = this.state.fds[fd];
    if (e === undefined) throw new WasiError(Errno.BADF, `fd ${fd} is not open`);
    return e;
  }

  /** The entry of `fd` when it holds every right in `rights` (ENOTCAPABLE otherwise, as uvwasi says). */
  withRights(fd: number, rights: number): FdEntry {
    const e = this.entry(fd);
    if ((e.rightsBase & rights) !== rights) throw new WasiError(Errno.NOTCAPABLE, `fd ${fd} lacks rights ${rights}`);
    return e;
  }

  /** A directory fd to resolve paths against, holding `rights`. */
  dir(fd: number, rights: number): PathEntry {
    const e = this.withRights(fd, rights);
    if (e.kind === 'stdio' || e.kind === 'file') throw new WasiError(Errno.NOTDIR, `fd ${fd} is no directory`);
    return e;
  }

  /** Releases host descriptors; the state stays as it is (toJSON still works). */
  close(): void {
    this.files.closeAll();
  }
}
