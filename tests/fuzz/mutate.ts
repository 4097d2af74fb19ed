// Mutations of valid modules into (mostly) malformed or invalid ones: bit flips, byte sets,
// truncation, insertions, section reordering / duplication / removal, and LEB-encoded counts and
// lengths replaced by huge (or overlong) values. Each mutation is chosen by a seeded Rng and named,
// so a mutant can be reproduced and described.

import type { Rng } from './rng.js';
import { HEADER, Reader, UnknownOpcode, concat, encodeSection, forEachBody, readSections, uleb, walkInstructions, type Section } from './wasm-binary.js';

export interface Mutant {
  bytes: Uint8Array;
  /** What was done, e.g. "flip bit 3 of byte 812; truncate to 900". */
  what: string;
}

const HUGE = [0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000, 0x10000000, 0x01000000, 0x00100000, 65536, 65537, 100000];

/** `n` as an unsigned LEB of exactly `width` bytes (overlong when padded). */
function lebWidth(n: number, width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (i < width - 1) b |= 0x80;
    out.push(b);
  }
  return out;
}

function safeSections(bytes: Uint8Array): Section[] | null {
  try {
    return readSections(bytes);
  } catch {
    return null;
  }
}

/** Offsets of the LEBs at the start of each section's payload (their vector counts) and of the sizes. */
function lebSites(bytes: Uint8Array): { at: number; len: number; what: string }[] {
  const sections = safeSections(bytes) ?? [];
  const sites: { at: number; len: number; what: string }[] = [];
  for (const s of sections) {
    sites.push({ at: s.start + 1, len: s.payloadStart - s.start - 1, what: `size of section ${s.id}` });
    if (s.id === 0 || s.id === 8 || s.payloadStart === s.end) continue;
    const r = new Reader(bytes, s.payloadStart, s.end);
    try {
      r.u32();
      sites.push({ at: s.payloadStart, len: r.pos - s.payloadStart, what: `count of section ${s.id}` });
      // The first entry's own LEBs: function body sizes and local counts, segment lengths, ...
      if (s.id === 10) {
        const size = r.u32();
        sites.push({ at: s.payloadStart + 1, len: r.pos - s.payloadStart - 1, what: 'size of the first function body' });
        const at = r.pos;
        r.u32();
        sites.push({ at, len: r.pos - at, what: 'local group count of the first function' });
        void size;
      }
    } catch {
      // a section too short to hold a count: fine, fewer sites
    }
  }
  // LEB immediates inside code: local/global/function indices, branch depths, memarg offsets.
  for (const s of sections) {
    if (s.id !== 10) continue;
    try {
      forEachBody(bytes, s.payloadStart, s.end, (b) => b.u8(), (body, _start, end) => {
        walkInstructions(body, (at, op) => {
          if ((op >= 0x0c && op <= 0x11) || (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0x3e) || op === 0xd2 || op === 0x41) {
            const imm = at + 1;
            const rr = new Reader(bytes, imm, end);
            rr.u32();
            if (sites.length < 400) sites.push({ at: imm, len: rr.pos - imm, what: `immediate of opcode 0x${op.toString(16)} at ${at}` });
          }
        });
      });
    } catch {
      // unparseable body: keep what we have
    }
  }
  return sites;
}

type Mutator = (bytes: Uint8Array, rng: Rng) => Mutant | null;

