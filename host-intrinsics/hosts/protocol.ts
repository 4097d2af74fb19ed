// The parent's half of the handover protocol spoken with every remote engine (the other half is
// remote/core.js): encoding the two requests (load a module, run a snapshot with some fuel) and
// decoding the replies. Transports (child pipes, text lines, page.evaluate, in-process calls)
// only carry these byte strings.

import { encodeFuncType, type FuncType } from '../abi.js';

export type Reply =
  /** The guest waits for a host call (recorded in the snapshot): the parent serves it. */
  | { kind: 'host-call'; snapshot: Uint8Array }
  /** The guest ran out of fuel: suspended at a resumable point. */
  | { kind: 'fuel'; snapshot: Uint8Array }
  | { kind: 'completed'; fuel: bigint }
  | { kind: 'trap'; fuel: bigint; message: string };

/** A remote refused what it was sent (the VM's verdict on a snapshot): the input's fault. */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

/**
 * A remote failed by itself: a trap out of the VM, an answer the protocol or the ABI does not
 * allow, a crashed engine. A VM bug or a broken engine, never the user's mistake.
 */
export class RemoteFault extends Error {
  override name = 'RemoteFault';
}

const tag = (c: string) => c.charCodeAt(0);

export function loadMessage(module: Uint8Array, imports: readonly FuncType[]): Uint8Array {
  const types = imports.map((t) => encodeFuncType(t));
  const out = new Uint8Array(1 + 4 + types.reduce((n, t) => n + 4 + t.length, 0) + module.length);
  const view = new DataView(out.buffer);
  out[0] = tag('L');
  view.setUint32(1, types.length, true);
  let at = 5;
  for (const t of types) {
    view.setUint32(at, t.length, true);
    out.set(t, at + 4);
    at += 4 + t.length;
  }
  out.set(module, at);
  return out;
}

export function runMessage(snapshot: Uint8Array, fuel: bigint): Uint8Array {
  const out = new Uint8Array(1 + 8 + snapshot.length);
  out[0] = tag('R');
  new DataView(out.buffer).setBigUint64(1, fuel, true);
  out.set(snapshot, 9);
  return out;
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** The engine description a remote answers 'L' with. */
export function decodeLoaded(reply: Uint8Array): string {
  // Loading only stores the module, so even a refusal here means the remote is broken.
  if (reply[0] === tag('E') || reply[0] === tag('X')) throw new RemoteFault(text(reply.subarray(1)));
  if (reply[0] !== tag('K')) throw new RemoteFault(`unexpected reply ${JSON.stringify(String.fromCharCode(reply[0]))} to load`);
  return text(reply.subarray(1));
}

export function decodeReply(reply: Uint8Array): Reply {
  const body = reply.subarray(1);
  const fuel = () => new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0, true);
  switch (String.fromCharCode(reply[0])) {
    case 'H': return { kind: 'host-call', snapshot: body.slice() };
    case 'F': return { kind: 'fuel', snapshot: body.slice() };
    case 'C': return { kind: 'completed', fuel: fuel() };
    case 'T': return { kind: 'trap', fuel: fuel(), message: text(body.subarray(8)) };
    case 'E': throw new RemoteError(text(body));
    case 'X': throw new RemoteFault(text(body));
    default: throw new RemoteFault(`unexpected reply ${JSON.stringify(String.fromCharCode(reply[0]))}`);
  }
}
