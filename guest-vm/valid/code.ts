// Function bodies (spec 3.3 "Instructions", 3.4.1 "Functions", Wasm 2.0 without SIMD). The decoder
// leaves a body as a byte range, so this file both decodes its instructions (spec 5.4) and
// type-checks them, in one pass, with the validation algorithm of the spec's appendix: an operand
// stack of value types, where UNKNOWN stands for the polymorphic stack below an unreachable
// instruction, and a control stack of frames (kind, block type, operand height, unreachable flag).
//
// Robustness: every index read from the body is checked before it is used, every loop is bounded
// by the bytes it reads, and nesting is an explicit stack, so no input can trap the VM or recurse
// in it. Both stacks live in plain memory and are reused from one function to the next.
//
// Error kinds: what the binary grammar rules out (illegal opcodes, non-zero reserved bytes, a body
// that does not end with its final `end`, memory.init/data.drop without a data count section) is
// Malformed; type errors and unknown indices are Invalid. The offset is the instruction's.

import { ErrorKind, fail, hasError } from "../binary/error";
import { Reader } from "../binary/reader";
import { Code, FuncType, Module, ValType } from "../binary/module";
import { Op, numericSig } from "../binary/opcodes";

// The bottom type of the spec's algorithm: matches every value type. No value type byte is 0.
const UNKNOWN: u8 = 0;

// Control frame kinds: the opcode that opened the frame; FUNC for the body's implicit block.
const FUNC: u8 = 0;
const BLOCK: u8 = <u8>Op.BLOCK;
const LOOP: u8 = <u8>Op.LOOP;
const IF: u8 = <u8>Op.IF;
const ELSE: u8 = <u8>Op.ELSE;

// A block type is a type index (>= 0) or the negated type byte: -0x40 for the empty type, else the
// negated value type of its single result. A function's frame uses its type index.
const BT_EMPTY: i32 = -0x40;

// A control frame in memory: kind u8 @0, unreachable u8 @1, operand height u32 @4, block type @8.
const FRAME_SIZE: usize = 12;

// Natural alignment (log2 of the access size) and value type of the loads and stores 0x28..0x3e.
const MEM_ALIGN: StaticArray<u8> = [2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 3, 2, 3, 0, 1, 0, 1, 2];
const MEM_TYPE: StaticArray<u8> = [
  0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e,
  0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e,
];

@inline function isRef(t: u8): bool {
  return t == <u8>ValType.FuncRef || t == <u8>ValType.ExternRef;
}

function isValType(b: u32): bool {
  return (b >= <u32>ValType.V128 && b <= <u32>ValType.I32) || b == <u32>ValType.FuncRef ||
    b == <u32>ValType.ExternRef;
}

export class CodeValidator {
  m!: Module;
  // Per function index: whether it may be the target of ref.func (spec 3.4.10: C.refs).
  declared!: StaticArray<u8>;
  r: Reader = new Reader(0, 0, 0);
  at: usize = 0; // address of the instruction being validated, for error offsets

  // Operand stack: one value type byte per entry.
  vals: usize = heap.alloc(256);
  valsCap: u32 = 256;
  valsLen: u32 = 0;

  // Control stack; `frame` is the top frame's address (0 when empty).
  ctrls: usize = heap.alloc(64 * FRAME_SIZE);
  ctrlsCap: u32 = 64;
  ctrlsLen: u32 = 0;
  frame: usize = 0;

  // Locals: the parameters, then runs of declared locals; runEnds[i] is one past the last local
  // index of run i, so a local's type is found by binary search without expanding the runs.
  params: u8[] = [];
  localTypes: u8[] = [];
  runEnds: usize = heap.alloc(64 << 2);
  runsCap: u32 = 64;
  numRuns: u32 = 0;
  numLocals: u32 = 0; // parameters included

  // Starts on a module; the stacks keep their memory from earlier modules.
  begin(m: Module, declared: StaticArray<u8>): void {
    this.m = m;
    this.declared = declared;
  }

