// The command line of `run`: handover's options (before the module or right after it), the module,
// then the guest's arguments (or the invoked export's). Long options take their value as the next
// argument or after `=`; only arguments starting with `--` (and -h) are options, so negative
// numbers pass through as invoke arguments.

import { MONITORS, type MonitorName } from '../monitors/report.js';
import { parseClasses, type IntrinsicClass } from '../intrinsics/classes.js';
import { HOSTS, isHostName, type HostName } from '../hosts/names.js';
import { UsageError } from './usage.js';

export interface RunOptions {
  module: string;
  invoke?: string;
  dirs: { host: string; guest: string }[];
  env: Record<string, string>;
  fuel?: bigint;
  /** Limits of the VM's store (absent: the VM's defaults). */
  limits: { memoryPages?: number; tableElements?: number; callDepth?: number };
  /** Intrinsic classes (--intrinsics); undefined: the host's measured default. */
  intrinsics?: IntrinsicClass[];
  /** Monitors whose tables are printed on stderr at exit. */
  monitors: MonitorName[];
  /** Where to write every selected monitor (or all, with none selected) as JSON. */
  monitorOut?: string;
  /** Where to stream the memory trace (every load and store). */
  memoryTrace?: string;
  /** Suspend the guest after this many instructions and write a snapshot to `snapshot`. */
  suspendAfter?: bigint;
  snapshot?: string;
  /** Guest arguments (after argv[0]), or the invoked export's arguments. */
  rest: string[];
  /** Notes for stderr about a command line that parses but may not mean what it says. */
  warnings: string[];
  /** Run on this cluster node instead of here. */
  on?: string;
  /** The workload's name in the cluster (with --on). */
  id?: string;
  /** Leave the workload running and return (with --on). */
  detach: boolean;
  /** Seconds between checkpoints into JetStream (with --on); 0: none. */
  checkpointEvery: number;
  /** Output only once a checkpoint covers it (with --checkpoint-every). */
  exactlyOnce: boolean;
  cluster: ClusterOptions;
}

/** How a command reaches the cluster. */
export interface ClusterOptions {
  nats?: string;
  creds?: string;
}

/** Every option `run` takes (besides -h/--help). */
const RUN_OPTIONS = [
  '--invoke', '--dir', '--env', '--fuel', '--max-memory-pages', '--max-table-elements', '--max-call-depth', '--monitor',
  '--intrinsics', '--monitor-out', '--memory-trace', '--suspend-after', '--snapshot', '--on', '--id', '--detach', '--nats', '--creds',
  '--checkpoint-every', '--exactly-once',
] as const;

/** Options of `resume` that `run` does not take, with where they belong. */
const RESUME_ONLY: Record<string, string> = {
  '--host': "only resume takes --host: run starts on this Node; 'handover resume <file> --host <host>' continues elsewhere",
  '--verbose': 'only resume takes --verbose',
};

