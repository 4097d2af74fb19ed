// The spec runner's value handling as pure functions: parsing wast2json values (unsigned decimals
// of bit patterns), matching results against expectations (exact bits, NaN classes, references),
// checking trap messages, and formatting values for failure reports.

import { TRAP_MESSAGES, type Value } from '../../host-intrinsics/abi.js';

/** A value as wast2json writes it; `value` is a lane list for v128 and absent in types-only lists. */
export interface JsonValue {
  type: string;
  value?: string | string[];
  lane_type?: string;
}

export type NanClass = 'canonical' | 'arithmetic';
export type Expected = { kind: 'exact'; value: Value } | { kind: 'nan'; type: 'f32' | 'f64'; nan: NanClass };

/** A command that cannot pass for a reason the runner states itself (reported without an error name). */
export class SpecFailure extends Error {
  override name = 'SpecFailure';
}

const DECIMAL = /^[0-9]+$/;

export function parseUnsigned(text: unknown, bits: 32 | 64): bigint {
  if (typeof text !== 'string' || !DECIMAL.test(text)) throw new SpecFailure(`not an unsigned decimal: ${JSON.stringify(text)}`);
  const n = BigInt(text);
  if (n >> BigInt(bits) !== 0n) throw new SpecFailure(`${text} does not fit in ${bits} bits`);
  return n;
}

export function parseValue(json: JsonValue): Value {
  const text = json.value;
  switch (json.type) {
    case 'i32':
      return { type: 'i32', value: Number(BigInt.asIntN(32, parseUnsigned(text, 32))) };
    case 'i64':
      return { type: 'i64', value: BigInt.asIntN(64, parseUnsigned(text, 64)) };
    case 'f32':
      return { type: 'f32', bits: Number(parseUnsigned(text, 32)) };
    case 'f64':
      return { type: 'f64', bits: parseUnsigned(text, 64) };
    case 'funcref':
    case 'externref':
      return { type: json.type, value: text === 'null' ? null : Number(parseUnsigned(text, 32)) };
    case 'v128':
      throw new SpecFailure('v128 values cannot cross the VM ABI (8-byte cells)');
    default:
      throw new SpecFailure(`unknown value type ${JSON.stringify(json.type)}`);
  }
}

export function parseExpected(json: JsonValue): Expected {
  if ((json.type === 'f32' || json.type === 'f64') && (json.value === 'nan:canonical' || json.value === 'nan:arithmetic')) {
    return { kind: 'nan', type: json.type, nan: json.value === 'nan:canonical' ? 'canonical' : 'arithmetic' };
  }
  return { kind: 'exact', value: parseValue(json) };
}

// Either sign is allowed; canonical fixes the whole payload, arithmetic only the quiet bit. Both
// masks include the exponent, so a non-NaN never matches.
export function isNan32(bits: number, nan: NanClass): boolean {
  return nan === 'canonical' ? (bits & 0x7fffffff) === 0x7fc00000 : (bits & 0x7fc00000) === 0x7fc00000;
}

export function isNan64(bits: bigint, nan: NanClass): boolean {
  return nan === 'canonical'
    ? (bits & 0x7fffffffffffffffn) === 0x7ff8000000000000n
    : (bits & 0x7ff8000000000000n) === 0x7ff8000000000000n;
}

/** Same type and same bits; references are equal when their numbers are. */
export function sameValue(a: Value, b: Value): boolean {
  switch (a.type) {
    case 'i32':
      return b.type === 'i32' && (a.value | 0) === (b.value | 0);
    case 'i64':
      return b.type === 'i64' && BigInt.asUintN(64, a.value) === BigInt.asUintN(64, b.value);
    case 'f32':
      return b.type === 'f32' && a.bits >>> 0 === b.bits >>> 0;
    case 'f64':
      return b.type === 'f64' && BigInt.asUintN(64, a.bits) === BigInt.asUintN(64, b.bits);
    case 'funcref':
    case 'externref':
      return b.type === a.type && a.value === b.value;
  }
}

export function matches(expected: Expected, actual: Value): boolean {
  if (expected.kind === 'exact') return sameValue(expected.value, actual);
  if (actual.type === 'f32' && expected.type === 'f32') return isNan32(actual.bits, expected.nan);
  if (actual.type === 'f64' && expected.type === 'f64') return isNan64(actual.bits, expected.nan);
  return false;
}

export function matchesAll(expected: readonly Expected[], actual: readonly Value[]): boolean {
  return expected.length === actual.length && expected.every((e, i) => matches(e, actual[i]!));
}

/**
 * Whether an engine's message matches the suite's text. By prefix in both directions: the suite has
 * "uninitialized element 2" where engines say "uninitialized element".
 */
export function messageMatches(expectedText: string, message: string): boolean {
  return message.length > 0 && (message.startsWith(expectedText) || expectedText.startsWith(message));
}

/** Why a trap does not satisfy `assert_trap`'s text, or null when it does. */
export function trapMismatch(expectedText: string, code: number, message: string): string | null {
  if (!messageMatches(expectedText, message)) return `expected trap "${expectedText}", got trap "${message}" (code ${code})`;
  // The code is what hosts act on, so it must name the same trap as the message.
  const canonical = TRAP_MESSAGES[code];
  if (canonical === undefined || !messageMatches(expectedText, canonical)) {
    return `trap message "${message}" matches, but code ${code} means "${canonical ?? 'no trap'}"`;
  }
  return null;
}

export function f32Bits(x: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x, true);
  return view.getUint32(0, true);
}

export function f64Bits(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return view.getBigUint64(0, true);
}

function hex(n: number | bigint, digits: number): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

export function formatValue(v: Value): string {
  switch (v.type) {
    case 'i32':
      return `i32:${v.value | 0}`;
    case 'i64':
      return `i64:${BigInt.asIntN(64, v.value)}`;
    case 'f32': {
      const view = new DataView(new ArrayBuffer(4));
      view.setUint32(0, v.bits >>> 0, true);
      return `f32:${view.getFloat32(0, true)} (${hex(v.bits >>> 0, 8)})`;
    }
    case 'f64': {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt.asUintN(64, v.bits), true);
      return `f64:${view.getFloat64(0, true)} (${hex(BigInt.asUintN(64, v.bits), 16)})`;
    }
    case 'funcref':
    case 'externref':
      return `${v.type}:${v.value ?? 'null'}`;
  }
}

export function formatExpected(e: Expected): string {
  return e.kind === 'exact' ? formatValue(e.value) : `${e.type}:nan:${e.nan}`;
}
