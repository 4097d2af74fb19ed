// WASI commands through the component: the WASI bridge (host-intrinsics/wasi/) is written against
// the Engine surface, so the same runWasi serves either engine — same output, same exit code
// (proc_exit arrives as EndActivation through a host call).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComponentEngine } from '../../host-intrinsics/api.js';
import { Vm, packageRoot, type Engine } from '../../host-intrinsics/vm.js';
import { CollectSink, runWasi } from '../../host-intrinsics/wasi/index.js';

const fixture = (name: string) => new Uint8Array(readFileSync(path.join(packageRoot(), 'tests', 'fixtures', `${name}.wasm`)));

function run(engine: Engine, name: string, args: string[]): { result: unknown; stdout: string } {
  const stdout = new CollectSink();
  const result = runWasi(engine, fixture(name), { args: [name, ...args], env: { LANG: 'C' }, stdout });
  return { result, stdout: new TextDecoder().decode(stdout.bytes()) };
}

describe('WASI commands on the component engine', () => {
  it.each([
    ['hello', []],
    ['args', ['3', 'hello', 'two words', '']],
    ['intarray', ['1000']],
  ])('%s runs as on the Vm', (name, args) => {
    const onComponent = run(ComponentEngine.create(), name, args);
    expect(onComponent).toEqual(run(Vm.createSync(), name, args));
    expect(onComponent.stdout.length).toBeGreaterThan(0);
  });
});
