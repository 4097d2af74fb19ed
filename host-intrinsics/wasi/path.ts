// Operations on paths under a directory fd: opening (which adds an fd to the state, remembered by
// its path), creating and removing directories, unlinking, renaming, linking, symlinks and stat.
// Every path is resolved by the sandbox first, so the shim only sees paths inside a preopen.

import type { WasiContext } from './context.js';
import { Errno, WasiError } from './errno.js';
import { Files, type PathEntry } from './files.js';
import { writeFilestat } from './fd-meta.js';
import { def, SUCCESS, type Preview1Func } from './func.js';
import {
  DIRECTORY_INHERITING, DIRECTORY_RIGHTS, Filetype, LOOKUP_SYMLINK_FOLLOW, Oflags, READ_RIGHTS,
  REGULAR_FILE_RIGHTS, Rights, WRITE_RIGHTS, filetypeOf,
} from './layout.js';
import type { Resolved } from './sandbox.js';
import { lowestFreeFd } from './state.js';
import { setTimes } from './times.js';

const utf8 = new TextEncoder();

/** The directory fd `fd` (holding `rights`) and guest path at (ptr, len), resolved in the sandbox. */
function at(ctx: WasiContext, fd: number, rights: number, ptr: number, len: number, follow: boolean): [PathEntry, Resolved] {
  const dir = ctx.dir(fd, rights);
  return [dir, ctx.files.resolve(dir, ctx.memory().string(ptr, len), follow)];
}

/** Operations on a directory entry itself refuse the directory fd's own path ("." and the like). */
function notSelf(r: Resolved, errno: number): Resolved {
  if (r.rel === '') throw new WasiError(errno);
  return r;
}

const toRights = (r: bigint) => Number(BigInt.asUintN(30, r));

