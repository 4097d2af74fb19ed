// Reading and writing through fds: the standard streams go to the embedder's sinks and source,
// files to preview2 descriptors with positional I/O at the offset the state records (so the offset
// survives a snapshot), plus seeking, syncing, advice, allocation and truncation.

import type { WasiContext } from './context.js';
import { Errno, WasiError } from './errno.js';
import type { PathEntry } from './files.js';
import { def, SUCCESS, type Preview1Func } from './func.js';
import { Fdflags, Rights, Whence } from './layout.js';
import { iovecsTotal } from './memory.js';
import type { FdEntry } from './state.js';

/** A file's descriptor; directories cannot be read or written as streams. */
function fileEntry(e: FdEntry): PathEntry {
  if (e.kind === 'stdio') throw new WasiError(Errno.SPIPE);
  if (e.kind !== 'file') throw new WasiError(Errno.ISDIR);
  return e;
}

function read(ctx: WasiContext, fd: number, e: FdEntry, max: number, at: number | null): Uint8Array {
  if (max === 0) return new Uint8Array(0);
  if (e.kind === 'stdio') {
    if (at !== null) throw new WasiError(Errno.SPIPE);
    if (e.stream !== 0) throw new WasiError(Errno.BADF, `fd ${fd} is an output stream`);
    return ctx.stdin.read(max);
  }
  const file = fileEntry(e);
  const [bytes] = ctx.files.handle(fd, file).read(BigInt(max), BigInt(at ?? file.offset));
  return bytes;
}

function write(ctx: WasiContext, fd: number, e: FdEntry, data: Uint8Array, at: number | null): number {
  if (e.kind === 'stdio') {
    if (at !== null) throw new WasiError(Errno.SPIPE);
    if (e.stream === 0) throw new WasiError(Errno.BADF, `fd ${fd} is an input stream`);
    (e.stream === 1 ? ctx.stdout : ctx.stderr).write(data);
    return data.length;
  }
  const file = fileEntry(e);
  const desc = ctx.files.handle(fd, file);
  // O_APPEND is the state's flag, not the host descriptor's: each write lands at the current end.
  const offset = at ?? ((file.fdflags & Fdflags.APPEND) !== 0 ? Number(desc.stat().size) : file.offset);
  return data.length === 0 ? 0 : Number(desc.write(data, BigInt(offset)));
}

function size(ctx: WasiContext, fd: number, e: PathEntry): number {
  return Number(ctx.files.handle(fd, e).stat().size);
}