  // ── errors ────────────────────────────────────────────────────────────────────────────────
  invalid(message: string): void {
    fail(ErrorKind.Invalid, message, <u32>(this.at - this.r.base));
  }

  malformed(message: string, at: usize): void {
    fail(ErrorKind.Malformed, message, <u32>(at - this.r.base));
    this.r.pos = this.r.end;
  }

  unknown(what: string, index: u32): void {
    this.invalid("unknown " + what + " " + index.toString());
  }

  // ── operand stack (appendix: push_val, pop_val, push_vals, pop_vals) ──────────────────────
  push(t: u8): void {
    if (this.valsLen == this.valsCap) {
      this.valsCap <<= 1;
      this.vals = heap.realloc(this.vals, this.valsCap);
    }
    store<u8>(this.vals + this.valsLen, t);
    this.valsLen++;
  }

  // A value of a type taken from the module (a local, global, signature or block type). The VM's
  // frames hold 8-byte slots, so v128 values, which only SIMD code can use, are refused here.
  pushType(t: u8): void {
    if (t == <u8>ValType.V128) {
      fail(ErrorKind.Limit, "SIMD (v128) is not supported", <u32>(this.at - this.r.base));
      return;
    }
    this.push(t);
  }

  // Pops any value; UNKNOWN when the stack is polymorphic. Fails on underflow.
  pop(): u8 {
    const f = this.frame;
    if (this.valsLen == load<u32>(f, 4)) {
      if (load<u8>(f, 1) == 0) this.invalid("type mismatch");
      return UNKNOWN;
    }
    this.valsLen--;
    return load<u8>(this.vals + this.valsLen);
  }

  popExpect(expected: u8): u8 {
    const actual = this.pop();
    if (actual != expected && actual != UNKNOWN && expected != UNKNOWN) this.invalid("type mismatch");
    return actual;
  }

  popTypes(ts: u8[]): void {
    for (let i = ts.length - 1; i >= 0; i--) this.popExpect(unchecked(ts[i]));
  }

  pushTypes(ts: u8[]): void {
    for (let i = 0, n = ts.length; i < n; i++) this.pushType(unchecked(ts[i]));
  }

  // Checks that the top of the stack matches `ts` without popping: pop_vals followed by push_vals
  // of what was popped, as br_table does per label.
  peekTypes(ts: u8[]): void {
    const f = this.frame;
    const k = <u32>ts.length;
    const avail = this.valsLen - load<u32>(f, 4);
    for (let j: u32 = 0; j < k; j++) {
      const expected = unchecked(ts[k - 1 - j]);
      if (j >= avail) {
        if (load<u8>(f, 1) == 0) this.invalid("type mismatch");
        return;
      }
      const actual = load<u8>(this.vals + this.valsLen - 1 - j);
      if (actual != expected && actual != UNKNOWN) { this.invalid("type mismatch"); return; }
    }
  }

  // ── block types ───────────────────────────────────────────────────────────────────────────
  // The parameter or result types of a block type. Value block types use a shared one-element
  // array so that they go through the same loops as type indices.
  single: u8[] = [0];
  empty: u8[] = [];

  btParams(bt: i32): u8[] {
    return bt >= 0 ? unchecked(this.m.types[bt]).params : this.empty;
  }

  btResults(bt: i32): u8[] {
    if (bt >= 0) return unchecked(this.m.types[bt]).results;
    if (bt == BT_EMPTY) return this.empty;
    unchecked(this.single[0] = <u8>(-bt));
    return this.single;
  }

