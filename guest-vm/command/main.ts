// build/handover.wasm: the VM as a WASI preview1 command, with no JavaScript beside it. It runs a
// guest (`run`), continues one from a snapshot file (`resume`) and describes a snapshot
// (`inspect`), on any runtime with preview1: the guest's system calls go to the runtime's own
// WASI (preview1.ts). It drives the VM through the same exports every host uses (ABI.md), and
// its snapshot files are the TypeScript CLI's, so a guest moves between the two in either way.

import * as vm from "../index";
import * as H from "./host";
import { ErrorKind, STATUS_COMPLETED, STATUS_HOST_CALL, STATUS_SUSPENDED, STATUS_TRAP, SUSPEND_FUEL } from "../vocabulary";
import * as W from "./preview1";
import { engine } from "./engine";
import {
  DIRECTORY_INHERITING, DIRECTORY_RIGHTS, Fd, KIND_FILE, KIND_PREOPEN, KIND_STDIO, Preopen, State, TTY_RIGHTS, decimal, fromJson, stateError,
} from "./state";

const VERSION = "0.1.0";
const TRAP_STATUS: u32 = 134;
const NO_FUEL: u64 = u64.MAX_VALUE;
// Back-edges and calls per slice when a trigger file is watched, and how often it is looked at.
const TRIGGER_SLICE: u32 = 1 << 14;
const TRIGGER_POLL_NS: u64 = 10_000_000;

const USAGE = `handover.wasm — the handover VM as a WASI command

Usage (under any WASI runtime, which must preopen the directories named here):
  handover.wasm run [options] <module.wasm> [options] [--] [guest args…]
  handover.wasm resume <file> [--dir <host>::<guest>]… [options]
  handover.wasm inspect <file>
  handover.wasm engine       (one store's ABI calls as frames on stdin/stdout: RuntimeEngine)
  handover.wasm help | version

Options:
  --dir <host>::<guest>  preopen directory <host> for the guest as <guest> (run); on resume, grant
                         each of the snapshot's preopens a directory again
  --env NAME=value       an environment variable for the guest (run)
  --suspend-after <n>    suspend the guest after <n> more instructions ...
  --suspend-on <file>    ... or once <file> exists (looked at every 10 ms of running)
  --snapshot <file>      where the suspended guest's snapshot goes (needed by both)
  --host <name>          the name this host goes by in the snapshot's list of hosts (default wasi)

A snapshot file is the TypeScript CLI's: 'handover resume' continues it on Node, SpiderMonkey or
Chromium, and this command continues one written there.
`;

class UsageError {
  constructor(public message: string) {}
}
let failure: UsageError | null = null;
let failureIsUsage = false;

function usage(message: string): i32 {
  failure = new UsageError(message);
  failureIsUsage = true;
  return -1;
}

function error(message: string): i32 {
  failure = new UsageError(message);
  failureIsUsage = false;
  return -1;
}

function note(line: string): void {
  H.print(2, "handover: " + line + "\n");
}

function vmMessage(): string {
  const p = vm.error_message();
  return String.UTF8.decodeUnsafe(p, vm.result_length());
}

// ── the command line ─────────────────────────────────────────────────────────────────────
class Options {
  file: string = "";
  rest: string[] = [];
  dirs: string[] = [];
  env: string[] = [];
  suspendAfter: u64 = NO_FUEL;
  hasSuspendAfter: bool = false;
  trigger: string = "";
  snapshot: string = "";
  host: string = "wasi";
}

