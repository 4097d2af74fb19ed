// Hostile cluster messages: the messages of a real run and move between two nodes, captured on the
// server, are mutated with fixed seeds (fields dropped, given other types, huge or negative
// numbers, paths out of the node's directory, long strings; bodies flipped, cut and grown; headers
// broken) and sent again to every operation of the nodes. Each must be answered with a handover
// message, a refusal being one line that names what is wrong, not a JavaScript error; afterwards
// both nodes are alive, logged no stack trace, wrote nothing outside their directories, and run
// and move a workload as before. `HANDOVER_FUZZ_SEEDS=N` sends more.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from '../../host-intrinsics/cluster/bus.js';
import { Rng } from '../fuzz/rng.js';
import { CLI, Cluster, waitFor, type Proc } from './harness.js';

vi.setConfig({ testTimeout: 240_000 });

const MUTANTS = Number(process.env.HANDOVER_FUZZ_SEEDS ?? 200);
const OPS = ['run', 'stop', 'move', 'mig', 'info'];
// A path no node may create: mutants name it wherever a message carries a path or an id.
const ESCAPE = path.join(tmpdir(), `handover-escape-${process.pid}`);

/** What a node answered with that is a JavaScript error escaping, not a refusal. */
const LEAKED = /Cannot (read|set) propert|is not (a function|iterable|defined)|undefined|\bNaN\b|Invalid (typed )?array length|out of range|Maximum call stack|Unexpected (token|end)|\[object Object\]|internal error/;

const HOSTILE: unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 53 + 1, -(2 ** 31), 1e308, '', 'x'.repeat(70_000), '../../../..' + ESCAPE, ESCAPE,
  '\u0000', 'a.b.>', '*', [], [1, 2], ['../x'], {}, { __proto__: { polluted: 1 } }, { written: [-1, 1e12] }, '-1', '1e400',
];

interface Captured { op: string; data: Uint8Array }

function mutate(rng: Rng, m: Captured): { op: string; data: Uint8Array; what: string } {
  const op = rng.chance(0.15) ? rng.pick(OPS) : m.op;
  const msg = decode(m.data);
  if (!msg || rng.chance(0.1)) {
    // The raw bytes: a cut, a bogus header length, flipped bytes.
    const d = m.data.slice(0, rng.below(m.data.length + 1));
    if (d.length >= 4 && rng.chance(0.5)) new DataView(d.buffer, d.byteOffset).setUint32(0, rng.pick([0, 1, d.length, 0xffffffff]), true);
    for (let i = 0; i < rng.below(4) && d.length > 0; i++) d[rng.below(d.length)] ^= 1 << rng.below(8);
    return { op, data: d, what: `raw bytes of ${m.op} cut to ${d.length}` };
  }
  const meta: Record<string, unknown> = { ...msg.meta };
  const keys = Object.keys(meta);
  const changes: string[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) {
    const k = keys.length > 0 && rng.chance(0.85) ? rng.pick(keys) : rng.pick(['op', 'id', 'mid', 'to', 'seq', 'at', 'memory', 'dirs', 'files', 'path', 'revision']);
    if (rng.chance(0.2)) {
      delete meta[k];
      changes.push(`-${k}`);
    } else {
      meta[k] = rng.pick(HOSTILE);
      changes.push(`${k}=${JSON.stringify(meta[k])?.slice(0, 40)}`);
    }
  }
  let body = msg.body.slice();
  if (rng.chance(0.4)) {
    const how = rng.below(3);
    if (how === 0) body = body.slice(0, rng.below(body.length + 1));
    else if (how === 1) body = new Uint8Array([...body, ...rng.bytes(rng.range(1, 4096))]);
    else for (let i = 0; i < rng.range(1, 8) && body.length > 0; i++) body[rng.below(body.length)] ^= 1 << rng.below(8);
    changes.push(`body ${['cut', 'grown', 'flipped'][how]}`);
  }
  return { op, data: encode(meta, body), what: `${m.op} → ${op}: ${changes.join(', ')}` };
}

function local(module: string, args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', module, ...args], { encoding: 'latin1' });
  return { code: r.status, stdout: r.stdout };
}

