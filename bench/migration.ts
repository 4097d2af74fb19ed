// Live migration (`npm run bench -- --migration`): ticker guests (bench/ticker.ts) of 1 / 16 / 64 /
// 256 MiB of touched memory at several write rates run on node `edge` of a real cluster
// (tests/cluster/harness.ts: nats-server, node processes) and are moved to `cloud` — each case as
// a pre-copy move and, for a second identical guest right beside it, a stop-and-copy move. The
// numbers are the nodes' own (client.move: rounds, bytes, total, downtime on the wall clock every
// process on the machine shares); the write rates are measured from the guests' output, and the
// memory touched by running the same guest in a local VM and counting non-zero 4 KiB blocks.

import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MAX_PIECE, liveNodes, openBus, type Bus } from '../host-intrinsics/cluster/bus.js';
import { follow, move, stop, submit } from '../host-intrinsics/cluster/client.js';
import { Vm, packageRoot } from '../host-intrinsics/vm.js';
import { WasiContext, instantiateWasi } from '../host-intrinsics/wasi/index.js';
import { Cluster, waitFor, type Proc } from '../tests/cluster/harness.js';
import { tickerModule } from './ticker.js';

const BLOCK = 4096;
const MiB = 1048576;

interface Rate {
  name: string;
  /** Ticker arguments: 4-byte words written per tick at random blocks, and the spin after them. */
  writes: number;
  spin: number;
}

// Chosen on the VM's speed here (~20 M spin iterations/s, ~4 M writes/s). The VM hands control
// back to the node only after 2^20 taken branches and calls in one go, and a host call (the
// tick's fd_write) starts that count again: a tick of fewer would keep the node's event loop
// from ever turning, a tick of a few times more yields every 2^20, the VM's own granularity. The
// spin is one per iteration, a write three (a branch, two calls). "idle" still runs (it reads
// memory and rewrites its output line); "small" is a few hundred writes/s, far under what one
// pre-copy round sends; "medium" dirties much of a 64 MiB guest per round; "heavy" re-dirties
// every block of any size within a round.
const RATES: Rate[] = [
  { name: 'idle', writes: 0, spin: 4_000_000 },
  { name: 'small', writes: 100, spin: 4_000_000 },
  { name: 'medium', writes: 2_000, spin: 4_000_000 },
  { name: 'heavy', writes: 1_300_000, spin: 100_000 },
];

const MODES = ['pre-copy', 'stop-and-copy'] as const;
type Mode = (typeof MODES)[number];

interface Sample {
  rounds: number;
  bytes: number;
  totalMs: number;
  downtimeMs: number;
  /** The move as the client saw it: request to reply. */
  clientMs: number;
  writesPerS: number;
  ticksPerS: number;
  /** From the source's log line: size of the round sent stopped, its time, the final step's. */
  lastKiB?: number;
  stoppedSendMs?: number;
  finalMs?: number;
}

interface Case {
  mib: number;
  rate: Rate;
  mode: Mode;
  samples: Sample[];
}

/** A true median (mean of the middle two for an even count). */
function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadNow = () => loadavg().map((l) => l.toFixed(1)).join(' ');

/** Non-zero 4 KiB blocks of the ticker's memory once it has touched `mib` MiB (a local VM, stopped by fuel). */
function touchedBlocks(module: Uint8Array, mib: number): number {
  const vm = Vm.createSync();
  vm.setMetering(true);
  const ctx = WasiContext.create({ args: ['ticker', '1', String(mib), '0', '2000000000'], env: {}, stdout: { write() {} }, stderr: { write() {} } });
  const inst = instantiateWasi(vm, module, ctx);
  if (!inst.ok) throw new Error('the ticker does not instantiate');
  // Enough fuel for the touch loop (a few instructions per block), not for the 2e9-iteration spin.
  vm.fuel = BigInt(mib * 256 * 50 + 1_000_000);
  const outcome = vm.invoke(inst.exports.get('_start')!.addr, []);
  if (outcome.kind !== 'suspended') throw new Error(`the ticker ended before it was measured (${outcome.kind})`);
  const mem = Buffer.from(vm.guestMemory(inst.exports.get('memory')!.addr));
  const zero = Buffer.alloc(BLOCK);
  let n = 0;
  for (let b = 0; b < mem.length; b += BLOCK) if (mem.compare(zero, 0, BLOCK, b, b + BLOCK) !== 0) n++;
  vm.abandon();
  return n;
}

