// WIT values and value types ↔ the VM's 8-byte io cells and binary type codes (guest-vm/ABI.md):
// the `value` variant in memory and flattened, `val-type` and `func-type`. Every read of a host
// value checks it, so that a wrong value is refused before the VM sees it.

import { FuncType, ValType } from "../binary/module";
import { funcLive } from "../runtime/store";
import { putList, resultBlock } from "./canon";

// enum val-type { i32, i64, f32, f64, v128, funcref, externref }
const VAL_TYPE_CODES: StaticArray<u8> = [0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f];

// The binary code of val-type case `tag`, or 0 for a tag out of range.
export function valTypeCode(tag: u32): u8 {
  return tag < <u32>VAL_TYPE_CODES.length ? unchecked(VAL_TYPE_CODES[tag]) : 0;
}

export function valTypeTag(code: u8): u8 {
  for (let i = 0; i < VAL_TYPE_CODES.length; i++) if (unchecked(VAL_TYPE_CODES[i]) == code) return <u8>i;
  return 0;
}

// variant value { i32(s32), i64(s64), f32(u32), f64(u64), funcref(option<u32>), externref(option<u32>) }
// has no v128 case: the tag of each other type, or 255.
export function valueTag(code: u8): u8 {
  switch (<u32>code) {
    case ValType.I32: return 0;
    case ValType.I64: return 1;
    case ValType.F32: return 2;
    case ValType.F64: return 3;
    case ValType.FuncRef: return 4;
    case ValType.ExternRef: return 5;
  }
  return 255;
}

export const VALUE_SIZE: usize = 16;

// The io cell for a value given flat (discriminant, the i64 slot, the i32 slot) — a value in
// memory is the same three parts at offsets 0, 8 and 12 — or false when it is not of type `code`.
// References: option<u32> puts its discriminant in the i64 slot and N in the i32 slot; a cell holds
// 0 for null and N + 1 otherwise, and a funcref must name a function (the dispatch loop trusts it).
export function flatToCell(code: u8, tag: u32, wide: u64, narrow: u32, cell: usize): bool {
  if (tag != <u32>valueTag(code)) return false;
  if (tag <= 3) {
    store<u64>(cell, tag == 0 || tag == 2 ? wide & 0xffffffff : wide);
    return true;
  }
  if (wide == 0) {
    store<u64>(cell, 0);
    return true;
  }
  if (narrow == 0xffffffff || (tag == 4 && !funcLive(narrow))) return false;
  store<u64>(cell, <u64>narrow + 1);
  return true;
}

// A value in memory (a list<value> element) into an io cell; false when it is not of type `code`.
export function valueToCell(p: usize, code: u8, cell: usize): bool {
  const tag = <u32>load<u8>(p);
  if (tag >= 4) return flatToCell(code, tag, <u64>load<u8>(p, 8), load<u32>(p, 12), cell);
  return flatToCell(code, tag, tag == 1 || tag == 3 ? load<u64>(p, 8) : <u64>load<u32>(p, 8), 0, cell);
}

// The value of type `code` in the io cell at `cell`, written at `p` (16 bytes, 8-aligned).
export function cellToValue(cell: usize, code: u8, p: usize): void {
  const tag = valueTag(code);
  store<u8>(p, tag);
  if (tag <= 3) {
    store<u64>(p, tag == 0 || tag == 2 ? load<u64>(cell) & 0xffffffff : load<u64>(cell), 8);
    return;
  }
  const raw = load<u32>(cell);
  store<u8>(p, raw != 0 ? 1 : 0, 8);
  store<u32>(p, raw != 0 ? raw - 1 : 0, 12);
}

// list<value> of `types` from consecutive io cells, written as a list at `at`.
export function putValues(at: usize, types: u8[], cells: usize): void {
  const n = types.length;
  const p = resultBlock(<usize>n * VALUE_SIZE);
  for (let i = 0; i < n; i++) cellToValue(cells + (<usize>i << 3), unchecked(types[i]), p + <usize>i * VALUE_SIZE);
  putList(at, p, n);
}

// Checks a list<value> (ptr, len) against `types` and copies it to consecutive io cells. Returns
// VALUES_OK, VALUES_COUNT (wrong length) or the index of the first value of a wrong type; the
// caller words the message (only then: this runs on every call).
export const VALUES_OK: i32 = -1;
export const VALUES_COUNT: i32 = -2;

export function valuesToCells(ptr: usize, len: usize, types: u8[], cells: usize): i32 {
  if (len != <usize>types.length) return VALUES_COUNT;
  for (let i = 0; i < types.length; i++) {
    if (!valueToCell(ptr + <usize>i * VALUE_SIZE, unchecked(types[i]), cells + (<usize>i << 3))) return i;
  }
  return VALUES_OK;
}

// Why valuesToCells refused values for `what`.
export function valuesProblem(check: i32, len: usize, types: u8[], what: string): string {
  if (check == VALUES_COUNT) return what + ": expected " + types.length.toString() + " values, got " + len.toString();
  return what + ": value " + check.toString() + " is not a valid " + typeName(unchecked(types[check]));
}

export function typeName(code: u8): string {
  switch (<u32>code) {
    case ValType.I32: return "i32";
    case ValType.I64: return "i64";
    case ValType.F32: return "f32";
    case ValType.F64: return "f64";
    case ValType.V128: return "v128";
    case ValType.FuncRef: return "funcref";
    case ValType.ExternRef: return "externref";
  }
  return "type 0x" + (<u32>code).toString(16);
}

// Whether every type fits an io cell (v128 does not).
export function cellTypes(types: u8[]): bool {
  for (let i = 0; i < types.length; i++) if (unchecked(types[i]) == ValType.V128) return false;
  return true;
}

// list<val-type> from binary codes, at `at`.
function putValTypes(at: usize, types: u8[]): void {
  const n = types.length;
  const p = resultBlock(n);
  for (let i = 0; i < n; i++) store<u8>(p + i, valTypeTag(unchecked(types[i])));
  putList(at, p, n);
}

// record func-type { params @0: list<val-type>, results @8: list<val-type> }
export function putFuncType(at: usize, t: FuncType): void {
  putValTypes(at, t.params);
  putValTypes(at + 8, t.results);
}
