// Bytecode → register IR, one function at a time, on its first call (see compile/README.md):
// the abstract stack, control flow, locals, calls, metering segments and stop points. Data
// instructions (numeric, memory, tables) are lowered by compile/lower.ts.
//
// The operand stack disappears: stack height h is frame slot (numLocals + h). The compiler tracks an
// abstract stack whose entries are either in their own slot (STACK), still a local (LOCAL: a
// `local.get` not yet copied), or a constant (CONST); instructions read locals and constants
// in place, so `local.get`/`const` cost nothing, and a `local.set` right after the instruction
// that computed its value rewrites that instruction's destination. Before anything that can be
// a control-flow join, a call or a suspension point — block, loop, if, else, end, call — every
// entry is materialised in its own slot, so at those points the frame holds exactly what the
// bytecode's operand stack holds.

import { builtinIrOp, builtinOf, builtinWasmOp } from "../runtime/builtins";
import { CLASS_FLOAT, hostedMemory, intrinsicClasses } from "../runtime/hosted";
import { Module, FuncType, Code } from "../binary/module";
import { Reader } from "../binary/reader";
import { Op, PREFIX_FC } from "../binary/opcodes";
import {
  IR, irSize, irPair, lowerBinSs, lowerBinSi, lowerBrSs, lowerBrSi, negatedCmp,
} from "../ir/ops";
import {
  FUNC_CODE, FUNC_FRAME_BYTES, FUNC_ZERO_BYTES, FUNC_INSTANCE, FUNC_INDEX, FUNC_ADDR, FUNC_MEM, canonicalType,
} from "../runtime/store";
import { Instance, instances } from "../runtime/instance";
import { FuncCounters, SEG_LOOP, forgetCounters, monitoringEnabled, setCounters } from "../probe/counters";
import { lowerBuiltin, lowerMemoryOrTable, lowerNumeric, skipImmediates } from "./lower";
import {
  EVENT_BRANCH, EVENT_ENTRY, EVENT_EXIT, EVENT_INSTR, EVENT_SITE, PROBE_BRANCH, PROBE_CALL, PROBE_ENTRY, PROBE_EXIT,
  PROBE_INSTR, PROBE_MEMORY, PROBE_SITE, RECORD_INCLUSIVE, RECORD_INDIRECT, RECORD_MEMORY, probeKinds, probing,
  recordKinds, sites,
} from "../probe/probes";

export const STACK: u8 = 0;
export const LOCAL: u8 = 1;
export const CONST32: u8 = 2; // i32, f32 and references: the low 4 bytes of the slot
export const CONST64: u8 = 3; // i64, f64

const BLOCK: u8 = 0;
const LOOP: u8 = 1;
const IF: u8 = 2;
const ELSE: u8 = 3;
const FUNC: u8 = 4;

export const NONE: i32 = -1;

// One entry of the control stack.
class Ctl {
  kind: u8 = BLOCK;
  height: u32 = 0; // abstract stack height below the block's parameters
  params: u32 = 0;
  results: u32 = 0;
  label: u32 = 0; // loop: IR offset of the header
  elseField: i32 = NONE; // if: the conditional branch to patch at else/end
  elseInstr: u32 = 0;
  patches: u32[] = []; // pairs (field offset, instruction offset) of forward branches to the end
  unreachable: bool = false;
}

// A condition about to be branched on: either a slot, or a fused comparison.
class Cond {
  fused: bool = false;
  cmp: u32 = 0; // wasm comparison opcode (fused)
  a: u32 = 0; // slot
  b: u32 = 0; // slot, or immediate bits when `imm`
  bImm: u64 = 0;
  imm: bool = false;
  immWide: bool = false;
  eqz: bool = false; // cond = (a == 0) (fused eqz)
  test: bool = false; // cond = (a & bImm) (fused i32.and with a constant)
  wide: bool = false; // operand a is an i64 (for eqz)
}

export class Compiler {
  m!: Module;
  inst!: Instance;
  r!: Reader;
  numLocals: u32 = 0;

  // IR buffer.
  buf: usize = 0;
  cap: u32 = 0;
  len: u32 = 0;

  // Abstract operand stack.
  kinds: u8[] = [];
  vals: u64[] = [];
  maxHeight: u32 = 0;

  // Control stack (entries reused across functions).
  ctls: Ctl[] = [];
  depth: i32 = 0; // number of live entries

  // The last emitted instruction, for peephole fusion; lastStart = NONE after a label. When the
  // last instruction was dropped (dropLast), lastStart == len until the next one begins.
  lastStart: i32 = NONE;
  // The instruction before the last, when it may still become the first of a pair with it.
  prevStart: i32 = NONE;
  lastDst: i32 = NONE; // its destination slot when it wrote a stack slot
  lastDstAt: u32 = 4; // where in the instruction that destination is (for rewriting it)
  lastWasm: u32 = 0; // the wasm instruction it implements (comparisons, eqz)
  cond: Cond = new Cond();

  // Metering (when `metered`): each straight-line segment starts with `fuel n`, n being the
  // number of bytecode instructions the segment executes; patched when the segment ends.
  metered: bool = false;
  // Intrinsic classes (runtime/hosted.ts): float ops as host calls; memory owned by the host.
  floatX: bool = false;
  hosted: bool = false;
  segField: i32 = NONE;
  segCount: u32 = 0;

