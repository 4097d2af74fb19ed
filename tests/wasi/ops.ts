// Preview1 calls as a guest makes them, over a Probe (harness.ts): each returns the errno and what
// the call produced, so one scenario runs unchanged in the VM and under node:wasi.

import { Errno } from '../../host-intrinsics/wasi/index.js';
import { DIRECTORY_INHERITING } from '../../host-intrinsics/wasi/layout.js';
import { type Probe, putString, u32, u64 } from './probe.js';

export { Errno };

const PATH = 1024; // path strings
const PATH2 = 2048; // second path (rename)
const OUT = 64; // result pointers
const IOV = 128; // one iovec
const BUF = 4096; // data

export const O = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
/** Rights for a file opened for reading and writing: what wasi-libc asks for with O_RDWR (all a preopen passes on). */
export const RW = DIRECTORY_INHERITING;
/** Rights wasi-libc asks for with O_RDONLY: no write, datasync, allocate or set-size. */
export const RO = RW & ~((1 << 6) | (1 << 0) | (1 << 8) | (1 << 22));
export const PREOPEN = 3;
export const FOLLOW = 1;

export function open(p: Probe, path: string, oflags = 0, rights = RW, fdflags = 0, dir = PREOPEN): { errno: number; fd: number } {
  const [ptr, len] = putString(p, PATH, path);
  const errno = p.call('path_open', dir, FOLLOW, ptr, len, oflags, BigInt(rights), BigInt(RW), fdflags, OUT);
  return { errno, fd: errno === 0 ? u32(p, OUT) : -1 };
}

export function write(p: Probe, fd: number, text: string): { errno: number; n: number } {
  const [ptr, len] = putString(p, BUF, text);
  const dv = new DataView(p.memory().buffer, p.memory().byteOffset);
  dv.setUint32(IOV, ptr, true);
  dv.setUint32(IOV + 4, len, true);
  const errno = p.call('fd_write', fd, IOV, 1, OUT);
  return { errno, n: errno === 0 ? u32(p, OUT) : -1 };
}

export function pwrite(p: Probe, fd: number, text: string, offset: number): number {
  const [ptr, len] = putString(p, BUF, text);
  const dv = new DataView(p.memory().buffer, p.memory().byteOffset);
  dv.setUint32(IOV, ptr, true);
  dv.setUint32(IOV + 4, len, true);
  return p.call('fd_pwrite', fd, IOV, 1, BigInt(offset), OUT);
}

function readInto(p: Probe, call: () => number, max: number): { errno: number; text: string } {
  const dv = new DataView(p.memory().buffer, p.memory().byteOffset);
  dv.setUint32(IOV, BUF, true);
  dv.setUint32(IOV + 4, max, true);
  const errno = call();
  const n = errno === 0 ? u32(p, OUT) : 0;
  return { errno, text: new TextDecoder().decode(p.memory().slice(BUF, BUF + n)) };
}

export function read(p: Probe, fd: number, max = 256) {
  return readInto(p, () => p.call('fd_read', fd, IOV, 1, OUT), max);
}

export function pread(p: Probe, fd: number, offset: number, max = 256) {
  return readInto(p, () => p.call('fd_pread', fd, IOV, 1, BigInt(offset), OUT), max);
}

export function seek(p: Probe, fd: number, delta: number, whence: number): { errno: number; offset: bigint } {
  const errno = p.call('fd_seek', fd, BigInt(delta), whence, OUT);
  return { errno, offset: errno === 0 ? u64(p, OUT) : -1n };
}

export function tell(p: Probe, fd: number): { errno: number; offset: bigint } {
  const errno = p.call('fd_tell', fd, OUT);
  return { errno, offset: errno === 0 ? u64(p, OUT) : -1n };
}

export function pathCall(p: Probe, name: string, path: string, dir = PREOPEN): number {
  const [ptr, len] = putString(p, PATH, path);
  return p.call(name, dir, ptr, len);
}

export function rename(p: Probe, from: string, to: string): number {
  const [a, alen] = putString(p, PATH, from);
  const [b, blen] = putString(p, PATH2, to);
  return p.call('path_rename', PREOPEN, a, alen, PREOPEN, b, blen);
}

/** path_filestat_get: errno, file type and size (times, device and inode differ by nature). */
export function stat(p: Probe, path: string, flags = FOLLOW): { errno: number; filetype: number; size: bigint } {
  const [ptr, len] = putString(p, PATH, path);
  const errno = p.call('path_filestat_get', PREOPEN, flags, ptr, len, BUF);
  return { errno, filetype: errno === 0 ? p.memory()[BUF + 16] : -1, size: errno === 0 ? u64(p, BUF + 32) : -1n };
}

export function fstat(p: Probe, fd: number): { errno: number; filetype: number; size: bigint } {
  const errno = p.call('fd_filestat_get', fd, BUF);
  return { errno, filetype: errno === 0 ? p.memory()[BUF + 16] : -1, size: errno === 0 ? u64(p, BUF + 32) : -1n };
}

export function fdstat(p: Probe, fd: number): { errno: number; filetype: number; flags: number; base: bigint; inheriting: bigint } {
  const errno = p.call('fd_fdstat_get', fd, BUF);
  const m = p.memory();
  return { errno, filetype: m[BUF], flags: m[BUF + 2] | (m[BUF + 3] << 8), base: u64(p, BUF + 8), inheriting: u64(p, BUF + 16) };
}

/** fd_readdir from cookie 0 with a buffer of `size` bytes: names with their d_type, sorted. */
export function readdir(p: Probe, fd: number, size = 2048): { errno: number; entries: string[]; used: number } {
  const errno = p.call('fd_readdir', fd, BUF, size, 0n, OUT);
  if (errno !== 0) return { errno, entries: [], used: 0 };
  const used = u32(p, OUT);
  const m = p.memory();
  const dv = new DataView(m.buffer, m.byteOffset);
  const entries: string[] = [];
  for (let at = 0; at + 24 <= used;) {
    const namlen = dv.getUint32(BUF + at + 16, true);
    const type = m[BUF + at + 20];
    if (at + 24 + namlen > used) break;
    entries.push(`${new TextDecoder().decode(m.slice(BUF + at + 24, BUF + at + 24 + namlen))}:${type}`);
    at += 24 + namlen;
  }
  return { errno, entries: entries.sort(), used };
}

export function prestatName(p: Probe, fd: number): { errno: number; name: string } {
  const errno = p.call('fd_prestat_get', fd, OUT);
  if (errno !== 0) return { errno, name: '' };
  const len = u32(p, OUT + 4);
  const e2 = p.call('fd_prestat_dir_name', fd, BUF, len);
  return { errno: e2, name: new TextDecoder().decode(p.memory().slice(BUF, BUF + len)) };
}
