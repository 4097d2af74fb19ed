// The cluster's use of NATS: one connection per process, the names of subjects, buckets and the
// output stream, and the one message shape every request and reply has. NATS carries everything;
// JetStream keeps what must outlive a process (who owns a workload, the nodes' adverts, output).
//
//   handover.node.<name>.<op>   requests to one node (info, run, stop, move, mig)
//   handover.out.<id>           a workload's output frames, kept by the stream HANDOVER_OUT
//   KV handover-workloads       id → owner record; a move commits by one compare-and-set here
//   KV handover-nodes           name → advert, rewritten every heartbeat, aged out when it stops
//   objects handover-checkpoints  modules and checkpoint chains (checkpoint.ts), sealed by nodes
//   objects handover-files      what a client hands a node and gets back: <id>.module, <id>.in
//                               (its directories, files.ts) and <id>.out (them at the end)

import { connect } from '@nats-io/transport-node';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CheckpointRef } from './checkpoint.js';

export const DEFAULT_NATS = 'nats://127.0.0.1:4222';
export const OUTPUT_STREAM = 'HANDOVER_OUT';
export const FILES_BUCKET = 'handover-files';
export const HEARTBEAT_MS = 1000;
/** A node whose advert is older than this is gone. */
export const NODE_GONE_MS = 4000;
/** Core NATS refuses payloads over 1 MiB by default: bulk data goes in pieces below it. */
export const MAX_PIECE = 900 * 1024;

export const nodeSubject = (name: string, op: string) => `handover.node.${name}.${op}`;
export const outputSubject = (id: string) => `handover.out.${id}`;

/** A name that is safe as a subject token and a key: letters, digits, - and _. */
export const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class ClusterError extends Error {
  override name = 'ClusterError';
}

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  workloads: KV;
  nodes: KV;
  files: ObjectStore;
  close(): Promise<void>;
}

export interface BusOptions {
  url?: string;
  /** A NATS credentials file (JWT and seed), or a user file: `user:password` on its first line. */
  creds?: string;
  /** Called when the connection comes back after the server was away. */
  onReconnect?: () => void;
}

export function natsUrl(url?: string): string {
  return url ?? process.env.HANDOVER_NATS ?? DEFAULT_NATS;
}