// A process that answers every request on one subject at once: the far end of the link probe.
const RESPONDER = `import { connect } from '@nats-io/transport-node';
const nc = await connect({ servers: process.argv[1] });
const sub = nc.subscribe('handover-bench.probe');
await nc.flush();
process.stdout.write('ready\\n');
for await (const m of sub) m.respond(new Uint8Array(0));`;

/**
 * What NATS itself carries here, now: MiB/s of page-sized requests, four in flight as the nodes
 * send them, from this process to a responder process (both on loopback); median of three 64 MiB runs.
 */
async function linkMiBps(bus: Bus, url: string, root: string): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RESPONDER, url], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the link probe responder', () => out.includes('ready') || child.exitCode !== null, 20_000);
    if (!out.includes('ready')) throw new Error('the link probe responder did not start');
    const piece = new Uint8Array(MAX_PIECE);
    const n = Math.ceil((64 * MiB) / MAX_PIECE);
    const ask = () => bus.nc.request('handover-bench.probe', piece, { timeout: 10_000 });
    await Promise.all([ask(), ask(), ask(), ask()]);
    const rates: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      for (let i = 0; i < n; i += 4) await Promise.all(Array.from({ length: Math.min(4, n - i) }, ask));
      rates.push((n * MAX_PIECE) / MiB / ((performance.now() - t) / 1000));
    }
    return med(rates);
  } finally {
    child.kill('SIGKILL');
  }
}

/** The source's account of the stopped part of a move (node.ts logs it), when its log says so. */
function stoppedPart(edge: Proc, id: string): Pick<Sample, 'lastKiB' | 'stoppedSendMs' | 'finalMs'> {
  const re = new RegExp(`${id}: moved to \\S+; last round (\\d+) KiB of \\d+ MiB, sent in ([\\d.]+) ms, final ([\\d.]+) ms`);
  const m = re.exec(edge.stderr());
  return m ? { lastKiB: Number(m[1]), stoppedSendMs: Number(m[2]), finalMs: Number(m[3]) } : {};
}

/**
 * One guest: started on edge, its tick rate measured from its output for `windowMs`, moved to
 * cloud, checked to run on there (ticks numbered on without a gap or a repeat), stopped.
 */
