// The binary decoder's entry point (spec 5.5 "Modules"): the preamble, the section framing (ids,
// sizes, order, at most one of each), custom sections and the name section, the checks that span
// sections, and the module's index spaces. The sections' contents are parsed in sections.ts.
// Decoding checks only what the binary format says; validation (valid/) checks the rest, and the
// instructions of function bodies are decoded and checked there too.

import { ErrorKind, clearError, fail, hasError } from "./error";
import { Reader } from "./reader";
import { ExternKind, Module } from "./module";
import {
  Decoder, byteLength, codeSection, count, dataCountSection, dataSection, elemSection, exportSection,
  functionSection, globalSection, importSection, malformed, memorySection, startSection,
  tableSection, typeSection,
} from "./sections";

const MAGIC: u32 = 0x6d736100; // "\0asm"
const VERSION: u32 = 1;

const enum SectionId {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Global = 6,
  Export = 7,
  Start = 8,
  Elem = 9,
  Code = 10,
  Data = 11,
  DataCount = 12,
}

// Position of a non-custom section in the required order; the data count section, added later,
// has the highest id but comes between the element and code sections.
function sectionRank(id: i32): i32 {
  if (id == SectionId.DataCount) return SectionId.Elem + 1;
  if (id >= SectionId.Code) return id + 1;
  return id;
}

// Decodes the module in [bytes, bytes + length). On success the module owns that block; on
// failure the error is set (kind Malformed, or Invalid for the few validation errors that are
// found while decoding) and null is returned, and the block still belongs to the caller.
export function decodeModule(bytes: usize, length: u32): Module | null {
  clearError();
  const r = new Reader(bytes, bytes, bytes + length);
  const m = new Module();
  m.bytes = bytes;
  m.length = length;
  const d = new Decoder(r, m);

  // 5.5.16 Modules: the preamble
  const magic = r.fixed32();
  if (r.failed) return null;
  if (magic != MAGIC) { malformed(r, "magic header not detected", bytes); return null; }
  const version = r.fixed32();
  if (r.failed) return null;
  if (version != VERSION) { malformed(r, "unknown binary version", bytes + 4); return null; }

  // 5.5.2 Sections
  let lastRank: i32 = 0;
  let dataCount: u32 = 0;
  let hasDataCount = false;
  let hasNames = false;
  while (!r.atEnd) {
    const idAt = r.pos;
    const id = <i32>r.u8();
    if (id > SectionId.DataCount) { malformed(r, "malformed section id", idAt); return null; }
    const size = byteLength(r);
    if (r.failed) return null;
    const start = r.pos;
    const end = start + size;

    if (id == SectionId.Custom) {
      hasNames = customSection(d, end, hasNames);
      if (r.failed) return null;
      r.pos = end;
      continue;
    }

    // Out of order and repeated sections get the reference interpreter's message: it reads the
    // sections in order and finds this one left over.
    const rank = sectionRank(id);
    if (rank <= lastRank) { malformed(r, "unexpected content after last section", idAt); return null; }
    lastRank = rank;
    d.sectionEnd = end;
    switch (id) {
      case SectionId.Type: typeSection(d); break;
      case SectionId.Import: importSection(d); break;
      case SectionId.Function: functionSection(d); break;
      case SectionId.Table: tableSection(d); break;
      case SectionId.Memory: memorySection(d); break;
      case SectionId.Global: globalSection(d); break;
      case SectionId.Export: exportSection(d); break;
      case SectionId.Start: startSection(d); break;
      case SectionId.Elem: elemSection(d); break;
      case SectionId.DataCount: dataCount = dataCountSection(d); hasDataCount = true; break;
      case SectionId.Code: codeSection(d); break;
      case SectionId.Data: dataSection(d); break;
    }
    if (r.failed) return null;
    if (r.pos != end) { malformed(r, "section size mismatch", start); return null; }
  }

  // Checks across sections. An absent section counts as empty.
  if (<u32>m.funcs.length != <u32>m.codes.length) {
    malformed(r, "function and code section have inconsistent lengths", r.pos);
    return null;
  }
  if (hasDataCount) {
    if (dataCount != <u32>m.datas.length) {
      malformed(r, "data count and data section have inconsistent lengths", r.pos);
      return null;
    }
    m.dataCount = <i32>dataCount; // at most the data section's length, so it fits
  }

  const deferred = d.deferredMessage;
  if (deferred !== null) {
    fail(ErrorKind.Invalid, deferred, d.deferredOffset);
    return null;
  }

  fillIndexSpaces(m);
  return m;
}

