// The host engines a guest can be handed to, and how each is reached. Every remote engine runs
// build/vm.wasm with the same engine-neutral session (remote/core.js) and differs only in
// transport: a Node child in V8's Liftoff-only mode (length-prefixed frames on pipes), a js102
// SpiderMonkey shell (base64 lines), headless Chromium through playwright-core (page.evaluate), and
// the VM itself (the session calls an inner VM's exports through an outer Vm on this Node). The
// `node` host is not here: it is the parent's own Vm (driver.ts). An engine is started once and
// reused for every request; a host that is not installed is a HostUnavailable with the fix.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultClasses, defaultVmWasmPath, intrinsicsWasmPath, packageRoot } from '../vm.js';
import { innerVm, InnerVmError, type InnerVm } from './vm-on-vm.js';
import { RemoteFault } from './protocol.js';

import type { HostName } from './names.js';

export { HOSTS, isHostName, type HostName } from './names.js';

/** A host this machine cannot run, with the way to install it. */
export class HostUnavailable extends Error {
  override name = 'HostUnavailable';
}

export interface RemoteEngine {
  readonly name: Exclude<HostName, 'node'>;
  /** One request (protocol.ts), its reply. Requests are never concurrent. */
  request(msg: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

const REMOTE_DIR = () => path.join(packageRoot(), 'host-intrinsics', 'hosts', 'remote');
const coreSource = () => readFileSync(path.join(REMOTE_DIR(), 'core.js'), 'utf8');

/** `name` on PATH (or as given, if it has a slash), or null. */
export function findExecutable(name: string): string | null {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes as they arrive in pieces, joined once, when a whole frame is there: linear in its size. */
class Arrivals {
  private pieces: Uint8Array[] = [];
  length = 0;

  push(piece: Uint8Array): void {
    this.pieces.push(piece);
    this.length += piece.length;
  }

  /** A copy of the first `n` bytes (n ≤ length), left in place. */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of this.pieces) {
      if (at === n) break;
      const k = Math.min(p.length, n - at);
      out.set(p.subarray(0, k), at);
      at += k;
    }
    return out;
  }

  /** The first `n` bytes (n ≤ length), taken out. */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const p = this.pieces[0]!;
      const k = Math.min(p.length, n - at);
      out.set(p.subarray(0, k), at);
      at += k;
      if (k === p.length) this.pieces.shift();
      else this.pieces[0] = p.subarray(k);
    }
    this.length -= n;
    return out;
  }

  /** Where the first `byte` is, searching from `from`, or -1. */
  indexOf(byte: number, from: number): number {
    let base = 0;
    for (const p of this.pieces) {
      if (from < base + p.length) {
        const i = p.indexOf(byte, Math.max(0, from - base));
        if (i >= 0) return base + i;
      }
      base += p.length;
    }
    return -1;
  }
}

// A message in text framing: lines of base64 of at most this many bytes each, every line but the
// last marked with a leading '+', so that no string comes near an engine's length limit.
const LINE_BYTES = 3 << 18;

/**
 * A child process speaking the protocol over its stdin/stdout, in one of two framings: binary
 * (u32 length + bytes) or text (base64 lines, LINE_BYTES each). Its stderr is kept for errors.
 */
class ChildEngine implements RemoteEngine {
  private readonly child: ChildProcess;
  private readonly arrived = new Arrivals();
  /** Text framing: the decoded lines of the message so far, and where to look for the next newline. */
  private lines: Uint8Array[] = [];
  private scanned = 0;
  private stderr = '';
  private waiting: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;