async function oneMove(bus: Bus, edge: Proc, module: Uint8Array, id: string, mib: number, rate: Rate, mode: Mode, windowMs: number): Promise<Sample> {
  const ticks: number[] = [];
  let pending = '';
  let wrong = '';
  const ended = follow(bus, id, {
    stdout: (bytes) => {
      pending += Buffer.from(bytes).toString('latin1');
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = /^tick (\d+) \d+$/.exec(line);
        if (!m) wrong ||= `unexpected output "${line}"`;
        else if (Number(m[1]) !== ticks.length) wrong ||= `tick ${m[1]} came after tick ${ticks.length - 1}`;
        ticks.push(performance.now());
      }
    },
    stderr: (bytes) => (wrong ||= `stderr: ${Buffer.from(bytes).toString('latin1').trim()}`),
    note: (line) => (wrong ||= line),
  });
  ended.catch(() => {});
  await submit(bus, { node: 'edge', id, module, args: ['ticker', '2000000000', String(mib), String(rate.writes), String(rate.spin)], env: {}, checkpointEvery: 0, exactlyOnce: false });
  await waitFor(`${id}'s first tick`, () => ticks.length > 0, 60_000);
  // The first ticks follow the touch loop and the guest's start on the node: left out of the rate.
  await sleep(200);
  const from = ticks.length;
  const fromT = performance.now();
  await sleep(windowMs);
  const t = performance.now();
  const inWindow = ticks.slice(from);
  // Ticks in the window over the time between its first and last tick (or the window, for one tick).
  const ticksPerS = inWindow.length >= 2 ? ((inWindow.length - 1) * 1000) / (inWindow[inWindow.length - 1] - inWindow[0]) : (inWindow.length * 1000) / (t - fromT);
  const s = await move(bus, id, 'cloud', mode === 'stop-and-copy');
  const clientMs = performance.now() - t;
  const after = ticks.length;
  await waitFor(`${id} to tick on at cloud`, () => ticks.length >= after + 2 || wrong !== '', 60_000);
  await stop(bus, id);
  const { end } = await ended;
  if (end.kind !== 'stopped') throw new Error(`${id} ended ${end.kind} instead of being stopped`);
  if (wrong) throw new Error(`${id}: ${wrong}`);
  if (!Number.isFinite(s.downtimeMs)) throw new Error(`${id}: the move reported no downtime (the destination did not answer)`);
  return {
    rounds: s.rounds, bytes: s.bytes, totalMs: s.totalMs, downtimeMs: s.downtimeMs, clientMs,
    ticksPerS, writesPerS: ticksPerS * rate.writes, ...stoppedPart(edge, id),
  };
}

export interface MigrationReport {
  lines: string[];
  svg: string;
}

