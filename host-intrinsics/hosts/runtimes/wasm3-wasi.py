#!/usr/bin/env python3
"""Run a WASI preview1 command module on the Wasm3 interpreter (PyPI `pywasm3`, Wasm3 0.5.0).

pywasm3 has no WASI of its own, so preview1 is written here in Python over the `os` module.

    python3 wasm3-wasi.py [--dir HOST[::GUEST]]... [--env K[=V]]... MODULE.wasm [ARGS...]

Shaped like `wasmtime run`: guest argv[0] is MODULE as given; the guest sees only the --env
variables (`--env K` alone copies K from this process); each --dir is preopened in order as
fd 3, 4, ... (GUEST defaults to HOST). Exit status: the guest's proc_exit code, 0 when _start
returns, 134 after a trap (one line `wasm3: trap: ...` on stderr), 2 for a bad command line
or module. Install: pip install --target DIR pywasm3==0.5.0, then run with PYTHONPATH=DIR.
"""
import errno
import fcntl
import os
import select
import stat
import struct
import sys
import threading
import time

# Wasm3 nests one native C frame per wasm call, so a deep guest recursion overflows the native
# stack long before Wasm3's own stack check fires. The guest therefore runs on a thread whose
# native stack is 64x the Wasm3 stack (measured: up to ~32x is used by the smallest frames);
# the memory is only reserved, pages are touched as the recursion goes.
NATIVE_STACKS = (1 << 30, 256 << 20)
STACK_RATIO = 64

# preview1 errno, in order (the index is the value); host errnos map by name.
ERRNO_NAMES = (
    'SUCCESS 2BIG ACCES ADDRINUSE ADDRNOTAVAIL AFNOSUPPORT AGAIN ALREADY BADF BADMSG BUSY '
    'CANCELED CHILD CONNABORTED CONNREFUSED CONNRESET DEADLK DESTADDRREQ DOM DQUOT EXIST '
    'FAULT FBIG HOSTUNREACH IDRM ILSEQ INPROGRESS INTR INVAL IO ISCONN ISDIR LOOP MFILE '
    'MLINK MSGSIZE MULTIHOP NAMETOOLONG NETDOWN NETRESET NETUNREACH NFILE NOBUFS NODEV '
    'NOENT NOEXEC NOLCK NOLINK NOMEM NOMSG NOPROTOOPT NOSPC NOSYS NOTCONN NOTDIR NOTEMPTY '
    'NOTRECOVERABLE NOTSOCK NOTSUP NOTTY NXIO OVERFLOW OWNERDEAD PERM PIPE PROTO '
    'PROTONOSUPPORT PROTOTYPE RANGE ROFS SPIPE SRCH STALE TIMEDOUT TXTBSY XDEV NOTCAPABLE'
).split()
HOST_ERRNO = {}
for _i, _n in enumerate(ERRNO_NAMES):
    if hasattr(errno, 'E' + _n):
        HOST_ERRNO.setdefault(getattr(errno, 'E' + _n), _i)
W = {n: i for i, n in enumerate(ERRNO_NAMES)}
EBADF, EFAULT, EINVAL, EIO, ENOBUFS = W['BADF'], W['FAULT'], W['INVAL'], W['IO'], W['NOBUFS']
ENOENT, ENOSYS, ENOTDIR, ENOTSUP, ENOTCAPABLE = W['NOENT'], W['NOSYS'], W['NOTDIR'], W['NOTSUP'], W['NOTCAPABLE']

# filetype
UNKNOWN, BLOCK, CHAR, DIR, REG, DGRAM, STREAM, SYMLINK = range(8)

# rights (a u64 bitmask in preview1 order: fd_datasync=0, fd_read=1, fd_seek=2, ...). The sets
# are the ones uvwasi (node:wasi) reports, so guests see the same fdstat as under node.
ALL_RIGHTS = (1 << 30) - 1
FILE_RIGHTS = 0x08e001ff     # fd_* on data: read write seek tell sync advise allocate filestat_*
DIR_RIGHTS = 0x0fbffe98      # path_*, fd_readdir, fd_filestat_get/set_times, poll
DIR_INHERIT = DIR_RIGHTS | FILE_RIGHTS
TTY_RIGHTS = 0x0820004a      # fd_read fd_write fd_fdstat_set_flags fd_filestat_get poll
STREAM_RIGHTS = 0x3820004a   # TTY_RIGHTS + sock_shutdown sock_accept (pipes, sockets)
READ_RIGHTS = 1 << 1 | 1 << 14                       # fd_read, fd_readdir
WRITE_RIGHTS = 1 << 0 | 1 << 6 | 1 << 8 | 1 << 22    # fd_datasync, fd_write, fd_allocate, set_size

