// What an fd is rather than its bytes: closing and renumbering, fdstat (type, flags, rights),
// filestat, the preopen names wasi-libc discovers at startup, and directory listings.

import { Errno, WasiError } from './errno.js';
import type { Filestat } from './files.js';
import { def, SUCCESS, type Preview1Func } from './func.js';
import {
  DIRENT_SIZE, FDSTAT_SIZE, Fdflags, PREOPENTYPE_DIR, Rights, filetypeOf,
} from './layout.js';
import type { GuestMemory } from './memory.js';
import { setTimes } from './times.js';

const utf8 = new TextEncoder();
const ALL_FDFLAGS = Fdflags.APPEND | Fdflags.DSYNC | Fdflags.NONBLOCK | Fdflags.RSYNC | Fdflags.SYNC;

export function writeFilestat(mem: GuestMemory, ptr: number, st: Filestat): void {
  mem.check(ptr, 64);
  mem.setU64(ptr, st.dev);
  mem.setU64(ptr + 8, st.ino);
  mem.setU8(ptr + 16, st.filetype);
  for (let i = 17; i < 24; i++) mem.setU8(ptr + i, 0);
  mem.setU64(ptr + 24, st.nlink);
  mem.setU64(ptr + 32, st.size);
  mem.setU64(ptr + 40, st.atim);
  mem.setU64(ptr + 48, st.mtim);
  mem.setU64(ptr + 56, st.ctim);
}

/** One dirent header plus its name, as fd_readdir lays them out back to back. */
function direntBytes(next: number, name: string, type: string): Uint8Array {
  const nameBytes = utf8.encode(name);
  const out = new Uint8Array(DIRENT_SIZE + nameBytes.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(next), true);
  view.setBigUint64(8, 0n, true); // d_ino unknown, as node:wasi says: wasi-libc then stats the entry
  view.setUint32(16, nameBytes.length, true);
  view.setUint8(20, filetypeOf(type));
  out.set(nameBytes, DIRENT_SIZE);
  return out;
}

export const fdMetaFunctions: Record<string, Preview1Func> = {
  fd_close: def(['i32'], (ctx, fd) => {
    ctx.entry(fd);
    ctx.files.close(fd);
    delete ctx.state.fds[fd];
    return SUCCESS;
  }),
  fd_renumber: def(['i32', 'i32'], (ctx, from, to) => {
    const e = ctx.entry(from);
    ctx.entry(to);
    if (from === to) return SUCCESS;
    ctx.files.move(from, to);
    ctx.state.fds[to] = e;
    delete ctx.state.fds[from];
    return SUCCESS;
  }),
  fd_fdstat_get: def(['i32', 'i32'], (ctx, fd, ptr) => {
    const e = ctx.entry(fd);
    const mem = ctx.memory();
    mem.check(ptr, FDSTAT_SIZE);
    mem.setU8(ptr, e.filetype);
    mem.setU8(ptr + 1, 0);
    mem.setU16(ptr + 2, e.fdflags);
    mem.setU32(ptr + 4, 0);
    mem.setU64(ptr + 8, e.rightsBase);
    mem.setU64(ptr + 16, e.rightsInheriting);
    return SUCCESS;
  }),
  fd_fdstat_set_flags: def(['i32', 'i32'], (ctx, fd, flags) => {
    const e = ctx.withRights(fd, Rights.FD_FDSTAT_SET_FLAGS);
    if ((flags & ~ALL_FDFLAGS) !== 0) throw new WasiError(Errno.INVAL);
    e.fdflags = flags;
    return SUCCESS;
  }),
  fd_fdstat_set_rights: def(['i32', 'i64', 'i64'], (ctx, fd, base, inheriting) => {
    const e = ctx.entry(fd);
    const b = Number(BigInt.asUintN(32, base));
    const i = Number(BigInt.asUintN(32, inheriting));
    // Rights can only be dropped.
    if ((b & ~e.rightsBase) !== 0 || (i & ~e.rightsInheriting) !== 0) throw new WasiError(Errno.NOTCAPABLE);
    e.rightsBase = b;
    e.rightsInheriting = i;
    return SUCCESS;
  }),
  fd_filestat_get: def(['i32', 'i32'], (ctx, fd, ptr) => {
    const e = ctx.withRights(fd, Rights.FD_FILESTAT_GET);
    const st: Filestat = e.kind === 'stdio'
      ? { dev: 0n, ino: 0n, filetype: e.filetype, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n }
      : ctx.files.stat(fd, e);
    writeFilestat(ctx.memory(), ptr, st);
    return SUCCESS;
  }),
  fd_filestat_set_times: def(['i32', 'i64', 'i64', 'i32'], (ctx, fd, atim, mtim, flags) => {
    const e = ctx.withRights(fd, Rights.FD_FILESTAT_SET_TIMES);
    if (e.kind === 'stdio') throw new WasiError(Errno.NOTSUP);
    setTimes(ctx.files.hostPath(e.preopen, e.path), atim, mtim, flags, true);
    return SUCCESS;
  }),
  fd_prestat_get: def(['i32', 'i32'], (ctx, fd, ptr) => {
    const e = ctx.entry(fd);
    if (e.kind !== 'preopen') throw new WasiError(Errno.BADF, `fd ${fd} is no preopen`);
    const mem = ctx.memory();
    mem.check(ptr, 8);
    mem.setU32(ptr, PREOPENTYPE_DIR);
    mem.setU32(ptr + 4, utf8.encode(ctx.state.preopens[e.preopen].guestPath).length);
    return SUCCESS;
  }),
  fd_prestat_dir_name: def(['i32', 'i32', 'i32'], (ctx, fd, pathPtr, pathLen) => {
    const e = ctx.entry(fd);
    if (e.kind !== 'preopen') throw new WasiError(Errno.BADF, `fd ${fd} is no preopen`);
    const name = utf8.encode(ctx.state.preopens[e.preopen].guestPath);
    if (pathLen < name.length) throw new WasiError(Errno.NOBUFS);
    ctx.memory().write(pathPtr, name);
    return SUCCESS;
  }),
  // Cookies count entries: cookie n continues after the n-th. A listing that does not fit is cut
  // off mid-entry (bufused == buf_len), which tells the guest to come back with a bigger buffer.
  fd_readdir: def(['i32', 'i32', 'i32', 'i64', 'i32'], (ctx, fd, buf, bufLen, cookie, bufusedPtr) => {
    const e = ctx.withRights(fd, Rights.FD_READDIR);
    if (e.kind === 'stdio' || e.kind === 'file') throw new WasiError(Errno.NOTDIR);
    const mem = ctx.memory();
    mem.check(buf, bufLen);
    const entries = ctx.files.list(fd, e, cookie === 0n);
    let used = 0;
    for (let i = Number(BigInt.asUintN(64, cookie)); i < entries.length && used < bufLen; i++) {
      const bytes = direntBytes(i + 1, entries[i].name, entries[i].type);
      const n = Math.min(bytes.length, bufLen - used);
      mem.write(buf + used, bytes.subarray(0, n));
      used += n;
    }
    mem.setU32(bufusedPtr, used);
    return SUCCESS;
  }),
};
