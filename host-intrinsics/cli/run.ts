// `handover run`, its command line parsed: reads the module, makes the engine, and either runs the
// module as a WASI command (exit status = the guest's exit code) or, with --invoke, calls one
// export and prints its results. The work itself is the WASI bridge's (host-intrinsics/wasi).

import { closeSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { MONITORS, report, reportJson, reportText } from '../monitors/report.js';
import path from 'node:path';
import { OUT_OF_FUEL, fdSink, fdSource, runWasi, type ModuleError, type Stdio } from '../wasi/index.js';
import { createEngine } from './engine.js';
import { invokeExport } from './invoke.js';
import type { RunOptions } from './options.js';
import { CliError } from './usage.js';

export const TRAP_STATUS = 134;

export function readModule(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    throw new CliError(`cannot read ${file}: ${why}`);
  }
}

export function preopens(dirs: RunOptions['dirs']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { host, guest } of dirs) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(host).isDirectory();
    } catch {
      // reported below
    }
    if (isDir === undefined) throw new CliError(`--dir ${host}: no such directory`);
    if (!isDir) throw new CliError(`--dir ${host}: not a directory (a preopen is a directory; give the one that holds the file)`);
    out[guest] = path.resolve(host);
  }
  return out;
}

/** A refused module, named by the file it came from. */
export function moduleErrorText(file: string, e: ModuleError): string {
  return `${file}: ${e.kind === 'malformed' || e.kind === 'invalid' ? `${e.message} (at byte ${e.offset})` : e.message}`;
}

/** Exit status when --fuel ran out before the guest finished. */
export const OUT_OF_FUEL_STATUS = 2;

export function printTrap(message: string): number {
  if (message === OUT_OF_FUEL) {
    process.stderr.write('out of fuel: the guest used up its --fuel before it finished\n');
    return OUT_OF_FUEL_STATUS;
  }
  process.stderr.write(`trap: ${message}\n`);
  return TRAP_STATUS;
}

/** Runs the command line `opts` describes; returns the exit status. */
export async function runCommand(opts: RunOptions): Promise<number> {
  // A run that may be suspended goes through the handover driver (metered, snapshot file).
  if (opts.suspendAfter !== undefined) return (await import('./handover.js')).runSuspendable(opts);
  const bytes = readModule(opts.module);
  const dirs = preopens(opts.dirs);
  const engine = createEngine(opts.intrinsics);
  engine.setLimits(opts.limits);
  const monitoring = opts.monitors.length > 0 || opts.monitorOut !== undefined;
  const selected = opts.monitors.length > 0 ? opts.monitors : opts.monitorOut !== undefined ? MONITORS : [];
  // Monitoring meters too; with no --fuel the fuel is unlimited.
  if (monitoring) engine.setMonitoring(true);
  else if (opts.fuel !== undefined) engine.setMetering(true);
  // What counters cannot tell is recorded in the VM: inclusive instructions for the call
  // profile, targets for indirect calls, every address for the memory trace.
  engine.setRecording({
    inclusive: selected.includes('calls'),
    indirectCalls: selected.includes('indirect'),
    memoryTrace: opts.memoryTrace !== undefined,
  });
  const trace = opts.memoryTrace !== undefined ? openTrace(engine, opts.memoryTrace) : undefined;
  if (opts.fuel !== undefined) engine.fuel = opts.fuel;
  const stdio: Stdio = { stdin: fdSource(0), stdout: fdSink(1), stderr: fdSink(2) };
  const argv0 = path.basename(opts.module).replace(/\.wasm$/, '');
  const wasi = { env: opts.env, preopens: dirs, ...stdio };
  let status: number;
  if (opts.invoke !== undefined) {
    status = invokeExport(engine, opts.module, bytes, opts.invoke, opts.rest, { ...wasi, args: [argv0] });
  } else {
    const result = runWasi(engine, bytes, { ...wasi, args: [argv0, ...opts.rest] });
    if ('error' in result) throw new CliError(moduleErrorText(opts.module, result.error));
    status = 'trap' in result ? printTrap(result.trap.message) : result.exitCode;
  }
  trace?.close();
  if (monitoring) writeMonitors(engine, opts);
  return status;
}

// The memory trace file: a 16-byte header ("HOVRMTRC", u32 version 1, u32 record size 8), then
// one record per load or store in execution order (u32 effective address, u8 size, u8 flags with
// bit 0 set for a store, u16 0; little-endian), streamed as the VM's buffer fills.
export const TRACE_MAGIC = 'HOVRMTRC';

function openTrace(engine: ReturnType<typeof createEngine>, file: string): { close(): void } {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const header = new Uint8Array(16);
  header.set(new TextEncoder().encode(TRACE_MAGIC));
  new DataView(header.buffer).setUint32(8, 1, true);
  new DataView(header.buffer).setUint32(12, 8, true);
  writeSync(fd, header);
  engine.onMemoryTrace = (records) => void writeSync(fd, records);
  return {
    close() {
      writeSync(fd, engine.takeMemoryTrace());
      closeSync(fd);
    },
  };
}

// The guest's instance is the last one the engine made (the CLI makes one).
function writeMonitors(engine: ReturnType<typeof createEngine>, opts: RunOptions): void {
  const instance = engine.lastInstance;
  if (instance === undefined) return;
  const r = report(engine.monitorCounters(instance), engine.recorded(instance));
  if (opts.monitors.length > 0) process.stderr.write(reportText(r, opts.monitors));
  if (opts.monitorOut !== undefined) {
    const selected = opts.monitors.length > 0 ? opts.monitors : MONITORS;
    writeFileSync(opts.monitorOut, JSON.stringify(reportJson(r, selected), null, 2) + '\n');
  }
}
