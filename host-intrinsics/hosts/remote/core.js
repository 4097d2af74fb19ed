// The remote side of a handover, engine-neutral: a plain script (no imports, no host APIs) that
// every host engine loads the same way — Node and Chromium evaluate its text, js102 `load()`s it,
// the VM-on-VM host runs it against the inner VM's exports. It defines one global function,
// `handoverRemote()`, returning a session that answers the parent's binary messages
// (host-intrinsics/hosts/protocol.ts has the layouts):
//   'L' load    u32 n, n × (u32 len, func typedesc), module bytes  → 'K' engine description
//   'R' run     u64 fuel, snapshot                                   → 'H' snapshot (waits for a host call)
//                                                                      'F' snapshot (out of fuel)
//                                                                      'C' u64 fuel (completed)
//                                                                      'T' u64 fuel, message (trapped)
//   the VM refused the snapshot it was sent                           → 'E' message
//   any other failure (a trap out of the VM, an answer the ABI forbids) → 'X' message
// Each 'R' restores into a fresh VM instance (a fresh store), made by the caller's `makeVm()`,
// because a store only grows: restoring every continuation into one store would keep every
// earlier guest memory alive. Host functions are created first, in import order, so function
// addresses match the snapshot's (guest-vm/snapshot/FORMAT.md). The guest's system calls are never
// served here: at a host call the guest is snapshotted (the call recorded in it) and sent back.

/* exported handoverRemote */
var handoverRemote = function (describe) {
  'use strict';
  // BEGIN GENERATED vocabulary (scripts/gen-vocabulary.mjs)
  var STATUS_COMPLETED = 0, STATUS_TRAP = 1, STATUS_HOST_CALL = 2, STATUS_SUSPENDED = 3, STATUS_PROBE = 4;
  var SUSPEND_SLICE = 1, SUSPEND_FUEL = 2;
  // END GENERATED vocabulary
  var job = null; // { module: Uint8Array, types: Uint8Array[] }

  function utf8(s) {
    var out = [];
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }

  // What the parent sent was refused, as opposed to the remote failing: the parent shows the
  // first to the user as their error and the second as an internal one.
  function refusal(text) {
    var e = new Error(text);
    e.refusal = true;
    return e;
  }

  function message(tag, body) {
    var out = new Uint8Array(1 + body.length);
    out[0] = tag.charCodeAt(0);
    out.set(body, 1);
    return out;
  }

  function withFuel(tag, fuel, rest) {
    var out = new Uint8Array(1 + 8 + rest.length);
    out[0] = tag.charCodeAt(0);
    new DataView(out.buffer).setBigUint64(1, fuel, true);
    out.set(rest, 9);
    return out;
  }

  // `vm` = { ex: the ABI exports (i32 in, i32 out), mem(): the VM's whole memory as a Uint8Array,
  // fetched again after every call because it moves when the VM's memory grows }.
  function copyIn(vm, bytes) {
    var ptr = vm.ex.alloc(bytes.length) >>> 0;
    if (ptr === 0 && bytes.length > 0) throw new Error('alloc(' + bytes.length + ') failed in the remote VM');
    vm.mem().set(bytes, ptr);
    return ptr;
  }

  function blob(vm, ptr) {
    var len = vm.ex.result_length() >>> 0;
    return vm.mem().slice(ptr >>> 0, (ptr >>> 0) + len);
  }

  function errorText(vm) {
    var b = blob(vm, vm.ex.error_message());
    var s = '';
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    try { return decodeURIComponent(escape(s)); } catch (e) { return s; }
  }

  function io(vm) {
    return new DataView(vm.mem().buffer, vm.mem().byteOffset + (vm.ex.io_buffer() >>> 0), 8);
  }

  function fuelLeft(vm) {
    vm.ex.fuel_get();
    return io(vm).getBigUint64(0, true);
  }

  function snapshot(vm, inst) {
    var ptr = vm.ex.snapshot_take(inst, 0, 0, 0);
    if (ptr === 0) throw new Error('snapshot_take: ' + errorText(vm));
    return blob(vm, ptr);
  }

  function load(body) {
    var view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    var n = view.getUint32(0, true), at = 4, types = [];
    for (var i = 0; i < n; i++) {
      var len = view.getUint32(at, true);
      types.push(body.slice(at + 4, at + 4 + len));
      at += 4 + len;
    }
    job = { module: body.slice(at), types: types };
    return message('K', utf8(describe));
  }

  function run(body, makeVm) {
    if (job === null) throw new Error('run before load');
    var fuel = new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0, true);
    var snap = body.subarray(8);
    var vm = makeVm();
    var moduleId = vm.ex.module_new(copyIn(vm, job.module), job.module.length);
    if (moduleId < 0) throw new Error('module_new: ' + errorText(vm));
    var addrs = new Uint8Array(4 * job.types.length);
    var addrView = new DataView(addrs.buffer);
    for (var i = 0; i < job.types.length; i++) {
      var desc = copyIn(vm, job.types[i]);
      var addr = vm.ex.host_func_new(desc);
      vm.ex.free(desc);
      if (addr < 0) throw new Error('host_func_new: ' + errorText(vm));
      addrView.setUint32(4 * i, addr >>> 0, true);
    }
    var snapPtr = copyIn(vm, snap);
    var importsPtr = job.types.length > 0 ? copyIn(vm, addrs) : 0;
    var inst = vm.ex.snapshot_restore(snapPtr, snap.length, moduleId, importsPtr);
    if (inst < 0) throw refusal('snapshot_restore: ' + errorText(vm));
    // The parent completes every host call before it sends a snapshot; one still waiting here
    // would take whatever is in the io cells as its results.
    if (vm.ex.host_call_func() >= 0) throw new Error('the snapshot waits for a host call: the parent must serve it first');
    io(vm).setBigUint64(0, fuel, true);
    vm.ex.fuel_set();
    var status = vm.ex.resume();
    for (;;) {
      switch (status) {
        case STATUS_COMPLETED: return withFuel('C', fuelLeft(vm), new Uint8Array(0));
        case STATUS_TRAP: return withFuel('T', fuelLeft(vm), utf8(errorText(vm)));
        case STATUS_HOST_CALL: return message('H', snapshot(vm, inst));
        case STATUS_SUSPENDED:
          if (vm.ex.suspend_reason() === SUSPEND_FUEL) return message('F', snapshot(vm, inst));
          status = vm.ex.resume(); // a slice ended: go on
          break;
        default: throw new Error('resume returned unknown status ' + status);
      }
    }
  }

  return {
    /** One message in, one message out; `makeVm()` is called once per 'R'. */
    handle: function (msg, makeVm) {
      try {
        var tag = String.fromCharCode(msg[0]);
        var body = msg.subarray(1);
        if (tag === 'L') return load(body);
        if (tag === 'R') return run(body, makeVm);
        throw new Error('unknown message ' + JSON.stringify(tag));
      } catch (e) {
        if (e && e.refusal) return message('E', utf8(e.message));
        // A fault is a bug report: its kind (a RuntimeError is a trap out of the VM) says where to look.
        var kind = e && e.name && e.name !== 'Error' ? e.name + ': ' : '';
        return message('X', utf8(kind + String(e && e.message || e)));
      }
    },
  };
};

