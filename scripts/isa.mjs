// The instruction table: every Wasm instruction the VM accepts and every IR instruction it executes.
// scripts/gen-isa.mjs derives from it the wasm opcode constants and names (guest-vm/binary/opcodes.ts),
// the IR opcodes and their lowering tables (guest-vm/ir/ops.ts) and the dispatch loop
// (guest-vm/exec/interp.ts). Edit here, then `npm run gen`.
//
// Numeric instructions carry their semantics as an AssemblyScript expression over the operands
// `a` and `b` (typed by the instruction's inputs); traps are [condition, trap code] pairs checked
// in order before the expression. Everything else in the IR is written out as a handler body.

// ─── Wasm instructions (spec 5.4, Wasm 2.0 without SIMD) ─────────────────────────────────────
// Prefixed (0xFC) instructions are numbered 0x100 + their sub-opcode.
export const FC = 0x100;

// [opcode, mnemonic] for the instructions that are not plain numeric ones.
export const wasmStructural = [
  [0x00, "unreachable"], [0x01, "nop"], [0x02, "block"], [0x03, "loop"], [0x04, "if"],
  [0x05, "else"], [0x0b, "end"], [0x0c, "br"], [0x0d, "br_if"], [0x0e, "br_table"],
  [0x0f, "return"], [0x10, "call"], [0x11, "call_indirect"],
  [0x1a, "drop"], [0x1b, "select"], [0x1c, "select_t"],
  [0x20, "local.get"], [0x21, "local.set"], [0x22, "local.tee"], [0x23, "global.get"], [0x24, "global.set"],
  [0x25, "table.get"], [0x26, "table.set"],
  [0x3f, "memory.size"], [0x40, "memory.grow"],
  [0x41, "i32.const"], [0x42, "i64.const"], [0x43, "f32.const"], [0x44, "f64.const"],
  [0xd0, "ref.null"], [0xd1, "ref.is_null"], [0xd2, "ref.func"],
  [FC + 8, "memory.init"], [FC + 9, "data.drop"], [FC + 10, "memory.copy"], [FC + 11, "memory.fill"],
  [FC + 12, "table.init"], [FC + 13, "elem.drop"], [FC + 14, "table.copy"], [FC + 15, "table.grow"],
  [FC + 16, "table.size"], [FC + 17, "table.fill"],
];

// Loads and stores: [opcode, mnemonic, value type, memory type, access bytes].
export const wasmMemory = [
  [0x28, "i32.load", "i32", "i32", 4], [0x29, "i64.load", "i64", "i64", 8],
  [0x2a, "f32.load", "f32", "f32", 4], [0x2b, "f64.load", "f64", "f64", 8],
  [0x2c, "i32.load8_s", "i32", "i8", 1], [0x2d, "i32.load8_u", "i32", "u8", 1],
  [0x2e, "i32.load16_s", "i32", "i16", 2], [0x2f, "i32.load16_u", "i32", "u16", 2],
  [0x30, "i64.load8_s", "i64", "i8", 1], [0x31, "i64.load8_u", "i64", "u8", 1],
  [0x32, "i64.load16_s", "i64", "i16", 2], [0x33, "i64.load16_u", "i64", "u16", 2],
  [0x34, "i64.load32_s", "i64", "i32", 4], [0x35, "i64.load32_u", "i64", "u32", 4],
  [0x36, "i32.store", "i32", "i32", 4], [0x37, "i64.store", "i64", "i64", 8],
  [0x38, "f32.store", "f32", "f32", 4], [0x39, "f64.store", "f64", "f64", 8],
  [0x3a, "i32.store8", "i32", "u8", 1], [0x3b, "i32.store16", "i32", "u16", 2],
  [0x3c, "i64.store8", "i64", "u8", 1], [0x3d, "i64.store16", "i64", "u16", 2],
  [0x3e, "i64.store32", "i64", "u32", 4],
];

const DIV0 = ["b == 0", "TRAP_DIV_ZERO"];
const unsignedCmp = (op, w) => `<i32>(<u${w}>a ${op} <u${w}>b)`;

