// One host's share of `npm run bench` on SpiderMonkey's shell:
//   js102 bench/host-js102.js <bench/kernel.js> <build/vm.wasm> <plan.json> [label]
// The same plans as bench/host.ts (kind `fixture` or `micro`), measured by the same kernel; the VM
// is build/vm.wasm instantiated here, with the intrinsics helper (build/intrinsics.wasm, beside it)
// when the VM imports any, switched per VM through the ABI export set_intrinsics(mask). CPU time
// from cpuNow(). Prints one JSON line; progress goes to stderr.
load(scriptArgs[0]);
var vmPath = scriptArgs[1];
var plan = JSON.parse(os.file.readFile(scriptArgs[2]));
var label = scriptArgs[3] || '';
var NOT_BUILT = 'n/a (not built)';
var MASKS = { bulk: 1, float: 2, memory: 4 };
var vmModule = new WebAssembly.Module(os.file.readFile(vmPath, 'binary'));
var INTRINSICS = 'handover:vm/intrinsics';
var wantsIntrinsics = WebAssembly.Module.imports(vmModule).some(function (i) { return i.module === INTRINSICS; });
var helperModule = null;
if (wantsIntrinsics) {
  var helperPath = vmPath.replace(/vm\.wasm$/, 'intrinsics.wasm');
  helperModule = new WebAssembly.Module(os.file.readFile(helperPath, 'binary'));
}

function classesOf(mode) { return mode === 'none' ? [] : mode === 'all' ? ['bulk', 'float', 'memory'] : mode === 'bulk+memory' ? ['bulk', 'memory'] : [mode]; }

function makeVm(mode) {
  var classes = classesOf(mode);
  var imports = {};
  var helper = null;
  if (helperModule) {
    helper = new WebAssembly.Instance(helperModule, {});
    imports[INTRINSICS] = helper.exports;
  }
  var ex = new WebAssembly.Instance(vmModule, imports).exports;
  if (classes.length > 0 && typeof ex.set_intrinsics !== 'function') return NOT_BUILT;
  if (typeof ex.set_intrinsics === 'function') {
    var mask = classes.reduce(function (m, c) { return m | MASKS[c]; }, 0);
    if (ex.set_intrinsics(mask) < 0) throw new Error('set_intrinsics(' + mask + ') refused');
  }
  var vm = { ex: ex, mem: function () { return new Uint8Array(ex.memory.buffer); } };
  if (helper) {
    // Base 0: a host-owned guest memory (the memory class), at the start of the helper's memory.
    vm.guestMemory = function (addr) {
      var base = ex.memory_region(addr);
      if (base < 0) throw new Error('memory_region(' + addr + ') failed');
      var len = Number(new DataView(ex.memory.buffer, ex.io_buffer() >>> 0, 8).getBigUint64(0, true));
      return new Uint8Array(base === 0 ? helper.exports.memory.buffer : ex.memory.buffer, base >>> 0, len);
    };
  }
  return vm;
}

function clock() { return cpuNow() * 1000; }
function progress(s) { printErr('  ' + label + s); }

var result;
if (plan.kind === 'fixture') {
  plan.bytes = os.file.readFile(plan.file, 'binary');
  plan.makeVm = makeVm; plan.clock = clock; plan.progress = progress;
  result = handoverBench.fixture(plan);
} else {
  plan.kernels.forEach(function (k) { k.bytes = os.file.readFile(k.file, 'binary'); });
  plan.makeVm = makeVm; plan.clock = clock; plan.progress = progress;
  result = handoverBench.micro(plan);
}
print(JSON.stringify(result));