  // Declared locals still holding the zero the call gave them (bit x: local x, below 64), while
  // no label has been placed: then the only path here is the straight line from entry, and a
  // `local.set` of a zero constant to such a local emits nothing.
  zeroLocals: u64 = 0;

  // Stop points: (IR offset, bytecode offset, operand stack height, phase) wherever the machine
  // can stop — function entry, labels, call returns, segment starts, probes. At each the frame
  // holds exactly the bytecode's operand stack, so a position can be told as (function, bytecode
  // offset). The phase tells apart the stops of one bytecode point in probed code: it counts what
  // already happened there (the segment's fuel charge, each probe), so a restored frame neither
  // repeats nor skips any of it.
  stops: u32[] = [];
  phaseAt: u32 = 0xffffffff; // the bytecode point `phase` counts for
  phase: u32 = 0;

  // Probes (probe/probes.ts): whether this function gets probe instructions, and its index.
  probed: bool = false;
  funcIndex: u32 = 0;

  // Monitoring (probe/counters.ts): segments also count their executions.
  monitored: bool = false;
  segs: u32[] = []; // per segment: counter field (IR offset), bytecode offset, ops start, flags, count
  segOps: u32[] = [];
  nextLoop: bool = false;

  // ── IR buffer ────────────────────────────────────────────────────────────────────────────
  reserve(n: u32): void {
    if (this.len + n <= this.cap) return;
    let cap: u32 = this.cap == 0 ? 1024 : this.cap * 2;
    while (cap < this.len + n) cap *= 2;
    this.buf = this.buf == 0 ? heap.alloc(cap) : heap.realloc(this.buf, cap);
    this.cap = cap;
  }
  w32(v: u32): void {
    this.reserve(4);
    store<u32>(this.buf + this.len, v);
    this.len += 4;
  }
  w64(v: u64): void {
    this.reserve(8);
    store<u64>(this.buf + this.len, v);
    this.len += 8;
  }
  // Pairs (scripts/isa.mjs irPairs): the last two instructions become one dispatch once neither
  // can change any more — when a third begins or at a label. Only the first's opcode changes. A
  // pair stays `prevStart`, so the next instruction may extend it (a listed longer run).
  pairUp(): bool {
    const prev = this.prevStart;
    const last = this.lastStart;
    if (prev == NONE || last == NONE || prev >= last || <u32>last >= this.len) return false;
    const a = load<u32>(this.buf + <usize>prev);
    const b = load<u32>(this.buf + <usize>last);
    if (<u32>prev + irSize(a) != <u32>last || <u32>last + irSize(b) != this.len) return false;
    const pair = irPair(a, b);
    if (pair == 0xffff) return false;
    store<u32>(this.buf + <usize>prev, pair);
    return true;
  }
  begin(op: u32): u32 {
    if (this.lastStart != NONE && <u32>this.lastStart == this.len) {
      // The last instruction was dropped: this one takes its place after prevStart.
    } else if (this.lastStart != NONE && <u32>this.lastStart + irSize(load<u32>(this.buf + <usize>this.lastStart)) == this.len) {
      if (!this.pairUp()) this.prevStart = this.lastStart;
    } else {
      this.prevStart = NONE;
    }
    const start = this.len;
    this.w32(op);
    this.lastStart = <i32>start;
    this.lastDst = NONE;
    this.lastDstAt = 4;
    this.lastWasm = 0;
    return start;
  }
  // r[dst] = r[src]; two moves in a row share one dispatch (copy2).
  copy(dst: u32, src: u32): void {
    if (this.lastStart != NONE && <u32>this.lastStart + 12 == this.len && load<u32>(this.buf + <usize>this.lastStart) == IR.copy) {
      store<u32>(this.buf + <usize>this.lastStart, IR.copy2);
      this.w32(dst);
      this.w32(src);
      this.lastDst = <i32>dst;
      this.lastDstAt = 12;
      this.lastWasm = 0;
      return;
    }
    this.begin(IR.copy);
    this.w32(dst);
    this.w32(src);
    this.lastDst = <i32>dst;
  }
  noPeephole(): void {
    this.pairUp();
    this.prevStart = NONE;
    this.lastStart = NONE;
    this.lastDst = NONE;
  }
  // Removes the last instruction (fused into the one about to be emitted in its place).
  dropLast(): void {
    this.len = <u32>this.lastStart;
    this.lastDst = NONE;
    this.lastWasm = 0;
  }

  // A segment starts where the frame holds exactly the bytecode's operand stack, so running out
  // of fuel there is a clean suspension point.
  openSegment(bytecodeOffset: u32): void {
    this.materializeAll();
    this.stop(bytecodeOffset);
    this.begin(this.monitored ? IR.fuel_count : IR.fuel);
    this.phase++;
    this.segField = <i32>this.len;
    this.w32(0);
    if (this.monitored) {
      this.segs.push(this.len);
      this.segs.push(bytecodeOffset);
      this.segs.push(<u32>this.segOps.length);
      this.segs.push(this.nextLoop ? SEG_LOOP : 0);
      this.segs.push(0);
      this.nextLoop = false;
      this.w32(0); // the counter's address, patched when the function is done
    }
    this.segCount = 0;
    this.noPeephole();
  }
  stop(bytecodeOffset: u32): void {
    if (bytecodeOffset != this.phaseAt) {
      this.phaseAt = bytecodeOffset;
      this.phase = 0;
    }
    this.stops.push(this.len);
    this.stops.push(bytecodeOffset);
    this.stops.push(this.height);
    this.stops.push(this.phase);
  }