// Options of `command` from args[i]; the index after them, or -1 (a usage error recorded).
function options(command: string, args: string[], i: i32, o: Options): i32 {
  while (i < args.length) {
    const a = unchecked(args[i]);
    if (!a.startsWith("--") || a == "--") return i;
    const takes = a == "--dir" || a == "--env" || a == "--suspend-after" || a == "--suspend-on" || a == "--snapshot" || a == "--host";
    if (!takes) return usage("unknown option " + a + " for " + command);
    if (i + 1 >= args.length) return usage(a + " needs a value");
    const v = unchecked(args[i + 1]);
    if (a == "--dir") {
      if (!v.includes("::")) return usage("--dir " + v + ": expected <host>::<guest>");
      o.dirs.push(v);
    } else if (a == "--env") {
      if (command != "run") return usage("--env is for run (a resumed guest keeps its environment)");
      if (v.indexOf("=") <= 0) return usage("--env " + v + ": expected NAME=value");
      o.env.push(v);
    } else if (a == "--suspend-after") {
      const n = decimal(v);
      if (n <= 0) return usage("--suspend-after " + v + ": expected a positive instruction count");
      o.suspendAfter = <u64>n;
      o.hasSuspendAfter = true;
    } else if (a == "--suspend-on") o.trigger = v;
    else if (a == "--snapshot") o.snapshot = v;
    else o.host = v;
    i += 2;
  }
  return i;
}

function checkSuspension(o: Options): i32 {
  const wants = o.hasSuspendAfter || o.trigger != "";
  if (wants && o.snapshot == "") return usage("--suspend-after and --suspend-on need --snapshot <file>");
  if (!wants && o.snapshot != "") return usage("--snapshot needs --suspend-after <n> or --suspend-on <file>");
  return 0;
}

// ── linking ──────────────────────────────────────────────────────────────────────────────
// The guest's imports, each a preview1 function: host functions made for them, in import order,
// at `importList`; funcs maps each function's store address to its preview1 index.
let importList: usize = 0;
const funcs = new Map<u32, i32>();
let startIndex: i32 = -1;
let hasStart: bool = false;

function link(file: string, moduleId: i32): i32 {
  const blobPtr = vm.module_describe(<u32>moduleId);
  const blobLen = vm.result_length();
  const blob = heap.alloc(<usize>blobLen + 4);
  memory.copy(blob, blobPtr, blobLen);
  const str = (): string => {
    const n = load<u32>(readAt);
    const s = String.UTF8.decodeUnsafe(readAt + 4, n);
    readAt += 4 + <usize>n;
    return s;
  };
  readAt = blob;
  const nimports = load<u32>(readAt);
  readAt += 4;
  importList = heap.alloc(<usize>nimports * 4 + 4);
  for (let i: u32 = 0; i < nimports; i++) {
    const mod = str();
    const name = str();
    const kind = load<u8>(readAt);
    readAt += 1;
    if (kind != 0) return error(file + ": unknown import: " + mod + "." + name);
    const type = readAt;
    const np = load<u32>(readAt);
    const params: u8[] = [];
    for (let k: u32 = 0; k < np; k++) params.push(load<u8>(readAt + 4 + k));
    readAt += 4 + <usize>np;
    const nr = load<u32>(readAt);
    const results: u8[] = [];
    for (let k: u32 = 0; k < nr; k++) results.push(load<u8>(readAt + 4 + k));
    readAt += 4 + <usize>nr;
    const index = mod == "wasi_snapshot_preview1" ? W.functionIndex(name) : -1;
    if (index < 0) return error(file + ": unknown import: " + mod + "." + name);
    if (!W.typeMatches(index, params, results)) return error(file + ": incompatible import type: " + mod + "." + name);
    const addr = vm.host_func_new(type);
    store<u32>(importList + (<usize>i << 2), <u32>addr);
    funcs.set(<u32>addr, index);
  }
  const nexports = load<u32>(readAt);
  readAt += 4;
  for (let i: u32 = 0; i < nexports; i++) {
    const name = str();
    const kind = load<u8>(readAt);
    const index = load<u32>(readAt + 1);
    readAt += 5;
    if (kind == 0) {
      const np = load<u32>(readAt);
      readAt += 4 + <usize>np;
      const nr = load<u32>(readAt);
      readAt += 4 + <usize>nr;
      if (name == "_start" && np == 0) {
        startIndex = <i32>index;
        hasStart = true;
      }
    } else if (kind == 1) readAt += 9;
    else if (kind == 2) readAt += 8;
    else readAt += 2;
  }
  heap.free(blob);
  return 0;
}
let readAt: usize = 0;

// The guest module from `bytes` (a heap block the VM takes over): its id, or -1 with the error.
function loadModule(file: string, bytes: usize, len: usize): i32 {
  const id = vm.module_new(bytes, <u32>len);
  if (id < 0) {
    const kind = vm.error_kind();
    return error(file + ": " + vmMessage() + (kind == ErrorKind.Malformed || kind == ErrorKind.Invalid ? " (at byte " + vm.error_offset().toString() + ")" : ""));
  }
  return id;
}

