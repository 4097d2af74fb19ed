// The spec runner's own value handling: parsing wast2json values, the NaN classes, trap texts.

import { describe, expect, it } from 'vitest';
import {
  SpecFailure,
  f32Bits,
  f64Bits,
  formatValue,
  isNan32,
  isNan64,
  matches,
  matchesAll,
  parseExpected,
  parseValue,
  trapMismatch,
} from './values.js';

describe('parseValue', () => {
  it('reads i32 as the unsigned decimal of the bits', () => {
    expect(parseValue({ type: 'i32', value: '4294967295' })).toEqual({ type: 'i32', value: -1 });
    expect(parseValue({ type: 'i32', value: '2147483648' })).toEqual({ type: 'i32', value: -2147483648 });
    expect(parseValue({ type: 'i32', value: '7' })).toEqual({ type: 'i32', value: 7 });
  });

  it('reads i64 unsigned decimals beyond 2^53 exactly', () => {
    expect(parseValue({ type: 'i64', value: '18446744073709551615' })).toEqual({ type: 'i64', value: -1n });
    expect(parseValue({ type: 'i64', value: '9223372036854775808' })).toEqual({ type: 'i64', value: -9223372036854775808n });
    expect(parseValue({ type: 'i64', value: '9007199254740993' })).toEqual({ type: 'i64', value: 9007199254740993n });
  });

  it('keeps float bit patterns, NaN payloads included', () => {
    expect(parseValue({ type: 'f32', value: '2141192192' })).toEqual({ type: 'f32', bits: 0x7fa00000 });
    expect(parseValue({ type: 'f64', value: '18443366373989023744' })).toEqual({ type: 'f64', bits: 0xfff4000000000000n });
  });

  it('reads references as null or host reference N', () => {
    expect(parseValue({ type: 'externref', value: 'null' })).toEqual({ type: 'externref', value: null });
    expect(parseValue({ type: 'externref', value: '0' })).toEqual({ type: 'externref', value: 0 });
    expect(parseValue({ type: 'funcref', value: 'null' })).toEqual({ type: 'funcref', value: null });
  });

  it('refuses what is not an unsigned decimal of the right width', () => {
    expect(() => parseValue({ type: 'i32', value: '-1' })).toThrow(SpecFailure);
    expect(() => parseValue({ type: 'i32', value: '4294967296' })).toThrow(SpecFailure);
    expect(() => parseValue({ type: 'i64', value: '18446744073709551616' })).toThrow(SpecFailure);
    expect(() => parseValue({ type: 'f32', value: '0x10' })).toThrow(SpecFailure);
    expect(() => parseValue({ type: 'i32' })).toThrow(SpecFailure);
    expect(() => parseValue({ type: 'v128', lane_type: 'i32', value: ['0', '0', '0', '0'] })).toThrow(SpecFailure);
  });
});

describe('NaN classes', () => {
  const f32 = (bits: number) => ({ type: 'f32' as const, bits });
  const f64 = (bits: bigint) => ({ type: 'f64' as const, bits });
  const canonical32 = parseExpected({ type: 'f32', value: 'nan:canonical' });
  const arithmetic32 = parseExpected({ type: 'f32', value: 'nan:arithmetic' });
  const canonical64 = parseExpected({ type: 'f64', value: 'nan:canonical' });
  const arithmetic64 = parseExpected({ type: 'f64', value: 'nan:arithmetic' });

  it('canonical f32 accepts exactly the canonical payload, either sign', () => {
    expect(matches(canonical32, f32(0x7fc00000))).toBe(true);
    expect(matches(canonical32, f32(0xffc00000))).toBe(true);
    expect(matches(canonical32, f32(0x7fc00001))).toBe(false);
    expect(matches(canonical32, f32(0x7fa00000))).toBe(false);
    expect(matches(canonical32, f32(0x7f800000))).toBe(false); // +inf
  });

  it('arithmetic f32 accepts any quiet NaN, either sign, but no signalling NaN or infinity', () => {
    expect(matches(arithmetic32, f32(0x7fc00000))).toBe(true);
    expect(matches(arithmetic32, f32(0xffc00001))).toBe(true);
    expect(matches(arithmetic32, f32(0x7fffffff))).toBe(true);
    expect(matches(arithmetic32, f32(0x7fa00000))).toBe(false);
    expect(matches(arithmetic32, f32(0xff800000))).toBe(false);
    expect(matches(arithmetic32, f32(0x3fc00000))).toBe(false);
  });

  it('canonical and arithmetic f64 work on the 64-bit layout', () => {
    expect(matches(canonical64, f64(0x7ff8000000000000n))).toBe(true);
    expect(matches(canonical64, f64(0xfff8000000000000n))).toBe(true);
    expect(matches(canonical64, f64(0x7ff8000000000001n))).toBe(false);
    expect(matches(arithmetic64, f64(0xfff8000000000001n))).toBe(true);
    expect(matches(arithmetic64, f64(0x7ff4000000000000n))).toBe(false);
    expect(matches(arithmetic64, f64(0x7ff0000000000000n))).toBe(false);
  });

  it('a NaN class never matches the other float width', () => {
    expect(matches(canonical32, f64(0x7ff8000000000000n))).toBe(false);
    expect(matches(canonical64, f32(0x7fc00000))).toBe(false);
    expect(isNan32(0x7fc00000, 'canonical') && isNan64(0x7ff8000000000000n, 'arithmetic')).toBe(true);
  });
});

