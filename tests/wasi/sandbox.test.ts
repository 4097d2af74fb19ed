// The sandbox's path rules on their own: path strings as read from guest memory, lexical
// resolution against a directory fd, and the check that follows symlinks on the host.

import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errno } from '../../host-intrinsics/wasi/errno.js';
import { GuestMemory } from '../../host-intrinsics/wasi/memory.js';
import { checkInside, resolveLexically } from '../../host-intrinsics/wasi/sandbox.js';
import { tempDir } from './harness.js';

const errnoOf = (f: () => unknown) => {
  try {
    f();
    return 0;
  } catch (e) {
    return (e as { errno: number }).errno;
  }
};

describe('resolveLexically', () => {
  it('joins, drops . and empty segments, and climbs only inside the directory', () => {
    expect(resolveLexically('', 'a/./b//c')).toEqual({ rel: 'a/b/c', mustBeDir: false });
    expect(resolveLexically('sub', 'x/../y')).toEqual({ rel: 'sub/y', mustBeDir: false });
    expect(resolveLexically('sub', '.')).toEqual({ rel: 'sub', mustBeDir: false });
    expect(resolveLexically('', 'a/b/..')).toEqual({ rel: 'a', mustBeDir: true });
    expect(resolveLexically('', 'dir/')).toEqual({ rel: 'dir', mustBeDir: true });
  });

  it('refuses what would leave the directory, absolute paths and empty paths', () => {
    expect(errnoOf(() => resolveLexically('', '..'))).toBe(Errno.NOTCAPABLE);
    // A directory fd is a root of its own: its path inside the preopen does not let `..` climb.
    expect(errnoOf(() => resolveLexically('sub', '../x'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolveLexically('', 'a/../../b'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolveLexically('', '/etc'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolveLexically('', ''))).toBe(Errno.NOENT);
  });
});

describe('path strings in guest memory', () => {
  const memory = new GuestMemory(new TextEncoder().encode('ok/a\0b'));
  it('are UTF-8 without NUL: a NUL is EINVAL, bytes that are not UTF-8 EILSEQ, past the end EFAULT', () => {
    expect(memory.string(0, 4)).toBe('ok/a');
    expect(errnoOf(() => memory.string(0, 6))).toBe(Errno.INVAL);
    expect(errnoOf(() => new GuestMemory(new Uint8Array([0x61, 0xff])).string(0, 2))).toBe(Errno.ILSEQ);
    expect(errnoOf(() => memory.string(4, 100))).toBe(Errno.FAULT);
  });
});

describe('checkInside', () => {
  it('follows symlinks on the host and refuses those that lead out', () => {
    const base = tempDir();
    const root = path.join(base, 'root');
    mkdirSync(path.join(root, 'd'), { recursive: true });
    symlinkSync('..', path.join(root, 'up'));
    symlinkSync('d', path.join(root, 'in'));
    symlinkSync('up/x', path.join(root, 'chain')); // dangling, into base/
    symlinkSync('loop', path.join(root, 'loop'));
    const check = (rel: string, follow = true) => errnoOf(() => checkInside(root, path.join(root, rel), follow));
    expect(check('in/file')).toBe(0);
    expect(check('up/file')).toBe(Errno.NOTCAPABLE);
    expect(check('up', false)).toBe(0); // the link itself
    expect(check('up')).toBe(Errno.NOTCAPABLE);
    expect(check('chain')).toBe(Errno.NOTCAPABLE);
    expect(check('missing/deeper')).toBe(0); // fails later, with ENOENT, reaching nothing
    expect(check('loop')).toBe(Errno.LOOP);
  });
});
