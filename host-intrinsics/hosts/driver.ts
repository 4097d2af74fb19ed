// The handover driver: runs one WASI guest across host engines, handing it over at every host
// call. The WASI state (one WasiContext for the whole run, with the real files and the process's
// stdio) never leaves this Node process; only the interpreting moves. A remote engine runs the
// guest until it calls the host, runs out of fuel, completes or traps; at a host call its
// snapshot comes back, is restored here into a fresh local Vm linked to the WASI context, the
// call is served (servePendingHostCall: the guest is left suspended right after it) and the new
// snapshot goes back. So output is written here as the guest makes it, in its exact order.
// The `node` host is this process's own Vm, serving host calls in place: the baseline.
// Every run is metered: fuel is how a run is suspended (--suspend-after) and how instructions
// are counted across hosts.

import { Vm, type FuncType } from '../vm.js';
import { EndActivation, type Outcome } from '../engine.js';
import { ProcExit } from '../wasi/proc.js';
import { instantiateWasi, linkPreview1, type ModuleError, type WasiContext } from '../wasi/index.js';
import { EnginePool, type HostName } from './engines.js';
import { RemoteError, RemoteFault, decodeLoaded, decodeReply, loadMessage, runMessage, type Reply } from './protocol.js';
import { hasPendingHostCall } from './snapshot-file.js';

/** Fuel for "no limit": the VM counts down from here. */
export const UNLIMITED_FUEL = (1n << 64n) - 1n;

export type Stop =
  /** Out of fuel: `snapshot` (no host state, module not embedded) continues the guest. */
  | { kind: 'suspended'; snapshot: Uint8Array; fuelLeft: bigint }
  | { kind: 'exit'; code: number; fuelLeft: bigint }
  | { kind: 'trap'; message: string; fuelLeft: bigint };

export class ModuleRefused extends Error {
  constructor(readonly error: ModuleError) {
    super(error.message);
  }
}

/** The VM refused the snapshot handed to `continue`: that snapshot's fault, not the VM's. */
export class SnapshotRefused extends Error {
  override name = 'SnapshotRefused';
}

export interface HandoverStats {
  /** Host calls served here for a remote engine. */
  hostCalls: number;
  /** Snapshot bytes sent to and received from remote engines. */
  bytesSent: number;
  bytesReceived: number;
  /** Wall time spent waiting for remote engines, ms. */
  remoteMs: number;
  /** Wall time restoring and serving host calls here, ms. */
  serveMs: number;
}

export class Handover {
  readonly stats: HandoverStats = { hostCalls: 0, bytesSent: 0, bytesReceived: 0, remoteMs: 0, serveMs: 0 };
  readonly imports: FuncType[];
  /** What each remote engine said it is (after its first use). */
  readonly engineInfo = new Map<HostName, string>();

  constructor(readonly module: Uint8Array, readonly wasi: WasiContext, readonly engines: EnginePool) {
    const loaded = Vm.createSync().loadModule(module);
    if (!loaded.ok) throw new ModuleRefused({ kind: loaded.kind, message: loaded.message, offset: loaded.offset });
    this.imports = loaded.imports.map((imp) => {
      if (imp.kind !== 'func') throw new ModuleRefused({ kind: 'unlinkable', message: `import ${imp.module}.${imp.name} is no function`, offset: 0 });
      return imp.type;
    });
  }

  /** Runs the guest's `_start` on this Node from the beginning, with `fuel`. */
  start(fuel: bigint = UNLIMITED_FUEL): Stop {
    const vm = Vm.createSync();
    vm.setMetering(true);
    vm.fuel = fuel;
    const inst = instantiateWasi(vm, this.module, this.wasi);
    if (!inst.ok) {
      if ('exited' in inst) return { kind: 'exit', code: inst.exited, fuelLeft: vm.fuel };
      if ('trap' in inst) return { kind: 'trap', message: inst.trap.message, fuelLeft: vm.fuel };
      throw new ModuleRefused(inst.error);
    }
    const start = inst.exports.get('_start');
    if (start?.kind !== 'func' || start.type.params.length > 0) {
      throw new ModuleRefused({ kind: 'unlinkable', message: 'the module exports no function _start without parameters', offset: 0 });
    }
    return this.finish(vm, inst.instance, () => vm.invoke(start.addr, []));
  }

