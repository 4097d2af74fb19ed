// A Wasabi-style static rewriter, the baseline the VM's monitors are compared against: it adds the
// import `wasabi.hook(i32 opcode)` and inserts `i32.const <opcode>; call $hook` before every
// instruction of every function body, so a host engine running the result natively calls the hook
// once per executed instruction (Wasabi, Lehmann & Pradel 2019, instruments the same way, with one
// low-level hook per instruction kind; one hook with the opcode as argument is its opcode-histogram
// analysis). 0xFC-prefixed instructions pass 0x100 + sub-opcode, as the VM's monitors number them.
//
// The hook becomes function 0, so every other function index shifts by one: `call`, `ref.func` (in
// bodies and constant expressions), element segments, exports and the start function are fixed.
// Sections are copied as they are otherwise; the name section is dropped (its indices would be
// stale). MVP plus bulk memory, reference types, saturating conversions, sign extension and
// multi-value block types; no SIMD, threads or exceptions (refused).

export const HOOK_MODULE = 'wasabi';
export const HOOK_NAME = 'hook';

export class RewriteError extends Error {}

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length, start = 0) {
    this.at = start;
  }
  byte(): number {
    if (this.at >= this.end) throw new RewriteError(`unexpected end at byte ${this.at}`);
    return this.bytes[this.at++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new RewriteError(`LEB128 too long at byte ${this.at}`);
    }
  }
  /** Skips a signed LEB128 of any width (its value is never needed). */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  skip(n: number): void {
    if (this.at + n > this.end) throw new RewriteError(`unexpected end at byte ${this.at}`);
    this.at += n;
  }
  slice(from: number, to = this.at): Uint8Array {
    return this.bytes.subarray(from, to);
  }
}

class Writer {
  private chunks: number[] = [];
  byte(b: number): this {
    this.chunks.push(b);
    return this;
  }
  u32(v: number): this {
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.chunks.push(b);
    } while (v !== 0);
    return this;
  }
  bytes(bs: Uint8Array | number[]): this {
    for (const b of bs) this.chunks.push(b);
    return this;
  }
  /** A length-prefixed byte vector (a section's or a body's contents). */
  sized(bs: Uint8Array): this {
    return this.u32(bs.length).bytes(bs);
  }
  done(): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(this.chunks);
  }
}

const utf8 = (s: string) => new TextEncoder().encode(s);

// Section ids in the order a module must have them (12, data count, comes before code).
const ORDER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
const rank = (id: number) => ORDER.indexOf(id);

/** Copies a constant expression (up to and including its `end`), shifting `ref.func`'s index. */
function constExpr(r: Reader, w: Writer): void {
  for (;;) {
    const from = r.at;
    const op = r.byte();
    switch (op) {
      case 0x0b: w.byte(op); return;
      case 0xd2: w.byte(op).u32(r.u32() + 1); continue;
      case 0x41: case 0x42: r.skipLeb(); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0x23: r.u32(); break; // global.get
      case 0xd0: r.byte(); break; // ref.null t
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended const
      default: throw new RewriteError(`opcode 0x${op.toString(16)} in a constant expression at byte ${from}`);
    }
    w.bytes(r.slice(from));
  }
}

function vecOfFuncIdx(r: Reader, w: Writer): void {
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) w.u32(r.u32() + 1);
}

function vecOfExpr(r: Reader, w: Writer): void {
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) constExpr(r, w);
}

function elementSection(r: Reader, w: Writer): void {
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    w.u32(flags);
    const copy = (read: () => void) => { const from = r.at; read(); w.bytes(r.slice(from)); };
    switch (flags) {
      case 0: constExpr(r, w); vecOfFuncIdx(r, w); break;
      case 1: case 3: copy(() => r.byte()); vecOfFuncIdx(r, w); break;
      case 2: copy(() => r.u32()); constExpr(r, w); copy(() => r.byte()); vecOfFuncIdx(r, w); break;
      case 4: constExpr(r, w); vecOfExpr(r, w); break;
      case 5: case 7: copy(() => r.byte()); vecOfExpr(r, w); break;
      case 6: copy(() => r.u32()); constExpr(r, w); copy(() => r.byte()); vecOfExpr(r, w); break;
      default: throw new RewriteError(`element segment flags ${flags}`);
    }
  }
}

function exportSection(r: Reader, w: Writer): void {
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const from = r.at;
    r.skip(r.u32());
    w.bytes(r.slice(from));
    const kind = r.byte();
    const index = r.u32();
    w.byte(kind).u32(kind === 0 ? index + 1 : index);
  }
}

function globalSection(r: Reader, w: Writer): void {
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    w.bytes([r.byte(), r.byte()]); // valtype, mutability
    constExpr(r, w);
  }
}

function skipBlockType(r: Reader): void {
  const b = r.bytes[r.at];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.at++;
  else r.skipLeb(); // s33 type index
}

