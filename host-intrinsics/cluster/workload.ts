// One workload on a node: a WASI command in its own Vm, run in short slices so that the node's
// event loop (NATS, heartbeats, migrations) keeps turning between them. The node serves its WASI
// (clocks, random, stdio); stdout and stderr become output frames, numbered by byte offset so
// that a client can put them together whichever node sent them. Metered with unlimited fuel:
// the fuel used is the instruction count, and it travels in the snapshot.

import { Vm } from '../vm.js';
import { EndActivation, type Outcome } from '../engine.js';
import { ProcExit } from '../wasi/proc.js';
import { WasiContext, emptySource, instantiateWasi, linkPreview1, type WasiState } from '../wasi/index.js';
import { UNLIMITED_FUEL } from '../hosts/driver.js';
import { ClusterError } from './bus.js';
import { unpack } from './precopy.js';
import type { LoadedModule } from '../engine.js';

/** Wall-clock ms with sub-ms precision: every process on one machine reads the same clock. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** How long one slice runs before the node's event loop gets a turn. */
const SLICE_MS = 10;
/** Back-edges and calls between two looks at the clock. */
const SLICE_BUDGET = 1 << 14;

export type End = { kind: 'exit'; code: number } | { kind: 'trap'; message: string } | { kind: 'stopped' } | { kind: 'lost'; message: string };

/** Where output goes: stream 1 or 2, its byte offset in that stream, the bytes. */
export type Publish = (stream: 1 | 2, offset: number, bytes: Uint8Array) => void;

/** What goes with a workload's snapshot when it moves: everything but memory and the module. */
export interface Carried {
  wasi: WasiState;
  /** Bytes written so far to stdout and stderr. */
  written: [number, number];
  since: number;
  /**
   * How many of its preopens (the first ones) are its own directories, which travel with it; the
   * rest are directories of the node it runs on (node --dir), found by guest name wherever it goes.
   */
  ownDirs?: number;
}

export interface Limits {
  memoryPages?: number;
  /** Instructions a workload may execute in all (wherever it ran); past them it ends with a trap. */
  fuel?: bigint;
  /** Says whose limit `fuel` is, in the trap message. */
  fuelOwner?: string;
}

export class Workload {
  readonly written: [number, number];
  private started = false;
  /** Wall-clock ms when the guest last ran (the end of its latest slice). */
  lastRan = 0;
  private ended: End | null = null;
  /** Set by the node: the fuel limit and whose it is. */
  limits: Limits = {};
  /** Set by the node: false while the guest must not run (the node's lease on it lapsed). */
  mayRun: () => boolean = () => true;
  private held: { release: () => void; released: Promise<void> } | null = null;

  private constructor(
    readonly id: string,
    readonly module: Uint8Array,
    readonly since: number,
    private readonly vm: Vm,
    private readonly wasi: WasiContext,
    private instance: number,
    private readonly memoryAddr: number,
    written: [number, number],
    private startAddr: number,
  ) {
    this.written = written;
  }

  private static sinks(written: [number, number], publish: Publish) {
    const sink = (stream: 1 | 2) => ({
      write(bytes: Uint8Array) {
        publish(stream, written[stream - 1], bytes.slice());
        written[stream - 1] += bytes.length;
      },
    });
    return { stdin: emptySource, stdout: sink(1), stderr: sink(2) };
  }

  static vm(limits: Limits): Vm {
    const vm = Vm.createSync();
    vm.setMetering(true);
    vm.setLimits({ memoryPages: limits.memoryPages });
    // Slices short enough that shouldSuspend is asked every few ms (the default budget is ~2^20).
    vm.setSlice(SLICE_BUDGET);
    return vm;
  }

  /** A new workload, instantiated and ready to start. */
  static start(id: string, module: Uint8Array, args: string[], env: Record<string, string>, preopens: Record<string, string>, publish: Publish, limits: Limits): Workload {
    const written: [number, number] = [0, 0];
    const wasi = WasiContext.create({ args, env, preopens, ...Workload.sinks(written, publish) });
    const vm = Workload.vm(limits);
    vm.fuel = UNLIMITED_FUEL;
    const inst = instantiateWasi(vm, module, wasi);
    if (!inst.ok) {
      const why = 'error' in inst ? inst.error.message : 'trap' in inst ? `trap: ${inst.trap.message}` : `exited ${inst.exited} while starting`;
      throw new ClusterError(`the module does not start: ${why}`);
    }
    const start = inst.exports.get('_start');
    const memory = inst.exports.get('memory');
    if (start?.kind !== 'func' || start.type.params.length > 0) throw new ClusterError('the module exports no function _start without parameters');
    if (memory?.kind !== 'memory') throw new ClusterError('the module exports no memory');
    return new Workload(id, module, Date.now(), vm, wasi, inst.instance, memory.addr, written, start.addr);
  }

  /**
   * A workload continued from a snapshot taken without memory (`snapshot`) into the memory that
   * `staged` holds, with what was carried with it. Its preopens are this node's directories `dirs`
   * (in their order), whatever host paths the carried state names. It waits to be run.
   */
  static restore(id: string, staged: Staging, snapshot: Uint8Array, carried: Carried, dirs: readonly string[], publish: Publish): Workload {
    const written: [number, number] = [...carried.written];
    let wasi: WasiContext;
    try {
      const preopens = Array.isArray(carried.wasi?.preopens) ? carried.wasi.preopens : [];
      if (preopens.length !== dirs.length) throw new Error(`it has ${preopens.length} preopens, the files sent ${dirs.length}`);
      const state = { ...carried.wasi, preopens: preopens.map((p, i) => ({ guestPath: p?.guestPath, hostPath: dirs[i] })) };
      wasi = WasiContext.fromJSON(state, Workload.sinks(written, publish));
    } catch (e) {
      throw new ClusterError(`the workload's WASI state is refused: ${(e as Error).message}`);
    }
    const { vm, loaded, memory } = staged;
    const linked = linkPreview1(vm, wasi, loaded.imports);
    if (!linked.ok) throw new ClusterError(`the workload's module does not link: ${linked.message}`);
    const restored = vm.restore(snapshot, loaded.id, linked.addrs, [], { memories: [memory] });
    if (!restored.ok) throw new ClusterError(`the workload's snapshot does not restore: ${restored.message}`);
    wasi.bindMemory(() => vm.guestMemory(memory));
    const w = new Workload(id, staged.module, carried.since, vm, wasi, restored.id, memory, written, -1);
    w.started = true;
    return w;
  }

