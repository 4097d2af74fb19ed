// `handover.wasm engine`: one store served over stdin/stdout, for a host that drives the VM from
// outside the runtime (host-intrinsics/hosts/runtimes/engine.ts, RuntimeEngine). Each request is
// one ABI call (ABI.md), or a few of the same kind, in a frame: u32 length, then that many bytes,
// the first an op; each reply is one frame. Values travel as io cells (8 bytes, ABI.md
// "Buffers"), types as typedescs, strings as u32 length + UTF-8. A failure the ABI reports as -1
// is followed by `u32 kind, u32 offset, str message`.
//
//   'M' module bytes                       → i32 id, then module_describe's blob
//   'F' func typedesc                      → i32 addr (host_func_new)
//   'G' u8 valtype, u8 mutable, cell        → i32 addr (global_new)
//   'T' u8 elemtype, u32 min, u32 max       → i32 addr (table_new)
//   'Y' u32 min, u32 max                    → i32 addr (memory_new)
//   'r' u32 addr                            → i32 0 + cell (global_read)
//   'w' u32 addr, cell                      → i32 0 (global_write)
//   'N' u32 module, u32 n, n × u32 addr     → i32 instance, then i32 start function (instance_start)
//   'X' u32 instance, u32 n, n × (u8 kind, u32 index) → n × i32 addr (instance_extern)
//   'D' u32 addr                            → func_describe's blob (empty for no function)
//   'R' u32 addr                            → i32 0 + the memory's bytes (memory_region, a copy)
//   'S' u32 n                               → nothing (set_slice)
//   'E' u32 on                              → i32 0 (set_metering)
//   'C' u32 mask                            → i32 0 (set_intrinsics)
//   'P' u32 kinds, records, capacity, n, n × (u32 func, u32 offset) → i32 0 (set_probes, probe_site)
//   'f'                                     → u64 fuel (fuel_get)
//   'u' u64 fuel                            → nothing (fuel_set)
//   'i' u32 func, u32 nresults, u32 n, n cells → a run reply (invoke)
//   'c' u32 nresults, u32 n, n cells        → a run reply (resume; the cells are a host call's results)
//   'a'                                     → nothing (abort_activation)
// A run reply is u8 status, then: 0 nresults cells; 1 u32 trap code, str message; 2 u32 host
// function, its parameters' cells; 3 u32 suspend reason; 4 the five cells of probe_event. The
// host serves a host call and answers with 'c' (its results) or 'a' (it ended the run).
// End of input ends the command.

import * as vm from "../index";
import * as H from "./host";
import { STATUS_COMPLETED, STATUS_HOST_CALL, STATUS_PROBE, STATUS_SUSPENDED, STATUS_TRAP } from "../vocabulary";

const CELL: usize = 8;
const OK: i32 = 0;

// Parameters per host function, to send a host call's arguments.
const hostParams = new Map<u32, u32>();

// ── frames ───────────────────────────────────────────────────────────────────────────────
// Reads exactly `n` bytes from stdin; false at end of input.
function readExact(p: usize, n: usize): bool {
  while (n > 0) {
    store<u32>(H.scratch, <u32>p);
    store<u32>(H.scratch, <u32>n, 4);
    if (H.fd_read(0, H.scratch, 1, H.scratch + 8) != 0) return false;
    const got = <usize>load<u32>(H.scratch, 8);
    if (got == 0) return false;
    p += got;
    n -= got;
  }
  return true;
}

// The reply being built: a length slot, then the body.
let out: usize = heap.alloc(1 << 16);
let outCap: usize = 1 << 16;
let outLen: usize = 4;

function room(n: usize): usize {
  if (outLen + n > outCap) {
    while (outLen + n > outCap) outCap <<= 1;
    out = heap.realloc(out, outCap);
  }
  const at = out + outLen;
  outLen += n;
  return at;
}

function u8out(v: u32): void {
  store<u8>(room(1), <u8>v);
}

function u32out(v: u32): void {
  store<u32>(room(4), v);
}

function u64out(v: u64): void {
  store<u64>(room(8), v);
}

function bytesOut(p: usize, n: usize): void {
  memory.copy(room(n), p, n);
}

function strOut(p: usize, n: usize): void {
  u32out(<u32>n);
  bytesOut(p, n);
}

function cellsOut(n: u32): void {
  bytesOut(vm.io_buffer(), <usize>n * CELL);
}

// `r`, and after a failure (-1) the VM's error.
function answer(r: i32): void {
  u32out(<u32>r);
  if (r == -1) {
    u32out(vm.error_kind());
    u32out(vm.error_offset());
    const p = vm.error_message();
    strOut(p, vm.result_length());
  }
}

function send(): bool {
  store<u32>(out, <u32>(outLen - 4));
  const ok = H.writeAll(1, out, outLen);
  outLen = 4;
  return ok;
}

