// Scenarios of preview1 calls that run unchanged in the VM and under node:wasi, each on a fresh
// copy of one directory layout: errno scenarios name the errno both must answer; the others return
// what the calls produced, which must be equal. No vitest here: node-probe-child.ts runs them too.

import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  Errno, FOLLOW, O, PREOPEN, RO, RW, fdstat, fstat, open, pathCall, pread, prestatName, pwrite, read, readdir,
  rename, seek, stat, tell, write,
} from './ops.js';
import { type Probe, putString, u32, u64 } from './probe.js';

/** `base` holds outside.txt and the preopened root/: file.txt, sub/inner.txt, empty/ and symlinks. */
export function layout(base: string): string {
  const root = path.join(base, 'root');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(path.join(root, 'empty'));
  writeFileSync(path.join(base, 'outside.txt'), 'secret\n');
  writeFileSync(path.join(root, 'file.txt'), 'hello\n');
  writeFileSync(path.join(root, 'sub', 'inner.txt'), 'inner\n');
  symlinkSync(base, path.join(root, 'link-out'));
  symlinkSync(path.join(base, 'created-by-guest'), path.join(root, 'dangling-out'));
  symlinkSync('sub/inner.txt', path.join(root, 'link-in'));
  return root;
}

/** What a scenario left beside the preopen (must be nothing). */
export function leaked(base: string): string[] {
  return ['created-by-guest', 'stolen.txt', 'x'].filter((f) => existsSync(path.join(base, f)));
}

