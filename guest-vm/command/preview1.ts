// The guest's WASI preview1, served by forwarding to the runtime's own (host.ts). The guest's
// pointers are translated into this module's memory, iovecs rewritten, and every fd is the
// state's (state.ts): named by preopen and path, with its offset and rights, so that it goes
// into a snapshot. The runtime's descriptors are a cache, opened from the path on first use.
// Behaviour follows the TypeScript WASI (host-intrinsics/wasi), so a guest sees the same calls
// on either side of a handover.

import * as H from "./host";
import {
  DIRECTORY_INHERITING, DIRECTORY_RIGHTS, Fd, KIND_DIR, KIND_FILE, KIND_PREOPEN, KIND_STDIO, Preopen, REGULAR_FILE_RIGHTS, State,
} from "./state";

const SUCCESS: i32 = 0;
const E_BADF: i32 = 8;
const E_BUSY: i32 = 10;
const E_EXIST: i32 = 20;
const E_FAULT: i32 = 21;
const E_INVAL: i32 = 28;
const E_ILSEQ: i32 = 25;
const E_ISDIR: i32 = 31;
const E_LOOP: i32 = 32;
const E_NOBUFS: i32 = 42;
const E_NOENT: i32 = 44;
const E_NOSYS: i32 = 52;
const E_NOTDIR: i32 = 54;
const E_NOTSUP: i32 = 58;
const E_PERM: i32 = 63;
const E_SPIPE: i32 = 70;
const E_NOTCAPABLE: i32 = 76;

// Rights bits (preview1).
const FD_DATASYNC: u64 = 1 << 0;
const FD_READ: u64 = 1 << 1;
const FD_SEEK: u64 = 1 << 2;
const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
const FD_SYNC: u64 = 1 << 4;
const FD_TELL: u64 = 1 << 5;
const FD_WRITE: u64 = 1 << 6;
const FD_ADVISE: u64 = 1 << 7;
const FD_ALLOCATE: u64 = 1 << 8;
const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
const PATH_CREATE_FILE: u64 = 1 << 10;
const PATH_LINK_SOURCE: u64 = 1 << 11;
const PATH_LINK_TARGET: u64 = 1 << 12;
const PATH_OPEN: u64 = 1 << 13;
const FD_READDIR: u64 = 1 << 14;
const PATH_READLINK: u64 = 1 << 15;
const PATH_RENAME_SOURCE: u64 = 1 << 16;
const PATH_RENAME_TARGET: u64 = 1 << 17;
const PATH_FILESTAT_GET: u64 = 1 << 18;
const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
const FD_FILESTAT_GET: u64 = 1 << 21;
const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
const PATH_SYMLINK: u64 = 1 << 24;
const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
const PATH_UNLINK_FILE: u64 = 1 << 26;
const POLL_FD_READWRITE: u64 = 1 << 27;
const READ_RIGHTS: u64 = FD_READ | FD_READDIR;
const WRITE_RIGHTS: u64 = FD_DATASYNC | FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE;
const RIGHTS_30: u64 = (1 << 30) - 1;

const FDFLAG_APPEND: u32 = 1;
const ALL_FDFLAGS: u32 = 31;
const OFLAG_CREAT: u32 = 1;
const OFLAG_DIRECTORY: u32 = 2;
const FOLLOW: u32 = 1;

// The preview1 functions, each its name and core signature ("i" i32, "I" i64; the result is
// always one i32 errno, except proc_exit's none). call() switches on the index in this list.
const FUNCS: string[] = [
  "args_get(ii)", "args_sizes_get(ii)", "environ_get(ii)", "environ_sizes_get(ii)",
  "clock_res_get(ii)", "clock_time_get(iIi)", "fd_advise(iIIi)", "fd_allocate(iII)", "fd_close(i)",
  "fd_datasync(i)", "fd_fdstat_get(ii)", "fd_fdstat_set_flags(ii)", "fd_fdstat_set_rights(iII)",
  "fd_filestat_get(ii)", "fd_filestat_set_size(iI)", "fd_filestat_set_times(iIIi)",
  "fd_pread(iiiIi)", "fd_prestat_get(ii)", "fd_prestat_dir_name(iii)", "fd_pwrite(iiiIi)",
  "fd_read(iiii)", "fd_readdir(iiiIi)", "fd_renumber(ii)", "fd_seek(iIii)", "fd_sync(i)",
  "fd_tell(ii)", "fd_write(iiii)", "path_create_directory(iii)", "path_filestat_get(iiiii)",
  "path_filestat_set_times(iiiiIIi)", "path_link(iiiiiii)", "path_open(iiiiiIIii)",
  "path_readlink(iiiiii)", "path_remove_directory(iii)", "path_rename(iiiiii)",
  "path_symlink(iiiii)", "path_unlink_file(iii)", "poll_oneoff(iiii)", "proc_exit(i)",
  "proc_raise(i)", "sched_yield()", "random_get(ii)", "sock_accept(iii)", "sock_recv(iiiiii)",
  "sock_send(iiiii)", "sock_shutdown(ii)",
];
const NAMES: string[] = FUNCS.map<string>((f: string): string => f.substring(0, f.indexOf("(")));
const PARAMS: string[] = FUNCS.map<string>((f: string): string => f.substring(f.indexOf("(") + 1, f.length - 1));
const PROC_EXIT = 38;

// The index of preview1 function `name`, or -1.
export function functionIndex(name: string): i32 {
  return NAMES.indexOf(name);
}