  // ── probes ───────────────────────────────────────────────────────────────────────────────
  // A probe instruction sits at a stop point: before it (a full trace buffer stops there) and
  // after it (a callback probe stops past itself) the frame holds the bytecode's operand stack.
  beforeProbe(at: u32): void {
    this.materializeAll();
    this.noPeephole();
    this.stop(at);
  }
  afterProbe(at: u32): void {
    this.phase++;
    this.stop(at);
    this.noPeephole();
  }
  probe(event: u32, at: u32): void {
    this.beforeProbe(at);
    this.begin(IR.probe);
    this.w32(event);
    this.w32(at);
    this.afterProbe(at);
  }
  // A probe instruction of the form (at, k, slot, x).
  probe4(op: u32, at: u32, k: u32, slot: u32, x: u32): void {
    this.beforeProbe(at);
    this.begin(op);
    this.w32(at);
    this.w32(k);
    this.w32(slot);
    if (op != IR.probe_br && op != IR.probe_icall && op != IR.rec_icall) this.w32(x);
    this.afterProbe(at);
  }
  probeEntry(at: u32): void {
    if ((probeKinds & PROBE_ENTRY) != 0) this.probe(EVENT_ENTRY, at);
    if ((recordKinds & RECORD_INCLUSIVE) != 0) {
      this.beforeProbe(at);
      this.begin(IR.rec_enter);
      this.afterProbe(at);
    }
  }
  probeExit(at: u32): void {
    if ((probeKinds & PROBE_EXIT) != 0) this.probe(EVENT_EXIT, at);
    if ((recordKinds & RECORD_INCLUSIVE) != 0) {
      this.beforeProbe(at);
      this.begin(IR.rec_exit);
      this.afterProbe(at);
    }
  }
  // The probes before instruction `op` at bytecode offset `at` (its immediates not yet read).
  probesBefore(op: u32, at: u32): void {
    const kinds = probeKinds;
    if ((kinds & PROBE_INSTR) != 0) this.probe(EVENT_INSTR, at);
    if ((kinds & PROBE_SITE) != 0 && sites.has((<u64>this.funcIndex << 32) | <u64>at)) this.probe(EVENT_SITE, at);
    const h = this.height;
    if (op >= <u32>Op.I32_LOAD && op <= <u32>Op.I64_STORE32) {
      if (((kinds & PROBE_MEMORY) | (recordKinds & RECORD_MEMORY)) == 0) return;
      const peek = new Reader(this.m.bytes, this.r.pos, this.r.end);
      peek.u32();
      const offset = peek.u32();
      const isStore = op >= <u32>Op.I32_STORE;
      const k = accessBytes(op) | (isStore ? 0x100 : 0);
      const slot = this.slot(isStore ? h - 2 : h - 1);
      if ((kinds & PROBE_MEMORY) != 0) this.probe4(IR.probe_mem, at, k, slot, offset);
      if ((recordKinds & RECORD_MEMORY) != 0) this.probe4(IR.rec_mem, at, k, slot, offset);
    } else if (op == Op.BR_IF || op == Op.IF || op == Op.BR_TABLE) {
      if ((kinds & PROBE_BRANCH) != 0) this.probe4(IR.probe_br, at, op, this.slot(h - 1), 0);
    } else if (op == Op.CALL) {
      if ((kinds & PROBE_CALL) == 0) return;
      const peek = new Reader(this.m.bytes, this.r.pos, this.r.end);
      const f = peek.u32();
      this.beforeProbe(at);
      this.begin(IR.probe_call);
      this.w32(at);
      this.w32(f);
      this.afterProbe(at);
    } else if (op == Op.CALL_INDIRECT) {
      if ((kinds & PROBE_CALL) == 0 && (recordKinds & RECORD_INDIRECT) == 0) return;
      const peek = new Reader(this.m.bytes, this.r.pos, this.r.end);
      peek.u32();
      const table = <u32>unchecked(this.inst.tables[peek.u32()]);
      if ((kinds & PROBE_CALL) != 0) this.probe4(IR.probe_icall, at, table, this.slot(h - 1), 0);
      if ((recordKinds & RECORD_INDIRECT) != 0) this.probe4(IR.rec_icall, at, table, this.slot(h - 1), 0);
    }
  }
  closeSegment(): void {
    if (this.segField == NONE) return;
    store<u32>(this.buf + <usize>this.segField, this.segCount);
    if (this.monitored) this.segs[this.segs.length - 1] = this.segCount;
    this.segField = NONE;
  }

