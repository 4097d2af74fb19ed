// What survives: a node killed with -9 (its workloads resume elsewhere from their last checkpoint),
// a node that leaves with no other node to take its workload (checkpointed, resumed by the next
// node to join), a NATS server restarted mid-run, and a closed cluster (credentials required).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import { decode, encode, seal } from '../../host-intrinsics/cluster/bus.js';
import { CLI, Cluster, waitFor, type Proc } from './harness.js';

// Whole guests run and move in each test, on a 2-core machine shared with the other test files.
vi.setConfig({ testTimeout: 120_000 });

function local(module: string, args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', module, ...args], { encoding: 'latin1' });
  return { code: r.status, stdout: r.stdout };
}

async function started(client: Proc, ticks: number): Promise<void> {
  await waitFor(`tick ${ticks}`, () => client.stdout().includes(`tick ${ticks} `) || client.child.exitCode !== null);
}

/** Waits until `ps` shows a checkpoint of `id`. */
async function checkpointed(c: Cluster, id: string): Promise<void> {
  await waitFor(`a checkpoint of ${id}`, async () => (await c.cli(['ps'])).stdout.split('\n').some((l) => new RegExp(`^${id}\\s+\\S+\\s+running\\s+\\d+\\s+[\\d.]+ MiB\\s+\\d+s ago`).test(l)));
}

let ticker: string;

