// The CLI's handover commands: `run … --suspend-after <n> --snapshot <file>` (run on this Node,
// suspend after n instructions, leave a snapshot file), `resume <file> [--host h]` (continue it
// on any host engine, possibly suspending again) and `inspect <file>`. A snapshot file is the VM's
// snapshot with the module embedded and, as host state, the WASI state plus the instruction count
// so far (hosts/snapshot-file.ts); the run itself is the handover driver's (hosts/driver.ts).

import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Vm } from '../vm.js';
import { WasiContext, fdSink, fdSource, StateError, type Stdio } from '../wasi/index.js';
import { Handover, ModuleRefused, SnapshotRefused, UNLIMITED_FUEL, type Stop } from '../hosts/driver.js';
import { EnginePool, HostUnavailable } from '../hosts/engines.js';
import type { HostName } from '../hosts/names.js';
import { RemoteError } from '../hosts/protocol.js';
import {
  HostStateError, SECTION_NAMES, decodeHostState, encodeHostState, functionNames, pendingHostCallFunc, snapshotSections, type CliHostState,
} from '../hosts/snapshot-file.js';
import type { ResumeOptions, RunOptions } from './options.js';
import { moduleErrorText, preopens, printTrap, readModule } from './run.js';
import { CliError } from './usage.js';

const stdio = (): Stdio => ({ stdin: fdSource(0), stdout: fdSink(1), stderr: fdSink(2) });

function note(line: string): void {
  process.stderr.write(`handover: ${line}\n`);
}

/**
 * Runs the driver's work on the module from `file` (and the snapshot file `snapshot`, if any),
 * turning the failures a user can cause into CliErrors. A RemoteFault, a remote engine failing by
 * itself, is left to be reported as the internal error it is.
 */
async function driving<T>(file: string, body: () => Promise<T>, snapshot?: string): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof HostUnavailable) throw new CliError(e.message);
    if (e instanceof ModuleRefused) throw new CliError(moduleErrorText(file, e.error));
    if (e instanceof RemoteError) throw new CliError(snapshot === undefined ? e.message : `${snapshot}: ${e.message}`);
    if (e instanceof SnapshotRefused) throw new CliError(snapshot === undefined ? e.message : `${snapshot}: ${e.message}`);
    throw e;
  }
}

/**
 * How a (part of a) run ended, as the exit status: the guest's exit code, a trap, or — suspended
 * — a snapshot file and a one-line note.
 */