// Whether a function type (value-type bytes) is the one preview1 gives function `index`.
export function typeMatches(index: i32, params: u8[], results: u8[]): bool {
  const want = unchecked(PARAMS[index]);
  if (params.length != want.length || results.length != (index == PROC_EXIT ? 0 : 1)) return false;
  for (let i = 0; i < want.length; i++) {
    if (unchecked(params[i]) != (want.charCodeAt(i) == 0x49 ? 0x7e : 0x7f)) return false;
  }
  return results.length == 0 || unchecked(results[0]) == 0x7f;
}


// ── the context ──────────────────────────────────────────────────────────────────────────
let st: State = new State();
// Guest monotonic time = the runtime's + this (non-zero after a restore elsewhere).
let monotonicOffset: u64 = 0;
// Where guest memory is for the call being served.
let base: usize = 0;
let size: usize = 0;
export let exitCode: u32 = 0;

export function bind(state: State): void {
  st = state;
  monotonicOffset = state.hasClock ? state.monotonicNs - H.monotonicNow() : 0;
}

export function guestMonotonic(): u64 {
  return H.monotonicNow() + monotonicOffset;
}

// Scratch for rewritten iovecs and runtime results; grown on demand.
let iovScratch: usize = heap.alloc(64 * 8);
let iovCap: u32 = 64;

function inb(p: u32, n: u64): bool {
  return <u64>p + n <= <u64>size;
}

function g(p: u32): usize {
  return base + <usize>p;
}

// Rewrites the guest's `n` iovecs at `ptr` into VM addresses; their total, or -1 (a bad pointer).
function iovecs(ptr: u32, n: u32): i64 {
  if (!inb(ptr, <u64>n * 8)) return -1;
  if (n > iovCap) {
    heap.free(iovScratch);
    iovCap = n;
    iovScratch = heap.alloc(<usize>n * 8);
  }
  let total: i64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const buf = load<u32>(g(ptr + i * 8));
    const len = load<u32>(g(ptr + i * 8 + 4));
    if (!inb(buf, len)) return -1;
    store<u32>(iovScratch + i * 8, <u32>g(buf));
    store<u32>(iovScratch + i * 8 + 4, len);
    total += len;
  }
  return total;
}

function putU32(p: u32, v: u32): i32 {
  if (!inb(p, 4)) return E_FAULT;
  store<u32>(g(p), v);
  return SUCCESS;
}

function putU64(p: u32, v: u64): i32 {
  if (!inb(p, 8)) return E_FAULT;
  store<u64>(g(p), v);
  return SUCCESS;
}

// The guest's bytes [p, p + n) as a string (a path or a link's text); null with lastErrno EFAULT,
// EILSEQ when they are not UTF-8 (as the TypeScript WASI's fatal decoder says) or EINVAL for a NUL.
function guestString(p: u32, n: u32): string | null {
  if (!inb(p, n)) {
    lastErrno = E_FAULT;
    return null;
  }
  if (!validUtf8(g(p), n)) {
    lastErrno = E_ILSEQ;
    return null;
  }
  const s = String.UTF8.decodeUnsafe(g(p), n);
  if (s.includes("\0")) {
    lastErrno = E_INVAL;
    return null;
  }
  return s;
}

// WHATWG's UTF-8 decoder without replacement: no overlong forms, surrogates or code points past U+10FFFF.
function validUtf8(at: usize, n: u32): bool {
  const end = at + <usize>n;
  while (at < end) {
    const b0 = <u32>load<u8>(at);
    if (b0 < 0x80) {
      at++;
      continue;
    }
    let need: u32;
    let lo: u32 = 0x80;
    let hi: u32 = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 == 0xe0) lo = 0xa0;
      else if (b0 == 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 == 0xf0) lo = 0x90;
      else if (b0 == 0xf4) hi = 0x8f;
    } else return false;
    if (<usize>need >= end - at) return false;
    for (let k: u32 = 1; k <= need; k++) {
      const b = <u32>load<u8>(at + <usize>k);
      if (b < lo || b > hi) return false;
      lo = 0x80;
      hi = 0xbf;
    }
    at += <usize>need + 1;
  }
  return true;
}

let lastErrno: i32 = 0;

function entry(fd: u32, rights: u64): Fd | null {
  if (!st.fds.has(fd)) {
    lastErrno = E_BADF;
    return null;
  }
  const e = st.fds.get(fd);
  if ((e.rightsBase & rights) != rights) {
    lastErrno = E_NOTCAPABLE;
    return null;
  }
  return e;
}

function preopenOf(e: Fd): Preopen {
  return unchecked(st.preopens[e.preopen]);
}

// The runtime's path of `rel` (relative to the preopen's root) and its directory fd.
function outerPath(p: Preopen, rel: string): string {
  if (p.outerRel == ".") return rel == "" ? "." : rel;
  return rel == "" ? p.outerRel : p.outerRel + "/" + rel;
}

function outerRights(rights: u64, isDir: bool): u64 {
  const read = (rights & READ_RIGHTS) != 0 || (rights & WRITE_RIGHTS) == 0;
  const write = (rights & WRITE_RIGHTS) != 0;
  let r = H.ALL_RIGHTS & ~(READ_RIGHTS | WRITE_RIGHTS);
  if (read) r |= isDir ? FD_READDIR : FD_READ;
  if (write && !isDir) r |= WRITE_RIGHTS;
  return r;
}