export function parseRunArgs(argv: readonly string[]): RunOptions | 'help' {
  const opts: Omit<RunOptions, 'module'> & { module?: string } = { dirs: [], env: {}, limits: {}, monitors: [], rest: [], warnings: [], detach: false, checkpointEvery: 0, exactlyOnce: false, cluster: {} };
  let explicitRest = false;
  let i = 0;
  const value = (name: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[i++];
  };
  while (i < argv.length) {
    const arg = argv[i++];
    if (arg === '--') {
      if (opts.module === undefined && i < argv.length) opts.module = argv[i++];
      opts.rest = argv.slice(i);
      explicitRest = true;
      break;
    }
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      switch (name) {
        case '--invoke': {
          const v = value(name, inline);
          if (v === '') throw new UsageError('--invoke needs an export name');
          opts.invoke = v;
          break;
        }
        case '--dir':
          opts.dirs.push(dirMapping(value(name, inline)));
          break;
        case '--env': {
          const v = value(name, inline);
          const eq2 = v.indexOf('=');
          if (eq2 <= 0) throw new UsageError(`--env wants NAME=value, got "${v}"`);
          opts.env[v.slice(0, eq2)] = v.slice(eq2 + 1);
          break;
        }
        case '--fuel': {
          const v = value(name, inline);
          if (!/^\d+$/.test(v)) throw new UsageError(`--fuel wants a whole number of instructions, got "${v}"`);
          opts.fuel = BigInt(v);
          break;
        }
        case '--max-memory-pages':
        case '--max-table-elements':
        case '--max-call-depth': {
          const v = value(name, inline);
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 0xffffffff) throw new UsageError(`${name} wants a positive whole number, got "${v}"`);
          const key = name === '--max-memory-pages' ? 'memoryPages' : name === '--max-table-elements' ? 'tableElements' : 'callDepth';
          opts.limits[key] = Number(v);
          break;
        }
        case '--monitor': {
          for (const m of value(name, inline).split(',')) {
            if (!(MONITORS as readonly string[]).includes(m)) throw new UsageError(`--monitor knows ${MONITORS.join(', ')}; not "${m}"`);
            if (!opts.monitors.includes(m as MonitorName)) opts.monitors.push(m as MonitorName);
          }
          break;
        }
        case '--intrinsics': {
          try {
            opts.intrinsics = parseClasses(value(name, inline));
          } catch (e) {
            throw new UsageError(`--intrinsics wants all, none or a comma list of bulk, float, memory: ${(e as Error).message}`);
          }
          break;
        }
        case '--monitor-out': {
          const v = value(name, inline);
          if (v === '') throw new UsageError('--monitor-out needs a file name');
          opts.monitorOut = v;
          break;
        }
        case '--memory-trace': {
          const v = value(name, inline);
          if (v === '') throw new UsageError('--memory-trace needs a file name');
          opts.memoryTrace = v;
          break;
        }
        case '--suspend-after':
          opts.suspendAfter = instructions(name, value(name, inline));
          break;
        case '--snapshot':
          opts.snapshot = snapshotFile(value(name, inline));
          break;
        case '--on':
          opts.on = nonEmpty(name, value(name, inline));
          break;
        case '--id':
          opts.id = nonEmpty(name, value(name, inline));
          break;
        case '--detach':
          opts.detach = true;
          break;
        case '--checkpoint-every': {
          const v = value(name, inline);
          if (!/^\d+(\.\d+)?$/.test(v) || !(Number(v) > 0) || Number(v) > 86400) throw new UsageError(`--checkpoint-every wants seconds (more than 0, at most 86400), got "${v}"`);
          opts.checkpointEvery = Number(v);
          break;
        }
        case '--exactly-once':
          opts.exactlyOnce = true;
          break;
        case '--nats':
        case '--creds':
          opts.cluster[name === '--nats' ? 'nats' : 'creds'] = nonEmpty(name, value(name, inline));
          break;
        default:
          throw new UsageError(name in RESUME_ONLY ? `unknown option ${name} for run: ${RESUME_ONLY[name]}` : `unknown option ${name}`);
      }
      continue;
    }
    if (opts.module === undefined) {
      opts.module = arg;
      continue;
    }
    opts.rest = argv.slice(i - 1);
    break;
  }
  if (opts.module === undefined) throw new UsageError('run needs a module');
  // Past the first guest argument everything is the guest's (the wasmtime convention), so an
  // option written late is silently an argument: say so, once, unless `--` made it explicit.
  const late = explicitRest ? undefined : opts.rest.find((a) => (RUN_OPTIONS as readonly string[]).includes(a.split('=')[0]));
  if (late !== undefined) {
    opts.warnings.push(`${late.split('=')[0]} comes after the guest's first argument, so it goes to the ${opts.invoke !== undefined ? 'export' : 'guest'} as an argument; put handover's options before the module or right after it`);
  }
  checkSuspension(opts);
  if (opts.on === undefined && (opts.id !== undefined || opts.detach || opts.checkpointEvery > 0 || opts.exactlyOnce || opts.cluster.nats !== undefined || opts.cluster.creds !== undefined)) {
    throw new UsageError('--id, --detach, --checkpoint-every, --exactly-once, --nats and --creds go with --on <node>');
  }
  if (opts.exactlyOnce && opts.checkpointEvery === 0) throw new UsageError('--exactly-once needs --checkpoint-every <seconds>: output is released by checkpoints');
  if (opts.on !== undefined) {
    const local = opts.invoke !== undefined ? '--invoke' : opts.suspendAfter !== undefined ? '--suspend-after' : opts.monitors.length > 0 || opts.monitorOut !== undefined ? '--monitor'
      : opts.memoryTrace !== undefined ? '--memory-trace' : opts.fuel !== undefined ? '--fuel' : opts.intrinsics !== undefined ? '--intrinsics'
        : Object.keys(opts.limits).length > 0 ? 'a --max- limit' : undefined;
    if (local !== undefined) throw new UsageError(`${local} does not go with --on: a node runs a WASI command with its own limits`);
  }
  if (opts.suspendAfter !== undefined && (opts.invoke !== undefined || opts.fuel !== undefined || opts.monitors.length > 0 || opts.monitorOut !== undefined || opts.memoryTrace !== undefined)) {
    throw new UsageError('--suspend-after goes with a WASI command (_start), not with --invoke, --fuel, --monitor or --memory-trace');
  }
  return opts as RunOptions;
}