// ── requests ─────────────────────────────────────────────────────────────────────────────
function run(status: i32, nresults: u32): void {
  u8out(<u32>status);
  if (status == STATUS_COMPLETED) cellsOut(nresults);
  else if (status == STATUS_TRAP) {
    u32out(vm.trap_code());
    const p = vm.error_message();
    strOut(p, vm.result_length());
  } else if (status == STATUS_HOST_CALL) {
    const f = <u32>vm.host_call_func();
    u32out(f);
    cellsOut(hostParams.has(f) ? hostParams.get(f) : 0);
  } else if (status == STATUS_SUSPENDED) u32out(vm.suspend_reason());
  else if (status == STATUS_PROBE) {
    vm.probe_event();
    cellsOut(5);
  }
}

// Copies `n` cells from `p` into the io buffer.
function cellsIn(p: usize, n: u32): void {
  memory.copy(vm.io_buffer(), p, <usize>n * CELL);
}

// Serves one request; `body` (a heap block of `len` bytes) is the request's, freed here unless
// the VM takes it over.
function serve(op: u32, body: usize, len: usize): void {
  const io = vm.io_buffer();
  if (op == 0x4d) { // 'M'
    const id = vm.module_new(body, <u32>len);
    answer(id);
    if (id >= 0) {
      const p = vm.module_describe(<u32>id);
      bytesOut(p, vm.result_length());
    }
    return;
  }
  if (op == 0x46) { // 'F'
    const addr = vm.host_func_new(body);
    answer(addr);
    if (addr >= 0) hostParams.set(<u32>addr, load<u32>(body));
  } else if (op == 0x47) { // 'G'
    store<u64>(io, load<u64>(body, 2));
    answer(vm.global_new(load<u8>(body), load<u8>(body, 1)));
  } else if (op == 0x54) answer(vm.table_new(load<u8>(body), load<u32>(body, 1), load<u32>(body, 5))); // 'T'
  else if (op == 0x59) answer(vm.memory_new(load<u32>(body), load<u32>(body, 4))); // 'Y'
  else if (op == 0x72) { // 'r'
    const r = vm.global_read(load<u32>(body));
    answer(r);
    if (r == OK) cellsOut(1);
  } else if (op == 0x77) { // 'w'
    store<u64>(io, load<u64>(body, 4));
    answer(vm.global_write(load<u32>(body)));
  } else if (op == 0x4e) { // 'N'
    const id = vm.instance_new(load<u32>(body), body + 8);
    answer(id);
    if (id >= 0) u32out(<u32>vm.instance_start(<u32>id));
  } else if (op == 0x58) { // 'X'
    const inst = load<u32>(body);
    const n = load<u32>(body, 4);
    for (let i: u32 = 0; i < n; i++) {
      const at = body + 8 + <usize>i * 5;
      u32out(<u32>vm.instance_extern(inst, load<u8>(at), load<u32>(at, 1)));
    }
  } else if (op == 0x44) { // 'D'
    const p = vm.func_describe(load<u32>(body));
    bytesOut(p, p == 0 ? 0 : vm.result_length());
  } else if (op == 0x52) { // 'R'
    const base = vm.memory_region(load<u32>(body));
    answer(base < 0 ? -1 : OK);
    if (base >= 0) bytesOut(<usize>base, <usize>load<u64>(io));
  } else if (op == 0x53) vm.set_slice(load<u32>(body)); // 'S'
  else if (op == 0x45) answer(vm.set_metering(load<u32>(body))); // 'E'
  else if (op == 0x43) answer(vm.set_intrinsics(load<u32>(body))); // 'C'
  else if (op == 0x50) { // 'P'
    let r = vm.set_probes(load<u32>(body), load<u32>(body, 4), load<u32>(body, 8));
    const n = load<u32>(body, 12);
    for (let i: u32 = 0; i < n && r >= 0; i++) r = vm.probe_site(load<u32>(body + 16 + <usize>i * 8), load<u32>(body + 20 + <usize>i * 8));
    answer(r);
  } else if (op == 0x66) { // 'f'
    vm.fuel_get();
    u64out(load<u64>(io));
  } else if (op == 0x75) { // 'u'
    store<u64>(io, load<u64>(body));
    vm.fuel_set();
  } else if (op == 0x69) { // 'i'
    cellsIn(body + 12, load<u32>(body, 8));
    run(vm.invoke(load<u32>(body)), load<u32>(body, 4));
  } else if (op == 0x63) { // 'c'
    cellsIn(body + 8, load<u32>(body, 4));
    run(vm.resume(), load<u32>(body));
  } else if (op == 0x61) vm.abort_activation(); // 'a'
  else answer(-2);
  heap.free(body);
}

// Serves requests until the input ends: the exit status.
export function engine(): i32 {
  const head = heap.alloc(8);
  for (;;) {
    if (!readExact(head, 5)) return 0;
    const len = <usize>load<u32>(head) - 1;
    const op = <u32>load<u8>(head, 4);
    // A block of its own: a module's bytes become the VM's.
    const body = heap.alloc(len + 8);
    if (!readExact(body, len)) return 0;
    serve(op, body, len);
    if (!send()) return 0;
  }
  return 0;
}
