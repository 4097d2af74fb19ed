// Handover between host engines, as properties: for every C fixture (test sizes) and a few seeded
// random suspension points, a run suspended on Node (by fuel) and continued on another host gives,
// concatenated, the same stdout, stderr and exit code as an uninterrupted run — and the same
// instruction count. Also chains over several hosts, and fileio suspended with files open.
// One engine per host for the whole file (one browser, one child per host). A host that is not
// installed makes its tests fail with the install hint: CI installs them (.ci/run).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Handover, UNLIMITED_FUEL, type Stop } from '../../host-intrinsics/hosts/driver.js';
import { EnginePool, type HostName } from '../../host-intrinsics/hosts/engines.js';
import { CollectSink, WasiContext } from '../../host-intrinsics/wasi/index.js';
import { FIXTURES } from '../wasi/harness.js';

const pool = new EnginePool();
afterAll(() => pool.close(), 60_000);

interface Fixture {
  name: string;
  args: string[];
  env?: Record<string, string>;
  sandbox?: boolean;
}

// fileio at 3 records (not the usual 50): every WASI call is a round trip through the parent, and
// fileio makes two per record.
const FIXTURE_RUNS: Fixture[] = [
  { name: 'hello', args: [] },
  { name: 'float', args: ['1000'] },
  { name: 'intarray', args: ['1000'] },
  { name: 'recursion', args: ['1'] },
  { name: 'memory', args: ['64'] },
  { name: 'args', args: ['3', 'hello', 'two words', ''], env: { HANDOVER_GREETING: 'hi', LANG: 'C' } },
  { name: 'fileio', args: ['/sandbox', '3'], sandbox: true },
];

interface Result {
  stdout: string;
  stderr: string;
  exit: number | string;
  instructions: bigint;
}

class Run {
  readonly stdout = new CollectSink();
  readonly stderr = new CollectSink();
  readonly dir: string | null;
  readonly h: Handover;

  constructor(readonly f: Fixture) {
    this.dir = f.sandbox ? mkdtempSync(path.join(tmpdir(), 'handover-hosts-')) : null;
    const wasi = WasiContext.create({
      args: [f.name, ...f.args], env: f.env ?? {}, preopens: this.dir ? { '/sandbox': this.dir } : {}, stdout: this.stdout, stderr: this.stderr,
    });
    this.h = new Handover(new Uint8Array(readFileSync(path.join(FIXTURES, `${f.name}.wasm`))), wasi, pool);
  }

  /** Runs `legs` in turn: the first starts on Node, each later one continues on its host; each gets its fuel. */
  async legs(legs: { host: HostName; fuel: bigint }[]): Promise<Result> {
    let stop: Stop = this.h.start(legs[0].fuel);
    let executed = legs[0].fuel - stop.fuelLeft;
    for (const leg of legs.slice(1)) {
      if (stop.kind !== 'suspended') break;
      stop = await this.h.continue(stop.snapshot, leg.host, leg.fuel);
      executed += leg.fuel - stop.fuelLeft;
    }
    if (stop.kind === 'suspended') throw new Error('still suspended after the last leg');
    this.h.wasi.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    return { stdout: this.stdout.text(), stderr: this.stderr.text(), exit: stop.kind === 'exit' ? stop.code : `trap: ${stop.message}`, instructions: executed };
  }
}

// args reads the monotonic clock twice and compares the readings with a short-circuit `||`: when
// a second boundary falls between them it executes a few instructions more. Its output is fixed.
function comparable(f: Fixture, r: Result): Partial<Result> {
  return f.name === 'args' ? { ...r, instructions: undefined } : r;
}

const references = new Map<string, Result>();
async function reference(f: Fixture): Promise<Result> {
  let r = references.get(f.name);
  if (!r) {
    r = await new Run(f).legs([{ host: 'node', fuel: UNLIMITED_FUEL }]);
    references.set(f.name, r);
  }
  return r;
}

// A small seeded generator (mulberry32), so a failing point can be reproduced.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function points(total: bigint, n: number, seed: number): bigint[] {
  const next = random(seed);
  return Array.from({ length: n }, () => 1n + BigInt(Math.floor(next() * Number(total - 1n))));
}

// Points per host: the slow ones (a browser round trip per WASI call; the VM on itself) get fewer.
const POINTS: Record<Exclude<HostName, 'node'>, number> = { 'node-liftoff': 2, spidermonkey: 2, chromium: 1, vm: 1 };

describe('a run suspended on node continues on another host with the same output', () => {
  for (const f of FIXTURE_RUNS) {
    it(`the reference run of ${f.name} is deterministic`, async () => {
      const ref = await reference(f);
      expect(comparable(f, await new Run(f).legs([{ host: 'node', fuel: UNLIMITED_FUEL }]))).toEqual(comparable(f, ref));
      expect(ref.exit).toBe(f.name === 'args' ? 3 : 0);
    });
    for (const host of Object.keys(POINTS) as Exclude<HostName, 'node'>[]) {
      it(`${f.name} → ${host}`, async () => {
        const ref = await reference(f);
        for (const at of points(ref.instructions, POINTS[host], f.name.length * 31 + host.length)) {
          const got = await new Run(f).legs([{ host: 'node', fuel: at }, { host, fuel: UNLIMITED_FUEL }]);
          expect(comparable(f, got), `suspended after ${at} instructions`).toEqual(comparable(f, ref));
        }
      });
    }
  }
});

describe('chained handovers', () => {
  it('float: node → spidermonkey → chromium → node-liftoff → vm → node', async () => {
    const f = FIXTURE_RUNS.find((x) => x.name === 'float')!;
    const ref = await reference(f);
    const step = ref.instructions / 6n;
    const hosts: HostName[] = ['node', 'spidermonkey', 'chromium', 'node-liftoff', 'vm', 'node'];
    const got = await new Run(f).legs(hosts.map((host, i) => ({ host, fuel: i === hosts.length - 1 ? UNLIMITED_FUEL : step })));
    expect(got).toEqual(ref);
  });

  it('args (clocks, environment, exit code): node → chromium → spidermonkey → node', async () => {
    const f = FIXTURE_RUNS.find((x) => x.name === 'args')!;
    const ref = await reference(f);
    const step = ref.instructions / 4n;
    const got = await new Run(f).legs([{ host: 'node', fuel: step }, { host: 'chromium', fuel: step }, { host: 'spidermonkey', fuel: step }, { host: 'node', fuel: UNLIMITED_FUEL }]);
    expect(comparable(f, got)).toEqual(comparable(f, ref));
  });

  it('fileio suspended with a file open: node → node-liftoff → spidermonkey → node', async () => {
    const f = FIXTURE_RUNS.find((x) => x.name === 'fileio')!;
    const ref = await reference(f);
    // Find a point where the guest holds a file open (fd entries of kind 'file').
    let at = ref.instructions / 3n;
    for (;; at += ref.instructions / 50n) {
      const probe = new Run(f);
      const stop = probe.h.start(at);
      const open = Object.values(probe.h.wasi.toJSON().fds).some((e) => e.kind === 'file');
      probe.h.wasi.close();
      if (probe.dir) rmSync(probe.dir, { recursive: true, force: true });
      if (open && stop.kind === 'suspended') break;
      expect(at).toBeLessThan(ref.instructions);
    }
    const step = (ref.instructions - at) / 3n;
    const got = await new Run(f).legs([{ host: 'node', fuel: at }, { host: 'node-liftoff', fuel: step }, { host: 'spidermonkey', fuel: step }, { host: 'node', fuel: UNLIMITED_FUEL }]);
    expect(got).toEqual(ref);
  });
});
