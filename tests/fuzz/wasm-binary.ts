// Just enough of the Wasm 2.0 binary format for the fuzzers: split a module into sections, read
// its types, imports, exports and globals, walk function bodies instruction by instruction, and
// rewrite a module (export every global and the memory, canonicalise NaNs where their bits become
// observable, keep only some exports). Independent of the VM's own decoder on purpose.

import type { FuncType, ValType } from '../../host-intrinsics/vm.js';

export class BinaryError extends Error {
  override name = 'BinaryError';
}

/** An opcode (or 0xfc sub-opcode, then `sub` >= 0) outside Wasm 2.0. */
export class UnknownOpcode extends BinaryError {
  constructor(readonly op: number, readonly sub: number, at: number) {
    super(sub >= 0 ? `unknown 0xfc ${sub} at ${at}` : `unknown opcode 0x${op.toString(16)} at ${at}`);
  }
}

export class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  u8(): number {
    if (this.pos >= this.end) throw new BinaryError(`unexpected end at ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.u8();
      if (shift === 28 && b > 0x0f) throw new BinaryError(`u32 LEB too long at ${this.pos}`);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
  }
  /** Skips a signed LEB of at most `bits` bits. */
  sleb(bits: number): void {
    for (let n = 0; n < Math.ceil(bits / 7); n++) if ((this.u8() & 0x80) === 0) return;
    throw new BinaryError(`signed LEB too long at ${this.pos}`);
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new BinaryError(`unexpected end at ${this.pos}`);
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.bytes.subarray(start, this.pos));
  }
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

export function encodeName(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

export interface Section {
  id: number;
  /** Offset of the id byte. */
  start: number;
  payloadStart: number;
  end: number;
}

export const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || HEADER.some((b, i) => bytes[i] !== b)) throw new BinaryError('bad header');
  const out: Section[] = [];
  const r = new Reader(bytes, 8);
  while (!r.done) {
    const start = r.pos;
    const id = r.u8();
    const size = r.u32();
    const payloadStart = r.pos;
    r.skip(size);
    out.push({ id, start, payloadStart, end: r.pos });
  }
  return out;
}

export function encodeSection(id: number, payload: ArrayLike<number>): number[] {
  return [id, ...uleb(payload.length), ...Array.from(payload)];
}

export function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

/**
 * Each function body of a code section (payload [start, end)): `visit` gets a reader placed just
 * after the body's local declarations (each local type read by `localType`), and the offsets
 * where the entry's bytes start (after its size) and end.
 */
export function forEachBody(bytes: Uint8Array, start: number, end: number, localType: (r: Reader) => unknown,
  visit: (body: Reader, entryStart: number, entryEnd: number) => void): void {
  const r = new Reader(bytes, start, end);
  for (let n = r.u32(); n > 0; n--) {
    const size = r.u32();
    const entryStart = r.pos;
    const entryEnd = r.pos + size;
    const body = new Reader(bytes, entryStart, entryEnd);
    for (let groups = body.u32(); groups > 0; groups--) {
      body.u32();
      localType(body);
    }
    visit(body, entryStart, entryEnd);
    r.pos = entryEnd;
  }
}

function valtype(r: Reader): ValType {
  const at = r.pos;
  const t = VALTYPES[r.u8()];
  if (!t) throw new BinaryError(`bad value type at ${at}`);
  return t;
}

function limits(r: Reader): { min: number; max: number | null } {
  const flag = r.u8();
  const min = r.u32();
  return { min, max: flag & 1 ? r.u32() : null };
}

/** Skips a constant expression (any instructions up to the matching end). */
function skipExpr(r: Reader): void {
  walkInstructions(r, () => {});
}

export type ImportInfo =
  | { module: string; name: string; kind: 'func'; type: FuncType; typeIndex: number }
  | { module: string; name: string; kind: 'table'; elem: ValType; min: number; max: number | null }
  | { module: string; name: string; kind: 'memory'; min: number; max: number | null }
  | { module: string; name: string; kind: 'global'; type: ValType; mutable: boolean };

export interface ModuleInfo {
  types: FuncType[];
  imports: ImportInfo[];
  /** Type index of every function, imports first. */
  funcTypes: number[];
  importedFuncs: number;
  tables: { elem: ValType; min: number; max: number | null }[];
  memories: { min: number; max: number | null }[];
  globals: { type: ValType; mutable: boolean }[];
  exports: { name: string; kind: 'func' | 'table' | 'memory' | 'global'; index: number }[];
  start: number | null;
  sections: Section[];
}

const KINDS = ['func', 'table', 'memory', 'global'] as const;

export function parseModule(bytes: Uint8Array): ModuleInfo {
  const sections = readSections(bytes);
  const info: ModuleInfo = {
    types: [], imports: [], funcTypes: [], importedFuncs: 0, tables: [], memories: [], globals: [], exports: [], start: null, sections,
  };
  for (const s of sections) {
    const r = new Reader(bytes, s.payloadStart, s.end);
    const count = () => r.u32();
    switch (s.id) {
      case 1:
        for (let n = count(); n > 0; n--) {
          if (r.u8() !== 0x60) throw new BinaryError('bad func type');
          const params = Array.from({ length: r.u32() }, () => valtype(r));
          const results = Array.from({ length: r.u32() }, () => valtype(r));
          info.types.push({ params, results });
        }
        break;
      case 2:
        for (let n = count(); n > 0; n--) {
          const module = r.name();
          const name = r.name();
          const kind = r.u8();
          if (kind === 0) {
            const typeIndex = r.u32();
            const type = info.types[typeIndex];
            if (!type) throw new BinaryError('bad import type index');
            info.imports.push({ module, name, kind: 'func', type, typeIndex });
            info.funcTypes.push(typeIndex);
            info.importedFuncs++;
          } else if (kind === 1) {
            const elem = valtype(r);
            const t = { elem, ...limits(r) };
            info.imports.push({ module, name, kind: 'table', ...t });
            info.tables.push(t);
          } else if (kind === 2) {
            const m = limits(r);
            info.imports.push({ module, name, kind: 'memory', ...m });
            info.memories.push(m);
          } else if (kind === 3) {
            const g = { type: valtype(r), mutable: r.u8() === 1 };
            info.imports.push({ module, name, kind: 'global', ...g });
            info.globals.push(g);
          } else throw new BinaryError('bad import kind');
        }
        break;
      case 3:
        for (let n = count(); n > 0; n--) info.funcTypes.push(r.u32());
        break;
      case 4:
        for (let n = count(); n > 0; n--) info.tables.push({ elem: valtype(r), ...limits(r) });
        break;
      case 5:
        for (let n = count(); n > 0; n--) info.memories.push(limits(r));
        break;
      case 6:
        for (let n = count(); n > 0; n--) {
          info.globals.push({ type: valtype(r), mutable: r.u8() === 1 });
          skipExpr(r);
        }
        break;
      case 7:
        for (let n = count(); n > 0; n--) {
          const name = r.name();
          const kind = KINDS[r.u8()];
          if (!kind) throw new BinaryError('bad export kind');
          info.exports.push({ name, kind, index: r.u32() });
        }
        break;
      case 8:
        info.start = r.u32();
        break;
    }
  }
  return info;
}

export function funcType(info: ModuleInfo, funcIndex: number): FuncType {
  const t = info.types[info.funcTypes[funcIndex] ?? -1];
  if (!t) throw new BinaryError(`no function ${funcIndex}`);
  return t;
}

// ── instructions ────────────────────────────────────────────────────────────────────────────────

function blockType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b !== undefined && VALTYPES[b])) r.pos++;
  else r.sleb(33);
}

function memarg(r: Reader): void {
  r.u32();
  r.u32();
}

/**
 * Walks instructions from `r.pos` to the `end` that closes the sequence (a function body or a
 * constant expression), calling `visit` with each opcode's offset, its opcode and (0xfc) sub-opcode.
 * Knows the Wasm 2.0 instruction set only; anything else is a BinaryError.
 */
export function walkInstructions(r: Reader, visit: (at: number, op: number, sub: number) => void): void {
  let depth = 1;
  while (depth > 0) {
    const at = r.pos;
    const op = r.u8();
    let sub = -1;
    switch (op) {
      case 0x02: case 0x03: case 0x04:
        blockType(r);
        depth++;
        break;
      case 0x0b:
        depth--;
        break;
      case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0xd2:
        r.u32();
        break;
      case 0x0e:
        for (let n = r.u32(); n >= 0; n--) r.u32();
        break;
      case 0x11:
        r.u32();
        r.u32();
        break;
      case 0x1c:
        for (let n = r.u32(); n > 0; n--) valtype(r);
        break;
      case 0x3f: case 0x40:
        r.u8();
        break;
      case 0x41:
        r.sleb(32);
        break;
      case 0x42:
        r.sleb(64);
        break;
      case 0x43:
        r.skip(4);
        break;
      case 0x44:
        r.skip(8);
        break;
      case 0xd0:
        valtype(r);
        break;
      case 0xfc:
        sub = r.u32();
        if (sub <= 7) break;
        if (sub === 8) { r.u32(); r.u8(); }
        else if (sub === 9 || sub === 13 || sub === 15 || sub === 16 || sub === 17) r.u32();
        else if (sub === 10) { r.u8(); r.u8(); }
        else if (sub === 11) r.u8();
        else if (sub === 12 || sub === 14) { r.u32(); r.u32(); }
        else throw new UnknownOpcode(op, sub, at);
        break;
      default:
        if (op >= 0x28 && op <= 0x3e) memarg(r);
        else if (!(op <= 0x01 || op === 0x05 || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1)) {
          throw new UnknownOpcode(op, -1, at);
        }
    }
    visit(at, op, sub);
  }
}

// ── rewriting ───────────────────────────────────────────────────────────────────────────────────

/** Names the instrumented module exports besides the module's own exports. */
export const GLOBAL_EXPORT_PREFIX = '__fuzz_global_';
export const MEMORY_EXPORT = '__fuzz_memory';

// Opcodes before which a float on top of the stack has its bits observed: reinterpretations,
// stores, and the sign operand of copysign.
const OBSERVE_F32 = new Set([0xbc, 0x38, 0x98]);
const OBSERVE_F64 = new Set([0xbd, 0x39, 0xa6]);

// (f32) -> f32: NaN -> the canonical NaN 0x7fc00000, else unchanged. Likewise for f64.
const CANON_F32_BODY = [0x00, 0x43, 0x00, 0x00, 0xc0, 0x7f, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0x5c, 0x1b, 0x0b];
const CANON_F64_BODY = [0x00, 0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0x62, 0x1b, 0x0b];

export interface InstrumentResult {
  bytes: Uint8Array;
  /** How many NaN canonicalisations were inserted. */
  canonicalised: number;
}

/**
 * The module, rewritten so that a differential run can compare everything exactly:
 * - every global and the memory are exported (appended after the module's own exports, so export
 *   indices the module itself uses, e.g. through call-export, keep their meaning);
 * - before every instruction that exposes a float's bits (i32.reinterpret_f32, i64.reinterpret_f64,
 *   f32/f64.store, the second operand of copysign), a call to a helper that replaces any NaN by the
 *   canonical positive NaN. The spec lets NaN results of arithmetic carry any sign and (for
 *   non-canonical inputs) any arithmetic payload, and V8 itself differs between its tiers; after
 *   this rewrite a NaN can only be observed as "a NaN", which both engines must agree on.
 * Custom sections are dropped.
 */
export function instrument(bytes: Uint8Array, options: { canonicaliseNaNs?: boolean } = {}): InstrumentResult {
  const canon = options.canonicaliseNaNs ?? true;
  const info = parseModule(bytes);
  const nfuncs = info.funcTypes.length;
  const typeF32 = info.types.length;
  const canonF32 = nfuncs;
  const canonF64 = nfuncs + 1;
  let canonicalised = 0;
  const parts: number[][] = [[...HEADER]];
  const sectionById = new Map(info.sections.filter((s) => s.id !== 0).map((s) => [s.id, s]));
  const payload = (s: Section) => Array.from(bytes.subarray(s.payloadStart, s.end));
  const withCount = (s: Section | undefined, extra: number[][]): number[] => {
    if (!s) return [...uleb(extra.length), ...extra.flat()];
    const r = new Reader(bytes, s.payloadStart, s.end);
    const n = r.u32();
    return [...uleb(n + extra.length), ...Array.from(bytes.subarray(r.pos, s.end)), ...extra.flat()];
  };
  const exportsToAdd: number[][] = [];
  const taken = new Set(info.exports.map((e) => e.name));
  info.globals.forEach((_, i) => {
    if (!taken.has(GLOBAL_EXPORT_PREFIX + i)) exportsToAdd.push([...encodeName(GLOBAL_EXPORT_PREFIX + i), 3, ...uleb(i)]);
  });
  if (info.memories.length > 0 && !taken.has(MEMORY_EXPORT)) exportsToAdd.push([...encodeName(MEMORY_EXPORT), 2, 0]);

  // Sections in their canonical order; ones the rewrite needs are created when absent.
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
  for (const id of order) {
    const s = sectionById.get(id);
    if (id === 1 && canon) parts.push(encodeSection(1, withCount(s, [[0x60, 1, 0x7d, 1, 0x7d], [0x60, 1, 0x7c, 1, 0x7c]])));
    else if (id === 3 && canon) parts.push(encodeSection(3, withCount(s, [uleb(typeF32), uleb(typeF32 + 1)])));
    else if (id === 7) parts.push(encodeSection(7, withCount(s, exportsToAdd)));
    else if (id === 10 && canon) {
      const bodies: number[][] = [];
      if (s) {
        forEachBody(bytes, s.payloadStart, s.end, valtype, (body, entryStart, end) => {
          const out: number[] = Array.from(bytes.subarray(entryStart, body.pos));
          let copied = body.pos;
          walkInstructions(body, (at, op) => {
            const helper = OBSERVE_F32.has(op) ? canonF32 : OBSERVE_F64.has(op) ? canonF64 : -1;
            if (helper < 0) return;
            out.push(...bytes.subarray(copied, at), 0x10, ...uleb(helper));
            copied = at;
            canonicalised++;
          });
          if (body.pos !== end) throw new BinaryError('function body size mismatch');
          out.push(...bytes.subarray(copied, end));
          bodies.push([...uleb(out.length), ...out]);
        });
      }
      bodies.push([...uleb(CANON_F32_BODY.length), ...CANON_F32_BODY], [...uleb(CANON_F64_BODY.length), ...CANON_F64_BODY]);
      parts.push(encodeSection(10, [...uleb(bodies.length), ...bodies.flat()]));
    } else if (s) parts.push(encodeSection(id, payload(s)));
  }
  return { bytes: concat(parts), canonicalised };
}

/** The module with only the exports whose names `keep` accepts (the rest of the module unchanged). */
export function filterExports(bytes: Uint8Array, keep: (name: string, index: number) => boolean): Uint8Array {
  const info = parseModule(bytes);
  const parts: number[][] = [[...HEADER]];
  for (const s of info.sections) {
    if (s.id !== 7) {
      parts.push(Array.from(bytes.subarray(s.start, s.end)));
      continue;
    }
    const kept = info.exports.filter((e, i) => keep(e.name, i));
    parts.push(encodeSection(7, [...uleb(kept.length), ...kept.flatMap((e) => [...encodeName(e.name), KINDS.indexOf(e.kind), ...uleb(e.index)])]));
  }
  return concat(parts);
}