function instructions(name: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} wants a whole number of instructions, got "${v}"`);
  return BigInt(v);
}

function nonEmpty(name: string, v: string): string {
  if (v === '') throw new UsageError(`${name} needs a value`);
  return v;
}

function snapshotFile(v: string): string {
  if (v === '') throw new UsageError('--snapshot needs a file name');
  return v;
}

// --suspend-after and --snapshot only make sense together: one says when, the other where.
function checkSuspension(opts: { suspendAfter?: bigint; snapshot?: string }): void {
  if (opts.suspendAfter !== undefined && opts.snapshot === undefined) throw new UsageError('--suspend-after needs --snapshot <file>');
  if (opts.snapshot !== undefined && opts.suspendAfter === undefined) throw new UsageError('--snapshot needs --suspend-after <n>');
}

/** `--dir <host>[::<guest>]`. */
function dirMapping(v: string): { host: string; guest: string } {
  const sep = v.indexOf('::');
  const host = sep < 0 ? v : v.slice(0, sep);
  const guest = sep < 0 ? v : v.slice(sep + 2);
  if (host === '' || guest === '') throw new UsageError(`--dir wants <host>[::<guest>], got "${v}"`);
  return { host, guest };
}

export interface ResumeOptions {
  file: string;
  host: HostName;
  /** Host directories granted to the snapshot's preopens, by guest name: a snapshot names none itself. */
  dirs: { host: string; guest: string }[];
  suspendAfter?: bigint;
  snapshot?: string;
  /** Print a line on stderr at each handover (host, instructions so far). */
  verbose: boolean;
}

/** `resume <file> [--host h] [--suspend-after n --snapshot f] [--verbose]`. */
export function parseResumeArgs(argv: readonly string[]): ResumeOptions | 'help' {
  const opts: Partial<ResumeOptions> & { verbose: boolean } = { host: 'node', verbose: false, dirs: [] };
  for (let i = 0; i < argv.length;) {
    const arg = argv[i++];
    if (arg === '-h' || arg === '--help') return 'help';
    if (!arg.startsWith('--')) {
      if (opts.file !== undefined) throw new UsageError(`resume takes one snapshot file, got also "${arg}"`);
      opts.file = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      if (i >= argv.length) throw new UsageError(`${name} needs a value`);
      return argv[i++];
    };
    switch (name) {
      case '--host': {
        const v = value();
        if (!isHostName(v)) throw new UsageError(`--host wants one of ${HOSTS.join(', ')}, got "${v}"`);
        opts.host = v;
        break;
      }
      case '--suspend-after':
        opts.suspendAfter = instructions(name, value());
        break;
      case '--snapshot':
        opts.snapshot = snapshotFile(value());
        break;
      case '--verbose':
        opts.verbose = true;
        break;
      case '--dir':
        opts.dirs!.push(dirMapping(value()));
        break;
      default:
        throw new UsageError((RUN_OPTIONS as readonly string[]).includes(name)
          ? `unknown option ${name} for resume: the guest's options were fixed by run and travel in the snapshot`
          : `unknown option ${name}`);
    }
  }
  if (opts.file === undefined) throw new UsageError('resume needs a snapshot file');
  checkSuspension(opts);
  return opts as ResumeOptions;
}

