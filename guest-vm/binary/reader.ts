// A cursor over bytes in VM memory with the binary format's primitive encodings (spec 5.2).
// Reads never go past `end`: a read that would sets the error (kind Malformed) and returns 0, so
// callers check `failed` after a group of reads rather than after each one.

import { ErrorKind, fail, hasError } from "./error";

export class Reader {
  pos: usize; // absolute address of the next byte
  end: usize; // absolute address one past the last readable byte
  base: usize; // address of byte 0 of the module, for error offsets

  constructor(base: usize, pos: usize, end: usize) {
    this.base = base;
    this.pos = pos;
    this.end = end;
  }

  @inline get offset(): u32 { return <u32>(this.pos - this.base); }
  @inline get failed(): bool { return hasError(); }
  @inline get atEnd(): bool { return this.pos >= this.end; }
  @inline remaining(): u32 { return this.pos >= this.end ? 0 : <u32>(this.end - this.pos); }

  error(message: string): void {
    fail(ErrorKind.Malformed, message, this.offset);
    this.pos = this.end;
  }

  u8(): u32 {
    if (this.pos >= this.end) { this.error("unexpected end"); return 0; }
    return <u32>load<u8>(this.pos++);
  }

  // Unsigned LEB128 of at most 32 bits: at most 5 bytes, unused bits of the last byte zero.
  u32(): u32 {
    let result: u32 = 0;
    let shift: u32 = 0;
    while (true) {
      if (this.pos >= this.end) { this.error("unexpected end"); return 0; }
      const b = <u32>load<u8>(this.pos++);
      if (shift == 28) {
        if (b & 0x80) { this.error("integer representation too long"); return 0; }
        if (b & 0x70) { this.error("integer too large"); return 0; }
        return result | (b << 28);
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
    }
  }

  // Signed LEB128 of at most 32 bits.
  i32(): i32 {
    let result: i32 = 0;
    let shift: u32 = 0;
    while (true) {
      if (this.pos >= this.end) { this.error("unexpected end"); return 0; }
      const b = <i32>load<u8>(this.pos++);
      if (shift == 28) {
        if (b & 0x80) { this.error("integer representation too long"); return 0; }
        // The 4 high bits of the last byte must equal the sign bit (bit 3).
        const high = b & 0x70;
        if ((b & 0x08) ? high != 0x70 : high != 0) { this.error("integer too large"); return 0; }
        return result | (b << 28);
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        if (shift < 32 && (b & 0x40)) result |= -1 << shift;
        return result;
      }
    }
  }

  // Signed LEB128 of at most 33 bits, as used by block types; returns it widened to i64.
  s33(): i64 {
    let result: i64 = 0;
    let shift: u32 = 0;
    while (true) {
      if (this.pos >= this.end) { this.error("unexpected end"); return 0; }
      const b = <i64>load<u8>(this.pos++);
      if (shift == 28) {
        if (b & 0x80) { this.error("integer representation too long"); return 0; }
        // Bits 33.. of the value (bits 5,6 of this byte) must equal the sign bit (bit 4).
        const high = b & 0x60;
        if ((b & 0x10) ? high != 0x60 : high != 0) { this.error("integer too large"); return 0; }
        result |= b << 28;
        if (b & 0x10) result |= (<i64>-1) << 35;
        return result;
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        if (b & 0x40) result |= (<i64>-1) << shift;
        return result;
      }
    }
  }

  // Signed LEB128 of at most 64 bits.
  i64(): i64 {
    let result: i64 = 0;
    let shift: u32 = 0;
    while (true) {
      if (this.pos >= this.end) { this.error("unexpected end"); return 0; }
      const b = <i64>load<u8>(this.pos++);
      if (shift == 63) {
        if (b & 0x80) { this.error("integer representation too long"); return 0; }
        // Only bit 0 carries value; bits 1..6 must equal it (sign extension).
        if (b != 0 && b != 0x7f) { this.error("integer too large"); return 0; }
        return result | (b << 63);
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        if (shift < 64 && (b & 0x40)) result |= (<i64>-1) << shift;
        return result;
      }
    }
  }

  // Raw little-endian 4 and 8 byte values (float bit patterns).
  fixed32(): u32 {
    if (this.remaining() < 4) { this.error("unexpected end"); return 0; }
    const v = load<u32>(this.pos);
    this.pos += 4;
    return v;
  }

  fixed64(): u64 {
    if (this.remaining() < 8) { this.error("unexpected end"); return 0; }
    const v = load<u64>(this.pos);
    this.pos += 8;
    return v;
  }

  // A name: u32 length + UTF-8 bytes, validated. Returns null on error.
  name(): string | null {
    const len = this.u32();
    if (this.failed) return null;
    if (<u64>len > <u64>this.remaining()) { this.error("length out of bounds"); return null; }
    const start = this.pos;
    if (!validUtf8(start, len)) { this.error("malformed UTF-8 encoding"); return null; }
    this.pos += len;
    return String.UTF8.decodeUnsafe(start, len);
  }

  skip(n: u32): void {
    if (n > this.remaining()) { this.error("unexpected end"); return; }
    this.pos += n;
  }
}

// Well-formed UTF-8 per the Unicode standard: no overlongs, no surrogates, nothing past U+10FFFF.
export function validUtf8(p: usize, len: u32): bool {
  const end = p + len;
  while (p < end) {
    const b0 = <u32>load<u8>(p);
    if (b0 < 0x80) { p++; continue; }
    let n: u32;
    let min: u32;
    let cp: u32;
    if ((b0 & 0xe0) == 0xc0) { n = 1; min = 0x80; cp = b0 & 0x1f; }
    else if ((b0 & 0xf0) == 0xe0) { n = 2; min = 0x800; cp = b0 & 0x0f; }
    else if ((b0 & 0xf8) == 0xf0) { n = 3; min = 0x10000; cp = b0 & 0x07; }
    else return false;
    if (<usize>n >= end - p) return false;
    for (let i: u32 = 1; i <= n; i++) {
      const b = <u32>load<u8>(p + i);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}