// The runtime's descriptor for a file or directory entry (opened from its path on first use);
// -1 with lastErrno set when it cannot be opened (a file removed since the snapshot: ENOENT).
function outerFd(e: Fd): i32 {
  if (e.outer >= 0) return e.outer;
  const p = preopenOf(e);
  const isDir = e.kind != KIND_FILE;
  const fd = H.openAt(p.outerDir, outerPath(p, e.path), isDir ? OFLAG_DIRECTORY : 0, true, outerRights(e.rightsBase, isDir));
  if (fd < 0) {
    lastErrno = -1 - fd;
    return -1;
  }
  e.outer = fd;
  return fd;
}

// ── the sandbox ──────────────────────────────────────────────────────────────────────────
// A guest path under directory entry `dir`, resolved to a path relative to the preopen's root:
// lexically (no absolute paths, `..` not above the directory fd), then through every symlink,
// whose text is resolved the same way and may not leave the preopen. null with lastErrno set.
function resolve(dir: Fd, path: string, follow: bool): string | null {
  if (path == "") {
    lastErrno = E_NOENT;
    return null;
  }
  if (path.startsWith("/")) {
    lastErrno = E_NOTCAPABLE;
    return null;
  }
  const p = preopenOf(dir);
  const out: string[] = dir.path == "" ? [] : dir.path.split("/");
  let floor = out.length;
  const pending = path.split("/").reverse();
  let hops = 0;
  while (pending.length > 0) {
    const seg = pending.pop();
    if (seg == "" || seg == ".") continue;
    if (seg == "..") {
      if (out.length <= floor) {
        lastErrno = E_NOTCAPABLE;
        return null;
      }
      out.pop();
      continue;
    }
    out.push(seg);
    const last = pending.every((s: string): bool => s == "" || s == ".");
    if (last && !follow && !path.endsWith("/")) continue;
    const rel = H.utf8(outerPath(p, out.join("/")));
    if (H.path_filestat_get(p.outerDir, 0, changetype<usize>(rel), <u32>rel.byteLength, H.scratch) != 0) continue;
    if (load<u8>(H.scratch, 16) != H.FILETYPE_SYMBOLIC_LINK) continue;
    if (++hops > 40) {
      lastErrno = E_LOOP;
      return null;
    }
    const buf = heap.alloc(4096);
    const e = H.path_readlink(p.outerDir, changetype<usize>(rel), <u32>rel.byteLength, buf, 4096, H.scratch);
    const target = e == 0 ? String.UTF8.decodeUnsafe(buf, load<u32>(H.scratch)) : "";
    heap.free(buf);
    if (e != 0 || target.startsWith("/")) {
      lastErrno = e != 0 ? <i32>e : E_NOTCAPABLE;
      return null;
    }
    out.pop();
    // A link's target may climb to the preopen's root, never above it.
    floor = 0;
    const more = target.split("/");
    for (let i = more.length - 1; i >= 0; i--) pending.push(unchecked(more[i]));
  }
  return out.join("/");
}

// The directory entry `fd` (holding `rights`) and the resolved guest path at (ptr, len).
let atDir: Fd = new Fd();
function at(fd: u32, rights: u64, ptr: u32, len: u32, follow: bool): string | null {
  const d = entry(fd, rights);
  if (d === null) return null;
  if (d.kind != KIND_PREOPEN && d.kind != KIND_DIR) {
    lastErrno = E_NOTDIR;
    return null;
  }
  const path = guestString(ptr, len);
  if (path === null) return null;
  atDir = d;
  return resolve(d, path, follow);
}

// Calls the runtime's path function `op` on the resolved path `rel`.
function onPath(rel: string, errnoIfSelf: i32, op: (dir: u32, p: usize, n: u32) => u16): i32 {
  if (rel == "" && errnoIfSelf != 0) return errnoIfSelf;
  const p = preopenOf(atDir);
  const b = H.utf8(outerPath(p, rel));
  return op(p.outerDir, changetype<usize>(b), <u32>b.byteLength);
}

// ── string tables (args, environ) ────────────────────────────────────────────────────────
function tableSizes(list: string[], countPtr: u32, sizePtr: u32): i32 {
  let bytes: u32 = 0;
  for (let i = 0; i < list.length; i++) bytes += <u32>String.UTF8.byteLength(unchecked(list[i])) + 1;
  const e = putU32(countPtr, list.length);
  return e != 0 ? e : putU32(sizePtr, bytes);
}

// Entry by entry, as the TypeScript WASI writes them: an empty list touches nothing.
function tableWrite(list: string[], ptrs: u32, buf: u32): i32 {
  let at = buf;
  for (let i = 0; i < list.length; i++) {
    const b = H.utf8(unchecked(list[i]));
    const n = <u32>b.byteLength;
    const entry = <u64>ptrs + <u64>i * 4;
    if (entry > <u64>0xffffffff || !inb(<u32>entry, 4)) return E_FAULT;
    store<u32>(g(<u32>entry), at);
    if (!inb(at, <u64>n + 1)) return E_FAULT;
    memory.copy(g(at), changetype<usize>(b), n);
    store<u8>(g(at + n), 0);
    at += n + 1;
  }
  return SUCCESS;
}

// ── clocks ───────────────────────────────────────────────────────────────────────────────
let clockErrno: i32 = 0;
function clockNow(id: u32): u64 {
  clockErrno = 0;
  if (id == 1) return guestMonotonic();
  if (id > 3) {
    clockErrno = E_INVAL;
    return 0;
  }
  const e = H.clock_time_get(id, 1, H.scratch);
  if (e == 0) return load<u64>(H.scratch);
  if (id >= 2) return H.monotonicNow() - startedAt; // no CPU-time clock: the time this process has run
  clockErrno = e;
  return 0;
}