export async function migrationBench(quick: boolean, chartFile: string): Promise<MigrationReport> {
  const started = Date.now();
  const loadBefore = loadNow();
  const sizes = quick ? [1, 64] : [1, 16, 64, 256];
  const rates = quick ? RATES.filter((r) => r.name !== 'medium') : RATES;
  // Two each: a pre-copy of a writing 256 MiB guest takes minutes here (its rounds go out between
  // guest slices), and the pairs, not the repeats, carry the comparison.
  const repeats = 2;
  const windowMs = quick ? 800 : 1200;
  const module = await tickerModule();
  const touched = new Map(sizes.map((mib) => [mib, touchedBlocks(module, mib) * BLOCK]));

  // The harness finds the CLI relative to the working directory.
  const root = packageRoot(import.meta.url);
  process.chdir(root);
  const cluster = await Cluster.start();
  const onSignal = () => void cluster.close().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cases: Case[] = [];
  let engines = '';
  const link: number[] = [];
  let bus: Bus | undefined;
  try {
    const edge = await cluster.node('edge');
    await cluster.node('cloud');
    bus = await openBus({ url: cluster.url });
    engines = (await liveNodes(bus)).map((a) => `${a.name}: ${a.engine}`).join('; ');
    link.push(await linkMiBps(bus, cluster.url, root));
    const progress = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${line}\n`);
    // Both nodes' move paths and the VM's restore reach the optimizing tier before anything counts.
    for (const mode of MODES) await oneMove(bus, edge, module, `warm-${mode}`, 16, RATES[1], mode, 300);
    for (const mib of sizes) for (const rate of rates) for (const mode of MODES) cases.push({ mib, rate, mode, samples: [] });
    let n = 0;
    for (let rep = 0; rep < repeats; rep++) {
      for (const mib of sizes) {
        for (const rate of rates) {
          // The two modes back to back, their order swapped every repeat: drift on this shared
          // machine then falls on both alike.
          const order = rep % 2 === 0 ? MODES : [...MODES].reverse();
          for (const mode of order) {
            const c = cases.find((q) => q.mib === mib && q.rate === rate && q.mode === mode)!;
            const s = await oneMove(bus, edge, module, `m${mib}-${rate.name}-${mode}-${rep}`, mib, rate, mode, windowMs);
            c.samples.push(s);
            n++;
            progress(`${n}/${cases.length * repeats} ${mib} MiB ${rate.name} ${mode}: ${s.rounds} rounds, ${(s.bytes / MiB).toFixed(1)} MiB, total ${s.totalMs.toFixed(0)} ms, downtime ${s.downtimeMs.toFixed(1)} ms (${s.writesPerS.toFixed(0)} writes/s)`);
          }
        }
      }
    }
    link.push(await linkMiBps(bus, cluster.url, root));
  } finally {
    await bus?.close();
    await cluster.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { lines: report(cases, { sizes, rates, repeats, windowMs, touched, engines, link, loadBefore, started, quick, netns: cluster.netns, chartFile }), svg: chart(cases, sizes, rates) };
}

const f0 = (v: number) => v.toFixed(0);
const f1 = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const range = (xs: number[]) => (Math.min(...xs) < Math.max(...xs) ? ` (${f1(Math.min(...xs))}–${f1(Math.max(...xs))})` : '');
const whole = (v: number) => (Number.isInteger(v) ? String(v) : f1(v));
const rateText = (writesPerS: number) => (writesPerS === 0 ? '0' : writesPerS >= 1e6 ? `${(writesPerS / 1e6).toFixed(2)} M` : writesPerS >= 1e3 ? `${(writesPerS / 1e3).toFixed(1)} k` : writesPerS.toFixed(0));

function report(cases: Case[], o: {
  sizes: number[]; rates: Rate[]; repeats: number; windowMs: number; touched: Map<number, number>; engines: string; link: number[];
  loadBefore: string; started: number; quick: boolean; netns: boolean; chartFile: string;
}): string[] {
  const get = (mib: number, rate: string, mode: Mode) => cases.find((c) => c.mib === mib && c.rate.name === rate && c.mode === mode);
  const L: string[] = [];
  const minutes = ((Date.now() - o.started) / 60000).toFixed(1);
  L.push(`Engine and tier: ${o.engines} (the VM, build/vm.wasm, interprets the guest; Node runs the VM with default tiering). ${cpus().length} cores (${cpus()[0]?.model ?? '?'}) shared with other work; load average (1/5/15 min) ${o.loadBefore} at the start, ${loadNow()} at the end; the run took ${minutes} min (\`npm run bench -- --migration${o.quick ? ' --quick' : ''}\`).`, '');
  const server = spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
  L.push(`Setup: ${server || 'nats-server'} with JetStream and two \`handover node\` processes, edge and cloud (tests/cluster/harness.ts${o.netns ? ', each node in its own network namespace, reaching the server over a veth pair' : ', all on loopback'}); this process starts each guest on edge with the client API (\`submit\`, as \`run --on edge --id X --detach\` does), follows its output, and moves it to cloud with \`move\` (as \`handover move X --to cloud [--stop-and-copy]\`). One guest at a time in the cluster. Each case ${o.repeats} times, the pre-copy guest and its stop-and-copy twin back to back (order swapped every repeat); medians, in parentheses min–max. After two discarded warm-up moves.`, '');
  L.push('Guest: tests/fixtures/ticker.wat, `ticker TICKS MIB WRITES SPIN` — touches every 4 KiB block of MIB MiB, then per tick writes WRITES 4-byte words at random blocks and spins SPIN iterations reading memory. The write rate is measured, per guest, from its output before the move: ticks/s over a ' + `${o.windowMs} ms window × WRITES; "≤ MiB/s dirtied" is that × 4 KiB (each write dirties at most one block). MiB touched: non-zero 4 KiB blocks of the same guest run in a local VM past its touch loop.`, '');
  L.push('Measured (by the nodes, host-intrinsics/cluster/node.ts): **total** from the move request reaching the source to the destination\'s reply to the final round; **downtime** from the end of the guest\'s last slice on the source to the moment the destination has committed ownership and starts its first slice, both on `performance.timeOrigin + performance.now()` (one machine, one clock); **MiB sent** = page messages + the snapshot without memory. Stopped part: the source\'s log — the size of the round sent with the guest stopped, the time from its last slice until that round was sent (the final scan of memory + sending), and the final step (snapshot, destination restores and commits).', '');

  L.push(`Link: NATS alone carried ${o.link.map((v) => f0(v)).join(' MiB/s at the start and ')} MiB/s at the end of the run (${(MAX_PIECE >> 10)} KiB requests, four in flight, from this process to a responder process on loopback; median of three 64 MiB transfers) — against that, a stop-and-copy's MiB sent / downtime shows what the node code adds.`, '');
  L.push('Slices: a node runs its guest in slices of about 10 ms (workload.ts: the VM looks at the clock every 16,384 taken branches and calls, and at host calls); the source sends its pre-copy rounds between slices, eight page messages in flight.', '');
  L.push('| size | write set (WRITES / SPIN) | writes/s (≤ MiB/s dirtied) | mode | rounds | MiB sent / MiB touched | total ms | downtime ms | stopped part: last round KiB, scan + send ms, final ms |');
  L.push('|---:|---|---:|---|---:|---:|---:|---:|---|');
  for (const c of cases) {
    const s = c.samples;
    if (s.length === 0) continue;
    const touchedMiB = o.touched.get(c.mib)! / MiB;
    const w = med(s.map((x) => x.writesPerS));
    const sent = med(s.map((x) => x.bytes)) / MiB;
    const part = (k: 'lastKiB' | 'stoppedSendMs' | 'finalMs') => {
      const v = s.map((x) => x[k]).filter((x): x is number => x !== undefined);
      return v.length ? (k === 'lastKiB' ? whole(med(v)) : f1(med(v))) : '–';
    };
    L.push(`| ${c.mib} MiB | ${c.rate.name} (${c.rate.writes} / ${c.rate.spin.toLocaleString('en')}) | ${rateText(w)} (≤ ${((w * BLOCK) / MiB).toFixed(w * BLOCK < 10 * MiB ? 1 : 0)}) | ${c.mode} | ${whole(med(s.map((x) => x.rounds)))}${range(s.map((x) => x.rounds)).replace(/\.0\b/g, '')} | ${sent.toFixed(1)} / ${touchedMiB.toFixed(1)} = ${(sent / touchedMiB).toFixed(2)} | ${f1(med(s.map((x) => x.totalMs)))}${range(s.map((x) => x.totalMs))} | **${f1(med(s.map((x) => x.downtimeMs)))}**${range(s.map((x) => x.downtimeMs))} | ${part('lastKiB')}, ${part('stoppedSendMs')}, ${part('finalMs')} |`);
  }
  L.push('', `![downtime and total time against size, pre-copy and stop-and-copy](${o.chartFile})`, '');

  L.push('Pre-copy against stop-and-copy of the same guest, measured side by side: median over the repeats of each pair\'s ratio (pre-copy / stop-and-copy; < 1: pre-copy smaller).', '');
  L.push(`| size | ${o.rates.map((r) => `${r.name}: downtime, total`).join(' | ')} |`, `|---:|${o.rates.map(() => '---:').join('|')}|`);
  const paired = (mib: number, rate: string, k: 'downtimeMs' | 'totalMs') => {
    const a = get(mib, rate, 'pre-copy')!.samples;
    const b = get(mib, rate, 'stop-and-copy')!.samples;
    return med(a.map((x, i) => x[k] / b[i][k]));
  };
  for (const mib of o.sizes) L.push(`| ${mib} MiB | ${o.rates.map((r) => `${paired(mib, r.name, 'downtimeMs').toFixed(2)}x, ${paired(mib, r.name, 'totalMs').toFixed(2)}x`).join(' | ')} |`);
  L.push('');

  const throughput = o.sizes.map((mib) => {
    const sc = o.rates.flatMap((r) => get(mib, r.name, 'stop-and-copy')?.samples ?? []);
    return `${mib} MiB ${f0(med(sc.map((x) => x.bytes / MiB / (x.downtimeMs / 1000))))}`;
  });
  L.push(`Stop-and-copy, MiB sent per second of downtime (median over its rates and repeats): ${throughput.join(', ')} MiB/s; NATS alone carried ${o.link.map((v) => f0(v)).join(' and ')} MiB/s (above).`, '');
  L.push('## Targets', '');
  const pre = get(64, 'small', 'pre-copy')?.samples ?? [];
  const sc = get(64, 'small', 'stop-and-copy')?.samples ?? [];
  if (pre.length && sc.length) {
    const d = med(pre.map((x) => x.downtimeMs));
    const t = med(pre.map((x) => x.totalMs));
    const sd = med(sc.map((x) => x.downtimeMs));
    const st = med(sc.map((x) => x.totalMs));
    L.push(`- *64 MiB, small write set (${rateText(med(pre.map((x) => x.writesPerS)))} writes/s), pre-copy downtime ≤ 10 ms*: ${f1(d)} ms${range(pre.map((x) => x.downtimeMs))} — **${d <= 10 ? 'met' : 'missed'}**.`);
    L.push(`- *… total ≤ 1 s*: ${f0(t)} ms${range(pre.map((x) => x.totalMs))} — **${t <= 1000 ? 'met' : 'missed'}**.`);
    L.push(`- *Stop-and-copy of 64 MiB ≤ 150 ms* (the same guest; the guest is stopped for the whole move, so downtime ≈ total): downtime ${f1(sd)} ms${range(sc.map((x) => x.downtimeMs))}, total ${f1(st)} ms — **${sd <= 150 ? 'met' : 'missed'}**.`);
  }
  L.push('');
  L.push('## Anchors', '');
  L.push('- Xen pre-copy (Clark et al., "Live Migration of Virtual Machines", NSDI 2005): downtime 60 ms for a game server (Quake 3), 210 ms for a web server (SPECweb99).');
  L.push('- QEMU/KVM: the default allowed downtime of a live migration is 300 ms (`downtime-limit`).');
  L.push('- No downtime for the live migration of a running Wasm guest has been published, so there is no Wasm number to put beside these.');
  L.push('- Those are whole VMs over a real network between machines; here both nodes and the server share one 2-core machine and the guest is interpreted, so the comparison is of orders of magnitude, not of systems.');
  L.push('');
  L.push('## Noise', '');
  L.push(`This machine is shared (load above); the ${cpus().length} cores carry the source node (guest and sender on one event loop), the destination, nats-server and this process at once. The min–max spreads show how far single moves moved; the pre-copy / stop-and-copy ratios come from pairs run back to back and are the numbers to quote.`);
  return L;
}

// --- chart: two panels, downtime and total against size (log–log), one line per rate and mode ---

const COLORS: Record<string, string> = { idle: '#59a14f', small: '#4e79a7', medium: '#f28e2b', heavy: '#e15759' };

function chart(cases: Case[], sizes: number[], rates: Rate[]): string {
  const W = 1040, H = 430, top = 62, bottom = 60, left = 60, gap = 70, legend = 220;
  const pw = (W - left - gap - legend - 20) / 2, ph = H - top - bottom;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">Live migration of a ticker guest, edge → cloud: pre-copy (solid) vs stop-and-copy (dashed)</text>`);
  const panels: { key: 'downtimeMs' | 'totalMs'; title: string; refs: [number, string][] }[] = [
    { key: 'downtimeMs', title: 'downtime, ms (log)', refs: [[10, 'target 10 ms'], [60, 'Xen game 60'], [150, 'stop-and-copy target 150'], [210, 'Xen web 210'], [300, 'QEMU 300']] },
    { key: 'totalMs', title: 'total, ms (log)', refs: [[1000, 'target 1 s']] },
  ];
  panels.forEach((p, k) => {
    const x0 = left + k * (pw + gap);
    const vals = cases.flatMap((c) => (c.samples.length ? [med(c.samples.map((s) => s[p.key]))] : [])).filter((v) => v > 0);
    const all = [...vals, ...p.refs.map((r) => r[0])];
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))));
    const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all) * 1.05)));
    const y = (v: number) => top + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
    const x = (i: number) => x0 + (sizes.length === 1 ? pw / 2 : (i / (sizes.length - 1)) * (pw - 40) + 20);
    out.push(`<text x="${x0}" y="${top - 18}" font-weight="bold">${p.title}</text>`);
    for (let d = lo; d <= hi; d *= 10) {
      for (const m of [1, 2, 5]) {
        const v = d * m;
        if (v > hi) break;
        out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${m === 1 ? '#bbb' : '#eee'}"/>`);
        out.push(`<text x="${x0 - 6}" y="${y(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle" fill="#555">${v >= 1 ? v : v.toPrecision(1)}</text>`);
      }
    }
    for (const [v, label] of p.refs) {
      out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#999" stroke-dasharray="2,3"/>`);
      out.push(`<text x="${x0 + pw - 2}" y="${(y(v) - 3).toFixed(1)}" text-anchor="end" font-size="10" fill="#666" stroke="white" stroke-width="3" paint-order="stroke">${label}</text>`);
    }
    sizes.forEach((mib, i) => out.push(`<text x="${x(i).toFixed(1)}" y="${top + ph + 18}" text-anchor="middle">${mib} MiB</text>`));
    out.push(`<text x="${x0 + pw / 2}" y="${top + ph + 38}" text-anchor="middle" fill="#555">memory touched</text>`);
    out.push(`<line x1="${x0}" x2="${x0}" y1="${top}" y2="${top + ph}" stroke="#333"/><line x1="${x0}" x2="${x0 + pw}" y1="${top + ph}" y2="${top + ph}" stroke="#333"/>`);
    for (const rate of rates) {
      for (const mode of MODES) {
        const pts = sizes.map((mib, i) => {
          const c = cases.find((q) => q.mib === mib && q.rate === rate && q.mode === mode);
          return c?.samples.length ? { i, v: med(c.samples.map((s) => s[p.key])) } : null;
        }).filter((q): q is { i: number; v: number } => q !== null);
        if (pts.length === 0) continue;
        const color = COLORS[rate.name] ?? '#333';
        out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${mode === 'stop-and-copy' ? ' stroke-dasharray="6,4"' : ''} points="${pts.map((q) => `${x(q.i).toFixed(1)},${y(q.v).toFixed(1)}`).join(' ')}"/>`);
        for (const q of pts) out.push(`<circle cx="${x(q.i).toFixed(1)}" cy="${y(q.v).toFixed(1)}" r="3" fill="${color}"><title>${sizes[q.i]} MiB, ${rate.name}, ${mode}: ${f1(q.v)} ms</title></circle>`);
      }
    }
  });
  const lx = W - legend;
  rates.forEach((r, j) => {
    const yy = top + 10 + j * 20;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${yy}" y2="${yy}" stroke="${COLORS[r.name] ?? '#333'}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${yy + 4}">${r.name}: ${r.writes.toLocaleString('en')} writes/tick</text>`);
  });
  const yy = top + 10 + rates.length * 20 + 10;
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${yy}" y2="${yy}" stroke="#333" stroke-width="2"/><text x="${lx + 30}" y="${yy + 4}">pre-copy</text>`);
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${yy + 20}" y2="${yy + 20}" stroke="#333" stroke-width="2" stroke-dasharray="6,4"/><text x="${lx + 30}" y="${yy + 24}">stop-and-copy</text>`);
  out.push(`<text x="${left}" y="${H - 10}" fill="#555">medians of the repeats; nodes and nats-server on one shared 2-core machine; the VM interprets the guest</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