const MUTATORS: { name: string; weight: number; fn: Mutator }[] = [
  {
    name: 'bit flip', weight: 4, fn: (b, rng) => {
      const out = b.slice();
      const flips: string[] = [];
      for (let n = rng.range(1, 3); n > 0; n--) {
        const at = rng.range(8, out.length - 1);
        const bit = rng.below(8);
        out[at]! ^= 1 << bit;
        flips.push(`bit ${bit} of byte ${at}`);
      }
      return { bytes: out, what: `flip ${flips.join(', ')}` };
    },
  },
  {
    name: 'byte set', weight: 3, fn: (b, rng) => {
      const out = b.slice();
      const at = rng.range(8, out.length - 1);
      const v = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x40, 0x0b, 0x01, rng.below(256)]);
      out[at] = v;
      return { bytes: out, what: `byte ${at} := 0x${v.toString(16)}` };
    },
  },
  {
    name: 'truncate', weight: 2, fn: (b, rng) => {
      const len = rng.chance(0.2) ? rng.below(12) : rng.range(8, b.length - 1);
      return { bytes: b.slice(0, len), what: `truncate to ${len} bytes` };
    },
  },
  {
    name: 'insert', weight: 1, fn: (b, rng) => {
      const at = rng.range(8, b.length);
      const ins = rng.bytes(rng.range(1, 8));
      return { bytes: concat([b.subarray(0, at), ins, b.subarray(at)]), what: `insert ${ins.length} random bytes at ${at}` };
    },
  },
  {
    name: 'delete', weight: 1, fn: (b, rng) => {
      const at = rng.range(8, b.length - 1);
      const n = rng.range(1, Math.min(16, b.length - at));
      return { bytes: concat([b.subarray(0, at), b.subarray(at + n)]), what: `delete ${n} bytes at ${at}` };
    },
  },
  {
    name: 'huge LEB', weight: 4, fn: (b, rng) => {
      const sites = lebSites(b);
      if (sites.length === 0) return null;
      const site = rng.pick(sites);
      const value = rng.pick(HUGE);
      const width = rng.pick([5, 5, site.len, Math.max(site.len, 6)]);
      const leb = width >= 5 && width === 5 ? lebWidth(value, 5) : width > 5 ? [...lebWidth(value, 5).map((x, i) => (i === 4 ? x | 0x80 : x)), ...lebWidth(0, width - 5)] : lebWidth(value % 2 ** (7 * width), width);
      return {
        bytes: concat([b.subarray(0, site.at), leb, b.subarray(site.at + site.len)]),
        what: `${site.what} := ${value} (LEB of ${leb.length} bytes)`,
      };
    },
  },
  {
    name: 'count off by one', weight: 2, fn: (b, rng) => {
      const sites = lebSites(b).filter((s) => s.what.startsWith('count') || s.what.startsWith('size'));
      if (sites.length === 0) return null;
      const site = rng.pick(sites);
      const old = new Reader(b, site.at).u32();
      const value = Math.max(0, old + rng.pick([-1, 1, 2, -2]));
      return { bytes: concat([b.subarray(0, site.at), uleb(value), b.subarray(site.at + site.len)]), what: `${site.what} ${old} -> ${value}` };
    },
  },
  {
    name: 'section swap', weight: 2, fn: (b, rng) => {
      const s = safeSections(b);
      if (!s || s.length < 2) return null;
      const i = rng.below(s.length);
      let j = rng.below(s.length - 1);
      if (j >= i) j++;
      const parts = s.map((x) => b.subarray(x.start, x.end));
      [parts[i], parts[j]] = [parts[j]!, parts[i]!];
      return { bytes: concat([HEADER, ...parts]), what: `swap sections ${s[i]!.id} and ${s[j]!.id}` };
    },
  },
  {
    name: 'section duplicate', weight: 2, fn: (b, rng) => {
      const s = safeSections(b);
      if (!s || s.length === 0) return null;
      const i = rng.below(s.length);
      const at = rng.below(s.length + 1);
      const parts = s.map((x) => b.subarray(x.start, x.end));
      parts.splice(at, 0, parts[i]!);
      return { bytes: concat([HEADER, ...parts]), what: `duplicate section ${s[i]!.id} at position ${at}` };
    },
  },
  {
    name: 'section drop', weight: 1, fn: (b, rng) => {
      const s = safeSections(b);
      if (!s || s.length === 0) return null;
      const i = rng.below(s.length);
      return { bytes: concat([HEADER, ...s.filter((_, k) => k !== i).map((x) => b.subarray(x.start, x.end))]), what: `drop section ${s[i]!.id}` };
    },
  },
  {
    name: 'section id', weight: 1, fn: (b, rng) => {
      const s = safeSections(b);
      if (!s || s.length === 0) return null;
      const sec = rng.pick(s);
      const out = b.slice();
      const id = rng.pick([0, 12, 13, 14, 0x7f, 0xff, rng.below(13)]);
      out[sec.start] = id;
      return { bytes: out, what: `section ${sec.id} at ${sec.start} gets id ${id}` };
    },
  },
  {
    name: 'splice', weight: 1, fn: (b, rng) => {
      // A section's payload padded with random bytes, its size kept consistent: the contents are
      // malformed while the framing holds, so the section decoders themselves get exercised.
      const s = safeSections(b);
      if (!s || s.length === 0) return null;
      const sec = rng.pick(s);
      const payload = Array.from(b.subarray(sec.payloadStart, sec.end));
      const at = rng.below(payload.length + 1);
      payload.splice(at, rng.below(4), ...rng.bytes(rng.range(1, 6)));
      const parts = s.map((x) => (x === sec ? Uint8Array.from(encodeSection(sec.id, payload)) : b.subarray(x.start, x.end)));
      return { bytes: concat([HEADER, ...parts]), what: `random bytes into section ${sec.id} at payload offset ${at}` };
    },
  },
];

