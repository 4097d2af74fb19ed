// The client side of the cluster: `run --on`, `attach`, `move`, `ps`, `nodes`. Output comes from
// the stream HANDOVER_OUT through an ordered consumer, so a client that attaches late (or
// reconnects) reads it from the start; frames are put together by byte offset, so whichever
// node sent a frame, and however often, each byte is written once and in order.

import { nuid } from '@nats-io/nats-core';
import {
  NAME, OUTPUT_STREAM, ClusterError, ask, decode, liveNodes, nodeSubject, outputSubject, ownerOf, type Bus, type Owner,
} from './bus.js';
import { DEFAULT_MAX_FILES_MIB, packDirs, unpackDirs } from './files.js';
import type { End } from './workload.js';
import type { MoveStats } from './node.js';

export interface Output {
  stdout(bytes: Uint8Array): void;
  stderr(bytes: Uint8Array): void;
  /** A line about the workload itself (it was resumed elsewhere). */
  note(line: string): void;
}

/** Frames in, bytes out: each stream's bytes once, in order, however frames arrive. */
class Assembler {
  private readonly have: [number, number] = [0, 0];
  private readonly early: [Map<number, Uint8Array>, Map<number, Uint8Array>] = [new Map(), new Map()];

  constructor(private readonly out: Output) {}

  frame(stream: 1 | 2, offset: number, bytes: Uint8Array): void {
    const i = stream - 1;
    if (offset > this.have[i]) {
      this.early[i].set(offset, bytes);
      return;
    }
    this.write(i, offset, bytes);
    for (let next = this.early[i].get(this.have[i]); next; next = this.early[i].get(this.have[i])) {
      this.early[i].delete(this.have[i]);
      this.write(i, this.have[i], next);
    }
  }

  private write(i: number, offset: number, bytes: Uint8Array): void {
    const fresh = bytes.subarray(this.have[i] - offset);
    if (fresh.length === 0) return;
    this.have[i] += fresh.length;
    (i === 0 ? this.out.stdout : this.out.stderr)(fresh);
  }

  /** The workload went back to where its checkpoint had written `written`: what follows may repeat. */
  rewind(written: [number, number]): boolean {
    let back = false;
    for (const i of [0, 1]) {
      this.early[i].clear();
      if (written[i] < this.have[i]) {
        this.have[i] = written[i];
        back = true;
      }
    }
    return back;
  }

  complete(written: [number, number]): boolean {
    return this.have[0] >= written[0] && this.have[1] >= written[1];
  }
}

interface Frame {
  s?: number;
  o?: number;
  /** Epoch of the node that sent it. */
  e?: number;
  end?: End;
  written?: [number, number];
  /** With the end: the workload's directories wait in the files bucket as <id>.out. */
  files?: boolean;
  resumed?: { node: string; from: string; at: number; written: [number, number] };
}

/**
 * Follows workload `id`'s output until its end frame; the end. When the connection comes back
 * after the server was away, the consumer is made again from the last stream sequence read.
 */
export async function follow(bus: Bus, id: string, out: Output): Promise<{ end: End; files: boolean }> {
  const asm = new Assembler(out);
  let end: { end: End; written: [number, number]; files: boolean } | null = null;
  // Frames of an older epoch come from a node that lost the workload to a takeover.
  let epoch = 0;
  let seq = 0;
  const current: { messages?: { close(): Promise<unknown> } } = {};
  let reconnected = false;
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type !== 'reconnect') continue;
      reconnected = true;
      void current.messages?.close().catch(() => {});
    }
  })();
  for (;;) {
    reconnected = false;
    let messages;
    try {
      const consumer = await bus.js.consumers.get(OUTPUT_STREAM, {
        filter_subjects: outputSubject(id), ...(seq > 0 ? { deliver_policy: 'by_start_sequence', opt_start_seq: seq + 1 } : {}),
      });
      messages = await consumer.consume();
    } catch (e) {
      if (bus.nc.isClosed()) throw e;
      // The server is back but its JetStream not yet.
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    current.messages = messages;
    try {
      for await (const m of messages) {
        seq = m.seq;
        const f = decode<Frame>(m.data);
        if (f === null) continue;
        const e = Number(f.meta.e) || 0;
        if (e < epoch) continue;
        const r = f.meta.resumed;
        if (r && Array.isArray(r.written) && r.written.length === 2) {
          epoch = e;
          end = null;
          const back = asm.rewind([Number(r.written[0]) || 0, Number(r.written[1]) || 0]);
          const at = new Date(Number(r.at)).toISOString();
          out.note(`handover: ${id} resumed on ${r.node} from its checkpoint of ${at} (node ${r.from} is gone)${back ? '; the output since that checkpoint is repeated' : ''}`);
        } else if (f.meta.end && Array.isArray(f.meta.written)) end = { end: f.meta.end, written: f.meta.written, files: f.meta.files === true };
        else if ((f.meta.s === 1 || f.meta.s === 2) && Number.isSafeInteger(f.meta.o)) asm.frame(f.meta.s, f.meta.o!, f.body);
        if (end && asm.complete(end.written)) return { end: end.end, files: end.files };
      }
    } catch {
      // A consumer that failed is made again below, as after a reconnect.
    } finally {
      await messages.close().catch(() => {});
    }
    if (!reconnected && bus.nc.isClosed()) break;
  }
  throw new ClusterError(`the output of ${id} ended without its end`);
}

/** Writes what workload `id` left in its directories into `dirs` (guest name → directory here), as after a local run. */
export async function fetchDirs(bus: Bus, id: string, dirs: Record<string, string>): Promise<void> {
  const archive = await bus.files.getBlob(`${id}.out`);
  if (!archive) throw new ClusterError(`the directories of ${id} did not come back`);
  unpackDirs(archive, Object.values(dirs), Infinity);
  await bus.files.delete(`${id}.out`).catch(() => {});
}

