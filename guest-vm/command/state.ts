// The guest's WASI state, as the TypeScript CLI keeps it (host-intrinsics/wasi/state.ts) and as
// both write it into a snapshot's host state (host-intrinsics/hosts/snapshot-file.ts): args,
// environment, preopens, the fd table by path and offset, the guest's monotonic clock reading,
// and the instruction count and host list of the run. A state read from a file is checked field
// by field, so a forged one is refused with the first field that is wrong.

import { J_ARR, J_NUM, J_OBJ, J_STR, Json, parse } from "./json";

export const KIND_STDIO: u8 = 0;
export const KIND_PREOPEN: u8 = 1;
export const KIND_DIR: u8 = 2;
export const KIND_FILE: u8 = 3;
const KIND_NAMES = ["stdio", "preopen", "dir", "file"];

// Rights as the CLI grants them (host-intrinsics/wasi/layout.ts, after uvwasi).
export const R_FD_READ: u64 = 1 << 1;
export const R_FD_WRITE: u64 = 1 << 6;
export const REGULAR_FILE_RIGHTS: u64 = 0x8e001ff;
export const DIRECTORY_RIGHTS: u64 = 0xfbffe98;
export const DIRECTORY_INHERITING: u64 = DIRECTORY_RIGHTS | REGULAR_FILE_RIGHTS;
export const TTY_RIGHTS: u64 = (1 << 1) | (1 << 3) | (1 << 6) | (1 << 21) | (1 << 27);

export class Preopen {
  // Where the host directory is among the runtime's preopens (host.ts locate), once granted.
  outerDir: u32 = 0;
  outerRel: string = ".";
  constructor(public guestPath: string, public hostPath: string) {}
}

export class Fd {
  kind: u8 = KIND_STDIO;
  stream: u32 = 0;
  preopen: i32 = 0;
  path: string = "";
  filetype: u8 = 0;
  offset: u64 = 0;
  fdflags: u32 = 0;
  rightsBase: u64 = 0;
  rightsInheriting: u64 = 0;
  // The runtime's fd for this file, opened on first use; -1 until then.
  outer: i32 = -1;
}

export class State {
  instructions: u64 = 0;
  hosts: string[] = [];
  args: string[] = [];
  env: string[] = [];
  preopens: Preopen[] = [];
  fds: Map<u32, Fd> = new Map();
  monotonicNs: u64 = 0;
  hasClock: bool = false;

  lowestFreeFd(): u32 {
    let fd: u32 = 0;
    while (this.fds.has(fd)) fd++;
    return fd;
  }

  toJson(monotonicNow: u64): string {
    const args = Json.arr();
    for (let i = 0; i < this.args.length; i++) args.push(Json.str(unchecked(this.args[i])));
    const env = Json.arr();
    for (let i = 0; i < this.env.length; i++) env.push(Json.str(unchecked(this.env[i])));
    const pre = Json.arr();
    for (let i = 0; i < this.preopens.length; i++) {
      const p = unchecked(this.preopens[i]);
      pre.push(Json.obj().set("guestPath", Json.str(p.guestPath)).set("hostPath", Json.str(p.hostPath)));
    }
    const fds = Json.obj();
    const keys = this.fds.keys().sort((a: u32, b: u32): i32 => <i32>(a > b) - <i32>(a < b));
    for (let i = 0; i < keys.length; i++) {
      const e = this.fds.get(unchecked(keys[i]));
      const o = Json.obj().set("kind", Json.str(unchecked(KIND_NAMES[e.kind])));
      if (e.kind == KIND_STDIO) o.set("stream", Json.num(e.stream));
      else o.set("preopen", Json.num(<u64>e.preopen)).set("path", Json.str(e.path));
      o.set("filetype", Json.num(e.filetype)).set("offset", Json.num(e.offset)).set("fdflags", Json.num(e.fdflags))
        .set("rightsBase", Json.num(e.rightsBase)).set("rightsInheriting", Json.num(e.rightsInheriting));
      fds.set(unchecked(keys[i]).toString(), o);
    }
    const hosts = Json.arr();
    for (let i = 0; i < this.hosts.length; i++) hosts.push(Json.str(unchecked(this.hosts[i])));
    const wasi = Json.obj().set("version", Json.num(1)).set("args", args).set("env", env).set("preopens", pre)
      .set("fds", fds).set("clock", Json.obj().set("monotonicNs", Json.str(monotonicNow.toString())));
    return Json.obj().set("format", Json.str("handover-cli")).set("version", Json.num(1))
      .set("instructions", Json.str(this.instructions.toString())).set("hosts", hosts).set("wasi", wasi).stringify();
  }
}

// Why the last fromJson refused its input.
export let stateError: string = "";

function no(what: string): State | null {
  stateError = what;
  return null;
}

function strings(j: Json | null, out: string[]): bool {
  if (j === null || j.kind != J_ARR) return false;
  for (let i = 0; i < j.items.length; i++) {
    const s = unchecked(j.items[i]);
    if (s.kind != J_STR) return false;
    out.push(s.str);
  }
  return true;
}

