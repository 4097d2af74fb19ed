// A real cluster for tests: nats-server with JetStream on a free port and a temp store, node agents
// and CLI clients as separate processes. As root where `ip netns` works, each node gets its own
// network namespace, reaching the server over a veth pair (its link can be cut); elsewhere every
// process is on loopback. Everything started here is stopped by `close()`.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tickerModule } from '../../bench/ticker.js';

export const CLI = path.resolve('build/js/host-intrinsics/cli/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = tcpConnect({ host, port }, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

/** Whether this process may make network namespaces (root, iproute2, a kernel that allows it). */
function netnsWorks(): boolean {
  if (process.getuid?.() !== 0) return false;
  const name = `hoprobe${process.pid}`;
  const ok = spawnSync('ip', ['netns', 'add', name]).status === 0;
  if (ok) spawnSync('ip', ['netns', 'del', name]);
  return ok;
}

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('latin1')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export interface ClusterOptions {
  /** Require this user and password from every client. */
  auth?: { user: string; pass: string };
}

// Test files run in parallel processes, each with its own clusters: every node's subnet and link
// names come from one index claimed machine-wide (a lock file made exclusively), never from the pid,
// whose residues collide. An index whose subnet or names are still in use (a killed run's leftovers)
// is passed over.
const claimFile = (k: number) => path.join(tmpdir(), `handover-netns-${k}.lock`);

function claim(k: number): boolean {
  try {
    writeFileSync(claimFile(k), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function claimSubnet(): number {
  const inUse = `${spawnSync('ip', ['-o', 'addr']).stdout}${spawnSync('ip', ['netns', 'list']).stdout}`;
  for (let k = 1; k < 54 * 256; k++) {
    const net = `10.${200 + (k >> 8)}.${k & 255}.`;
    if (inUse.includes(` ${net}`) || new RegExp(`\\bho[nhp]${k}\\b`).test(inUse)) continue;
    if (claim(k)) return k;
    // Claimed by a process that is gone: its links are gone too (checked above).
    if (!alive(Number(readFileSync(claimFile(k), 'utf8')))) {
      rmSync(claimFile(k), { force: true });
      if (claim(k)) return k;
    }
  }
  throw new Error('no free subnet for a test node in 10.200-253.*');
}

export class Cluster {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'handover-cluster-'));
  readonly procs: Proc[] = [];
  readonly netns = netnsWorks();
  private readonly namespaces: string[] = [];
  private readonly claims: number[] = [];
  private server?: Proc;
  port = 0;
  /** The user file handed to nodes and clients when the server requires one. */
  creds?: string;

  private constructor(readonly options: ClusterOptions) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const c = new Cluster(options);
    c.port = await freePort();
    if (options.auth) {
      c.creds = path.join(c.dir, 'user.creds');
      writeFileSync(c.creds, `${options.auth.user}:${options.auth.pass}\n`);
    }
    await c.startServer();
    return c;
  }

  async startServer(): Promise<void> {
    const args = ['-js', '-a', this.netns ? '0.0.0.0' : '127.0.0.1', '-p', String(this.port), '-sd', path.join(this.dir, 'js')];
    if (this.options.auth) args.push('--user', this.options.auth.user, '--pass', this.options.auth.pass);
    this.server = track(spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.procs.push(this.server);
    await until('nats-server', () => listening('127.0.0.1', this.port));
  }

  /** Kills the server (-9): JetStream's store stays for the next start. */
  async killServer(): Promise<void> {
    this.server?.child.kill('SIGKILL');
    await this.server?.exited;
  }

  /** The ticker guest (bench/ticker.ts), written into the cluster's directory; its path. */
  async ticker(): Promise<string> {
    const file = path.join(this.dir, 'ticker.wasm');
    writeFileSync(file, await tickerModule());
    return file;
  }

  /** The server's URL as seen from loopback. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  private network(name: string): { url: string; prefix: string[] } {
    if (!this.netns) return { url: this.url, prefix: [] };
    const k = claimSubnet();
    this.claims.push(k);
    const ns = `hon${k}`;
    const host = `hoh${k}`;
    const peer = `hop${k}`;
    const net = `10.${200 + (k >> 8)}.${k & 255}`;
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a);
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
    };
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    this.links.set(name, host);
    ip('link', 'set', peer, 'netns', ns);
    ip('addr', 'add', `${net}.1/30`, 'dev', host);
    ip('link', 'set', host, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', peer);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    return { url: `nats://${net}.1:${this.port}`, prefix: ['ip', 'netns', 'exec', ns] };
  }

  private readonly links = new Map<string, string>();

  /** Takes a node's link down (netns only): its NATS connection is cut, the process lives on. */
  cutLink(name: string): boolean {
    return this.setLink(name, 'down');
  }

  /** Brings a cut link back up. */
  restoreLink(name: string): boolean {
    return this.setLink(name, 'up');
  }

  private setLink(name: string, state: 'up' | 'down'): boolean {
    const link = this.links.get(name);
    if (!link) return false;
    return spawnSync('ip', ['link', 'set', link, state]).status === 0;
  }

  /** Starts `handover node --name <name>` and waits until it has joined. */
  async node(name: string, ...extra: string[]): Promise<Proc> {
    const { url, prefix } = this.network(name);
    const args = [CLI, 'node', '--name', name, '--nats', url, ...(this.creds ? ['--creds', this.creds] : []), ...extra];
    const cmd = prefix.length > 0 ? prefix[0] : process.execPath;
    const argv = prefix.length > 0 ? [...prefix.slice(1), process.execPath, ...args] : args;
    const p = track(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.procs.push(p);
    // A loaded 2-core machine (other test files run beside these) can take many seconds to start one.
    await until(`node ${name} to join`, () => p.stderr().includes('joined') || p.child.exitCode !== null, 60_000)
      .catch((e: Error) => { throw new Error(`${e.message}: ${p.stderr() || 'nothing on its stderr'}`); });
    if (!p.stderr().includes('joined')) throw new Error(`node ${name} did not start: ${p.stderr()}`);
    return p;
  }

  /** Starts a CLI client on loopback. */
  client(args: string[], env: Record<string, string> = {}): Proc {
    const all = [CLI, ...args];
    const p = track(spawn(process.execPath, all, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HANDOVER_NATS: this.url, ...env },
    }));
    this.procs.push(p);
    return p;
  }

  /** A client command run to its end. */
  async cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const withCreds = this.creds && !args.includes('--creds') && !env.NO_CREDS ? [...args.slice(0, 1), '--creds', this.creds, ...args.slice(1)] : args;
    const p = this.client(withCreds, env);
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  }

  async close(): Promise<void> {
    for (const p of this.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => p.exited));
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns]);
    for (const link of this.links.values()) spawnSync('ip', ['link', 'del', link]);
    for (const k of this.claims) rmSync(claimFile(k), { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until `ok()` holds (polling). */
export const waitFor = until;