  // ── abstract stack ───────────────────────────────────────────────────────────────────────
  @inline get height(): u32 { return <u32>this.kinds.length; }
  @inline slot(h: u32): u32 { return (this.numLocals + h) << 3; }
  push(kind: u8, val: u64): void {
    this.kinds.push(kind);
    this.vals.push(val);
    if (<u32>this.kinds.length > this.maxHeight) this.maxHeight = <u32>this.kinds.length;
  }
  pushStack(): u32 {
    this.push(STACK, 0);
    return this.slot(this.height - 1);
  }
  pop(): void {
    this.kinds.pop();
    this.vals.pop();
  }
  truncate(h: u32): void {
    this.kinds.length = h;
    this.vals.length = h;
  }
  // Writes entry h's value into its own slot.
  materialize(h: u32): void {
    const kind = unchecked(this.kinds[h]);
    if (kind == STACK) return;
    const dst = this.slot(h);
    const v = unchecked(this.vals[h]);
    if (kind == LOCAL) {
      this.copy(dst, <u32>v << 3);
      unchecked((this.kinds[h] = STACK));
      return;
    } else if (kind == CONST32) {
      this.begin(IR.const32);
      this.w32(dst);
      this.w32(<u32>v);
    } else {
      this.begin(IR.const64);
      this.w32(dst);
      this.w64(v);
    }
    this.lastDst = <i32>dst;
    unchecked((this.kinds[h] = STACK));
  }
  materializeAll(): void {
    for (let h: u32 = 0; h < this.height; h++) this.materialize(h);
  }
  // The slot an instruction reads entry h from (constants are materialised).
  operand(h: u32): u32 {
    const kind = unchecked(this.kinds[h]);
    if (kind == LOCAL) return <u32>unchecked(this.vals[h]) << 3;
    if (kind != STACK) this.materialize(h);
    return this.slot(h);
  }
  isConst(h: u32): bool { return unchecked(this.kinds[h]) >= CONST32; }

  // ── control ──────────────────────────────────────────────────────────────────────────────
  pushCtl(kind: u8, params: u32, results: u32): Ctl {
    if (this.depth == this.ctls.length) this.ctls.push(new Ctl());
    const c = unchecked(this.ctls[this.depth++]);
    c.kind = kind;
    c.params = params;
    c.results = results;
    c.height = this.height - params;
    c.label = 0;
    c.elseField = NONE;
    c.patches.length = 0;
    c.unreachable = false;
    return c;
  }
  @inline ctl(d: u32): Ctl { return unchecked(this.ctls[this.depth - 1 - <i32>d]); }
  @inline arity(c: Ctl): u32 { return c.kind == LOOP ? c.params : c.results; }

  // Emits a branch to the label of `c` (its offset word at `field`).
  branchTo(c: Ctl, instr: u32, field: u32): void {
    if (c.kind == LOOP) store<i32>(this.buf + field, <i32>c.label - <i32>instr);
    else {
      c.patches.push(field);
      c.patches.push(instr);
    }
  }
  placeLabel(c: Ctl): void {
    this.zeroLocals = 0;
    const here = this.len;
    const p = c.patches;
    for (let i = 0; i < p.length; i += 2) {
      store<i32>(this.buf + unchecked(p[i]), <i32>here - <i32>unchecked(p[i + 1]));
    }
    this.noPeephole();
  }
  // Whether the top `n` entries already sit in the slots of a label at height `h`.
  inPlace(n: u32, h: u32): bool {
    if (n == 0) return true;
    if (this.height - n != h) return false;
    for (let i = h; i < this.height; i++) if (unchecked(this.kinds[i]) != STACK) return false;
    return true;
  }
  // Copies the top `n` entries to the slots of heights h.. (without popping them).
  moveTo(n: u32, h: u32): void {
    const from = this.height - n;
    for (let i: u32 = 0; i < n; i++) {
      const src = from + i;
      const dst = this.slot(h + i);
      const kind = unchecked(this.kinds[src]);
      if (kind == STACK) {
        if (src == h + i) continue;
        this.copy(dst, this.slot(src));
      } else if (kind == LOCAL) {
        this.copy(dst, <u32>unchecked(this.vals[src]) << 3);
      } else {
        const v = unchecked(this.vals[src]);
        this.begin(IR.const64);
        this.w32(dst);
        this.w64(v);
      }
    }
  }
  // Unconditional branch to depth d.
  br(d: u32): void {
    const c = this.ctl(d);
    this.moveTo(this.arity(c), c.height);
    const at = this.begin(IR.br);
    this.w32(0);
    this.branchTo(c, at, at + 4);
  }
  setUnreachable(): void {
    const c = this.ctl(0);
    c.unreachable = true;
    this.truncate(c.height);
    this.noPeephole();
  }

  // Pops the condition on top of the stack, fusing it with the comparison that produced it.
  takeCond(): Cond {
    const c = this.cond;
    c.fused = false;
    c.eqz = false;
    c.test = false;
    c.imm = false;
    c.wide = false;
    const h = this.height - 1;
    if (unchecked(this.kinds[h]) == STACK && this.lastStart != NONE && this.lastDst == <i32>this.slot(h) && this.lastWasm != 0) {
      const at = <usize>this.lastStart;
      const op = this.lastWasm;
      if (op == Op.I32_EQZ || op == Op.I64_EQZ) {
        c.eqz = true;
        c.wide = op == Op.I64_EQZ;
        c.a = load<u32>(this.buf + at, 8);
        this.dropLast();
        this.pop();
        return c;
      }
      const irOp = load<u32>(this.buf + at);
      if (irOp == IR.i32_and_si) {
        c.test = true;
        c.a = load<u32>(this.buf + at, 8);
        c.bImm = <u64>load<u32>(this.buf + at, 12);
        this.dropLast();
        this.pop();
        return c;
      }
      if (lowerBrSs(op) == 0xffff) {
        c.a = this.operand(h);
        this.pop();
        return c;
      }
      c.fused = true;
      c.cmp = op;
      c.a = load<u32>(this.buf + at, 8);
      c.imm = irOp == lowerBinSi(op);
      if (c.imm) {
        c.immWide = irSize(irOp) == 20;
        c.bImm = c.immWide ? load<u64>(this.buf + at, 12) : <u64>load<u32>(this.buf + at, 12);
      } else {
        c.b = load<u32>(this.buf + at, 12);
      }
      this.dropLast();
      this.pop();
      return c;
    }
    c.a = this.operand(h);
    this.pop();
    return c;
  }

