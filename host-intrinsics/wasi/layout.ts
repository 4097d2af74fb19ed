// The preview1 ABI's constants and struct layouts (witx `typenames`): file types, rights, flags,
// clock ids, and the byte offsets of the structs preview1 functions read and write in guest memory.

export const Filetype = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4,
  SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;

/** preview2's `descriptor-type` → preview1 filetype. */
export function filetypeOf(type: string): number {
  switch (type) {
    case 'block-device': return Filetype.BLOCK_DEVICE;
    case 'character-device': return Filetype.CHARACTER_DEVICE;
    case 'directory': return Filetype.DIRECTORY;
    case 'regular-file': return Filetype.REGULAR_FILE;
    case 'socket': return Filetype.SOCKET_STREAM;
    case 'symbolic-link': return Filetype.SYMBOLIC_LINK;
    default: return Filetype.UNKNOWN;
  }
}

// Rights are 30 bits, so they fit a JS number (and JSON) without a bigint.
export const Rights = {
  FD_DATASYNC: 1 << 0, FD_READ: 1 << 1, FD_SEEK: 1 << 2, FD_FDSTAT_SET_FLAGS: 1 << 3, FD_SYNC: 1 << 4,
  FD_TELL: 1 << 5, FD_WRITE: 1 << 6, FD_ADVISE: 1 << 7, FD_ALLOCATE: 1 << 8,
  PATH_CREATE_DIRECTORY: 1 << 9, PATH_CREATE_FILE: 1 << 10, PATH_LINK_SOURCE: 1 << 11,
  PATH_LINK_TARGET: 1 << 12, PATH_OPEN: 1 << 13, FD_READDIR: 1 << 14, PATH_READLINK: 1 << 15,
  PATH_RENAME_SOURCE: 1 << 16, PATH_RENAME_TARGET: 1 << 17, PATH_FILESTAT_GET: 1 << 18,
  PATH_FILESTAT_SET_SIZE: 1 << 19, PATH_FILESTAT_SET_TIMES: 1 << 20, FD_FILESTAT_GET: 1 << 21,
  FD_FILESTAT_SET_SIZE: 1 << 22, FD_FILESTAT_SET_TIMES: 1 << 23, PATH_SYMLINK: 1 << 24,
  PATH_REMOVE_DIRECTORY: 1 << 25, PATH_UNLINK_FILE: 1 << 26, POLL_FD_READWRITE: 1 << 27,
  SOCK_SHUTDOWN: 1 << 28, SOCK_ACCEPT: 1 << 29,
} as const;

const R = Rights;
// The most each kind of descriptor can hold, as uvwasi (node:wasi) grants them, so that a guest
// asking fd_fdstat_get sees the same rights under both.
export const REGULAR_FILE_RIGHTS =
  R.FD_DATASYNC | R.FD_READ | R.FD_SEEK | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_TELL | R.FD_WRITE |
  R.FD_ADVISE | R.FD_ALLOCATE | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES |
  R.POLL_FD_READWRITE;
export const DIRECTORY_RIGHTS =
  R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_ADVISE | R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE |
  R.PATH_LINK_SOURCE | R.PATH_LINK_TARGET | R.PATH_OPEN | R.FD_READDIR | R.PATH_READLINK |
  R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET | R.PATH_FILESTAT_GET | R.PATH_FILESTAT_SET_SIZE |
  R.PATH_FILESTAT_SET_TIMES | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_TIMES | R.PATH_SYMLINK |
  R.PATH_UNLINK_FILE | R.PATH_REMOVE_DIRECTORY | R.POLL_FD_READWRITE;
export const DIRECTORY_INHERITING = DIRECTORY_RIGHTS | REGULAR_FILE_RIGHTS;
export const TTY_RIGHTS = R.FD_READ | R.FD_FDSTAT_SET_FLAGS | R.FD_WRITE | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE;
/** Rights that need the file opened for reading / for writing (how path_open picks the mode). */
export const READ_RIGHTS = R.FD_READ | R.FD_READDIR;
export const WRITE_RIGHTS = R.FD_DATASYNC | R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE;

export const Oflags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const Fdflags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const LOOKUP_SYMLINK_FOLLOW = 1;
export const Whence = { SET: 0, CUR: 1, END: 2 } as const;
export const Fstflags = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const ClockId = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;
export const PREOPENTYPE_DIR = 0;

/** Struct sizes and field offsets (all little-endian, as in linear memory). */
export const IOVEC_SIZE = 8; // buf: u32 @0, buf_len: u32 @4
export const FDSTAT_SIZE = 24; // filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16
export const FILESTAT_SIZE = 64; // dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56
export const PRESTAT_SIZE = 8; // tag u8 @0, dir name_len u32 @4
export const DIRENT_SIZE = 24; // d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20
export const SUBSCRIPTION_SIZE = 48; // userdata u64 @0, tag u8 @8, clock {id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40} | fd u32 @16
export const EVENT_SIZE = 32; // userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24
export const EventType = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const SUBCLOCK_ABSTIME = 1;