// The CPU-time clocks where the runtime has none (Wasmtime): the time since this process began,
// their bound from above.
const startedAt: u64 = H.monotonicNow();

// ── calls ────────────────────────────────────────────────────────────────────────────────
// Serves function `index` with its arguments in the io cells at `io`, guest memory at
// [memBase, memBase + memSize). The errno to return, or -1 when the guest called proc_exit
// (exitCode holds its code).
export function call(index: i32, io: usize, memBase: usize, memSize: usize): i32 {
  base = memBase;
  size = memSize;
  lastErrno = 0;
  const a0 = load<u32>(io);
  const a1 = load<u32>(io, 8);
  const a2 = load<u32>(io, 16);
  const a3 = load<u32>(io, 24);
  const a4 = load<u32>(io, 32);
  switch (index) {
    case 0: return tableWrite(st.args, a0, a1);
    case 1: return tableSizes(st.args, a0, a1);
    case 2: return tableWrite(st.env, a0, a1);
    case 3: return tableSizes(st.env, a0, a1);
    case 4: { // clock_res_get
      if (a0 == 1) return putU64(a1, 1);
      if (a0 > 3) return E_INVAL;
      let e = H.clock_res_get(a0, H.scratch);
      if (e != 0 && a0 >= 2) e = H.clock_res_get(1, H.scratch);
      return e != 0 ? <i32>e : putU64(a1, load<u64>(H.scratch));
    }
    case 5: { // clock_time_get
      const t = clockNow(a0);
      return clockErrno != 0 ? clockErrno : putU64(load<u32>(io, 16), t);
    }
    case 6: { // fd_advise
      const e = entry(a0, FD_ADVISE);
      if (e === null) return lastErrno;
      return <i64>load<u64>(io, 8) < 0 || <i64>load<u64>(io, 16) < 0 || load<u32>(io, 24) > 5 ? E_INVAL : SUCCESS;
    }
    case 7: { // fd_allocate
      const e = entry(a0, FD_ALLOCATE);
      if (e === null) return lastErrno;
      if (e.kind != KIND_FILE) return e.kind == KIND_STDIO ? E_SPIPE : E_ISDIR;
      const off = <i64>load<u64>(io, 8);
      const len = <i64>load<u64>(io, 16);
      if (off < 0 || len <= 0) return E_INVAL;
      const fd = outerFd(e);
      if (fd < 0) return lastErrno;
      if (<u64>(off + len) > H.fileSize(fd)) return H.fd_filestat_set_size(fd, <u64>(off + len));
      return SUCCESS;
    }
    case 8: { // fd_close
      const e = entry(a0, 0);
      if (e === null) return lastErrno;
      if (e.outer >= 0) H.fd_close(e.outer);
      st.fds.delete(a0);
      listings.delete(a0);
      return SUCCESS;
    }
    case 9: case 24: { // fd_datasync, fd_sync
      const e = entry(a0, index == 9 ? FD_DATASYNC : FD_SYNC);
      if (e === null) return lastErrno;
      if (e.kind != KIND_FILE) return SUCCESS;
      const fd = outerFd(e);
      if (fd < 0) return lastErrno;
      return index == 9 ? H.fd_datasync(fd) : H.fd_sync(fd);
    }
    case 10: { // fd_fdstat_get
      const e = entry(a0, 0);
      if (e === null) return lastErrno;
      if (!inb(a1, 24)) return E_FAULT;
      const p = g(a1);
      store<u64>(p, 0);
      store<u8>(p, e.filetype);
      store<u16>(p, <u16>e.fdflags, 2);
      store<u64>(p, e.rightsBase, 8);
      store<u64>(p, e.rightsInheriting, 16);
      return SUCCESS;
    }
    case 11: { // fd_fdstat_set_flags
      const e = entry(a0, FD_FDSTAT_SET_FLAGS);
      if (e === null) return lastErrno;
      if ((a1 & ~ALL_FDFLAGS) != 0) return E_INVAL;
      e.fdflags = a1;
      return SUCCESS;
    }
    case 12: { // fd_fdstat_set_rights: rights can only be dropped
      const e = entry(a0, 0);
      if (e === null) return lastErrno;
      const b = load<u64>(io, 8) & 0xffffffff;
      const i = load<u64>(io, 16) & 0xffffffff;
      if ((b & ~e.rightsBase) != 0 || (i & ~e.rightsInheriting) != 0) return E_NOTCAPABLE;
      e.rightsBase = b;
      e.rightsInheriting = i;
      return SUCCESS;
    }
    case 13: { // fd_filestat_get
      const e = entry(a0, FD_FILESTAT_GET);
      if (e === null) return lastErrno;
      if (e.kind == KIND_STDIO) {
        if (!inb(a1, 64)) return E_FAULT;
        memory.fill(g(a1), 0, 64);
        store<u8>(g(a1), e.filetype, 16);
        store<u64>(g(a1), 1, 24);
        return SUCCESS;
      }
      const fd = outerFd(e);
      if (fd < 0) return lastErrno;
      return statInto(a1, H.fd_filestat_get(fd, H.scratch));
    }
    case 14: { // fd_filestat_set_size
      const e = entry(a0, FD_FILESTAT_SET_SIZE);
      if (e === null) return lastErrno;
      if (e.kind != KIND_FILE) return e.kind == KIND_STDIO ? E_SPIPE : E_ISDIR;
      if (<i64>load<u64>(io, 8) < 0) return E_INVAL;
      const fd = outerFd(e);
      return fd < 0 ? lastErrno : H.fd_filestat_set_size(fd, load<u64>(io, 8));
    }
    case 15: { // fd_filestat_set_times
      const e = entry(a0, FD_FILESTAT_SET_TIMES);
      if (e === null) return lastErrno;
      if (e.kind == KIND_STDIO) return E_NOTSUP;
      if (badTimes(load<u32>(io, 24))) return E_INVAL;
      const fd = outerFd(e);
      return fd < 0 ? lastErrno : H.fd_filestat_set_times(fd, load<u64>(io, 8), load<u64>(io, 16), load<u32>(io, 24));
    }
    case 16: case 19: { // fd_pread, fd_pwrite
      const write = index == 19;
      const e = entry(a0, (write ? FD_WRITE : FD_READ) | FD_SEEK);
      if (e === null) return lastErrno;
      const off = <i64>load<u64>(io, 24);
      if (off < 0) return E_INVAL;
      const total = iovecs(a1, a2);
      if (total < 0) return E_FAULT;
      if (!write && total == 0) return putU32(load<u32>(io, 32), 0);
      if (e.kind == KIND_STDIO) return E_SPIPE;
      if (e.kind != KIND_FILE) return E_ISDIR;
      const fd = outerFd(e);
      if (fd < 0) return lastErrno;
      const r = moveAll(write ? MOVE_PWRITE : MOVE_PREAD, fd, a2, <u64>off);
      return r != 0 ? r : putU32(load<u32>(io, 32), moved);
    }
    case 17: { // fd_prestat_get
      const e = entry(a0, 0);
      if (e === null) return lastErrno;
      if (e.kind != KIND_PREOPEN) return E_BADF;
      if (!inb(a1, 8)) return E_FAULT;
      store<u32>(g(a1), 0);
      store<u32>(g(a1), <u32>String.UTF8.byteLength(preopenOf(e).guestPath), 4);
      return SUCCESS;
    }
    case 18: { // fd_prestat_dir_name
      const e = entry(a0, 0);
      if (e === null) return lastErrno;
      if (e.kind != KIND_PREOPEN) return E_BADF;
      const name = H.utf8(preopenOf(e).guestPath);
      if (a2 < <u32>name.byteLength) return E_NOBUFS;
      if (!inb(a1, name.byteLength)) return E_FAULT;
      memory.copy(g(a1), changetype<usize>(name), name.byteLength);
      return SUCCESS;
    }
    case 20: case 26: return readWrite(index == 26, a0, a1, a2, a3);
    case 21: { // fd_readdir
      const e = entry(a0, FD_READDIR);
      if (e === null) return lastErrno;
      if (e.kind == KIND_STDIO || e.kind == KIND_FILE) return E_NOTDIR;
      if (!inb(a1, a2)) return E_FAULT;
      const cookie = load<u64>(io, 24);
      let list = cookie != 0 && listings.has(a0) ? listings.get(a0) : null;
      if (list === null) {
        const fd = outerFd(e);
        if (fd < 0) return lastErrno;
        list = listing(<u32>fd);
        if (list === null) return lastErrno;
        listings.set(a0, list);
      }
      let used: u32 = 0;
      for (let i = cookie; i < <u64>list.length && used < a2; i++) {
        const d = unchecked(list[<i32>i]);
        const n = <u32>d.name.byteLength;
        const one = heap.alloc(24 + n);
        store<u64>(one, i + 1);
        store<u64>(one, 0, 8);
        store<u32>(one, n, 16);
        store<u32>(one, d.type, 20);
        memory.copy(one + 24, changetype<usize>(d.name), n);
        const k = min(24 + n, a2 - used);
        memory.copy(g(a1 + used), one, k);
        heap.free(one);
        used += k;
      }
      return putU32(a4, used);
    }
    case 22: { // fd_renumber
      const from = entry(a0, 0);
      if (from === null) return lastErrno;
      const to = entry(a1, 0);
      if (to === null) return lastErrno;
      if (a0 == a1) return SUCCESS;
      if (to.outer >= 0) H.fd_close(to.outer);
      st.fds.set(a1, from);
      st.fds.delete(a0);
      if (listings.has(a0)) listings.set(a1, listings.get(a0));
      else listings.delete(a1);
      listings.delete(a0);
      return SUCCESS;
    }
    case 23: { // fd_seek
      const delta = <i64>load<u64>(io, 8);
      const whence = load<u32>(io, 16);
      const e = entry(a0, delta == 0 && whence == 1 ? FD_TELL : FD_SEEK);
      if (e === null) return lastErrno;
      if (e.kind == KIND_STDIO) return E_SPIPE;
      if (e.kind != KIND_FILE) return E_ISDIR;
      let from: i64 = 0;
      if (whence == 1) from = <i64>e.offset;
      else if (whence == 2) {
        const fd = outerFd(e);
        if (fd < 0) return lastErrno;
        from = <i64>H.fileSize(fd);
      } else if (whence != 0) return E_INVAL;
      const next = from + delta;
      if (next < 0 || next > 9007199254740991) return E_INVAL;
      e.offset = <u64>next;
      return putU64(load<u32>(io, 24), <u64>next);
    }
    case 25: { // fd_tell
      const e = entry(a0, FD_TELL);
      if (e === null) return lastErrno;
      if (e.kind == KIND_STDIO) return E_SPIPE;
      if (e.kind != KIND_FILE) return E_ISDIR;
      return putU64(a1, e.offset);
    }
    case 27: { // path_create_directory
      const rel = at(a0, PATH_CREATE_DIRECTORY, a1, a2, false);
      return rel === null ? lastErrno : onPath(rel, E_EXIST, (d: u32, p: usize, n: u32): u16 => H.path_create_directory(d, p, n));
    }
    case 28: { // path_filestat_get
      const follow = (a1 & FOLLOW) != 0;
      const rel = at(a0, PATH_FILESTAT_GET, a2, a3, follow);
      if (rel === null) return lastErrno;
      statFollow = follow ? 1 : 0;
      return statInto(a4, <u16>onPath(rel, 0, (d: u32, p: usize, n: u32): u16 => H.path_filestat_get(d, statFollow, p, n, H.scratch)));
    }
    case 29: { // path_filestat_set_times
      const follow = (a1 & FOLLOW) != 0;
      const rel = at(a0, PATH_FILESTAT_SET_TIMES, a2, a3, follow);
      if (rel === null) return lastErrno;
      statFollow = follow ? 1 : 0;
      timesA = load<u64>(io, 32);
      timesM = load<u64>(io, 40);
      timesF = load<u32>(io, 48);
      if (badTimes(timesF)) return E_INVAL;
      return onPath(rel, 0, (d: u32, p: usize, n: u32): u16 => H.path_filestat_set_times(d, statFollow, p, n, timesA, timesM, timesF));
    }
    case 30: return twoPaths(index, io);
    case 31: return pathOpen(io);
    case 32: { // path_readlink
      const rel = at(a0, PATH_READLINK, a1, a2, false);
      if (rel === null) return lastErrno;
      if (rel == "") return E_INVAL;
      const p = preopenOf(atDir);
      const b = H.utf8(outerPath(p, rel));
      const buf = heap.alloc(4096);
      const r = H.path_readlink(p.outerDir, changetype<usize>(b), <u32>b.byteLength, buf, 4096, H.scratch);
      const n = load<u32>(H.scratch);
      let out = <i32>r;
      if (r == 0) {
        if (n > a4) out = E_NOBUFS;
        else if (!inb(a3, n)) out = E_FAULT;
        else {
          memory.copy(g(a3), buf, n);
          out = putU32(load<u32>(io, 40), n);
        }
      }
      heap.free(buf);
      return out;
    }
    case 33: { // path_remove_directory
      const rel = at(a0, PATH_REMOVE_DIRECTORY, a1, a2, false);
      return rel === null ? lastErrno : onPath(rel, E_INVAL, (d: u32, p: usize, n: u32): u16 => H.path_remove_directory(d, p, n));
    }
    case 34: return twoPaths(index, io);
    case 35: { // path_symlink: the link's text is stored as given; it is checked when used
      const target = guestString(a0, a1);
      if (target === null) return lastErrno;
      const rel = at(a2, PATH_SYMLINK, a3, a4, false);
      if (rel === null) return lastErrno;
      linkText = H.utf8(target);
      return onPath(rel, E_EXIST, (d: u32, p: usize, n: u32): u16 => H.path_symlink(changetype<usize>(linkText), <u32>linkText.byteLength, d, p, n));
    }
    case 36: { // path_unlink_file
      const rel = at(a0, PATH_UNLINK_FILE, a1, a2, false);
      return rel === null ? lastErrno : onPath(rel, E_ISDIR, (d: u32, p: usize, n: u32): u16 => H.path_unlink_file(d, p, n));
    }
    case 37: return poll(a0, a1, a2, a3);
    case 38: // proc_exit
      exitCode = a0;
      return -1;
    case 40: return SUCCESS; // sched_yield
    case 41: { // random_get
      if (!inb(a0, a1)) return E_FAULT;
      return a1 == 0 ? SUCCESS : <i32>H.random_get(g(a0), a1);
    }
    case 39: return E_NOSYS; // proc_raise: nobody to signal
    default: return E_NOTSUP; // sockets: a guest here has none, as under node:wasi
  }
}

