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

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const len = pending.readUInt32LE(0);
    if (pending.length < 4 + len) break;
    const msg = new Uint8Array(pending.subarray(4, 4 + len));
    pending = pending.subarray(4 + len);
    const reply = session.handle(msg, makeVm);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(reply.length, 0);
    // process.stdout writes to a pipe synchronously on Linux, in order.
    process.stdout.write(Buffer.concat([head, reply]));
  }
});
process.stdin.on('end', () => process.exit(0));
