// Table operations too long for a dispatch case (spec 4.4.6): they check bounds first, then act,
// and return a trap code (0 = done).

import { TABLE_ELEMS, TABLE_LEN, SEG_PTR, SEG_LEN } from "../runtime/store";
import { TRAP_TABLE } from "./state";

export function tableFill(table: usize, i: u32, ref: u32, n: u32): u32 {
  if (<u64>i + <u64>n > <u64>load<u32>(table, TABLE_LEN)) return TRAP_TABLE;
  const elems = load<usize>(table, TABLE_ELEMS);
  for (let k: u32 = 0; k < n; k++) store<u32>(elems + (<usize>(i + k) << 2), ref);
  return 0;
}

export function tableCopy(dst: usize, src: usize, d: u32, s: u32, n: u32): u32 {
  if (<u64>d + <u64>n > <u64>load<u32>(dst, TABLE_LEN)) return TRAP_TABLE;
  if (<u64>s + <u64>n > <u64>load<u32>(src, TABLE_LEN)) return TRAP_TABLE;
  memory.copy(load<usize>(dst, TABLE_ELEMS) + (<usize>d << 2), load<usize>(src, TABLE_ELEMS) + (<usize>s << 2), <usize>n << 2);
  return 0;
}

export function tableInit(table: usize, seg: usize, d: u32, s: u32, n: u32): u32 {
  if (<u64>d + <u64>n > <u64>load<u32>(table, TABLE_LEN)) return TRAP_TABLE;
  if (<u64>s + <u64>n > <u64>load<u32>(seg, SEG_LEN)) return TRAP_TABLE;
  memory.copy(load<usize>(table, TABLE_ELEMS) + (<usize>d << 2), load<usize>(seg, SEG_PTR) + (<usize>s << 2), <usize>n << 2);
  return 0;
}
