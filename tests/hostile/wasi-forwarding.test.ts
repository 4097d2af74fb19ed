// The WASI forwarding of build/handover.wasm against hostile guests (tests/fuzz/forwarding.ts):
// for each fixed seed, the command on Wasmtime must give what the TypeScript CLI gives: every
// errno, the output, the exit code and the files left in the sandbox, and nothing may reach the
// directory a link out of the sandbox points to. `HANDOVER_FUZZ_SEEDS=N` runs more; `npm run
// fuzz` goes on from any seed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { OUTSIDE, forwardingCase } from '../fuzz/forwarding.js';
import { requireBuild } from '../wasi/harness.js';

vi.setConfig({ testTimeout: 120_000 });
requireBuild('host-intrinsics/cli/main.js', ['host-intrinsics/cli', 'host-intrinsics/wasi']);
const work = mkdtempSync(path.join(tmpdir(), 'handover-forwarding-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SEEDS = Number(process.env.HANDOVER_FUZZ_SEEDS ?? 24);

describe('the WASI command forwards hostile calls as the TypeScript WASI answers them', () => {
  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('seed %i', async (seed) => {
    const { want, got } = await forwardingCase(seed, work);
    expect(got).toEqual(want);
    expect(want.outside).toEqual(OUTSIDE);
    // The guest ran to its end and printed every errno.
    expect(want.status).toBe(0);
    expect(want.errnos.filter((e) => e.endsWith('(not printed)'))).toEqual([]);
  });
});