// ── running ──────────────────────────────────────────────────────────────────────────────
let state: State = new State();
let instance: i32 = -1;
let memoryAddr: i32 = -1;
let fuelGiven: u64 = NO_FUEL;
const args = heap.alloc(16 * 8);

const COMPLETED: i32 = -2;

// Runs the guest from `status` until it ends or is suspended: COMPLETED when the invoked
// function returned, else the process's exit status.
function drive(status: i32, o: Options): i32 {
  let lastPoll = H.monotonicNow();
  for (;;) {
    if (status == STATUS_COMPLETED) return COMPLETED;
    if (status == STATUS_TRAP) {
      H.print(2, "trap: " + vmMessage() + "\n");
      return TRAP_STATUS;
    }
    if (status == STATUS_HOST_CALL) {
      const index = funcs.get(<u32>vm.host_call_func());
      const served = serve(index);
      if (served >= 0) return served;
      status = vm.resume();
      continue;
    }
    if (status == STATUS_SUSPENDED) {
      if (vm.suspend_reason() == SUSPEND_FUEL) return suspend(o);
      if (o.trigger != "") {
        const now = H.monotonicNow();
        if (now - lastPoll >= TRIGGER_POLL_NS) {
          lastPoll = now;
          if (H.exists(o.trigger)) return suspend(o);
        }
      }
    }
    status = vm.resume();
  }
  return COMPLETED;
}

// Serves the pending host call (preview1 function `index`): -1 when the guest goes on, else the
// exit status (proc_exit ended the activation).
function serve(index: i32): i32 {
  // The arguments first: memory_region answers in io cell 0.
  const io = vm.io_buffer();
  memory.copy(args, io, 16 * 8);
  let base: usize = 0;
  let size: usize = 0;
  if (memoryAddr >= 0) {
    base = <usize>vm.memory_region(<u32>memoryAddr);
    size = <usize>load<u64>(io);
  }
  const errno = W.call(index, args, base, size);
  if (errno < 0) {
    vm.abort_activation();
    return <i32>W.exitCode;
  }
  store<u64>(io, <u64>errno);
  return -1;
}

function executed(): u64 {
  vm.fuel_get();
  return state.instructions + (fuelGiven - load<u64>(vm.io_buffer()));
}

function suspend(o: Options): i32 {
  state.instructions = executed();
  state.hosts.push(o.host);
  const json = H.utf8(state.toJson(W.guestMonotonic()));
  const p = vm.snapshot_take(<u32>instance, changetype<usize>(json), <u32>json.byteLength, 1);
  if (p == 0) return error("snapshot: " + vmMessage());
  const n = vm.result_length();
  const e = H.writeFile(o.snapshot, p, n);
  if (e != 0) return error("cannot write the snapshot " + o.snapshot + ": " + errnoText(e));
  note("suspended on " + o.host + " after " + state.instructions.toString() + " instructions; snapshot " + o.snapshot + " (" + n.toString() + " bytes)");
  return 0;
}

function errnoText(e: u16): string {
  if (e == 44) return "no such file";
  if (e == 76) return "not under a directory the runtime preopened";
  if (e == 2) return "permission denied";
  if (e == 31) return "is a directory";
  if (e == 54) return "not a directory";
  return "errno " + e.toString();
}

function startRun(o: Options): void {
  vm.set_metering(1);
  if (o.trigger != "") vm.set_slice(TRIGGER_SLICE);
}

function setFuel(o: Options): void {
  fuelGiven = o.suspendAfter;
  store<u64>(vm.io_buffer(), fuelGiven);
  vm.fuel_set();
}