// A filestat the runtime wrote to the aligned scratch (runtimes trap on a struct pointer that is
// not aligned; a guest's may be anything), copied to the guest once the stat has succeeded.
function statInto(ptr: u32, r: u16): i32 {
  if (r != 0) return <i32>r;
  if (!inb(ptr, 64)) return E_FAULT;
  memory.copy(g(ptr), H.scratch, 64);
  return SUCCESS;
}

// fstflags the runtime would not take (some trap on unknown bits): unknown bits, or a time both given and now.
function badTimes(f: u32): bool {
  return (f & ~15) != 0 || (f & 3) == 3 || (f & 12) == 12;
}

// Listings of directory fds, taken whole from the runtime at cookie 0 and served from there as
// the TypeScript WASI serves them: cookie n continues after the n-th entry, d_ino 0, no "." or
// "..". Runtimes differ in all three (cookies are theirs to choose), and a listing must read the
// same on every runtime a guest moves to.
class Dirent {
  constructor(public name: ArrayBuffer, public type: u8) {}
}
const listings = new Map<u32, Dirent[]>();

function listing(outer: u32): Dirent[] | null {
  const out: Dirent[] = [];
  let cap: u32 = 4096;
  let buf = heap.alloc(cap);
  let cookie: u64 = 0;
  for (;;) {
    const r = H.fd_readdir(outer, buf, cap, cookie, H.scratch);
    if (r != 0) {
      heap.free(buf);
      lastErrno = r;
      return null;
    }
    const used = load<u32>(H.scratch);
    let at: u32 = 0;
    let whole = false;
    while (at + 24 <= used) {
      const n = load<u32>(buf + at, 16);
      if (<u64>at + 24 + <u64>n > <u64>used) break; // cut off: read again from its cookie
      const name = buf + at + 24;
      const dots = (n == 1 && load<u8>(name) == 0x2e) || (n == 2 && load<u16>(name) == 0x2e2e);
      if (!dots) {
        const copy = new ArrayBuffer(n);
        memory.copy(changetype<usize>(copy), name, n);
        out.push(new Dirent(copy, load<u8>(buf + at, 20)));
      }
      cookie = load<u64>(buf + at);
      at += 24 + n;
      whole = true;
    }
    if (used < cap) break; // the rest fitted: the end of the directory
    if (!whole) {
      cap *= 2;
      heap.free(buf);
      buf = heap.alloc(cap);
    }
  }
  heap.free(buf);
  return out;
}