function conclude(h: Handover, stop: Stop, fuel: bigint, before: CliHostState | null, host: HostName, file: string | undefined): number {
  const executed = BigInt(before?.instructions ?? '0') + (fuel - stop.fuelLeft);
  switch (stop.kind) {
    case 'exit': return stop.code;
    case 'trap': return printTrap(stop.message);
    case 'suspended': {
      if (file === undefined) throw new Error('suspended without a snapshot file');
      const state: CliHostState = {
        format: 'handover-cli', version: 1, instructions: executed.toString(), hosts: [...(before?.hosts ?? []), host], wasi: h.wasi.toJSON(),
      };
      const bytes = h.resnapshot(stop.snapshot, encodeHostState(state), true);
      try {
        writeFileSync(file, bytes);
      } catch (e) {
        throw new CliError(`cannot write the snapshot ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      note(`suspended on ${host} after ${executed} instructions; snapshot ${file} (${bytes.length} bytes)`);
      return 0;
    }
  }
}

// Checked before the guest runs, so that a typo in --snapshot costs nothing of the run.
function checkWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  let why: string | undefined;
  try {
    if (!statSync(dir).isDirectory()) why = `${dir} is not a directory`;
    else accessSync(dir, constants.W_OK);
  } catch (e) {
    why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `no such directory ${dir}` : `${dir} is not writable`;
  }
  if (why === undefined && statSync(file, { throwIfNoEntry: false })?.isDirectory()) why = 'it is a directory';
  if (why !== undefined) throw new CliError(`cannot write the snapshot ${file}: ${why}`);
}

/** `run <module> --suspend-after <n> --snapshot <file>`. */
export async function runSuspendable(opts: RunOptions): Promise<number> {
  checkWritable(opts.snapshot!);
  const bytes = readModule(opts.module);
  const argv0 = path.basename(opts.module).replace(/\.wasm$/, '');
  const ctx = WasiContext.create({ args: [argv0, ...opts.rest], env: opts.env, preopens: preopens(opts.dirs), ...stdio() });
  const pool = new EnginePool();
  try {
    return await driving(opts.module, async () => {
      const h = new Handover(bytes, ctx, pool);
      return conclude(h, h.start(opts.suspendAfter!), opts.suspendAfter!, null, 'node', opts.snapshot);
    });
  } finally {
    ctx.close();
    await pool.close();
  }
}

interface SnapshotFile {
  bytes: Uint8Array;
  module: Uint8Array;
  state: CliHostState;
}

function readSnapshotFile(file: string): SnapshotFile {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(code ?? e)}`);
  }
  const info = Vm.createSync().snapshotInfo(bytes);
  if (!('frames' in info)) throw new CliError(`${file}: ${info.message}`);
  if (!info.module) throw new CliError(`${file}: the snapshot carries no module (not written by handover run)`);
  let state: CliHostState | null;
  try {
    state = decodeHostState(info.hostState);
  } catch (e) {
    if (e instanceof HostStateError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
  if (!state) throw new CliError(`${file}: the snapshot carries no WASI state (not written by handover run)`);
  return { bytes, module: info.module, state };
}

/** `resume <file> [--host h] [--suspend-after n --snapshot f]`. */
export async function resumeCommand(opts: ResumeOptions): Promise<number> {
  if (opts.snapshot !== undefined) checkWritable(opts.snapshot);
  const snap = readSnapshotFile(opts.file);
  grantPreopens(opts.file, snap.state, opts.dirs);
  let ctx: WasiContext;
  try {
    ctx = WasiContext.fromJSON(snap.state.wasi, stdio());
  } catch (e) {
    if (e instanceof StateError) throw new CliError(`${opts.file}: ${e.message}`);
    throw e;
  }
  reportVanishedFiles(snap.state);
  const pool = new EnginePool();
  try {
    return await driving(`${opts.file} (its module)`, async () => {
      const h = new Handover(snap.module, ctx, pool);
      if (opts.verbose) note(`resuming on ${opts.host} after ${snap.state.instructions} instructions (${snap.state.hosts.join(' → ')})`);
      const fuel = opts.suspendAfter ?? UNLIMITED_FUEL;
      const stop = await h.continue(snap.bytes, opts.host, fuel);
      if (opts.verbose) {
        const s = h.stats;
        note(`${opts.host}: ${h.engineInfo.get(opts.host) ?? 'this Node'}; ${s.hostCalls} host calls served here, ${s.bytesSent + s.bytesReceived} bytes moved`);
      }
      return conclude(h, stop, fuel, snap.state, opts.host, opts.snapshot);
    }, opts.file);
  } finally {
    ctx.close();
    await pool.close();
  }
}

// A snapshot is data, not authority: the host directory behind each of its preopens is the one
// this command line grants under that guest name, whatever host path the file records.
function grantPreopens(file: string, state: CliHostState, dirs: ResumeOptions['dirs']): void {
  const granted = preopens(dirs);
  // A malformed list is left to the WASI state's own check, which says what is wrong with it.
  const list = Array.isArray(state.wasi?.preopens) ? state.wasi.preopens.filter((p) => typeof p?.guestPath === 'string') : [];
  const wanted = new Set(list.map((p) => p.guestPath));
  for (const guest of Object.keys(granted)) {
    if (!wanted.has(guest)) throw new CliError(`--dir ${guest}: the snapshot has no preopen named ${guest} (it has ${[...wanted].join(', ') || 'none'})`);
  }
  for (const p of list) {
    const host = granted[p.guestPath];
    if (host === undefined) throw new CliError(`${file}: the guest had ${p.guestPath} preopened (from ${p.hostPath}); give --dir <host>::${p.guestPath} to grant it a directory`);
    p.hostPath = host;
  }
}

// Open files are reopened by path when the guest next uses them. One that is gone would reach the
// guest as a bare ENOENT; the person resuming it should hear of it.
function reportVanishedFiles(state: CliHostState): void {
  const { preopens, fds } = state.wasi;
  for (const [fd, e] of Object.entries(fds)) {
    if (e.kind === 'stdio' || e.kind === 'preopen' || preopens[e.preopen] === undefined) continue;
    const host = path.join(preopens[e.preopen].hostPath, e.path);
    if (statSync(host, { throwIfNoEntry: false }) === undefined) {
      note(`warning: ${host} (the guest's fd ${fd}, ${path.posix.join(preopens[e.preopen].guestPath, e.path)}) no longer exists; the guest's next use of it fails with ENOENT`);
    }
  }
}

/** `inspect <file>`: what the snapshot holds, for people. */
export function inspectCommand(file: string): number {
  const snap = readSnapshotFile(file);
  const vm = Vm.createSync();
  const info = vm.snapshotInfo(snap.bytes);
  if (!('frames' in info)) throw new CliError(`${file}: ${info.message}`);
  const loaded = vm.loadModule(snap.module);
  const imports = loaded.ok ? loaded.imports : [];
  const names = functionNames(snap.module);
  const out: string[] = [];
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  out.push(`file        ${file}: ${snap.bytes.length} bytes (${kib(snap.bytes.length)})`);
  out.push(`format      version ${info.formatVersion}, written by ${info.vmVersion}`);
  out.push(`module      embedded, ${snap.module.length} bytes, sha256 ${info.moduleHash}`);
  out.push(`metering    ${info.metered ? 'on' : 'off'}, fuel left ${info.fuel === UNLIMITED_FUEL ? 'unlimited' : info.fuel}`);
  out.push(`executed    ${snap.state.instructions} instructions, on ${snap.state.hosts.join(' → ')}`);
  info.memories.forEach((m, i) => out.push(`memory ${i}    ${m.pages} pages (${kib(m.pages * 65536)}), ${m.storedPages} stored (non-zero)`));
  const sections = snapshotSections(snap.bytes) ?? [];
  out.push(`sections    ${sections.map((s) => `${SECTION_NAMES[s.tag] ?? `unknown section ${s.tag}`} ${s.length}`).join(', ')}`);
  out.push(`frames      ${info.frames.length}, bottom (the invoked function) first:`);
  info.frames.forEach((f, i) => {
    const name = names.get(f.func) ?? `func ${f.func}`;
    out.push(`  #${String(i).padEnd(3)} ${name.padEnd(28)} func ${String(f.func).padEnd(5)} offset 0x${f.offset.toString(16).padStart(6, '0')}  locals ${f.locals}  operands ${f.operands}`);
  });
  const call = pendingHostCallFunc(snap.bytes);
  // The snapshot names the function by its index: an import's.
  if (call !== null) out.push(`host call   pending: ${imports[call] ? `${imports[call].module}.${imports[call].name}` : `function ${call}`}`);
  const wasi = snap.state.wasi;
  out.push(`wasi        args ${JSON.stringify(wasi.args)}, ${wasi.env.length} env vars, preopens ${wasi.preopens.map((p) => `${p.guestPath}=${p.hostPath}`).join(' ') || 'none'}`);
  for (const [fd, e] of Object.entries(wasi.fds)) {
    const what = e.kind === 'stdio' ? `stdio ${['in', 'out', 'err'][e.stream]}` : `${e.kind} ${wasi.preopens[e.preopen]?.guestPath ?? '?'}${e.path ? `/${e.path}` : ''}`;
    out.push(`  fd ${String(fd).padEnd(3)} ${what}${e.kind === 'file' ? `, offset ${e.offset}` : ''}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
