// Intrinsic classes, and guest memory owned by the host (the memory class).
//
// With the memory class on, the first memory the store creates lives on the host side (the
// intrinsic helper's memory on a JS host, a memory of the outer VM for VM-on-VM); its MemInst
// keeps base 0 and the VM reaches the contents only through the intrinsics. The VM's own uses
// (data segments, snapshots, bulk instructions without the bulk class) move 8 bytes per call.

import * as X from "../exec/intrinsics";

export const CLASS_BULK: u32 = 1;
export const CLASS_FLOAT: u32 = 2;
export const CLASS_MEMORY: u32 = 4;

export let intrinsicClasses: u32 = 0;
// The host-owned memory's MemInst, once created (at most one per store: the host has one).
export let hostedMemory: usize = 0;

export function setIntrinsicClasses(mask: u32): void {
  intrinsicClasses = mask & (CLASS_BULK | CLASS_FLOAT | CLASS_MEMORY);
}

/** Whether a new memory goes to the host. */
export function wantHostedMemory(): bool {
  return (intrinsicClasses & CLASS_MEMORY) != 0 && hostedMemory == 0;
}

export function setHostedMemory(rec: usize): void {
  hostedMemory = rec;
}

/** Grows the host's memory by `delta` pages; false if the host refused. */
export function hostedGrow(delta: u32): bool {
  return delta == 0 || X.x_memory_grow(delta) >= 0;
}

export function hostedPages(): u32 {
  return X.x_memory_size();
}

/** Zeroes host memory for the VM's own purposes (not a guest instruction). */
export function hostedZero(p: u32, n: u32): void {
  if (n != 0) X.x_memory_fill(p, 0, n);
}

// Bounds are checked by the callers.
export function hostedFill(p: u32, v: u32, n: u32): void {
  if ((intrinsicClasses & CLASS_BULK) != 0) {
    X.x_memory_fill(p, v, n);
    return;
  }
  const b = <u64>(v & 0xff) * 0x0101010101010101;
  let i: u32 = 0;
  for (; n - i >= 8; i += 8) X.x_store_i64(p + i, 0, b);
  for (; i < n; i++) X.x_store_i8(p + i, 0, <i32>v);
}

export function hostedCopy(p: u32, q: u32, n: u32): void {
  if ((intrinsicClasses & CLASS_BULK) != 0) {
    X.x_memory_copy(p, q, n);
    return;
  }
  if (p <= q) {
    let i: u32 = 0;
    for (; n - i >= 8; i += 8) X.x_store_i64(p + i, 0, X.x_load_i64(q + i, 0));
    for (; i < n; i++) X.x_store_i8(p + i, 0, X.x_load_u8(q + i, 0));
  } else {
    let i = n;
    for (; i > 0 && (i & 7) != 0; i--) X.x_store_i8(p + i - 1, 0, X.x_load_u8(q + i - 1, 0));
    for (; i > 0; i -= 8) X.x_store_i64(p + i - 8, 0, X.x_load_i64(q + i - 8, 0));
  }
}

/** VM memory [src, src+n) → host memory at p. */
export function hostedInit(p: u32, src: usize, n: u32): void {
  let i: u32 = 0;
  for (; n - i >= 8; i += 8) X.x_store_i64(p + i, 0, load<i64>(src + <usize>i));
  for (; i < n; i++) X.x_store_i8(p + i, 0, <i32>load<u8>(src + <usize>i));
}

/** Host memory [p, p+n) → VM memory at dst. */
export function hostedRead(dst: usize, p: u32, n: u32): void {
  let i: u32 = 0;
  for (; n - i >= 8; i += 8) store<i64>(dst + <usize>i, X.x_load_i64(p + i, 0));
  for (; i < n; i++) store<u8>(dst + <usize>i, <u8>X.x_load_u8(p + i, 0));
}
