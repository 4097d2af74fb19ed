// The guest's standard streams as byte sinks and sources the embedder supplies: in-memory ones for
// tests and embedding, and ones over the host process's own file descriptors for the CLI. All
// synchronous, because a preview1 call must complete before the guest continues.

import { readSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';

export interface ByteSink {
  write(bytes: Uint8Array): void;
  /** A terminal: the guest will see a character device (and line-buffer its stdout). */
  readonly isTTY?: boolean;
}

export interface ByteSource {
  /** Up to `max` bytes; an empty array at end of input. */
  read(max: number): Uint8Array;
  readonly isTTY?: boolean;
}

/** Keeps everything written, for a caller that wants the bytes afterwards. */
export class CollectSink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];
  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}

export const discardSink: ByteSink = { write() {} };

/** Reads from a fixed buffer, then reports end of input. */
export function bytesSource(data: Uint8Array | string): ByteSource {
  let rest = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return {
    read(max) {
      const out = rest.subarray(0, max);
      rest = rest.subarray(out.length);
      return out;
    },
  };
}

export const emptySource: ByteSource = { read: () => new Uint8Array(0) };

// A descriptor Node (or a parent) left non-blocking answers EAGAIN: wait a moment, then retry.
const pause = new Int32Array(new SharedArrayBuffer(4));
function retrying<T>(op: () => T): T {
  for (;;) {
    try {
      return op();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Writes straight to a host file descriptor (1, 2), synchronously and completely. */
export function fdSink(fd: number): ByteSink {
  return {
    isTTY: isatty(fd),
    write(bytes) {
      for (let at = 0; at < bytes.length;) at += retrying(() => writeSync(fd, bytes, at, bytes.length - at));
    },
  };
}

/** Reads a host file descriptor (0); a closed or absent one is end of input. */
export function fdSource(fd: number): ByteSource {
  return {
    isTTY: isatty(fd),
    read(max) {
      const buf = new Uint8Array(max);
      try {
        return buf.subarray(0, retrying(() => readSync(fd, buf, 0, max, null)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EOF' || (e as NodeJS.ErrnoException).code === 'EBADF') return buf.subarray(0, 0);
        throw e;
      }
    },
  };
}