function authOptions(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClusterError(`cannot read the credentials file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (text.includes('-----BEGIN NATS USER JWT-----')) return { authenticator: credsAuthenticator(new TextEncoder().encode(text)) };
  const line = text.split('\n')[0].trim();
  const colon = line.indexOf(':');
  if (colon <= 0) throw new ClusterError(`${file}: neither a NATS credentials file nor a user file (user:password)`);
  return { user: line.slice(0, colon), pass: line.slice(colon + 1) };
}

/** Connects and opens (or makes) the buckets and the output stream. */
export async function openBus(options: BusOptions = {}): Promise<Bus> {
  const url = natsUrl(options.url);
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...authOptions(options.creds) });
  } catch (e) {
    const why = (e as Error).message;
    if (/authoriz|authentic/i.test(why)) throw new ClusterError(`the NATS server at ${url} refused the credentials`);
    throw new ClusterError(`no NATS server at ${url} (${why}); start one (nats-server -js) or give --nats <url>`);
  }
  if (options.onReconnect) {
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') options.onReconnect!();
    })();
  }
  try {
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(OUTPUT_STREAM);
    } catch {
      await jsm.streams.add({ name: OUTPUT_STREAM, subjects: ['handover.out.>'], max_age: 24 * 3600 * 1e9 }).catch(async (e) => {
        // Another process made it at the same moment.
        if (!(await jsm.streams.info(OUTPUT_STREAM).then(() => true, () => false))) throw e;
      });
    }
    const kvm = new Kvm(nc);
    const workloads = await kvm.create('handover-workloads', { history: 1 });
    const nodes = await kvm.create('handover-nodes', { history: 1, ttl: 60_000 });
    const files = await new Objm(nc).create(FILES_BUCKET);
    return { nc, js: jetstream(nc), workloads, nodes, files, close: () => nc.drain().catch(() => nc.close()) };
  } catch (e) {
    await nc.close();
    throw new ClusterError(`the NATS server at ${url} has no usable JetStream (${(e as Error).message}); start it with -js`);
  }
}

// Every message: u32 length of a JSON header, the header, then bytes (a module, pages, a snapshot).
export interface Message<M = Record<string, unknown>> {
  meta: M;
  body: Uint8Array;
}

export function encode(meta: object, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const out = new Uint8Array(4 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(body, 4 + json.length);
  return out;
}

/** The message, or null when the bytes are not one (a stray or hostile publisher). */
export function decode<M = Record<string, unknown>>(bytes: Uint8Array): Message<M> | null {
  if (bytes.length < 4) return null;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (n > bytes.length - 4) return null;
  try {
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as M;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return null;
    return { meta, body: bytes.subarray(4 + n) };
  } catch {
    return null;
  }
}

// The cluster key: nodes seal what moves a guest between them (pages, snapshots, checkpoints) with
// HMAC-SHA256, so that a publisher who can reach the server but lacks the key changes nothing.
const TAG = 32;

/** Reads a cluster key file: at least 16 bytes (say, `head -c 32 /dev/urandom > key`). */
export function readKey(file: string): Uint8Array {
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    throw new ClusterError(`cannot read the cluster key ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (key.length < 16) throw new ClusterError(`the cluster key ${file} has ${key.length} bytes; it needs at least 16 (head -c 32 /dev/urandom > ${file})`);
  return key;
}

const mac = (key: Uint8Array, bytes: Uint8Array) => createHmac('sha256', key).update(bytes).digest();

/** `bytes` with their tag; without a key, as they are. */
export function seal(bytes: Uint8Array, key: Uint8Array | undefined): Uint8Array {
  if (!key) return bytes;
  const out = new Uint8Array(bytes.length + TAG);
  out.set(bytes);
  out.set(mac(key, bytes), bytes.length);
  return out;
}

/** What `seal` sealed, or null when the tag is missing or wrong; without a key, as they are. */
export function unseal(bytes: Uint8Array, key: Uint8Array | undefined): Uint8Array | null {
  if (!key) return bytes;
  if (bytes.length < TAG) return null;
  const body = bytes.subarray(0, bytes.length - TAG);
  return timingSafeEqual(mac(key, body), bytes.subarray(bytes.length - TAG)) ? body : null;
}

/** A reply that says why a request was refused. */
export interface Refusal {
  error: string;
}

/** Sends a request and returns the reply; a refusal, no answer or a dead node is a ClusterError. */
export async function ask<R = Record<string, unknown>>(nc: NatsConnection, subject: string, meta: object, body?: Uint8Array, timeoutMs = 10_000, who = subject, key?: Uint8Array): Promise<Message<R>> {
  let reply;
  try {
    reply = await nc.request(subject, seal(encode(meta, body), key), { timeout: timeoutMs });
  } catch (e) {
    const why = (e as Error).message;
    if (/no responders/i.test(why) || (e as { code?: string }).code === '503') throw new ClusterError(`${who} is not there`);
    if (/timeout/i.test(why)) throw new ClusterError(`${who} did not answer within ${timeoutMs} ms`);
    throw new ClusterError(`${who}: ${why}`);
  }
  const m = decode<R & Partial<Refusal>>(reply.data);
  if (m === null) throw new ClusterError(`${who} sent a reply that is no handover message`);
  if (typeof m.meta.error === 'string') throw new ClusterError(m.meta.error);
  return m as Message<R>;
}

/** The owner record of a workload in KV handover-workloads. */
export interface Owner {
  id: string;
  node: string;
  state: 'running' | 'exited' | 'trapped' | 'stopped' | 'lost';
  /** ms since the epoch when the workload was submitted. */
  since: number;
  /** The end: exit code, or the trap (or loss) message. */
  code?: number;
  message?: string;
  /** How often it is checkpointed (seconds; absent: never), and whether output waits for one. */
  every?: number;
  exactlyOnce?: boolean;
  /** The latest complete checkpoint. */
  checkpoint?: CheckpointRef;
  /** Times it was resumed from a checkpoint: output frames of an older epoch are stale. */
  epoch?: number;
}

/** A node's advert in KV handover-nodes. */
export interface Advert {
  name: string;
  engine: string;
  /** ms since the epoch of this heartbeat. */
  at: number;
  freeMemory: number;
  maxWorkloads: number;
  maxMemoryMiB: number;
  /** The most a workload's directories may hold, in MiB. */
  maxFilesMiB?: number;
  /** Instructions a workload may execute in all (decimal), if limited. */
  maxFuel?: string;
  /** It is handing its workloads on: alive, but it takes no new ones. */
  leaving?: boolean;
  workloads: { id: string; instructions: string; memory: number; since: number }[];
}

export function parseJson<T>(data: Uint8Array): T | null {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch {
    return null;
  }
}

export const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** Every node whose advert is fresh. */
export async function liveNodes(bus: Bus): Promise<Advert[]> {
  const out: Advert[] = [];
  for await (const key of await bus.nodes.keys()) {
    const e = await bus.nodes.get(key);
    if (!e || e.operation !== 'PUT') continue;
    const a = parseJson<Advert>(e.value);
    if (a && Date.now() - a.at < NODE_GONE_MS) out.push(a);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The owner record and its revision, or null for an unknown id. */
export async function ownerOf(bus: Bus, id: string): Promise<{ owner: Owner; revision: number } | null> {
  const e = await bus.workloads.get(id);
  if (!e || e.operation !== 'PUT') return null;
  const owner = parseJson<Owner>(e.value);
  return owner ? { owner, revision: e.revision } : null;
}