# fdflags <-> host open flags
FDFLAGS = ((1, os.O_APPEND), (2, os.O_DSYNC), (4, os.O_NONBLOCK), (8, os.O_RSYNC), (16, os.O_SYNC))
CLOCKS = {0: time.CLOCK_REALTIME, 1: time.CLOCK_MONOTONIC,
          2: time.CLOCK_PROCESS_CPUTIME_ID, 3: time.CLOCK_THREAD_CPUTIME_ID}
ADVICE = (os.POSIX_FADV_NORMAL, os.POSIX_FADV_SEQUENTIAL, os.POSIX_FADV_RANDOM,
          os.POSIX_FADV_WILLNEED, os.POSIX_FADV_DONTNEED, os.POSIX_FADV_NOREUSE)
U64 = (1 << 64) - 1

# Signatures in pywasm3's notation: result(params), i = i32, I = i64, v = none.
SIGNATURES = {
    'args_get': 'i(ii)', 'args_sizes_get': 'i(ii)', 'environ_get': 'i(ii)',
    'environ_sizes_get': 'i(ii)', 'clock_res_get': 'i(ii)', 'clock_time_get': 'i(iIi)',
    'fd_advise': 'i(iIIi)', 'fd_allocate': 'i(iII)', 'fd_close': 'i(i)', 'fd_datasync': 'i(i)',
    'fd_fdstat_get': 'i(ii)', 'fd_fdstat_set_flags': 'i(ii)', 'fd_fdstat_set_rights': 'i(iII)',
    'fd_filestat_get': 'i(ii)', 'fd_filestat_set_size': 'i(iI)',
    'fd_filestat_set_times': 'i(iIIi)', 'fd_pread': 'i(iiiIi)', 'fd_prestat_get': 'i(ii)',
    'fd_prestat_dir_name': 'i(iii)', 'fd_pwrite': 'i(iiiIi)', 'fd_read': 'i(iiii)',
    'fd_readdir': 'i(iiiIi)', 'fd_renumber': 'i(ii)', 'fd_seek': 'i(iIii)', 'fd_sync': 'i(i)',
    'fd_tell': 'i(ii)', 'fd_write': 'i(iiii)', 'path_create_directory': 'i(iii)',
    'path_filestat_get': 'i(iiiii)', 'path_filestat_set_times': 'i(iiiiIIi)',
    'path_link': 'i(iiiiiii)', 'path_open': 'i(iiiiiIIii)', 'path_readlink': 'i(iiiiii)',
    'path_remove_directory': 'i(iii)', 'path_rename': 'i(iiiiii)', 'path_symlink': 'i(iiiii)',
    'path_unlink_file': 'i(iii)', 'poll_oneoff': 'i(iiii)', 'proc_exit': 'v(i)',
    'proc_raise': 'i(i)', 'random_get': 'i(ii)', 'sched_yield': 'i()',
    'sock_accept': 'i(iii)', 'sock_recv': 'i(iiiiii)', 'sock_send': 'i(iiiii)',
    'sock_shutdown': 'i(ii)',
}


class WasiError(Exception):
    code = property(lambda self: self.args[0])


class Exit(Exception):
    """Raised by proc_exit: it unwinds through Wasm3 (a host exception becomes a trap there,
    and pywasm3 re-raises the Python exception from the call), so the guest stops at once."""


class UsageError(Exception):
    pass


# Pipes count as byte-stream sockets, as uvwasi does.
FILETYPES = {stat.S_IFREG: REG, stat.S_IFDIR: DIR, stat.S_IFCHR: CHAR, stat.S_IFBLK: BLOCK,
             stat.S_IFLNK: SYMLINK, stat.S_IFSOCK: STREAM, stat.S_IFIFO: STREAM}


def filetype(mode):
    return FILETYPES.get(stat.S_IFMT(mode), UNKNOWN)


def inside(path, root):
    return root == '/' or path == root or path.startswith(root + '/')


class Fd:
    __slots__ = ('host', 'ftype', 'base', 'inh', 'root', 'rel', 'name', 'own', 'entries')

    def __init__(self, host, ftype, base, inh, own=True):
        self.host, self.ftype, self.base, self.inh, self.own = host, ftype, base, inh, own
        self.root = self.rel = self.name = self.entries = None


