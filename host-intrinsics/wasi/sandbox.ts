// Keeps every guest path inside the directory it is resolved against. A path is resolved lexically
// first (`.` dropped, `..` may not climb above the directory fd it starts from, absolute paths are
// refused), then the host filesystem is asked where symlinks lead: the parent must really lie inside
// the preopen, and so must the target of a final symlink the operation follows. What is left is a
// race with a host process that swaps a directory for a symlink mid-call; guests themselves cannot
// reach outside.

import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ESCAPE, Errno, WasiError } from './errno.js';

export interface Resolved {
  /** Relative to the preopen: '/'-separated, no `.` or `..`; '' is the preopen itself. */
  rel: string;
  /** The guest wrote a trailing '/': the object must be a directory. */
  mustBeDir: boolean;
}

/** Resolves guest `p` against the directory `base` (itself a resolved relative path). */
export function resolveLexically(base: string, p: string): Resolved {
  if (p === '') throw new WasiError(Errno.NOENT, 'empty path');
  if (p.startsWith('/')) throw new WasiError(ESCAPE, `absolute path ${p}`);
  const segs: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (segs.length === 0) throw new WasiError(ESCAPE, `${p} leaves its directory`);
      segs.pop();
    } else {
      segs.push(seg);
    }
  }
  const rel = [...(base === '' ? [] : base.split('/')), ...segs].join('/');
  return { rel, mustBeDir: p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..') };
}

function inside(rootReal: string, real: string): boolean {
  return real === rootReal || real.startsWith(rootReal.endsWith('/') ? rootReal : `${rootReal}/`);
}

const MAX_SYMLINKS = 40; // as Linux's ELOOP limit

/**
 * Checks that `hostPath` (the preopen's host path joined with a resolved `rel`) stays inside the
 * preopen whose real path is `rootReal` once symlinks are followed: always through the parent
 * directories, and through the final component when `followLast`.
 */
export function checkInside(rootReal: string, hostPath: string, followLast: boolean, depth = 0): void {
  if (depth > MAX_SYMLINKS) throw new WasiError(Errno.LOOP);
  let parentReal: string;
  try {
    parentReal = realpathSync(path.dirname(hostPath));
  } catch {
    return; // no such parent: the operation itself fails with ENOENT or ENOTDIR, reaching nothing
  }
  if (!inside(rootReal, parentReal)) throw new WasiError(ESCAPE, `${hostPath} leads outside its preopen`);
  if (!followLast) return;
  const last = path.join(parentReal, path.basename(hostPath));
  let isLink = false;
  try {
    isLink = lstatSync(last).isSymbolicLink();
  } catch {
    return; // not there yet: it would be created inside the parent
  }
  if (!isLink) return;
  try {
    if (!inside(rootReal, realpathSync(last))) throw new WasiError(ESCAPE, `${hostPath} links outside its preopen`);
  } catch (e) {
    if (e instanceof WasiError) throw e;
    // A dangling link: where it points is where a create would land.
    checkInside(rootReal, path.resolve(parentReal, readlinkSync(last)), true, depth + 1);
  }
}