  /** Continues a snapshot on `host` with `fuel` (instructions it may run before it is suspended). */
  async continue(snapshot: Uint8Array, host: HostName, fuel: bigint = UNLIMITED_FUEL): Promise<Stop> {
    let current = snapshot;
    if (hasPendingHostCall(current)) {
      // Served first, here: setting the fuel would overwrite the call's arguments (io cells).
      const served = this.serve(current, true);
      if (served.kind === 'exit') return served;
      current = served.snapshot;
    }
    if (host === 'node') {
      const { vm, instance } = this.restoreHere(current, current === snapshot);
      vm.fuel = fuel;
      return this.finish(vm, instance, () => vm.resume());
    }
    const engine = await this.engines.get(host);
    const ask = async (msg: Uint8Array) => {
      const t0 = performance.now();
      this.stats.bytesSent += msg.length;
      const reply = await engine.request(msg);
      this.stats.bytesReceived += reply.length;
      this.stats.remoteMs += performance.now() - t0;
      return reply;
    };
    const loaded = await ask(loadMessage(this.module, this.imports));
    // The module goes with every continuation: an engine is shared by runs of other modules.
    try {
      this.engineInfo.set(host, decodeLoaded(loaded));
    } catch (e) {
      throw e instanceof RemoteFault ? new RemoteFault(`${host}: ${e.message}`) : e;
    }
    let currentFuel = fuel;
    for (;;) {
      // Only the snapshot handed in is the caller's: one this Vm made after a host call that the
      // remote refuses is a disagreement between two VMs, a bug.
      const fromCaller = current === snapshot;
      const answer = await ask(runMessage(current, currentFuel));
      let reply: Reply;
      try {
        reply = decodeReply(answer);
      } catch (e) {
        if (e instanceof RemoteError) throw fromCaller ? new RemoteError(`${host}: ${e.message}`) : new RemoteFault(`${host} refused a snapshot taken here: ${e.message}`);
        throw e instanceof RemoteFault ? new RemoteFault(`${host}: ${e.message}`) : e;
      }
      switch (reply.kind) {
        case 'completed': return { kind: 'exit', code: 0, fuelLeft: reply.fuel };
        case 'trap': return { kind: 'trap', message: reply.message, fuelLeft: reply.fuel };
        case 'fuel': return { kind: 'suspended', snapshot: reply.snapshot, fuelLeft: this.fuelOf(reply.snapshot) };
        case 'host-call': {
          const served = this.serve(reply.snapshot, false);
          if (served.kind === 'exit') return served;
          current = served.snapshot;
          currentFuel = served.fuel;
        }
      }
    }
  }

  /**
   * A snapshot of the suspended guest carrying `hostState` (and the module, if asked), taken by a
   * local Vm: how a run leaves a snapshot file behind.
   */
  resnapshot(snapshot: Uint8Array, hostState: Uint8Array, embedModule: boolean): Uint8Array {
    const { vm, instance } = this.restoreHere(snapshot, false);
    const out = vm.snapshot(instance, hostState, { embedModule });
    if (!(out instanceof Uint8Array)) throw new Error(`snapshot: ${out.message}`);
    return out;
  }

  private fuelOf(snapshot: Uint8Array): bigint {
    const info = Vm.createSync().snapshotInfo(snapshot);
    if (!('fuel' in info)) throw new Error(`a remote sent a snapshot this VM refuses: ${info.message}`);
    return info.fuel;
  }

  /**
   * A fresh local Vm holding the snapshot, its imports linked to the WASI context and the context
   * bound to its memory. A refusal is the snapshot's fault when it came from the caller (a file
   * passes the checksum and still fails the restore's checks if it was rewritten); one a VM took
   * during this run that does not restore is a bug.
   */
  private restoreHere(snapshot: Uint8Array, fromCaller: boolean): { vm: Vm; instance: number } {
    const vm = Vm.createSync();
    const loaded = vm.loadModule(this.module);
    if (!loaded.ok) throw new ModuleRefused({ kind: loaded.kind, message: loaded.message, offset: loaded.offset });
    const linked = linkPreview1(vm, this.wasi, loaded.imports);
    if (!linked.ok) throw new ModuleRefused({ kind: 'unlinkable', message: linked.message, offset: 0 });
    const restored = vm.restore(snapshot, loaded.id, linked.addrs);
    if (!restored.ok) {
      if (fromCaller) throw new SnapshotRefused(`the snapshot does not restore: ${restored.message}`);
      throw new Error(`a snapshot taken during this run does not restore: ${restored.message}`);
    }
    const memory = vm.exports(restored.id).get('memory');
    if (memory?.kind === 'memory') this.wasi.bindMemory(() => vm.guestMemory(memory.addr));
    return { vm, instance: restored.id };
  }

  /** Serves the host call a snapshot waits for; the guest's snapshot right after it, or its exit. */
  private serve(snapshot: Uint8Array, fromCaller: boolean): { kind: 'served'; snapshot: Uint8Array; fuel: bigint } | Extract<Stop, { kind: 'exit' }> {
    const t0 = performance.now();
    try {
      this.stats.hostCalls++;
      const { vm, instance } = this.restoreHere(snapshot, fromCaller);
      // Fuel is read only after the call is served: fuel_get answers in io cell 0, where the
      // pending call's first argument waits until the call is served.
      try {
        vm.servePendingHostCall();
      } catch (e) {
        if (e instanceof EndActivation && e.value instanceof ProcExit) return { kind: 'exit', code: e.value.code, fuelLeft: vm.fuel };
        throw e;
      }
      const next = vm.snapshot(instance);
      if (!(next instanceof Uint8Array)) throw new Error(`snapshot after a host call: ${next.message}`);
      return { kind: 'served', snapshot: next, fuel: vm.fuel };
    } finally {
      this.stats.serveMs += performance.now() - t0;
    }
  }

  /** Runs `body` (an invoke or resume of the local Vm) and turns its end into a Stop. */
  private finish(vm: Vm, instance: number, body: () => Outcome): Stop {
    let outcome: Outcome;
    try {
      outcome = body();
    } catch (e) {
      if (e instanceof EndActivation && e.value instanceof ProcExit) return { kind: 'exit', code: e.value.code, fuelLeft: vm.fuel };
      throw e;
    }
    switch (outcome.kind) {
      case 'completed': return { kind: 'exit', code: 0, fuelLeft: vm.fuel };
      case 'trap': return { kind: 'trap', message: outcome.message, fuelLeft: vm.fuel };
      case 'suspended': {
        const snapshot = vm.snapshot(instance);
        if (!(snapshot instanceof Uint8Array)) throw new Error(`snapshot: ${snapshot.message}`);
        return { kind: 'suspended', snapshot, fuelLeft: vm.fuel };
      }
      default: throw new Error(`the guest stopped unexpectedly: ${outcome.kind}`);
    }
  }
}