// Grants each `--dir host::guest` a place among the runtime's preopens.
function grant(p: Preopen): i32 {
  const at = H.locate(p.hostPath);
  if (at === null) return error("--dir " + p.hostPath + ": not under a directory the runtime preopened (give the runtime a --dir for it)");
  const b = H.utf8(at.rel);
  if (H.path_filestat_get(at.dir, 1, changetype<usize>(b), <u32>b.byteLength, H.scratch) != 0) return error("--dir " + p.hostPath + ": no such directory");
  if (load<u8>(H.scratch, 16) != H.FILETYPE_DIRECTORY) return error("--dir " + p.hostPath + ": not a directory (a preopen is a directory; give the one that holds the file)");
  p.outerDir = at.dir;
  p.outerRel = at.rel;
  return 0;
}

function splitDir(d: string): string[] {
  const k = d.indexOf("::");
  return [d.substring(0, k), d.substring(k + 2)];
}

function basename(path: string): string {
  let b = path.substring(path.lastIndexOf("/") + 1);
  if (b.endsWith(".wasm")) b = b.substring(0, b.length - 5);
  return b;
}

function readOrFail(file: string): usize {
  const p = H.readFile(file);
  if (p == 0) error("cannot read " + file + ": " + errnoText(H.readErrno));
  return p;
}

function run(o: Options): i32 {
  if (checkSuspension(o) < 0) return -1;
  const bytes = readOrFail(o.file);
  if (bytes == 0) return -1;
  startRun(o);
  const id = loadModule(o.file, bytes, H.readLength);
  if (id < 0 || link(o.file, id) < 0) return -1;
  if (!hasStart) return error(o.file + ": the module exports no function _start without parameters");
  state.args.push(basename(o.file));
  for (let i = 0; i < o.rest.length; i++) state.args.push(unchecked(o.rest[i]));
  state.env = o.env;
  for (let s: u32 = 0; s < 3; s++) {
    const e = new Fd();
    e.kind = KIND_STDIO;
    e.stream = s;
    // Only a terminal is a character device: what wasi-libc's isatty looks at.
    e.filetype = H.fd_fdstat_get(s, H.scratch) == 0 && load<u8>(H.scratch) == H.FILETYPE_CHARACTER_DEVICE ? H.FILETYPE_CHARACTER_DEVICE : 0;
    e.rightsBase = TTY_RIGHTS;
    state.fds.set(s, e);
  }
  for (let i = 0; i < o.dirs.length; i++) {
    const d = splitDir(unchecked(o.dirs[i]));
    const p = new Preopen(unchecked(d[1]), unchecked(d[0]));
    if (grant(p) < 0) return -1;
    state.preopens.push(p);
    const e = new Fd();
    e.kind = KIND_PREOPEN;
    e.preopen = i;
    e.filetype = H.FILETYPE_DIRECTORY;
    e.rightsBase = DIRECTORY_RIGHTS;
    e.rightsInheriting = DIRECTORY_INHERITING;
    state.fds.set(3 + <u32>i, e);
  }
  W.bind(state);
  instance = vm.instance_new(<u32>id, importList);
  if (instance < 0) return error(o.file + ": " + vmMessage());
  memoryAddr = vm.instance_extern(<u32>instance, 2, 0);
  setFuel(o);
  const start = vm.instance_start(<u32>instance);
  if (start >= 0) {
    const r = drive(vm.invoke(<u32>start), o);
    if (r != COMPLETED) return r;
  }
  const r = drive(vm.invoke(<u32>vm.instance_extern(<u32>instance, 0, <u32>startIndex)), o);
  return r == COMPLETED ? 0 : r;
}

// ── snapshot files ───────────────────────────────────────────────────────────────────────
class SnapshotFile {
  bytes: usize = 0;
  length: usize = 0;
  info: usize = 0;
  module: usize = 0;
  moduleLength: usize = 0;
  fuel: u64 = 0;
  metered: bool = false;
  formatVersion: u32 = 0;
  vmVersion: string = "";
  hash: string = "";
  pages: u32[] = [];
  stored: u32[] = [];
  frames: u32[] = [];
}

