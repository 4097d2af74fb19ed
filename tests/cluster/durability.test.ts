// What survives: a node killed with -9 (its workloads resume elsewhere from their last checkpoint),
// a node that leaves with no other node to take its workload (checkpointed, resumed by the next
// node to join), a NATS server restarted mid-run, and a closed cluster (credentials required).

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickerModule } from '../../bench/ticker.js';
import { CLI, Cluster, waitFor, type Proc } from './harness.js';

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
    ticker = path.join(cluster.dir, 'ticker.wasm');
    writeFileSync(ticker, await tickerModule());
    heir = await cluster.node('heir1');
  });
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
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('nodes and the client reconnect, and the workload finishes with all its output', async () => {
    const module = path.join(cluster.dir, 'ticker.wasm');
    writeFileSync(module, await tickerModule());
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
  beforeAll(async () => {
    cluster = await Cluster.start({ auth: { user: 'handover', pass: 's3cret-pass' } });
    ticker = path.join(cluster.dir, 'ticker.wasm');
    writeFileSync(ticker, await tickerModule());
    await cluster.node('guarded');
  });
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
});
