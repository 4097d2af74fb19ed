// A real cluster for tests: nats-server with JetStream on a free port and a temp store, node agents
// and CLI clients as separate processes. As root where `ip netns` works, each node gets its own
// network namespace, reaching the server over a veth pair (its link can be cut); elsewhere every
// process is on loopback. Everything started here is stopped by `close()`.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

let namespaceCount = 0;

export class Cluster {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'handover-cluster-'));
  readonly procs: Proc[] = [];
  readonly netns = netnsWorks();
  private readonly namespaces: string[] = [];
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
    const k = ++namespaceCount;
    const ns = `ho${process.pid % 10000}n${k}`;
    const host = `ho${process.pid % 10000}h${k}`;
    const peer = `ho${process.pid % 10000}p${k}`;
    const net = `10.${200 + (process.pid % 50)}.${k}`;
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a);
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
    };
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', ns);
    ip('addr', 'add', `${net}.1/30`, 'dev', host);
    ip('link', 'set', host, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', peer);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    this.links.set(name, host);
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
    await until(`node ${name} to join`, () => p.stderr().includes('joined') || p.child.exitCode !== null, 60_000);
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
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until `ok()` holds (polling). */
export const waitFor = until;
