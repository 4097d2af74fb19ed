// Typed, bounds-checked access to the guest's linear memory for one preview1 call. The bytes are a
// view the VM hands out (Vm.guestMemory); it stays valid while the VM is not running, which holds
// for the whole host call, so each call takes a fresh one and never keeps it.

import { Errno, WasiError } from './errno.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export interface Iovec {
  ptr: number;
  len: number;
}

export class GuestMemory {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Checks that [ptr, ptr + len) lies inside the memory: a guest's bad pointer is EFAULT, not a crash. */
  check(ptr: number, len: number): number {
    if (ptr + len > this.bytes.length) throw new WasiError(Errno.FAULT, `[${ptr}, +${len}) outside guest memory`);
    return ptr;
  }

  u8(ptr: number): number {
    return this.view.getUint8(this.check(ptr, 1));
  }
  u16(ptr: number): number {
    return this.view.getUint16(this.check(ptr, 2), true);
  }
  u32(ptr: number): number {
    return this.view.getUint32(this.check(ptr, 4), true);
  }
  u64(ptr: number): bigint {
    return this.view.getBigUint64(this.check(ptr, 8), true);
  }
  setU8(ptr: number, v: number): void {
    this.view.setUint8(this.check(ptr, 1), v);
  }
  setU16(ptr: number, v: number): void {
    this.view.setUint16(this.check(ptr, 2), v, true);
  }
  setU32(ptr: number, v: number): void {
    this.view.setUint32(this.check(ptr, 4), v, true);
  }
  setU64(ptr: number, v: bigint | number): void {
    this.view.setBigUint64(this.check(ptr, 8), BigInt.asUintN(64, BigInt(v)), true);
  }

  /** A view (not a copy) of guest bytes. */
  slice(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    return this.bytes.subarray(ptr, ptr + len);
  }

  write(ptr: number, data: Uint8Array): void {
    this.check(ptr, data.length);
    this.bytes.set(data, ptr);
  }

  /** A UTF-8 string argument (a path or a link's text): not UTF-8 is EILSEQ, a NUL in it EINVAL. */
  string(ptr: number, len: number): string {
    let s: string;
    try {
      s = utf8.decode(this.slice(ptr, len));
    } catch (e) {
      if (e instanceof WasiError) throw e;
      throw new WasiError(Errno.ILSEQ, 'path is not UTF-8');
    }
    if (s.includes('\0')) throw new WasiError(Errno.INVAL, 'NUL in path');
    return s;
  }

  /** The `count` iovecs (or ciovecs) at `ptr`, each checked to lie in memory. */
  iovecs(ptr: number, count: number): Iovec[] {
    const out: Iovec[] = [];
    for (let i = 0; i < count; i++) {
      const iov = { ptr: this.u32(ptr + i * 8), len: this.u32(ptr + i * 8 + 4) };
      this.check(iov.ptr, iov.len);
      out.push(iov);
    }
    return out;
  }

  /** The bytes of ciovecs, concatenated (what one fd_write writes). */
  gather(iovs: readonly Iovec[]): Uint8Array {
    const total = iovs.reduce((n, v) => n + v.len, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const v of iovs) {
      out.set(this.bytes.subarray(v.ptr, v.ptr + v.len), at);
      at += v.len;
    }
    return out;
  }

  /** Spreads `data` over iovecs in order; returns the bytes placed. */
  scatter(iovs: readonly Iovec[], data: Uint8Array): number {
    let at = 0;
    for (const v of iovs) {
      if (at >= data.length) break;
      const n = Math.min(v.len, data.length - at);
      this.bytes.set(data.subarray(at, at + n), v.ptr);
      at += n;
    }
    return at;
  }
}

/** Writes NUL-terminated strings and their pointer table (args_get, environ_get). */
export function writeStringTable(mem: GuestMemory, strings: readonly string[], tablePtr: number, bufPtr: number): void {
  let at = bufPtr;
  strings.forEach((s, i) => {
    const bytes = utf8Encoder.encode(`${s}\0`);
    mem.setU32(tablePtr + i * 4, at);
    mem.write(at, bytes);
    at += bytes.length;
  });
}

/** Count and total byte size (with NULs) of a string table (args_sizes_get, environ_sizes_get). */
export function stringTableSize(strings: readonly string[]): { count: number; bytes: number } {
  return { count: strings.length, bytes: strings.reduce((n, s) => n + utf8Encoder.encode(s).length + 1, 0) };
}

export function iovecsTotal(iovs: readonly Iovec[]): number {
  return iovs.reduce((n, v) => n + v.len, 0);
}
