// Shared by the WASI tests: fresh temporary directories, and runs of a module in the VM and under
// Node's own WASI (the reference). node:wasi always runs in a child process: in a process that
// also makes and drops VM memories it crashes now and then (SIGSEGV; cf. the Node caveat in
// tests/fixtures/README.md).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { Vm } from '../../host-intrinsics/vm.js';
import { CollectSink, runWasi, type RunResult, type WasiEngine, type WasiOptions } from '../../host-intrinsics/wasi/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = path.join(ROOT, 'tests/fixtures');

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh empty directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'handover-wasi-'));
  made.push(dir);
  return dir;
}

export interface Run {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Runs a fixture under node:wasi in a child process, exactly as tests/fixtures/README.md says. */
export function nodeRun(wasmFile: string, args: string[], env: Record<string, string> = {}, preopens: Record<string, string> = {}, stdin = ''): Run {
  const flags = [
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...Object.entries(preopens).flatMap(([g, h]) => ['--preopen', `${g}=${h}`]),
  ];
  const r = spawnSync(process.execPath, [path.join(FIXTURES, 'run-node.mjs'), ...flags, wasmFile, ...args], { encoding: 'utf8', input: stdin });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
}

/** Runs a module (bytes) under node:wasi in a child process; argv[0] is `name`. */
export function nodeRunBytes(bytes: Uint8Array, name: string, args: string[], env: Record<string, string> = {}, stdin = ''): Run {
  const file = path.join(tempDir(), `${name}.wasm`);
  writeFileSync(file, bytes);
  return nodeRun(file, args, env, {}, stdin);
}

/** Runs a module in the VM (the core module, or the engine given) through runWasi, collecting its output. */
export function vmRun(bytes: Uint8Array, options: WasiOptions = {}, engine: WasiEngine = Vm.createSync()): Run & { result: RunResult } {
  const stdout = new CollectSink();
  const stderr = new CollectSink();
  const result = runWasi(engine, bytes, { ...options, stdout, stderr });
  return { stdout: stdout.text(), stderr: stderr.text(), exitCode: 'exitCode' in result ? result.exitCode : null, result };
}

/**
 * Fails with a clear message unless build/js (which child processes run) is at least as new as
 * the sources in `dirs`: the CLI and the node:wasi probe child run compiled code.
 */
export function requireBuild(compiled: string, dirs: string[]): void {
  const built = path.join(ROOT, 'build/js', compiled);
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error(`${built} is missing: run \`npm run build:ts\` first`);
  }
  for (const dir of dirs) {
    for (const f of readdirSync(path.join(ROOT, dir))) {
      if (f.endsWith('.ts') && statSync(path.join(ROOT, dir, f)).mtimeMs > builtAt) {
        throw new Error(`${dir}/${f} is newer than build/js: run \`npm run build:ts\` first`);
      }
    }
  }
}