// Numeric instructions: [opcode, mnemonic, inputs, output, semantics, options].
// options: imm (an IR form with the right operand immediate), comm (commutative), cmp (a comparison
// that fuses with br_if/if), neg (the comparison's negation), swap (the comparison with operands
// swapped), traps.
export const wasmNumeric = [
  [0x45, "i32.eqz", ["i32"], "i32", "<i32>(a == 0)"],
  [0x46, "i32.eq", ["i32", "i32"], "i32", "<i32>(a == b)", { imm: 1, comm: 1, cmp: 1, neg: "i32.ne", swap: "i32.eq" }],
  [0x47, "i32.ne", ["i32", "i32"], "i32", "<i32>(a != b)", { imm: 1, comm: 1, cmp: 1, neg: "i32.eq", swap: "i32.ne" }],
  [0x48, "i32.lt_s", ["i32", "i32"], "i32", "<i32>(a < b)", { imm: 1, cmp: 1, neg: "i32.ge_s", swap: "i32.gt_s" }],
  [0x49, "i32.lt_u", ["i32", "i32"], "i32", unsignedCmp("<", 32), { imm: 1, cmp: 1, neg: "i32.ge_u", swap: "i32.gt_u" }],
  [0x4a, "i32.gt_s", ["i32", "i32"], "i32", "<i32>(a > b)", { imm: 1, cmp: 1, neg: "i32.le_s", swap: "i32.lt_s" }],
  [0x4b, "i32.gt_u", ["i32", "i32"], "i32", unsignedCmp(">", 32), { imm: 1, cmp: 1, neg: "i32.le_u", swap: "i32.lt_u" }],
  [0x4c, "i32.le_s", ["i32", "i32"], "i32", "<i32>(a <= b)", { imm: 1, cmp: 1, neg: "i32.gt_s", swap: "i32.ge_s" }],
  [0x4d, "i32.le_u", ["i32", "i32"], "i32", unsignedCmp("<=", 32), { imm: 1, cmp: 1, neg: "i32.gt_u", swap: "i32.ge_u" }],
  [0x4e, "i32.ge_s", ["i32", "i32"], "i32", "<i32>(a >= b)", { imm: 1, cmp: 1, neg: "i32.lt_s", swap: "i32.le_s" }],
  [0x4f, "i32.ge_u", ["i32", "i32"], "i32", unsignedCmp(">=", 32), { imm: 1, cmp: 1, neg: "i32.lt_u", swap: "i32.le_u" }],

  [0x50, "i64.eqz", ["i64"], "i32", "<i32>(a == 0)"],
  [0x51, "i64.eq", ["i64", "i64"], "i32", "<i32>(a == b)", { imm: 1, comm: 1, cmp: 1, neg: "i64.ne", swap: "i64.eq" }],
  [0x52, "i64.ne", ["i64", "i64"], "i32", "<i32>(a != b)", { imm: 1, comm: 1, cmp: 1, neg: "i64.eq", swap: "i64.ne" }],
  [0x53, "i64.lt_s", ["i64", "i64"], "i32", "<i32>(a < b)", { imm: 1, cmp: 1, neg: "i64.ge_s", swap: "i64.gt_s" }],
  [0x54, "i64.lt_u", ["i64", "i64"], "i32", unsignedCmp("<", 64), { imm: 1, cmp: 1, neg: "i64.ge_u", swap: "i64.gt_u" }],
  [0x55, "i64.gt_s", ["i64", "i64"], "i32", "<i32>(a > b)", { imm: 1, cmp: 1, neg: "i64.le_s", swap: "i64.lt_s" }],
  [0x56, "i64.gt_u", ["i64", "i64"], "i32", unsignedCmp(">", 64), { imm: 1, cmp: 1, neg: "i64.le_u", swap: "i64.lt_u" }],
  [0x57, "i64.le_s", ["i64", "i64"], "i32", "<i32>(a <= b)", { imm: 1, cmp: 1, neg: "i64.gt_s", swap: "i64.ge_s" }],
  [0x58, "i64.le_u", ["i64", "i64"], "i32", unsignedCmp("<=", 64), { imm: 1, cmp: 1, neg: "i64.gt_u", swap: "i64.ge_u" }],
  [0x59, "i64.ge_s", ["i64", "i64"], "i32", "<i32>(a >= b)", { imm: 1, cmp: 1, neg: "i64.lt_s", swap: "i64.le_s" }],
  [0x5a, "i64.ge_u", ["i64", "i64"], "i32", unsignedCmp(">=", 64), { imm: 1, cmp: 1, neg: "i64.lt_u", swap: "i64.le_u" }],

  // Float comparisons fuse only with br_if (their negations are not comparisons: NaN).
  [0x5b, "f32.eq", ["f32", "f32"], "i32", "<i32>(a == b)", { comm: 1 }],
  [0x5c, "f32.ne", ["f32", "f32"], "i32", "<i32>(a != b)", { comm: 1 }],
  [0x5d, "f32.lt", ["f32", "f32"], "i32", "<i32>(a < b)"],
  [0x5e, "f32.gt", ["f32", "f32"], "i32", "<i32>(a > b)"],
  [0x5f, "f32.le", ["f32", "f32"], "i32", "<i32>(a <= b)"],
  [0x60, "f32.ge", ["f32", "f32"], "i32", "<i32>(a >= b)"],
  [0x61, "f64.eq", ["f64", "f64"], "i32", "<i32>(a == b)", { comm: 1 }],
  [0x62, "f64.ne", ["f64", "f64"], "i32", "<i32>(a != b)", { comm: 1 }],
  [0x63, "f64.lt", ["f64", "f64"], "i32", "<i32>(a < b)"],
  [0x64, "f64.gt", ["f64", "f64"], "i32", "<i32>(a > b)"],
  [0x65, "f64.le", ["f64", "f64"], "i32", "<i32>(a <= b)"],
  [0x66, "f64.ge", ["f64", "f64"], "i32", "<i32>(a >= b)"],

  [0x67, "i32.clz", ["i32"], "i32", "clz<i32>(a)"],
  [0x68, "i32.ctz", ["i32"], "i32", "ctz<i32>(a)"],
  [0x69, "i32.popcnt", ["i32"], "i32", "popcnt<i32>(a)"],
  [0x6a, "i32.add", ["i32", "i32"], "i32", "a + b", { imm: 1, comm: 1 }],
  [0x6b, "i32.sub", ["i32", "i32"], "i32", "a - b", { imm: 1 }],
  [0x6c, "i32.mul", ["i32", "i32"], "i32", "a * b", { imm: 1, comm: 1 }],
  [0x6d, "i32.div_s", ["i32", "i32"], "i32", "a / b", { imm: 1, traps: [DIV0, ["a == i32.MIN_VALUE && b == -1", "TRAP_OVERFLOW"]] }],
  [0x6e, "i32.div_u", ["i32", "i32"], "i32", "<i32>(<u32>a / <u32>b)", { imm: 1, traps: [DIV0] }],
  [0x6f, "i32.rem_s", ["i32", "i32"], "i32", "b == -1 ? 0 : a % b", { imm: 1, traps: [DIV0] }],
  [0x70, "i32.rem_u", ["i32", "i32"], "i32", "<i32>(<u32>a % <u32>b)", { imm: 1, traps: [DIV0] }],
  [0x71, "i32.and", ["i32", "i32"], "i32", "a & b", { imm: 1, comm: 1 }],
  [0x72, "i32.or", ["i32", "i32"], "i32", "a | b", { imm: 1, comm: 1 }],
  [0x73, "i32.xor", ["i32", "i32"], "i32", "a ^ b", { imm: 1, comm: 1 }],
  [0x74, "i32.shl", ["i32", "i32"], "i32", "a << b", { imm: 1 }],
  [0x75, "i32.shr_s", ["i32", "i32"], "i32", "a >> b", { imm: 1 }],
  [0x76, "i32.shr_u", ["i32", "i32"], "i32", "a >>> b", { imm: 1 }],
  [0x77, "i32.rotl", ["i32", "i32"], "i32", "rotl<i32>(a, b)", { imm: 1 }],
  [0x78, "i32.rotr", ["i32", "i32"], "i32", "rotr<i32>(a, b)", { imm: 1 }],

  [0x79, "i64.clz", ["i64"], "i64", "clz<i64>(a)"],
  [0x7a, "i64.ctz", ["i64"], "i64", "ctz<i64>(a)"],
  [0x7b, "i64.popcnt", ["i64"], "i64", "popcnt<i64>(a)"],
  [0x7c, "i64.add", ["i64", "i64"], "i64", "a + b", { imm: 1, comm: 1 }],
  [0x7d, "i64.sub", ["i64", "i64"], "i64", "a - b", { imm: 1 }],
  [0x7e, "i64.mul", ["i64", "i64"], "i64", "a * b", { imm: 1, comm: 1 }],
  [0x7f, "i64.div_s", ["i64", "i64"], "i64", "a / b", { imm: 1, traps: [DIV0, ["a == i64.MIN_VALUE && b == -1", "TRAP_OVERFLOW"]] }],
  [0x80, "i64.div_u", ["i64", "i64"], "i64", "<i64>(<u64>a / <u64>b)", { imm: 1, traps: [DIV0] }],
  [0x81, "i64.rem_s", ["i64", "i64"], "i64", "b == -1 ? 0 : a % b", { imm: 1, traps: [DIV0] }],
  [0x82, "i64.rem_u", ["i64", "i64"], "i64", "<i64>(<u64>a % <u64>b)", { imm: 1, traps: [DIV0] }],
  [0x83, "i64.and", ["i64", "i64"], "i64", "a & b", { imm: 1, comm: 1 }],
  [0x84, "i64.or", ["i64", "i64"], "i64", "a | b", { imm: 1, comm: 1 }],
  [0x85, "i64.xor", ["i64", "i64"], "i64", "a ^ b", { imm: 1, comm: 1 }],
  [0x86, "i64.shl", ["i64", "i64"], "i64", "a << b", { imm: 1 }],
  [0x87, "i64.shr_s", ["i64", "i64"], "i64", "a >> b", { imm: 1 }],
  [0x88, "i64.shr_u", ["i64", "i64"], "i64", "a >>> b", { imm: 1 }],
  [0x89, "i64.rotl", ["i64", "i64"], "i64", "rotl<i64>(a, b)", { imm: 1 }],
  [0x8a, "i64.rotr", ["i64", "i64"], "i64", "rotr<i64>(a, b)", { imm: 1 }],

  [0x8b, "f32.abs", ["f32"], "f32", "abs<f32>(a)"],
  [0x8c, "f32.neg", ["f32"], "f32", "-a"],
  [0x8d, "f32.ceil", ["f32"], "f32", "ceil<f32>(a)"],
  [0x8e, "f32.floor", ["f32"], "f32", "floor<f32>(a)"],
  [0x8f, "f32.trunc", ["f32"], "f32", "trunc<f32>(a)"],
  [0x90, "f32.nearest", ["f32"], "f32", "nearest<f32>(a)"],
  [0x91, "f32.sqrt", ["f32"], "f32", "sqrt<f32>(a)"],
  [0x92, "f32.add", ["f32", "f32"], "f32", "a + b", { imm: 1, comm: 1 }],
  [0x93, "f32.sub", ["f32", "f32"], "f32", "a - b", { imm: 1 }],
  [0x94, "f32.mul", ["f32", "f32"], "f32", "a * b", { imm: 1, comm: 1 }],
  [0x95, "f32.div", ["f32", "f32"], "f32", "a / b", { imm: 1 }],
  [0x96, "f32.min", ["f32", "f32"], "f32", "min<f32>(a, b)"],
  [0x97, "f32.max", ["f32", "f32"], "f32", "max<f32>(a, b)"],
  [0x98, "f32.copysign", ["f32", "f32"], "f32", "copysign<f32>(a, b)"],
  [0x99, "f64.abs", ["f64"], "f64", "abs<f64>(a)"],
  [0x9a, "f64.neg", ["f64"], "f64", "-a"],
  [0x9b, "f64.ceil", ["f64"], "f64", "ceil<f64>(a)"],
  [0x9c, "f64.floor", ["f64"], "f64", "floor<f64>(a)"],
  [0x9d, "f64.trunc", ["f64"], "f64", "trunc<f64>(a)"],
  [0x9e, "f64.nearest", ["f64"], "f64", "nearest<f64>(a)"],
  [0x9f, "f64.sqrt", ["f64"], "f64", "sqrt<f64>(a)"],
  [0xa0, "f64.add", ["f64", "f64"], "f64", "a + b", { imm: 1, comm: 1 }],
  [0xa1, "f64.sub", ["f64", "f64"], "f64", "a - b", { imm: 1 }],
  [0xa2, "f64.mul", ["f64", "f64"], "f64", "a * b", { imm: 1, comm: 1 }],
  [0xa3, "f64.div", ["f64", "f64"], "f64", "a / b", { imm: 1 }],
  [0xa4, "f64.min", ["f64", "f64"], "f64", "min<f64>(a, b)"],
  [0xa5, "f64.max", ["f64", "f64"], "f64", "max<f64>(a, b)"],
  [0xa6, "f64.copysign", ["f64", "f64"], "f64", "copysign<f64>(a, b)"],

  [0xa7, "i32.wrap_i64", ["i64"], "i32", "<i32>a"],
  [0xa8, "i32.trunc_f32_s", ["f32"], "i32", "<i32>a", { traps: [["isNaN<f32>(a)", "TRAP_CONVERSION"], ["!(a >= -2147483648.0 && a < 2147483648.0)", "TRAP_OVERFLOW"]] }],
  [0xa9, "i32.trunc_f32_u", ["f32"], "i32", "<i32><u32>a", { traps: [["isNaN<f32>(a)", "TRAP_CONVERSION"], ["!(a > -1.0 && a < 4294967296.0)", "TRAP_OVERFLOW"]] }],
  [0xaa, "i32.trunc_f64_s", ["f64"], "i32", "<i32>a", { traps: [["isNaN<f64>(a)", "TRAP_CONVERSION"], ["!(a > -2147483649.0 && a < 2147483648.0)", "TRAP_OVERFLOW"]] }],
  [0xab, "i32.trunc_f64_u", ["f64"], "i32", "<i32><u32>a", { traps: [["isNaN<f64>(a)", "TRAP_CONVERSION"], ["!(a > -1.0 && a < 4294967296.0)", "TRAP_OVERFLOW"]] }],
  [0xac, "i64.extend_i32_s", ["i32"], "i64", "<i64>a"],
  // Loaded as u32: AssemblyScript compiles <i64><u32>x of an i32 x as a sign extension.
  [0xad, "i64.extend_i32_u", ["i32"], "i64", "<i64>a", { load: "u32" }],
  [0xae, "i64.trunc_f32_s", ["f32"], "i64", "<i64>a", { traps: [["isNaN<f32>(a)", "TRAP_CONVERSION"], ["!(a >= -9223372036854775808.0 && a < 9223372036854775808.0)", "TRAP_OVERFLOW"]] }],
  [0xaf, "i64.trunc_f32_u", ["f32"], "i64", "<i64><u64>a", { traps: [["isNaN<f32>(a)", "TRAP_CONVERSION"], ["!(a > -1.0 && a < 18446744073709551616.0)", "TRAP_OVERFLOW"]] }],
  [0xb0, "i64.trunc_f64_s", ["f64"], "i64", "<i64>a", { traps: [["isNaN<f64>(a)", "TRAP_CONVERSION"], ["!(a >= -9223372036854775808.0 && a < 9223372036854775808.0)", "TRAP_OVERFLOW"]] }],
  [0xb1, "i64.trunc_f64_u", ["f64"], "i64", "<i64><u64>a", { traps: [["isNaN<f64>(a)", "TRAP_CONVERSION"], ["!(a > -1.0 && a < 18446744073709551616.0)", "TRAP_OVERFLOW"]] }],
  [0xb2, "f32.convert_i32_s", ["i32"], "f32", "<f32>a"],
  [0xb3, "f32.convert_i32_u", ["i32"], "f32", "<f32><u32>a"],
  [0xb4, "f32.convert_i64_s", ["i64"], "f32", "<f32>a"],
  [0xb5, "f32.convert_i64_u", ["i64"], "f32", "<f32><u64>a"],
  [0xb6, "f32.demote_f64", ["f64"], "f32", "<f32>a"],
  [0xb7, "f64.convert_i32_s", ["i32"], "f64", "<f64>a"],
  [0xb8, "f64.convert_i32_u", ["i32"], "f64", "<f64><u32>a"],
  [0xb9, "f64.convert_i64_s", ["i64"], "f64", "<f64>a"],
  [0xba, "f64.convert_i64_u", ["i64"], "f64", "<f64><u64>a"],
  [0xbb, "f64.promote_f32", ["f32"], "f64", "<f64>a"],
  // Reinterpretations keep the bits; in a 64-bit slot they are copies.
  [0xbc, "i32.reinterpret_f32", ["f32"], "i32", null, { copy: 1 }],
  [0xbd, "i64.reinterpret_f64", ["f64"], "i64", null, { copy: 1 }],
  [0xbe, "f32.reinterpret_i32", ["i32"], "f32", null, { copy: 1 }],
  [0xbf, "f64.reinterpret_i64", ["i64"], "f64", null, { copy: 1 }],

  [0xc0, "i32.extend8_s", ["i32"], "i32", "<i32><i8>a"],
  [0xc1, "i32.extend16_s", ["i32"], "i32", "<i32><i16>a"],
  [0xc2, "i64.extend8_s", ["i64"], "i64", "<i64><i8>a"],
  [0xc3, "i64.extend16_s", ["i64"], "i64", "<i64><i16>a"],
  [0xc4, "i64.extend32_s", ["i64"], "i64", "<i64><i32>a"],

  [FC + 0, "i32.trunc_sat_f32_s", ["f32"], "i32", "truncSatI32(<f64>a)"],
  [FC + 1, "i32.trunc_sat_f32_u", ["f32"], "i32", "truncSatU32(<f64>a)"],
  [FC + 2, "i32.trunc_sat_f64_s", ["f64"], "i32", "truncSatI32(a)"],
  [FC + 3, "i32.trunc_sat_f64_u", ["f64"], "i32", "truncSatU32(a)"],
  [FC + 4, "i64.trunc_sat_f32_s", ["f32"], "i64", "truncSatI64(<f64>a)"],
  [FC + 5, "i64.trunc_sat_f32_u", ["f32"], "i64", "truncSatU64(<f64>a)"],
  [FC + 6, "i64.trunc_sat_f64_s", ["f64"], "i64", "truncSatI64(a)"],
  [FC + 7, "i64.trunc_sat_f64_u", ["f64"], "i64", "truncSatU64(a)"],
];

