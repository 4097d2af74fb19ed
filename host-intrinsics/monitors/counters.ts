// The VM's segment counters (ABI `monitor_dump`, guest-vm/probe/counters.ts), decoded. Every
// monitor in this folder is a pure function of them: the VM counts, the host derives.

export interface Segment {
  /** Bytecode offset (from the module's start) of the segment's first instruction. */
  offset: number;
  /** Whether the segment starts a loop body (so its executions are the loop's iterations). */
  loop: boolean;
  /** How often the segment ran. */
  executions: bigint;
  /** Its instructions' opcodes, in order (0xFC-prefixed: 0x100 + sub-opcode). */
  ops: number[];
}

export interface FunctionCounters {
  index: number;
  name: string;
  /** In bytecode order; the first starts at the function's first instruction. */
  segments: Segment[];
}

export function decodeCounters(blob: Uint8Array): FunctionCounters[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  const u32 = () => { const v = view.getUint32(at, true); at += 4; return v; };
  const n = u32();
  const out: FunctionCounters[] = [];
  for (let f = 0; f < n; f++) {
    const index = u32();
    const len = u32();
    const name = new TextDecoder().decode(blob.subarray(at, at + len));
    at += len;
    const segments: Segment[] = [];
    for (let k = u32(); k > 0; k--) {
      const offset = u32();
      u32(); // instruction count (= ops.length)
      const flags = u32();
      const executions = view.getBigUint64(at, true);
      at += 8;
      const ops = Array.from({ length: u32() }, () => { const op = view.getUint16(at, true); at += 2; return op; });
      segments.push({ offset, loop: (flags & 1) !== 0, executions, ops });
    }
    out.push({ index, name, segments });
  }
  return out;
}

export function functionLabel(f: FunctionCounters): string {
  return f.name || `func[${f.index}]`;
}
