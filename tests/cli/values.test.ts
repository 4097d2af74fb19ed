// How `--invoke` reads arguments and prints results (host-intrinsics/cli/values.ts): every
// spelling it accepts, what it refuses, and the exact output form of each value type.

import { describe, expect, it } from 'vitest';
import { ValueError, formatValue, parseValue } from '../../host-intrinsics/cli/values.js';
import type { ValType, Value } from '../../host-intrinsics/abi.js';

const noIndex = () => undefined;
const roundTrip = (type: ValType, text: string) => formatValue(parseValue(type, text), noIndex);

describe('integers', () => {
  it('take decimal or hex, signed or unsigned, and print signed decimal', () => {
    expect(roundTrip('i32', '-5')).toBe('i32:-5');
    expect(roundTrip('i32', '+5')).toBe('i32:5');
    expect(roundTrip('i32', '4294967295')).toBe('i32:-1');
    expect(roundTrip('i32', '0x80000000')).toBe('i32:-2147483648');
    expect(roundTrip('i32', '-2147483648')).toBe('i32:-2147483648');
    expect(roundTrip('i64', '18446744073709551615')).toBe('i64:-1');
    expect(roundTrip('i64', '-9223372036854775808')).toBe('i64:-9223372036854775808');
    expect(roundTrip('i64', '0x7fffffffffffffff')).toBe('i64:9223372036854775807');
  });

  it('refuses what is no integer or does not fit', () => {
    for (const [type, text] of [['i32', '4294967296'], ['i32', '-2147483649'], ['i64', '18446744073709551616'], ['i32', '1.0'], ['i32', ''], ['i32', '12abc'], ['i64', '0x']] as const) {
      expect(() => parseValue(type, text), `${type} ${text}`).toThrow(ValueError);
    }
  });
});

describe('floats', () => {
  it('take decimal, hex bits, nan and infinities, and print their bits', () => {
    expect(roundTrip('f64', '1.5')).toBe('f64:0x3ff8000000000000');
    expect(roundTrip('f64', '-0')).toBe('f64:0x8000000000000000');
    expect(roundTrip('f64', '1e300')).toBe('f64:0x7e37e43c8800759c');
    expect(roundTrip('f64', '.5')).toBe('f64:0x3fe0000000000000');
    expect(roundTrip('f64', '0x3ff0000000000000')).toBe('f64:0x3ff0000000000000');
    expect(roundTrip('f64', '0x1')).toBe('f64:0x0000000000000001');
    expect(roundTrip('f64', 'nan')).toBe('f64:0x7ff8000000000000');
    expect(roundTrip('f64', '-nan')).toBe('f64:0xfff8000000000000');
    expect(roundTrip('f64', 'inf')).toBe('f64:0x7ff0000000000000');
    expect(roundTrip('f64', '-inf')).toBe('f64:0xfff0000000000000');
    expect(roundTrip('f32', '0.1')).toBe('f32:0x3dcccccd');
    expect(roundTrip('f32', '1.5')).toBe('f32:0x3fc00000');
    expect(roundTrip('f32', '0x7fa00001')).toBe('f32:0x7fa00001'); // a NaN payload survives
    expect(roundTrip('f32', 'NaN')).toBe('f32:0x7fc00000');
    expect(roundTrip('f32', '-inf')).toBe('f32:0xff800000');
    expect(roundTrip('f32', '1e40')).toBe('f32:0x7f800000');
  });

  it('refuses what is no number, and hex with more digits than the type has bits', () => {
    for (const [type, text] of [['f64', '1.5.2'], ['f64', 'pi'], ['f64', ''], ['f32', '0x123456789'], ['f64', '0x1234567890abcdef0']] as const) {
      expect(() => parseValue(type, text), `${type} ${text}`).toThrow(ValueError);
    }
  });
});

describe('references', () => {
  it('print as ref.null, ref.func:<index> and ref.extern:<n>', () => {
    const index = (addr: number) => (addr === 17 ? 2 : undefined);
    const show = (v: Value) => formatValue(v, index);
    expect(show({ type: 'funcref', value: null })).toBe('ref.null');
    expect(show({ type: 'funcref', value: 17 })).toBe('ref.func:2');
    expect(show({ type: 'externref', value: null })).toBe('ref.null');
    expect(show({ type: 'externref', value: 5 })).toBe('ref.extern:5');
  });

  it('take null, or a number for an externref', () => {
    expect(parseValue('funcref', 'null')).toEqual({ type: 'funcref', value: null });
    expect(parseValue('externref', 'ref.null')).toEqual({ type: 'externref', value: null });
    expect(parseValue('externref', '42')).toEqual({ type: 'externref', value: 42 });
    expect(parseValue('externref', 'ref.extern:42')).toEqual({ type: 'externref', value: 42 });
    expect(() => parseValue('funcref', '3')).toThrow(ValueError);
    expect(() => parseValue('externref', '-1')).toThrow(ValueError);
    expect(() => parseValue('v128', '0')).toThrow(ValueError);
  });
});
