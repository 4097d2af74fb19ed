// The remote side on SpiderMonkey's shell (`js102 spidermonkey.js <core.js> <vm.wasm> <intrinsics.wasm>`): the
// engine-neutral session of core.js over text lines, because the shell reads stdin only by line
// (readline). A message, and a reply, is lines of base64 of at most LINE_BYTES bytes each, every
// line but the last marked with a leading '+' (host-intrinsics/hosts/engines.ts), so that no string
// comes near the engines' length limits. The shell has no TextEncoder, atob or require: core.js
// needs none.
load(scriptArgs[0]);
var LINE_BYTES = 3 << 18;
var vmModule = new WebAssembly.Module(os.file.readFile(scriptArgs[1], 'binary'));
var helperModule = new WebAssembly.Module(os.file.readFile(scriptArgs[2], 'binary'));
var session = handoverRemote('SpiderMonkey ' + (typeof version === 'function' ? version() : '') + ' (js102, wasm tiers ' + wasmCompileMode() + ')');
var makeVm = function () { return handoverNativeVm(handoverInstantiateVm(vmModule, helperModule)); };
var parts = [];
var total = 0;
for (;;) {
  var line = readline();
  if (line === null || line === undefined) break;
  if (line === '') continue;
  var more = line.charCodeAt(0) === 43;
  var bytes = handoverBase64.decode(more ? line.slice(1) : line);
  parts.push(bytes);
  total += bytes.length;
  if (more) continue;
  var message = new Uint8Array(total);
  for (var i = 0, at = 0; i < parts.length; at += parts[i].length, i++) message.set(parts[i], at);
  parts = [];
  total = 0;
  var reply = session.handle(message, makeVm);
  for (var from = 0; from < reply.length || from === 0; from += LINE_BYTES) {
    var last = from + LINE_BYTES >= reply.length;
    putstr((last ? '' : '+') + handoverBase64.encode(reply.subarray(from, from + LINE_BYTES)) + '\n');
  }
}