// ─── IR instructions that are not generated from wasmNumeric ──────────────────────────────────
// Operand kinds (each a 4-byte word unless noted):
//   dst:T   a slot the result is written to (byte offset from fp); `name` is its address
//   src:T   a slot read as T (byte offset from fp); `name` is the value
//   addr    a slot (byte offset from fp); `name` is its address (for 8-byte copies)
//   imm:T   an immediate; i64/f64/u64 take 8 bytes
//   u32     an unsigned immediate (counts, record addresses)
//   target  a branch offset in bytes, relative to the instruction's first byte
// A handler whose `jumps` is set moves pc itself; others fall through to `pc += size`. One
// with `hostFault` saved pc before a host call whose trap is the guest's (exec/run.ts hostFault).
// Snippets: TRAP(code), JUMP(offsetExpr) (taken branch: moves pc, counts a slice step),
// ENTER(callee, nfp, returnPc) (call), LEAVE() (return to the caller frame).
export const irOps = [
  { name: "copy", form: "r0 = r1", stack: "", ops: ["d:addr", "s:addr"], body: "store<u64>(d, load<u64>(s));" },
  // Two moves in one dispatch (argument set-up, block results): done in order.
  { name: "copy2", form: "r0 = r1; r2 = r3", stack: "", ops: ["d:addr", "s:addr", "e:addr", "t:addr"],
    body: "store<u64>(d, load<u64>(s)); store<u64>(e, load<u64>(t));" },
  { name: "const32", form: "r0 = imm32", stack: "", ops: ["d:addr", "x:u32"], body: "store<u32>(d, x);" },
  { name: "const64", form: "r0 = imm64", stack: "", ops: ["d:addr", "x:imm:u64"], body: "store<u64>(d, x);" },
  { name: "select", form: "r0 = r1 ? r2 : r3", stack: "[t t i32] -> [t]", ops: ["d:addr", "c:src:i32", "x:addr", "y:addr"],
    body: "store<u64>(d, load<u64>(c != 0 ? x : y));" },

  { name: "unreachable", form: "trap", stack: "[t1*] -> [t2*]", ops: [], jumps: 1, body: "TRAP(TRAP_UNREACHABLE);" },
  { name: "br", form: "pc += t", stack: "[t1* t*] -> [t2*]", ops: ["t:target"], jumps: 1, body: "JUMP(t);" },
  { name: "br_eqz", form: "if r0 == 0: pc += t", stack: "[i32] -> []", ops: ["c:src:i32", "t:target"], jumps: 1,
    body: "if (c == 0) { JUMP(t); } else pc += SIZE;" },
  { name: "br_nez", form: "if r0 != 0: pc += t", stack: "[i32] -> []", ops: ["c:src:i32", "t:target"], jumps: 1,
    body: "if (c != 0) { JUMP(t); } else pc += SIZE;" },
  { name: "br_eqz_i64", form: "if r0 == 0: pc += t", stack: "[i64] -> [] (i64.eqz; br_if)", ops: ["c:src:i64", "t:target"], jumps: 1,
    body: "if (c == 0) { JUMP(t); } else pc += SIZE;" },
  { name: "br_nez_i64", form: "if r0 != 0: pc += t", stack: "[i64] -> [] (i64.eqz; if)", ops: ["c:src:i64", "t:target"], jumps: 1,
    body: "if (c != 0) { JUMP(t); } else pc += SIZE;" },
  // i32.and with a constant, fused with the branch that tests it (flag tests).
  { name: "br_and_eqz_si", form: "if (r0 & imm) == 0: pc += t", stack: "[i32] -> []", ops: ["c:src:i32", "k:imm:i32", "t:target"], jumps: 1,
    body: "if ((c & k) == 0) { JUMP(t); } else pc += SIZE;" },
  { name: "br_and_nez_si", form: "if (r0 & imm) != 0: pc += t", stack: "[i32] -> []", ops: ["c:src:i32", "k:imm:i32", "t:target"], jumps: 1,
    body: "if ((c & k) != 0) { JUMP(t); } else pc += SIZE;" },
  // Followed by n+1 targets (the last is the default); offsets relative to this instruction.
  { name: "br_table", form: "pc += t[min(r0, n)]", stack: "[t1* t* i32] -> [t2*]", ops: ["i:src:u32", "n:u32"], jumps: 1,
    body: "JUMP(load<i32>(pc + SIZE + (<usize>(i < n ? i : n) << 2)));" },

  { name: "call", form: "call f with frame at r1", stack: "[t1*] -> [t2*]", ops: ["f:u32", "a:u32"], jumps: 1,
    body: "const callee = <usize>f; const nfp = fp + <usize>a; ENTER(callee, nfp, pc + SIZE);" },
  { name: "call_indirect", form: "call table[r2] (type y) with frame at r3", stack: "[t1* i32] -> [t2*]",
    ops: ["tab:u32", "ty:u32", "i:src:u32", "a:u32"], jumps: 1,
    body: `const table = <usize>tab;
      if (i >= load<u32>(table, TABLE_LEN)) TRAP(TRAP_UNDEFINED);
      const ref = load<u32>(load<usize>(table, TABLE_ELEMS) + (<usize>i << 2));
      // ref > funcCount: only a tampered snapshot can put one there; never dereference it.
      if (ref == 0 || ref > funcCount) TRAP(TRAP_UNINITIALIZED);
      const callee = funcRecord(ref - 1);
      if (load<u32>(callee, FUNC_TYPE_ID) != ty) TRAP(TRAP_SIGNATURE);
      const nfp = fp + <usize>a;
      ENTER(callee, nfp, pc + SIZE);` },
  { name: "ret0", form: "return", stack: "[t1*] -> [t2*]", ops: [], jumps: 1, body: "LEAVE();" },
  { name: "ret1", form: "frame[0] = r0; return", stack: "[t1* t] -> [t2*]", ops: ["s:addr"], jumps: 1,
    body: "store<u64>(fp, load<u64>(s)); LEAVE();" },
  // Results are n consecutive slots starting at r0, at or above frame[0]: a forward copy is safe.
  { name: "retn", form: "frame[0..n] = r0..; return", stack: "[t1* t*] -> [t2*]", ops: ["s:addr", "n:u32"], jumps: 1,
    body: "for (let k: usize = 0; k < <usize>n << 3; k += 8) store<u64>(fp + k, load<u64>(s + k)); LEAVE();" },
  // Metering: the start of a straight-line segment of n bytecode instructions. Out of fuel, the
  // machine stops here, before the segment, where the frame holds the bytecode's operand stack.
  { name: "fuel", form: "fuel -= n", stack: "", ops: ["n:u32"],
    body: "if (fuelLeft < <u64>n) { SAVE(); suspendReason = SUSPEND_FUEL; return STATUS_SUSPENDED; } fuelLeft -= <u64>n;" },
  // The same, in monitored code: also counts the segment's executions (probe/counters.ts).
  { name: "fuel_count", form: "fuel -= n; count[c] += 1", stack: "", ops: ["n:u32", "c:u32"],
    body: "if (fuelLeft < <u64>n) { SAVE(); suspendReason = SUSPEND_FUEL; return STATUS_SUSPENDED; } fuelLeft -= <u64>n; store<u64>(<usize>c, load<u64>(<usize>c) + 1);" },
  // Probes (probe/probes.ts), only in code compiled while probes are set, each at a point where
  // the frame holds the bytecode's operand stack. A callback probe stops the machine past itself:
  // its event is consumed, resuming continues after it. k: event kind; at: bytecode offset.
  { name: "probe", form: "event k", stack: "", ops: ["k:u32", "at:u32"], jumps: 1,
    body: "statePc = pc + SIZE; stateFp = fp; return probeEvent(k, at, 0, 0);" },
  // k: access size | store << 8; the event carries the base and the static offset.
  { name: "probe_mem", form: "event memory(r2 + o)", stack: "", ops: ["at:u32", "k:u32", "p:src:u32", "o:u32"], jumps: 1,
    body: "statePc = pc + SIZE; stateFp = fp; return probeEvent(EVENT_MEMORY, at, <u64>p | (<u64>o << 32), k);" },
  // op: the wasm opcode (if, br_if: taken = r2 != 0; br_table: the index r2).
  { name: "probe_br", form: "event branch(r2)", stack: "", ops: ["at:u32", "op:u32", "c:src:u32"], jumps: 1,
    body: "statePc = pc + SIZE; stateFp = fp; return probeEvent(EVENT_BRANCH, at, op == 0x0e ? <u64>c : <u64>(c != 0), op);" },
  { name: "probe_call", form: "event call f", stack: "", ops: ["at:u32", "f:u32"], jumps: 1,
    body: "statePc = pc + SIZE; stateFp = fp; return probeEvent(EVENT_CALL, at, <u64>f, 0);" },
  { name: "probe_icall", form: "event call table[r2]", stack: "", ops: ["at:u32", "tab:u32", "i:src:u32"], jumps: 1,
    body: "statePc = pc + SIZE; stateFp = fp; return probeEvent(EVENT_CALL, at, <u64>indirectTarget(<usize>tab, i), 1);" },
  // Memory trace: a full buffer stops the machine before this instruction, which runs again once
  // the host has drained the buffer.
  { name: "rec_mem", form: "trace(r2 + o)", stack: "", ops: ["at:u32", "k:u32", "p:src:u32", "o:u32"],
    body: `if (traceNext >= traceEnd) { statePc = pc; stateFp = fp; return traceFullEvent(at); }
      const ea = <u64>p + <u64>o;
      store<u32>(traceNext, ea > 0xffffffff ? 0xffffffff : <u32>ea); store<u32>(traceNext, k, 4); traceNext += 8;` },
  { name: "rec_icall", form: "count(at, table[r2])", stack: "", ops: ["at:u32", "tab:u32", "i:src:u32"],
    body: "recordIndirect(at, <usize>tab, i);" },
  { name: "rec_enter", form: "shadow push", stack: "", ops: [], body: "shadowEnter(stateFunc);" },
  { name: "rec_exit", form: "shadow pop", stack: "", ops: [], body: "shadowExit();" },
  // Bottom of an activation: the invoked function returned here.
  { name: "halt", form: "stop", stack: "", ops: [], jumps: 1, body: "SAVE(); return STATUS_COMPLETED;" },

  { name: "global_get", form: "r0 = global[g]", stack: "[] -> [t]", ops: ["d:addr", "g:u32"], body: "store<u64>(d, load<u64>(<usize>g));" },
  { name: "global_set", form: "global[g] = r1", stack: "[t] -> []", ops: ["g:u32", "s:addr"], body: "store<u64>(<usize>g, load<u64>(s));" },

  { name: "memory_size", form: "r0 = pages", stack: "[] -> [i32]", ops: ["d:addr"],
    body: "store<u32>(d, load<u32>(load<usize>(stateFunc, FUNC_MEM), MEM_PAGES));" },
  { name: "memory_grow", form: "r0 = grow(r1)", stack: "[i32] -> [i32]", ops: ["d:addr", "n:src:u32"],
    body: "const memRec = load<usize>(stateFunc, FUNC_MEM); store<i32>(d, growMemory(memRec, n)); mem = load<usize>(memRec, MEM_BASE); memLen = load<u32>(memRec, MEM_BYTES);" },
  { name: "memory_fill", form: "fill(r0, r1, r2)", stack: "[i32 i32 i32] -> []", ops: ["p:src:u32", "v:src:u32", "n:src:u32"],
    body: "if (<u64>p + <u64>n > <u64>memLen) TRAP(TRAP_MEMORY); memory.fill(mem + <usize>p, <u8>v, <usize>n);" },
  { name: "memory_copy", form: "copy(r0, r1, r2)", stack: "[i32 i32 i32] -> []", ops: ["p:src:u32", "q:src:u32", "n:src:u32"],
    body: "if (<u64>p + <u64>n > <u64>memLen || <u64>q + <u64>n > <u64>memLen) TRAP(TRAP_MEMORY); memory.copy(mem + <usize>p, mem + <usize>q, <usize>n);" },
  { name: "memory_init", form: "init(seg, r1, r2, r3)", stack: "[i32 i32 i32] -> []", ops: ["seg:u32", "p:src:u32", "q:src:u32", "n:src:u32"],
    body: `const segLen = load<u32>(<usize>seg, SEG_LEN);
      if (<u64>p + <u64>n > <u64>memLen || <u64>q + <u64>n > <u64>segLen) TRAP(TRAP_MEMORY);
      memory.copy(mem + <usize>p, load<usize>(<usize>seg, SEG_PTR) + <usize>q, <usize>n);` },
  // On host-owned memory (the memory class): bounds and bulk work in runtime/hosted.ts.
  { name: "memory_fill_h", hostFault: 1, form: "host fill(r0, r1, r2)", stack: "[i32 i32 i32] -> []", ops: ["p:src:u32", "v:src:u32", "n:src:u32"],
    body: "SAVE(); if (<u64>p + <u64>n > <u64>memLen) TRAP(TRAP_MEMORY); hostedFill(p, v, n);" },
  { name: "memory_copy_h", hostFault: 1, form: "host copy(r0, r1, r2)", stack: "[i32 i32 i32] -> []", ops: ["p:src:u32", "q:src:u32", "n:src:u32"],
    body: "SAVE(); if (<u64>p + <u64>n > <u64>memLen || <u64>q + <u64>n > <u64>memLen) TRAP(TRAP_MEMORY); hostedCopy(p, q, n);" },
  { name: "memory_init_h", hostFault: 1, form: "host init(seg, r1, r2, r3)", stack: "[i32 i32 i32] -> []", ops: ["seg:u32", "p:src:u32", "q:src:u32", "n:src:u32"],
    body: `SAVE(); const segLen = load<u32>(<usize>seg, SEG_LEN);
      if (<u64>p + <u64>n > <u64>memLen || <u64>q + <u64>n > <u64>segLen) TRAP(TRAP_MEMORY);
      hostedInit(p, load<usize>(<usize>seg, SEG_PTR) + <usize>q, n);` },
  { name: "seg_drop", form: "drop(seg)", stack: "[] -> []", ops: ["seg:u32"], body: "store<u32>(<usize>seg, 0, SEG_LEN);" },

  { name: "table_get", form: "r0 = table[r1]", stack: "[i32] -> [t]", ops: ["d:addr", "tab:u32", "i:src:u32"],
    body: "const table = <usize>tab; if (i >= load<u32>(table, TABLE_LEN)) TRAP(TRAP_TABLE); store<u64>(d, <u64>load<u32>(load<usize>(table, TABLE_ELEMS) + (<usize>i << 2)));" },
  { name: "table_set", form: "table[r0] = r1", stack: "[i32 t] -> []", ops: ["tab:u32", "i:src:u32", "v:src:u32"],
    body: "const table = <usize>tab; if (i >= load<u32>(table, TABLE_LEN)) TRAP(TRAP_TABLE); store<u32>(load<usize>(table, TABLE_ELEMS) + (<usize>i << 2), v);" },
  { name: "table_size", form: "r0 = size", stack: "[] -> [i32]", ops: ["d:addr", "tab:u32"], body: "store<u32>(d, load<u32>(<usize>tab, TABLE_LEN));" },
  { name: "table_grow", form: "r0 = grow(r1 refs of r2)", stack: "[t i32] -> [i32]", ops: ["d:addr", "tab:u32", "v:src:u32", "n:src:u32"],
    body: "store<i32>(d, growTable(<usize>tab, n, v));" },
  { name: "table_fill", form: "fill(r0, r1, r2)", stack: "[i32 t i32] -> []", ops: ["tab:u32", "i:src:u32", "v:src:u32", "n:src:u32"],
    body: "const code = tableFill(<usize>tab, i, v, n); if (code != 0) TRAP(code);" },
  { name: "table_copy", form: "copy(r0, r1, r2)", stack: "[i32 i32 i32] -> []", ops: ["dt:u32", "st:u32", "p:src:u32", "q:src:u32", "n:src:u32"],
    body: "const code = tableCopy(<usize>dt, <usize>st, p, q, n); if (code != 0) TRAP(code);" },
  { name: "table_init", form: "init(seg, r0, r1, r2)", stack: "[i32 i32 i32] -> []", ops: ["tab:u32", "seg:u32", "p:src:u32", "q:src:u32", "n:src:u32"],
    body: "const code = tableInit(<usize>tab, <usize>seg, p, q, n); if (code != 0) TRAP(code);" },
];

