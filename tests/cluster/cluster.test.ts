// The cluster, for real: nats-server, node agents as processes (in their own network namespaces
// where the machine allows), clients as processes. A workload moved between nodes must print
// exactly what a local run prints and exit with the same code.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI, Cluster, waitFor, type Proc } from './harness.js';

// Whole guests run and move in each test, on a 2-core machine shared with the other test files.
vi.setConfig({ testTimeout: 120_000 });

const fixture = (name: string) => path.resolve('tests/fixtures', `${name}.wasm`);

function local(module: string, args: string[], env: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', ...env.flatMap((e) => ['--env', e]), module, ...args], { encoding: 'latin1' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A directory's files and their contents, by relative path. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const sub = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(dir, sub)).isDirectory()) Object.assign(out, { [`${sub}/`]: '' }, tree(dir, sub));
    else out[sub] = readFileSync(path.join(dir, sub), 'latin1');
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ticker: string;
let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start();
  ticker = await cluster.ticker();
  await cluster.node('edge');
  await cluster.node('cloud');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

async function moveOk(id: string, to: string): Promise<string> {
  const r = await cluster.cli(['move', id, '--to', to]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^moved ${id} from \\S+ to ${to}: \\d+ rounds, [\\d.]+ MiB sent, total [\\d.]+ ms, downtime [\\d.]+ ms\\n$`));
  return r.stdout;
}

/** Waits until the workload has started (its record says running on some node). */
async function running(id: string): Promise<void> {
  await waitFor(`${id} to run`, async () => (await cluster.cli(['ps'])).stdout.split('\n').some((l) => l.startsWith(`${id} `) && l.includes('running')));
}

describe('live handover between nodes', () => {
  const cases: { name: string; module: () => string; args: string[]; env?: string[] }[] = [
    { name: 'ticker (1 MiB, slow writes)', module: () => ticker, args: ['40', '1', '16', '4000000'] },
    { name: 'intarray', module: () => fixture('intarray'), args: ['300000'] },
    { name: 'recursion', module: () => fixture('recursion'), args: ['400'] },
    { name: 'args (exit code 3, env)', module: () => fixture('args'), args: ['3', 'hello', 'two words'], env: ['HANDOVER_GREETING=hi', 'LANG=C'] },
  ];
  for (const [n, c] of cases.entries()) {
    it(`run on edge → move to cloud → move back: ${c.name} prints and exits as a local run`, async () => {
      const expected = local(c.module(), c.args, c.env);
      const id = `same-${n}`;
      const client = cluster.client(['run', '--on', 'edge', '--id', id, ...(c.env ?? []).flatMap((e) => ['--env', e]), c.module(), ...c.args]);
      if (c.name.startsWith('args')) {
        // Too short to move: it runs to its end on the node.
        expect(await client.exited).toBe(expected.code);
      } else {
        await running(id);
        await sleep(50 + Math.floor(Math.random() * 400));
        await moveOk(id, 'cloud');
        await sleep(Math.floor(Math.random() * 300));
        await moveOk(id, 'edge');
        expect(await client.exited).toBe(expected.code);
      }
      expect(client.stdout()).toBe(expected.stdout);
      expect(client.stderr()).toBe(expected.stderr);
    });
  }

  it('a guest that writes memory fast (16 MiB, 2000 blocks a tick) moves and comes back whole', async () => {
    const args = ['60', '16', '1000', '2000000'];
    const expected = local(ticker, args);
    const client = cluster.client(['run', '--on', 'edge', '--id', 'fast', ticker, ...args]);
    await running('fast');
    await sleep(300);
    await moveOk('fast', 'cloud');
    await moveOk('fast', 'edge');
    expect(await client.exited).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
  });

  it('detach, ps, nodes, attach from the start, and Ctrl-C stops the workload (exit 130)', async () => {
    const args = ['400', '1', '16', '2000000'];
    const detached = await cluster.cli(['run', '--on', 'cloud', '--id', 'bg', '--detach', ticker, ...args]);
    expect(detached).toMatchObject({ code: 0, stdout: '', stderr: 'handover: workload bg on cloud\n' });
    await running('bg');
    // Counts come from the node's advert, stored every second.
    const row = /^bg\s+cloud\s+running\s+\d+\s+1\.1 MiB\s+-\s+\d+s ago$/m;
    await waitFor('ps to show the counts of bg', async () => row.test((await cluster.cli(['ps'])).stdout));
    const ps = (await cluster.cli(['ps'])).stdout.split('\n');
    expect(ps[0]).toMatch(/^ID\s+NODE\s+STATE\s+INSTRUCTIONS\s+MEMORY\s+CHECKPOINT\s+SINCE$/);
    expect(ps.find((l) => l.startsWith('bg '))).toMatch(/^bg\s+cloud\s+running\s+\d+\s+1\.1 MiB\s+-\s+\d+s ago$/);
    const nodes = (await cluster.cli(['nodes'])).stdout;
    expect(nodes).toMatch(/^NAME\s+ENGINE\s+WORKLOADS\s+FREE MEMORY\s+LIMITS\s+SEEN\n/);
    expect(nodes).toMatch(/\ncloud\s+node v20[^\n]*VM interpreting\s+\d+\s+[\d.]+ MiB\s+16 workloads, 4096 MiB\s+\d+s ago\n/);
    expect(nodes).toMatch(/\nedge\s/);
    const attached = cluster.client(['attach', 'bg']);
    await waitFor('output to arrive', () => attached.stdout().includes('tick 3 '));
    // From the start, whenever it attached.
    expect(attached.stdout().startsWith('tick 0 ')).toBe(true);
    attached.child.kill('SIGINT');
    expect(await attached.exited).toBe(130);
    expect(attached.stderr()).toBe('handover: the workload was stopped\n');
    await waitFor('bg to be stopped', async () => (await cluster.cli(['ps'])).stdout.split('\n').some((l) => /^bg\s+cloud\s+stopped/.test(l)));
    const lines = attached.stdout().split('\n');
    expect(lines.pop()).toBe('');
    lines.forEach((l, t) => expect(l).toMatch(new RegExp(`^tick ${t} \\d+$`)));
  });

  const failures = [
    { how: 'killed', node: 'victim', fail: (p: Proc) => void p.child.kill('SIGKILL') },
    {
      how: 'cut off (its link down)', node: 'island', fail: () => {
        expect(cluster.netns, 'cutting a link needs network namespaces: run the tests as root with iproute2').toBe(true);
        expect(cluster.cutLink('island')).toBe(true);
      },
    },
  ];
  for (const f of failures) {
    it(`the destination ${f.how} mid-move: the move fails, the workload runs on at the source, nothing lost`, async () => {
      const dest = await cluster.node(f.node);
      const id = `kept-${f.node}`;
      const args = ['30', '64', '64', '1000000'];
      const expected = local(ticker, args);
      const client = cluster.client(['run', '--on', 'edge', '--id', id, ticker, ...args]);
      await running(id);
      const moving = cluster.cli(['move', id, '--to', f.node]);
      await waitFor(`${f.node} to receive`, () => dest.stderr().includes(`${id}: receiving`));
      f.fail(dest);
      const r = await moving;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: move of ${id} to ${f.node} failed, it runs on at edge: .+\\n$`));
      expect(await client.exited).toBe(expected.code);
      expect(client.stdout()).toBe(expected.stdout);
    });
  }

  it('limits: a node over --max-workloads, --max-memory or --max-fuel refuses with one line, and nothing changes', async () => {
    await cluster.node('tiny', '--max-workloads', '1', '--max-memory', '8');
    const one = cluster.client(['run', '--on', 'tiny', '--id', 'first', ticker, '200', '1', '16', '2000000']);
    await running('first');
    const two = await cluster.cli(['run', '--on', 'tiny', '--id', 'second', ticker]);
    expect(two).toMatchObject({ code: 1, stderr: 'error: node tiny runs its maximum of 1 workloads\n' });
    const big = cluster.client(['run', '--on', 'edge', '--id', 'big', ticker, '200', '16', '16', '2000000']);
    await running('big');
    await cluster.node('small', '--max-memory', '8');
    const refused = await cluster.cli(['move', 'big', '--to', 'small']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: move of big to small failed, it runs on at edge: node small has \d+ MiB of its --max-memory 8 free, the workload needs 17 MiB\n$/);
    expect((await cluster.cli(['ps'])).stdout).toMatch(/\nbig\s+edge\s+running/);
    // Fuel: a workload past a node's --max-fuel ends with a trap there, and one past it is not taken in.
    await cluster.node('meter', '--max-fuel', '50000000');
    const metered = await cluster.cli(['run', '--on', 'meter', '--id', 'metered', ticker, '200', '1', '16', '2000000']);
    expect(metered).toMatchObject({ code: 134, stderr: "trap: out of fuel: node meter's --max-fuel of 50000000 instructions is used up\n" });
    expect(metered.stdout).toMatch(/^tick 0 /);
    await waitFor('big to pass 50000000 instructions', async () => /\nbig\s+edge\s+running\s+(\d{9,}|[5-9]\d{7})\s/.test((await cluster.cli(['ps'])).stdout));
    const past = await cluster.cli(['move', 'big', '--to', 'meter']);
    expect(past.stderr).toMatch(/^error: move of big to meter failed, it runs on at edge: workload big has executed \d+ instructions, node meter's --max-fuel is 50000000\n$/);
    for (const [id, c] of [['first', one], ['big', big]] as const) {
      expect((await cluster.cli(['move', id, '--to', 'cloud'])).code).toBe(0);
      c.child.kill('SIGINT');
      expect(await c.exited).toBe(130);
    }
  });

  it('SIGTERM: a leaving node hands its workload to another, and the output goes on unbroken', async () => {
    const leaving = await cluster.node('leaving');
    const args = ['60', '2', '16', '1500000'];
    const expected = local(ticker, args);
    const client = cluster.client(['run', '--on', 'leaving', '--id', 'handed', ticker, ...args]);
    await waitFor('output', () => client.stdout().includes('tick 2 '));
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited, leaving.stderr()).toBe(0);
    expect(leaving.stderr()).toMatch(/handed: handed to \S+ \(downtime/);
    expect(await client.exited, client.stderr()).toBe(expected.code);
    expect(client.stdout()).toBe(expected.stdout);
  });

  it('--dir: the directory goes with the workload, its open files across moves, and comes back as after a local run', async () => {
    // fileio removes leftovers of an interrupted run (fio/…) and works in fio/ while it runs.
    const box = (name: string) => {
      const d = path.join(cluster.dir, name);
      mkdirSync(path.join(d, 'fio', 'sub'), { recursive: true });
      writeFileSync(path.join(d, 'keep.txt'), 'kept\n');
      writeFileSync(path.join(d, 'fio', 'notes.txt'), 'left over\n');
      writeFileSync(path.join(d, 'fio', 'sub', 'a.txt'), randomBytes(5000));
      return d;
    };
    const here = box('box-local');
    const there = box('box-remote');
    cpSync(path.join(here, 'fio', 'sub', 'a.txt'), path.join(there, 'fio', 'sub', 'a.txt'));
    const args = ['/sandbox', '30000'];
    const r = spawnSync(process.execPath, [CLI, 'run', '--dir', `${here}::/sandbox`, fixture('fileio'), ...args], { encoding: 'latin1' });
    const client = cluster.client(['run', '--on', 'edge', '--id', 'files', '--dir', `${there}::/sandbox`, fixture('fileio'), ...args]);
    await running('files');
    await sleep(300);
    expect(client.child.exitCode, `${client.stdout().slice(-300)}${client.stderr()}`).toBe(null);
    await moveOk('files', 'cloud');
    await moveOk('files', 'edge');
    expect(await client.exited).toBe(r.status);
    expect(client.stdout()).toBe(r.stdout);
    expect(tree(there)).toEqual(tree(here));
    expect(tree(there)).toEqual({ 'keep.txt': 'kept\n' });
  });

  it('node --dir: a directory of the node, preopened for its workloads, stays there; a move goes only to a node that has one of that name', async () => {
    const data = (name: string) => {
      const d = path.join(cluster.dir, name);
      mkdirSync(d);
      return d;
    };
    const here = data('data-local');
    const a = data('data-a');
    const b = data('data-b');
    await cluster.node('store-a', '--dir', `${a}::/data`);
    await cluster.node('store-b', '--dir', `${b}::/data`);
    const args = ['/data', '30000'];
    const r = spawnSync(process.execPath, [CLI, 'run', '--dir', `${here}::/data`, fixture('fileio'), ...args], { encoding: 'latin1' });
    const client = cluster.client(['run', '--on', 'store-a', '--id', 'shared', fixture('fileio'), ...args]);
    await running('shared');
    const refused = await cluster.cli(['move', 'shared', '--to', 'cloud']);
    expect(refused).toMatchObject({ code: 1, stderr: 'error: move of shared to cloud failed, it runs on at store-a: node cloud has no --dir for /data, which workload shared has preopened\n' });
    // fileio works in /data/fio while it runs: in the node's own directory, which does not travel.
    expect(readdirSync(a)).toEqual(['fio']);
    expect(readdirSync(b)).toEqual([]);
    expect(await client.exited).toBe(r.status);
    expect(client.stdout()).toBe(r.stdout);
    const idle = cluster.client(['run', '--on', 'store-a', '--id', 'reader', ticker, '200', '1', '16', '2000000']);
    await running('reader');
    await moveOk('reader', 'store-b');
    idle.child.kill('SIGINT');
    expect(await idle.exited).toBe(130);
  });

  it('--dir over a node\'s --max-files is refused before anything runs', async () => {
    await cluster.node('narrow', '--max-files', '1');
    const d = path.join(cluster.dir, 'big-dir');
    mkdirSync(d);
    writeFileSync(path.join(d, 'big.bin'), randomBytes(2 * 1048576));
    const r = await cluster.cli(['run', '--on', 'narrow', '--dir', `${d}::/data`, ticker]);
    expect(r).toMatchObject({ code: 1, stderr: `error: the --dir directories (${d}) hold more than the limit of 1 MiB\n` });
  });

  it('one-line errors: unknown node, unknown id, a taken id, a move to where it is', async () => {
    const noNode = await cluster.cli(['run', '--on', 'mars', ticker]);
    expect(noNode).toMatchObject({ code: 1, stderr: 'error: no node named mars in the cluster (handover nodes lists them)\n' });
    const noId = await cluster.cli(['move', 'nobody', '--to', 'edge']);
    expect(noId).toMatchObject({ code: 1, stderr: 'error: no workload named nobody (handover ps lists them)\n' });
    expect((await cluster.cli(['attach', 'nobody'])).stderr).toBe('error: no workload named nobody (handover ps lists them)\n');
    const taken = await cluster.cli(['run', '--on', 'edge', '--id', 'same-0', ticker]);
    expect(taken).toMatchObject({ code: 1, stderr: 'error: a workload named same-0 already exists (handover ps lists them)\n' });
    const ended = await cluster.cli(['move', 'same-0', '--to', 'cloud']);
    expect(ended).toMatchObject({ code: 1, stderr: 'error: workload same-0 is not running (exited 0)\n' });
    const bad = await cluster.cli(['move', 'same-1']);
    expect(bad).toMatchObject({ code: 1, stderr: "error: move needs --to <node>\nrun 'handover --help' for the commands and their options\n" });
  });
});
