// The remote side on SpiderMonkey's shell (`js102 spidermonkey.js <core.js> <vm.wasm> <intrinsics.wasm>`): the
// engine-neutral session of core.js over text lines, because the shell reads stdin only by line
// (readline) — each message is one line of base64, each reply one printed line. The shell has no
// TextEncoder, atob or require: core.js needs none.
load(scriptArgs[0]);
var vmModule = new WebAssembly.Module(os.file.readFile(scriptArgs[1], 'binary'));
var helperModule = new WebAssembly.Module(os.file.readFile(scriptArgs[2], 'binary'));
var session = handoverRemote('SpiderMonkey ' + (typeof version === 'function' ? version() : '') + ' (js102, wasm tiers ' + wasmCompileMode() + ')');
var makeVm = function () { return handoverNativeVm(handoverInstantiateVm(vmModule, helperModule)); };
for (;;) {
  var line = readline();
  if (line === null || line === undefined) break;
  if (line === '') continue;
  putstr(handoverBase64.encode(session.handle(handoverBase64.decode(line), makeVm)) + '\n');
}