describe('hostile cluster messages', () => {
  let cluster: Cluster;
  let alpha: Proc;
  let beta: Proc;
  let ticker: string;
  let nc: NatsConnection;
  const captured: Captured[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start();
    ticker = await cluster.ticker();
    alpha = await cluster.node('alpha');
    beta = await cluster.node('beta');
    nc = await connect({ servers: cluster.url });
    const tap = nc.subscribe('handover.node.*.*');
    void (async () => {
      // A copy: the client's data is a Buffer, whose slice() is a view.
      for await (const m of tap) captured.push({ op: m.subject.slice(m.subject.lastIndexOf('.') + 1), data: new Uint8Array(m.data) });
    })();
  }, 120_000);
  afterAll(async () => {
    await nc?.close();
    await cluster?.close();
  });

  async function runAndMove(id: string): Promise<void> {
    const args = ['30', '2', '16', '2000000'];
    const expected = local(ticker, args);
    const client = cluster.client(['run', '--on', 'alpha', '--id', id, ticker, ...args]);
    await waitFor('tick 2', () => client.stdout().includes('tick 2 ') || client.child.exitCode !== null);
    const moved = await cluster.cli(['move', id, '--to', 'beta']);
    expect(moved.code, moved.stderr).toBe(0);
    const info = await cluster.cli(['nodes']);
    expect(info.code, info.stderr).toBe(0);
    expect(await client.exited).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
  }

  it('each mutant of a real run and move is answered, refusals in one line; the nodes run and move as before', async () => {
    await runAndMove('original');
    const real = captured.splice(0);
    for (const op of ['run', 'move', 'mig']) expect(real.map((m) => m.op)).toContain(op);
    const rng = new Rng(20261204);
    const odd: string[] = [];
    let refused = 0;
    // The move's own messages, in order: begin, the module's pieces, then pages and the rest.
    const move = real.filter((m) => m.op === 'mig').map((m) => decode(m.data)!);
    const begin = move.find((m) => m.meta.op === 'begin')!;
    const module = move.filter((m) => m.meta.op === 'blob' && m.meta.what === 'module');
    const dest = String(begin.meta.to);
    const toDest = async (meta: object, body: Uint8Array): Promise<void> => {
      const r = decode((await nc.request(`handover.node.${dest}.mig`, encode(meta, body), { timeout: 10_000 })).data);
      if (typeof r?.meta.error === 'string') odd.push(`${JSON.stringify(meta).slice(0, 80)}: ${r.meta.error}`);
    };
    for (let i = 0; i < MUTANTS; i++) {
      let original = rng.pick(real);
      let node = rng.pick(['alpha', 'beta']);
      const inner = original.op === 'mig' ? decode(original.data)! : null;
      // Most later messages of a move go to a move begun just before, its module sent (both
      // unmutated), so that mutated pages, files and final snapshots reach the code that reads
      // them; an abort ends that move after.
      const mid = `fuzz-${i}`;
      const fresh = inner !== null && inner.meta.op !== 'begin' && rng.chance(0.8);
      if (fresh) {
        await toDest({ ...begin.meta, mid, at: Date.now() }, begin.body);
        if (inner.meta.what !== 'module') for (const piece of module) await toDest({ ...piece.meta, mid }, piece.body);
        original = { op: 'mig', data: encode({ ...inner.meta, mid }, inner.body) };
        node = dest;
      }
      const m = mutate(rng, original);
      // What the server itself refuses (over its 1 MiB payload) never reaches a node.
      if (m.data.length > nc.info!.max_payload) continue;
      let reply;
      try {
        reply = await nc.request(`handover.node.${node}.${m.op}`, m.data, { timeout: 10_000 });
      } catch (e) {
        odd.push(`${m.what} to ${node}: no answer (${(e as Error).message})`);
        continue;
      }
      const answer = decode(reply.data);
      if (!answer) {
        odd.push(`${m.what} to ${node}: a reply that is no handover message`);
        continue;
      }
      // (A final, taken or refused, has ended the move already.)
      if (fresh) await nc.request(`handover.node.${dest}.mig`, encode({ mid, to: dest, seq: 1_000_000, op: 'abort' }), { timeout: 10_000 });
      const error = answer.meta.error;
      if (error === undefined) continue;
      refused++;
      if (typeof error !== 'string' || error.includes('\n') || error.length > 400 || LEAKED.test(error)) odd.push(`${m.what} to ${node}: ${JSON.stringify(error).slice(0, 300)}`);
    }
    expect(odd).toEqual([]);
    expect(refused).toBeGreaterThan(MUTANTS / 2);
    for (const [name, p] of [['alpha', alpha], ['beta', beta]] as const) {
      expect(p.child.exitCode, `${name}: ${p.stderr()}`).toBeNull();
      expect(p.stderr(), name).not.toMatch(/\n\s+at |internal error/);
    }
    expect(existsSync(ESCAPE)).toBe(false);
    await runAndMove('after');
  });
});
