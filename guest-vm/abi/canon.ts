// The canonical ABI's memory side for the component build: cabi_realloc (how the host's lowering
// allocates arguments), the return area, the blocks a result points to (freed by the post-return
// functions once the host has lifted them), and the record layouts shared by every export.
// Layouts follow the canonical ABI: a record's fields at their natural alignment, a variant's
// discriminant (u8 here: every variant has < 256 cases) then its payload at the payload's maximum
// alignment, strings and lists as (ptr: u32, len: u32).

import { lastError } from "../binary/error";
import { WIT_ERROR_LIMIT, WIT_ERROR_MISUSE } from "../vocabulary";

// What cabi_realloc returns for a zero-length request (the host lowers an empty list as
// realloc(0, 0, align, 0)): any aligned address will do, it is never read, and it must never be
// freed, so argument lists of length 0 are never passed to `freeArg`.
const EMPTY: usize = memory.data(8, 8);

export function cabiRealloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) {
    if (old != 0 && oldSize != 0 && old != EMPTY) heap.free(old);
    return EMPTY;
  }
  // TLSF blocks are 16-aligned, more than any canonical type needs (8). An allocation that cannot
  // be met traps here: the only way the component can say "out of memory".
  if (old == 0 || oldSize == 0 || old == EMPTY) return heap.alloc(newSize);
  return heap.realloc(old, newSize);
}

// Frees an argument list (its block was allocated by the host through cabi_realloc and is now ours).
export function freeArg(ptr: usize, len: usize): void {
  if (len != 0 && ptr != EMPTY) heap.free(ptr);
}

// ── return area and result blocks ─────────────────────────────────────────────────────────────
// One return area serves every export: the host lifts the results before its next call. The
// largest result is result<outcome, error> with a probe event (36 bytes).
export const RET: usize = memory.data(48, 8);

// Blocks the current results point to; the post-return function frees them.
const resultBlocks: usize[] = [];

export function resultBlock(size: usize): usize {
  if (size == 0) return EMPTY;
  const p = heap.alloc(size);
  resultBlocks.push(p);
  return p;
}

// cabi_post_* of every export: the host has copied the results out.
export function postReturn(): void {
  const blocks = resultBlocks;
  for (let i = 0; i < blocks.length; i++) heap.free(unchecked(blocks[i]));
  blocks.length = 0;
}

// A string or list: (ptr, len) at `at`.
@inline export function putList(at: usize, ptr: usize, len: usize): void {
  store<u32>(at, <u32>ptr);
  store<u32>(at, <u32>len, 4);
}

// A copy of `len` bytes at `src` in a result block, written as a list<u8>/string at `at`.
export function putBytes(at: usize, src: usize, len: usize): void {
  const p = resultBlock(len);
  memory.copy(p, src, len);
  putList(at, p, len);
}

export function putString(at: usize, s: string): void {
  const len = <usize>String.UTF8.byteLength(s);
  const p = resultBlock(len);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
  putList(at, p, len);
}

// ── error and result<T, error> ────────────────────────────────────────────────────────────────
// enum error-kind: the VM's ErrorKind less one, then `misuse` (WIT_ERROR_*).

// record error { kind @0: u8, message @4: string, offset @12: u32 }
export function putError(at: usize, kind: u8, message: string, offset: u32): void {
  store<u8>(at, kind);
  putString(at + 4, message);
  store<u32>(at, offset, 12);
}

// err(error) as a result<T, error>: the payload sits at 4, or at 8 when T is 8-aligned (value).
export function errResult(kind: u8, message: string, payloadAt: usize = 4): usize {
  store<u8>(RET, 1);
  putError(RET + payloadAt, kind, message, 0);
  return RET;
}

export function misuse(message: string, payloadAt: usize = 4): usize {
  return errResult(WIT_ERROR_MISUSE, message, payloadAt);
}

// err(the error a plain-ABI call just recorded). The core records a host mistake as kind Limit;
// it stays `limit` here, since the core cannot tell the two apart.
export function lastErrorResult(fallback: string): usize {
  const kind = lastError.kind;
  store<u8>(RET, 1);
  if (kind == 0) putError(RET + 4, WIT_ERROR_LIMIT, fallback, 0);
  else putError(RET + 4, <u8>(kind - 1), lastError.message, lastError.offset);
  return RET;
}

// ok(u32) / ok(handle): result<u32, error>.
export function okU32(v: u32): usize {
  store<u8>(RET, 0);
  store<u32>(RET, v, 4);
  return RET;
}

// ok(): result<_, error>.
export function okUnit(): usize {
  store<u8>(RET, 0);
  return RET;
}