export const ERRNO_SCENARIOS: [string, number, (p: Probe) => number][] = [
  ['open a missing file', Errno.NOENT, (p) => open(p, 'missing.txt').errno],
  ['stat a missing file', Errno.NOENT, (p) => stat(p, 'sub/missing.txt').errno],
  ['remove a missing directory', Errno.NOENT, (p) => pathCall(p, 'path_remove_directory', 'nothere')],
  ['unlink a missing file', Errno.NOENT, (p) => pathCall(p, 'path_unlink_file', 'nothere.txt')],
  ['close an fd never opened', Errno.BADF, (p) => p.call('fd_close', 42)],
  ['read an fd never opened', Errno.BADF, (p) => read(p, 42).errno],
  ['read a closed fd', Errno.BADF, (p) => {
    const { fd } = open(p, 'file.txt');
    p.call('fd_close', fd);
    return read(p, fd).errno;
  }],
  ['ask the preopen name of an fd that is none', Errno.BADF, (p) => p.call('fd_prestat_get', 4, 64)],
  ['open a path through a file', Errno.NOTDIR, (p) => open(p, 'file.txt/x').errno],
  ['open a file as a directory', Errno.NOTDIR, (p) => open(p, 'file.txt', O.DIRECTORY).errno],
  ['remove a file as a directory', Errno.NOTDIR, (p) => pathCall(p, 'path_remove_directory', 'file.txt')],
  ['create a directory under a file', Errno.NOTDIR, (p) => pathCall(p, 'path_create_directory', 'file.txt/d')],
  ['create an existing directory', Errno.EXIST, (p) => pathCall(p, 'path_create_directory', 'sub')],
  ['create an existing file exclusively', Errno.EXIST, (p) => open(p, 'file.txt', O.CREAT | O.EXCL).errno],
  ['remove a directory that is not empty', Errno.NOTEMPTY, (p) => pathCall(p, 'path_remove_directory', 'sub')],
  ['rename a directory onto one that is not empty', Errno.NOTEMPTY, (p) => rename(p, 'empty', 'sub')],
  ['unlink a directory', Errno.ISDIR, (p) => pathCall(p, 'path_unlink_file', 'sub')],
  ['write to a file opened read-only', Errno.NOTCAPABLE, (p) => write(p, open(p, 'file.txt', 0, RO).fd, 'x').errno],
  ['open with rights the directory does not pass on', Errno.NOTCAPABLE, (p) => open(p, 'file.txt', 0, 2 ** 40).errno],
  ['leave the preopen by ..', Errno.NOTCAPABLE, (p) => open(p, '../outside.txt').errno],
  ['create a file outside by sub/../..', Errno.NOTCAPABLE, (p) => open(p, 'sub/../../x', O.CREAT).errno],
  ['create a directory outside', Errno.NOTCAPABLE, (p) => pathCall(p, 'path_create_directory', '../x')],
  ['stat the preopen\'s parent', Errno.NOTCAPABLE, (p) => stat(p, '..').errno],
  ['unlink a file outside', Errno.NOTCAPABLE, (p) => pathCall(p, 'path_unlink_file', '../outside.txt')],
  ['rename a file out of the preopen', Errno.NOTCAPABLE, (p) => rename(p, 'file.txt', '../stolen.txt')],
  ['create through a dangling symlink that points outside', Errno.NOTCAPABLE, (p) => open(p, 'dangling-out', O.CREAT).errno],
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const big = (n: bigint) => Number(n);
const OUT_PTR = 64;

export const RESULT_SCENARIOS: [string, (p: Probe) => Json][] = [
  ['write, seek and read back', (p) => {
    const { errno, fd } = open(p, 'new.txt', O.CREAT | O.TRUNC);
    const w = write(p, fd, 'abcdef');
    const t = tell(p, fd);
    const s1 = seek(p, fd, 2, 0);
    const r1 = read(p, fd, 3);
    const s2 = seek(p, fd, -1, 1);
    const r2 = read(p, fd);
    const end = seek(p, fd, 0, 2);
    const neg = seek(p, fd, -100, 1).errno;
    return [errno, fd, w.n, big(t.offset), big(s1.offset), r1.text, big(s2.offset), r2.text, big(end.offset), neg, big(fstat(p, fd).size), p.call('fd_close', fd)];
  }],
  ['pread and pwrite leave the offset alone', (p) => {
    const { fd } = open(p, 'file.txt');
    const r = read(p, fd, 1).text;
    const w = pwrite(p, fd, 'XY', 1);
    return [r, w, big(tell(p, fd).offset), pread(p, fd, 0).text, read(p, fd).text];
  }],
  ['append writes at the end', (p) => {
    const { fd } = open(p, 'file.txt', 0, RW, 1);
    const w = write(p, fd, 'more\n').n;
    const again = write(p, fd, 'end\n').n;
    return [w, again, big(fstat(p, fd).size), read(p, open(p, 'file.txt', 0, RO).fd).text];
  }],
  ['truncation', (p) => {
    const { fd } = open(p, 'file.txt');
    const e = p.call('fd_filestat_set_size', fd, 2n);
    const size = big(fstat(p, fd).size);
    const t = open(p, 'file.txt', O.TRUNC);
    return [e, size, t.errno, big(stat(p, 'file.txt').size)];
  }],
  ['stat of each kind', (p) => ['file.txt', 'sub', 'link-in', 'empty'].map((f) => {
    const s = stat(p, f);
    return [s.errno, s.filetype, s.filetype === 4 ? big(s.size) : 0];
  }).concat([[stat(p, 'link-in', 0).filetype]])],
  ['fd_readdir names and types', (p) => {
    const dir = open(p, '.', O.DIRECTORY, RO).fd;
    const sub = open(p, 'sub', O.DIRECTORY, RO).fd;
    return [readdir(p, PREOPEN).entries, readdir(p, dir).entries, readdir(p, sub).entries];
  }],
  ['fd_readdir into a small buffer fills it', (p) => [readdir(p, PREOPEN, 30).used, readdir(p, PREOPEN, 24).used]],
  ['fdstat: types, flags and rights', (p) => [PREOPEN, open(p, 'file.txt', 0, RO).fd, open(p, 'file.txt').fd, open(p, 'sub', O.DIRECTORY, RO).fd]
    .map((fd) => {
      const s = fdstat(p, fd);
      // Not the flags: uvwasi passes the host's fcntl bits through (O_LARGEFILE, O_RDWR as DSYNC).
      return [s.errno, s.filetype, s.base.toString(16), s.inheriting.toString(16)];
    })],
  ['the preopen\'s name', (p) => [prestatName(p, PREOPEN)]],
  ['fds are the lowest free numbers', (p) => {
    const a = open(p, 'file.txt').fd;
    const b = open(p, 'sub/inner.txt').fd;
    p.call('fd_close', a);
    const c = open(p, 'empty', O.DIRECTORY, RO).fd;
    return [a, b, c];
  }],
  ['fd_renumber', (p) => {
    const a = open(p, 'file.txt').fd;
    const b = open(p, 'sub/inner.txt').fd;
    const e = p.call('fd_renumber', a, b);
    return [e, read(p, b).text, read(p, a).errno, p.call('fd_renumber', a, b)];
  }],
  ['directories and names come and go', (p) => [
    pathCall(p, 'path_create_directory', 'made'),
    open(p, 'made/f.txt', O.CREAT).errno,
    rename(p, 'made/f.txt', 'made/g.txt'),
    stat(p, 'made/f.txt').errno,
    stat(p, 'made/g.txt').errno,
    pathCall(p, 'path_unlink_file', 'made/g.txt'),
    pathCall(p, 'path_remove_directory', 'made'),
    stat(p, 'made').errno,
  ]],
  ['symlinks and hard links', (p) => {
    const [t, tlen] = putString(p, 3000, 'sub/inner.txt');
    const [n, nlen] = putString(p, 3100, 'made-link');
    const made = p.call('path_symlink', t, tlen, PREOPEN, n, nlen);
    const [r, rlen] = putString(p, 3200, 'made-link');
    const readlink = p.call('path_readlink', PREOPEN, r, rlen, 3300, 64, OUT_PTR);
    const target = new TextDecoder().decode(p.memory().slice(3300, 3300 + u32(p, OUT_PTR)));
    const short = p.call('path_readlink', PREOPEN, r, rlen, 3300, 4, OUT_PTR);
    const [h, hlen] = putString(p, 3400, 'hard.txt');
    const [f, flen] = putString(p, 3500, 'file.txt');
    const link = p.call('path_link', PREOPEN, 0, f, flen, PREOPEN, h, hlen);
    return [made, readlink, target, short, u32(p, OUT_PTR), read(p, open(p, 'made-link').fd).text, link,
      read(p, open(p, 'hard.txt').fd).text, stat(p, 'made-link', 0).filetype, pathCall(p, 'path_unlink_file', 'made-link')];
  }],
  ['set times by path and by fd', (p) => {
    const [f, flen] = putString(p, 3000, 'file.txt');
    const at = 1_600_000_000_000_000_000n; // whole seconds: uvwasi drops the fraction, the VM keeps it
    const e1 = p.call('path_filestat_set_times', PREOPEN, FOLLOW, f, flen, at, at + 1_000_000_000n, 1 | 4);
    p.call('path_filestat_get', PREOPEN, FOLLOW, f, flen, 3100);
    const times1 = [u64(p, 3100 + 40), u64(p, 3100 + 48)].map((t) => Number(t / 1000n)); // µs: what utimes keeps
    const fd = open(p, 'file.txt').fd;
    const e2 = p.call('fd_filestat_set_times', fd, 0n, at, 4);
    p.call('fd_filestat_get', fd, 3100);
    const both = p.call('fd_filestat_set_times', fd, 0n, 0n, 4 | 8);
    return [e1, times1, e2, Number(u64(p, 3100 + 48) / 1000n), both];
  }],
  ['allocate, sync, advise', (p) => {
    const fd = open(p, 'file.txt').fd;
    return [p.call('fd_allocate', fd, 0n, 100n), big(fstat(p, fd).size), p.call('fd_allocate', fd, 0n, 10n), big(fstat(p, fd).size),
      p.call('fd_sync', fd), p.call('fd_datasync', fd), p.call('fd_advise', fd, 0n, 10n, 1)];
  }],
  ['rights and flags can be dropped and changed', (p) => {
    const fd = open(p, 'file.txt').fd;
    const drop = p.call('fd_fdstat_set_rights', fd, BigInt(RO), 0n);
    const denied = write(p, fd, 'x').errno;
    const widen = p.call('fd_fdstat_set_rights', fd, BigInt(RW), 0n);
    const w = open(p, 'file.txt').fd;
    const append = p.call('fd_fdstat_set_flags', w, 1);
    write(p, w, 'tail');
    return [drop, denied, widen, append, read(p, open(p, 'file.txt', 0, RO).fd).text];
  }],
  ['clock resolutions and reads', (p) => [0, 1, 2, 3, 4].map((id) => {
    const res = p.call('clock_res_get', id, OUT_PTR);
    const now = p.call('clock_time_get', id, 0n, OUT_PTR);
    return [res, now, now === 0 && u64(p, OUT_PTR) > 0n];
  })],
  ['paths through the preopen\'s own directories', (p) => [
    open(p, 'sub/../file.txt').errno,
    stat(p, './sub/./inner.txt').errno,
    stat(p, 'sub/inner.txt/').errno,
    open(p, 'sub/inner.txt', 0, RW, 0, open(p, '.', O.DIRECTORY, RO).fd).errno,
    read(p, open(p, 'inner.txt', 0, RO, 0, open(p, 'sub', O.DIRECTORY, RO).fd).fd).text,
    open(p, '../file.txt', 0, RO, 0, open(p, 'sub', O.DIRECTORY, RO).fd).errno,
  ]],
];