// Arguments the path closures read (closures in AssemblyScript capture no locals).
let statFollow: u32 = 0;
let timesA: u64 = 0;
let timesM: u64 = 0;
let timesF: u32 = 0;
let linkText: ArrayBuffer = new ArrayBuffer(0);

// Runtimes may move fewer bytes than asked (Wasmtime takes the first iovec only). Files and output
// move whole, as in the TypeScript WASI: the call is repeated on what is left, one iovec at a
// time, until a read comes back short. The count is in `moved`; an error after some bytes moved
// ends the call with those.
const MOVE_WRITE = 0;
const MOVE_PWRITE = 1;
const MOVE_PREAD = 2;
let moved: u32 = 0;
function moveAll(how: i32, fd: u32, n: u32, off: u64): i32 {
  moved = 0;
  const one = H.scratch + 16;
  for (let i: u32 = 0; i < n; i++) {
    let ptr = load<u32>(iovScratch + i * 8);
    let len = load<u32>(iovScratch + i * 8 + 4);
    while (len > 0) {
      store<u32>(one, ptr);
      store<u32>(one, len, 4);
      const at = off + <u64>moved;
      const r = how == MOVE_WRITE ? H.fd_write(fd, one, 1, H.scratch) : how == MOVE_PWRITE ? H.fd_pwrite(fd, one, 1, at, H.scratch) : H.fd_pread(fd, one, 1, at, H.scratch);
      if (r != 0) return moved > 0 ? SUCCESS : <i32>r;
      const got = load<u32>(H.scratch);
      moved += got;
      if (got == 0 || (how == MOVE_PREAD && got < len)) return SUCCESS;
      ptr += got;
      len -= got;
    }
  }
  return SUCCESS;
}