  // Emits "if cond (negated when `negate`) then branch", returning the branch's (field, instr).
  // Returns the field offset; the instruction offset is in `lastBranchInstr`.
  lastBranchInstr: u32 = 0;
  condBranch(c: Cond, negate: bool): u32 {
    let at: u32;
    if (c.test) {
      at = this.begin(negate ? IR.br_and_eqz_si : IR.br_and_nez_si);
      this.w32(c.a);
      this.w32(<u32>c.bImm);
    } else if (c.eqz) {
      // branch if a == 0, or (negated) if a != 0
      const op = negate ? (c.wide ? IR.br_nez_i64 : IR.br_nez) : (c.wide ? IR.br_eqz_i64 : IR.br_eqz);
      at = this.begin(op);
      this.w32(c.a);
    } else if (c.fused) {
      let cmp = c.cmp;
      if (negate) cmp = negatedCmp(cmp);
      if (cmp == 0xffff) {
        // A float comparison cannot be negated: compute it, then branch on zero.
        const dst = this.slot(this.height);
        this.reserveHeight(this.height + 1);
        if (c.imm) {
          this.begin(lowerBinSi(c.cmp));
          this.w32(dst);
          this.w32(c.a);
          if (c.immWide) this.w64(c.bImm); else this.w32(<u32>c.bImm);
        } else {
          this.begin(lowerBinSs(c.cmp));
          this.w32(dst);
          this.w32(c.a);
          this.w32(c.b);
        }
        at = this.begin(IR.br_eqz);
        this.w32(dst);
      } else if (c.imm) {
        at = this.begin(lowerBrSi(cmp));
        this.w32(c.a);
        if (c.immWide) this.w64(c.bImm); else this.w32(<u32>c.bImm);
      } else {
        at = this.begin(lowerBrSs(cmp));
        this.w32(c.a);
        this.w32(c.b);
      }
    } else {
      at = this.begin(negate ? IR.br_eqz : IR.br_nez);
      this.w32(c.a);
    }
    const field = this.len;
    this.w32(0);
    this.lastBranchInstr = at;
    return field;
  }
  reserveHeight(h: u32): void {
    if (h > this.maxHeight) this.maxHeight = h;
  }
  patchHere(field: u32, instr: u32): void {
    store<i32>(this.buf + field, <i32>this.len - <i32>instr);
  }

  // ── block types ──────────────────────────────────────────────────────────────────────────
  btParams: u32 = 0;
  btResults: u32 = 0;
  blockType(): void {
    const bt = this.r.s33();
    if (bt == -64) { this.btParams = 0; this.btResults = 0; }
    else if (bt < 0) { this.btParams = 0; this.btResults = 1; }
    else {
      const t = unchecked(this.m.types[<i32>bt]);
      this.btParams = <u32>t.params.length;
      this.btResults = <u32>t.results.length;
    }
  }

  // ── the function ─────────────────────────────────────────────────────────────────────────
  compile(rec: usize): usize {
    const inst = unchecked(instances[load<u32>(rec, FUNC_INSTANCE)])!;
    const m = inst.module;
    const index = load<u32>(rec, FUNC_INDEX);
    const code = unchecked(m.codes[index - m.numImportedFuncs]);
    const type = m.funcType(index);
    this.m = m;
    this.inst = inst;
    this.numLocals = <u32>type.params.length + code.numLocals;
    this.r = new Reader(m.bytes, m.bytes + code.bodyStart, m.bytes + code.bodyEnd);
    this.len = 0;
    this.truncate(0);
    this.maxHeight = 0;
    this.depth = 0;
    this.prevStart = NONE;
    this.lastStart = NONE;
    this.noPeephole();
    this.probed = probing();
    this.funcIndex = index;
    this.phaseAt = 0xffffffff;
    this.phase = 0;
    // Inclusive instructions are read off the fuel: they need metered code.
    this.metered = meteringEnabled || monitoringEnabled || (recordKinds & RECORD_INCLUSIVE) != 0;
    this.monitored = monitoringEnabled;
    this.floatX = (intrinsicClasses & CLASS_FLOAT) != 0;
    this.hosted = hostedMemory != 0 && load<usize>(rec, FUNC_MEM) == hostedMemory;
    this.segField = NONE;
    this.stops.length = 0;
    this.segs.length = 0;
    this.segOps.length = 0;
    this.nextLoop = false;
    this.pushCtl(FUNC, 0, <u32>type.results.length);
    const np = <u32>type.params.length;
    this.zeroLocals = 0;
    for (let x = np; x < this.numLocals && x < 64; x++) this.zeroLocals |= (<u64>1) << x;
    if (!this.metered) this.stop(code.bodyStart);
    this.body(type, code.bodyStart);
    const table = new StaticArray<u32>(this.stops.length);
    for (let i = 0; i < this.stops.length; i++) unchecked((table[i] = this.stops[i]));
    setStops(load<u32>(rec, FUNC_ADDR), table);
    if (this.monitored) this.finishCounters(load<u32>(rec, FUNC_ADDR));
    const ir = heap.alloc(this.len);
    memory.copy(ir, this.buf, this.len);
    store<u32>(rec, (this.numLocals + this.maxHeight) << 3, FUNC_FRAME_BYTES);
    store<u32>(rec, code.numLocals << 3, FUNC_ZERO_BYTES);
    store<usize>(rec, ir, FUNC_CODE);
    return ir;
  }

