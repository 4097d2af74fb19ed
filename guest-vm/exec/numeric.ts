// Numeric semantics that are more than one wasm instruction: the saturating truncations
// (spec 4.3.3 trunc_sat), written once for every width.

@inline export function truncSatI32(x: f64): i32 {
  if (isNaN<f64>(x)) return 0;
  if (x <= -2147483648.0) return i32.MIN_VALUE;
  if (x >= 2147483647.0) return i32.MAX_VALUE;
  return <i32>x;
}

@inline export function truncSatU32(x: f64): i32 {
  if (isNaN<f64>(x) || x <= 0) return 0;
  if (x >= 4294967295.0) return -1;
  return <i32><u32>x;
}

@inline export function truncSatI64(x: f64): i64 {
  if (isNaN<f64>(x)) return 0;
  if (x <= -9223372036854775808.0) return i64.MIN_VALUE;
  if (x >= 9223372036854775808.0) return i64.MAX_VALUE;
  return <i64>x;
}

@inline export function truncSatU64(x: f64): i64 {
  if (isNaN<f64>(x) || x <= 0) return 0;
  if (x >= 18446744073709551616.0) return -1;
  return <i64><u64>x;
}
