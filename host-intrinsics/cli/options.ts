// The command line of `run`: handover's options (before the module or right after it), the module,
// then the guest's arguments (or the invoked export's). Long options take their value as the next
// argument or after `=`; only arguments starting with `--` (and -h) are options, so negative
// numbers pass through as invoke arguments.

import { MONITORS, type MonitorName } from '../monitors/report.js';
import { UsageError } from './usage.js';

export interface RunOptions {
  module: string;
  invoke?: string;
  dirs: { host: string; guest: string }[];
  env: Record<string, string>;
  fuel?: bigint;
  /** Monitors whose tables are printed on stderr at exit. */
  monitors: MonitorName[];
  /** Where to write every selected monitor (or all, with none selected) as JSON. */
  monitorOut?: string;
  /** Guest arguments (after argv[0]), or the invoked export's arguments. */
  rest: string[];
}

export function parseRunArgs(argv: readonly string[]): RunOptions | 'help' {
  const opts: Omit<RunOptions, 'module'> & { module?: string } = { dirs: [], env: {}, monitors: [], rest: [] };
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
        case '--dir': {
          const v = value(name, inline);
          const sep = v.indexOf('::');
          const host = sep < 0 ? v : v.slice(0, sep);
          const guest = sep < 0 ? v : v.slice(sep + 2);
          if (host === '' || guest === '') throw new UsageError(`--dir wants <host>[::<guest>], got "${v}"`);
          opts.dirs.push({ host, guest });
          break;
        }
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
        case '--monitor': {
          for (const m of value(name, inline).split(',')) {
            if (!(MONITORS as readonly string[]).includes(m)) throw new UsageError(`--monitor knows ${MONITORS.join(', ')}; not "${m}"`);
            if (!opts.monitors.includes(m as MonitorName)) opts.monitors.push(m as MonitorName);
          }
          break;
        }
        case '--monitor-out': {
          const v = value(name, inline);
          if (v === '') throw new UsageError('--monitor-out needs a file name');
          opts.monitorOut = v;
          break;
        }
        default:
          throw new UsageError(`unknown option ${name}`);
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
  return opts as RunOptions;
}
