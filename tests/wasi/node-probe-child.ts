// Child process of the probe tests: runs every scenario of scenarios.ts under node:wasi, each on a
// fresh copy of the layout, and prints the results as JSON. Kept out of the test process, where
// node:wasi crashes now and then beside the VMs (harness.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeProbe } from './probe.js';
import { ERRNO_SCENARIOS, RESULT_SCENARIOS, layout, leaked } from './scenarios.js';

const out: Record<string, unknown> = {};
for (const [name, body] of [...ERRNO_SCENARIOS.map(([n, , b]) => [n, b] as const), ...RESULT_SCENARIOS]) {
  const base = mkdtempSync(path.join(tmpdir(), 'handover-node-probe-'));
  try {
    const probe = await nodeProbe({ '/sandbox': layout(base) });
    out[name] = { result: body(probe), leaked: leaked(base) };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
process.stdout.write(JSON.stringify(out));