  constructor(readonly name: 'node-liftoff' | 'spidermonkey', command: string, args: string[], private readonly framing: 'binary' | 'lines') {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => this.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    this.child.stderr!.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-4000); });
    this.child.on('error', (e) => this.fail(new RemoteFault(`${name}: ${e.message}`)));
    this.child.on('exit', (code, signal) => this.fail(new RemoteFault(`${name}: the engine process ended (${signal ?? `exit ${code}`})${this.stderr ? `: ${this.stderr.trim()}` : ''}`)));
    this.child.stdin!.on('error', () => {}); // reported through 'exit'
  }

  private fail(e: Error): void {
    this.exited ??= e;
    this.waiting?.reject(e);
    this.waiting = null;
  }

  private receive(chunk: Uint8Array): void {
    // A copy: the stream may reuse its buffer.
    this.arrived.push(new Uint8Array(chunk));
    const message = this.framing === 'binary' ? this.frame() : this.line();
    if (message === null) return;
    const w = this.waiting;
    this.waiting = null;
    w?.resolve(message);
  }

  private frame(): Uint8Array | null {
    if (this.arrived.length < 4) return null;
    const len = new DataView(this.arrived.peek(4).buffer).getUint32(0, true);
    if (this.arrived.length < 4 + len) return null;
    this.arrived.take(4);
    return this.arrived.take(len);
  }

  private line(): Uint8Array | null {
    for (;;) {
      const nl = this.arrived.indexOf(10, this.scanned);
      if (nl < 0) {
        this.scanned = this.arrived.length;
        return null;
      }
      const text = Buffer.from(this.arrived.take(nl + 1).subarray(0, nl)).toString('latin1');
      this.scanned = 0;
      const more = text.startsWith('+');
      this.lines.push(new Uint8Array(Buffer.from(more ? text.slice(1) : text, 'base64')));
      if (more) continue;
      const message = concat(this.lines);
      this.lines = [];
      return message;
    }
  }

  request(msg: Uint8Array): Promise<Uint8Array> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (this.framing === 'binary') {
        const head = new Uint8Array(4);
        new DataView(head.buffer).setUint32(0, msg.length, true);
        this.child.stdin!.write(concat([head, msg]));
      } else {
        for (let at = 0; at < msg.length; at += LINE_BYTES) {
          const last = at + LINE_BYTES >= msg.length;
          this.child.stdin!.write(`${last ? '' : '+'}${Buffer.from(msg.buffer, msg.byteOffset + at, Math.min(LINE_BYTES, msg.length - at)).toString('base64')}\n`);
        }
      }
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill(), 2000);
    await done;
    clearTimeout(timer);
  }
}

function nodeLiftoff(): RemoteEngine {
  return new ChildEngine('node-liftoff', process.execPath, ['--liftoff-only', path.join(REMOTE_DIR(), 'node.cjs'), defaultVmWasmPath(), intrinsicsWasmPath()], 'binary');
}

function spidermonkey(): RemoteEngine {
  const chosen = process.env.HANDOVER_JS102;
  const js102 = findExecutable(chosen ?? 'js102');
  if (!js102) {
    throw new HostUnavailable(chosen === undefined
      ? 'spidermonkey: js102 not found — apt-get install libmozjs-102-dev'
      : `spidermonkey: HANDOVER_JS102=${chosen} is not an executable file — fix or unset it (apt-get install libmozjs-102-dev installs js102)`);
  }
  return new ChildEngine('spidermonkey', js102, [path.join(REMOTE_DIR(), 'spidermonkey.js'), path.join(REMOTE_DIR(), 'core.js'), defaultVmWasmPath(), intrinsicsWasmPath()], 'lines');
}