function readWrite(write: bool, fd: u32, iovs: u32, n: u32, donePtr: u32): i32 {
  const e = entry(fd, write ? FD_WRITE : FD_READ);
  if (e === null) return lastErrno;
  const total = iovecs(iovs, n);
  if (total < 0) return E_FAULT;
  // An empty read reads nothing from any fd, as in the TypeScript WASI.
  if (!write && total == 0) return putU32(donePtr, 0);
  let r: u16 = 0;
  if (e.kind == KIND_STDIO) {
    if ((e.stream == 0) == write) return E_BADF;
    if (write) {
      const w = moveAll(MOVE_WRITE, e.stream, n, 0);
      return w != 0 ? w : putU32(donePtr, moved);
    }
    r = H.fd_read(0, iovScratch, n, H.scratch);
  } else {
    if (e.kind != KIND_FILE) return E_ISDIR;
    const o = outerFd(e);
    if (o < 0) return lastErrno;
    // O_APPEND is the state's flag: each write lands at the current end.
    const append = write && (e.fdflags & FDFLAG_APPEND) != 0;
    const off = append ? H.fileSize(o) : e.offset;
    const m = moveAll(write ? MOVE_PWRITE : MOVE_PREAD, o, n, off);
    if (m != 0) return m;
    const done = moved;
    e.offset = append ? H.fileSize(o) : e.offset + <u64>done;
    return putU32(donePtr, done);
  }
  return r != 0 ? <i32>r : putU32(donePtr, load<u32>(H.scratch));
}

function pathOpen(io: usize): i32 {
  const fd = load<u32>(io);
  const dirflags = load<u32>(io, 8);
  const oflags = load<u32>(io, 32);
  const wantedBase = load<u64>(io, 40);
  const wantedInh = load<u64>(io, 48);
  const fdflags = load<u32>(io, 56);
  const fdPtr = load<u32>(io, 64);
  const follow = (dirflags & FOLLOW) != 0;
  const rel = at(fd, PATH_OPEN | ((oflags & OFLAG_CREAT) != 0 ? PATH_CREATE_FILE : 0), load<u32>(io, 16), load<u32>(io, 24), follow);
  if (rel === null) return lastErrno;
  const dir = atDir;
  // A directory passes on only the rights it may (uvwasi refuses to widen them, and so do we).
  if (((wantedBase | wantedInh) & ~dir.rightsInheriting) != 0) return E_NOTCAPABLE;
  const wanted = wantedBase & RIGHTS_30;
  const write = (wanted & WRITE_RIGHTS) != 0;
  const read = (wanted & READ_RIGHTS) != 0 || !write;
  const p = preopenOf(dir);
  const b = H.utf8(outerPath(p, rel));
  const isDirWanted = (oflags & OFLAG_DIRECTORY) != 0;
  if (!inb(fdPtr, 4)) return E_FAULT; // before the open: a call that fails leaves no fd behind
  const r = H.path_open(p.outerDir, follow ? 1 : 0, changetype<usize>(b), <u32>b.byteLength, oflags & 15,
    outerRights(wanted, isDirWanted), 0, 0, H.scratch);
  if (r != 0) return <i32>r;
  const outer = load<u32>(H.scratch);
  const filetype: u8 = H.fd_filestat_get(outer, H.scratch) == 0 ? load<u8>(H.scratch, 16) : 0;
  const isDir = filetype == H.FILETYPE_DIRECTORY;
  let maxBase = isDir ? DIRECTORY_RIGHTS : REGULAR_FILE_RIGHTS;
  if (!read) maxBase &= ~READ_RIGHTS;
  if (!write) maxBase &= ~WRITE_RIGHTS;
  const e = new Fd();
  e.kind = isDir ? KIND_DIR : KIND_FILE;
  e.preopen = dir.preopen;
  e.path = rel;
  e.filetype = filetype;
  e.fdflags = fdflags;
  e.rightsBase = wanted & maxBase;
  e.rightsInheriting = (wantedInh & RIGHTS_30) & (isDir ? DIRECTORY_INHERITING : 0);
  e.outer = <i32>outer;
  const n = st.lowestFreeFd();
  store<u32>(g(fdPtr), n);
  st.fds.set(n, e);
  return SUCCESS;
}