// A decimal count below 2^63, or -1.
export function decimal(s: string): i64 {
  if (s.length == 0 || s.length > 20) return -1;
  let n: u64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    const next = n * 10 + <u64>(c - 0x30);
    if (next / 10 != n) return -1;
    n = next;
  }
  return n > <u64>i64.MAX_VALUE ? -1 : <i64>n;
}

function num(o: Json, key: string): i64 {
  const v = o.get(key);
  return v !== null && v.kind == J_NUM ? <i64>v.num : -1;
}

// The CLI's host state in `text`; null with stateError set when it is none (or a bad one).
export function fromJson(text: string): State | null {
  const root = parse(text);
  if (root === null || root.kind != J_OBJ) return no("the host state is no JSON object (not written by handover run)");
  const format = root.get("format");
  if (format === null || format.kind != J_STR || format.str != "handover-cli") return no("the snapshot carries no WASI state (not written by handover run)");
  const s = new State();
  if (num(root, "version") != 1) return no("the host state's \"version\" must be 1 (this handover reads version 1)");
  const ins = root.get("instructions");
  const count = ins !== null && ins.kind == J_STR ? decimal(ins.str) : -1;
  if (count < 0) return no("the host state's \"instructions\" must be a decimal instruction count");
  s.instructions = <u64>count;
  if (!strings(root.get("hosts"), s.hosts)) return no("the host state's \"hosts\" must be a list of host names");
  const w = root.get("wasi");
  if (w === null || w.kind != J_OBJ) return no("the host state's \"wasi\" must be a WASI state");
  if (num(w, "version") != 1) return no("the host state's \"wasi\" is not a WASI state: version, expected 1");
  if (!strings(w.get("args"), s.args) || !strings(w.get("env"), s.env)) return no("the host state's \"wasi\" is not a WASI state: args and env must be lists of strings");
  const pre = w.get("preopens");
  if (pre === null || pre.kind != J_ARR) return no("the host state's \"wasi\" is not a WASI state: bad preopens");
  for (let i = 0; i < pre.items.length; i++) {
    const p = unchecked(pre.items[i]);
    const g = p.kind == J_OBJ ? p.get("guestPath") : null;
    const h = p.kind == J_OBJ ? p.get("hostPath") : null;
    if (g === null || h === null || g.kind != J_STR || h.kind != J_STR) return no("the host state's \"wasi\" is not a WASI state: bad preopens");
    s.preopens.push(new Preopen(g.str, h.str));
  }
  const fds = w.get("fds");
  if (fds === null || fds.kind != J_OBJ) return no("the host state's \"wasi\" is not a WASI state: no fd table");
  for (let i = 0; i < fds.keys.length; i++) {
    const key = unchecked(fds.keys[i]);
    const o = unchecked(fds.items[i]);
    const fd = decimal(key);
    const badFd = "the host state's \"wasi\" is not a WASI state: bad fd " + key;
    if (fd < 0 || fd > 0xffffffff || o.kind != J_OBJ) return no(badFd);
    const e = new Fd();
    const kind = o.get("kind");
    const k = kind !== null && kind.kind == J_STR ? KIND_NAMES.indexOf(kind.str) : -1;
    if (k < 0) return no(badFd);
    e.kind = <u8>k;
    const ft = num(o, "filetype");
    const off = num(o, "offset");
    const fl = num(o, "fdflags");
    const rb = num(o, "rightsBase");
    const ri = num(o, "rightsInheriting");
    if (ft < 0 || ft > 255 || off < 0 || fl < 0 || fl > 0xffff || rb < 0 || ri < 0) return no(badFd);
    e.filetype = <u8>ft;
    e.offset = <u64>off;
    e.fdflags = <u32>fl;
    e.rightsBase = <u64>rb;
    e.rightsInheriting = <u64>ri;
    if (e.kind == KIND_STDIO) {
      const stream = num(o, "stream");
      if (stream < 0 || stream > 2) return no(badFd);
      e.stream = <u32>stream;
    } else {
      const p = num(o, "preopen");
      const path = o.get("path");
      if (p < 0 || p >= s.preopens.length || path === null || path.kind != J_STR) return no(badFd);
      const parts = path.str.split("/");
      if (parts.includes("..") || parts.includes(".")) return no(badFd);
      e.preopen = <i32>p;
      e.path = path.str;
    }
    s.fds.set(<u32>fd, e);
  }
  const clock = w.get("clock");
  if (clock === null || clock.kind != J_OBJ) return no("the host state's \"wasi\" is not a WASI state: bad clock");
  const mono = clock.get("monotonicNs");
  if (mono !== null) {
    const ns = mono.kind == J_STR ? decimal(mono.str) : -1;
    if (ns < 0) return no("the host state's \"wasi\" is not a WASI state: bad clock");
    s.monotonicNs = <u64>ns;
    s.hasClock = true;
  }
  return s;
}