describe('exact matching', () => {
  it('compares floats by bits, so -0 is not +0 and NaN payloads must agree', () => {
    const zero = parseExpected({ type: 'f32', value: '0' });
    expect(matches(zero, { type: 'f32', bits: 0 })).toBe(true);
    expect(matches(zero, { type: 'f32', bits: 0x80000000 })).toBe(false);
    const nan = parseExpected({ type: 'f64', value: String(0x7ff4000000000000n) });
    expect(matches(nan, { type: 'f64', bits: 0x7ff4000000000000n })).toBe(true);
    expect(matches(nan, { type: 'f64', bits: 0x7ffc000000000000n })).toBe(false);
  });

  it('compares integers by bits and never across types', () => {
    const minusOne = parseExpected({ type: 'i32', value: '4294967295' });
    expect(matches(minusOne, { type: 'i32', value: -1 })).toBe(true);
    expect(matches(minusOne, { type: 'i64', value: -1n })).toBe(false);
    const big = parseExpected({ type: 'i64', value: '18446744073709551615' });
    expect(matches(big, { type: 'i64', value: -1n })).toBe(true);
    expect(matches(big, { type: 'i64', value: 1n })).toBe(false);
  });

  it('compares references by number, null only with null', () => {
    const ref = parseExpected({ type: 'externref', value: '42' });
    expect(matches(ref, { type: 'externref', value: 42 })).toBe(true);
    expect(matches(ref, { type: 'externref', value: 41 })).toBe(false);
    expect(matches(ref, { type: 'externref', value: null })).toBe(false);
    expect(matches(parseExpected({ type: 'funcref', value: 'null' }), { type: 'externref', value: null })).toBe(false);
  });

  it('needs as many results as expected', () => {
    const one = [parseExpected({ type: 'i32', value: '1' })];
    expect(matchesAll(one, [{ type: 'i32', value: 1 }])).toBe(true);
    expect(matchesAll(one, [])).toBe(false);
    expect(matchesAll(one, [{ type: 'i32', value: 1 }, { type: 'i32', value: 1 }])).toBe(false);
  });
});

describe('trapMismatch', () => {
  it('accepts the suite text as a prefix either way when the code agrees', () => {
    expect(trapMismatch('integer divide by zero', 2, 'integer divide by zero')).toBeNull();
    expect(trapMismatch('uninitialized element 2', 8, 'uninitialized element')).toBeNull();
  });

  it('rejects another message, an empty one, or a code that names another trap', () => {
    expect(trapMismatch('integer overflow', 4, 'invalid conversion to integer')).toMatch(/expected trap/);
    expect(trapMismatch('unreachable', 1, '')).toMatch(/expected trap/);
    expect(trapMismatch('undefined element', 6, 'undefined element')).toMatch(/code 6/);
    expect(trapMismatch('unreachable', 99, 'unreachable')).toMatch(/code 99/);
  });
});

describe('spectest constants and formatting', () => {
  it('rounds 666.6 to f32 before taking its bits', () => {
    expect(f32Bits(666.6)).toBe(0x4426a666);
    expect(f64Bits(666.6)).toBe(0x4084d4cccccccccdn);
  });

  it('formats values with their bits', () => {
    expect(formatValue({ type: 'f32', bits: 0x7fa00000 })).toBe('f32:NaN (0x7fa00000)');
    expect(formatValue({ type: 'i64', value: 0xffffffffffffffffn })).toBe('i64:-1');
    expect(formatValue({ type: 'externref', value: null })).toBe('externref:null');
  });
});