  // 5.4.1 blocktype: 0x40, a value type, or a type index as a positive s33.
  blockType(): i32 {
    const r = this.r;
    if (r.pos >= r.end) { this.malformed("unexpected end", r.pos); return BT_EMPTY; }
    const b = <u32>load<u8>(r.pos);
    if (b == 0x40) { r.pos++; return BT_EMPTY; }
    // Like the reference decoder: a byte of the form 0b01xxxxxx is a value type, anything else
    // starts a type index.
    if ((b & 0xc0) == 0x40) {
      if (!isValType(b)) { this.malformed("malformed value type", r.pos); return BT_EMPTY; }
      r.pos++;
      return -<i32>b;
    }
    const x = r.s33();
    if (hasError()) return BT_EMPTY;
    if (x < 0 || x >= <i64>this.m.types.length) {
      this.invalid("unknown type " + x.toString());
      return BT_EMPTY;
    }
    return <i32>x;
  }

  // ── control stack (appendix: push_ctrl, pop_ctrl, label_types, unreachable) ─────────────────
  pushCtrl(kind: u8, bt: i32): void {
    if (this.ctrlsLen == this.ctrlsCap) {
      this.ctrlsCap <<= 1;
      this.ctrls = heap.realloc(this.ctrls, <usize>this.ctrlsCap * FRAME_SIZE);
    }
    const f = this.ctrls + <usize>this.ctrlsLen * FRAME_SIZE;
    this.ctrlsLen++;
    this.frame = f;
    store<u8>(f, kind);
    store<u8>(f, 0, 1);
    store<u32>(f, this.valsLen, 4);
    store<i32>(f, bt, 8);
    if (kind != FUNC) this.pushTypes(this.btParams(bt));
  }

  // Pops the top frame after checking that the operand stack holds exactly its results; returns
  // the frame's address, valid until the next pushCtrl.
  popCtrl(): usize {
    const f = this.frame;
    this.popTypes(this.btResults(load<i32>(f, 8)));
    if (this.valsLen != load<u32>(f, 4)) this.invalid("type mismatch");
    this.ctrlsLen--;
    this.frame = this.ctrlsLen == 0 ? 0 : f - FRAME_SIZE;
    return f;
  }

  // The frame `depth` labels out, or 0 (after an error) when there is no such label.
  label(depth: u32): usize {
    if (depth >= this.ctrlsLen) { this.invalid("unknown label " + depth.toString()); return 0; }
    return this.frame - <usize>depth * FRAME_SIZE;
  }

  labelTypes(f: usize): u8[] {
    const bt = load<i32>(f, 8);
    return load<u8>(f) == LOOP ? this.btParams(bt) : this.btResults(bt);
  }

  unreachable(): void {
    const f = this.frame;
    this.valsLen = load<u32>(f, 4);
    store<u8>(f, 1, 1);
  }

  // ── locals (spec 3.4.1: C.locals = parameters, then declared locals) ───────────────────────
  setLocals(type: FuncType, code: Code): void {
    this.params = type.params;
    this.localTypes = code.localTypes;
    const n = <u32>code.localCounts.length;
    if (n > this.runsCap) {
      this.runsCap = n;
      heap.free(this.runEnds);
      this.runEnds = heap.alloc(<usize>n << 2);
    }
    // The decoder caps the declared locals (MAX_LOCALS), and every parameter takes a byte of the
    // type section, so the total fits a u32.
    let end = <u32>type.params.length;
    const counts = code.localCounts;
    for (let i: u32 = 0; i < n; i++) {
      end += unchecked(counts[i]);
      store<u32>(this.runEnds + (<usize>i << 2), end);
    }
    this.numRuns = n;
    this.numLocals = end;
  }

