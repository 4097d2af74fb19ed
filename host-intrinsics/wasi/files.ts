// The bridge from preview1's fd table to preview2-shim's wasi:filesystem descriptors. Each preopen
// is a preview2 preopen descriptor; every other fd gets a descriptor opened by its path (on first
// use, so a state restored in another process reopens its files lazily). All path arguments pass
// through the sandbox before the shim sees them, and the shim is only ever handed paths relative to
// a preopen.

import { realpathSync } from 'node:fs';
import path from 'node:path';
import * as shimFilesystem from '@bytecodealliance/preview2-shim/filesystem';
import type {
  Descriptor, DescriptorFlags, DescriptorStat, DirectoryEntry, OpenFlags,
} from '@bytecodealliance/preview2-shim/interfaces/wasi-filesystem-types';
import { Errno, WasiError } from './errno.js';
import { READ_RIGHTS, WRITE_RIGHTS, filetypeOf } from './layout.js';
import { checkInside, resolveLexically, type Resolved } from './sandbox.js';
import type { FdEntry, Preopen } from './state.js';

export type { Descriptor, DirectoryEntry };
export type PathEntry = Extract<FdEntry, { kind: 'preopen' | 'dir' | 'file' }>;

/** preview1's filestat, with times in nanoseconds. */
export interface Filestat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

const ns = (t: { seconds: bigint; nanoseconds: number }) => t.seconds * 1_000_000_000n + BigInt(t.nanoseconds);

function filestat(s: DescriptorStat, ino: bigint): Filestat {
  return {
    // preview2 has no device number; inode numbers come from its metadata hash.
    dev: 0n, ino, filetype: filetypeOf(s.type), nlink: BigInt(s.linkCount), size: BigInt(s.size),
    atim: s.dataAccessTimestamp ? ns(s.dataAccessTimestamp) : 0n,
    mtim: s.dataModificationTimestamp ? ns(s.dataModificationTimestamp) : 0n,
    ctim: s.statusChangeTimestamp ? ns(s.statusChangeTimestamp) : 0n,
  };
}

// The package's typings resolve to its browser build, whose createFilesystem wants an adapter; on
// Node it takes host paths.
const createFilesystem = shimFilesystem.createFilesystem as unknown as (config: { preopens: Record<string, string> }) => {
  preopens: { getDirectories(): [Descriptor, string][] };
};

export class Files {
  private readonly roots: Descriptor[];
  private readonly rootReals: (string | undefined)[] = [];
  private readonly handles = new Map<number, Descriptor>();
  private readonly listings = new Map<number, DirectoryEntry[]>();

  constructor(private readonly preopens: readonly Preopen[]) {
    this.roots = preopens.map((p) => {
      const [[root]] = createFilesystem({ preopens: { [p.guestPath]: p.hostPath } }).preopens.getDirectories();
      return root;
    });
  }

  /** Where a resolved path lives on the host. */
  hostPath(preopen: number, rel: string): string {
    const base = this.preopens[preopen].hostPath;
    return rel === '' ? base : path.join(base, rel);
  }

  /** Resolves guest path `p` against directory fd `dir` and checks it stays inside the preopen. */
  resolve(dir: PathEntry, p: string, followLast: boolean): Resolved {
    const r = resolveLexically(dir.path, p);
    this.checkInside(dir.preopen, r.rel, followLast);
    return r;
  }

  /** The preopen's descriptor, through which every path operation goes. */
  root(preopen: number): Descriptor {
    return this.roots[preopen];
  }

  /** A resolved path as the shim takes it: a trailing '/' keeps "must be a directory". */
  static shimPath(r: Resolved): string {
    return r.rel === '' ? '' : r.mustBeDir ? `${r.rel}/` : r.rel;
  }

  open(preopen: number, r: Resolved, follow: boolean, how: OpenFlags, flags: DescriptorFlags): { desc: Descriptor; type: string } {
    const desc = this.root(preopen).openAt({ symlinkFollow: follow }, Files.shimPath(r), how, flags);
    try {
      return { desc, type: desc.getType() };
    } catch (e) {
      dispose(desc);
      throw e;
    }
  }

  /** The descriptor behind `fd`, reopened by path if this process has not opened it yet. */
  handle(fd: number, entry: PathEntry): Descriptor {
    let desc = this.handles.get(fd);
    if (!desc) {
      this.checkInside(entry.preopen, entry.path, true);
      const isFile = entry.kind === 'file';
      desc = this.root(entry.preopen).openAt({ symlinkFollow: true }, entry.path, { directory: !isFile }, {
        read: !isFile || (entry.rightsBase & READ_RIGHTS) !== 0,
        write: isFile && (entry.rightsBase & WRITE_RIGHTS) !== 0,
      });
      this.handles.set(fd, desc);
    }
    return desc;
  }

  adopt(fd: number, desc: Descriptor): void {
    this.handles.set(fd, desc);
  }

  stat(fd: number, entry: PathEntry): Filestat {
    const desc = this.handle(fd, entry);
    return filestat(desc.stat(), desc.metadataHash().lower);
  }

  statAt(preopen: number, r: Resolved, follow: boolean): Filestat {
    const root = this.root(preopen);
    const at = Files.shimPath(r);
    return filestat(root.statAt({ symlinkFollow: follow }, at), root.metadataHashAt({ symlinkFollow: follow }, at).lower);
  }

  /**
   * The directory's entries (without `.` and `..`, as node:wasi lists them), read afresh when a
   * listing starts at cookie 0 and kept for the cookies that continue it.
   */
  list(fd: number, entry: PathEntry, fresh: boolean): DirectoryEntry[] {
    let entries = fresh ? undefined : this.listings.get(fd);
    if (!entries) {
      entries = [];
      const stream = this.handle(fd, entry).readDirectory();
      try {
        for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) entries.push(e);
      } finally {
        dispose(stream);
      }
      this.listings.set(fd, entries);
    }
    return entries;
  }

  move(from: number, to: number): void {
    this.close(to);
    const desc = this.handles.get(from);
    const listing = this.listings.get(from);
    this.handles.delete(from);
    this.listings.delete(from);
    if (desc) this.handles.set(to, desc);
    if (listing) this.listings.set(to, listing);
  }

  close(fd: number): void {
    const desc = this.handles.get(fd);
    this.handles.delete(fd);
    this.listings.delete(fd);
    if (desc) dispose(desc);
  }

  closeAll(): void {
    for (const fd of [...this.handles.keys()]) this.close(fd);
  }

  // The preopen itself ('') is inside by definition; its parent is not.
  private checkInside(preopen: number, rel: string, followLast: boolean): void {
    if (rel !== '') checkInside(this.rootReal(preopen), this.hostPath(preopen, rel), followLast);
  }

  private rootReal(preopen: number): string {
    let real = this.rootReals[preopen];
    if (real === undefined) {
      try {
        real = realpathSync(this.preopens[preopen].hostPath);
      } catch {
        throw new WasiError(Errno.NOENT, `preopen ${this.preopens[preopen].hostPath} is gone`);
      }
      this.rootReals[preopen] = real;
    }
    return real;
  }
}

// preview2 resources release their host handle on Symbol.dispose (the shim's own name for it).
const symbolDispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
export function dispose(resource: object): void {
  (resource as Record<symbol, (() => void) | undefined>)[symbolDispose]?.();
}
