// Segment counters: the one probe the monitors stand on. In monitored code every straight-line
// segment (see compile/README.md) starts with `fuel_count`, which also counts the segment's
// executions in a u64 here. What a segment contains is known when it is compiled, so from the
// counts alone the host derives exact totals: instructions, an opcode histogram (every bytecode
// instruction under its own mnemonic, however the IR fused it), basic-block coverage, calls per
// function, loop iterations and branch outcomes — with no host call per event.

// Per compiled function: its segments and their counters.
//   segs: per segment 4 u32s — bytecode offset of its first instruction, instruction count,
//         start of its opcodes in `ops`, flags (SEG_LOOP: it starts a loop body)
//   ops:  the opcodes of all segments, in order (0xFC-prefixed ones as 0x100 + sub-opcode)
export const SEG_LOOP: u32 = 1;

export class FuncCounters {
  counters: usize = 0; // u64 per segment
  segs: StaticArray<u32>;
  ops: StaticArray<u16>;
  constructor(counters: usize, segs: StaticArray<u32>, ops: StaticArray<u16>) {
    this.counters = counters;
    this.segs = segs;
    this.ops = ops;
  }
  @inline get segments(): i32 { return this.segs.length >> 2; }
  @inline count(seg: i32): u64 { return load<u64>(this.counters + (<usize>seg << 3)); }
  @inline setCount(seg: i32, v: u64): void { store<u64>(this.counters + (<usize>seg << 3), v); }
}

// By function address.
const byAddr: Array<FuncCounters | null> = [];

export function setCounters(addr: u32, c: FuncCounters): void {
  while (<u32>byAddr.length <= addr) byAddr.push(null);
  unchecked((byAddr[addr] = c));
}

export function forgetCounters(addr: u32): void {
  const c = countersOf(addr);
  if (c === null) return;
  heap.free(c.counters);
  unchecked((byAddr[addr] = null));
}

export function countersOf(addr: u32): FuncCounters | null {
  return addr < <u32>byAddr.length ? unchecked(byAddr[addr]) : null;
}

// Whether functions compiled from now on are monitored (implies metering; chosen before any
// function is compiled).
export let monitoringEnabled = false;
export function setMonitoring(on: bool): void {
  monitoringEnabled = on;
}