  // Allocates the segment counters, points each fuel_count at its own, and registers the
  // segments' contents for the monitors.
  finishCounters(addr: u32): void {
    const n = this.segs.length / 5;
    const counters = heap.alloc(<usize>(n == 0 ? 1 : n) << 3);
    memory.fill(counters, 0, <usize>n << 3);
    const segs = new StaticArray<u32>(n << 2);
    for (let i = 0; i < n; i++) {
      store<u32>(this.buf + <usize>unchecked(this.segs[i * 5]), <u32>(counters + (<usize>i << 3)));
      unchecked((segs[i * 4] = this.segs[i * 5 + 1]));
      unchecked((segs[i * 4 + 1] = this.segs[i * 5 + 4]));
      unchecked((segs[i * 4 + 2] = this.segs[i * 5 + 2]));
      unchecked((segs[i * 4 + 3] = this.segs[i * 5 + 3]));
    }
    const ops = new StaticArray<u16>(this.segOps.length);
    for (let i = 0; i < this.segOps.length; i++) unchecked((ops[i] = <u16>this.segOps[i]));
    setCounters(addr, new FuncCounters(counters, segs, ops));
  }

  // Returns the top n entries; `at` is the returning instruction's offset (for exit probes).
  ret(n: u32, at: u32): void {
    if (this.probed) this.probeExit(at);
    if (n == 0) {
      this.begin(IR.ret0);
    } else if (n == 1) {
      const s = this.operand(this.height - 1);
      this.begin(IR.ret1);
      this.w32(s);
    } else {
      for (let h = this.height - n; h < this.height; h++) this.materialize(h);
      this.begin(IR.retn);
      this.w32(this.slot(this.height - n));
      this.w32(n);
    }
  }

  // Skips to the else/end that closes the current unreachable region.
  skipDead(): u32 {
    const r = this.r;
    let nest = 0;
    while (true) {
      let op = r.u8();
      if (op == 0xfc) op = PREFIX_FC + r.u32();
      switch (op) {
        case Op.BLOCK: case Op.LOOP: case Op.IF: r.s33(); nest++; break;
        case Op.ELSE: if (nest == 0) return op; break;
        case Op.END: if (nest == 0) return op; nest--; break;
        default: skipImmediates(r, op);
      }
      if (r.atEnd) return Op.END;
    }
  }