  // The type of local x, or 0 (after an error) when there is no such local.
  localType(x: u32): u8 {
    if (x >= this.numLocals) { this.unknown("local", x); return 0; }
    const np = <u32>this.params.length;
    if (x < np) return unchecked(this.params[x]);
    // First run whose end is past x; runs of count 0 end where the previous one does.
    let lo: u32 = 0;
    let hi: u32 = this.numRuns - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (load<u32>(this.runEnds + (<usize>mid << 2)) > x) hi = mid; else lo = mid + 1;
    }
    return unchecked(this.localTypes[lo]);
  }

  // ── immediates ────────────────────────────────────────────────────────────────────────────
  // A reserved byte that Wasm 2.0 requires to be 0x00 (a memory index, spec 5.4.6/5.4.7): exactly
  // one byte, so even an over-long LEB128 zero is malformed.
  zeroByte(): void {
    const r = this.r;
    const at = r.pos;
    const b = r.u8();
    if (!hasError() && b != 0) this.malformed("zero byte expected", at);
  }

  // Memory 0 must exist for any memory instruction (spec 3.3.7).
  memory(): void {
    if (this.m.memoryTypes.length == 0) this.unknown("memory", 0);
  }

  // The element type of table x, or 0 (after an error) when there is no such table.
  table(x: u32): u8 {
    const tables = this.m.tableTypes;
    if (x >= <u32>tables.length) { this.unknown("table", x); return 0; }
    return unchecked(tables[x]).elemType;
  }

  // memarg (spec 5.4.6) of a load or store: the alignment exponent, then the offset.
  memarg(op: u32): void {
    const r = this.r;
    const at = r.pos;
    const align = r.u32();
    r.u32(); // offset: any u32
    if (hasError()) return;
    // Alignment flags of 32 and above would be other encodings (memory64, multi-memory).
    if (align >= 32) { this.malformed("malformed memop flags", at); return; }
    this.memory();
    if (align > <u32>unchecked(MEM_ALIGN[op - <u32>Op.I32_LOAD])) {
      this.invalid("alignment must not be larger than natural");
    }
  }

  // memory.init and data.drop name data segments before the data section is read, so the binary
  // format requires the data count section (spec 5.5.15) for them.
  dataCountRequired(): bool {
    if (this.m.dataCount < 0) { this.malformed("data count section required", this.at); return false; }
    return true;
  }

  // ── function bodies (spec 3.4.1) ──────────────────────────────────────────────────────────
  // Validates defined function `funcIndex` (an index into the function index space) whose body is
  // `code`; its type index is known to be in range.
  validate(funcIndex: u32, code: Code): bool {
    const m = this.m;
    const type = m.funcType(funcIndex);
    const r = this.r;
    r.base = m.bytes;
    r.pos = m.bytes + code.bodyStart;
    r.end = m.bytes + code.bodyEnd;
    this.at = r.pos;
    this.setLocals(type, code);
    this.valsLen = 0;
    this.ctrlsLen = 0;
    this.pushCtrl(FUNC, <i32>unchecked(m.funcTypeIndices[funcIndex]));

    // Each iteration consumes at least the opcode byte, so the loop is bounded by the body.
    while (this.ctrlsLen != 0) {
      if (r.pos >= r.end) {
        // The decoder saw a final 0x0b, but it was consumed as an immediate or closed a block.
        this.malformed("END opcode expected", r.end);
        return false;
      }
      this.at = r.pos;
      this.instr(<u32>load<u8>(r.pos++));
      if (hasError()) return false;
    }
    if (r.pos != r.end) {
      // The reference decoder reads the body up to its final `end` and then finds the code
      // entry's size wrong.
      this.malformed("section size mismatch", r.pos);
      return false;
    }
    return true;
  }

  // ── instructions (spec 3.3, in the order of its subsections) ──────────────────────────────
  instr(op: u32): void {
    const r = this.r;
    const m = this.m;
    switch (op) {
      // 3.3.8 Control instructions
      case Op.UNREACHABLE: this.unreachable(); return;
      case Op.NOP: return;
      case Op.BLOCK: case Op.LOOP: {
        const bt = this.blockType();
        if (hasError()) return;
        this.popTypes(this.btParams(bt));
        this.pushCtrl(<u8>op, bt);
        return;
      }
      case Op.IF: {
        const bt = this.blockType();
        if (hasError()) return;
        this.popExpect(<u8>ValType.I32);
        this.popTypes(this.btParams(bt));
        this.pushCtrl(IF, bt);
        return;
      }
      case Op.ELSE: {
        // The binary grammar allows `else` only once, inside an `if`.
        if (load<u8>(this.frame) != IF) { this.malformed("END opcode expected", this.at); return; }
        const bt = load<i32>(this.popCtrl(), 8);
        this.pushCtrl(ELSE, bt);
        return;
      }
      case Op.END: {
        const f = this.popCtrl();
        const kind = load<u8>(f);
        const bt = load<i32>(f, 8);
        if (kind == IF) {
          // An `if` without `else` has an empty else branch, which must turn the parameters into
          // the results.
          this.pushCtrl(ELSE, bt);
          this.popCtrl();
        }
        if (kind != FUNC) this.pushTypes(this.btResults(bt));
        return;
      }
      case Op.BR: {
        const f = this.label(r.u32());
        if (f == 0) return;
        this.popTypes(this.labelTypes(f));
        this.unreachable();
        return;
      }
      case Op.BR_IF: {
        const f = this.label(r.u32());
        if (f == 0) return;
        this.popExpect(<u8>ValType.I32);
        const ts = this.labelTypes(f);
        this.popTypes(ts);
        this.pushTypes(ts);
        return;
      }
      case Op.BR_TABLE: { this.brTable(); return; }
      case Op.RETURN: {
        this.popTypes(this.btResults(load<i32>(this.ctrls, 8)));
        this.unreachable();
        return;
      }
      case Op.CALL: {
        const x = r.u32();
        if (hasError()) return;
        if (x >= m.numFuncs()) { this.unknown("function", x); return; }
        const t = m.funcType(x);
        this.popTypes(t.params);
        this.pushTypes(t.results);
        return;
      }
      case Op.CALL_INDIRECT: {
        const y = r.u32();
        const x = r.u32();
        if (hasError()) return;
        const elemType = this.table(x);
        if (hasError()) return;
        if (elemType != <u8>ValType.FuncRef) { this.invalid("type mismatch"); return; }
        if (y >= <u32>m.types.length) { this.unknown("type", y); return; }
        const t = unchecked(m.types[y]);
        this.popExpect(<u8>ValType.I32);
        this.popTypes(t.params);
        this.pushTypes(t.results);
        return;
      }

      // 3.3.3 Reference instructions
      case Op.REF_NULL: {
        const at = r.pos;
        const t = r.u8();
        if (hasError()) return;
        if (!isRef(<u8>t)) { this.malformed("malformed reference type", at); return; }
        this.push(<u8>t);
        return;
      }
      case Op.REF_IS_NULL: {
        const t = this.pop();
        if (t != UNKNOWN && !isRef(t)) { this.invalid("type mismatch"); return; }
        this.push(<u8>ValType.I32);
        return;
      }
      case Op.REF_FUNC: {
        const x = r.u32();
        if (hasError()) return;
        if (x >= m.numFuncs()) { this.unknown("function", x); return; }
        if (unchecked(this.declared[x]) == 0) { this.invalid("undeclared function reference"); return; }
        this.push(<u8>ValType.FuncRef);
        return;
      }

      // 3.3.4 Parametric instructions
      case Op.DROP: this.pop(); return;
      case Op.SELECT: {
        this.popExpect(<u8>ValType.I32);
        const t1 = this.pop();
        const t2 = this.pop();
        // Without a type annotation only numeric (and vector) operands are allowed.
        if (isRef(t1) || isRef(t2)) { this.invalid("type mismatch"); return; }
        if (t1 != t2 && t1 != UNKNOWN && t2 != UNKNOWN) { this.invalid("type mismatch"); return; }
        this.push(t1 == UNKNOWN ? t2 : t1);
        return;
      }
      case Op.SELECT_T: {
        const n = r.u32();
        let t: u8 = 0;
        for (let i: u32 = 0; i < n && !hasError(); i++) {
          const at = r.pos;
          const b = r.u8();
          if (hasError()) return;
          if (!isValType(b)) { this.malformed("malformed value type", at); return; }
          t = <u8>b;
        }
        if (hasError()) return;
        if (n != 1) { this.invalid("invalid result arity"); return; }
        this.popExpect(<u8>ValType.I32);
        this.popExpect(t);
        this.popExpect(t);
        this.pushType(t);
        return;
      }

      // 3.3.5 Variable instructions
      case Op.LOCAL_GET: {
        const t = this.localType(r.u32());
        if (hasError()) return;
        this.pushType(t);
        return;
      }
      case Op.LOCAL_SET: {
        const t = this.localType(r.u32());
        if (hasError()) return;
        this.popExpect(t);
        return;
      }
      case Op.LOCAL_TEE: {
        const t = this.localType(r.u32());
        if (hasError()) return;
        this.popExpect(t);
        this.pushType(t);
        return;
      }
      case Op.GLOBAL_GET: case Op.GLOBAL_SET: {
        const x = r.u32();
        if (hasError()) return;
        const globals = m.globalTypes;
        if (x >= <u32>globals.length) { this.unknown("global", x); return; }
        const g = unchecked(globals[x]);
        if (op == Op.GLOBAL_GET) { this.pushType(g.valType); return; }
        if (!g.mutable) { this.invalid("global is immutable"); return; }
        this.popExpect(g.valType);
        return;
      }

      // 3.3.6 Table instructions (the 0xFC ones are in prefixed())
      case Op.TABLE_GET: {
        const t = this.table(r.u32());
        if (hasError()) return;
        this.popExpect(<u8>ValType.I32);
        this.push(t);
        return;
      }
      case Op.TABLE_SET: {
        const t = this.table(r.u32());
        if (hasError()) return;
        this.popExpect(t);
        this.popExpect(<u8>ValType.I32);
        return;
      }

      // 3.3.7 Memory instructions
      case Op.MEMORY_SIZE: {
        this.zeroByte();
        if (hasError()) return;
        this.memory();
        this.push(<u8>ValType.I32);
        return;
      }
      case Op.MEMORY_GROW: {
        this.zeroByte();
        if (hasError()) return;
        this.memory();
        this.popExpect(<u8>ValType.I32);
        this.push(<u8>ValType.I32);
        return;
      }

      // 3.3.1 Numeric instructions: constants (the others are table-driven below)
      case Op.I32_CONST: r.i32(); this.push(<u8>ValType.I32); return;
      case Op.I64_CONST: r.i64(); this.push(<u8>ValType.I64); return;
      case Op.F32_CONST: r.skip(4); this.push(<u8>ValType.F32); return;
      case Op.F64_CONST: r.skip(8); this.push(<u8>ValType.F64); return;

      case 0xfc: { this.prefixed(); return; }
      case 0xfd: {
        fail(ErrorKind.Limit, "SIMD instructions are not supported", <u32>(this.at - r.base));
        return;
      }
    }
    if (op >= <u32>Op.I32_LOAD && op <= <u32>Op.I64_STORE32) {
      this.memarg(op);
      if (hasError()) return;
      const t = unchecked(MEM_TYPE[op - <u32>Op.I32_LOAD]);
      if (op >= <u32>Op.I32_STORE) {
        this.popExpect(t);
        this.popExpect(<u8>ValType.I32);
      } else {
        this.popExpect(<u8>ValType.I32);
        this.push(t);
      }
      return;
    }
    this.numeric(op);
  }

  // Numeric instructions, typed by the generated signature table; anything without a signature
  // is not an instruction.
  numeric(op: u32): void {
    const sig = numericSig(op);
    if (sig == 0) { this.malformed("illegal opcode", this.at); return; }
    if ((sig >>> 24) == 2) this.popExpect(<u8>(sig >>> 8));
    this.popExpect(<u8>sig);
    this.push(<u8>(sig >>> 16));
  }

  // br_table l* l_N: every label must have the same arity and accept the operands (appendix).
  brTable(): void {
    const r = this.r;
    this.popExpect(<u8>ValType.I32);
    if (hasError()) return;
    const n = r.u32();
    let arity: i32 = -1;
    // n labels and the default; a count larger than the body fails in r.u32().
    for (let i: u32 = 0; i <= n; i++) {
      const f = this.label(r.u32());
      if (hasError()) return;
      const ts = this.labelTypes(f);
      if (arity < 0) arity = ts.length;
      else if (ts.length != arity) { this.invalid("type mismatch"); return; }
      this.peekTypes(ts);
      if (hasError()) return;
      if (i == n) break; // n may be 0xffffffff
    }
    this.unreachable();
  }

  // 0xFC-prefixed instructions: saturating truncation (3.3.1), table (3.3.6) and bulk memory
  // (3.3.7) instructions. The sub-opcode is a u32 LEB128.
  prefixed(): void {
    const r = this.r;
    const m = this.m;
    const sub = r.u32();
    if (hasError()) return;
    if (sub > 17) { this.malformed("illegal opcode", this.at); return; }
    const op = <u32>0x100 + sub;
    switch (op) {
      case Op.MEMORY_INIT: {
        const x = r.u32();
        this.zeroByte();
        if (hasError() || !this.dataCountRequired()) return;
        this.memory();
        if (hasError()) return;
        if (<i64>x >= <i64>m.dataCount) { this.unknown("data segment", x); return; }
        this.pop3I32();
        return;
      }
      case Op.DATA_DROP: {
        const x = r.u32();
        if (hasError() || !this.dataCountRequired()) return;
        if (<i64>x >= <i64>m.dataCount) { this.unknown("data segment", x); return; }
        return;
      }
      case Op.MEMORY_COPY: {
        this.zeroByte();
        this.zeroByte();
        if (hasError()) return;
        this.memory();
        this.pop3I32();
        return;
      }
      case Op.MEMORY_FILL: {
        this.zeroByte();
        if (hasError()) return;
        this.memory();
        this.pop3I32();
        return;
      }
      case Op.TABLE_INIT: {
        const y = r.u32();
        const x = r.u32();
        if (hasError()) return;
        const t = this.table(x);
        if (hasError()) return;
        if (y >= <u32>m.elems.length) { this.unknown("elem segment", y); return; }
        if (unchecked(m.elems[y]).elemType != t) { this.invalid("type mismatch"); return; }
        this.pop3I32();
        return;
      }
      case Op.ELEM_DROP: {
        const x = r.u32();
        if (hasError()) return;
        if (x >= <u32>m.elems.length) { this.unknown("elem segment", x); return; }
        return;
      }
      case Op.TABLE_COPY: {
        const x = r.u32();
        const y = r.u32();
        if (hasError()) return;
        const t1 = this.table(x);
        if (hasError()) return;
        const t2 = this.table(y);
        if (hasError()) return;
        if (t1 != t2) { this.invalid("type mismatch"); return; }
        this.pop3I32();
        return;
      }
      case Op.TABLE_GROW: {
        const t = this.table(r.u32());
        if (hasError()) return;
        this.popExpect(<u8>ValType.I32);
        this.popExpect(t);
        this.push(<u8>ValType.I32);
        return;
      }
      case Op.TABLE_SIZE: {
        this.table(r.u32());
        if (hasError()) return;
        this.push(<u8>ValType.I32);
        return;
      }
      case Op.TABLE_FILL: {
        const t = this.table(r.u32());
        if (hasError()) return;
        this.popExpect(<u8>ValType.I32);
        this.popExpect(t);
        this.popExpect(<u8>ValType.I32);
        return;
      }
    }
    this.numeric(op); // i32/i64.trunc_sat_*
  }

  pop3I32(): void {
    this.popExpect(<u8>ValType.I32);
    this.popExpect(<u8>ValType.I32);
    this.popExpect(<u8>ValType.I32);
  }
}
