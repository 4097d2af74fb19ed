// The CLI's cluster commands: `node` (an agent until SIGTERM), `run --on`, `attach`, `move`, `ps`,
// `nodes`. The work is host-intrinsics/cluster's; here are the command lines' effects, the exit
// statuses (a remote guest's are a local run's) and the one-line errors.

import path from 'node:path';
import { ClusterError, openBus, readKey, type Bus } from '../cluster/bus.js';
import { fetchDirs, follow, move, nodesTable, owner, psTable, stop, submit } from '../cluster/client.js';
import { ClusterNode } from '../cluster/node.js';
import type { End } from '../cluster/workload.js';
import { fdSink } from '../wasi/index.js';
import type { ClusterCommand, ClusterOptions, RunOptions } from './options.js';
import { preopens, printTrap, readModule } from './run.js';
import { CliError } from './usage.js';

/** Exit status of a workload stopped by Ctrl-C (as a shell reports SIGINT). */
const STOPPED_STATUS = 130;

async function withBus<T>(cluster: ClusterOptions, body: (bus: Bus) => Promise<T>): Promise<T> {
  let bus: Bus;
  try {
    bus = await openBus({ url: cluster.nats, creds: cluster.creds });
  } catch (e) {
    if (e instanceof ClusterError) throw new CliError(e.message);
    throw e;
  }
  try {
    return await body(bus);
  } catch (e) {
    if (e instanceof ClusterError) throw new CliError(e.message);
    throw e;
  } finally {
    await bus.close();
  }
}

const stdout = fdSink(1);
const stderr = fdSink(2);

function status(end: End): number {
  if (end.kind === 'exit') return end.code;
  if (end.kind === 'trap') return printTrap(end.message);
  if (end.kind === 'lost') {
    process.stderr.write(`error: ${end.message}\n`);
    return 1;
  }
  process.stderr.write('handover: the workload was stopped\n');
  return STOPPED_STATUS;
}

/** Shows a workload's output until it ends; Ctrl-C stops it. `dirs` get what it left in its directories. */
async function show(bus: Bus, id: string, dirs: Record<string, string> = {}): Promise<number> {
  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(STOPPED_STATUS);
    stopping = true;
    void stop(bus, id).catch(() => process.exit(STOPPED_STATUS));
  };
  process.on('SIGINT', onSigint);
  try {
    const { end, files } = await follow(bus, id, { stdout: (b) => stdout.write(b), stderr: (b) => stderr.write(b), note: (line) => stderr.write(new TextEncoder().encode(`${line}\n`)) });
    if (files && Object.keys(dirs).length > 0) await fetchDirs(bus, id, dirs);
    return status(end);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `run --on <node> …`. */
export async function runOnCommand(opts: RunOptions): Promise<number> {
  const module = readModule(opts.module);
  const argv0 = path.basename(opts.module).replace(/\.wasm$/, '');
  const dirs = preopens(opts.dirs);
  return withBus(opts.cluster, async (bus) => {
    // Ctrl-C while the workload is being submitted stops it as soon as it exists.
    let interrupted = false;
    const early = () => void (interrupted = true);
    process.on('SIGINT', early);
    let id: string;
    try {
      id = await submit(bus, { node: opts.on!, id: opts.id, module, args: [argv0, ...opts.rest], env: opts.env, dirs, checkpointEvery: opts.checkpointEvery, exactlyOnce: opts.exactlyOnce });
    } finally {
      process.off('SIGINT', early);
    }
    if (opts.id === undefined || opts.detach) process.stderr.write(`handover: workload ${id} on ${opts.on}\n`);
    if (interrupted) await stop(bus, id);
    if (opts.detach) return 0;
    return show(bus, id, dirs);
  });
}

export async function clusterCommand(c: ClusterCommand): Promise<number> {
  if (c.command === 'node') return nodeCommand(c.options);
  return withBus(c.cluster, async (bus) => {
    switch (c.command) {
      case 'attach':
        await owner(bus, c.id);
        return show(bus, c.id);
      case 'move': {
        const s = await move(bus, c.id, c.to, c.stopAndCopy);
        const down = Number.isFinite(s.downtimeMs) ? `${s.downtimeMs.toFixed(1)} ms` : 'unknown (the destination did not answer, but it owns the workload)';
        process.stdout.write(`moved ${c.id} from ${s.from} to ${c.to}: ${s.rounds} rounds, ${(s.bytes / 1048576).toFixed(2)} MiB sent, total ${s.totalMs.toFixed(1)} ms, downtime ${down}\n`);
        return 0;
      }
      case 'ps':
        process.stdout.write(await psTable(bus));
        return 0;
      case 'nodes':
        process.stdout.write(await nodesTable(bus));
        return 0;
    }
  });
}

/** `node --name <name> …`: joins and serves until SIGTERM or SIGINT, then hands its workloads on. */
async function nodeCommand(o: Extract<ClusterCommand, { command: 'node' }>['options']): Promise<number> {
  const log = (line: string) => process.stderr.write(`handover node ${o.name}: ${line}\n`);
  let node: ClusterNode;
  try {
    node = await ClusterNode.join({
      name: o.name, url: o.cluster.nats, creds: o.cluster.creds, maxWorkloads: o.maxWorkloads, maxMemoryMiB: o.maxMemoryMiB, log,
      key: o.key === undefined ? undefined : readKey(o.key), maxFilesMiB: o.maxFilesMiB, maxFuel: o.maxFuel, workDir: o.workDir, dirs: preopens(o.dirs),
      onReconnect: () => log('reconnected to NATS'),
    });
  } catch (e) {
    if (e instanceof ClusterError) throw new CliError(e.message);
    throw e;
  }
  log(`joined (${node.engine})`);
  await new Promise<void>((resolve) => {
    const leave = () => {
      process.off('SIGTERM', leave);
      process.off('SIGINT', leave);
      log('leaving');
      void node.leave().finally(resolve);
    };
    process.on('SIGTERM', leave);
    process.on('SIGINT', leave);
  });
  return 0;
}
