// The runtime this command runs on, through its own WASI preview1: the only imports of
// build/handover.wasm. Pointers passed here are addresses in this module's memory (the VM's),
// which is where guest memory lives too, so a guest buffer is passed on at its VM address.

@external("wasi_snapshot_preview1", "args_sizes_get") export declare function args_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "args_get") export declare function args_get(argv: usize, buf: usize): u16;
@external("wasi_snapshot_preview1", "environ_sizes_get") export declare function environ_sizes_get(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "environ_get") export declare function environ_get(env: usize, buf: usize): u16;
@external("wasi_snapshot_preview1", "clock_time_get") export declare function clock_time_get(id: u32, precision: u64, out: usize): u16;
@external("wasi_snapshot_preview1", "clock_res_get") export declare function clock_res_get(id: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "random_get") export declare function random_get(buf: usize, len: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit") export declare function proc_exit(code: u32): void;
@external("wasi_snapshot_preview1", "sched_yield") export declare function sched_yield(): u16;
@external("wasi_snapshot_preview1", "poll_oneoff") export declare function poll_oneoff(subs: usize, events: usize, n: u32, nevents: usize): u16;
@external("wasi_snapshot_preview1", "fd_read") export declare function fd_read(fd: u32, iovs: usize, n: u32, nread: usize): u16;
@external("wasi_snapshot_preview1", "fd_write") export declare function fd_write(fd: u32, iovs: usize, n: u32, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "fd_pread") export declare function fd_pread(fd: u32, iovs: usize, n: u32, offset: u64, nread: usize): u16;
@external("wasi_snapshot_preview1", "fd_pwrite") export declare function fd_pwrite(fd: u32, iovs: usize, n: u32, offset: u64, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "fd_close") export declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_sync") export declare function fd_sync(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_datasync") export declare function fd_datasync(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_fdstat_get") export declare function fd_fdstat_get(fd: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_filestat_get") export declare function fd_filestat_get(fd: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_filestat_set_size") export declare function fd_filestat_set_size(fd: u32, size: u64): u16;
@external("wasi_snapshot_preview1", "fd_filestat_set_times") export declare function fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get") export declare function fd_prestat_get(fd: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name") export declare function fd_prestat_dir_name(fd: u32, buf: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "fd_readdir") export declare function fd_readdir(fd: u32, buf: usize, len: u32, cookie: u64, used: usize): u16;
@external("wasi_snapshot_preview1", "path_open") export declare function path_open(
  fd: u32, dirflags: u32, path: usize, len: u32, oflags: u32, base: u64, inheriting: u64, fdflags: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "path_filestat_get") export declare function path_filestat_get(fd: u32, flags: u32, path: usize, len: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "path_filestat_set_times") export declare function path_filestat_set_times(
  fd: u32, flags: u32, path: usize, len: u32, atim: u64, mtim: u64, fst: u32): u16;
@external("wasi_snapshot_preview1", "path_create_directory") export declare function path_create_directory(fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_remove_directory") export declare function path_remove_directory(fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_unlink_file") export declare function path_unlink_file(fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_rename") export declare function path_rename(fd: u32, old: usize, oldLen: u32, newFd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_link") export declare function path_link(
  fd: u32, flags: u32, old: usize, oldLen: u32, newFd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_symlink") export declare function path_symlink(target: usize, targetLen: u32, fd: u32, path: usize, len: u32): u16;
@external("wasi_snapshot_preview1", "path_readlink") export declare function path_readlink(fd: u32, path: usize, len: u32, buf: usize, bufLen: u32, used: usize): u16;

export const ERRNO_BADF: u16 = 8;
export const ERRNO_NOENT: u16 = 44;

export const FILETYPE_CHARACTER_DEVICE: u8 = 2;
export const FILETYPE_DIRECTORY: u8 = 3;
export const FILETYPE_SYMBOLIC_LINK: u8 = 7;
// What a file or directory opened under a preopen may hold: uvwasi (node:wasi) refuses to open
// one with rights beyond these, the preopen's inheriting rights.
export const ALL_RIGHTS: u64 = 0xfbffe98 | 0x8e001ff;
export const OFLAGS_CREAT: u32 = 1;
export const OFLAGS_DIRECTORY: u32 = 2;
export const OFLAGS_TRUNC: u32 = 8;

// Scratch for results the runtime writes (sizes, fds, stat structs): never the guest's memory.
export const scratch: usize = heap.alloc(256);

// A UTF-8 copy of `s`, kept alive by the returned buffer.
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

export function writeAll(fd: u32, data: usize, len: usize): bool {
  while (len > 0) {
    store<u32>(scratch, <u32>data);
    store<u32>(scratch, <u32>len, 4);
    if (fd_write(fd, scratch, 1, scratch + 8) != 0) return false;
    const n = <usize>load<u32>(scratch, 8);
    if (n == 0) return false;
    data += n;
    len -= n;
  }
  return true;
}

export function print(fd: u32, s: string): void {
  const b = utf8(s);
  writeAll(fd, changetype<usize>(b), <usize>b.byteLength);
}

export function monotonicNow(): u64 {
  return clock_time_get(1, 1, scratch) == 0 ? load<u64>(scratch) : 0;
}

// The command line, as strings (argv[0] is the runtime's name for this module).
export function commandLine(): string[] {
  const out: string[] = [];
  if (args_sizes_get(scratch, scratch + 4) != 0) return out;
  const n = load<u32>(scratch);
  const size = load<u32>(scratch, 4);
  const ptrs = heap.alloc(<usize>n * 4 + 4);
  const buf = heap.alloc(<usize>size + 1);
  if (args_get(ptrs, buf) == 0) {
    for (let i: u32 = 0; i < n; i++) out.push(String.UTF8.decodeUnsafe(load<u32>(ptrs + i * 4), cstrlen(load<u32>(ptrs + i * 4))));
  }
  heap.free(ptrs);
  heap.free(buf);
  return out;
}

function cstrlen(p: usize): usize {
  let n: usize = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}

// ── the runtime's preopened directories ──────────────────────────────────────────────────
export class OuterDir {
  constructor(public fd: u32, public name: string) {}
}

let outerDirs: OuterDir[] | null = null;

export function outerPreopens(): OuterDir[] {
  if (outerDirs !== null) return outerDirs!;
  const dirs: OuterDir[] = [];
  for (let fd: u32 = 3; fd < 1024; fd++) {
    if (fd_prestat_get(fd, scratch) != 0) break;
    const len = load<u32>(scratch, 4);
    const buf = heap.alloc(<usize>len + 1);
    if (fd_prestat_dir_name(fd, buf, len) == 0) {
      let n = <usize>len;
      while (n > 0 && load<u8>(buf + n - 1) == 0) n--; // some runtimes count a NUL
      dirs.push(new OuterDir(fd, String.UTF8.decodeUnsafe(buf, n)));
    }
    heap.free(buf);
  }
  outerDirs = dirs;
  return dirs;
}

// `path` split into segments without "." and empty ones; null if ".." climbs above its start.
export function segments(path: string): string[] | null {
  const out: string[] = [];
  const parts = path.split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = unchecked(parts[i]);
    if (p == "" || p == ".") continue;
    if (p == "..") {
      if (out.length == 0) return null;
      out.pop();
    } else out.push(p);
  }
  return out;
}