/** `inspect <file>`. */
export function parseInspectArgs(argv: readonly string[]): { file: string } | 'help' {
  if (argv.includes('-h') || argv.includes('--help')) return 'help';
  const unknown = argv.find((a) => a.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (argv.length !== 1) throw new UsageError('inspect takes one snapshot file');
  return { file: argv[0] };
}

export interface NodeCommandOptions {
  name: string;
  cluster: ClusterOptions;
  maxWorkloads: number;
  maxMemoryMiB: number;
  /** The cluster key file. */
  key?: string;
  maxFilesMiB: number;
  maxFuel?: bigint;
  workDir?: string;
  /** Directories of the node, preopened for every workload it runs. */
  dirs: { host: string; guest: string }[];
}

/** The cluster commands' command lines: `node`, `move`, `ps`, `nodes`, `attach`. */
export type ClusterCommand =
  | { command: 'node'; options: NodeCommandOptions }
  | { command: 'move'; id: string; to: string; stopAndCopy: boolean; cluster: ClusterOptions }
  | { command: 'attach'; id: string; cluster: ClusterOptions }
  | { command: 'ps' | 'nodes'; cluster: ClusterOptions };

const CLUSTER_OPTIONS: Record<ClusterCommand['command'], string[]> = {
  node: ['--name', '--max-workloads', '--max-memory', '--max-files', '--max-fuel', '--work-dir', '--key', '--dir'],
  move: ['--to', '--stop-and-copy'],
  attach: [],
  ps: [],
  nodes: [],
};

/** Options that take no value. */
const FLAGS = ['--stop-and-copy'];

export function parseClusterArgs(command: ClusterCommand['command'], argv: readonly string[]): ClusterCommand | 'help' {
  const cluster: ClusterOptions = {};
  const values: Record<string, string> = {};
  const dirs: { host: string; guest: string }[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length;) {
    const arg = argv[i++];
    if (arg === '-h' || arg === '--help') return 'help';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name !== '--nats' && name !== '--creds' && !CLUSTER_OPTIONS[command].includes(name)) throw new UsageError(`unknown option ${name} for ${command}`);
    if (FLAGS.includes(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      values[name] = '';
      continue;
    }
    let v: string;
    if (eq >= 0) v = arg.slice(eq + 1);
    else if (i < argv.length) v = argv[i++];
    else throw new UsageError(`${name} needs a value`);
    nonEmpty(name, v);
    if (name === '--nats') cluster.nats = v;
    else if (name === '--creds') cluster.creds = v;
    else if (name === '--dir') dirs.push(dirMapping(v));
    else values[name] = v;
  }
  const count = (name: string, fallback: number) => {
    const v = values[name];
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name} wants a positive whole number, got "${v}"`);
    return Number(v);
  };
  const ids = (n: number, what: string) => {
    if (positional.length !== n) throw new UsageError(n === 0 ? `${command} takes no arguments, got "${positional[0]}"` : `${command} takes ${what}`);
  };
  switch (command) {
    case 'node':
      ids(0, '');
      if (values['--name'] === undefined) throw new UsageError('node needs --name <name>');
      return { command, options: { name: values['--name'], cluster, maxWorkloads: count('--max-workloads', 16), maxMemoryMiB: count('--max-memory', 4096), maxFilesMiB: count('--max-files', 64), maxFuel: values['--max-fuel'] === undefined ? undefined : (count('--max-fuel', 0), BigInt(values['--max-fuel'])), workDir: values['--work-dir'], key: values['--key'], dirs } };
    case 'move':
      ids(1, 'one workload id');
      if (values['--to'] === undefined) throw new UsageError('move needs --to <node>');
      return { command, id: positional[0], to: values['--to'], stopAndCopy: values['--stop-and-copy'] !== undefined, cluster };
    case 'attach':
      ids(1, 'one workload id');
      return { command, id: positional[0], cluster };
    default:
      ids(0, '');
      return { command, cluster };
  }
}
