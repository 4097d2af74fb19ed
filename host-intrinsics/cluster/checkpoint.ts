// Checkpoints in JetStream's object store (bucket handover-checkpoints): a workload's module once
// (<id>.module), then a chain of checkpoints <id>.<gen>. The first of a chain (its base) holds
// every non-zero 4 KiB block of memory, each later one only the blocks changed since the one
// before, and each the snapshot without memory, what goes with it and the workload's directories
// (files.ts). The owner record names the
// latest (gen, base) only once its object is complete, so a node that dies mid-checkpoint leaves
// the one before in force. It also pins the objects: it holds the SHA-256 of the latest, each
// object that of the one before it in the chain and that of the module, so a restore reads exactly
// the objects the record names; another sealed object put in one's place (an older one of the same
// name, another workload's) is refused.

import { createHash } from 'node:crypto';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { ClusterError, decode, encode, seal, unseal, type Bus } from './bus.js';
import { Image, Shadow, pack } from './precopy.js';
import type { Carried } from './workload.js';

export const CHECKPOINT_BUCKET = 'handover-checkpoints';
const CHUNK = 512 * 1024;

/** What the owner record says of a workload's latest checkpoint. */
export interface CheckpointRef {
  gen: number;
  base: number;
  /** ms since the epoch when it was taken. */
  at: number;
  /** Output bytes it covers, per stream. */
  written: [number, number];
  /** Taken as its node left: the guest did not run after it. */
  final?: boolean;
  /** SHA-256 (hex) of the object `<id>.<gen>`. */
  digest: string;
}

const digestOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The source side of one workload's chain: what the last checkpoint holds, to send only changes. */
export class Chain {
  private shadow = new Shadow();
  private sinceBase = 0;
  private prev = '';
  private readonly module: string;
  gen: number;
  base: number;

  /** `gen`: the last generation written for this workload (by any node), 0 for none. */
  constructor(gen: number, module: Uint8Array) {
    this.gen = gen;
    this.base = gen + 1;
    this.module = digestOf(module);
  }

  /**
   * The next checkpoint's object from the suspended guest's memory and snapshot. When the
   * changes sent since the base outweigh the memory itself, the chain starts again from a full one.
   */
  next(memory: Uint8Array, snapshot: Uint8Array, carried: Carried, files: Uint8Array): { gen: number; base: number; data: Uint8Array; digest: string } {
    if (this.sinceBase > memory.length) {
      this.shadow = new Shadow();
      this.sinceBase = 0;
      this.base = this.gen + 1;
    }
    const pieces = pack(memory, this.shadow.changed(memory));
    this.gen++;
    let size = 8 + snapshot.length + files.length;
    for (const p of pieces) size += 4 + p.length;
    this.sinceBase += size;
    const body = new Uint8Array(size);
    const dv = new DataView(body.buffer);
    let at = 0;
    const put = (bytes: Uint8Array) => {
      dv.setUint32(at, bytes.length, true);
      body.set(bytes, at + 4);
      at += 4 + bytes.length;
    };
    put(snapshot);
    put(files);
    for (const p of pieces) put(p);
    const meta = { gen: this.gen, base: this.base, carried, module: this.module, ...(this.gen > this.base ? { prev: this.prev } : {}) };
    const data = encode(meta, body);
    this.prev = digestOf(data);
    return { gen: this.gen, base: this.base, data, digest: this.prev };
  }
}

export interface Restorable {
  module: Uint8Array;
  snapshot: Uint8Array;
  image: Uint8Array;
  carried: Carried;
  files: Uint8Array;
}

/** The object store's side; with a cluster key every object is sealed, and one whose seal is wrong is refused. */
export class Checkpoints {
  private constructor(private readonly os: ObjectStore, private readonly key: Uint8Array | undefined) {}

  static async open(bus: Bus, key?: Uint8Array): Promise<Checkpoints> {
    return new Checkpoints(await new Objm(bus.nc).create(CHECKPOINT_BUCKET), key);
  }

  private async put(name: string, data: Uint8Array): Promise<void> {
    await this.os.putBlob({ name, options: { max_chunk_size: CHUNK } }, seal(data, this.key));
  }

  private async get(name: string): Promise<Uint8Array | null> {
    const data = await this.os.getBlob(name);
    if (!data) return null;
    const open = unseal(data, this.key);
    if (!open) throw new ClusterError(`the checkpoint object ${name} is not sealed with this cluster's key`);
    return open;
  }

  async putModule(id: string, module: Uint8Array): Promise<void> {
    if (!(await this.os.info(`${id}.module`))) await this.put(`${id}.module`, module);
  }

  /** Writes one checkpoint object (from `Chain.next`). */
  async write(id: string, gen: number, data: Uint8Array): Promise<void> {
    await this.put(`${id}.${gen}`, data);
  }

  /** Deletes generations [from, to) of `id`'s chain: those a newer base made useless. */
  async prune(id: string, from: number, to: number): Promise<void> {
    for (let g = Math.max(1, from); g < to; g++) await this.os.delete(`${id}.${g}`).catch(() => {});
  }

  /** Deletes everything of `id` (it ended). */
  async remove(id: string, ref: CheckpointRef | undefined): Promise<void> {
    if (ref) await this.prune(id, ref.base, ref.gen + 1);
    await this.os.delete(`${id}.module`).catch(() => {});
  }

  /** The checkpoint `ref` names, with memory put together from its chain; bad objects are refused. */
  async load(id: string, ref: CheckpointRef, maxBytes: number): Promise<Restorable> {
    const module = await this.get(`${id}.module`);
    if (!module) throw new ClusterError(`the checkpoint of ${id} has no module`);
    if (!Number.isSafeInteger(ref.base) || !Number.isSafeInteger(ref.gen) || ref.base < 1 || ref.base > ref.gen || typeof ref.digest !== 'string') throw new ClusterError(`the checkpoint record of ${id} is malformed`);
    const moduleDigest = digestOf(module);
    const image = new Image(maxBytes);
    let last: { snapshot: Uint8Array; files: Uint8Array; carried: Carried } | null = null;
    let prev = '';
    for (let g = ref.base; g <= ref.gen; g++) {
      const data = await this.get(`${id}.${g}`);
      const m = data && decode<{ gen?: number; carried?: Carried; module?: string; prev?: string }>(data);
      if (!m || m.meta.gen !== g || !m.meta.carried) throw new ClusterError(`checkpoint ${g} of ${id} is missing or malformed`);
      const d = digestOf(data);
      if ((g === ref.gen && d !== ref.digest) || m.meta.module !== moduleDigest || (g > ref.base && m.meta.prev !== prev)) {
        throw new ClusterError(`the checkpoint object ${id}.${g} is not the one the owner record of ${id} names (another object was put in its place)`);
      }
      prev = d;
      const dv = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      const parts: Uint8Array[] = [];
      for (let at = 0; at < m.body.length;) {
        if (at + 4 > m.body.length) throw new ClusterError(`checkpoint ${g} of ${id} is truncated`);
        const n = dv.getUint32(at, true);
        if (at + 4 + n > m.body.length) throw new ClusterError(`checkpoint ${g} of ${id} is truncated`);
        const part = m.body.subarray(at + 4, at + 4 + n);
        if (parts.length < 2) parts.push(part);
        else image.apply(part);
        at += 4 + n;
      }
      if (parts.length < 2) throw new ClusterError(`checkpoint ${g} of ${id} has no snapshot`);
      last = { snapshot: parts[0], files: parts[1], carried: m.meta.carried };
    }
    return { module, snapshot: last!.snapshot, files: last!.files, image: image.contents, carried: last!.carried };
  }
}
