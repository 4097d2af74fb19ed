// `handover node`: an agent that joins the cluster, advertises itself, runs workloads and moves
// them. Requests arrive on handover.node.<name>.<op>; every reply is a message (bus.ts), a refusal
// one with `error`. Ownership lives in KV handover-workloads: a node runs a workload only while
// the record names it, and a move commits by the destination's compare-and-set on the revision
// the source read. The source stops the guest before the final round and runs it again only after
// its own compare-and-set wins, so two nodes never run it at once.

import { freemem } from 'node:os';
import type { Msg } from '@nats-io/nats-core';
import { nuid } from '@nats-io/nats-core';
import {
  NAME, ClusterError, ask, decode, encode, json, liveNodes, nodeSubject, openBus, outputSubject,
  type Advert, type Bus, type BusOptions, type Owner,
} from './bus.js';
import { Image, Shadow, pack } from './precopy.js';
import { Workload, wallNow, type Carried, type End } from './workload.js';

export interface NodeOptions extends BusOptions {
  name: string;
  maxWorkloads: number;
  maxMemoryMiB: number;
  log?: (line: string) => void;
}

// A round this small (or smaller) is sent with the guest stopped: the downtime.
const STOP_BYTES = 256 * 1024;
const MAX_ROUNDS = 30;
const PIECE_TIMEOUT_MS = 5000;
const INCOMING_IDLE_MS = 60_000;

export interface MoveStats {
  rounds: number;
  bytes: number;
  totalMs: number;
  downtimeMs: number;
}

interface Running {
  w: Workload;
  revision: number;
  /** Set while it is being moved away: a second move is refused. */
  moving: boolean;
  done?: Promise<End>;
  movedAway: boolean;
}

interface Incoming {
  id: string;
  module: Uint8Array;
  image: Image;
  timer: NodeJS.Timeout;
}

export const ENGINE = `node ${process.version} (V8 ${process.versions.v8}), VM interpreting`;

export class ClusterNode {
  private readonly running = new Map<string, Running>();
  private readonly incoming = new Map<string, Incoming>();
  private heartbeat?: NodeJS.Timeout;
  private closing = false;

  readonly engine = ENGINE;

  private constructor(readonly bus: Bus, readonly options: NodeOptions) {}

