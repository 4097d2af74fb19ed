#!/usr/bin/env node
// Runs a WASI preview1 command on Node's own node:wasi (uvwasi), with a command line shaped like
// `wasmtime run`:  node --no-warnings node-wasi.mjs [--dir <host>[::<guest>]]… [--env K=V]… <module.wasm> [args…]
// The exit status is the guest's. One of the runtimes that host build/handover.wasm (runtimes.ts).

import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const args = process.argv.slice(2);
const preopens = {};
const env = {};
function fail(message) {
  process.stderr.write(`node-wasi: ${message}\n`);
  process.exit(2);
}
while (args[0]?.startsWith('--')) {
  const [option, value] = args.splice(0, 2);
  if (value === undefined) fail(`${option} needs a value`);
  if (option === '--dir') {
    const [host, guest = host] = value.split('::');
    preopens[guest] = host;
  } else if (option === '--env') {
    const at = value.indexOf('=');
    if (at <= 0) fail(`--env ${value}: expected NAME=value`);
    env[value.slice(0, at)] = value.slice(at + 1);
  } else fail(`unknown option ${option}`);
}
if (args.length === 0) fail('no module given');
let bytes;
try {
  bytes = readFileSync(args[0]);
} catch (e) {
  fail(`cannot read ${args[0]}: ${e.code ?? e}`);
}
const wasi = new WASI({ version: 'preview1', args, env, preopens, returnOnExit: true });
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), wasi.getImportObject());
process.exitCode = wasi.start(instance);
