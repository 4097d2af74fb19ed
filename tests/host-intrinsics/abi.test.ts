// The boundary codec of host-intrinsics/abi.ts: value cells and describe blobs, checked against
// the layout guest-vm/ABI.md spells out byte by byte.

import { describe, expect, it } from 'vitest';
import { AbiError, decodeFuncType, encodeFuncType, readCell, writeCell, type Value } from '../../host-intrinsics/abi.js';

describe('cells', () => {
  const cell = () => new DataView(new ArrayBuffer(8));
  const bytes = (view: DataView) => [...new Uint8Array(view.buffer)];

  it('writes 32-bit values little-endian with the upper half zeroed', () => {
    const view = cell();
    view.setBigUint64(0, 0xffffffffffffffffn, true);
    writeCell(view, 0, { type: 'i32', value: -2 });
    expect(bytes(view)).toEqual([0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    writeCell(view, 0, { type: 'f32', bits: 0x7fa00001 });
    expect(bytes(view)).toEqual([0x01, 0x00, 0xa0, 0x7f, 0, 0, 0, 0]);
  });

  it('encodes references as N + 1 with 0 for null', () => {
    const view = cell();
    writeCell(view, 0, { type: 'externref', value: 0 });
    expect(view.getUint32(0, true)).toBe(1);
    writeCell(view, 0, { type: 'funcref', value: null });
    expect(view.getUint32(0, true)).toBe(0);
    expect(() => writeCell(view, 0, { type: 'externref', value: -1 })).toThrow(AbiError);
  });

  it('reads back every type unchanged, NaN payloads and 64-bit extremes included', () => {
    const values: Value[] = [
      { type: 'i32', value: -2147483648 },
      { type: 'i64', value: -9223372036854775808n },
      { type: 'f32', bits: 0xff800001 },
      { type: 'f64', bits: 0x7ff0000000000001n },
      { type: 'funcref', value: 7 },
      { type: 'externref', value: null },
    ];
    for (const value of values) {
      const view = cell();
      writeCell(view, 0, value);
      expect(readCell(view, 0, value.type)).toEqual(value);
    }
  });

  it('ignores the upper half of an i32 on input', () => {
    const view = cell();
    view.setBigUint64(0, 0x1234567800000005n, true);
    expect(readCell(view, 0, 'i32')).toEqual({ type: 'i32', value: 5 });
  });
});

describe('describe blobs', () => {
  it('encodes a func typedesc as u32 np, params, u32 nr, results', () => {
    const desc = encodeFuncType({ params: ['i32', 'f64'], results: ['externref'] });
    expect([...desc]).toEqual([2, 0, 0, 0, 0x7f, 0x7c, 1, 0, 0, 0, 0x6f]);
    expect(decodeFuncType(desc)).toEqual({ params: ['i32', 'f64'], results: ['externref'] });
  });

  it('refuses truncated or oversized blobs and unknown codes', () => {
    const blob = encodeFuncType({ params: ['i32'], results: [] });
    expect(() => decodeFuncType(blob.subarray(0, blob.length - 1))).toThrow(AbiError);
    expect(() => decodeFuncType(Uint8Array.from([...blob, 0]))).toThrow(AbiError);
    expect(() => decodeFuncType(Uint8Array.from([1, 0, 0, 0, 0x40, 0, 0, 0, 0]))).toThrow(/0x40/);
  });
});