const TOTAL = MUTATORS.reduce((n, m) => n + m.weight, 0);

/** One to three mutations of `bytes`. */
export function mutate(bytes: Uint8Array, rng: Rng): Mutant {
  let current = bytes;
  const steps: string[] = [];
  const n = rng.chance(0.7) ? 1 : rng.range(2, 3);
  for (let tries = 0; steps.length < n && tries < 20; tries++) {
    let pick = rng.below(TOTAL);
    const m = MUTATORS.find((x) => (pick -= x.weight) < 0)!;
    if (current.length <= 8 && m.name !== 'insert') continue;
    const r = m.fn(current, rng);
    if (!r) continue;
    current = r.bytes;
    steps.push(r.what);
  }
  return { bytes: current, what: steps.join('; ') };
}

// ── features beyond Wasm 2.0 ─────────────────────────────────────────────────────────────────────

// Opcodes of proposals V8 11.3 (Node 20) ships and the VM does not implement: legacy exception
// handling (try, catch, throw, rethrow, delegate, catch_all), tail calls (return_call,
// return_call_indirect), typed function references (call_ref, return_call_ref, ref.as_non_null,
// br_on_null, br_on_non_null), and the prefixes of SIMD (0xfd), threads (0xfe) and GC (0xfb).
const POST_2_0_OPCODES = new Set([0x06, 0x07, 0x08, 0x09, 0x18, 0x19, 0x12, 0x13, 0x14, 0x15, 0xd3, 0xd4, 0xd5, 0xd6, 0xfb, 0xfd, 0xfe]);

class Post20 extends Error {}

function skipLimits(r: Reader): void {
  const flag = r.u8();
  if (flag > 1) throw new Post20('limits flags beyond 2.0 (shared, memory64)');
  r.u32();
  if (flag === 1) r.u32();
}

function valtypeByte(r: Reader): void {
  if (r.u8() === 0x7b) throw new Post20('v128');
}

function walkCode(r: Reader): void {
  try {
    walkInstructions(r, () => {});
  } catch (e) {
    if (e instanceof UnknownOpcode && (e.sub >= 0 || POST_2_0_OPCODES.has(e.op))) throw new Post20(e.message);
    throw e;
  }
}

/**
 * Whether `bytes` (which V8 accepted) uses something beyond Wasm 2.0 that V8 11.3 has enabled:
 * the opcodes above (or an unknown 0xfc sub-opcode), a v128 value type, a tag section or tag
 * import/export, limits flags other than 0/1. 'unknown' when the module cannot be scanned this
 * far (nothing can be concluded then).
 */
export function usesPost20Features(bytes: Uint8Array): 'yes' | 'no' | 'unknown' {
  const sections = safeSections(bytes);
  if (!sections) return 'unknown';
  try {
    for (const s of sections) {
      if (s.id === 13) throw new Post20('tag section');
      const r = new Reader(bytes, s.payloadStart, s.end);
      if (s.id === 1) {
        for (let n = r.u32(); n > 0; n--) {
          r.u8();
          for (let k = 0; k < 2; k++) for (let m = r.u32(); m > 0; m--) valtypeByte(r);
        }
      } else if (s.id === 2) {
        for (let n = r.u32(); n > 0; n--) {
          r.name();
          r.name();
          const kind = r.u8();
          if (kind === 0) r.u32();
          else if (kind === 1) {
            r.u8();
            skipLimits(r);
          } else if (kind === 2) skipLimits(r);
          else if (kind === 3) {
            valtypeByte(r);
            r.u8();
          } else if (kind === 4) throw new Post20('tag import');
        }
      } else if (s.id === 7) {
        for (let n = r.u32(); n > 0; n--) {
          r.name();
          if (r.u8() === 4) throw new Post20('tag export');
          r.u32();
        }
      } else if (s.id === 4) {
        for (let n = r.u32(); n > 0; n--) {
          r.u8();
          skipLimits(r);
        }
      } else if (s.id === 5) {
        for (let n = r.u32(); n > 0; n--) skipLimits(r);
      } else if (s.id === 6) {
        for (let n = r.u32(); n > 0; n--) {
          valtypeByte(r);
          r.u8();
          walkCode(r);
        }
      } else if (s.id === 10) {
        forEachBody(bytes, s.payloadStart, s.end, valtypeByte, (body) => walkCode(body));
      }
    }
  } catch (e) {
    return e instanceof Post20 ? 'yes' : 'unknown';
  }
  return 'no';
}
