// `handover node`: an agent that joins the cluster, advertises itself, runs workloads and moves
// them. Requests arrive on handover.node.<name>.<op>; every reply is a message (bus.ts), a refusal
// one with `error`. Ownership lives in KV handover-workloads: a node runs a workload only while
// the record names it, and a move commits by the destination's compare-and-set on the revision
// the source read. The source stops the guest before the final round and runs it again only after
// its own compare-and-set wins, so two nodes never run it at once. A workload run with
// --checkpoint-every is checkpointed into the object store (checkpoint.ts); when its node is gone,
// a live node claims it by compare-and-set and resumes it from there, one epoch later.

import { mkdirSync, rmSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import path from 'node:path';
import type { Msg } from '@nats-io/nats-core';
import { nuid } from '@nats-io/nats-core';
import {
  MAX_PIECE, NAME, NODE_GONE_MS, ClusterError, ask, decode, encode, json, liveNodes, nodeSubject, openBus, outputSubject, ownerOf, unseal,
  type Advert, type Bus, type BusOptions, type Owner,
} from './bus.js';
import { Chain, Checkpoints, type CheckpointRef } from './checkpoint.js';
import { DEFAULT_MAX_FILES_MIB, packDirs, unpackDirs, type Base } from './files.js';
import { Shadow, pack } from './precopy.js';
import { Staging, Workload, wallNow, type Carried, type End } from './workload.js';

export interface NodeOptions extends BusOptions {
  name: string;
  maxWorkloads: number;
  maxMemoryMiB: number;
  /** Instructions a workload may execute in all (absent: no limit). */
  maxFuel?: bigint;
  /** The most a workload's directories may hold (default 64 MiB). */
  maxFilesMiB?: number;
  /** Where the node keeps its workloads' directories (default: a directory under the system's temp). */
  workDir?: string;
  /** Directories of this node preopened for every workload: guest name → host directory. */
  dirs?: Record<string, string>;
  /** The cluster key (bus.ts readKey): moves and checkpoints are sealed with it. */
  key?: Uint8Array;
  log?: (line: string) => void;
}

// A round this small (or smaller) is sent with the guest stopped: the downtime.
const STOP_BYTES = 256 * 1024;
const MAX_ROUNDS = 30;
/** Pre-copy stops once it has sent this many times the guest's memory. */
const MAX_SENT = 3;
const IN_FLIGHT = 8;
const PIECE_TIMEOUT_MS = 5000;
const INCOMING_IDLE_MS = 60_000;
/**
 * A move's messages are sealed with its id, its destination and a number of their own, so a copy
 * is worth nothing: one for another node, one seen before in the move, and a move that began more
 * than this long ago (by the source's clock) or whose id was seen before are refused.
 */
const MOVE_WINDOW_MS = 5 * 60_000;
/** After joining or reconnecting, how long a node waits before it takes the workloads of nodes that look gone. */
const RESCUE_GRACE_MS = NODE_GONE_MS;
/**
 * A node runs its guests only while its last advert went out less than this long ago: well
 * before others count it gone (NODE_GONE_MS) and take its workloads, it has stopped them.
 */
const LEASE_MS = NODE_GONE_MS / 2;

export interface MoveStats {
  rounds: number;
  bytes: number;
  totalMs: number;
  downtimeMs: number;
}

/** How a workload is kept: checkpointed every `every` seconds (0: only as its node leaves). */
interface Policy {
  every: number;
  exactlyOnce: boolean;
}

type Frame = { s: 1 | 2; o: number; bytes: Uint8Array };

/**
 * A workload's output on its way to the stream. Frames carry the epoch, so that those of a node
 * that lost the workload are told apart. With exactly-once they wait until a checkpoint covers
 * them. Each is published to JetStream until acknowledged (a few in flight), under a message id
 * that makes a repeat a no-op: output written while the server is away arrives once it is back.
 */
class Outlet {
  pending: Frame[] = [];
  private readonly queue: { data: Uint8Array; msgID: string }[] = [];
  private inflight = 0;
  private retry?: NodeJS.Timeout;

  constructor(private readonly bus: Bus, private readonly id: string, public epoch: number, private readonly hold: boolean) {}

  readonly frame = (s: 1 | 2, o: number, bytes: Uint8Array) => {
    if (this.hold) this.pending.push({ s, o, bytes });
    else this.send(frameKey(s, o), { s, o }, bytes);
  };

  private send(key: string, meta: object, body?: Uint8Array): void {
    this.queue.push({ data: encode({ ...meta, e: this.epoch }, body), msgID: `${this.id}.${this.epoch}.${key}` });
    this.pump();
  }

  private pump(): void {
    while (this.inflight < OUTPUT_WINDOW && this.queue.length > 0) {
      const m = this.queue.shift()!;
      this.inflight++;
      this.bus.js.publish(outputSubject(this.id), m.data, { msgID: m.msgID, timeout: 5000 }).then(() => {
        this.inflight--;
        this.pump();
      }, () => {
        this.inflight--;
        this.queue.unshift(m);
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          this.pump();
        }, 250);
      });
    }
  }

  /** Sends the frames that end within `written` (all, without it). */
  release(written?: [number, number]): void {
    const keep: Frame[] = [];
    for (const f of this.pending) {
      if (!written || f.o + f.bytes.length <= written[f.s - 1]) this.send(frameKey(f.s, f.o), { s: f.s, o: f.o }, f.bytes);
      else keep.push(f);
    }
    this.pending = keep;
  }

  /** Any other message about this workload (its end, a resumption), once per epoch. */
  note(kind: 'end' | 'resumed', meta: object): void {
    this.send(kind, meta);
  }

  /** The frames not yet sent, as they travel with a move. */
  carry(): { s: 1 | 2; o: number; b: string }[] {
    return this.pending.map((f) => ({ s: f.s, o: f.o, b: Buffer.from(f.bytes).toString('base64') }));
  }

  static carried(v: unknown): Frame[] {
    if (!Array.isArray(v)) return [];
    return v.filter((f) => (f?.s === 1 || f?.s === 2) && Number.isSafeInteger(f.o) && typeof f.b === 'string')
      .map((f) => ({ s: f.s, o: f.o, bytes: new Uint8Array(Buffer.from(f.b, 'base64')) }));
  }
}