describe('node failures', () => {
  let cluster: Cluster;
  let heir: Proc;
  beforeAll(async () => {
    cluster = await Cluster.start();
    ticker = await cluster.ticker();
    heir = await cluster.node('heir1');
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  const args = ['40', '4', '64', '2000000'];

  it('kill -9 with --checkpoint-every --exactly-once: another node resumes it, output exactly a local run\'s', async () => {
    const expected = local(ticker, args);
    const doomed = await cluster.node('doomed1');
    const client = cluster.client(['run', '--on', 'doomed1', '--id', 'exact', '--checkpoint-every', '0.5', '--exactly-once', ticker, ...args]);
    await started(client, 3);
    await checkpointed(cluster, 'exact');
    doomed.child.kill('SIGKILL');
    expect(await client.exited).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
    expect(client.stderr()).toMatch(/^handover: exact resumed on heir1 from its checkpoint of \S+ \(node doomed1 is gone\)\n$/);
  });

  it('kill -9 with --checkpoint-every: resumed elsewhere, the output since the checkpoint repeated, and the client told so', async () => {
    const expected = local(ticker, args);
    const doomed = await cluster.node('doomed2');
    const client = cluster.client(['run', '--on', 'doomed2', '--id', 'again', '--checkpoint-every', '0.5', ticker, ...args]);
    await started(client, 3);
    await checkpointed(cluster, 'again');
    doomed.child.kill('SIGKILL');
    expect(await client.exited).toBe(expected.code);
    expect(client.stderr()).toMatch(/^handover: again resumed on heir1 from its checkpoint of \S+ \(node doomed2 is gone\); the output since that checkpoint is repeated\n$/);
    // What was shown: a prefix of the run, then the run again from a checkpoint's place on.
    const out = client.stdout();
    const extra = out.length - expected.stdout.length;
    expect(extra).toBeGreaterThan(0);
    const cut = [...Array(expected.stdout.length + 1).keys()].find((a) => a >= extra && out === expected.stdout.slice(0, a) + expected.stdout.slice(a - extra));
    expect(cut).toBeDefined();
  });

  it('a node cut off from the cluster stops its guest before another takes it over, and stands down when it is back', async () => {
    expect(cluster.netns, 'cutting a link needs network namespaces: run the tests as root with iproute2').toBe(true);
    const expected = local(ticker, args);
    const cut = await cluster.node('cutoff');
    const client = cluster.client(['run', '--on', 'cutoff', '--id', 'fenced', '--checkpoint-every', '0.5', '--exactly-once', ticker, ...args]);
    await started(client, 3);
    await checkpointed(cluster, 'fenced');
    expect(cluster.cutLink('cutoff')).toBe(true);
    await waitFor('the cut node to hold its guest', () => /cutoff: no heartbeat stored for [\d.]+ s: its workloads wait/.test(cut.stderr()));
    // The node's lease, the cluster's verdict and loading the checkpoint, on a 2-core machine shared with other test files.
    await waitFor('heir1 to take it over', () => /handover: fenced resumed on heir1/.test(client.stderr()), 60_000)
      .catch((e: Error) => { throw new Error(`${e.message}\nheir1: ${heir.stderr()}\ncutoff: ${cut.stderr()}\nclient: ${client.stderr()}`); });
    expect(cluster.restoreLink('cutoff')).toBe(true);
    expect(await client.exited).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
    // Back on the server, it asks the owner record before its guest runs again, and stands down;
    // or, when the guest ended within the lease it still had after the cut, leaves the end to heir1.
    const stoodDown = /fenced: (stopped here, another node took it over|ended here, but another node took it over meanwhile)/;
    await waitFor('the cut node to stand down', () => stoodDown.test(cut.stderr()), 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}\ncutoff: ${cut.stderr()}`); });
    // Out of the way of the tests below, which count the nodes.
    cut.child.kill('SIGKILL');
    await cut.exited;
  });

  it('kill -9 without checkpoints: the workload is reported lost, with one line', async () => {
    const doomed = await cluster.node('doomed3');
    const client = cluster.client(['run', '--on', 'doomed3', '--id', 'gone', ticker, ...args]);
    await started(client, 2);
    doomed.child.kill('SIGKILL');
    expect(await client.exited).toBe(1);
    expect(client.stderr()).toBe('error: workload gone was lost: node doomed3 is gone and no checkpoint of it exists (run --checkpoint-every keeps one)\n');
    expect((await cluster.cli(['ps'])).stdout).toMatch(/\ngone\s+\S+\s+lost/);
  });

  it('SIGTERM with no other node: checkpointed, and the next node to join resumes it', async () => {
    const expected = local(ticker, args);
    // heir1 is the other node here: it goes first, with nothing to hand on.
    heir.child.kill('SIGTERM');
    expect(await heir.exited).toBe(0);
    const last = await cluster.node('last');
    const client = cluster.client(['run', '--on', 'last', '--id', 'parked', ticker, ...args]);
    await started(client, 4);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    expect(last.stderr()).toMatch(/parked: no node took it; checkpointed into JetStream/);
    const next = await cluster.node('next');
    expect(await client.exited, `${client.stderr()}${next.stderr()}`).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
    expect(client.stderr()).toMatch(/^handover: parked resumed on next from its checkpoint of \S+ \(node last is gone\)\n$/);
  }, 120_000);
});

describe('a NATS server restarted mid-run', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start();
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('nodes and the client reconnect, and the workload finishes with all its output', async () => {
    const module = await cluster.ticker();
    const node = await cluster.node('steady');
    const args = ['40', '1', '16', '2000000'];
    const expected = local(module, args);
    const client = cluster.client(['run', '--on', 'steady', '--id', 'survivor', module, ...args]);
    await started(client, 3);
    await cluster.killServer();
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.startServer();
    await waitFor('the node to reconnect', () => node.stderr().includes('reconnected to NATS'));
    expect(await client.exited).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
  });
});

describe('a closed cluster', () => {
  let cluster: Cluster;
  let key: string;
  let guarded: Proc;
  beforeAll(async () => {
    cluster = await Cluster.start({ auth: { user: 'handover', pass: 's3cret-pass' } });
    ticker = await cluster.ticker();
    key = path.join(cluster.dir, 'cluster.key');
    writeFileSync(key, randomBytes(32));
    guarded = await cluster.node('guarded', '--key', key);
    await cluster.node('warden', '--key', key);
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('clients without credentials, or with wrong ones, are refused with one line; with them, runs', async () => {
    const none = await cluster.cli(['ps'], { NO_CREDS: '1' });
    expect(none).toMatchObject({ code: 1, stderr: `error: the NATS server at ${cluster.url} refused the credentials\n` });
    const wrong = path.join(cluster.dir, 'wrong.creds');
    writeFileSync(wrong, 'handover:guess\n');
    expect((await cluster.cli(['run', '--on', 'guarded', '--creds', wrong, ticker, '3'])).stderr).toBe(`error: the NATS server at ${cluster.url} refused the credentials\n`);
    const ok = await cluster.cli(['run', '--on', 'guarded', '--id', 'allowed', ticker, '3', '1', '16', '1000']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(local(ticker, ['3', '1', '16', '1000']).stdout);
  });

  it('moves between keyed nodes work; move messages without the key, or forged, are refused and change nothing', async () => {
    const args = ['60', '2', '16', '2000000'];
    const expected = local(ticker, args);
    const client = cluster.client(['run', '--on', 'guarded', '--creds', cluster.creds!, '--id', 'sealed', ticker, ...args]);
    await started(client, 2);
    const nc = await connect({ servers: cluster.url, user: 'handover', pass: 's3cret-pass' });
    try {
      const refusal = async (data: Uint8Array, node = 'warden'): Promise<unknown> => {
        const r = await nc.request(`handover.node.${node}.mig`, data, { timeout: 5000 });
        return decode(r.data)?.meta.error;
      };
      // Anyone on the server sees the sealed messages of a move: each copy sent again is refused,
      // the first page piece while the move is still going on.
      const seen: { op: string; data: Uint8Array }[] = [];
      let replayed: Promise<unknown> | undefined;
      const tap = nc.subscribe('handover.node.warden.mig');
      void (async () => {
        for await (const m of tap) {
          const op = String(decode(m.data.subarray(0, m.data.length - 32))?.meta.op);
          seen.push({ op, data: m.data.slice() });
          if (op === 'pages' && !replayed) replayed = refusal(m.data);
        }
      })();
      const moved = await cluster.cli(['move', 'sealed', '--to', 'warden']);
      expect(moved.code, moved.stderr).toBe(0);
      tap.unsubscribe();
      expect(await replayed).toMatch(/^node warden refuses message \d+ of move \S+: it came before \(a replayed message\)$/);
      const begin0 = seen.find((m) => m.op === 'begin')!.data;
      expect(await refusal(begin0)).toMatch(/^node warden refuses move \S+: it began before \(a replayed message\)$/);
      expect(await refusal(begin0, 'guarded')).toBe('node guarded refuses a move message for node warden');
      const begin = encode({ mid: 'forged', op: 'begin', id: 'evil', memory: 0 }, new Uint8Array(8));
      expect(await refusal(begin)).toBe('node warden refuses a move message that is not sealed with this cluster\'s key');
      expect(await refusal(seal(begin, randomBytes(32)))).toBe('node warden refuses a move message that is not sealed with this cluster\'s key');
      const final = encode({ mid: 'forged', op: 'final', revision: 1, carried: { written: [0, 0] } }, new Uint8Array(64));
      expect(await refusal(final)).toBe('node warden refuses a move message that is not sealed with this cluster\'s key');
      // Garbage on every subject of a node: each refused, the node unharmed.
      for (const op of ['run', 'stop', 'move', 'mig', 'info', 'nonsense']) {
        const r = await nc.request(`handover.node.warden.${op}`, randomBytes(100), { timeout: 5000 });
        expect(typeof decode(r.data)?.meta.error).toBe('string');
      }
    } finally {
      await nc.close();
    }
    expect(await client.exited).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
    expect((await cluster.cli(['ps'])).stdout).not.toMatch(/\nevil\s/);
  });

  it('a checkpoint object replaced by another sealed one is refused: the owner record pins each object', async () => {
    const keeper = await cluster.node('keeper', '--key', key);
    const args = ['40', '2', '16', '2000000'];
    const expected = local(ticker, args);
    const run = (id: string) => cluster.client(['run', '--on', 'keeper', '--creds', cluster.creds!, '--id', id, '--checkpoint-every', '0.5', ticker, ...args]);
    const kept = run('pinned-a');
    const swapped = run('pinned-b');
    await Promise.all([started(kept, 2), started(swapped, 2)]);
    await Promise.all([checkpointed(cluster, 'pinned-a'), checkpointed(cluster, 'pinned-b')]);
    keeper.child.kill('SIGKILL');
    // Each of pinned-b's objects becomes pinned-a's of the same generation: sealed with the key,
    // of the same module, but not what pinned-b's owner record names.
    const nc = await connect({ servers: cluster.url, user: 'handover', pass: 's3cret-pass' });
    let replaced = 0;
    try {
      const os = await new Objm(nc).open('handover-checkpoints');
      for (const info of await os.list()) {
        if (!/^pinned-b\.\d+$/.test(info.name)) continue;
        const other = await os.getBlob(info.name.replace('pinned-b', 'pinned-a'));
        if (!other) continue;
        await os.putBlob({ name: info.name }, other);
        replaced++;
      }
    } finally {
      await nc.close();
    }
    expect(replaced).toBeGreaterThan(0);
    expect(await swapped.exited).toBe(1);
    expect(swapped.stderr()).toMatch(/^error: workload pinned-b was lost: node keeper is gone and its checkpoint is refused \(the checkpoint object pinned-b\.\d+ is not the one the owner record of pinned-b names \(another object was put in its place\)\)\n$/);
    expect(await kept.exited).toBe(expected.code);
    expect(kept.stdout().length).toBeGreaterThanOrEqual(expected.stdout.length);
    expect(kept.stderr()).toMatch(/resumed on \S+ from its checkpoint/);
  });

  it('a tampered checkpoint is refused: the workload is reported lost, not resumed from forged state', async () => {
    const client = cluster.client(['run', '--on', 'guarded', '--creds', cluster.creds!, '--id', 'tampered', '--checkpoint-every', '0.5', ticker, '40', '2', '16', '2000000']);
    await started(client, 2);
    await checkpointed(cluster, 'tampered');
    guarded.child.kill('SIGKILL');
    const nc = await connect({ servers: cluster.url, user: 'handover', pass: 's3cret-pass' });
    try {
      const os = await new Objm(nc).open('handover-checkpoints');
      for (const info of await os.list()) {
        if (!info.name.startsWith('tampered.') || info.name === 'tampered.module') continue;
        const data = (await os.getBlob(info.name))!;
        data[data.length >> 1] ^= 1;
        await os.putBlob({ name: info.name }, data);
      }
    } finally {
      await nc.close();
    }
    expect(await client.exited).toBe(1);
    expect(client.stderr()).toMatch(/^error: workload tampered was lost: node guarded is gone and its checkpoint is refused \(the checkpoint object tampered\.\d+ is not sealed with this cluster's key\)\n$/);
  });
});
