// The snapshot format (guest-vm/snapshot/FORMAT.md) read from the host side, for tampering:
// where each section and field is, and the trailer checksum recomputed after a change, so that a
// tampered snapshot gets past the checksum and exercises the restore's structural checks.

import { Section } from '../../host-intrinsics/vocabulary.js';

export interface SnapshotSection {
  tag: number;
  /** Offset of the tag; the payload starts 8 bytes later. */
  start: number;
  payload: number;
  end: number;
}

export interface SnapshotLayout {
  flags: number;
  sections: SnapshotSection[];
  /** Named fields: offset and byte width, for targeted tampering. */
  fields: { name: string; at: number; width: 1 | 4 | 8 }[];
}

const M1 = 0xbf58476d1ce4e5b9n;
const M2 = 0x94d049bb133111ebn;
const M3 = 0xff51afd7ed558ccdn;
const MASK = (1n << 64n) - 1n;

/** snapshot/hash.ts checksum64 over `bytes`. */
export function checksum64(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let h = 0x9e3779b97f4a7c15n ^ BigInt(len);
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    h = ((h ^ view.getBigUint64(i, true)) * M1) & MASK;
    h ^= h >> 31n;
  }
  for (; i < len; i++) {
    h = ((h ^ BigInt(bytes[i]!)) * M2) & MASK;
    h ^= h >> 29n;
  }
  h ^= h >> 32n;
  return (h * M3) & MASK;
}

/** The snapshot with its trailer recomputed (the last 8 bytes). */
export function resealed(snapshot: Uint8Array): Uint8Array {
  const out = snapshot.slice();
  new DataView(out.buffer).setBigUint64(out.length - 8, checksum64(out.subarray(0, out.length - 8)), true);
  return out;
}

/** Sections and the fields worth tampering with; throws if the snapshot is not well formed. */
export function layout(snapshot: Uint8Array): SnapshotLayout {
  const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  const end = snapshot.length - 8;
  const u32 = (at: number) => view.getUint32(at, true);
  const fields: SnapshotLayout['fields'] = [
    { name: 'magic', at: 0, width: 8 },
    { name: 'format version', at: 8, width: 4 },
    { name: 'flags', at: 12, width: 4 },
    { name: 'VM version length', at: 16, width: 4 },
  ];
  let at = 20 + u32(16);
  fields.push({ name: 'module hash', at, width: 8 });
  at += 32;
  const sections: SnapshotSection[] = [];
  while (at < end) {
    const tag = u32(at);
    const size = u32(at + 4);
    const s = { tag, start: at, payload: at + 8, end: at + 8 + size };
    if (s.end > end) throw new Error('section past the end');
    sections.push(s);
    fields.push({ name: `section ${tag} tag`, at, width: 4 }, { name: `section ${tag} length`, at: at + 4, width: 4 });
    const p = s.payload;
    switch (tag) {
      case Section.State: {
        fields.push({ name: 'metered', at: p, width: 1 }, { name: 'fuel', at: p + 1, width: 8 }, { name: 'function count', at: p + 9, width: 4 });
        break;
      }
      case Section.Globals: {
        fields.push({ name: 'global count', at: p, width: 4 });
        const n = u32(p);
        for (let i = 0; i < n; i++) fields.push({ name: `global ${i}`, at: p + 4 + 8 * i, width: 8 });
        break;
      }
      case Section.Memory: {
        fields.push({ name: 'memory count', at: p, width: 4 });
        let q = p + 4;
        for (let i = 0; i < u32(p); i++) {
          fields.push({ name: `memory ${i} pages`, at: q, width: 4 }, { name: `memory ${i} stored pages`, at: q + 4, width: 4 });
          const stored = u32(q + 4);
          q += 8;
          for (let k = 0; k < stored; k++) {
            fields.push({ name: `memory ${i} page index ${k}`, at: q, width: 4 });
            q += 4 + 65536;
          }
        }
        break;
      }
      case Section.Tables: {
        fields.push({ name: 'table count', at: p, width: 4 });
        let q = p + 4;
        for (let i = 0; i < u32(p); i++) {
          const size = u32(q);
          fields.push({ name: `table ${i} size`, at: q, width: 4 });
          for (let k = 0; k < size; k++) fields.push({ name: `table ${i} entry ${k}`, at: q + 4 + 4 * k, width: 4 });
          q += 4 + 4 * size;
        }
        break;
      }
      case Section.Segments: {
        const ne = u32(p);
        fields.push({ name: 'element segment count', at: p, width: 4 });
        for (let i = 0; i < ne; i++) fields.push({ name: `element segment ${i} length`, at: p + 4 + 4 * i, width: 4 });
        const dAt = p + 4 + 4 * ne;
        fields.push({ name: 'data segment count', at: dAt, width: 4 });
        for (let i = 0; i < u32(dAt); i++) fields.push({ name: `data segment ${i} length`, at: dAt + 4 + 4 * i, width: 4 });
        break;
      }
      case Section.Frames: {
        fields.push({ name: 'frame count', at: p, width: 4 });
        let q = p + 4;
        for (let k = 0; k < u32(p); k++) {
          fields.push(
            { name: `frame ${k} function`, at: q, width: 4 },
            { name: `frame ${k} bytecode offset`, at: q + 4, width: 4 },
            { name: `frame ${k} locals`, at: q + 8, width: 4 },
            { name: `frame ${k} operands`, at: q + 12, width: 4 },
          );
          const slots = u32(q + 8) + u32(q + 12);
          for (let j = 0; j < slots; j++) fields.push({ name: `frame ${k} slot ${j}`, at: q + 16 + 8 * j, width: 8 });
          q += 16 + 8 * slots;
        }
        break;
      }
      case Section.Host:
        fields.push({ name: 'host state length', at: p, width: 4 });
        break;
      case Section.Module:
        fields.push({ name: 'module length', at: p, width: 4 });
        break;
    }
    at = s.end;
  }
  return { flags: u32(12), sections, fields };
}

/** `snapshot` with the field at `at` (width bytes) set to `value`, resealed. */
export function withField(snapshot: Uint8Array, at: number, width: 1 | 4 | 8, value: bigint): Uint8Array {
  const out = snapshot.slice();
  const view = new DataView(out.buffer);
  if (width === 1) view.setUint8(at, Number(value & 0xffn));
  else if (width === 4) view.setUint32(at, Number(value & 0xffffffffn), true);
  else view.setBigUint64(at, value & MASK, true);
  return resealed(out);
}