  body(type: FuncType, start: u32): void {
    const r = this.r;
    if (this.probed) this.probeEntry(start);
    while (true) {
      let op: u32;
      let at: u32 = 0;
      if (this.ctl(0).unreachable) op = this.skipDead();
      else {
        at = r.offset;
        op = r.u8();
        if (op == 0xfc) op = PREFIX_FC + r.u32();
        if (this.metered) {
          if (this.segField == NONE) this.openSegment(at);
          this.segCount++;
          if (this.monitored) this.segOps.push(op);
        }
        if (this.probed) this.probesBefore(op, at);
      }
      switch (op) {
        case Op.UNREACHABLE: {
          this.begin(IR.unreachable);
          this.closeSegment();
          this.setUnreachable();
          break;
        }
        case Op.NOP: break;
        case Op.BLOCK: {
          this.blockType();
          this.materializeAll();
          this.noPeephole();
          this.pushCtl(BLOCK, this.btParams, this.btResults);
          break;
        }
        case Op.LOOP: {
          this.zeroLocals = 0;
          this.blockType();
          this.materializeAll();
          this.noPeephole();
          this.closeSegment();
          this.nextLoop = true;
          const c = this.pushCtl(LOOP, this.btParams, this.btResults);
          c.label = this.len;
          this.stop(r.offset);
          break;
        }
        case Op.IF: {
          this.blockType();
          const cond = this.takeCond();
          this.materializeAll();
          const field = this.condBranch(cond, true);
          this.closeSegment();
          const c = this.pushCtl(IF, this.btParams, this.btResults);
          c.elseField = <i32>field;
          c.elseInstr = this.lastBranchInstr;
          break;
        }
        case Op.ELSE: {
          this.zeroLocals = 0;
          const c = this.ctl(0);
          if (!c.unreachable) {
            this.moveTo(c.results, c.height);
            const at = this.begin(IR.br);
            this.w32(0);
            c.patches.push(at + 4);
            c.patches.push(at);
          }
          this.closeSegment();
          this.patchHere(<u32>c.elseField, c.elseInstr);
          c.elseField = NONE;
          c.kind = ELSE;
          c.unreachable = false;
          this.truncate(c.height);
          for (let i: u32 = 0; i < c.params; i++) this.push(STACK, 0);
          this.noPeephole();
          this.stop(r.offset);
          break;
        }
        case Op.END: {
          const c = this.ctl(0);
          const fell = !c.unreachable;
          if (c.kind == FUNC) {
            if (fell) this.ret(c.results, at);
            this.closeSegment();
            if (c.patches.length > 0) {
              this.placeLabel(c);
              // Branches to the function's label carry its results into place: return them.
              this.truncate(c.height);
              for (let i: u32 = 0; i < c.results; i++) this.push(STACK, 0);
              this.stop(r.offset);
              this.ret(c.results, r.offset);
            }
            return;
          }
          if (fell) this.moveTo(c.results, c.height);
          this.closeSegment();
          let reachable = fell || c.patches.length > 0;
          if (c.elseField != NONE) {
            // `if` without `else`: the false path arrives here with the parameters as results.
            this.patchHere(<u32>c.elseField, c.elseInstr);
            reachable = true;
          }
          if (c.kind != LOOP) this.placeLabel(c);
          this.noPeephole();
          this.truncate(c.height);
          for (let i: u32 = 0; i < c.results; i++) this.push(STACK, 0);
          this.depth--;
          if (reachable) this.stop(r.offset);
          else this.setUnreachable();
          break;
        }
        case Op.BR: {
          this.br(r.u32());
          this.closeSegment();
          this.setUnreachable();
          break;
        }
        case Op.BR_IF: {
          const d = r.u32();
          const target = this.ctl(d);
          const n = this.arity(target);
          const cond = this.takeCond();
          if (this.inPlace(n, target.height)) {
            const field = this.condBranch(cond, false);
            this.branchTo(target, this.lastBranchInstr, field);
          } else {
            const skip = this.condBranch(cond, true);
            const skipInstr = this.lastBranchInstr;
            this.br(d);
            this.patchHere(skip, skipInstr);
            this.noPeephole();
          }
          this.closeSegment();
          break;
        }
        case Op.BR_TABLE: {
          const count = r.u32();
          const start = r.pos;
          for (let i: u32 = 0; i <= count; i++) r.u32();
          const idx = this.operand(this.height - 1);
          this.pop();
          const at = this.begin(IR.br_table);
          this.w32(idx);
          this.w32(count);
          const fields = this.len;
          for (let i: u32 = 0; i <= count; i++) this.w32(0);
          // Targets whose values are in place are branched to directly; others through a stub
          // that moves the values first.
          const r2 = new Reader(this.m.bytes, start, r.pos);
          for (let i: u32 = 0; i <= count; i++) {
            const d = r2.u32();
            const c = this.ctl(d);
            const field = fields + (i << 2);
            if (this.inPlace(this.arity(c), c.height)) this.branchTo(c, at, field);
            else {
              store<i32>(this.buf + field, <i32>this.len - <i32>at);
              this.br(d);
            }
          }
          this.closeSegment();
          this.setUnreachable();
          break;
        }
        case Op.RETURN: {
          this.ret(<u32>type.results.length, at);
          this.closeSegment();
          this.setUnreachable();
          break;
        }
        case Op.CALL: {
          const f = r.u32();
          const callee = unchecked(this.inst.funcs[f]);
          // A builtin float intrinsic is its float instruction, a load or store one a single IR
          // instruction (runtime/builtins.ts); probed code keeps the call, which probes see.
          const builtin = probing() ? 0 : builtinOf(callee);
          const t = this.m.funcType(f);
          if (builtin != 0 && builtinWasmOp(builtin - 1) != 0xffff) {
            lowerNumeric(this, builtinWasmOp(builtin - 1));
            break;
          }
          if (builtin != 0 && builtinIrOp(builtin - 1) != 0xffff) {
            lowerBuiltin(this, builtinIrOp(builtin - 1), <u32>t.params.length, <u32>t.results.length);
            break;
          }
          this.call(IR.call, <u32>t.params.length, <u32>t.results.length, callee, 0, 0);
          break;
        }
        case Op.CALL_INDIRECT: {
          const y = r.u32();
          const table = r.u32();
          const t = unchecked(this.m.types[y]);
          this.materializeAll();
          const idx = this.slot(this.height - 1);
          this.pop();
          this.call(IR.call_indirect, <u32>t.params.length, <u32>t.results.length, unchecked(this.inst.tables[table]), canonicalType(t), idx);
          break;
        }
        case Op.DROP: {
          if (this.lastDst == <i32>this.slot(this.height - 1)) this.lastDst = NONE;
          this.pop();
          break;
        }
        case Op.SELECT: case Op.SELECT_T: {
          if (op == Op.SELECT_T) { const n = r.u32(); for (let i: u32 = 0; i < n; i++) r.u8(); }
          const h = this.height;
          const c = this.operand(h - 1);
          const b = this.operand(h - 2);
          const a = this.operand(h - 3);
          this.truncate(h - 3);
          const dst = this.pushStack();
          this.begin(IR.select);
          this.w32(dst);
          this.w32(c);
          this.w32(a);
          this.w32(b);
          this.lastDst = <i32>dst;
          break;
        }
        case Op.LOCAL_GET: this.push(LOCAL, r.u32()); break;
        case Op.LOCAL_SET: this.localSet(r.u32(), false); break;
        case Op.LOCAL_TEE: this.localSet(r.u32(), true); break;
        case Op.GLOBAL_GET: {
          const g = unchecked(this.inst.globals[r.u32()]);
          const dst = this.pushStack();
          this.begin(IR.global_get);
          this.w32(dst);
          this.w32(<u32>g);
          this.lastDst = <i32>dst;
          break;
        }
        case Op.GLOBAL_SET: {
          const g = unchecked(this.inst.globals[r.u32()]);
          const s = this.operand(this.height - 1);
          this.pop();
          this.begin(IR.global_set);
          this.w32(<u32>g);
          this.w32(s);
          break;
        }
        case Op.I32_CONST: this.push(CONST32, <u64><u32>r.i32()); break;
        case Op.I64_CONST: this.push(CONST64, <u64>r.i64()); break;
        case Op.F32_CONST: this.push(CONST32, <u64>r.fixed32()); break;
        case Op.F64_CONST: this.push(CONST64, r.fixed64()); break;
        case Op.REF_NULL: r.u8(); this.push(CONST32, 0); break;
        case Op.REF_IS_NULL: lowerNumeric(this, Op.I32_EQZ); break;
        case Op.REF_FUNC: {
          const f = unchecked(this.inst.funcs[r.u32()]);
          this.push(CONST32, <u64>(load<u32>(f, FUNC_ADDR) + 1));
          break;
        }
        default: {
          if (!lowerMemoryOrTable(this, op)) lowerNumeric(this, op);
        }
      }
    }
  }

