// What the CLI reads from and writes into a snapshot file beyond what the VM's snapshot_info
// reports: the section layout (sizes, whether a host call is pending — FORMAT.md), the host-state
// payload the handover CLI stores (the WASI state and the instruction count so far, as JSON),
// and function names from the embedded module's name section, for `handover inspect`.

import { StateError, checkState, type WasiState } from '../wasi/state.js';
import { SECTION_NAMES, Section } from '../vocabulary.js';

export { SECTION_NAMES };
const HOST_CALL = Section.HostCall;
const TRAILER = 8;

/** The sections of a snapshot (tag, payload offset and length); null if the bytes are no snapshot. */
export function snapshotSections(bytes: Uint8Array): { tag: number; offset: number; length: number }[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 + 4 + 32 + TRAILER || new TextDecoder().decode(bytes.subarray(0, 8)) !== 'HOVRSNAP') return null;
  let at = 16;
  at += 4 + view.getUint32(at, true) + 32; // VM version string, module hash
  const out: { tag: number; offset: number; length: number }[] = [];
  while (at + 8 <= bytes.length - TRAILER) {
    const tag = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    if (at + 8 + length > bytes.length - TRAILER) return null;
    out.push({ tag, offset: at + 8, length });
    at += 8 + length;
  }
  return out;
}

/** Whether the guest in the snapshot waits for a host call (section 10 is present). */
export function hasPendingHostCall(bytes: Uint8Array): boolean {
  return snapshotSections(bytes)?.some((s) => s.tag === HOST_CALL) ?? false;
}

/** The function index (an import's) of the host function the snapshot's guest waits for, or null. */
export function pendingHostCallFunc(bytes: Uint8Array): number | null {
  const s = snapshotSections(bytes)?.find((x) => x.tag === HOST_CALL);
  return s ? new DataView(bytes.buffer, bytes.byteOffset + s.offset, 4).getUint32(0, true) : null;
}

/** The host state the handover CLI keeps in a snapshot. */
export interface CliHostState {
  format: 'handover-cli';
  version: 1;
  /** Instructions the guest has executed so far, over every host (decimal). */
  instructions: string;
  /** Hosts the guest has run on, in order. */
  hosts: string[];
  wasi: WasiState;
}

export function encodeHostState(state: CliHostState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

/** A snapshot's host state claims to be the CLI's but does not hold what the CLI needs. */
export class HostStateError extends Error {
  override name = 'HostStateError';
}

/**
 * The CLI's host state, or null when the bytes are not one (another embedder's, or none). Host
 * state comes from a file like the rest of the snapshot, so one that says it is the CLI's is
 * checked field by field: a HostStateError names the first field that is missing or ill-typed.
 */
export function decodeHostState(bytes: Uint8Array): CliHostState | null {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null || (data as { format?: unknown }).format !== 'handover-cli') return null;
  const s = data as Record<string, unknown>;
  const bad = (field: string, want: string): never => {
    const got = s[field] === undefined ? 'it is missing' : `got ${JSON.stringify(s[field])?.slice(0, 40) ?? typeof s[field]}`;
    throw new HostStateError(`the host state's "${field}" must be ${want}, ${got}`);
  };
  if (s.version !== 1) bad('version', '1 (this handover reads version 1)');
  if (typeof s.instructions !== 'string' || !/^\d{1,20}$/.test(s.instructions) || BigInt(s.instructions) >= 1n << 64n) {
    bad('instructions', 'a decimal instruction count');
  }
  if (!Array.isArray(s.hosts) || !s.hosts.every((h) => typeof h === 'string')) bad('hosts', 'a list of host names');
  if (s.wasi === undefined) bad('wasi', 'a WASI state');
  try {
    checkState(s.wasi);
  } catch (e) {
    if (e instanceof StateError) throw new HostStateError(`the host state's "wasi" is ${e.message}`);
    throw e;
  }
  return data as CliHostState;
}

/** Function names (index space including imports) from a module's `name` section; empty if none. */
export function functionNames(module: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  let at = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = module[at++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80 || at >= module.length) return result;
    }
  };
  const utf8 = (len: number) => new TextDecoder().decode(module.subarray(at, (at += len)));
  try {
    while (at < module.length) {
      const id = module[at++];
      const size = leb();
      const end = at + size;
      if (id === 0 && utf8(leb()) === 'name') {
        while (at < end) {
          const sub = module[at++];
          const subSize = leb();
          const subEnd = at + subSize;
          if (sub === 1) {
            for (let n = leb(); n > 0; n--) {
              const index = leb();
              names.set(index, utf8(leb()));
            }
          }
          at = subEnd;
        }
      }
      at = end;
    }
  } catch {
    // a damaged name section only costs the names
  }
  return names;
}
