// The cluster part of `npm start`: nats-server with JetStream on a free loopback port and a temp
// store, two `handover node` agents named edge and cloud, and the ticker guest
// (tests/fixtures/ticker.wat) started on edge with `handover run --on edge`. Its output is passed
// on as it arrives; after a few ticks it is moved to cloud, a few ticks later back to edge, each
// move's line (rounds, bytes, downtime) shown. At the end its output must equal a local
// `handover run` of the same guest; the demo checks and says so. Everything started here is
// stopped at the end, on failure and on Ctrl-C.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'build/js/host-intrinsics/cli/main.js');
const say = (s) => process.stderr.write(`\x1b[1mdemo:\x1b[0m ${s}\n`);

// About 6 s on a 2-core machine, a tick every ~0.2 s, 4 MiB of memory for each move to copy.
const TICKS = 30;
const ARGS = [String(TICKS), '4', '16', '2500000'];
// Each move starts once this tick has been shown and the previous move is done.
const MOVES = [{ after: 7, to: 'cloud' }, { after: 19, to: 'edge' }];
const ID = 'ticker';

/** Whether `nats-server` can be started from PATH. */
export function natsServerInstalled() {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).error === undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port }, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

async function until(what, ok, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const children = new Set();
let natsUrl = '';

// Own process groups: a Ctrl-C in the terminal reaches only the demo, which then stops
// everything itself; a node that got the SIGINT too would first try to hand its workload on.
function start(cmd, args, { out, err } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, HANDOVER_NATS: natsUrl } });
  const p = { child, stdout: '', stderr: '', exited: null };
  child.stdout.setEncoding('utf8').on('data', (d) => { p.stdout += d; out?.(d); });
  child.stderr.setEncoding('utf8').on('data', (d) => { p.stderr += d; err?.(d); });
  p.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? 128 + constants.signals[signal])));
  p.exited.then(() => children.delete(p));
  child.on('error', () => {});
  children.add(p);
  return p;
}

const cli = (args, streams) => start(process.execPath, [CLI, ...args], streams);

function killAll() {
  for (const p of children) p.child.kill('SIGKILL');
}

/** SIGTERM, then at most `ms` for the processes to end (the caller's finally kills what is left). */
function stop(procs, ms = 5000) {
  for (const p of procs) p.child.kill('SIGTERM');
  return Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, ms))]);
}

/** Runs the cluster part; true when the workload's output equals the local run's. */
export async function clusterDemo() {
  const dir = mkdtempSync(path.join(tmpdir(), 'handover-demo-cluster-'));
  let interrupting = false;
  const interrupted = async (signal) => {
    killAll();
    if (interrupting) process.exit(130);
    interrupting = true;
    say(`${signal}: stopping nats-server and the nodes`);
    // The store is removed only once the server that writes it is gone.
    await Promise.all([...children].map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, interrupted);
  // A crash between here and the end must not leave a node or the server running.
  process.on('exit', killAll);
  try {
    return await demo(dir);
  } catch (e) {
    say(`the cluster part failed: ${e.message}`);
    return false;
  } finally {
    killAll();
    await Promise.all([...children].map((p) => p.exited));
    for (const s of signals) process.off(s, interrupted);
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function demo(dir) {
  const { tickerModule } = await import(path.join(ROOT, 'build/js/bench/ticker.js'));
  const module = path.join(dir, 'ticker.wasm');
  writeFileSync(module, await tickerModule());

  const port = await freePort();
  natsUrl = `nats://127.0.0.1:${port}`;
  say(`cluster: nats-server -js on ${natsUrl}, its JetStream store in a temp directory`);
  const server = start('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', path.join(dir, 'js')]);
  await until('nats-server', async () => server.child.exitCode !== null || (await listening(port)));
  if (server.child.exitCode !== null) throw new Error(`nats-server did not start: ${server.stderr.trim()}`);

  const nodes = [];
  for (const name of ['edge', 'cloud']) {
    const node = cli(['node', '--name', name, '--nats', natsUrl], { err: (d) => process.stderr.write(d) });
    await until(`node ${name} to join`, () => node.stderr.includes('joined') || node.child.exitCode !== null);
    if (!node.stderr.includes('joined')) throw new Error(`node ${name} did not start: ${node.stderr}`);
    nodes.push(node);
  }

  say(`handover run --on edge --id ${ID} ticker.wasm ${ARGS.join(' ')}  (${TICKS} ticks, ${ARGS[1]} MiB of memory)`);
  const t0 = performance.now();
  let ticks = -1;
  let line = '';
  let moving = null;
  let ended = false;
  let next = 0;
  const moved = [];
  const failures = [];
  const moveOn = () => {
    const m = MOVES[next];
    if (ended || moving || !m || ticks < m.after) return;
    next++;
    say(`tick ${ticks} is out: handover move ${ID} --to ${m.to}`);
    const p = cli(['move', ID, '--to', m.to]);
    moving = p.exited.then((code) => {
      process.stderr.write(p.stdout);
      if (code !== 0) failures.push(`move to ${m.to}: exit ${code}: ${p.stderr.trim()}`);
      else moved.push(m.to);
      moving = null;
      moveOn();
    });
  };
  const run = cli(['run', '--on', 'edge', '--id', ID, module, ...ARGS], {
    out: (d) => {
      process.stdout.write(d);
      line += d;
      const lines = line.split('\n');
      line = lines.pop();
      for (const l of lines) {
        const m = /^tick (\d+) /.exec(l);
        if (m) ticks = Number(m[1]);
      }
      moveOn();
    },
    err: (d) => process.stderr.write(d),
  });
  const status = await run.exited;
  ended = true;
  while (moving) await moving;
  say(`the workload ended: exit ${status}, ${(performance.now() - t0).toFixed(0)} ms`);
  if (next < MOVES.length) failures.push(`the workload ended before the move to ${MOVES[next].to}`);

  // SIGTERM: each node leaves the cluster as it would in production (nothing left to hand on).
  await stop(nodes);
  await stop([server]);

  say(`the reference: handover run ticker.wasm ${ARGS.join(' ')} on this machine`);
  const local = cli(['run', module, ...ARGS]);
  const localStatus = await local.exited;
  if (run.stdout !== local.stdout || status !== localStatus) failures.push(`the output differs from the local run's (exit ${status}, local exit ${localStatus})`);
  if (failures.length > 0) {
    for (const f of failures) say(`FAILED: ${f}`);
    return false;
  }
  say(`moved edge → ${moved.join(' → ')} while it ran; the output is identical to a local run (${local.stdout.length} bytes), exit ${status}`);
  return true;
}