/** A VM (see `run` above) over a plain WebAssembly instance of build/vm.wasm. */
/** Instantiates the VM core module with its `handover:vm/intrinsics` served by a fresh instance
 * of the native helper (build/intrinsics.wasm). */
var handoverInstantiateVm = function (vmModule, helperModule) {
  'use strict';
  var helper = new WebAssembly.Instance(helperModule, {});
  return new WebAssembly.Instance(vmModule, { 'handover:vm/intrinsics': helper.exports });
};

var handoverNativeVm = function (instance) {
  'use strict';
  var ex = instance.exports;
  return { ex: ex, mem: function () { return new Uint8Array(ex.memory.buffer); } };
};

/**
 * Base64 both ways, for the transports that carry text only (js102's readline/print, Chromium's
 * page.evaluate); neither engine is sure to have atob/btoa with binary-safe semantics.
 */
var handoverBase64 = (function () {
  'use strict';
  var chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  var codes = new Uint8Array(128);
  for (var i = 0; i < 64; i++) codes[chars.charCodeAt(i)] = i;
  return {
    encode: function (bytes) {
      var parts = [], chunk = [];
      for (var i = 0; i < bytes.length; i += 3) {
        var n = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8) | (i + 2 < bytes.length ? bytes[i + 2] : 0);
        chunk.push(chars[(n >> 18) & 63], chars[(n >> 12) & 63], i + 1 < bytes.length ? chars[(n >> 6) & 63] : '=', i + 2 < bytes.length ? chars[n & 63] : '=');
        if (chunk.length >= 8192) { parts.push(chunk.join('')); chunk = []; }
      }
      parts.push(chunk.join(''));
      return parts.join('');
    },
    decode: function (text) {
      var len = text.length;
      while (len > 0 && text.charCodeAt(len - 1) === 61) len--;
      var out = new Uint8Array((len * 3) >> 2), at = 0, n = 0, bits = 0;
      for (var i = 0; i < len; i++) {
        n = (n << 6) | codes[text.charCodeAt(i)];
        bits += 6;
        if (bits >= 8) { bits -= 8; out[at++] = (n >> bits) & 255; }
      }
      return out;
    },
  };
})();
