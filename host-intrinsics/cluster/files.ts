// A workload's preopened directories travel with it as one archive: from the client to the node
// that starts it, between nodes in a move and in checkpoints, and back to the client at its end.
// Paths in an archive are data: each is checked to be relative and inside its directory before
// anything is written, and only directories and regular files are kept (no links, no devices).
//
// Archive: u32 count, then per entry u8 kind (0 directory, 1 file, 2 a file as a base archive
// holds it), u32 preopen index, u32 path length, the '/'-separated path, u32 size and the bytes
// (kind 1 only); little-endian. A move sends the directories whole while the guest still runs and,
// once it is stopped, an archive against that base: a file whose size, inode and times are those
// it had when the base was packed, and that was last changed well before, goes as kind 2.

import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClusterError } from './bus.js';

export const DEFAULT_MAX_FILES_MIB = 64;

interface Entry {
  kind: 0 | 1 | 2;
  preopen: number;
  path: string;
  bytes?: Uint8Array;
}

/** What a base archive saw of each file (`preopen:path`), and when it began to look. */
export interface Base {
  stamps: Map<string, string>;
  atNs: bigint;
}

// A file changed less than this before the base was packed may have changed again within the
// file system's time granularity without its times showing it: it is sent again. (The change
// time, which a guest cannot set, decides.)
const RACY_NS = 2_000_000_000n;

/**
 * Every directory and regular file under `roots` (other kinds are skipped); over `maxBytes` is an
 * error. `record`: fills in what a later archive against this one needs. `against`: files
 * unchanged since that base go as kind 2.
 */
export function packDirs(roots: readonly string[], maxBytes: number, what = 'the directories', opts: { record?: Base; against?: Base } = {}): Uint8Array {
  const entries: Entry[] = [];
  let total = 0;
  if (opts.record) opts.record.atNs = BigInt(Date.now()) * 1_000_000n;
  const walk = (preopen: number, dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const sub = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(full, { bigint: true });
      if (st.isDirectory()) {
        entries.push({ kind: 0, preopen, path: sub });
        walk(preopen, full, sub);
      } else if (st.isFile()) {
        total += Number(st.size);
        if (total > maxBytes) throw new ClusterError(`${what} hold more than the limit of ${maxBytes >> 20} MiB`);
        const key = `${preopen}:${sub}`;
        const stamp = `${st.size} ${st.ino} ${st.mtimeNs} ${st.ctimeNs}`;
        opts.record?.stamps.set(key, stamp);
        const base = opts.against;
        if (base && base.stamps.get(key) === stamp && st.ctimeNs < base.atNs - RACY_NS) entries.push({ kind: 2, preopen, path: sub });
        else entries.push({ kind: 1, preopen, path: sub, bytes: readFileSync(full) });
      }
    }
  };
  roots.forEach((root, i) => walk(i, root, ''));
  const enc = new TextEncoder();
  const paths = entries.map((e) => enc.encode(e.path));
  let size = 4;
  entries.forEach((e, i) => (size += 9 + paths[i].length + (e.kind === 1 ? 4 + e.bytes!.length : 0)));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, entries.length, true);
  let at = 4;
  entries.forEach((e, i) => {
    dv.setUint8(at, e.kind);
    dv.setUint32(at + 1, e.preopen, true);
    dv.setUint32(at + 5, paths[i].length, true);
    out.set(paths[i], at + 9);
    at += 9 + paths[i].length;
    if (e.kind === 1) {
      dv.setUint32(at, e.bytes!.length, true);
      out.set(e.bytes!, at + 4);
      at += 4 + e.bytes!.length;
    }
  });
  return out;
}