class Wasi:
    def __init__(self, args, env, preopens, stderr_fd):
        self.args = [os.fsencode(a) + b'\0' for a in args]
        self.env = [os.fsencode(e) + b'\0' for e in env]
        self.rt = None
        self.fds = {}
        for guest, host in ((0, 0), (1, 1), (2, stderr_fd)):
            try:
                st = os.fstat(host)
            except OSError:
                continue
            ft = filetype(st.st_mode)
            base = (TTY_RIGHTS if os.isatty(host) else ALL_RIGHTS) if ft == CHAR else \
                STREAM_RIGHTS if ft == STREAM else FILE_RIGHTS
            self.fds[guest] = Fd(host, ft, base, base if ft == CHAR else 0, own=False)
        for fd, (guest, real, hostfd) in enumerate(preopens, 3):
            d = Fd(hostfd, DIR, DIR_RIGHTS, DIR_INHERIT)
            d.root, d.rel, d.name = real, [], os.fsencode(guest)
            self.fds[fd] = d

    # ---- plumbing ----------------------------------------------------------------------------

    def bind(self, name):
        """A callable for Wasm3: i32 arguments arrive signed, so they are made unsigned; the
        result is the errno (0 on success), OSError and bad pointers are mapped to errno."""
        fn = getattr(self, name, None) or self.nosys
        sig = SIGNATURES[name]
        mask = [c == 'i' for c in sig[sig.index('(') + 1:-1]]

        def call(*args):
            try:
                return fn(*[a & 0xffffffff if m else a for a, m in zip(args, mask)]) or 0
            except WasiError as e:
                return e.code
            except OSError as e:
                return HOST_ERRNO.get(e.errno, EIO)
            except struct.error:
                return EFAULT
            except OverflowError:  # a u64 the host cannot take (offset, length, time)
                return EINVAL
        return call

    def mem(self):
        # pywasm3 hands out a view of the current memory: fetched per call since it can grow.
        m = self.rt.get_memory(0)
        if m is None:
            raise WasiError(EFAULT)
        return m

    @staticmethod
    def span(m, ptr, n):
        if ptr + n > len(m):
            raise WasiError(EFAULT)
        return m[ptr:ptr + n]

    def iovecs(self, m, ptr, n):
        return [self.span(m, *struct.unpack_from('<II', m, ptr + 8 * i)) for i in range(n)]

    def get(self, fd):
        f = self.fds.get(fd)
        if f is None:
            raise WasiError(EBADF)
        return f

    def dir(self, fd):
        f = self.get(fd)
        if f.ftype != DIR or f.root is None:
            raise WasiError(ENOTDIR)
        return f

    def path(self, m, ptr, n):
        p = os.fsdecode(bytes(self.span(m, ptr, n)))
        if '\0' in p:
            raise WasiError(EINVAL)
        return p

    def resolve(self, d, path, follow=False):
        """Host path for `path` under directory fd `d`, checked to stay in its preopen.
        `..` is applied lexically and may not climb above the preopen; symlinks in the parent
        (and a followed final one) must resolve inside the preopen's real path."""
        if not path:
            raise WasiError(ENOENT)
        if path.startswith('/'):
            raise WasiError(ENOTCAPABLE)
        comps = list(d.rel)
        parts = path.split('/')
        for c in parts:
            if c == '..':
                if not comps:
                    raise WasiError(ENOTCAPABLE)
                comps.pop()
            elif c and c != '.':
                comps.append(c)
        last = [c for c in parts if c][-1:]
        if not comps or last[0] in ('.', '..'):
            # The path names a directory as itself ("." or "x/.."): keep a trailing "/." so
            # that rmdir/unlink/rename fail as POSIX says instead of acting on the directory.
            real = os.path.realpath(os.path.join(d.root, *comps))
            if not inside(real, d.root):
                raise WasiError(ENOTCAPABLE)
            return os.path.join(real, '.')
        parent = os.path.realpath(os.path.join(d.root, *comps[:-1]))
        if not inside(parent, d.root):
            raise WasiError(ENOTCAPABLE)
        host = os.path.join(parent, comps[-1])
        if path.endswith('/'):
            follow, host = True, host + '/'  # a trailing slash follows a symlink, as in POSIX
        if follow and os.path.islink(host.rstrip('/')) and \
                not inside(os.path.realpath(host), d.root):
            raise WasiError(ENOTCAPABLE)
        return host

    def entry(self, m, fd, ptr, n, follow=False):
        return self.resolve(self.dir(fd), self.path(m, ptr, n), follow)

    @staticmethod
    def pack_filestat(m, ptr, st):
        struct.pack_into('<QQB7xQQQQQ', m, ptr, st.st_dev & U64, st.st_ino & U64,
                         filetype(st.st_mode), st.st_nlink, st.st_size,
                         st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)

    @staticmethod
    def times(st, atim, mtim, fst):
        """(atime, mtime) in ns for os.utime from fstflags; unchanged ones are kept."""
        if (fst & 1 and fst & 2) or (fst & 4 and fst & 8) or fst & ~15:
            raise WasiError(EINVAL)
        now = time.time_ns()
        a = atim if fst & 1 else now if fst & 2 else st.st_atime_ns
        m = mtim if fst & 4 else now if fst & 8 else st.st_mtime_ns
        return a & U64, m & U64

    def nosys(self, *args):
        return ENOSYS

    # ---- args, environment, clocks, random, process ------------------------------------------

    def _strings(self, items, ptrs, buf):
        m = self.mem()
        for i, s in enumerate(items):
            struct.pack_into('<I', m, ptrs + 4 * i, buf)
            self.span(m, buf, len(s))[:] = s
            buf += len(s)

    def _sizes(self, items, count_ptr, size_ptr):
        m = self.mem()
        struct.pack_into('<I', m, count_ptr, len(items))
        struct.pack_into('<I', m, size_ptr, sum(map(len, items)))

    def args_get(self, argv, buf): self._strings(self.args, argv, buf)
    def args_sizes_get(self, c, s): self._sizes(self.args, c, s)
    def environ_get(self, env, buf): self._strings(self.env, env, buf)
    def environ_sizes_get(self, c, s): self._sizes(self.env, c, s)

    def clock_res_get(self, cid, out):
        if cid not in CLOCKS:
            raise WasiError(EINVAL)
        res = max(1, round(time.clock_getres(CLOCKS[cid]) * 1e9))
        struct.pack_into('<Q', self.mem(), out, res)

    def clock_time_get(self, cid, precision, out):
        if cid not in CLOCKS:
            raise WasiError(EINVAL)
        struct.pack_into('<Q', self.mem(), out, time.clock_gettime_ns(CLOCKS[cid]))

    def random_get(self, buf, n):
        m = self.mem()
        self.span(m, buf, n)[:] = os.urandom(n)

    def proc_exit(self, code):
        raise Exit(code)

    def sched_yield(self):
        os.sched_yield()

    # ---- fd_* --------------------------------------------------------------------------------

    def _io(self, op, fd, iovs, n, out, *offset):
        # Scatter/gather straight between guest memory and the host fd: one system call.
        m = self.mem()
        host = self.get(fd).host
        struct.pack_into('<I', m, out, op(host, self.iovecs(m, iovs, n), *offset))

    def fd_write(self, fd, iovs, n, out): self._io(os.writev, fd, iovs, n, out)
    def fd_read(self, fd, iovs, n, out): self._io(os.readv, fd, iovs, n, out)
    def fd_pwrite(self, fd, iovs, n, off, out): self._io(os.pwritev, fd, iovs, n, out, off & U64)
    def fd_pread(self, fd, iovs, n, off, out): self._io(os.preadv, fd, iovs, n, out, off & U64)

    def fd_seek(self, fd, offset, whence, out):
        if whence > 2:
            raise WasiError(EINVAL)
        m = self.mem()
        pos = os.lseek(self.get(fd).host, offset, (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
        struct.pack_into('<Q', m, out, pos)

    def fd_tell(self, fd, out):
        m = self.mem()
        struct.pack_into('<Q', m, out, os.lseek(self.get(fd).host, 0, os.SEEK_CUR))

    def fd_close(self, fd):
        f = self.get(fd)
        del self.fds[fd]
        if f.own:  # the process's own stdio stays open for the host
            os.close(f.host)

    def fd_renumber(self, fd, to):
        f, old = self.get(fd), self.get(to)
        if fd != to:
            self.fds[to] = self.fds.pop(fd)
            if old.own:
                os.close(old.host)

    def fd_sync(self, fd): os.fsync(self.get(fd).host)
    def fd_datasync(self, fd): os.fdatasync(self.get(fd).host)

    def fd_advise(self, fd, offset, length, advice):
        if advice >= len(ADVICE):
            raise WasiError(EINVAL)
        os.posix_fadvise(self.get(fd).host, offset, length, ADVICE[advice])

    def fd_allocate(self, fd, offset, length):
        os.posix_fallocate(self.get(fd).host, offset, length)

    def fd_fdstat_get(self, fd, out):
        m = self.mem()
        f = self.get(fd)
        host = fcntl.fcntl(f.host, fcntl.F_GETFL)
        fl = sum(w for w, h in FDFLAGS if host & h == h)
        struct.pack_into('<BxH4xQQ', m, out, f.ftype, fl, f.base, f.inh)

    def fd_fdstat_set_flags(self, fd, flags):
        f = self.get(fd)
        if flags & ~(1 | 4):  # Linux cannot change the sync flags of an open file
            raise WasiError(ENOTSUP)
        cur = fcntl.fcntl(f.host, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        fcntl.fcntl(f.host, fcntl.F_SETFL,
                    cur | (os.O_APPEND if flags & 1 else 0) | (os.O_NONBLOCK if flags & 4 else 0))

    def fd_fdstat_set_rights(self, fd, base, inh):
        f = self.get(fd)
        base, inh = base & U64, inh & U64
        if base & ~f.base or inh & ~f.inh:
            raise WasiError(ENOTCAPABLE)
        f.base, f.inh = base, inh

    def fd_filestat_get(self, fd, out):
        m = self.mem()
        self.pack_filestat(m, out, os.fstat(self.get(fd).host))

    def fd_filestat_set_size(self, fd, size):
        os.ftruncate(self.get(fd).host, size)

    def fd_filestat_set_times(self, fd, atim, mtim, fst):
        f = self.get(fd)
        os.utime(f.host, ns=self.times(os.fstat(f.host), atim, mtim, fst))

    def fd_prestat_get(self, fd, out):
        f = self.get(fd)
        if f.name is None:
            raise WasiError(EBADF)  # wasi-libc stops enumerating preopens at EBADF
        struct.pack_into('<B3xI', self.mem(), out, 0, len(f.name))

    def fd_prestat_dir_name(self, fd, buf, n):
        f = self.get(fd)
        if f.name is None:
            raise WasiError(EBADF)
        if n < len(f.name):
            raise WasiError(ENOBUFS)
        m = self.mem()
        self.span(m, buf, len(f.name))[:] = f.name

    def _list(self, f):
        st = os.fstat(f.host)
        up = os.stat('..', dir_fd=f.host).st_ino
        entries = [(b'.', st.st_ino, DIR), (b'..', up, DIR)]
        with os.scandir(f.host) as it:
            for e in it:
                t = SYMLINK if e.is_symlink() else DIR if e.is_dir(follow_symlinks=False) else \
                    REG if e.is_file(follow_symlinks=False) else \
                    filetype(e.stat(follow_symlinks=False).st_mode)
                entries.append((os.fsencode(e.name), e.inode(), t))
        return entries

    def fd_readdir(self, fd, buf, n, cookie, out):
        m = self.mem()
        f = self.get(fd)
        if f.ftype != DIR:
            raise WasiError(ENOTDIR)
        cookie &= U64
        if cookie == 0 or f.entries is None:
            f.entries = self._list(f)
        data = bytearray()
        for i in range(cookie, len(f.entries)):
            name, ino, t = f.entries[i]
            data += struct.pack('<QQIB3x', i + 1, ino, len(name), t) + name
            if len(data) >= n:
                break  # a full buffer tells wasi-libc to call again (with a bigger one if needed)
        used = min(n, len(data))
        self.span(m, buf, used)[:] = data[:used]
        struct.pack_into('<I', m, out, used)

    # ---- path_* ------------------------------------------------------------------------------

    def path_open(self, fd, dirflags, path, n, oflags, base, inh, fdflags, out):
        m = self.mem()
        d = self.dir(fd)
        follow = dirflags & 1
        host = self.resolve(d, self.path(m, path, n), follow)
        base, inh = base & U64, inh & U64
        flags = os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
        for bit, hf in ((1, os.O_CREAT), (2, os.O_DIRECTORY), (4, os.O_EXCL), (8, os.O_TRUNC)):
            if oflags & bit:
                flags |= hf
        for bit, hf in FDFLAGS:
            if fdflags & bit:
                flags |= hf
        rd, wr = base & READ_RIGHTS, base & WRITE_RIGHTS
        flags |= os.O_RDWR if rd and wr else os.O_WRONLY if wr else os.O_RDONLY
        h = os.open(host, flags, 0o666)
        try:
            ft = filetype(os.fstat(h).st_mode)
            if ft == DIR:
                new = Fd(h, DIR, base & DIR_RIGHTS, inh & DIR_INHERIT)
                rel = os.path.relpath(os.path.realpath(host), d.root)
                new.root, new.rel = d.root, [] if rel == '.' else rel.split('/')
            else:
                new = Fd(h, ft, base & FILE_RIGHTS, 0)
            num = next(i for i in range(3, len(self.fds) + 4) if i not in self.fds)
            struct.pack_into('<I', m, out, num)
        except BaseException:
            os.close(h)
            raise
        self.fds[num] = new

    def path_filestat_get(self, fd, flags, path, n, out):
        m = self.mem()
        host = self.entry(m, fd, path, n, flags & 1)
        self.pack_filestat(m, out, os.stat(host, follow_symlinks=bool(flags & 1)))

    def path_filestat_set_times(self, fd, flags, path, n, atim, mtim, fst):
        m = self.mem()
        follow = bool(flags & 1)
        host = self.entry(m, fd, path, n, follow)
        st = os.stat(host, follow_symlinks=follow)
        os.utime(host, ns=self.times(st, atim, mtim, fst), follow_symlinks=follow)

    def path_create_directory(self, fd, path, n):
        os.mkdir(self.entry(self.mem(), fd, path, n), 0o777)

    def path_remove_directory(self, fd, path, n):
        os.rmdir(self.entry(self.mem(), fd, path, n))

    def path_unlink_file(self, fd, path, n):
        host = self.entry(self.mem(), fd, path, n)
        if host.endswith('/'):  # "file/" names a directory; Linux's unlink says EISDIR either way
            raise WasiError(ENOTDIR if not os.path.isdir(host) else W['ISDIR'])
        os.unlink(host)

    def path_rename(self, fd, old, old_n, new_fd, new, new_n):
        m = self.mem()
        os.rename(self.entry(m, fd, old, old_n), self.entry(m, new_fd, new, new_n))

    def path_link(self, old_fd, flags, old, old_n, new_fd, new, new_n):
        m = self.mem()
        follow = bool(flags & 1)
        src = self.entry(m, old_fd, old, old_n, follow)
        os.link(src, self.entry(m, new_fd, new, new_n), follow_symlinks=follow)

    def path_symlink(self, old, old_n, fd, new, new_n):
        # A link whose text leaves the preopen is refused (as uvwasi does), so that no host
        # program is led outside by it either; following links is checked again in resolve.
        m = self.mem()
        target, d = self.path(m, old, old_n), self.dir(fd)
        host = self.resolve(d, self.path(m, new, new_n))
        rel = os.path.relpath(os.path.dirname(host), d.root)
        comps = [] if rel == '.' else rel.split('/')
        for c in target.split('/'):
            if c == '..' and not comps or target.startswith('/'):
                raise WasiError(ENOTCAPABLE)
            if c == '..':
                comps.pop()
            elif c and c != '.':
                comps.append(c)
        os.symlink(target, host)

    def path_readlink(self, fd, path, n, buf, buf_n, out):
        m = self.mem()
        text = os.readlink(os.fsencode(self.entry(m, fd, path, n)))
        used = min(len(text), buf_n)
        self.span(m, buf, used)[:] = text[:used]
        struct.pack_into('<I', m, out, used)

    # ---- poll --------------------------------------------------------------------------------

    def poll_oneoff(self, subs, events, nsubs, out):
        """Clock subscriptions sleep until the earliest deadline; fd subscriptions wait with
        poll(2) on the host fd (regular files are always ready)."""
        m = self.mem()
        if nsubs == 0:
            raise WasiError(EINVAL)
        self.span(m, subs, 48 * nsubs)
        self.span(m, events, 32 * nsubs)
        now = time.monotonic_ns()
        clocks, waits, ready = [], [], []  # ready: (userdata, errno, type, nbytes, flags)
        for i in range(nsubs):
            p = subs + 48 * i
            ud, tag = struct.unpack_from('<QB', m, p)
            if tag == 0:
                cid, timeout, _, cflags = struct.unpack_from('<I4xQQH', m, p + 16)
                if cid not in CLOCKS:
                    ready.append((ud, EINVAL, 0, 0, 0))
                    continue
                if cflags & 1:  # absolute: the time left on that clock
                    timeout = max(0, timeout - time.clock_gettime_ns(CLOCKS[cid]))
                clocks.append((now + timeout, ud))
            elif tag in (1, 2):
                f = self.fds.get(struct.unpack_from('<I', m, p + 16)[0])
                if f is None:
                    ready.append((ud, EBADF, tag, 0, 0))
                elif f.ftype in (REG, DIR):
                    ready.append((ud, 0, tag, 0, 0))
                else:
                    waits.append((f.host, tag, ud))
            else:
                ready.append((ud, EINVAL, tag, 0, 0))
        deadline = min(clocks)[0] if clocks else None
        if not ready and waits:
            poller = select.poll()
            for host, tag, _ in waits:
                poller.register(host, select.POLLIN if tag == 1 else select.POLLOUT)
            ms = None if deadline is None else max(0, -(-(deadline - time.monotonic_ns()) // 10**6))
            got = dict(poller.poll(ms))
            for host, tag, ud in waits:
                if host in got:
                    ev = got[host]
                    err = EBADF if ev & select.POLLNVAL else 0
                    ready.append((ud, err, tag, 0, 1 if ev & select.POLLHUP else 0))
        elif not ready and deadline is not None:
            left = deadline - time.monotonic_ns()
            if left > 0:
                time.sleep(left / 1e9)
        now = time.monotonic_ns()
        ready += [(ud, 0, 0, 0, 0) for when, ud in clocks if when <= now]
        for i, (ud, err, tag, nbytes, fl) in enumerate(ready):
            struct.pack_into('<QHB5xQH6x', m, events + 32 * i, ud, err, tag, nbytes, fl)
        struct.pack_into('<I', m, out, len(ready))


# ---- the module's imports ----------------------------------------------------------------------

def leb(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def scan_module(data):
    """The function imports (module, name, signature), from the type and import sections, so
    that exactly the declared imports are linked and a missing one is caught up front; and the
    module without its "name" section. Wasm3 0.5.0's find_function also matches debug names,
    in function order: wasi-libc names an internal function "_start" (the export is
    "_start.command_export", which runs the constructors first), so that one would be called."""
    if data[:4] != b'\0asm':
        raise ValueError('not a WebAssembly module')
    vt = {0x7f: 'i', 0x7e: 'I', 0x7d: 'f', 0x7c: 'F'}
    types, imports, pos, kept = [], [], 8, [data[:8]]
    while pos < len(data):
        sid, start = data[pos], pos
        size, pos = leb(data, pos + 1)
        p, end = pos, pos + size
        if end > len(data):
            raise IndexError
        if sid == 0:
            n, q = leb(data, p)
            if data[q:q + n] != b'name':
                kept.append(data[start:end])
        else:
            kept.append(data[start:end])
        if sid == 1:
            count, p = leb(data, p)
            for _ in range(count):
                p += 1  # 0x60
                n, p = leb(data, p)
                params, p = ''.join(vt.get(b, '?') for b in data[p:p + n]), p + n
                n, p = leb(data, p)
                results, p = ''.join(vt.get(b, '?') for b in data[p:p + n]), p + n
                types.append('%s(%s)' % (results or 'v', params))
        elif sid == 2:
            count, p = leb(data, p)
            for _ in range(count):
                names = []
                for _ in range(2):
                    n, p = leb(data, p)
                    names.append(data[p:p + n].decode('utf-8', 'replace'))
                    p += n
                kind, p = data[p], p + 1
                if kind == 0:
                    idx, p = leb(data, p)
                    imports.append((names[0], names[1], types[idx]))
                else:
                    raise ValueError('imports %s %s.%s, which this host does not provide' % (
                        ('a table', 'a memory', 'a global', 'a tag')[min(kind - 1, 3)], *names))
        pos = end
    return imports, b''.join(kept)


# ---- command line and run -----------------------------------------------------------------------

USAGE = 'usage: wasm3-wasi.py [--dir HOST[::GUEST]]... [--env K[=V]]... MODULE.wasm [ARGS...]'


def parse_cli(argv):
    dirs, env, i = [], [], 0
    while i < len(argv) and argv[i].startswith('-') and argv[i] != '-':
        opt, eq, val = argv[i].partition('=')
        i += 1
        if opt == '--':
            break
        if opt in ('-h', '--help'):
            print(USAGE)
            sys.exit(0)
        if opt not in ('--dir', '--env'):
            raise UsageError('unknown option %s' % argv[i - 1])
        if not eq:
            if i == len(argv):
                raise UsageError('%s needs a value' % opt)
            val, i = argv[i], i + 1
        if opt == '--dir':
            host, sep, guest = val.partition('::')
            if not host or (sep and not guest):
                raise UsageError('--dir wants HOST or HOST::GUEST, got "%s"' % val)
            dirs.append((host, guest if sep else host))
        else:
            k, sep, v = val.partition('=')
            if not k:
                raise UsageError('--env wants K=V or K, got "%s"' % val)
            if sep:
                env.append(val)
            elif k in os.environ:
                env.append('%s=%s' % (k, os.environ[k]))
    if i == len(argv):
        raise UsageError('no module given')
    return dirs, env, argv[i], argv[i + 1:]


def fail(msg, code=2):
    os.write(2, ('wasm3-wasi: %s\n' % msg).encode(errors='replace'))
    os._exit(code)


def main(argv):
    try:
        dirs, env, path, args = parse_cli(argv)
    except UsageError as e:
        fail('%s; %s' % (e, USAGE))
    try:
        import wasm3
    except ImportError:
        fail('the wasm3 module is missing: pip install --target DIR pywasm3==0.5.0, '
             'then run with PYTHONPATH=DIR')
    try:
        with open(path, 'rb') as fh:
            data = fh.read()
    except OSError as e:
        fail('cannot read %s: %s' % (path, e.strerror))
    try:
        imports, data = scan_module(data)
    except (ValueError, IndexError) as e:
        fail('%s: %s' % (path, e if isinstance(e, ValueError) else 'truncated module'))
    for mod, name, sig in imports:
        if mod != 'wasi_snapshot_preview1' or name not in SIGNATURES:
            fail('%s: unknown import %s.%s' % (path, mod, name))
        if SIGNATURES[name] != sig:
            fail('%s: import %s.%s has type %s, preview1 says %s' % (path, mod, name, sig,
                                                                      SIGNATURES[name]))
    preopens = []
    for host, guest in dirs:
        real = os.path.realpath(host)
        try:
            preopens.append((guest, real, os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)))
        except OSError as e:
            fail('cannot open directory %s: %s' % (host, e.strerror))

    # Wasm3 prints a backtrace to the C stderr on a trap; the guest's stderr gets its own copy
    # of fd 2 and fd 2 is pointed at /dev/null while the guest runs, so a trap is one line.
    stderr_fd = os.dup(2)
    wasi = Wasi([path] + args, env, preopens, stderr_fd)
    outcome = {}

    def run(stack):
        try:
            environment = wasm3.Environment()
            rt = environment.new_runtime(stack)
            module = environment.parse_module(data)
            rt.load(module)
            wasi.rt = rt
            for mod, name, sig in imports:
                module.link_function(mod, name, sig, wasi.bind(name))
            start = rt.find_function('_start')
        except RuntimeError as e:
            outcome['fail'] = '%s: %s' % (path, e)
            return
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            start()
            outcome['code'] = 0
        except Exit as e:
            outcome['code'] = e.args[0]
        except RuntimeError as e:
            outcome['trap'] = str(e).replace('[trap] ', '')
        except Exception as e:  # a host function failed in a way it should not
            outcome['trap'] = 'host function raised %s: %s' % (type(e).__name__, e)
        finally:
            os.dup2(stderr_fd, 2)
            os.close(null)

    for native in NATIVE_STACKS:
        threading.stack_size(native)
        worker = threading.Thread(target=run, args=(native // STACK_RATIO,), daemon=True)
        try:
            worker.start()
            break
        except RuntimeError:
            continue
    else:
        fail('cannot start a thread with a %d MiB stack' % (NATIVE_STACKS[-1] >> 20))
    try:
        worker.join()
    except KeyboardInterrupt:
        os.dup2(stderr_fd, 2)
        os._exit(130)
    if 'fail' in outcome:
        fail(outcome['fail'])
    if 'trap' in outcome:
        os.write(2, ('wasm3: trap: %s\n' % outcome['trap']).encode(errors='replace'))
        os._exit(134)
    # os._exit: Python's teardown would free Wasm3's objects in an unsafe order.
    os._exit(outcome['code'] & 0xff)


if __name__ == '__main__':
    main(sys.argv[1:])