/** Chromium's flags for a headless, quiet run as root in a container (TOOLCHAIN.md). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

type Page = { evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>; addScriptTag(o: { content: string }): Promise<unknown> };

class ChromiumEngine implements RemoteEngine {
  readonly name = 'chromium' as const;
  private constructor(private readonly browser: { close(): Promise<void> }, private readonly page: Page) {}

  static async launch(): Promise<ChromiumEngine> {
    const executablePath = process.env.HANDOVER_CHROMIUM ?? '/usr/bin/chromium';
    if (!findExecutable(executablePath)) throw new HostUnavailable(`chromium: ${executablePath} not found — apt-get install chromium`);
    let playwright: { chromium: { launch(o: object): Promise<{ newPage(): Promise<Page>; close(): Promise<void> }> } };
    try {
      playwright = await import('playwright-core' as string);
    } catch {
      throw new HostUnavailable('chromium: the package playwright-core is missing — npm install playwright-core');
    }
    const browser = await playwright.chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: coreSource() });
      // Compiled once, asynchronously: Chromium refuses synchronous compilation of big modules
      // on the main thread.
      await page.evaluate(async ([b64, helper64]: [string, string]) => {
        const w = window as unknown as Record<string, unknown> & { handoverBase64: { decode(s: string): Uint8Array }; handoverRemote(d: string): unknown };
        w.vmModule = await WebAssembly.compile(w.handoverBase64.decode(b64) as Uint8Array<ArrayBuffer>);
        w.helperModule = await WebAssembly.compile(w.handoverBase64.decode(helper64) as Uint8Array<ArrayBuffer>);
        w.session = w.handoverRemote(navigator.userAgent);
      }, [readFileSync(defaultVmWasmPath()).toString('base64'), readFileSync(intrinsicsWasmPath()).toString('base64')] as [string, string]);
      return new ChromiumEngine(browser, page);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  async request(msg: Uint8Array): Promise<Uint8Array> {
    const reply = await this.page.evaluate(async (b64: string) => {
      type Win = {
        vmModule: WebAssembly.Module;
        helperModule: WebAssembly.Module;
        session: { handle(m: Uint8Array, make: () => unknown): Uint8Array };
        handoverBase64: { decode(s: string): Uint8Array; encode(b: Uint8Array): string };
        handoverNativeVm(i: WebAssembly.Instance): unknown;
      };
      const w = window as unknown as Win;
      const m = w.handoverBase64.decode(b64);
      // Instantiated before the (synchronous) session runs: each 'R' uses one fresh VM.
      let vm = null;
      if (m[0] === 82) {
        const helper = await WebAssembly.instantiate(w.helperModule);
        vm = w.handoverNativeVm(await WebAssembly.instantiate(w.vmModule, { 'handover:vm/intrinsics': helper.exports }));
      }
      return w.handoverBase64.encode(w.session.handle(m, () => vm));
    }, Buffer.from(msg.buffer, msg.byteOffset, msg.length).toString('base64'));
    return new Uint8Array(Buffer.from(reply, 'base64'));
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/**
 * VM-on-VM: for each continuation a fresh outer Vm (native, on this Node) instantiates
 * build/vm.wasm as its guest; the session drives that inner VM through the outer's invoke and
 * reads and writes the inner VM's memory (its exported `memory`) through guestMemory. Everything
 * the inner VM does is interpreted by the outer one: slow, by design.
 */
class VmOnVmEngine implements RemoteEngine {
  readonly name = 'vm' as const;
  private readonly session: { handle(m: Uint8Array, make: () => unknown): Uint8Array };

  constructor() {
    const make = new Function(`${coreSource()}\nreturn handoverRemote;`) as () => (describe: string) => VmOnVmEngine['session'];
    this.session = make()(`handover VM interpreting build/vm.wasm, on V8 ${process.versions.v8} (node ${process.version})`);
  }

  private innerVm(): InnerVm {
    try {
      return innerVm(defaultClasses('vm'));
    } catch (e) {
      if (e instanceof InnerVmError) throw new RemoteFault(`vm: ${e.message}`);
      throw e;
    }
  }

  async request(msg: Uint8Array): Promise<Uint8Array> {
    return this.session.handle(msg, () => this.innerVm());
  }

  async close(): Promise<void> {}
}

/** Starts the engine of a remote host (throws HostUnavailable if it is not installed). */
export async function startEngine(name: Exclude<HostName, 'node'>): Promise<RemoteEngine> {
  switch (name) {
    case 'node-liftoff': return nodeLiftoff();
    case 'spidermonkey': return spidermonkey();
    case 'chromium': return ChromiumEngine.launch();
    case 'vm': return new VmOnVmEngine();
  }
}

/** Engines started on first use and kept for reuse (one browser, one child per host). */
export class EnginePool {
  private readonly engines = new Map<string, Promise<RemoteEngine>>();

  get(name: Exclude<HostName, 'node'>): Promise<RemoteEngine> {
    let e = this.engines.get(name);
    if (!e) {
      e = startEngine(name);
      this.engines.set(name, e);
      e.catch(() => this.engines.delete(name));
    }
    return e;
  }

  async close(): Promise<void> {
    const all = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(all.map(async (e) => (await e.catch(() => null))?.close()));
  }
}
