// A workload's directories as an archive (host-intrinsics/cluster/files.ts): what is packed comes
// back whole, one against a base carries only what changed since it, and an archive from the wire is data — paths that leave their directory, entries out
// of order or over the limit are refused before anything is written, and links are never followed.

import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packDirs, unpackDirs, type Base } from '../../host-intrinsics/cluster/files.js';

const root = mkdtempSync(path.join(tmpdir(), 'handover-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = path.join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

function listing(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel)).sort().flatMap((name) => {
    const sub = rel ? `${rel}/${name}` : name;
    const st = lstatSync(path.join(dir, sub));
    if (st.isSymbolicLink()) return [`${sub} -> link`];
    if (st.isDirectory()) return [`${sub}/`, ...listing(dir, sub)];
    return [`${sub} ${readFileSync(path.join(dir, sub), 'latin1')}`];
  });
}

/** An archive written by hand: [kind, preopen, path, bytes?]. */
function archive(entries: [number, number, string, string?][]): Uint8Array {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  parts.push(u32(entries.length));
  for (const [kind, preopen, p, body] of entries) {
    const name = Buffer.from(p);
    parts.push(Buffer.from([kind]), u32(preopen), u32(name.length), name);
    if (kind === 1) parts.push(u32(Buffer.byteLength(body ?? '')), Buffer.from(body ?? ''));
  }
  return new Uint8Array(Buffer.concat(parts));
}

describe('directory archives', () => {
  it('pack and unpack give the same tree, and the target holds exactly it', () => {
    const a = fresh();
    mkdirSync(path.join(a, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(a, 'one.txt'), 'one');
    writeFileSync(path.join(a, 'sub', 'deeper', 'two.bin'), 'two');
    const b = fresh();
    writeFileSync(path.join(b, 'b.txt'), 'bee');
    const target = [fresh(), fresh()];
    writeFileSync(path.join(target[0], 'stale.txt'), 'gone after');
    unpackDirs(packDirs([a, b], 1 << 20), target, 1 << 20);
    expect(listing(target[0])).toEqual(listing(a));
    expect(listing(target[1])).toEqual(listing(b));
  });

  it('refuses more than the limit, packing and unpacking', () => {
    const a = fresh();
    writeFileSync(path.join(a, 'big'), Buffer.alloc(3000));
    expect(() => packDirs([a], 2000, 'the dirs')).toThrow('the dirs hold more than the limit of 0 MiB');
    const bytes = packDirs([a], 1 << 20);
    expect(() => unpackDirs(bytes, [fresh()], 2000)).toThrow("the workload's files hold more than the limit");
  });

  const hostile: [string, Uint8Array, string][] = [
    ['a path with ..', archive([[1, 0, '../escape', 'x']]), 'leaves its directory'],
    ['an absolute path', archive([[1, 0, '/etc/x', 'x']]), 'leaves its directory'],
    ['a path with an empty part', archive([[0, 0, 'a'], [1, 0, 'a//b', 'x']]), 'leaves its directory'],
    ['a file before its directory', archive([[1, 0, 'a/b', 'x'], [0, 0, 'a']]), 'comes before its directory'],
    ['a file under a file', archive([[1, 0, 'a', 'x'], [1, 0, 'a/b', 'y']]), 'comes before its directory'],
    ['the same path twice', archive([[1, 0, 'a', 'x'], [1, 0, 'a', 'y']]), 'twice'],
    ['a preopen that is not there', archive([[1, 3, 'a', 'x']]), 'preopen 3 of 1'],
    ['an unknown kind', archive([[7, 0, 'a']]), 'entry kind 7'],
    ['a truncated archive', archive([[1, 0, 'a', 'xyz']]).subarray(0, 20), 'truncated'],
  ];
  for (const [what, bytes, why] of hostile) {
    it(`refuses ${what} and writes nothing`, () => {
      const target = fresh();
      writeFileSync(path.join(target, 'keep.txt'), 'kept');
      expect(() => unpackDirs(bytes, [target], 1 << 20)).toThrow(why);
      expect(listing(target)).toEqual(['keep.txt kept']);
      expect(existsSync(path.join(root, 'escape'))).toBe(false);
    });
  }

  it('against a base: unchanged files go by reference, the rest as they are; unpacked against the base, the tree as it is now', () => {
    const a = fresh();
    const big = Buffer.alloc(1 << 20, 7);
    for (const [name, body] of [['big.bin', big], ['keep.txt', 'kept'], ['change.txt', 'before'], ['gone.txt', 'going']] as const) {
      writeFileSync(path.join(a, name), body);
    }
    // Changed well before the base is packed: not within the time granularity of the file system.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2100);
    const base: Base = { stamps: new Map(), atNs: 0n };
    const whole = packDirs([a], 4 << 20, 'the dirs', { record: base });
    writeFileSync(path.join(a, 'change.txt'), 'after!');
    unlinkSync(path.join(a, 'gone.txt'));
    writeFileSync(path.join(a, 'new.txt'), 'new');
    const changes = packDirs([a], 4 << 20, 'the dirs', { against: base });
    expect(changes.length).toBeLessThan(256);
    const target = fresh();
    writeFileSync(path.join(target, 'stale.txt'), 'gone after');
    unpackDirs(changes, [target], 4 << 20, whole);
    expect(listing(target)).toEqual(listing(a));
    // Without its base, kind 2 is refused, and nothing is written.
    const other = fresh();
    expect(() => unpackDirs(changes, [other], 4 << 20)).toThrow('entry kind 2');
    expect(() => unpackDirs(changes, [other], 4 << 20, packDirs([fresh()], 1 << 20))).toThrow('"big.bin" is not a file of the archive it refers to');
    expect(listing(other)).toEqual([]);
  });

  it('against a base: a file changed just before the base was packed goes whole, even with the same size and times', () => {
    const a = fresh();
    writeFileSync(path.join(a, 'racy.txt'), 'first');
    const base: Base = { stamps: new Map(), atNs: 0n };
    packDirs([a], 1 << 20, 'the dirs', { record: base });
    const changes = packDirs([a], 1 << 20, 'the dirs', { against: base });
    expect(Buffer.from(changes).includes('first')).toBe(true);
  });

  it('never writes through a link, and leaves alone a link the archive does not name', () => {
    const outside = fresh();
    const target = fresh();
    symlinkSync(outside, path.join(target, 'a'));
    symlinkSync(outside, path.join(target, 'other'));
    unpackDirs(archive([[0, 0, 'a'], [1, 0, 'a/x', 'inside']]), [target], 1 << 20);
    expect(readdirSync(outside)).toEqual([]);
    expect(listing(target)).toEqual(['a/', 'a/x inside', 'other -> link']);
  });
});