function readSnapshot(file: string): SnapshotFile | null {
  const bytes = readOrFail(file);
  if (bytes == 0) return null;
  const s = new SnapshotFile();
  s.bytes = bytes;
  s.length = H.readLength;
  const ip = vm.snapshot_info(bytes, <u32>s.length);
  if (ip == 0) {
    error(file + ": " + vmMessage());
    return null;
  }
  let at = ip;
  s.formatVersion = load<u32>(at);
  const vlen = load<u32>(at, 4);
  s.vmVersion = String.UTF8.decodeUnsafe(at + 8, vlen);
  at += 8 + <usize>vlen + 4;
  const hex = "0123456789abcdef";
  for (let i = 0; i < 32; i++) {
    const b = load<u8>(at + i);
    s.hash += hex.charAt(b >> 4) + hex.charAt(b & 15);
  }
  at += 32;
  s.metered = load<u8>(at) != 0;
  s.fuel = load<u64>(at, 1);
  at += 9;
  const mems = load<u32>(at);
  at += 4;
  for (let i: u32 = 0; i < mems; i++) {
    s.pages.push(load<u32>(at));
    s.stored.push(load<u32>(at, 4));
    at += 8;
  }
  const nframes = load<u32>(at);
  at += 4;
  for (let i: u32 = 0; i < nframes * 4; i++) s.frames.push(load<u32>(at + (<usize>i << 2)));
  at += <usize>nframes * 16;
  const hostLen = load<u32>(at);
  const hostText = String.UTF8.decodeUnsafe(at + 4, hostLen);
  at += 4 + <usize>hostLen;
  s.moduleLength = load<u32>(at);
  if (s.moduleLength == 0) {
    error(file + ": the snapshot carries no module (not written by handover run)");
    return null;
  }
  s.module = heap.alloc(s.moduleLength);
  memory.copy(s.module, at + 4, s.moduleLength);
  const parsed = fromJson(hostText);
  if (parsed === null) {
    error(file + ": " + stateError);
    return null;
  }
  state = parsed;
  return s;
}

function resume(o: Options): i32 {
  if (checkSuspension(o) < 0) return -1;
  const snap = readSnapshot(o.file);
  if (snap === null) return -1;
  // A snapshot is data, not authority: each preopen's directory is the one granted here.
  for (let i = 0; i < o.dirs.length; i++) {
    const guest = unchecked(splitDir(unchecked(o.dirs[i]))[1]);
    let found = false;
    for (let k = 0; k < state.preopens.length; k++) found = found || unchecked(state.preopens[k]).guestPath == guest;
    if (!found) return usage("--dir " + guest + ": the snapshot has no preopen named " + guest);
  }
  for (let k = 0; k < state.preopens.length; k++) {
    const p = unchecked(state.preopens[k]);
    let host = "";
    for (let i = 0; i < o.dirs.length; i++) {
      const d = splitDir(unchecked(o.dirs[i]));
      if (unchecked(d[1]) == p.guestPath) host = unchecked(d[0]);
    }
    if (host == "") return error(o.file + ": the guest had " + p.guestPath + " preopened (from " + p.hostPath + "); give --dir <host>::" + p.guestPath + " to grant it a directory");
    p.hostPath = host;
    if (grant(p) < 0) return -1;
  }
  startRun(o);
  const id = loadModule(o.file + " (its module)", snap.module, snap.moduleLength);
  if (id < 0 || link(o.file + " (its module)", id) < 0) return -1;
  W.bind(state);
  instance = vm.snapshot_restore(snap.bytes, <u32>snap.length, <u32>id, importList);
  if (instance < 0) return error(o.file + ": the snapshot does not restore: " + vmMessage());
  memoryAddr = vm.instance_extern(<u32>instance, 2, 0);
  // A call the guest was waiting for is served first, and the guest left right after it:
  // setting the fuel overwrites the io cells its arguments are in.
  const pending = vm.host_call_func();
  if (pending >= 0) {
    const served = serve(funcs.get(<u32>pending));
    if (served >= 0) return served;
    vm.complete_host_call();
  }
  setFuel(o);
  const r = drive(vm.resume(), o);
  return r == COMPLETED ? 0 : r;
}