// ---------------------------------------------------------------------------------------------
// 5.5.3 Custom sections

// Reads a custom section's name and, for the first "name" section, its contents. Returns whether
// a name section has been seen (including this one).
function customSection(d: Decoder, end: usize, hasNames: bool): bool {
  const r = d.r;
  // The name must lie inside the section.
  const moduleEnd = r.end;
  r.end = end;
  const name = r.name();
  r.end = moduleEnd;
  if (name === null) return hasNames;
  if (name != "name" || hasNames) return hasNames;
  nameSection(d.m, r.base, r.pos, end);
  return true;
}

// Appendix 7.4 Name section: the module name (subsection 0) and function names (subsection 1);
// other subsections are skipped. Names are debugging information, so a malformed name section is
// ignored as a whole rather than failing the module.
function nameSection(m: Module, base: usize, start: usize, end: usize): void {
  // Decoding has not failed so far (it stops at the first error), so any error from here on is
  // this section's and is cleared below.
  const r = new Reader(base, start, end);
  let moduleName: string | null = null;
  const funcNames = new Map<u32, string>();
  let ok = true;
  let lastId: i32 = -1;
  while (ok && !r.atEnd) {
    const id = r.u8();
    const size = byteLength(r);
    // Subsections come in increasing id order, each at most once.
    if (r.failed || <i32>id <= lastId) { ok = false; break; }
    lastId = <i32>id;
    const subEnd = r.pos + size;
    r.end = subEnd;
    if (id == 0) {
      moduleName = r.name();
    } else if (id == 1) {
      ok = nameMap(r, funcNames);
    }
    if (r.failed || (id <= 1 && r.pos != subEnd)) ok = false;
    r.pos = subEnd;
    r.end = end;
  }
  if (hasError()) {
    clearError();
    ok = false;
  }
  if (!ok) return;
  if (moduleName !== null) m.moduleName = moduleName;
  m.funcNames = funcNames;
}

// A name map: (index, name) pairs, indices strictly increasing.
function nameMap(r: Reader, out: Map<u32, string>): bool {
  const n = count(r);
  let prev: i64 = -1;
  for (let i: u32 = 0; i < n; i++) {
    const index = r.u32();
    const name = r.name();
    if (name === null || r.failed || <i64>index <= prev) return false;
    prev = <i64>index;
    out.set(index, name);
  }
  return !r.failed;
}

// ---------------------------------------------------------------------------------------------
// 2.5 Index spaces: imports first, in import order, then the module's own definitions.

function fillIndexSpaces(m: Module): void {
  for (let i = 0, n = m.imports.length; i < n; i++) {
    const imp = unchecked(m.imports[i]);
    switch (<i32>imp.kind) {
      case ExternKind.Func: m.funcTypeIndices.push(imp.typeIndex); break;
      case ExternKind.Table: m.tableTypes.push(imp.table!); break;
      case ExternKind.Memory: m.memoryTypes.push(imp.memory!); break;
      case ExternKind.Global: m.globalTypes.push(imp.global!); break;
    }
  }
  for (let i = 0, n = m.funcs.length; i < n; i++) m.funcTypeIndices.push(unchecked(m.funcs[i]));
  for (let i = 0, n = m.tables.length; i < n; i++) m.tableTypes.push(unchecked(m.tables[i]));
  for (let i = 0, n = m.memories.length; i < n; i++) m.memoryTypes.push(unchecked(m.memories[i]));
  for (let i = 0, n = m.globals.length; i < n; i++) m.globalTypes.push(unchecked(m.globals[i]).type);
}
