// WASI preview1 error numbers, the error a preview1 function throws to return one, and the mapping
// from what the layers below throw (preview2-shim's `error-code` strings, Node's `code` names) to
// errno. One place decides what a guest sees for each failure.

/** Preview1 `errno`, in the order the witx spec numbers them. */
const NAMES = [
  'SUCCESS', '2BIG', 'ACCES', 'ADDRINUSE', 'ADDRNOTAVAIL', 'AFNOSUPPORT', 'AGAIN', 'ALREADY', 'BADF',
  'BADMSG', 'BUSY', 'CANCELED', 'CHILD', 'CONNABORTED', 'CONNREFUSED', 'CONNRESET', 'DEADLK',
  'DESTADDRREQ', 'DOM', 'DQUOT', 'EXIST', 'FAULT', 'FBIG', 'HOSTUNREACH', 'IDRM', 'ILSEQ', 'INPROGRESS',
  'INTR', 'INVAL', 'IO', 'ISCONN', 'ISDIR', 'LOOP', 'MFILE', 'MLINK', 'MSGSIZE', 'MULTIHOP',
  'NAMETOOLONG', 'NETDOWN', 'NETRESET', 'NETUNREACH', 'NFILE', 'NOBUFS', 'NODEV', 'NOENT', 'NOEXEC',
  'NOLCK', 'NOLINK', 'NOMEM', 'NOMSG', 'NOPROTOOPT', 'NOSPC', 'NOSYS', 'NOTCONN', 'NOTDIR', 'NOTEMPTY',
  'NOTRECOVERABLE', 'NOTSOCK', 'NOTSUP', 'NOTTY', 'NXIO', 'OVERFLOW', 'OWNERDEAD', 'PERM', 'PIPE',
  'PROTO', 'PROTONOSUPPORT', 'PROTOTYPE', 'RANGE', 'ROFS', 'SPIPE', 'SRCH', 'STALE', 'TIMEDOUT',
  'TXTBSY', 'XDEV', 'NOTCAPABLE',
] as const;

export const Errno = Object.fromEntries(NAMES.map((name, i) => [name, i])) as Record<(typeof NAMES)[number], number>;

/**
 * What a guest gets for a path that would leave its preopened directory (`..` past the root, an
 * absolute path, a symlink pointing out): ENOTCAPABLE, as node:wasi (uvwasi) answers, because the
 * guests' output must match a node:wasi run byte for byte (tests/fixtures/fileio prints it).
 */
export const ESCAPE = Errno.NOTCAPABLE;

/** Thrown inside a preview1 function to return `errno` to the guest. */
export class WasiError extends Error {
  override name = 'WasiError';
  constructor(readonly errno: number, detail?: string) {
    super(detail ?? `errno ${NAMES[errno] ?? errno}`);
  }
}

// preview2's wasi:filesystem `error-code` (what preview2-shim throws as a string) → preview1 errno.
const FROM_PREVIEW2: Readonly<Record<string, number>> = {
  'access': Errno.ACCES, 'would-block': Errno.AGAIN, 'already': Errno.ALREADY,
  'bad-descriptor': Errno.BADF, 'busy': Errno.BUSY, 'deadlock': Errno.DEADLK, 'quota': Errno.DQUOT,
  'exist': Errno.EXIST, 'file-too-large': Errno.FBIG, 'illegal-byte-sequence': Errno.ILSEQ,
  'in-progress': Errno.INPROGRESS, 'interrupted': Errno.INTR, 'invalid': Errno.INVAL, 'io': Errno.IO,
  'is-directory': Errno.ISDIR, 'loop': Errno.LOOP, 'too-many-links': Errno.MLINK,
  'message-size': Errno.MSGSIZE, 'name-too-long': Errno.NAMETOOLONG, 'no-device': Errno.NODEV,
  'no-entry': Errno.NOENT, 'no-lock': Errno.NOLCK, 'insufficient-memory': Errno.NOMEM,
  'insufficient-space': Errno.NOSPC, 'not-directory': Errno.NOTDIR, 'not-empty': Errno.NOTEMPTY,
  'not-recoverable': Errno.NOTRECOVERABLE, 'unsupported': Errno.NOTSUP, 'no-tty': Errno.NOTTY,
  'no-such-device': Errno.NXIO, 'overflow': Errno.OVERFLOW, 'not-permitted': Errno.PERM,
  'pipe': Errno.PIPE, 'read-only': Errno.ROFS, 'invalid-seek': Errno.SPIPE,
  'text-file-busy': Errno.TXTBSY, 'cross-device': Errno.XDEV,
};

// Node's error codes are the POSIX names, which preview1 shares (less the leading E).
const FROM_POSIX: ReadonlyMap<string, number> = new Map(NAMES.map((name, i) => [`E${name}`, i]));
const POSIX_ALIASES: Readonly<Record<string, number>> = {
  EWOULDBLOCK: Errno.AGAIN, EOPNOTSUPP: Errno.NOTSUP, ECANCELLED: Errno.CANCELED,
  ERR_FS_EISDIR: Errno.ISDIR,
};

/**
 * The errno for something thrown while serving a preview1 call, or undefined when it is none of
 * the failures a guest should see (a bug in this bridge: let it propagate).
 */
export function errnoOf(e: unknown): number | undefined {
  if (e instanceof WasiError) return e.errno;
  if (typeof e === 'string') return FROM_PREVIEW2[e];
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') {
    return FROM_POSIX.get(e.code) ?? POSIX_ALIASES[e.code];
  }
  return undefined;
}

export function errnoName(errno: number): string {
  return NAMES[errno] !== undefined ? `E${NAMES[errno]}` : `errno ${errno}`;
}
