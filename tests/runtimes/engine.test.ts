// RuntimeEngine: the Engine interface served by build/handover.wasm (`handover.wasm engine`) in a
// Wasmtime process, answering as Vm does on Node: loading, instantiating, invoking, host functions
// called from the guest, traps with the spec's messages, the VM's verdict on a malformed module,
// and a runtime process that dies mid-session is a one-line error, not a hang. `npm run spec --
// --engine wasmtime` runs the whole spec suite through it.

import { afterEach, describe, expect, it } from 'vitest';
import { Vm, type Value } from '../../host-intrinsics/vm.js';
import { RuntimeEngine } from '../../host-intrinsics/hosts/runtimes/engine.js';
import { RemoteFault } from '../../host-intrinsics/hosts/protocol.js';
import { fn, wat } from '../helpers/wat.js';

const i32 = (value: number): Value => ({ type: 'i32', value });

const open: RuntimeEngine[] = [];
afterEach(() => {
  for (const e of open.splice(0)) e.close();
});

function engine(): RuntimeEngine {
  const e = RuntimeEngine.create('wasmtime');
  open.push(e);
  return e;
}

const GUEST = wat(`(module
  (import "host" "scale" (func $scale (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "handover")
  (global (export "count") (mut i32) (i32.const 7))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "scaled") (param i32) (result i32) (i32.add (call $scale (local.get 0)) (i32.const 1)))
  (func (export "spin") (loop (br 0))))`);

function instantiate(e: RuntimeEngine | Vm, scale: (x: number) => number = (x) => x * 10) {
  const host = e.newHostFunc({ params: ['i32'], results: ['i32'] }, ([x]) => [i32(scale((x as { value: number }).value))]);
  if (!host.ok) throw new Error(host.message);
  const loaded = e.loadModule(GUEST);
  if (!loaded.ok) throw new Error(loaded.message);
  const inst = e.instantiate(loaded.id, [host.addr]);
  if (!inst.ok) throw new Error(inst.message);
  return e.exports(inst.id);
}

describe('RuntimeEngine on wasmtime', () => {
  it('loads, instantiates and invokes; reads globals and a copy of memory', () => {
    const e = engine();
    const ex = instantiate(e);
    expect(e.invoke(fn(ex, 'add'), [i32(40), i32(2)])).toEqual({ kind: 'completed', values: [i32(42)] });
    const count = ex.get('count')!;
    expect(count.kind).toBe('global');
    e.globalWrite(count.addr, i32(-5));
    expect(e.globalRead(count.addr, 'i32')).toEqual(i32(-5));
    const memory = e.guestMemory(ex.get('memory')!.addr);
    expect(memory.length).toBe(65536);
    expect(new TextDecoder().decode(memory.subarray(16, 24))).toBe('handover');
  });

  it('serves a host function the guest calls, and ends the run when it throws', () => {
    const e = engine();
    let calls = 0;
    const ex = instantiate(e, (x) => {
      calls++;
      if (x < 0) throw new Error('negative');
      return x * 3;
    });
    expect(e.invoke(fn(ex, 'scaled'), [i32(5)])).toEqual({ kind: 'completed', values: [i32(16)] });
    expect(() => e.invoke(fn(ex, 'scaled'), [i32(-1)])).toThrow('negative');
    expect(e.usable).toBe(true);
    expect(e.invoke(fn(ex, 'scaled'), [i32(1)])).toEqual({ kind: 'completed', values: [i32(4)] });
    expect(calls).toBe(3);
    const stopped = e.invoke(fn(ex, 'scaled'), [i32(2)], { stopAtHostCalls: true });
    expect(stopped).toMatchObject({ kind: 'host-call', args: [i32(2)] });
    expect(e.resume()).toEqual({ kind: 'completed', values: [i32(7)] });
  });

  it('traps with the spec\'s message and stays usable; metered code runs out of fuel', () => {
    const e = engine();
    e.setMetering(true);
    const ex = instantiate(e);
    expect(e.invoke(fn(ex, 'div'), [i32(1), i32(0)])).toEqual({ kind: 'trap', code: 2, message: 'integer divide by zero' });
    expect(e.invoke(fn(ex, 'div'), [i32(0x80000000 | 0), i32(-1)])).toMatchObject({ kind: 'trap', message: 'integer overflow' });
    e.fuel = 1000n;
    expect(e.invoke(fn(ex, 'spin'), [])).toEqual({ kind: 'suspended', reason: 'fuel' });
    expect(e.fuel).toBeLessThan(1000n);
    e.abandon();
    expect(e.suspended).toBe(false);
    e.fuel = 1000n;
    expect(e.invoke(fn(ex, 'add'), [i32(1), i32(2)])).toEqual({ kind: 'completed', values: [i32(3)] });
  });

  it('refuses malformed and invalid modules as Vm does', () => {
    const e = engine();
    const vm = Vm.createSync();
    const bad = [
      new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]),
      new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1]),
      wat('(module (func (result i32) (i64.const 0)))'),
    ];
    for (const bytes of bad) {
      const refused = e.loadModule(bytes);
      expect(refused.ok).toBe(false);
      expect(refused).toEqual(vm.loadModule(bytes));
    }
  });

  it('a runtime process killed mid-session is a one-line error', () => {
    const e = engine();
    const ex = instantiate(e, (x) => {
      process.kill(e.pid!, 'SIGKILL');
      return x;
    });
    let error: unknown;
    try {
      e.invoke(fn(ex, 'scaled'), [i32(1)]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RemoteFault);
    const message = (error as Error).message;
    expect(message).toMatch(/^wasmtime running handover\.wasm engine ended/);
    expect(message).not.toContain('\n');
    expect(e.usable).toBe(false);
    expect(() => e.invoke(fn(ex, 'add'), [i32(1), i32(2)])).toThrow(message);
  });
});