/** Rewrites one function body (locals + expression), hooking every instruction. */
function body(r: Reader, w: Writer, hook: number, counts?: Map<number, number>): void {
  const groups = r.u32();
  const localsFrom = r.at;
  for (let i = 0; i < groups; i++) { r.u32(); r.byte(); }
  w.u32(groups).bytes(r.slice(localsFrom));
  let depth = 1;
  while (depth > 0) {
    const from = r.at;
    let op = r.byte();
    let shifted: number | undefined; // a function index to write shifted
    switch (op) {
      case 0x02: case 0x03: case 0x04: skipBlockType(r); depth++; break;
      case 0x0b: depth--; break;
      case 0x0c: case 0x0d: r.u32(); break;
      case 0x0e: { for (let n = r.u32(); n >= 0; n--) r.u32(); break; } // n labels + default
      case 0x10: shifted = r.u32(); break;
      case 0x11: r.u32(); r.u32(); break;
      case 0x1c: { const n = r.u32(); r.skip(n); break; }
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: r.u32(); break;
      case 0x3f: case 0x40: r.u32(); break;
      case 0x41: case 0x42: r.skipLeb(); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0xd0: r.byte(); break;
      case 0xd2: shifted = r.u32(); break;
      case 0xfc: {
        const sub = r.u32();
        op = 0x100 + sub;
        if (sub <= 7) break;
        switch (sub) {
          case 8: r.u32(); r.byte(); break; // memory.init data, mem
          case 9: case 13: case 15: case 16: case 17: r.u32(); break;
          case 10: r.byte(); r.byte(); break; // memory.copy
          case 11: r.byte(); break; // memory.fill
          case 12: case 14: r.u32(); r.u32(); break;
          default: throw new RewriteError(`unknown instruction 0xfc ${sub} at byte ${from}`);
        }
        break;
      }
      default:
        if ((op >= 0x28 && op <= 0x3e)) { r.u32(); r.u32(); break; } // memarg
        if (op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1) break;
        if (op >= 0x45 && op <= 0xc4) break;
        throw new RewriteError(`unsupported instruction 0x${op.toString(16)} at byte ${from}`);
    }
    // i32.const <opcode>; call $hook — then the instruction itself.
    w.byte(0x41).bytes(signedLeb(op)).byte(0x10).u32(hook);
    counts?.set(op, (counts.get(op) ?? 0) + 1);
    if (shifted === undefined) w.bytes(r.slice(from));
    else w.byte(op).u32(shifted + 1);
  }
  if (r.at !== r.end) throw new RewriteError(`function body ends at byte ${r.at}, before its size says (${r.end})`);
}

function signedLeb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

export interface RewriteResult {
  bytes: Uint8Array<ArrayBuffer>;
  /** Hook sites inserted, by opcode (static: how many instructions of each kind the bodies hold). */
  sites: Map<number, number>;
}

/** The instrumented module. Throws RewriteError on what it does not parse. */
export function rewrite(input: Uint8Array): RewriteResult {
  const r = new Reader(input);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (input.length < 8 || magic.some((b, i) => input[i] !== b)) throw new RewriteError('not a wasm binary module (version 1)');
  r.at = 8;
  const sections: { id: number; from: number; to: number }[] = [];
  while (r.at < input.length) {
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, from: r.at, to: r.at + size });
    r.skip(size);
  }

  // The hook's type: appended to the type section (or a new one).
  const typeSec = sections.find((s) => s.id === 1);
  const typeCount = typeSec ? new Reader(input, typeSec.to, typeSec.from).u32() : 0;
  const hookType = typeCount;
  const sites = new Map<number, number>();

  const out = new Writer().bytes(magic);
  const emit = (id: number, contents: Uint8Array) => out.byte(id).sized(contents);
  const emitType = (s?: { from: number; to: number }) => {
    const w = new Writer().u32(typeCount + 1);
    if (s) { const sr = new Reader(input, s.to, s.from); sr.u32(); w.bytes(sr.slice(sr.at, s.to)); }
    emit(1, w.bytes([0x60, 0x01, 0x7f, 0x00]).done());
  };
  const emitImport = (s?: { from: number; to: number }) => {
    const w = new Writer();
    const count = s ? new Reader(input, s.to, s.from) : undefined;
    const n = count ? count.u32() : 0;
    const name = (str: string) => { const b = utf8(str); w.u32(b.length).bytes(b); };
    w.u32(n + 1);
    name(HOOK_MODULE);
    name(HOOK_NAME);
    w.byte(0x00).u32(hookType);
    if (count) w.bytes(count.slice(count.at, s!.to));
    emit(2, w.done());
  };
  let typeDone = false;
  let importDone = false;
  const catchUp = (id: number) => {
    // Before the first section that follows them, the sections this module lacked.
    if (!typeDone && (id === 0 ? false : rank(id) > rank(1))) { emitType(); typeDone = true; }
    if (!importDone && (id === 0 ? false : rank(id) > rank(2))) { emitImport(); importDone = true; }
  };

  for (const s of sections) {
    const sr = new Reader(input, s.to, s.from);
    if (s.id !== 0) catchUp(s.id);
    switch (s.id) {
      case 0: {
        const len = sr.u32();
        const name = new TextDecoder().decode(sr.slice(sr.at, sr.at + len));
        if (name === 'name') continue;
        emit(0, input.subarray(s.from, s.to));
        continue;
      }
      case 1: emitType(s); typeDone = true; continue;
      case 2: emitImport(s); importDone = true; continue;
      case 6: { const w = new Writer(); globalSection(sr, w); emit(6, w.done()); continue; }
      case 7: { const w = new Writer(); exportSection(sr, w); emit(7, w.done()); continue; }
      case 8: emit(8, new Writer().u32(sr.u32() + 1).done()); continue;
      case 9: { const w = new Writer(); elementSection(sr, w); emit(9, w.done()); continue; }
      case 10: {
        const w = new Writer();
        const n = sr.u32();
        w.u32(n);
        for (let i = 0; i < n; i++) {
          const size = sr.u32();
          const br = new Reader(input, sr.at + size, sr.at);
          const bw = new Writer();
          body(br, bw, 0, sites);
          w.sized(bw.done());
          sr.at += size;
        }
        emit(10, w.done());
        continue;
      }
      default: emit(s.id, input.subarray(s.from, s.to));
    }
  }
  if (!typeDone) emitType();
  if (!importDone) emitImport();
  return { bytes: out.done(), sites };
}