const frameKey = (s: 1 | 2, o: number) => `${s}.${o}`;
/** Output messages published at once, each until acknowledged. */
const OUTPUT_WINDOW = 64;

interface Running {
  w: Workload;
  out: Outlet;
  /** Its directories on this node, by preopen, under `home`. */
  home: string;
  dirs: string[];
  policy: Policy;
  revision: number;
  /** Set while it is being moved away: a second move is refused. */
  moving: boolean;
  /** It moved away or another node owns it now: its end is not this node's to tell. */
  gone: boolean;
  checkpoint?: CheckpointRef;
  chain?: Chain;
  /** The last checkpoint generation written, committed or not. */
  lastGen: number;
  /** A checkpoint being written. */
  busy: Promise<void> | null;
  timer?: NodeJS.Timeout;
  /**
   * Set when the node lost its lease: the guest waits until the owner record says the workload
   * is still this node's, for another node may have taken it over meanwhile.
   */
  doubt?: boolean;
  confirming?: boolean;
}

interface Incoming {
  id: string;
  /** The module and the directories' archive, as their pieces arrive. */
  /** files: the directories as the move began; changes: an archive against them, at its end. */
  blobs: { module: Uint8Array[]; files: Uint8Array[]; changes: Uint8Array[] };
  /** Made once the module is in: the memory the rounds write into. */
  staged: Staging | null;
  /** Memory size the source announced. */
  memory: number;
  timer: NodeJS.Timeout;
  /** The numbers of the messages of the move so far. */
  seen: Set<number>;
}

export const ENGINE = `node ${process.version} (V8 ${process.versions.v8}), VM interpreting`;

export class ClusterNode {
  private readonly running = new Map<string, Running>();
  private readonly incoming = new Map<string, Incoming>();
  /** Moves begun here within MOVE_WINDOW_MS, by id: when each began. */
  private readonly begun = new Map<string, number>();
  private heartbeat?: NodeJS.Timeout;
  private closing = false;
  private rescuing = false;
  private rescueAfter = Date.now() + RESCUE_GRACE_MS;
  /** When the last advert was stored: the node's lease on its workloads. */
  private advertised = Date.now();
  private fenced = false;

  readonly engine = ENGINE;

  private constructor(readonly bus: Bus, readonly store: Checkpoints, readonly options: NodeOptions) {}

  static async join(options: NodeOptions): Promise<ClusterNode> {
    if (!NAME.test(options.name)) throw new ClusterError(`a node name is letters, digits, - and _ (at most 64), not "${options.name}"`);
    let node: ClusterNode | undefined;
    const bus = await openBus({ ...options, onReconnect: () => { node?.reconnected(); options.onReconnect?.(); } });
    const taken = (await liveNodes(bus)).find((a) => a.name === options.name);
    if (taken) {
      await bus.close();
      throw new ClusterError(`a node named ${options.name} is already in the cluster`);
    }
    node = new ClusterNode(bus, await Checkpoints.open(bus, options.key), options);
    const sub = bus.nc.subscribe(nodeSubject(options.name, '*'));
    void (async () => {
      for await (const m of sub) void node.serve(m);
    })();
    await node.advertise();
    node.heartbeat = setInterval(() => {
      node.checkLease();
      if (!node.fenced) node.confirmDoubted();
      void node.advertise().catch(() => {});
      void node.rescue().catch((e) => node.log(`taking over workloads: ${(e as Error).message}`));
    }, 1000);
    return node;
  }

  /** Back on NATS: adverts go out at once, and no workload is taken before the others re-advertise. */
  private reconnected(): void {
    this.rescueAfter = Date.now() + RESCUE_GRACE_MS;
    void this.advertise().catch(() => {});
    for (const r of this.running.values()) void this.confirm(r);
  }

  /**
   * Stops `r` if the owner record no longer names this node at r's revision (taken over while
   * away); lets it run on if it does. A record that cannot be read leaves it waiting (the next
   * heartbeat asks again).
   */
  private async confirm(r: Running): Promise<void> {
    if (r.confirming) return;
    r.confirming = true;
    try {
      const o = await ownerOf(this.bus, r.w.id).catch(() => undefined);
      if (o === undefined || r.moving) return;
      if (!o || o.owner.node !== this.options.name || o.revision !== r.revision) this.lose(r, 'another node took it over');
      else r.doubt = false;
    } finally {
      r.confirming = false;
    }
  }