  static async join(options: NodeOptions): Promise<ClusterNode> {
    if (!NAME.test(options.name)) throw new ClusterError(`a node name is letters, digits, - and _ (at most 64), not "${options.name}"`);
    const bus = await openBus(options);
    const taken = (await liveNodes(bus)).find((a) => a.name === options.name);
    if (taken) {
      await bus.close();
      throw new ClusterError(`a node named ${options.name} is already in the cluster`);
    }
    const node = new ClusterNode(bus, options);
    const sub = bus.nc.subscribe(nodeSubject(options.name, '*'));
    void (async () => {
      for await (const m of sub) void node.serve(m);
    })();
    await node.advertise();
    node.heartbeat = setInterval(() => void node.advertise().catch(() => {}), 1000);
    return node;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private advert(): Advert {
    return {
      name: this.options.name, engine: ENGINE, at: Date.now(), freeMemory: freemem(),
      maxWorkloads: this.options.maxWorkloads, maxMemoryMiB: this.options.maxMemoryMiB,
      workloads: [...this.running.values()].map(({ w }) => ({
        id: w.id, instructions: w.instructions.toString(), memory: w.memory().length, since: w.since,
      })),
    };
  }

  private async advertise(): Promise<void> {
    if (!this.closing) await this.bus.nodes.put(this.options.name, json(this.advert()));
  }

  private usedBytes(): number {
    let n = 0;
    for (const { w } of this.running.values()) n += w.memory().length;
    for (const i of this.incoming.values()) n += i.image.contents.length;
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

  private async serve(m: Msg): Promise<void> {
    const op = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const reply = (meta: object, body?: Uint8Array) => {
      if (m.reply) m.respond(encode(meta, body));
    };
    try {
      const msg = decode(m.data);
      if (msg === null) throw new ClusterError('not a handover message');
      const meta = msg.meta;
      switch (op) {
        case 'info': return reply(this.advert());
        case 'run': return reply(await this.submit(meta, msg.body));
        case 'stop': return reply(this.stopWorkload(str(meta.id, 'id')));
        case 'move': return reply(await this.moveOut(str(meta.id, 'id'), str(meta.to, 'to')));
        case 'mig': return reply(await this.moveIn(meta, msg.body));
        default: throw new ClusterError(`node ${this.options.name} has no operation ${op}`);
      }
    } catch (e) {
      reply({ error: e instanceof ClusterError ? e.message : `node ${this.options.name}: ${(e as Error).message}` });
    }
  }

  private publisher(id: string) {
    const subject = outputSubject(id);
    return (stream: 1 | 2, offset: number, bytes: Uint8Array) => this.bus.nc.publish(subject, encode({ s: stream, o: offset }, bytes));
  }

  /** `run --on`: a new workload from its module and command line. */
  private async submit(meta: Record<string, unknown>, module: Uint8Array): Promise<object> {
    const id = str(meta.id, 'id');
    if (!NAME.test(id)) throw new ClusterError(`a workload id is letters, digits, - and _ (at most 64), not "${id}"`);
    const args = strings(meta.args, 'args');
    const env = meta.env && typeof meta.env === 'object' ? Object.fromEntries(Object.entries(meta.env).map(([k, v]) => [k, String(v)])) : {};
    const why = this.refusal(0);
    if (why) throw new ClusterError(why);
    const w = Workload.start(id, module, args, env, this.publisher(id), this.limits());
    const owner: Owner = { id, node: this.options.name, state: 'running', since: w.since };
    let revision: number;
    try {
      revision = await this.bus.workloads.create(id, json(owner));
    } catch {
      w.dispose();
      throw new ClusterError(`a workload named ${id} already exists (handover ps lists them)`);
    }
    this.launch(w, revision);
    this.log(`${id}: started`);
    return { id };
  }

  private launch(w: Workload, revision: number): void {
    const r: Running = { w, revision, moving: false, movedAway: false };
    this.running.set(w.id, r);
    r.done = w.run().then(async (end) => {
      this.running.delete(w.id);
      if (r.movedAway) return end;
      await this.finished(r, end);
      return end;
    }, async (e) => {
      this.running.delete(w.id);
      const end: End = { kind: 'trap', message: `internal error of node ${this.options.name}: ${(e as Error).message}` };
      await this.finished(r, end);
      return end;
    });
  }

  /** Tells the client (an end frame) and the owner record how a workload ended. */
  private async finished(r: Running, end: End): Promise<void> {
    const { w } = r;
    this.bus.nc.publish(outputSubject(w.id), encode({ end, written: w.written }));
    const state = end.kind === 'exit' ? 'exited' : end.kind === 'trap' ? 'trapped' : 'stopped';
    const owner: Owner = { id: w.id, node: this.options.name, state, since: w.since, ...(end.kind === 'exit' ? { code: end.code } : end.kind === 'trap' ? { message: end.message } : {}) };
    await this.bus.workloads.update(w.id, json(owner), r.revision).catch(() => {});
    this.log(`${w.id}: ${state}${end.kind === 'exit' ? ` ${end.code}` : ''}`);
  }

  private stopWorkload(id: string): object {
    const r = this.running.get(id);
    if (!r) throw new ClusterError(`node ${this.options.name} runs no workload ${id}`);
    r.w.stop();
    return { id };
  }

  /** Live migration of workload `id` to node `to`: pre-copy rounds, then the rest with the guest stopped. */
  async moveOut(id: string, to: string): Promise<MoveStats> {
    const r = this.running.get(id);
    if (!r) throw new ClusterError(`node ${this.options.name} runs no workload ${id}`);
    if (r.moving) throw new ClusterError(`workload ${id} is already being moved`);
    if (to === this.options.name) throw new ClusterError(`workload ${id} is already on ${to}`);
    if (!NAME.test(to)) throw new ClusterError(`no node named ${to}`);
    r.moving = true;
    const t0 = performance.now();
    const mid = nuid.next();
    const dest = (meta: object, body?: Uint8Array) => ask(this.bus.nc, nodeSubject(to, 'mig'), { mid, ...meta }, body, PIECE_TIMEOUT_MS, `node ${to}`);
    let release: (() => void) | null = null;
    let bytes = 0;
    let rounds = 0;
    try {
      const { w } = r;
      await dest({ op: 'begin', id, memory: w.memory().length }, w.module);
      const shadow = new Shadow();
      let previous = Infinity;
      let growing = 0;
      for (;;) {
        if (w.end) throw new ClusterError(`workload ${id} ended during the move`);
        const memory = w.memory();
        const blocks = shadow.changed(memory);
        const size = blocks.length * 4096;
        growing = size >= previous ? growing + 1 : 0;
        previous = size;
        rounds++;
        const last = size <= STOP_BYTES || rounds >= MAX_ROUNDS || growing >= 3;
        if (last) release = w.hold();
        const pieces = pack(memory, blocks);
        bytes += pieces.reduce((n, p) => n + p.length, 0);
        // A few pieces in flight at once: the link, not the round trip, sets the pace.
        for (let i = 0; i < pieces.length; i += 4) await Promise.all(pieces.slice(i, i + 4).map((p) => dest({ op: 'pages' }, p)));
        if (!last) continue;
        const tSent = wallNow();
        const { snapshot, carried } = w.capture();
        bytes += snapshot.length;
        await this.bus.nc.flush();
        const done = await dest({ op: 'final', revision: r.revision, carried }, snapshot).catch(async (e) => {
          // No answer need not mean no commit: the record says who owns the workload.
          if (await this.reclaim(r)) throw e;
          return null;
        });
        r.movedAway = true;
        w.stop();
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
    const { w } = r;
    const owner: Owner = { id: w.id, node: this.options.name, state: 'running', since: w.since };
    try {
      r.revision = await this.bus.workloads.update(w.id, json(owner), r.revision);
      return true;
    } catch {
      return false;
    }
  }

  /** The destination's side of a move. */
  private async moveIn(meta: Record<string, unknown>, body: Uint8Array): Promise<object> {
    const mid = str(meta.mid, 'mid');
    const op = str(meta.op, 'op');
    if (op === 'begin') {
      const id = str(meta.id, 'id');
      if (!NAME.test(id)) throw new ClusterError(`a workload id is letters, digits, - and _, not "${id}"`);
      const why = this.refusal(Number(meta.memory) || 0);
      if (why) throw new ClusterError(why);
      const timer = setTimeout(() => this.incoming.delete(mid), INCOMING_IDLE_MS);
      this.incoming.set(mid, { id, module: body.slice(), image: new Image(this.options.maxMemoryMiB * 1048576), timer });
      this.log(`${id}: receiving`);
      return {};
    }
    const inc = this.incoming.get(mid);
    if (!inc) throw new ClusterError(`node ${this.options.name} has no move ${mid} in progress`);
    inc.timer.refresh();
    switch (op) {
      case 'pages':
        inc.image.apply(body);
        return {};
      case 'abort':
        this.drop(mid);
        return {};
      case 'final': {
        this.drop(mid);
        const revision = Number(meta.revision);
        const carried = meta.carried as Carried;
        if (!carried || typeof carried !== 'object' || !Array.isArray(carried.written)) throw new ClusterError('the final round carries no workload state');
        const w = Workload.restore(inc.id, inc.module, body, inc.image.contents, carried, this.publisher(inc.id), this.limits());
        const owner: Owner = { id: inc.id, node: this.options.name, state: 'running', since: carried.since };
        let rev: number;
        try {
          rev = await this.bus.workloads.update(inc.id, json(owner), revision);
        } catch (e) {
          w.dispose();
          throw new ClusterError(`the workload's owner changed during the move (${(e as Error).message})`);
        }
        const tFirst = wallNow();
        setImmediate(() => this.launch(w, rev));
        this.log(`${inc.id}: moved in`);
        return { tFirst };
      }
      default:
        throw new ClusterError(`unknown move step ${op}`);
    }
  }

  private drop(mid: string): void {
    const inc = this.incoming.get(mid);
    if (inc) clearTimeout(inc.timer);
    this.incoming.delete(mid);
  }

  /** SIGTERM: every workload goes to another node before this one leaves. */
  async leave(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    await this.bus.nodes.delete(this.options.name).catch(() => {});
    for (const r of [...this.running.values()]) {
      const others = (await liveNodes(this.bus)).filter((a) => a.name !== this.options.name);
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
      if (!moved) this.log(`${r.w.id}: no node took it; it ends with this node`);
    }
    await this.bus.close();
  }
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ClusterError(`the request has no ${what}`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ClusterError(`the request's ${what} are not a list of strings`);
  return v;
}