export const pathFunctions: Record<string, Preview1Func> = {
  path_open: def(['i32', 'i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32', 'i32'],
    (ctx, fd, dirflags, pathPtr, pathLen, oflags, base, inheriting, fdflags, fdPtr) => {
      const needed = Rights.PATH_OPEN | (oflags & Oflags.CREAT ? Rights.PATH_CREATE_FILE : 0);
      const [dir, r] = at(ctx, fd, needed, pathPtr, pathLen, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0);
      const wanted = toRights(base);
      // A directory passes on only the rights it may (uvwasi refuses to widen them, and so do we).
      if ((BigInt.asUintN(64, base | inheriting) & ~BigInt(dir.rightsInheriting)) !== 0n) throw new WasiError(Errno.NOTCAPABLE, 'rights beyond the directory\'s');
      // As uvwasi and wasmtime decide the open mode: from the rights asked for.
      const write = (wanted & WRITE_RIGHTS) !== 0;
      const read = (wanted & READ_RIGHTS) !== 0 || !write;
      ctx.memory().check(fdPtr, 4); // before the open: a call that fails leaves no fd behind
      const { desc, type } = ctx.files.open(dir.preopen, r, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0, {
        create: (oflags & Oflags.CREAT) !== 0, directory: (oflags & Oflags.DIRECTORY) !== 0,
        exclusive: (oflags & Oflags.EXCL) !== 0, truncate: (oflags & Oflags.TRUNC) !== 0,
      }, { read, write });
      const filetype = filetypeOf(type);
      const isDir = filetype === Filetype.DIRECTORY;
      let maxBase = isDir ? DIRECTORY_RIGHTS : REGULAR_FILE_RIGHTS;
      if (!read) maxBase &= ~READ_RIGHTS;
      if (!write) maxBase &= ~WRITE_RIGHTS;
      const newFd = lowestFreeFd(ctx.state);
      ctx.state.fds[newFd] = {
        kind: isDir ? 'dir' : 'file', preopen: dir.preopen, path: r.rel, filetype, offset: 0, fdflags,
        rightsBase: wanted & maxBase,
        rightsInheriting: toRights(inheriting) & (isDir ? DIRECTORY_INHERITING : 0),
      };
      ctx.files.adopt(newFd, desc);
      ctx.memory().setU32(fdPtr, newFd);
      return SUCCESS;
    }),
  path_create_directory: def(['i32', 'i32', 'i32'], (ctx, fd, pathPtr, pathLen) => {
    const [dir, r] = at(ctx, fd, Rights.PATH_CREATE_DIRECTORY, pathPtr, pathLen, false);
    ctx.files.root(dir.preopen).createDirectoryAt(Files.shimPath(notSelf(r, Errno.EXIST)));
    return SUCCESS;
  }),
  path_remove_directory: def(['i32', 'i32', 'i32'], (ctx, fd, pathPtr, pathLen) => {
    const [dir, r] = at(ctx, fd, Rights.PATH_REMOVE_DIRECTORY, pathPtr, pathLen, false);
    ctx.files.root(dir.preopen).removeDirectoryAt(Files.shimPath(notSelf(r, Errno.INVAL)));
    return SUCCESS;
  }),
  path_unlink_file: def(['i32', 'i32', 'i32'], (ctx, fd, pathPtr, pathLen) => {
    const [dir, r] = at(ctx, fd, Rights.PATH_UNLINK_FILE, pathPtr, pathLen, false);
    ctx.files.root(dir.preopen).unlinkFileAt(Files.shimPath(notSelf(r, Errno.ISDIR)));
    return SUCCESS;
  }),
  path_rename: def(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], (ctx, fd, oldPtr, oldLen, newFd, newPtr, newLen) => {
    const [from, r1] = at(ctx, fd, Rights.PATH_RENAME_SOURCE, oldPtr, oldLen, false);
    const [to, r2] = at(ctx, newFd, Rights.PATH_RENAME_TARGET, newPtr, newLen, false);
    ctx.files.root(from.preopen).renameAt(
      Files.shimPath(notSelf(r1, Errno.BUSY)), ctx.files.root(to.preopen), Files.shimPath(notSelf(r2, Errno.BUSY)));
    return SUCCESS;
  }),
  path_link: def(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], (ctx, fd, flags, oldPtr, oldLen, newFd, newPtr, newLen) => {
    const follow = (flags & LOOKUP_SYMLINK_FOLLOW) !== 0;
    const [from, r1] = at(ctx, fd, Rights.PATH_LINK_SOURCE, oldPtr, oldLen, follow);
    const [to, r2] = at(ctx, newFd, Rights.PATH_LINK_TARGET, newPtr, newLen, false);
    ctx.files.root(from.preopen).linkAt(
      { symlinkFollow: follow }, Files.shimPath(notSelf(r1, Errno.PERM)), ctx.files.root(to.preopen), Files.shimPath(notSelf(r2, Errno.EXIST)));
    return SUCCESS;
  }),
  // The link's text is stored as given; it is checked when a path through it is used.
  path_symlink: def(['i32', 'i32', 'i32', 'i32', 'i32'], (ctx, targetPtr, targetLen, fd, newPtr, newLen) => {
    const target = ctx.memory().string(targetPtr, targetLen);
    const [dir, r] = at(ctx, fd, Rights.PATH_SYMLINK, newPtr, newLen, false);
    ctx.files.root(dir.preopen).symlinkAt(target, Files.shimPath(notSelf(r, Errno.EXIST)));
    return SUCCESS;
  }),
  path_readlink: def(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], (ctx, fd, pathPtr, pathLen, buf, bufLen, bufusedPtr) => {
    const [dir, r] = at(ctx, fd, Rights.PATH_READLINK, pathPtr, pathLen, false);
    const target = utf8.encode(ctx.files.root(dir.preopen).readlinkAt(Files.shimPath(notSelf(r, Errno.INVAL))));
    // A link longer than the buffer is ENOBUFS (as uvwasi says), not silently cut short.
    if (target.length > bufLen) throw new WasiError(Errno.NOBUFS);
    const mem = ctx.memory();
    mem.write(buf, target);
    mem.setU32(bufusedPtr, target.length);
    return SUCCESS;
  }),
  path_filestat_get: def(['i32', 'i32', 'i32', 'i32', 'i32'], (ctx, fd, flags, pathPtr, pathLen, ptr) => {
    const follow = (flags & LOOKUP_SYMLINK_FOLLOW) !== 0;
    const [dir, r] = at(ctx, fd, Rights.PATH_FILESTAT_GET, pathPtr, pathLen, follow);
    writeFilestat(ctx.memory(), ptr, ctx.files.statAt(dir.preopen, r, follow));
    return SUCCESS;
  }),
  path_filestat_set_times: def(['i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32'], (ctx, fd, flags, pathPtr, pathLen, atim, mtim, fst) => {
    const follow = (flags & LOOKUP_SYMLINK_FOLLOW) !== 0;
    const [dir, r] = at(ctx, fd, Rights.PATH_FILESTAT_SET_TIMES, pathPtr, pathLen, follow);
    setTimes(ctx.files.hostPath(dir.preopen, r.rel), atim, mtim, fst, follow);
    return SUCCESS;
  }),
};