// Where a path of the user's lies among the runtime's preopens: the outer directory fd and the
// path relative to it ("." for the directory itself), or null when no preopen holds it.
export class Located {
  constructor(public dir: u32, public rel: string) {}
}

export function locate(path: string): Located | null {
  const absolute = path.startsWith("/");
  const want = segments(path);
  if (want === null) return null;
  let best: Located | null = null;
  let bestLen = -1;
  const dirs = outerPreopens();
  for (let i = 0; i < dirs.length; i++) {
    const d = unchecked(dirs[i]);
    if (d.name.startsWith("/") != absolute) continue;
    const have = segments(d.name);
    if (have === null || have.length > want!.length || have.length <= bestLen) continue;
    let prefix = true;
    for (let k = 0; k < have.length && prefix; k++) prefix = unchecked(have[k]) == unchecked(want![k]);
    if (!prefix) continue;
    bestLen = have.length;
    const rest = want!.slice(have.length);
    best = new Located(d.fd, rest.length == 0 ? "." : rest.join("/"));
  }
  return best;
}

// Opens `rel` under the outer directory `dir`; the fd, or -1 - errno.
export function openAt(dir: u32, rel: string, oflags: u32, follow: bool, base: u64 = ALL_RIGHTS, fdflags: u32 = 0): i32 {
  const p = utf8(rel);
  const e = path_open(dir, follow ? 1 : 0, changetype<usize>(p), <u32>p.byteLength, oflags, base & ALL_RIGHTS, 0, fdflags, scratch);
  return e == 0 ? <i32>load<u32>(scratch) : -1 - <i32>e;
}

export function fileSize(fd: u32): u64 {
  return fd_filestat_get(fd, scratch) == 0 ? load<u64>(scratch, 32) : 0;
}

// A whole file's bytes, in a heap block (its length in `readLength`); 0 with `readErrno` set.
export let readLength: usize = 0;
export let readErrno: u16 = 0;
export function readFile(path: string): usize {
  const at = locate(path);
  if (at === null) {
    readErrno = 76;
    return 0;
  }
  const fd = openAt(at.dir, at.rel, 0, true, 2 | 4 | (1 << 21));
  if (fd < 0) {
    readErrno = <u16>(-1 - fd);
    return 0;
  }
  const size = <usize>fileSize(<u32>fd);
  const buf = heap.alloc(size + 1);
  let got: usize = 0;
  while (got < size) {
    store<u32>(scratch, <u32>(buf + got));
    store<u32>(scratch, <u32>(size - got), 4);
    if (fd_pread(<u32>fd, scratch, 1, <u64>got, scratch + 8) != 0) break;
    const n = <usize>load<u32>(scratch, 8);
    if (n == 0) break;
    got += n;
  }
  fd_close(<u32>fd);
  readLength = got;
  return buf;
}

// Writes [data, data + len) to the file `path` (created or truncated); 0 or an errno.
export function writeFile(path: string, data: usize, len: usize): u16 {
  const at = locate(path);
  if (at === null) return 76;
  const fd = openAt(at.dir, at.rel, OFLAGS_CREAT | OFLAGS_TRUNC, true, 64 | 4 | 1 | 16);
  if (fd < 0) return <u16>(-1 - fd);
  const ok = writeAll(<u32>fd, data, len);
  fd_close(<u32>fd);
  return ok ? 0 : 29; // EIO
}

// Whether `path` names an existing file (the suspension trigger).
export function exists(path: string): bool {
  const at = locate(path);
  if (at === null) return false;
  const p = utf8(at.rel);
  return path_filestat_get(at.dir, 1, changetype<usize>(p), <u32>p.byteLength, scratch) == 0;
}