let cells: usize = 0;
function c(k: i32): u32 {
  return load<u32>(cells + (<usize>k << 3));
}

// path_link (30) and path_rename (34): two resolved paths, possibly under two preopens.
function twoPaths(index: i32, io: usize): i32 {
  const link = index == 30;
  cells = io;
  const follow = link && (c(1) & FOLLOW) != 0;
  const k = link ? 1 : 0;
  const from = at(c(0), link ? PATH_LINK_SOURCE : PATH_RENAME_SOURCE, c(1 + k), c(2 + k), follow);
  if (from === null) return lastErrno;
  const p1 = preopenOf(atDir);
  const to = at(c(3 + k), link ? PATH_LINK_TARGET : PATH_RENAME_TARGET, c(4 + k), c(5 + k), false);
  if (to === null) return lastErrno;
  const p2 = preopenOf(atDir);
  if (from == "") return link ? E_PERM : E_BUSY;
  if (to == "") return link ? E_EXIST : E_BUSY;
  const a = H.utf8(outerPath(p1, from!));
  const b = H.utf8(outerPath(p2, to!));
  // Resolved here, through its final symlink when asked, so the runtime links what it names.
  if (link) return H.path_link(p1.outerDir, 0, changetype<usize>(a), <u32>a.byteLength, p2.outerDir, changetype<usize>(b), <u32>b.byteLength);
  return H.path_rename(p1.outerDir, changetype<usize>(a), <u32>a.byteLength, p2.outerDir, changetype<usize>(b), <u32>b.byteLength);
}

// poll_oneoff: files and the standard streams never block here, so fd subscriptions are ready
// at once; with none of those, it sleeps (the runtime's poll on one relative clock) until the
// earliest clock subscription is due.
function poll(inPtr: u32, outPtr: u32, nsubs: u32, neventsPtr: u32): i32 {
  if (nsubs == 0) return E_INVAL;
  if (!inb(inPtr, <u64>nsubs * 48) || !inb(outPtr, <u64>nsubs * 32)) return E_FAULT;
  pollOut = outPtr;
  pollCount = 0;
  const clocks: u32[] = [];
  const deadlines: u64[] = [];
  let first = -1;
  for (let i: u32 = 0; i < nsubs; i++) {
    const s = g(inPtr + i * 48);
    const userdata = load<u64>(s);
    const tag = load<u8>(s, 8);
    if (tag == 0) {
      const now = clockNow(load<u32>(s, 16));
      if (clockErrno != 0) {
        pollEvent(userdata, clockErrno, tag);
        continue;
      }
      const timeout = load<u64>(s, 24);
      const deadline = (load<u16>(s, 40) & 1) != 0 ? timeout : now + timeout;
      if (first < 0 || deadline < unchecked(deadlines[first])) first = clocks.length;
      clocks.push(i);
      deadlines.push(deadline);
    } else if (tag == 1 || tag == 2) {
      const e = entry(load<u32>(s, 16), POLL_FD_READWRITE);
      pollEvent(userdata, e === null ? lastErrno : 0, tag);
    } else pollEvent(userdata, E_INVAL, tag);
  }
  const sleep = pollCount == 0 && first >= 0;
  if (sleep) {
    const id = load<u32>(g(inPtr + unchecked(clocks[first]) * 48), 16);
    const now = clockNow(id);
    const due = unchecked(deadlines[first]);
    if (due > now) {
      const sub = heap.alloc(48 + 32);
      memory.fill(sub, 0, 80);
      store<u32>(sub, 1, 16);
      store<u64>(sub, due - now, 24);
      H.poll_oneoff(sub, sub + 48, 1, H.scratch);
      heap.free(sub);
    }
  }
  for (let k = 0; k < clocks.length; k++) {
    const s = g(inPtr + unchecked(clocks[k]) * 48);
    const now = clockNow(load<u32>(s, 16));
    if ((sleep && k == first) || now >= unchecked(deadlines[k])) pollEvent(load<u64>(s), 0, 0);
  }
  return putU32(neventsPtr, pollCount);
}

let pollOut: u32 = 0;
let pollCount: u32 = 0;
function pollEvent(userdata: u64, error: u32, type: u8): void {
  const e = g(pollOut + pollCount * 32);
  memory.fill(e, 0, 32);
  store<u64>(e, userdata);
  store<u16>(e, <u16>error, 8);
  store<u8>(e, type, 10);
  pollCount++;
}
