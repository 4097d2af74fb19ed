// `npm start`: the handover demo. A C guest (tests/fixtures/float.wasm) starts on Node, is
// suspended a quarter of the way in, continues on SpiderMonkey (js102), then in headless Chromium,
// then back on Node — each leg a separate `handover` command, each handover noted on stderr
// (host, instructions so far). The concatenated output must equal an uninterrupted run's; the
// demo checks and says so. A host that is not installed is reported and its leg skipped (the
// guest goes on from the same snapshot on the next host).
// Then the cluster part (scripts/demo-cluster.mjs): nats-server, nodes edge and cloud, a guest moved
// edge → cloud → edge while it runs. Without nats-server the demo says what to install and runs
// only the engine part.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'build/js/host-intrinsics/cli/main.js');
const { Handover, UNLIMITED_FUEL } = await import(path.join(ROOT, 'build/js/host-intrinsics/hosts/driver.js'));
const { EnginePool } = await import(path.join(ROOT, 'build/js/host-intrinsics/hosts/engines.js'));
const { CollectSink, WasiContext } = await import(path.join(ROOT, 'build/js/host-intrinsics/wasi/index.js'));

const fixture = path.join(ROOT, 'tests/fixtures/float.wasm');
const args = ['20000'];
const say = (s) => process.stderr.write(`\x1b[1mdemo:\x1b[0m ${s}\n`);

const { clusterDemo, natsServerInstalled } = await import('./demo-cluster.mjs');
const withCluster = natsServerInstalled();
// The packages .ci/run installs: one line gives a machine every part of the demo.
if (!withCluster) say('the cluster part needs nats-server: apt-get install nats-server libmozjs-102-dev chromium');

// The reference: one uninterrupted run on this Node, which also says how long the guest runs.
const out = new CollectSink();
const wasi = WasiContext.create({ args: ['float', ...args], stdout: out, stderr: out });
const t0 = performance.now();
const ref = new Handover(new Uint8Array(readFileSync(fixture)), wasi, new EnginePool()).start(UNLIMITED_FUEL);
const total = UNLIMITED_FUEL - ref.fuelLeft;
say(`uninterrupted run of float ${args.join(' ')} on node: ${total} instructions, ${(performance.now() - t0).toFixed(0)} ms`);
const expected = out.text();

const dir = mkdtempSync(path.join(tmpdir(), 'handover-demo-'));
const quarter = total / 4n;
let output = '';
const missing = [];
// Each leg's output is passed on as it comes, so its notes ("resuming on …") and the guest's
// output appear in the order they happened; stdout is also kept for the final comparison.
async function leg(label, cliArgs) {
  say(label);
  const t = performance.now();
  const child = spawn(process.execPath, [CLI, ...cliArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '', status: null };
  child.stdout.setEncoding('utf8').on('data', (d) => { r.stdout += d; process.stdout.write(d); });
  child.stderr.setEncoding('utf8').on('data', (d) => { r.stderr += d; process.stderr.write(d); });
  r.status = await new Promise((resolve) => child.on('close', resolve));
  say(`  (${(performance.now() - t).toFixed(0)} ms, exit ${r.status})`);
  return r;
}

let snap = path.join(dir, 'leg0.snap');
let r = await leg(`start on node, suspend after ${quarter} instructions`, ['run', '--suspend-after', String(quarter), '--snapshot', snap, fixture, ...args]);
output += r.stdout;
const plan = ['spidermonkey', 'chromium', 'node'];
for (const [i, host] of plan.entries()) {
  const last = i === plan.length - 1;
  const next = path.join(dir, `leg${i + 1}.snap`);
  const cliArgs = ['resume', snap, '--host', host, '--verbose', ...(last ? [] : ['--suspend-after', String(quarter), '--snapshot', next])];
  r = await leg(`hand over to ${host}${last ? ', run to the end' : `, suspend after ${quarter} more`}`, cliArgs);
  if (r.status === 1 && /not found|missing/.test(r.stderr)) {
    missing.push(host);
    say(`  ${host} is not installed here: its leg is skipped, the next host continues from the same snapshot`);
    continue;
  }
  output += r.stdout;
  if (!last) snap = next;
}
rmSync(dir, { recursive: true, force: true });

if (output === expected && r.status === 0) {
  say(`the output is identical to the uninterrupted run (${expected.length} bytes), exit 0${missing.length ? `; not installed: ${missing.join(', ')}` : ''}`);
} else {
  say('MISMATCH: the handed-over output differs from the uninterrupted run');
  process.exitCode = 1;
}

if (withCluster && !(await clusterDemo())) process.exitCode = 1;