function inspect(file: string): i32 {
  const s = readSnapshot(file);
  if (s === null) return -1;
  const out: string[] = [];
  out.push("file        " + file + ": " + s.length.toString() + " bytes");
  out.push("format      version " + s.formatVersion.toString() + ", written by " + s.vmVersion);
  out.push("module      embedded, " + s.moduleLength.toString() + " bytes, sha256 " + s.hash);
  out.push("metering    " + (s.metered ? "on" : "off") + ", fuel left " + (s.fuel == NO_FUEL ? "unlimited" : s.fuel.toString()));
  out.push("executed    " + state.instructions.toString() + " instructions, on " + state.hosts.join(" → "));
  for (let i = 0; i < s.pages.length; i++) {
    out.push("memory " + i.toString() + "    " + unchecked(s.pages[i]).toString() + " pages, " + unchecked(s.stored[i]).toString() + " stored (non-zero)");
  }
  out.push("frames      " + (s.frames.length / 4).toString() + ", bottom (the invoked function) first:");
  for (let i = 0; i < s.frames.length; i += 4) {
    out.push("  #" + (i / 4).toString() + " func " + unchecked(s.frames[i]).toString() + " offset 0x" + unchecked(s.frames[i + 1]).toString(16)
      + "  locals " + unchecked(s.frames[i + 2]).toString() + "  operands " + unchecked(s.frames[i + 3]).toString());
  }
  const pre: string[] = [];
  for (let i = 0; i < state.preopens.length; i++) pre.push(unchecked(state.preopens[i]).guestPath + "=" + unchecked(state.preopens[i]).hostPath);
  out.push("wasi        " + state.args.length.toString() + " args, " + state.env.length.toString() + " env vars, preopens " + (pre.length > 0 ? pre.join(" ") : "none"));
  const fds = state.fds.keys().sort((a: u32, b: u32): i32 => <i32>(a > b) - <i32>(a < b));
  for (let i = 0; i < fds.length; i++) {
    const e = state.fds.get(unchecked(fds[i]));
    const what = e.kind == KIND_STDIO ? "stdio " + (e.stream == 0 ? "in" : e.stream == 1 ? "out" : "err")
      : (e.kind == KIND_PREOPEN ? "preopen " : e.kind == KIND_FILE ? "file " : "dir ") + unchecked(state.preopens[e.preopen]).guestPath + (e.path != "" ? "/" + e.path : "");
    out.push("  fd " + unchecked(fds[i]).toString() + " " + what + (e.kind == KIND_FILE ? ", offset " + e.offset.toString() : ""));
  }
  H.print(1, out.join("\n") + "\n");
  return 0;
}

// ── main ─────────────────────────────────────────────────────────────────────────────────
function main(): i32 {
  const argv = H.commandLine();
  const a = argv.slice(1);
  if (a.length == 0) return usage("no command given");
  const command = unchecked(a[0]);
  if (command == "help" || command == "--help" || command == "-h") {
    H.print(1, USAGE);
    return 0;
  }
  if (command == "version" || command == "--version" || command == "-V") {
    H.print(1, "handover " + VERSION + " (handover.wasm)\n");
    return 0;
  }
  if (command == "engine") return a.length == 1 ? engine() : usage("engine takes no arguments");
  if (command != "run" && command != "resume" && command != "inspect") return usage("unknown command " + command);
  const o = new Options();
  let i = options(command, a, 1, o);
  if (i < 0) return -1;
  if (i >= a.length) return usage(command == "run" ? "no module given" : "no snapshot file given");
  if (unchecked(a[i]) == "--") i++;
  if (i >= a.length) return usage(command == "run" ? "no module given" : "no snapshot file given");
  o.file = unchecked(a[i]);
  i = options(command, a, i + 1, o);
  if (i < 0) return -1;
  if (i < a.length && unchecked(a[i]) == "--") i++;
  if (command == "run") {
    o.rest = a.slice(i);
    return run(o);
  }
  if (i < a.length) return usage("unexpected argument " + unchecked(a[i]));
  if (command == "inspect") {
    if (o.dirs.length > 0 || o.snapshot != "" || o.hasSuspendAfter || o.trigger != "") return usage("inspect takes only a snapshot file");
    return inspect(o.file);
  }
  return resume(o);
}

const status = main();
if (status < 0) {
  const f = failure!;
  H.print(2, "error: " + f.message + "\n" + (failureIsUsage ? "run 'handover.wasm --help' for the commands and their options\n" : ""));
  H.proc_exit(1);
} else if (status != 0) H.proc_exit(<u32>status);
