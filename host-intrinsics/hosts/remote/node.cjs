// The remote side on a Node child process (`node --liftoff-only node.cjs <vm.wasm> <intrinsics.wasm>`, so the VM
// runs in V8's baseline tier only): the engine-neutral session of core.js over length-prefixed
// binary frames (u32 little-endian length, then the message) on stdin and stdout. CommonJS and
// plain JS, so it runs without the TypeScript build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const vmModule = new WebAssembly.Module(fs.readFileSync(process.argv[2]));
const helperModule = new WebAssembly.Module(fs.readFileSync(process.argv[3]));
const core = new Function(`${fs.readFileSync(path.join(__dirname, 'core.js'), 'utf8')}\nreturn { handoverRemote, handoverNativeVm, handoverInstantiateVm };`)();
const flags = process.execArgv.join(' ');
const session = core.handoverRemote(`V8 ${process.versions.v8} (node ${process.version}${flags ? ` ${flags}` : ''})`);
const makeVm = () => core.handoverNativeVm(core.handoverInstantiateVm(vmModule, helperModule));

// What has arrived, in pieces, joined once a whole frame is there: linear in the frame's size.
let pending = [];
let have = 0;
const joined = () => {
  if (pending.length > 1) pending = [Buffer.concat(pending, have)];
  return pending[0];
};
process.stdin.on('data', (chunk) => {
  pending.push(chunk);
  have += chunk.length;
  while (have >= 4) {
    const len = (pending[0].length >= 4 ? pending[0] : joined()).readUInt32LE(0);
    if (have < 4 + len) break;
    const all = joined();
    const msg = new Uint8Array(all.subarray(4, 4 + len));
    const rest = all.subarray(4 + len);
    pending = rest.length > 0 ? [rest] : [];
    have = rest.length;
    const reply = session.handle(msg, makeVm);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(reply.length, 0);
    // process.stdout writes to a pipe synchronously on Linux, in order.
    process.stdout.write(Buffer.concat([head, reply]));
  }
});
process.stdin.on('end', () => process.exit(0));
