// Pre-copy of guest memory: which 4 KiB blocks changed since the destination last got them, and
// the messages that carry them. Changes are found by comparing with a shadow copy of what was
// sent (native memcmp, 64 KiB first and 4 KiB inside a 64 KiB region that differs), not by a
// write barrier in the interpreter: a run that is not migrating pays nothing, and the cost of a
// round is one pass over memory while the guest keeps running between rounds.

import { ClusterError, MAX_PIECE } from './bus.js';

export const BLOCK = 4096;
const REGION = 65536;
const PER_PIECE = Math.floor((MAX_PIECE - 4) / (BLOCK + 4));

/** The source's copy of what the destination holds. */
export class Shadow {
  private copy = Buffer.alloc(0);

  /** The blocks of `memory` that differ from what was sent, which are from now on sent. */
  changed(memory: Uint8Array): number[] {
    const mem = Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength);
    if (this.copy.length < mem.length) {
      const grown = Buffer.alloc(mem.length);
      this.copy.copy(grown);
      this.copy = grown;
    }
    const out: number[] = [];
    const shadow = this.copy;
    for (let r = 0; r < mem.length; r += REGION) {
      const end = Math.min(r + REGION, mem.length);
      if (mem.compare(shadow, r, end, r, end) === 0) continue;
      for (let b = r; b < end; b += BLOCK) {
        if (mem.compare(shadow, b, b + BLOCK, b, b + BLOCK) === 0) continue;
        mem.copy(shadow, b, b, b + BLOCK);
        out.push(b / BLOCK);
      }
    }
    return out;
  }
}

/** Messages carrying `blocks` of `memory`: u32 n, n × u32 block index, n × 4096 bytes. */
export function pack(memory: Uint8Array, blocks: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < blocks.length; i += PER_PIECE) {
    const part = blocks.slice(i, i + PER_PIECE);
    const out = new Uint8Array(4 + part.length * (4 + BLOCK));
    const dv = new DataView(out.buffer);
    dv.setUint32(0, part.length, true);
    part.forEach((b, k) => {
      dv.setUint32(4 + k * 4, b, true);
      out.set(memory.subarray(b * BLOCK, (b + 1) * BLOCK), 4 + part.length * 4 + k * BLOCK);
    });
    pieces.push(out);
  }
  return pieces;
}

/** The blocks a message from `pack` carries, checked whole before any is used. */
export function unpack(piece: Uint8Array): { top: number; blocks: [number, Uint8Array][] } {
  if (piece.length < 4) throw new ClusterError('a page message is too short');
  const dv = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
  const n = dv.getUint32(0, true);
  if (piece.length !== 4 + n * (4 + BLOCK)) throw new ClusterError('a page message has the wrong length');
  let top = 0;
  const blocks: [number, Uint8Array][] = [];
  for (let k = 0; k < n; k++) {
    const b = dv.getUint32(4 + k * 4, true);
    top = Math.max(top, b + 1);
    blocks.push([b, piece.subarray(4 + n * 4 + k * BLOCK, 4 + n * 4 + (k + 1) * BLOCK)]);
  }
  return { top: top * BLOCK, blocks };
}

/** A memory image put together in a buffer (from a checkpoint's chain). */
export class Image {
  private bytes = new Uint8Array(0);
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  /** Applies one message from `pack`; a malformed one is refused whole. */
  apply(piece: Uint8Array): void {
    const { top, blocks } = unpack(piece);
    if (top > this.maxBytes) throw new ClusterError(`the guest's memory would pass this node's limit of ${this.maxBytes >> 20} MiB`);
    if (top > this.bytes.length) {
      const grown = new Uint8Array(Math.max(top, Math.min(this.maxBytes, this.bytes.length * 2)));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.used = Math.max(this.used, top);
    for (const [b, bytes] of blocks) this.bytes.set(bytes, b * BLOCK);
  }

  get contents(): Uint8Array {
    return this.bytes.subarray(0, this.used);
  }
}
