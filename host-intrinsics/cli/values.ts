// Wasm values on the command line: parsing `--invoke` arguments by the export's parameter types,
// and printing results so that output compares exactly (integers in signed decimal, floats as the
// hex of their bits, references by what they name).

import type { ValType, Value } from '../wasi/engine.js';

export class ValueError extends Error {
  override name = 'ValueError';
}

const F32_BITS = new DataView(new ArrayBuffer(4));
const F64_BITS = new DataView(new ArrayBuffer(8));

function f32Bits(x: number): number {
  F32_BITS.setFloat32(0, x, true);
  return F32_BITS.getUint32(0, true);
}
function f64Bits(x: number): bigint {
  F64_BITS.setFloat64(0, x, true);
  return F64_BITS.getBigUint64(0, true);
}

function integer(text: string, bits: 32 | 64): bigint {
  if (!/^[+-]?(\d+|0x[0-9a-f]+)$/i.test(text)) throw new ValueError(`not an integer: ${text}`);
  const negative = text.startsWith('-');
  const magnitude = BigInt(text.replace(/^[+-]/, ''));
  const value = negative ? -magnitude : magnitude;
  // Signed or unsigned spellings of the same bits are both accepted (-1 and 4294967295).
  if (value < -(1n << BigInt(bits - 1)) || value >= 1n << BigInt(bits)) throw new ValueError(`out of range for i${bits}: ${text}`);
  return BigInt.asIntN(bits, value);
}

const NAMED: Record<string, number> = { nan: NaN, '+nan': NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A float argument: decimal, hex bits (`0x3ff0000000000000`), `nan`, `-nan`, `inf`, `-inf`. */
function float(text: string, bits: 32 | 64): bigint {
  const t = text.toLowerCase();
  if (/^0x[0-9a-f]+$/.test(t)) {
    if (t.length - 2 > bits / 4) throw new ValueError(`more than ${bits / 4} hex digits for f${bits}: ${text}`);
    return BigInt(t);
  }
  if (t === '-nan') return bits === 32 ? 0xffc00000n : 0xfff8000000000000n;
  const x = t in NAMED ? NAMED[t] : DECIMAL.test(t) ? Number(t) : undefined;
  if (x === undefined) throw new ValueError(`not a number: ${text}`);
  return bits === 32 ? BigInt(f32Bits(x)) : f64Bits(x);
}

export function parseValue(type: ValType, text: string): Value {
  switch (type) {
    case 'i32':
      return { type, value: Number(integer(text, 32)) };
    case 'i64':
      return { type, value: integer(text, 64) };
    case 'f32':
      return { type, bits: Number(float(text, 32)) };
    case 'f64':
      return { type, bits: float(text, 64) };
    case 'funcref':
      if (text === 'null' || text === 'ref.null') return { type, value: null };
      throw new ValueError(`a funcref argument can only be null: ${text}`);
    case 'externref': {
      if (text === 'null' || text === 'ref.null') return { type, value: null };
      const n = text.replace(/^ref\.extern:/, '');
      if (!/^\d+$/.test(n) || Number(n) > 0xfffffffe) throw new ValueError(`not an externref (null or a number): ${text}`);
      return { type, value: Number(n) };
    }
    default:
      throw new ValueError(`${type} values cannot be passed on the command line`);
  }
}

/** One result line; `funcIndex` maps a function's store address to its index in the module. */
export function formatValue(v: Value, funcIndex: (addr: number) => number | undefined): string {
  switch (v.type) {
    case 'i32':
    case 'i64':
      return `${v.type}:${v.value}`;
    case 'f32':
      return `f32:0x${(v.bits >>> 0).toString(16).padStart(8, '0')}`;
    case 'f64':
      return `f64:0x${BigInt.asUintN(64, v.bits).toString(16).padStart(16, '0')}`;
    case 'funcref':
      return v.value === null ? 'ref.null' : `ref.func:${funcIndex(v.value) ?? v.value}`;
    case 'externref':
      return v.value === null ? 'ref.null' : `ref.extern:${v.value}`;
  }
}