export interface SubmitOptions {
  node: string;
  id?: string;
  module: Uint8Array;
  args: string[];
  env: Record<string, string>;
  /** Checkpoint every this many seconds (0: never). */
  checkpointEvery: number;
  exactlyOnce: boolean;
  /** Preopens: guest name → this machine's directory, whose contents go with the workload. */
  dirs?: Record<string, string>;
}

/** Starts a workload on a node; its id. */
export async function submit(bus: Bus, opts: SubmitOptions): Promise<string> {
  const id = opts.id ?? `w-${nuid.next().slice(-10).toLowerCase()}`;
  if (!NAME.test(id)) throw new ClusterError(`--id wants letters, digits, - and _ (at most 64), not "${id}"`);
  if (!NAME.test(opts.node)) throw new ClusterError(`no node named ${opts.node}`);
  if (await ownerOf(bus, id)) throw new ClusterError(`a workload named ${id} already exists (handover ps lists them)`);
  const advert = (await liveNodes(bus)).find((a) => a.name === opts.node);
  if (!advert) throw new ClusterError(`no node named ${opts.node} in the cluster (handover nodes lists them)`);
  const dirs = opts.dirs ?? {};
  const guests = Object.keys(dirs);
  const limit = advert.maxFilesMiB ?? DEFAULT_MAX_FILES_MIB;
  const archive = guests.length > 0 ? packDirs(Object.values(dirs), limit * 1048576, `the --dir directories (${Object.values(dirs).join(', ')})`) : null;
  // Big modules and directories do not fit a message: they go through the object store.
  await bus.files.putBlob({ name: `${id}.module` }, opts.module);
  if (archive) await bus.files.putBlob({ name: `${id}.in` }, archive);
  const meta = { id, args: opts.args, env: opts.env, dirs: guests, every: opts.checkpointEvery, exactlyOnce: opts.exactlyOnce };
  await ask(bus.nc, nodeSubject(opts.node, 'run'), meta, undefined, 30_000, `node ${opts.node}`).catch(async (e: unknown) => {
    await bus.files.delete(`${id}.module`).catch(() => {});
    await bus.files.delete(`${id}.in`).catch(() => {});
    throw e instanceof ClusterError && /is not there$/.test(e.message) ? new ClusterError(`no node named ${opts.node} in the cluster (handover nodes lists them)`) : e;
  });
  return id;
}

/** The owner record of `id`; an unknown id is an error. */
export async function owner(bus: Bus, id: string): Promise<Owner> {
  const o = NAME.test(id) ? await ownerOf(bus, id) : null;
  if (!o) throw new ClusterError(`no workload named ${id} (handover ps lists them)`);
  return o.owner;
}

/** Asks the node that runs `id` to stop it. */
export async function stop(bus: Bus, id: string): Promise<void> {
  const o = await owner(bus, id);
  if (o.state !== 'running') return;
  await ask(bus.nc, nodeSubject(o.node, 'stop'), { id }, undefined, 5000, `node ${o.node}`);
}

/** Live migration of `id` to `to` (or stop-and-copy: all memory sent with the guest stopped). */
export async function move(bus: Bus, id: string, to: string, stopAndCopy = false): Promise<MoveStats & { from: string }> {
  const o = await owner(bus, id);
  if (o.state !== 'running') throw new ClusterError(`workload ${id} is not running (${describeState(o)})`);
  if (o.node === to) throw new ClusterError(`workload ${id} is already on ${to}`);
  if (!(await liveNodes(bus)).some((a) => a.name === to && !a.leaving)) throw new ClusterError(`no node named ${to} in the cluster (handover nodes lists them)`);
  const reply = await ask<MoveStats>(bus.nc, nodeSubject(o.node, 'move'), { id, to, stopAndCopy }, undefined, 600_000, `node ${o.node}`);
  return { ...reply.meta, from: o.node };
}

export function describeState(o: Owner): string {
  if (o.state === 'exited') return `exited ${o.code}`;
  if (o.state === 'trapped') return `trapped: ${o.message}`;
  return o.state;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n';
}

/** `handover ps`: every workload the cluster knows, with live counts from the nodes' adverts. */
export async function psTable(bus: Bus): Promise<string> {
  const live = new Map<string, { instructions: string; memory: number }>();
  for (const a of await liveNodes(bus)) for (const w of a.workloads) live.set(w.id, w);
  const rows = [['ID', 'NODE', 'STATE', 'INSTRUCTIONS', 'MEMORY', 'CHECKPOINT', 'SINCE']];
  const ids: string[] = [];
  for await (const k of await bus.workloads.keys()) ids.push(k);
  for (const id of ids.sort()) {
    const o = await ownerOf(bus, id);
    if (!o) continue;
    const l = live.get(id);
    const ck = o.owner.state === 'running' && o.owner.checkpoint ? ago(o.owner.checkpoint.at) : '-';
    rows.push([id, o.owner.node, describeState(o.owner), l?.instructions ?? '-', l ? mib(l.memory) : '-', ck, ago(o.owner.since)]);
  }
  return table(rows);
}

/** `handover nodes`: the nodes whose heartbeat is fresh. */
export async function nodesTable(bus: Bus): Promise<string> {
  const rows = [['NAME', 'ENGINE', 'WORKLOADS', 'FREE MEMORY', 'LIMITS', 'SEEN']];
  for (const a of await liveNodes(bus)) {
    rows.push([a.leaving ? `${a.name} (leaving)` : a.name, a.engine, String(a.workloads.length), mib(a.freeMemory), `${a.maxWorkloads} workloads, ${a.maxMemoryMiB} MiB`, ago(a.at)]);
  }
  return table(rows);
}