export const fdIoFunctions: Record<string, Preview1Func> = {
  fd_read: def(['i32', 'i32', 'i32', 'i32'], (ctx, fd, iovsPtr, iovsLen, nreadPtr) => {
    const e = ctx.withRights(fd, Rights.FD_READ);
    const iovs = ctx.memory().iovecs(iovsPtr, iovsLen);
    const data = read(ctx, fd, e, iovecsTotal(iovs), null);
    const mem = ctx.memory();
    const n = mem.scatter(iovs, data);
    if (e.kind === 'file') e.offset += n;
    mem.setU32(nreadPtr, n);
    return SUCCESS;
  }),
  fd_pread: def(['i32', 'i32', 'i32', 'i64', 'i32'], (ctx, fd, iovsPtr, iovsLen, offset, nreadPtr) => {
    const e = ctx.withRights(fd, Rights.FD_READ | Rights.FD_SEEK);
    if (offset < 0n) throw new WasiError(Errno.INVAL);
    const iovs = ctx.memory().iovecs(iovsPtr, iovsLen);
    const data = read(ctx, fd, e, iovecsTotal(iovs), Number(offset));
    const mem = ctx.memory();
    mem.setU32(nreadPtr, mem.scatter(iovs, data));
    return SUCCESS;
  }),
  fd_write: def(['i32', 'i32', 'i32', 'i32'], (ctx, fd, iovsPtr, iovsLen, nwrittenPtr) => {
    const e = ctx.withRights(fd, Rights.FD_WRITE);
    const mem = ctx.memory();
    const n = write(ctx, fd, e, mem.gather(mem.iovecs(iovsPtr, iovsLen)), null);
    if (e.kind === 'file') e.offset = (e.fdflags & Fdflags.APPEND) !== 0 ? size(ctx, fd, e) : e.offset + n;
    ctx.memory().setU32(nwrittenPtr, n);
    return SUCCESS;
  }),
  fd_pwrite: def(['i32', 'i32', 'i32', 'i64', 'i32'], (ctx, fd, iovsPtr, iovsLen, offset, nwrittenPtr) => {
    const e = ctx.withRights(fd, Rights.FD_WRITE | Rights.FD_SEEK);
    if (offset < 0n) throw new WasiError(Errno.INVAL);
    const mem = ctx.memory();
    const n = write(ctx, fd, e, mem.gather(mem.iovecs(iovsPtr, iovsLen)), Number(offset));
    ctx.memory().setU32(nwrittenPtr, n);
    return SUCCESS;
  }),
  fd_seek: def(['i32', 'i64', 'i32', 'i32'], (ctx, fd, delta, whence, newOffsetPtr) => {
    // Asking where one is (0 from CUR) needs only the right to tell.
    const e = ctx.withRights(fd, delta === 0n && whence === Whence.CUR ? Rights.FD_TELL : Rights.FD_SEEK);
    const file = fileEntry(e);
    let base: number;
    if (whence === Whence.SET) base = 0;
    else if (whence === Whence.CUR) base = file.offset;
    else if (whence === Whence.END) base = size(ctx, fd, file);
    else throw new WasiError(Errno.INVAL, `whence ${whence}`);
    const next = BigInt(base) + delta;
    if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(Errno.INVAL);
    file.offset = Number(next);
    ctx.memory().setU64(newOffsetPtr, next);
    return SUCCESS;
  }),
  fd_tell: def(['i32', 'i32'], (ctx, fd, offsetPtr) => {
    const file = fileEntry(ctx.withRights(fd, Rights.FD_TELL));
    ctx.memory().setU64(offsetPtr, file.offset);
    return SUCCESS;
  }),
  fd_sync: def(['i32'], (ctx, fd) => {
    const e = ctx.withRights(fd, Rights.FD_SYNC);
    if (e.kind === 'file') ctx.files.handle(fd, e).sync();
    return SUCCESS;
  }),
  fd_datasync: def(['i32'], (ctx, fd) => {
    const e = ctx.withRights(fd, Rights.FD_DATASYNC);
    if (e.kind === 'file') ctx.files.handle(fd, e).syncData();
    return SUCCESS;
  }),
  // Advice only tunes caching; accepted and not passed on (the shim's needs a native addon).
  fd_advise: def(['i32', 'i64', 'i64', 'i32'], (ctx, fd, offset, len, advice) => {
    ctx.withRights(fd, Rights.FD_ADVISE);
    if (offset < 0n || len < 0n || advice > 5) throw new WasiError(Errno.INVAL);
    return SUCCESS;
  }),
  fd_allocate: def(['i32', 'i64', 'i64'], (ctx, fd, offset, len) => {
    const file = fileEntry(ctx.withRights(fd, Rights.FD_ALLOCATE));
    if (offset < 0n || len <= 0n) throw new WasiError(Errno.INVAL);
    const desc = ctx.files.handle(fd, file);
    if (offset + len > desc.stat().size) desc.setSize(offset + len);
    return SUCCESS;
  }),
  fd_filestat_set_size: def(['i32', 'i64'], (ctx, fd, newSize) => {
    const file = fileEntry(ctx.withRights(fd, Rights.FD_FILESTAT_SET_SIZE));
    if (newSize < 0n) throw new WasiError(Errno.INVAL);
    ctx.files.handle(fd, file).setSize(newSize);
    return SUCCESS;
  }),
};
