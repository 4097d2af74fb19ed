// The cluster, for real: nats-server, node agents as processes (in their own network namespaces
// where the machine allows), clients as processes. A workload moved between nodes must print
// exactly what a local run prints and exit with the same code.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickerModule } from '../../bench/ticker.js';
import { CLI, Cluster, waitFor } from './harness.js';

const fixture = (name: string) => path.resolve('tests/fixtures', `${name}.wasm`);

function local(module: string, args: string[], env: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', ...env.flatMap((e) => ['--env', e]), module, ...args], { encoding: 'latin1' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ticker: string;
let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start();
  ticker = path.join(cluster.dir, 'ticker.wasm');
  writeFileSync(ticker, await tickerModule());
  await cluster.node('edge');
  await cluster.node('cloud');
});

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
