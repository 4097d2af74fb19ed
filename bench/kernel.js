// The benchmark's engine-neutral core: a plain script (no imports, no host APIs) that every host
// engine loads the same way — Node evaluates its text, js102 `load()`s it — so each host measures
// with the same code. It defines one global, `handoverBench`, with
//   parseModule(bytes)                 the types, function imports and exports of a module
//   wasi(args, sink)                   a tiny WASI preview1 (args, fd_write to stdout/stderr,
//                                      fd_fdstat_get, fd_seek, fd_close, proc_exit, clocks, random,
//                                      an empty environment): all the C fixtures call
//   runNative(module, args, sink)      runs a compiled WASI command natively: its exit code
//   runInVm(vm, bytes, args, sink)     runs the same command in a VM driven through its raw ABI
//                                      exports (guest-vm/ABI.md): its exit code
//   callInVm(vm, bytes, name, args)    loads a module with no imports and calls export `name`
//                                      with i32 arguments, returning its i32 result (micro kernels)
//   fixture(plan) / micro(plan)        the measuring loops (below)
// A `vm` is { ex: the ABI exports (numbers in and out), mem(): the VM's memory as a Uint8Array,
// fetched again after every call, guestMemory?(addr): a guest memory's bytes when they are not
// inside mem() (an intrinsics helper owning them) }.