  call(irOp: u32, np: u32, nr: u32, target: usize, typeId: u32, idx: u32): void {
    this.materializeAll();
    const base = this.height - np;
    this.truncate(base);
    this.begin(irOp);
    this.w32(<u32>target);
    if (irOp == IR.call_indirect) {
      this.w32(typeId);
      this.w32(idx);
    }
    this.w32(this.slot(base));
    for (let i: u32 = 0; i < nr; i++) this.push(STACK, 0);
    this.noPeephole();
    this.stop(this.r.offset);
    // The caller's next instructions are charged after the call returns, so a suspension inside
    // the callee has charged exactly what ran.
    this.closeSegment();
  }

  localSet(x: u32, tee: bool): void {
    const h = this.height - 1;
    const kind = unchecked(this.kinds[h]);
    const v = unchecked(this.vals[h]);
    const dst = x << 3;
    this.pop();
    const bit = x < 64 ? (<u64>1) << x : 0;
    if (kind >= CONST32 && v == 0 && (this.zeroLocals & bit) != 0) {
      // Already zero: nothing reads a different value.
    } else if (!(kind == LOCAL && <u32>v == x)) {
      this.zeroLocals &= ~bit;
      // Entries still reading local x must get their value before it changes.
      for (let i: u32 = 0; i < this.height; i++) {
        if (unchecked(this.kinds[i]) == LOCAL && <u32>unchecked(this.vals[i]) == x) this.materialize(i);
      }
      if (kind == STACK && this.lastStart != NONE && this.lastDst == <i32>this.slot(h)) {
        // The instruction that computed the value writes the local directly.
        store<u32>(this.buf + <usize>this.lastStart + this.lastDstAt, dst);
        this.lastDst = NONE;
        this.lastWasm = 0;
      } else if (kind == STACK) {
        this.copy(dst, this.slot(h));
      } else if (kind == LOCAL) {
        this.copy(dst, <u32>v << 3);
      } else {
        this.begin(IR.const64);
        this.w32(dst);
        this.w64(v);
      }
    }
    if (tee) this.push(LOCAL, x);
  }

}

const compiler = new Compiler();

// Whether functions compiled from now on are metered (set once per store, before any compile).
export let meteringEnabled = false;
export function setMetering(on: bool): void {
  meteringEnabled = on;
}

export let compiledFunctions: u32 = 0;

// Stop-point tables of compiled functions, by function address: quadruples (IR offset, bytecode
// offset, operand stack height, phase) in IR order.
const stopTables: Array<StaticArray<u32> | null> = [];

function setStops(addr: u32, table: StaticArray<u32>): void {
  while (<u32>stopTables.length <= addr) stopTables.push(null);
  unchecked((stopTables[addr] = table));
}

export function stopsOf(addr: u32): StaticArray<u32> | null {
  return addr < <u32>stopTables.length ? unchecked(stopTables[addr]) : null;
}

// Compiles the function `rec` (a FuncInst of a validated module) and returns its IR.
export function compileFunction(rec: usize): usize {
  compiledFunctions++;
  return compiler.compile(rec);
}

// Frees what compiling `rec` made (its function is being dropped). compiledFunctions counts live
// compiled functions, so a store whose code is all dropped may choose its modes again.
export function forgetCompiled(rec: usize): void {
  const ir = load<usize>(rec, FUNC_CODE);
  if (ir == 0) return;
  heap.free(ir);
  store<usize>(rec, 0, FUNC_CODE);
  const addr = load<u32>(rec, FUNC_ADDR);
  if (addr < <u32>stopTables.length) unchecked((stopTables[addr] = null));
  forgetCounters(addr);
  compiledFunctions--;
}

// Bytes a load or store accesses.
function accessBytes(op: u32): u32 {
  switch (op) {
    case Op.I64_LOAD: case Op.F64_LOAD: case Op.I64_STORE: case Op.F64_STORE: return 8;
    case Op.I32_LOAD8_S: case Op.I32_LOAD8_U: case Op.I64_LOAD8_S: case Op.I64_LOAD8_U:
    case Op.I32_STORE8: case Op.I64_STORE8: return 1;
    case Op.I32_LOAD16_S: case Op.I32_LOAD16_U: case Op.I64_LOAD16_S: case Op.I64_LOAD16_U:
    case Op.I32_STORE16: case Op.I64_STORE16: return 2;
  }
  return 4;
}
