// A hang detector for code that cannot be interrupted: a VM export or a V8 wasm call that never
// returns blocks this thread for good (test timeouts never fire). A worker thread watches a
// heartbeat the main thread bumps with `beat(label)`; when it stops for `limitMs`, the worker
// prints the label of the stuck step and kills the whole process, so a hang becomes a loud failure
// naming its input instead of a silent stall.

import { Worker } from 'node:worker_threads';

const WORKER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beat = new Int32Array(workerData.beat);
const label = new Uint8Array(workerData.label);
let last = Atomics.load(beat, 0);
let since = Date.now();
setInterval(() => {
  if (Atomics.load(beat, 1) === 1) process.exit(0);
  const now = Atomics.load(beat, 0);
  if (now !== last) { last = now; since = Date.now(); return; }
  if (Atomics.load(beat, 2) === 1) { since = Date.now(); return; }
  if (Date.now() - since < workerData.limitMs) return;
  const text = new TextDecoder().decode(label.subarray(0, label.indexOf(0) < 0 ? label.length : label.indexOf(0)));
  writeSync(2, '\\n[watchdog] no progress for ' + workerData.limitMs + ' ms, stuck at: ' + text + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 250);
`;

export class Watchdog {
  private readonly beatBuf = new SharedArrayBuffer(12);
  private readonly labelBuf = new SharedArrayBuffer(512);
  private readonly beats = new Int32Array(this.beatBuf);
  private readonly worker: Worker;

  constructor(readonly limitMs: number) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { beat: this.beatBuf, label: this.labelBuf, limitMs } });
    this.worker.unref();
  }

  /** Progress: the step now starting, named for the report if it never ends. */
  beat(label: string): void {
    const bytes = new TextEncoder().encode(label.slice(0, 500));
    const target = new Uint8Array(this.labelBuf);
    target.fill(0);
    target.set(bytes.subarray(0, 511));
    Atomics.add(this.beats, 0, 1);
  }

  /** While paused (e.g. between tests), no progress is no hang. */
  pause(paused: boolean): void {
    Atomics.store(this.beats, 2, paused ? 1 : 0);
    Atomics.add(this.beats, 0, 1);
  }

  stop(): void {
    Atomics.store(this.beats, 1, 1);
    void this.worker.terminate();
  }
}