/* exported handoverBench */
var handoverBench = (function () {
  'use strict';
  // BEGIN GENERATED vocabulary (scripts/gen-vocabulary.mjs)
  var STATUS_COMPLETED = 0, STATUS_TRAP = 1, STATUS_HOST_CALL = 2, STATUS_SUSPENDED = 3, STATUS_PROBE = 4;
  var SUSPEND_SLICE = 1, SUSPEND_FUEL = 2;
  // END GENERATED vocabulary
  var KIND_FUNC = 0, KIND_MEMORY = 2;

  // --- a module's types, function imports and exports --------------------------------------
  function parseModule(bytes) {
    var at = 8, types = [], imports = [], exports = {};
    function u32() {
      var r = 0, shift = 0, b;
      do { b = bytes[at++]; r |= (b & 127) << shift; shift += 7; } while (b & 128);
      return r >>> 0;
    }
    function name() {
      var n = u32(), s = '';
      for (var i = 0; i < n; i++) s += String.fromCharCode(bytes[at + i]);
      at += n;
      return s;
    }
    function limits() { var flag = u32(); u32(); if (flag & 1) u32(); }
    while (at < bytes.length) {
      var id = bytes[at++], size = u32(), end = at + size;
      if (id === 1) {
        for (var n = u32(), i = 0; i < n; i++) {
          at++; // 0x60
          var params = [], results = [];
          for (var np = u32(), j = 0; j < np; j++) params.push(bytes[at++]);
          for (var nr = u32(), k = 0; k < nr; k++) results.push(bytes[at++]);
          types.push({ params: params, results: results });
        }
      } else if (id === 2) {
        for (var m = u32(), q = 0; q < m; q++) {
          var mod = name(), field = name(), kind = bytes[at++];
          if (kind === 0) imports.push({ module: mod, name: field, type: types[u32()] });
          else if (kind === 1) { at++; limits(); }
          else if (kind === 2) limits();
          else { at += 2; }
          if (kind !== 0) throw new Error('bench: only function imports are supported (' + mod + '.' + field + ')');
        }
      } else if (id === 7) {
        for (var e = u32(), x = 0; x < e; x++) {
          var en = name(), ek = bytes[at++];
          exports[en] = { kind: ek, index: u32() };
        }
      }
      at = end;
    }
    return { types: types, imports: imports, exports: exports };
  }

  // --- WASI preview1, just what the fixtures use ---------------------------------------------
  function Exit(code) { this.code = code; }

  /** `sink(fd, bytes)` receives what the guest writes to fds 1 and 2. `memory()` is set by the runner. */
  function wasi(args, sink) {
    var enc = args.map(function (a) {
      var out = [];
      for (var i = 0; i < a.length; i++) out.push(a.charCodeAt(i) & 255);
      out.push(0);
      return out;
    });
    var w = { memory: null };
    function dv() { var m = w.memory(); return new DataView(m.buffer, m.byteOffset, m.byteLength); }
    var fns = {
      args_sizes_get: function (argc, size) {
        var v = dv();
        v.setUint32(argc, enc.length, true);
        v.setUint32(size, enc.reduce(function (s, a) { return s + a.length; }, 0), true);
        return 0;
      },
      args_get: function (argv, buf) {
        var m = w.memory(), v = dv();
        for (var i = 0; i < enc.length; i++) {
          v.setUint32(argv + 4 * i, buf, true);
          m.set(enc[i], buf);
          buf += enc[i].length;
        }
        return 0;
      },
      environ_sizes_get: function (n, size) { var v = dv(); v.setUint32(n, 0, true); v.setUint32(size, 0, true); return 0; },
      environ_get: function () { return 0; },
      fd_write: function (fd, iovs, n, written) {
        if (fd !== 1 && fd !== 2) return 8; // EBADF
        var m = w.memory(), v = dv(), total = 0;
        for (var i = 0; i < n; i++) {
          var ptr = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
          sink(fd, m.slice(ptr, ptr + len));
          total += len;
        }
        dv().setUint32(written, total, true);
        return 0;
      },
      fd_fdstat_get: function (fd, buf) {
        if (fd > 2) return 8;
        var m = w.memory();
        for (var i = 0; i < 24; i++) m[buf + i] = 0;
        m[buf] = 2; // character device, no seek rights: stdio sees a tty-like stream
        return 0;
      },
      fd_seek: function (fd) { return fd > 2 ? 8 : 70; }, // ESPIPE
      fd_close: function () { return 0; },
      proc_exit: function (code) { throw new Exit(code); },
      clock_time_get: function (id, precision, out) {
        var ns = typeof performance !== 'undefined' ? performance.now() * 1e6 : Date.now() * 1e6;
        dv().setBigUint64(out, BigInt(Math.floor(ns)), true);
        return 0;
      },
      random_get: function (buf, len) {
        var m = w.memory();
        for (var i = 0; i < len; i++) m[buf + i] = (Math.random() * 256) | 0;
        return 0;
      },
    };
    w.fns = fns;
    return w;
  }

  // --- native ---------------------------------------------------------------------------------
  function runNative(module, args, sink) {
    var w = wasi(args, sink);
    var imports = { wasi_snapshot_preview1: {} };
    WebAssembly.Module.imports(module).forEach(function (i) {
      var f = w.fns[i.name];
      if (!f) throw new Error('bench: the guest imports ' + i.module + '.' + i.name + ', which the shim lacks');
      imports[i.module][i.name] = function () {
        var a = [];
        for (var k = 0; k < arguments.length; k++) a.push(typeof arguments[k] === 'bigint' ? Number(arguments[k]) : arguments[k]);
        return f.apply(null, a);
      };
    });
    var instance = new WebAssembly.Instance(module, imports);
    w.memory = function () { return new Uint8Array(instance.exports.memory.buffer); };
    try {
      instance.exports._start();
      return 0;
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw e;
    }
  }

  // --- in a VM, through its raw exports -------------------------------------------------------
  function copyIn(vm, bytes) {
    var ptr = vm.ex.alloc(bytes.length) >>> 0;
    if (ptr === 0 && bytes.length > 0) throw new Error('alloc(' + bytes.length + ') failed in the VM');
    vm.mem().set(bytes, ptr);
    return ptr;
  }

  function errorText(vm) {
    var ptr = vm.ex.error_message() >>> 0, len = vm.ex.result_length() >>> 0;
    var b = vm.mem().subarray(ptr, ptr + len), s = '';
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }

  function typedesc(type) {
    var out = new Uint8Array(8 + type.params.length + type.results.length), v = new DataView(out.buffer), at = 0;
    [type.params, type.results].forEach(function (list) {
      v.setUint32(at, list.length, true);
      at += 4;
      for (var i = 0; i < list.length; i++) out[at++] = list[i];
    });
    return out;
  }

  function io(vm) {
    var m = vm.mem();
    return new DataView(m.buffer, m.byteOffset + (vm.ex.io_buffer() >>> 0), 8 * 1024);
  }

  /** Loads and instantiates `bytes` with host functions `impls` (one per import): { inst, desc }. */
  function instantiate(vm, bytes, impls) {
    var desc = parseModule(bytes);
    var mod = vm.ex.module_new(copyIn(vm, bytes), bytes.length);
    if (mod < 0) throw new Error('module_new: ' + errorText(vm));
    var addrs = new Uint8Array(4 * desc.imports.length), av = new DataView(addrs.buffer), byAddr = {};
    desc.imports.forEach(function (imp, i) {
      var d = copyIn(vm, typedesc(imp.type));
      var addr = vm.ex.host_func_new(d);
      vm.ex.free(d);
      if (addr < 0) throw new Error('host_func_new: ' + errorText(vm));
      av.setUint32(4 * i, addr >>> 0, true);
      byAddr[addr >>> 0] = { type: imp.type, impl: impls[i] };
    });
    var inst = vm.ex.instance_new(mod, addrs.length ? copyIn(vm, addrs) : 0);
    if (inst < 0) throw new Error('instance_new: ' + errorText(vm));
    if (vm.ex.instance_start(inst) >= 0) throw new Error('bench: guests with a start function are not supported');
    return { inst: inst, desc: desc, hosts: byAddr };
  }

  function exportAddr(vm, it, name, kind) {
    var e = it.desc.exports[name];
    if (!e || e.kind !== kind) throw new Error('bench: the guest has no export ' + name);
    return vm.ex.instance_extern(it.inst, kind, e.index) >>> 0;
  }

  /** Runs to completion, serving host calls; returns the status (0 or 1) or throws Exit. */
  function drive(vm, status, it) {
    for (;;) {
      if (status === STATUS_COMPLETED || status === STATUS_TRAP) return status;
      if (status === STATUS_SUSPENDED) { status = vm.ex.resume(); continue; }
      if (status !== STATUS_HOST_CALL) throw new Error('bench: unknown status ' + status);
      var host = it.hosts[vm.ex.host_call_func() >>> 0];
      var cells = io(vm), args = [];
      for (var i = 0; i < host.type.params.length; i++) {
        args.push(host.type.params[i] === 0x7e ? Number(cells.getBigInt64(8 * i, true)) : cells.getInt32(8 * i, true));
      }
      var result;
      try {
        result = host.impl.apply(null, args);
      } catch (e) {
        if (e instanceof Exit) vm.ex.abort_activation();
        throw e;
      }
      if (host.type.results.length) io(vm).setInt32(0, result | 0, true);
      status = vm.ex.resume();
    }
  }

  function guestMemory(vm, addr) {
    if (vm.guestMemory) return vm.guestMemory(addr);
    var base = vm.ex.memory_region(addr);
    if (base < 0) throw new Error('memory_region: ' + errorText(vm));
    var len = Number(io(vm).getBigUint64(0, true)), m = vm.mem();
    return m.subarray(base >>> 0, (base >>> 0) + len);
  }

  function runInVm(vm, bytes, args, sink) {
    var w = wasi(args, sink);
    var desc = parseModule(bytes);
    var impls = desc.imports.map(function (i) {
      var f = w.fns[i.name];
      if (!f) throw new Error('bench: the guest imports ' + i.module + '.' + i.name + ', which the shim lacks');
      return f;
    });
    var it = instantiate(vm, bytes, impls);
    var memAddr = exportAddr(vm, it, 'memory', KIND_MEMORY);
    w.memory = function () { return guestMemory(vm, memAddr); };
    try {
      var status = drive(vm, vm.ex.invoke(exportAddr(vm, it, '_start', KIND_FUNC)), it);
      if (status === STATUS_TRAP) throw new Error('the guest trapped: ' + errorText(vm));
      return 0;
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw e;
    }
  }

  function callInVm(vm, bytes, name, args) {
    var it = instantiate(vm, bytes, []);
    var cells = io(vm);
    for (var i = 0; i < args.length; i++) cells.setInt32(8 * i, args[i], true);
    var status = drive(vm, vm.ex.invoke(exportAddr(vm, it, name, KIND_FUNC)), it);
    if (status === STATUS_TRAP) throw new Error(name + ' trapped: ' + errorText(vm));
    return io(vm).getInt32(0, true);
  }

  // --- the measuring loops --------------------------------------------------------------------
  function median(xs) { var s = xs.slice().sort(function (a, b) { return a - b; }); return s[s.length >> 1]; }

  function same(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /**
   * One fixture on one host. plan = { name, bytes, args, warmArgs, rounds, modes: [mode names],
   * makeVm(mode) → vm, or a string saying why this mode cannot run, clock() → ms (CPU time),
   * progress(text) }. Each round runs, per mode, native then the VM back to back (paired), and
   * checks that the VM printed exactly what native printed. Returns { native: [ms…], vm: { mode:
   * [ms…] }, ratio: { mode: [vm/native per round] }, na: { mode: why } }.
   */
  function fixture(plan) {
    var module = new WebAssembly.Module(plan.bytes);
    var argv = [plan.name].concat(plan.args), warm = [plan.name].concat(plan.warmArgs);
    var ignore = function () {};
    var out = { native: [], vm: {}, ratio: {}, na: {} };
    var usable = [];
    // Warm-up, per configuration: the guest's hot functions (natively) and the VM's dispatch loop
    // reach the optimizing tier, as in a long-running process.
    runNative(module, warm, ignore);
    runNative(module, argv, ignore);
    runNative(module, argv, ignore);
    plan.modes.forEach(function (mode, i) {
      var vm = plan.makeVm(mode);
      if (typeof vm === 'string') { out.na[mode] = vm; return; }
      // The first mode warms for a while: the host compiles the VM's dispatch loop with its
      // optimizing tier in the background (V8: 60–400 ms of CPU on this machine, counted in the
      // process's CPU time), and only later calls use that code.
      warmFor(plan.clock, usable.length === 0 ? 1500 : 0, function () { runInVm(plan.makeVm(mode), plan.bytes, warm, ignore); });
      usable.push(mode);
      out.vm[mode] = [];
      out.ratio[mode] = [];
    });
    for (var r = 0; r < plan.rounds; r++) {
      var line = [];
      for (var k = 0; k < usable.length; k++) {
        var mode = usable[k];
        var expected = [], got = [];
        var t0 = plan.clock();
        var code = runNative(module, argv, function (fd, b) { expected.push(fd, b); });
        var n = plan.clock() - t0;
        if (code !== 0) throw new Error(plan.name + ' natively: exit ' + code);
        var vm = plan.makeVm(mode);
        var t1 = plan.clock();
        var vcode = runInVm(vm, plan.bytes, argv, function (fd, b) { got.push(fd, b); });
        var v = plan.clock() - t1;
        if (vcode !== 0) throw new Error(plan.name + ' in the VM (' + mode + '): exit ' + vcode);
        if (!same(flat(expected), flat(got))) throw new Error(plan.name + ' in the VM (' + mode + ') printed something else than natively');
        out.native.push(n);
        out.vm[mode].push(v);
      }
      // Each mode against the median of the round's native runs: a native run's time depends on
      // what ran just before it (here, which VM run freed which memory), so the run right before
      // a mode is a biased partner; the round's median keeps the pairing in time without it.
      var roundNative = median(out.native.slice(-usable.length));
      for (var k2 = 0; k2 < usable.length; k2++) {
        var m2 = usable[k2], v2 = out.vm[m2][out.vm[m2].length - 1];
        out.ratio[m2].push(v2 / roundNative);
        line.push(m2 + ' ' + v2.toFixed(0) + ' ms = ' + (v2 / roundNative).toFixed(2) + 'x');
      }
      plan.progress(plan.name + ' round ' + (r + 1) + '/' + plan.rounds + ': native ' + median(out.native.slice(-usable.length)).toFixed(1) + ' ms; ' + line.join(', '));
    }
    return out;
  }

  /** Runs `fn` at least once and until `ms` of the clock went by. */
  function warmFor(clock, ms, fn) {
    var t0 = clock();
    do fn(); while (clock() - t0 < ms);
  }

  function flat(chunks) {
    var out = [];
    for (var i = 0; i < chunks.length; i += 2) {
      out.push(chunks[i]);
      for (var j = 0; j < chunks[i + 1].length; j++) out.push(chunks[i + 1][j]);
    }
    return out;
  }

  /**
   * Micro kernels on one host. plan = { kernels: [{ name, cls, bytes, iterations }], baseline: the
   * name of the empty loop (cls null), reps, makeVm(mode), clock(), progress(text) }. Each kernel
   * exports run(n), looping n times. Every kernel runs with its class off (mode 'none') and on
   * (mode = its class); the baseline in every mode, right before each kernel. ns per iteration
   * minus the baseline's just before, median of reps. Returns { mode: { kernel: ns } | 'n/a …' }.
   */
  function micro(plan) {
    var out = {};
    var modes = ['none'];
    var empty = plan.kernels.filter(function (k) { return k.name === plan.baseline; })[0];
    var first = plan.makeVm('none');
    var firstIt = instantiate(first, empty.bytes, []);
    // As in fixture(): the dispatch loop reaches the optimizing tier before anything is timed.
    warmFor(plan.clock, 300, function () {
      io(first).setInt32(0, empty.iterations, true);
      drive(first, first.ex.invoke(exportAddr(first, firstIt, 'run', KIND_FUNC)), firstIt);
    });
    plan.kernels.forEach(function (k) { if (k.cls && modes.indexOf(k.cls) < 0) modes.push(k.cls); });
    modes.forEach(function (mode) {
      var probe = plan.makeVm(mode);
      if (typeof probe === 'string') { out[mode] = probe; return; }
      // One VM and instance per kernel; two untimed calls compile the function and let the host
      // tier the VM's dispatch loop up. Then per repetition the baseline and the kernel back to
      // back (paired, like the fixtures): ns per iteration of each, and their difference.
      var set = plan.kernels.filter(function (k) { return mode === 'none' || k.cls === mode || k.name === plan.baseline; });
      var runs = set.map(function (k) {
        var vm = plan.makeVm(mode);
        var it = instantiate(vm, k.bytes, []);
        var run = { k: k, vm: vm, it: it, fn: exportAddr(vm, it, 'run', KIND_FUNC) };
        time(run);
        time(run);
        return run;
      });
      var base = runs.filter(function (r) { return r.k.name === plan.baseline; })[0];
      var samples = {};
      for (var r = 0; r < plan.reps; r++) {
        runs.forEach(function (run) {
          if (run === base) return;
          var b = time(base), t = time(run);
          (samples[plan.baseline] = samples[plan.baseline] || []).push(b);
          (samples[run.k.name] = samples[run.k.name] || []).push(t - b);
        });
      }
      var net = {};
      Object.keys(samples).forEach(function (name) { net[name] = median(samples[name]); });
      out[mode] = net;
      plan.progress('micro, intrinsics ' + mode + ': ' + Object.keys(net).map(function (n) { return n + ' ' + net[n].toFixed(1) + ' ns'; }).join(', '));
    });
    return out;

    function time(run) {
      io(run.vm).setInt32(0, run.k.iterations, true);
      var t0 = plan.clock();
      var status = drive(run.vm, run.vm.ex.invoke(run.fn), run.it);
      var t = plan.clock() - t0;
      if (status !== STATUS_COMPLETED) throw new Error(run.k.name + ' trapped: ' + errorText(run.vm));
      return (t * 1e6) / run.k.iterations;
    }
  }

  return {
    parseModule: parseModule, wasi: wasi, Exit: Exit, runNative: runNative, runInVm: runInVm,
    callInVm: callInVm, fixture: fixture, micro: micro, median: median,
  };
})();
