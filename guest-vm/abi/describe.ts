// Module and instance descriptions as WIT records: reads the plain ABI's describe blob (ABI.md
// "Modules") and writes module-desc / list<instance-export>, so both boundaries describe a module
// from one source.

import { FuncType } from "../binary/module";
import { NO_MAX } from "../runtime/store";
import { putBytes, putList, resultBlock } from "./canon";
import { putFuncType, valTypeTag } from "./values";

// A cursor over a blob the VM itself just wrote: its format is trusted, so no bounds checks.
class Blob {
  constructor(public p: usize) {}
  u8(): u8 {
    const v = load<u8>(this.p);
    this.p += 1;
    return v;
  }
  u32(): u32 {
    const v = load<u32>(this.p);
    this.p += 4;
    return v;
  }
  // `str` (u32 length + UTF-8) as a WIT string at `at`.
  str(at: usize): void {
    const len = <usize>this.u32();
    putBytes(at, this.p, len);
    this.p += len;
  }
  // Skips a u32 length and that many bytes (a `str`, or a list of value types).
  skipCounted(): void {
    const n = <usize>this.u32();
    this.p += n;
  }
  types(into: u8[]): void {
    for (let n = this.u32(); n > 0; n--) into.push(this.u8());
  }
}

// option<u32> at `at` from a limit's `max` (NO_MAX = none).
function putMax(at: usize, max: u32): void {
  store<u8>(at, max != NO_MAX ? 1 : 0);
  store<u32>(at, max != NO_MAX ? max : 0, 4);
}

// variant extern-type { func(func-type), table(table-type), memory(limits), global(global-type) }
// at `at` (20 bytes: tag @0, payload @4), from a blob's `u8 kind, typedesc`.
// table-type { element @0: val-type, limits @4 }; limits { min @0: u32, max @4: option<u32> };
// global-type { content @0: val-type, mutable @1: bool }.
function putExternType(at: usize, kind: u8, b: Blob): void {
  store<u8>(at, kind);
  const p = at + 4;
  switch (<u32>kind) {
    case 0: {
      const t = new FuncType();
      b.types(t.params);
      b.types(t.results);
      putFuncType(p, t);
      break;
    }
    case 1:
      store<u8>(p, valTypeTag(b.u8()));
      store<u32>(p, b.u32(), 4);
      putMax(p + 8, b.u32());
      break;
    case 2:
      store<u32>(p, b.u32());
      putMax(p + 4, b.u32());
      break;
    case 3:
      store<u8>(p, valTypeTag(b.u8()));
      store<u8>(p, b.u8(), 1);
      break;
  }
}

const IMPORT_DESC_SIZE: usize = 36; // module @0, name @8, ty @16
const EXPORT_DESC_SIZE: usize = 32; // name @0, index (or addr) @8, ty @12

// record module-desc { imports @0: list<import-desc>, exports @8: list<export-desc> } at `at`,
// from the blob at `blob`. With `addrs` (an instance's), writes list<instance-export> at `at`
// instead: the same layout with the store address in place of the index.
export function putModuleDesc(at: usize, blob: usize, addrs: u32[] | null): void {
  const b = new Blob(blob);
  const nimports = <usize>b.u32();
  const imports = addrs === null ? resultBlock(nimports * IMPORT_DESC_SIZE) : 0;
  for (let i: usize = 0; i < nimports; i++) {
    if (addrs === null) {
      const p = imports + i * IMPORT_DESC_SIZE;
      b.str(p);
      b.str(p + 8);
      putExternType(p + 16, b.u8(), b);
    } else {
      skipImport(b);
    }
  }
  const nexports = <usize>b.u32();
  const exports = resultBlock(nexports * EXPORT_DESC_SIZE);
  for (let i: usize = 0; i < nexports; i++) {
    const p = exports + i * EXPORT_DESC_SIZE;
    b.str(p);
    const kind = b.u8();
    const index = b.u32();
    store<u32>(p, addrs === null ? index : unchecked(addrs[<i32>i]), 8);
    putExternType(p + 12, kind, b);
  }
  if (addrs === null) {
    putList(at, imports, nimports);
    putList(at + 8, exports, nexports);
  } else {
    putList(at, exports, nexports);
  }
}

function skipImport(b: Blob): void {
  b.skipCounted();
  b.skipCounted();
  skipExternType(b.u8(), b);
}

function skipExternType(kind: u8, b: Blob): void {
  switch (<u32>kind) {
    case 0:
      b.skipCounted();
      b.skipCounted();
      break;
    case 1: b.p += 9; break;
    case 2: b.p += 8; break;
    case 3: b.p += 2; break;
  }
}

// The (kind, index) of each export in the blob, for looking up an instance's addresses.
export function exportRefs(blob: usize, kinds: u8[], indices: u32[]): void {
  const b = new Blob(blob);
  for (let n = b.u32(); n > 0; n--) skipImport(b);
  for (let n = b.u32(); n > 0; n--) {
    b.skipCounted();
    const kind = b.u8();
    kinds.push(kind);
    indices.push(b.u32());
    skipExternType(kind, b);
  }
}

// The import kinds, in order.
export function importKinds(blob: usize, kinds: u8[]): void {
  const b = new Blob(blob);
  for (let n = b.u32(); n > 0; n--) {
    b.skipCounted();
    b.skipCounted();
    const kind = b.u8();
    kinds.push(kind);
    skipExternType(kind, b);
  }
}