  private lose(r: Running, why: string): void {
    if (r.gone) return;
    r.gone = true;
    r.w.stop();
    this.log(`${r.w.id}: stopped here, ${why}`);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private advert(): Advert {
    return {
      name: this.options.name, engine: ENGINE, at: Date.now(), freeMemory: freemem(),
      maxWorkloads: this.options.maxWorkloads, maxMemoryMiB: this.options.maxMemoryMiB, maxFilesMiB: this.maxFilesMiB, ...(this.options.maxFuel !== undefined ? { maxFuel: this.options.maxFuel.toString() } : {}), ...(this.closing ? { leaving: true } : {}),
      workloads: [...this.running.values()].map(({ w }) => ({
        id: w.id, instructions: w.instructions.toString(), memory: w.memory().length, since: w.since,
      })),
    };
  }

  private async advertise(): Promise<void> {
    const at = Date.now();
    await this.bus.nodes.put(this.options.name, json({ ...this.advert(), at }));
    this.advertised = Math.max(this.advertised, at);
    this.checkLease();
  }

  private get leased(): boolean {
    return Date.now() - this.advertised < LEASE_MS;
  }

  private checkLease(): void {
    if (this.leased === !this.fenced) return;
    this.fenced = !this.leased;
    if (this.fenced) {
      for (const r of this.running.values()) r.doubt = true;
      this.log(`no heartbeat stored for ${((Date.now() - this.advertised) / 1000).toFixed(1)} s: its workloads wait until one is`);
    } else {
      this.log('heartbeat stored again: each workload runs on once its owner record says it is still this node\'s');
      this.confirmDoubted();
    }
  }

  private confirmDoubted(): void {
    for (const r of this.running.values()) if (r.doubt) void this.confirm(r);
  }

  private usedBytes(): number {
    let n = 0;
    for (const { w } of this.running.values()) n += w.memory().length;
    for (const i of this.incoming.values()) n += Math.max(i.memory, i.staged?.bytes ?? 0);
    return n;
  }

  /** Why this node cannot take one more workload of `bytes` memory, or null. */
  private refusal(bytes: number): string | null {
    const me = this.options.name;
    if (this.closing) return `node ${me} is shutting down`;
    if (this.running.size + this.incoming.size >= this.options.maxWorkloads) return `node ${me} runs its maximum of ${this.options.maxWorkloads} workloads`;
    const free = this.options.maxMemoryMiB * 1048576 - this.usedBytes();
    if (bytes > free) return `node ${me} has ${Math.max(0, free >> 20)} MiB of its --max-memory ${this.options.maxMemoryMiB} free, the workload needs ${Math.ceil(bytes / 1048576)} MiB`;
    return null;
  }

  private limits() {
    return { memoryPages: Math.max(1, Math.floor(this.options.maxMemoryMiB * 16)) };
  }

  private get maxFilesMiB(): number {
    return this.options.maxFilesMiB ?? DEFAULT_MAX_FILES_MIB;
  }

  /** This node's directories for preopens `guests` (node --dir), by guest name; one it lacks is refused. */
  private nodeDirs(id: string, guests: readonly string[]): string[] {
    return guests.map((g) => {
      const host = this.options.dirs?.[g];
      if (host === undefined) throw new ClusterError(`node ${this.options.name} has no --dir for ${g}, which workload ${id} has preopened`);
      return host;
    });
  }

  /** Where a restored workload's preopens are here: its own directories unpacked, then this node's. */
  private placeFor(id: string, carried: Carried, archive: Uint8Array, base?: Uint8Array): { home: string; dirs: string[]; preopens: string[] } {
    const all = Array.isArray(carried?.wasi?.preopens) ? carried.wasi.preopens.map((p) => String(p?.guestPath)) : [];
    const own = Math.min(all.length, Number.isSafeInteger(carried.ownDirs) ? carried.ownDirs! : all.length);
    const shared = this.nodeDirs(id, all.slice(own));
    const place = this.homeFor(id, own, archive, base);
    return { ...place, preopens: [...place.dirs, ...shared] };
  }

  /** A fresh home for workload `id`'s directories, and `archive` (against `base`) unpacked into `n` of them. */
  private homeFor(id: string, n: number, archive?: Uint8Array, base?: Uint8Array): { home: string; dirs: string[] } {
    const home = path.join(this.options.workDir ?? path.join(tmpdir(), `handover-node-${this.options.name}`), `${id}-${nuid.next()}`);
    const dirs = Array.from({ length: n }, (_, i) => path.join(home, String(i)));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    try {
      if (archive && archive.length > 0) unpackDirs(archive, dirs, this.maxFilesMiB * 1048576, base);
    } catch (e) {
      rmSync(home, { recursive: true, force: true });
      throw e;
    }
    return { home, dirs };
  }

  private files(r: Running, opts?: { record?: Base; against?: Base }): Uint8Array {
    return packDirs(r.dirs, this.maxFilesMiB * 1048576, `the directories of ${r.w.id}`, opts);
  }

  private capture(r: Running): ReturnType<Workload['capture']> {
    const c = r.w.capture();
    c.carried.ownDirs = r.dirs.length;
    return c;
  }

  /** Gives up what the node kept for `r` (it ended or went elsewhere). */
  private vacate(r: Running): void {
    rmSync(r.home, { recursive: true, force: true });
  }

  private async serve(m: Msg): Promise<void> {
    const op = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const reply = (meta: object, body?: Uint8Array) => {
      if (m.reply) m.respond(encode(meta, body));
    };
    try {
      // What moves a guest in must carry the cluster key's seal; the rest is the clients' (NATS credentials).
      const data = op === 'mig' ? unseal(m.data, this.options.key) : m.data;
      if (data === null) throw new ClusterError(`node ${this.options.name} refuses a move message that is not sealed with this cluster's key`);
      const msg = decode(data);
      if (msg === null) throw new ClusterError('not a handover message');
      const meta = msg.meta;
      switch (op) {
        case 'info': return reply(this.advert());
        case 'run': return reply(await this.submit(meta));
        case 'stop': return reply(this.stopWorkload(str(meta.id, 'id')));
        case 'move': return reply(await this.moveOut(str(meta.id, 'id'), str(meta.to, 'to'), meta.stopAndCopy === true));
        case 'mig': return reply(await this.moveIn(meta, msg.body));
        default: throw new ClusterError(`node ${this.options.name} has no operation ${op}`);
      }
    } catch (e) {
      reply({ error: e instanceof ClusterError ? e.message : `node ${this.options.name}: ${(e as Error).message}` });
    }
  }

  /** `run --on`: a new workload from its command line, with its module and directories from the files bucket. */
  private async submit(meta: Record<string, unknown>): Promise<object> {
    const id = str(meta.id, 'id');
    if (!NAME.test(id)) throw new ClusterError(`a workload id is letters, digits, - and _ (at most 64), not "${shown(id)}"`);
    const args = strings(meta.args, 'args');
    const guests = meta.dirs === undefined ? [] : strings(meta.dirs, 'dirs');
    const env = meta.env && typeof meta.env === 'object' ? Object.fromEntries(Object.entries(meta.env).map(([k, v]) => [k, String(v)])) : {};
    const every = meta.every === undefined ? 0 : Number(meta.every);
    if (!(every >= 0 && every <= 86400)) throw new ClusterError(`--checkpoint-every wants seconds between 0 and 86400, not ${shown(meta.every)}`);
    const policy: Policy = { every, exactlyOnce: meta.exactlyOnce === true && every > 0 };
    const why = this.refusal(0);
    if (why) throw new ClusterError(why);
    const module = await this.bus.files.getBlob(`${id}.module`);
    if (!module) throw new ClusterError(`the module of ${id} was not uploaded`);
    const info = guests.length > 0 ? await this.bus.files.info(`${id}.in`) : null;
    if (info && info.size > this.maxFilesMiB * 1048576 * 1.01 + 65536) throw new ClusterError(`the directories of ${id} hold more than node ${this.options.name}'s limit of ${this.maxFilesMiB} MiB`);
    const archive = info ? await this.bus.files.getBlob(`${id}.in`) : null;
    if (guests.length > 0 && !archive) throw new ClusterError(`the directories of ${id} were not uploaded`);
    void this.bus.files.delete(`${id}.module`).catch(() => {});
    void this.bus.files.delete(`${id}.in`).catch(() => {});
    const clash = guests.find((g) => this.options.dirs?.[g] !== undefined);
    if (clash) throw new ClusterError(`node ${this.options.name} preopens ${clash} itself (node --dir); give the workload's directory another guest name`);
    const { home, dirs } = this.homeFor(id, guests.length, archive ?? undefined);
    const out = new Outlet(this.bus, id, 0, policy.exactlyOnce);
    let w: Workload;
    try {
      const preopens = { ...Object.fromEntries(guests.map((g, i) => [g, dirs[i]])), ...this.options.dirs };
      w = Workload.start(id, module, args, env, preopens, out.frame, this.limits());
    } catch (e) {
      rmSync(home, { recursive: true, force: true });
      throw e;
    }
    const r: Running = { w, out, home, dirs, policy, revision: 0, moving: false, gone: false, lastGen: 0, busy: null };
    try {
      r.revision = await this.bus.workloads.create(id, json(this.record(r)));
    } catch {
      w.stop();
      this.vacate(r);
      throw new ClusterError(`a workload named ${id} already exists (handover ps lists them)`);
    }
    this.launch(r);
    this.log(`${id}: started`);
    return { id };
  }

  /** The owner record of `r` as this node runs it. */
  private record(r: Running, end?: End): Owner {
    const state = !end ? 'running' : end.kind === 'exit' ? 'exited' : end.kind === 'trap' ? 'trapped' : end.kind === 'lost' ? 'lost' : 'stopped';
    return {
      id: r.w.id, node: this.options.name, state, since: r.w.since,
      ...(end?.kind === 'exit' ? { code: end.code } : end && 'message' in end ? { message: end.message } : {}),
      ...(r.policy.every > 0 ? { every: r.policy.every } : {}), ...(r.policy.exactlyOnce ? { exactlyOnce: true } : {}),
      ...(r.checkpoint && !end ? { checkpoint: r.checkpoint } : {}), epoch: r.out.epoch,
    };
  }

  private launch(r: Running): void {
    const { w } = r;
    w.limits = { fuel: this.options.maxFuel, fuelOwner: `node ${this.options.name}` };
    w.mayRun = () => this.leased && !r.doubt;
    this.running.set(w.id, r);
    if (r.policy.every > 0) {
      r.timer = setInterval(() => void this.checkpoint(r).catch((e) => this.log(`${w.id}: checkpoint failed: ${(e as Error).message}`)), r.policy.every * 1000);
    }
    void w.run().catch((e: unknown): End => ({ kind: 'trap', message: `internal error of node ${this.options.name}: ${(e as Error).message}` }))
      .then(async (end) => {
        clearInterval(r.timer);
        // A checkpoint still being written may fail (its node cut off): the end is told all the same.
        await r.busy?.catch(() => {});
        this.running.delete(w.id);
        if (!r.gone) await this.finished(r, end);
        this.vacate(r);
      });
  }

  /** Tells the client (an end frame) and the owner record how a workload ended. */
  private async finished(r: Running, end: End): Promise<void> {
    const { w } = r;
    // It may have ended here after this node was cut off and another took it over: then the end,
    // and the directories, are the other node's to tell.
    const o = await ownerOf(this.bus, w.id).catch(() => undefined);
    if (o && (o.owner.node !== this.options.name || o.revision !== r.revision)) {
      this.log(`${w.id}: ended here, but another node took it over meanwhile; its end is that node's`);
      return;
    }
    // What the guest left in its directories goes back to the client.
    let files = false;
    if (r.dirs.length > 0) {
      try {
        await this.bus.files.putBlob({ name: `${w.id}.out` }, this.files(r));
        files = true;
      } catch (e) {
        this.log(`${w.id}: its directories could not be sent back: ${(e as Error).message}`);
      }
    }
    r.out.release();
    r.out.note('end', { end, written: w.written, ...(files ? { files } : {}) });
    await this.bus.workloads.update(w.id, json(this.record(r, end)), r.revision).catch(() => {});
    await this.store.remove(w.id, r.checkpoint).catch(() => {});
    this.log(`${w.id}: ${this.record(r, end).state}${end.kind === 'exit' ? ` ${end.code}` : ''}`);
  }

  /**
   * Writes a checkpoint of `r` and commits it in the owner record; then the output it covers may
   * go out. `final`: the guest is stopped for good after it (the node leaves).
   */
  private checkpoint(r: Running, final = false): Promise<void> {
    if (r.busy) return r.busy.then(() => (final ? this.checkpoint(r, final) : undefined));
    if (r.gone || r.w.end || (r.moving && !final)) return Promise.resolve();
    const { w } = r;
    // Synchronous: the guest is between slices, so what is captured is one instant of it.
    const { snapshot, carried } = this.capture(r);
    r.chain ??= new Chain(r.lastGen, w.module);
    const obj = r.chain.next(w.memory(), snapshot, carried, this.files(r));
    r.lastGen = obj.gen;
    if (final) {
      r.gone = true;
      clearInterval(r.timer);
      w.stop();
    }
    const ref: CheckpointRef = { gen: obj.gen, base: obj.base, at: Date.now(), written: carried.written, digest: obj.digest, ...(final ? { final: true } : {}) };
    const run = async () => {
      try {
        await this.store.putModule(w.id, w.module);
        await this.store.write(w.id, obj.gen, obj.data);
        const previous = r.checkpoint;
        r.checkpoint = ref;
        try {
          r.revision = await this.bus.workloads.update(w.id, json(this.record(r)), r.revision);
        } catch (e) {
          r.checkpoint = previous;
          throw e;
        }
        r.out.release(ref.written);
        if (previous && previous.base < ref.base) void this.store.prune(w.id, previous.base, ref.base);
      } catch (e) {
        // What the chain holds was not committed: the next checkpoint starts a full one.
        r.chain = undefined;
        if (/wrong last sequence/i.test((e as Error).message)) this.lose(r, 'another node took it over');
        else throw e;
      }
    };
    r.busy = run().finally(() => (r.busy = null));
    return r.busy;
  }

  /**
   * Takes over the workloads whose node is gone: one compare-and-set on the owner record claims
   * one, and it resumes here from its checkpoint. One without a checkpoint is marked lost.
   */
  private async rescue(): Promise<void> {
    if (this.rescuing || this.closing || Date.now() < this.rescueAfter) return;
    this.rescuing = true;
    try {
      const live = new Set((await liveNodes(this.bus)).map((a) => a.name));
      live.add(this.options.name);
      const ids: string[] = [];
      for await (const k of await this.bus.workloads.keys()) ids.push(k);
      for (const id of ids) {
        if (this.closing || this.running.has(id)) continue;
        const o = await ownerOf(this.bus, id);
        if (!o || o.owner.state !== 'running' || live.has(o.owner.node)) continue;
        await this.takeOver(o.owner, o.revision).catch((e) => this.log(`${id}: not taken over: ${(e as Error).message}`));
      }
    } finally {
      this.rescuing = false;
    }
  }

  private async takeOver(owner: Owner, revision: number): Promise<void> {
    const { id } = owner;
    const epoch = (owner.epoch ?? 0) + 1;
    if (!owner.checkpoint) {
      const end: End = { kind: 'lost', message: `workload ${id} was lost: node ${owner.node} is gone and no checkpoint of it exists (run --checkpoint-every keeps one)` };
      await this.bus.workloads.update(id, json({ ...owner, state: 'lost', message: end.message, epoch }), revision);
      new Outlet(this.bus, id, epoch, false).note('end', { end, written: [0, 0] });
      this.log(`${id}: lost with node ${owner.node}`);
      return;
    }
    if (this.refusal(0)) return;
    const ref = owner.checkpoint;
    const policy: Policy = { every: owner.every ?? 0, exactlyOnce: owner.exactlyOnce === true };
    const claimed: Owner = { ...owner, node: this.options.name, epoch };
    const rev = await this.bus.workloads.update(id, json(claimed), revision);
    const out = new Outlet(this.bus, id, epoch, policy.exactlyOnce);
    let w: Workload;
    let place: { home: string; dirs: string[]; preopens: string[] };
    try {
      const saved = await this.store.load(id, ref, this.options.maxMemoryMiB * 1048576);
      place = this.placeFor(id, saved.carried, saved.files);
      try {
        const staged = Staging.create(saved.module, this.limits());
        staged.fill(saved.image);
        w = Workload.restore(id, staged, saved.snapshot, saved.carried, place.preopens, out.frame);
      } catch (e) {
        rmSync(place.home, { recursive: true, force: true });
        throw e;
      }
    } catch (e) {
      const end: End = { kind: 'lost', message: `workload ${id} was lost: node ${owner.node} is gone and its checkpoint is refused (${(e as Error).message})` };
      await this.bus.workloads.update(id, json({ ...claimed, state: 'lost', message: end.message }), rev);
      out.note('end', { end, written: [0, 0] });
      this.log(`${id}: ${end.message}`);
      return;
    }
    const r: Running = { w, out, home: place.home, dirs: place.dirs, policy, revision: rev, moving: false, gone: false, checkpoint: ref, lastGen: ref.gen, busy: null };
    out.note('resumed', { resumed: { node: this.options.name, from: owner.node, at: ref.at, written: ref.written, final: ref.final === true } });
    this.launch(r);
    this.log(`${id}: taken over from ${owner.node}, resumed from its checkpoint of ${new Date(ref.at).toISOString()}`);
  }

  private stopWorkload(id: string): object {
    const r = this.running.get(id);
    if (!r) throw new ClusterError(`node ${this.options.name} runs no workload ${shown(id)}`);
    r.w.stop();
    return { id };
  }

  /**
   * Live migration of workload `id` to node `to`: pre-copy rounds, then the rest with the guest
   * stopped. `stopAndCopy` stops it before the first round (all memory sent as downtime).
   */
  async moveOut(id: string, to: string, stopAndCopy = false): Promise<MoveStats> {
    const r = this.running.get(id);
    if (!r) throw new ClusterError(`node ${this.options.name} runs no workload ${shown(id)}`);
    if (r.moving) throw new ClusterError(`workload ${id} is already being moved`);
    if (to === this.options.name) throw new ClusterError(`workload ${id} is already on ${to}`);
    if (!NAME.test(to)) throw new ClusterError(`no node named ${shown(to)}`);
    r.moving = true;
    await r.busy?.catch(() => {});
    const t0 = performance.now();
    const mid = nuid.next();
    let seq = 0;
    const dest = (meta: object, body?: Uint8Array) => ask(this.bus.nc, nodeSubject(to, 'mig'), { mid, to, seq: seq++, ...meta }, body, PIECE_TIMEOUT_MS, `node ${to}`, this.options.key);
    let release: (() => void) | null = null;
    let bytes = 0;
    let rounds = 0;
    try {
      const { w } = r;
      const shared = w.preopens.slice(r.dirs.length);
      await dest({ op: 'begin', at: Date.now(), id, memory: w.memory().length, instructions: w.instructions.toString(), shared });
      await sendBlob(dest, 'module', w.module);
      // The directories go whole while the guest runs; once it is stopped, what changed since.
      const base: Base = { stamps: new Map(), atNs: 0n };
      const whole = this.files(r, { record: base });
      bytes += whole.length;
      await sendBlob(dest, 'files', whole);
      const shadow = new Shadow();
      let previous = Infinity;
      let stalled = 0;
      for (;;) {
        if (w.end) throw new ClusterError(`workload ${id} ended during the move`);
        if (stopAndCopy) release = w.hold();
        const memory = w.memory();
        const blocks = shadow.changed(memory);
        const size = blocks.length * 4096;
        // Rounds that shrink by less than a quarter do not converge: the guest writes as fast as they go.
        stalled = size > previous * 0.75 ? stalled + 1 : 0;
        previous = size;
        rounds++;
        const last = stopAndCopy || size <= STOP_BYTES || rounds >= MAX_ROUNDS || stalled >= 2 || bytes > MAX_SENT * memory.length;
        if (last && !release) release = w.hold();
        const pieces = pack(memory, blocks);
        bytes += pieces.reduce((n, p) => n + p.length, 0);
        // Several pieces in flight at all times: the link, not the round trip, sets the pace.
        let next = 0;
        const lane = async () => {
          while (next < pieces.length) await dest({ op: 'pages' }, pieces[next++]);
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
        if (!last) continue;
        const changes = this.files(r, { against: base });
        bytes += changes.length;
        await sendBlob(dest, 'changes', changes);
        const tSent = wallNow();
        const { snapshot, carried } = this.capture(r);
        bytes += snapshot.length;
        await this.bus.nc.flush();
        const keep = { policy: r.policy, epoch: r.out.epoch, checkpoint: r.checkpoint, lastGen: r.lastGen, pending: r.out.carry() };
        const done = await dest({ op: 'final', revision: r.revision, carried, keep }, snapshot).catch(async (e) => {
          // No answer need not mean no commit: the record says who owns the workload.
          if (await this.reclaim(r)) throw e;
          return null;
        });
        r.gone = true;
        clearInterval(r.timer);
        w.stop();
        this.vacate(r);
        release = null;
        const tFirst = done ? Number((done.meta as { tFirst?: number }).tFirst) : NaN;
        this.log(`${id}: moved to ${to}; last round ${size >> 10} KiB of ${memory.length >> 20} MiB, sent in ${(tSent - w.lastRan).toFixed(1)} ms, final ${(wallNow() - tSent).toFixed(1)} ms`);
        return { rounds, bytes, totalMs: performance.now() - t0, downtimeMs: tFirst - w.lastRan };
      }
    } catch (e) {
      void dest({ op: 'abort' }).catch(() => {});
      if (e instanceof ClusterError) throw new ClusterError(`move of ${id} to ${to} failed, it runs on at ${this.options.name}: ${e.message}`);
      throw e;
    } finally {
      r.moving = false;
      release?.();
    }
  }

  /** After a final round with no answer: takes the workload back unless the destination committed. */
  private async reclaim(r: Running): Promise<boolean> {
    try {
      r.revision = await this.bus.workloads.update(r.w.id, json(this.record(r)), r.revision);
      return true;
    } catch {
      return false;
    }
  }

  /** The destination's side of a move. */
  private async moveIn(meta: Record<string, unknown>, body: Uint8Array): Promise<object> {
    const mid = str(meta.mid, 'mid');
    const op = str(meta.op, 'op');
    const seq = meta.seq;
    if (meta.to !== this.options.name) throw new ClusterError(`node ${this.options.name} refuses a move message for ${typeof meta.to === 'string' ? `node ${shown(meta.to)}` : 'no node'}`);
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new ClusterError('a move message without its number');
    if (op === 'begin') {
      const now = Date.now();
      for (const [m, at] of this.begun) if (now - at > MOVE_WINDOW_MS) this.begun.delete(m);
      const at = Number(meta.at);
      if (this.begun.has(mid) || seq !== 0) throw new ClusterError(`node ${this.options.name} refuses move ${shown(mid)}: it began before (a replayed message)`);
      if (!(Math.abs(now - at) <= MOVE_WINDOW_MS)) throw new ClusterError(`node ${this.options.name} refuses move ${shown(mid)}: it began ${Number.isFinite(at) ? `${Math.round((now - at) / 1000)} s from now` : 'at no given time'} (a replayed message, or clocks ${MOVE_WINDOW_MS / 60_000} min apart)`);
      const id = str(meta.id, 'id');
      if (!NAME.test(id)) throw new ClusterError(`a workload id is letters, digits, - and _, not "${shown(id)}"`);
      if (!(typeof meta.memory === 'number' && Number.isSafeInteger(meta.memory) && meta.memory >= 0)) throw new ClusterError(`move ${shown(mid)} gives no memory size`);
      const why = this.refusal(meta.memory);
      if (why) throw new ClusterError(why);
      const done = typeof meta.instructions === 'string' && /^\d+$/.test(meta.instructions) ? BigInt(meta.instructions) : 0n;
      if (this.options.maxFuel !== undefined && done >= this.options.maxFuel) throw new ClusterError(`workload ${id} has executed ${done} instructions, node ${this.options.name}'s --max-fuel is ${this.options.maxFuel}`);
      if (meta.shared !== undefined) this.nodeDirs(id, strings(meta.shared, 'shared directories'));
      const timer = setTimeout(() => this.incoming.delete(mid), INCOMING_IDLE_MS);
      this.begun.set(mid, now);
      this.incoming.set(mid, { id, blobs: { module: [], files: [], changes: [] }, staged: null, memory: meta.memory, timer, seen: new Set([0]) });
      this.log(`${id}: receiving`);
      return {};
    }
    const inc = this.incoming.get(mid);
    if (!inc) throw new ClusterError(`node ${this.options.name} has no move ${shown(mid)} in progress`);
    if (inc.seen.has(seq)) throw new ClusterError(`node ${this.options.name} refuses message ${seq} of move ${shown(mid)}: it came before (a replayed message)`);
    inc.seen.add(seq);
    inc.timer.refresh();
    switch (op) {
      case 'pages':
        if (!inc.staged) throw new ClusterError('pages came before the module');
        inc.staged.apply(body);
        return {};
      case 'blob': {
        const parts = meta.what === 'module' ? inc.blobs.module : meta.what === 'files' ? inc.blobs.files : meta.what === 'changes' ? inc.blobs.changes : null;
        if (!parts) throw new ClusterError('a move piece of nothing known');
        const sum = parts.reduce((n, p) => n + p.length, 0) + body.length;
        if (sum > (meta.what !== 'module' ? this.maxFilesMiB : this.options.maxMemoryMiB) * 1048576 * 1.01 + 65536) throw new ClusterError(`the ${String(meta.what)} sent pass node ${this.options.name}'s limit`);
        parts.push(body.slice());
        if (meta.what === 'module' && meta.last === true) inc.staged = Staging.create(Buffer.concat(parts), this.limits());
        return {};
      }
      case 'abort':
        this.drop(mid);
        return {};
      case 'final': {
        this.drop(mid);
        const revision = Number(meta.revision);
        const carried = meta.carried as Carried;
        if (!carried || typeof carried !== 'object' || !Array.isArray(carried.written)) throw new ClusterError('the final round carries no workload state');
        const keep = (meta.keep ?? {}) as { policy?: Policy; epoch?: number; checkpoint?: CheckpointRef; lastGen?: number; pending?: unknown };
        const policy: Policy = { every: Math.max(0, Number(keep.policy?.every) || 0), exactlyOnce: keep.policy?.exactlyOnce === true };
        const out = new Outlet(this.bus, inc.id, Number(keep.epoch) || 0, policy.exactlyOnce);
        out.pending = Outlet.carried(keep.pending);
        const files = Buffer.concat(inc.blobs.files);
        const place = inc.blobs.changes.length > 0 ? this.placeFor(inc.id, carried, Buffer.concat(inc.blobs.changes), files) : this.placeFor(inc.id, carried, files);
        let w: Workload;
        try {
          if (!inc.staged) throw new ClusterError('the final round came before the module');
          w = Workload.restore(inc.id, inc.staged, body, carried, place.preopens, out.frame);
        } catch (e) {
          rmSync(place.home, { recursive: true, force: true });
          throw e;
        }
        const r: Running = {
          w, out, home: place.home, dirs: place.dirs, policy, revision: 0, moving: false, gone: false, busy: null,
          checkpoint: keep.checkpoint && typeof keep.checkpoint === 'object' ? keep.checkpoint : undefined,
          lastGen: Math.max(Number(keep.lastGen) || 0, keep.checkpoint?.gen ?? 0),
        };
        try {
          r.revision = await this.bus.workloads.update(inc.id, json(this.record(r)), revision);
        } catch (e) {
          w.stop();
          this.vacate(r);
          throw new ClusterError(`the workload's owner changed during the move (${(e as Error).message})`);
        }
        // The guest's first slice here starts inside launch: the end of the downtime.
        const tFirst = wallNow();
        this.launch(r);
        // The output that came with it waits for a checkpoint of this node's own.
        if (policy.exactlyOnce) void this.checkpoint(r).catch((e) => this.log(`${inc.id}: checkpoint failed: ${(e as Error).message}`));
        this.log(`${inc.id}: moved in`);
        return { tFirst };
      }
      default:
        throw new ClusterError(`unknown move step ${shown(op)}`);
    }
  }

  private drop(mid: string): void {
    const inc = this.incoming.get(mid);
    if (inc) clearTimeout(inc.timer);
    this.incoming.delete(mid);
  }

  /** SIGTERM: every workload goes to another node before this one leaves. */
  async leave(): Promise<void> {
    // It goes on advertising, as leaving, so that no node takes its workloads for lost meanwhile.
    this.closing = true;
    await this.advertise().catch(() => {});
    for (const r of [...this.running.values()]) {
      const others = (await liveNodes(this.bus)).filter((a) => a.name !== this.options.name && !a.leaving);
      let moved = false;
      for (const other of others) {
        try {
          const s = await this.moveOut(r.w.id, other.name);
          this.log(`${r.w.id}: handed to ${other.name} (downtime ${s.downtimeMs.toFixed(1)} ms)`);
          moved = true;
          break;
        } catch (e) {
          this.log(`${r.w.id}: ${(e as Error).message}`);
        }
      }
      if (moved) continue;
      try {
        await this.checkpoint(r, true);
        this.log(`${r.w.id}: no node took it; checkpointed into JetStream, the next node to join resumes it`);
      } catch (e) {
        this.log(`${r.w.id}: no node took it and it could not be checkpointed (${(e as Error).message}); it ends with this node`);
      }
    }
    clearInterval(this.heartbeat);
    await this.bus.nodes.delete(this.options.name).catch(() => {});
    await this.bus.close();
  }
}

/** Sends `bytes` to a move's destination in pieces that fit a NATS message. */
async function sendBlob(dest: (meta: object, body?: Uint8Array) => Promise<unknown>, what: 'module' | 'files' | 'changes', bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length || at === 0; at += MAX_PIECE) {
    await dest({ op: 'blob', what, last: at + MAX_PIECE >= bytes.length }, bytes.subarray(at, at + MAX_PIECE));
  }
}

/** A value from a message as a refusal quotes it: one line of at most 64 characters. */
function shown(v: unknown): string {
  const s = (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)).replace(/[\u0000-\u001f\u007f]/g, '?');
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ClusterError(`the request has no ${what}`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ClusterError(`the request's ${what} are not a list of strings`);
  return v;
}