  /** The guest names of its preopens, in order. */
  get preopens(): string[] {
    return this.wasi.state.preopens.map((p) => p.guestPath);
  }

  /** The guest's memory now (valid until the guest runs again). */
  memory(): Uint8Array {
    return this.vm.guestMemory(this.memoryAddr);
  }

  get instructions(): bigint {
    return UNLIMITED_FUEL - this.vm.fuel;
  }

  get end(): End | null {
    return this.ended;
  }

  /** A snapshot of the suspended guest without its memory, and what goes with it. */
  capture(): { snapshot: Uint8Array; carried: Carried } {
    const snapshot = this.vm.snapshot(this.instance, new Uint8Array(0), { withoutMemory: true });
    if (!(snapshot instanceof Uint8Array)) throw new ClusterError(`the workload cannot be snapshotted: ${snapshot.message}`);
    return { snapshot, carried: { wasi: this.wasi.toJSON(), written: [...this.written], since: this.since } };
  }

  /** Keeps the guest from running until the returned function is called. */
  hold(): () => void {
    if (this.held) return () => {};
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const h = { release: () => { if (this.held === h) this.held = null; release(); }, released };
    this.held = h;
    return h.release;
  }

  /** Ends the workload where it stands (Ctrl-C on the client, or handed over elsewhere). */
  stop(): void {
    if (this.ended) return;
    this.ended = { kind: 'stopped' };
    this.vm.abandon();
    this.wasi.close();
    this.held?.release();
  }

  /** Runs slices until the guest ends or is stopped; held meanwhile, it waits. */
  async run(): Promise<End> {
    while (!this.ended) {
      if (this.held) {
        await this.held.released;
        continue;
      }
      if (!this.mayRun()) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      let end = this.slice();
      this.lastRan = wallNow();
      // Checked between slices: the guest may pass the limit by one slice's worth.
      if (!end && this.limits.fuel !== undefined && this.instructions > this.limits.fuel) {
        end = { kind: 'trap', message: `out of fuel: ${this.limits.fuelOwner ?? 'the node'}'s --max-fuel of ${this.limits.fuel} instructions is used up` };
        this.vm.abandon();
      }
      if (end) {
        this.ended = end;
        this.wasi.close();
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
    return this.ended;
  }

  private slice(): End | null {
    const until = performance.now() + SLICE_MS;
    const options = { shouldSuspend: () => performance.now() >= until };
    let outcome: Outcome;
    try {
      outcome = this.started ? this.vm.resume(options) : this.vm.invoke(this.startAddr, [], options);
      this.started = true;
    } catch (e) {
      if (e instanceof EndActivation && e.value instanceof ProcExit) return { kind: 'exit', code: e.value.code };
      throw e;
    }
    switch (outcome.kind) {
      case 'completed': return { kind: 'exit', code: 0 };
      case 'trap': return { kind: 'trap', message: outcome.message };
      case 'suspended': return null;
      default: return { kind: 'trap', message: `the guest stopped unexpectedly: ${outcome.kind}` };
    }
  }
}

const PAGE = 65536;

/**
 * Where a moving workload lands: its module loaded into a Vm of its own and a memory of its type
 * there, which the rounds write into as they arrive; `Workload.restore` then adopts that memory,
 * so the final step copies nothing.
 */
export class Staging {
  private constructor(readonly module: Uint8Array, readonly vm: Vm, readonly loaded: LoadedModule, readonly memory: number) {}

  static create(module: Uint8Array, limits: Limits): Staging {
    const vm = Workload.vm(limits);
    const loaded = vm.loadModule(module);
    if (!loaded.ok) throw new ClusterError(`the workload's module is refused: ${loaded.message}`);
    const type = loaded.exports.find((e) => e.kind === 'memory');
    if (type?.kind !== 'memory') throw new ClusterError('the module exports no memory');
    const mem = vm.newMemory(type.type);
    if (!mem.ok) throw new ClusterError(`the workload's memory cannot be made here: ${mem.message}`);
    return new Staging(module, vm, loaded, mem.addr);
  }

  get bytes(): number {
    return this.vm.guestMemory(this.memory).length;
  }

  private reach(top: number): void {
    const have = this.bytes;
    if (top <= have) return;
    if (this.vm.growMemory(this.memory, Math.ceil((top - have) / PAGE)) < 0) throw new ClusterError(`the guest's memory (${Math.ceil(top / 1048576)} MiB) passes this node's limit`);
  }

  /** Applies one message from `pack`; a malformed one is refused whole. */
  apply(piece: Uint8Array): void {
    const { top, blocks } = unpack(piece);
    this.reach(top);
    const view = this.vm.guestMemory(this.memory);
    for (const [b, bytes] of blocks) view.set(bytes, b * 4096);
  }

  /** Writes a whole image (from a checkpoint) at the start of memory. */
  fill(image: Uint8Array): void {
    this.reach(image.length);
    this.vm.guestMemory(this.memory).set(image);
  }
}