// Shapes of the load/store handlers (generated per wasmMemory row), by where the address is:
//   <op>    load: r0 = mem[r1 + offset]               store: mem[r0 + offset] = r1
//   <op>_a  the address is r1 + imm (a folded i32.add, wrapping at 32 bits), then + offset
//   <op>_k  a constant address: the effective address (constant + offset) is the immediate

// ─── Pairs: two IR instructions in one dispatch ───────────────────────────────────────────────
// [first, second]: when the compiler has emitted `first` immediately followed by `second` in
// straight-line code, it rewrites the opcode of `first` to the pair `first__second` and leaves the
// rest as it is — both operand lists, and the second opcode word, which the pair skips. So the
// second instruction stays a valid instruction on its own: whatever reaches it other than by
// falling through from the first (a branch, a call's return, a resumed snapshot) runs it alone,
// and nothing that records an IR offset has to know about pairs. The pair's handler is the two
// handlers one after the other (a first that branches, leaves the pair when taken). A longer run
// [a, b, c, …] chains pairs: a__b, then (a__b)__c, and so on, each a pair whose first is a pair.
// Chosen from bench/profile.mjs on the C fixtures: the most frequent adjacent pairs in hot code,
// greedily by how many dispatches they save (geomean over the fixtures).
export const irPairs = [
  ["i32_add_si", "i32_add_si"], ["i32_add_si", "br_nez"], ["i32_load8_u", "br_i32_ne_ss"],
  ["f64_mul_ss", "f64_mul_ss"], ["i32_and_si", "br_eqz"], ["f64_store", "i32_add_si"],
  ["i32_store", "i32_add_si"], ["f64_load_a", "f64_sub_ss"], ["f64_load", "f64_add_ss"],
  ["copy", "call"], ["i32_add_ss", "i32_add_si"], ["f64_mul_ss", "f64_add_ss"],
  ["f64_sub_ss", "f64_store"], ["i32_add_si", "i32_xor_ss"], ["i32_add_si", "call"],
  ["copy2", "copy"], ["i64_xor_ss", "i64_mul_si"], ["const64", "br_i32_lt_u_si"],
  ["i32_add_ss", "ret1"], ["i64_shr_u_si", "i64_add_ss"], ["f64_load_k", "f64_add_ss"],
  ["f64_load_k", "f64_mul_si"], ["i32_load", "i32_load"], ["i32_gt_s_ss", "i32_lt_s_ss"],
  ["i32_sub_ss", "ret1"], ["i32_add_si", "ret1"], ["copy2", "copy2"],
  ["i32_shl_si", "i32_add_ss"], ["f64_load", "f64_load"], ["f64_add_ss", "f64_sqrt_s"],
  ["f64_mul_ss", "const64"], ["f64_div_ss", "f64_mul_ss"], ["i32_and_si", "br_nez"],
  ["br_and_nez_si", "br"], ["i32_load", "i32_store"], ["f64_load_a", "f64_load_a"],
  ["i32_load", "call"], ["i32_load", "i32_sub_ss"], ["i32_add_si", "i32_load"],
  ["global_get", "i32_sub_si"], ["i32_add_si", "global_set"], ["copy2", "call_indirect"],
  ["i32_mul_si", "i32_add_si"], ["i32_or_si", "i32_store"], ["i32_add_si", "br_i32_gt_u_si"],
  ["f64_sub_ss", "f64_add_ss"], ["i32_load_k", "br_i32_le_u_ss"], ["i32_add_ss", "i32_add_ss"],
  ["const64", "f64_le_ss"], ["i32_load_k", "br_i32_ne_ss"], ["i32_add_si", "copy"],
  ["i32_gt_s_si", "select"], ["select", "br_i32_gt_s_si"], ["i32_add_ss", "i32_store"],
  ["i32_add_si", "br_i32_ne_ss"], ["i32_xor_ss", "i32_store"], ["i32_load_k", "i32_add_ss"],
  ["i64_extend_i32_u_s", "i64_add_ss"], ["copy", "const32"], ["f32_mul_si", "const32"],
  ["f32_sub_ss", "f32_mul_ss"], ["f32_mul_si", "f32_abs_s"], ["const32", "f32_lt_ss"],
  ["br_eqz", "i32_trunc_f32_s_s"],
  // Longer runs, from the innermost loops: n-body (float), memcmp (memory), the qsort comparator
  // (intarray), fib's loop (recursion).
  ["f64_load", "f64_load", "f64_load_a", "f64_sub_ss"], ["f64_mul_ss", "f64_load_a", "f64_sub_ss"],
  ["f64_mul_ss", "f64_mul_ss", "f64_load_a", "f64_sub_ss"], ["f64_mul_ss", "f64_add_ss", "f64_add_ss", "f64_sqrt_s"],
  ["f64_mul_ss", "const64", "f64_div_ss", "f64_mul_ss"], ["f64_load", "f64_mul_ss", "f64_mul_ss", "f64_sub_ss", "f64_store"],
  ["f64_mul_ss", "f64_mul_ss", "f64_load", "f64_add_ss", "f64_store"], ["f64_load", "f64_add_ss", "f64_store"],
  ["i32_add_si", "i32_add_si", "br_nez"], ["i32_add_si", "i32_add_si", "i32_add_si", "br_nez"],
  ["i32_load8_u", "i32_load8_u", "br_i32_ne_ss"], ["i32_gt_s_ss", "i32_lt_s_ss", "i32_sub_ss", "ret1"],
  ["i32_add_ss", "i32_add_si", "br_i32_gt_u_si"],
  ["i32_add_si", "f64_mul_ss", "f64_mul_ss", "f64_load", "f64_add_ss", "f64_store"],
  ["f64_load_k", "f64_mul_si", "f64_load_k", "f64_add_ss", "f64_store_k"],
];