/** The entries of `bytes`; kind 2 takes its bytes from `base` (an archive without kind 2). */
function parse(bytes: Uint8Array, preopens: number, maxBytes: number, base?: Uint8Array): Entry[] {
  const from = base ? new Map(parse(base, preopens, maxBytes).map((e) => [`${e.preopen}:${e.path}`, e])) : null;
  const bad = (why: string) => new ClusterError(`the workload's files are malformed: ${why}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw bad('truncated');
  };
  need(0, 4);
  const count = dv.getUint32(0, true);
  const entries: Entry[] = [];
  const dec = new TextDecoder('utf-8', { fatal: true });
  let at = 4;
  let total = 0;
  const seen = new Map<string, 0 | 1>();
  for (let k = 0; k < count; k++) {
    need(at, 9);
    const kind = dv.getUint8(at);
    const preopen = dv.getUint32(at + 1, true);
    const n = dv.getUint32(at + 5, true);
    need(at + 9, n);
    let p: string;
    try {
      p = dec.decode(bytes.subarray(at + 9, at + 9 + n));
    } catch {
      throw bad('a path is not UTF-8');
    }
    at += 9 + n;
    if (kind > (from ? 2 : 1)) throw bad(`entry kind ${kind}`);
    if (preopen >= preopens) throw bad(`preopen ${preopen} of ${preopens}`);
    const parts = p.split('/');
    if (p === '' || parts.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0') || s.includes('\\'))) throw bad(`the path "${p}" leaves its directory`);
    // Each path once, each under a directory listed before it.
    if (seen.has(`${preopen}:${p}`)) throw bad(`"${p}" twice`);
    if (parts.length > 1 && seen.get(`${preopen}:${parts.slice(0, -1).join('/')}`) !== 0) throw bad(`"${p}" comes before its directory`);
    seen.set(`${preopen}:${p}`, kind === 0 ? 0 : 1);
    let body: Uint8Array | undefined;
    if (kind === 1) {
      need(at, 4);
      const size = dv.getUint32(at, true);
      need(at + 4, size);
      total += size;
      if (total > maxBytes) throw new ClusterError(`the workload's files hold more than the limit of ${maxBytes >> 20} MiB`);
      body = bytes.subarray(at + 4, at + 4 + size);
      at += 4 + size;
    } else if (kind === 2) {
      body = from!.get(`${preopen}:${p}`)?.bytes;
      if (!body) throw bad(`"${p}" is not a file of the archive it refers to`);
      total += body.length;
      if (total > maxBytes) throw new ClusterError(`the workload's files hold more than the limit of ${maxBytes >> 20} MiB`);
    }
    entries.push({ kind: kind === 0 ? 0 : 1, preopen, path: p, bytes: body });
  }
  return entries;
}

/**
 * Makes `roots[i]` hold exactly what the archive holds for preopen i: files written, and what
 * the archive does not have removed. Nothing is written unless the whole archive is sound.
 * `base`: the archive its kind-2 entries refer to.
 */
export function unpackDirs(bytes: Uint8Array, roots: readonly string[], maxBytes: number, base?: Uint8Array): void {
  const entries = parse(bytes, roots.length, maxBytes, base);
  roots.forEach((root, i) => {
    // Parsed entries are directories (0) or files (1): kind 2 came back as the file it names.
    const kinds = new Map(entries.filter((e) => e.preopen === i).map((e) => [e.path, e.kind as 0 | 1]));
    mkdirSync(root, { recursive: true });
    prune(root, '', kinds);
  });
  // Parents come before children in an archive, and after the pruning every existing path is a
  // real directory or file of the same kind: nothing below is written through a link.
  for (const e of entries) {
    const target = path.join(roots[e.preopen], ...e.path.split('/'));
    if (e.kind === 0) mkdirSync(target, { recursive: true });
    else writeFileSync(target, e.bytes!);
  }
}

/**
 * Removes what the archive does not hold as the same kind. Links and other special files are
 * never archived, so one the archive does not name is left alone; one standing where the archive
 * puts a file or directory goes.
 */
function prune(dir: string, rel: string, kinds: Map<string, 0 | 1>): void {
  for (const name of readdirSync(dir)) {
    const sub = rel === '' ? name : `${rel}/${name}`;
    const full = path.join(dir, name);
    const st = lstatSync(full);
    const kind = kinds.get(sub);
    if (kind === undefined && !st.isFile() && !st.isDirectory()) continue;
    const same = (kind === 0 && st.isDirectory()) || (kind === 1 && st.isFile());
    if (!same) rmSync(full, { recursive: true, force: true });
    else if (kind === 0) prune(full, sub, kinds);
  }
}
