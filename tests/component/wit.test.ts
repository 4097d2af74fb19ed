// The built component (build/component/handover-vm.wasm) against wit/: same interface, same world
// exports, and imports only `intrinsics`, which host-intrinsics/component.ts serves with the native helper.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentWit } from '@bytecodealliance/jco';
import { packageRoot } from '../../host-intrinsics/vm.js';
// @ts-expect-error: a build script in plain JavaScript, without declarations
import { componentWitProblems } from '../../scripts/component-wit.mjs';

const root = packageRoot();
const component = new Uint8Array(readFileSync(path.join(root, 'build', 'component', 'handover-vm.wasm')));

describe('the built component', () => {
  it('has the interface and world exports of wit/', async () => {
    expect(await componentWitProblems(component, path.join(root, 'wit'))).toEqual([]);
  }, 60_000);

  it('imports only the intrinsics and exports the engine', async () => {
    const wit: string = await componentWit(component);
    expect(wit).toMatch(/export handover:vm\/engine;/);
    expect([...wit.matchAll(/\bimport ([^;]+);/g)].map((m) => m[1])).toEqual(['handover:vm/intrinsics']);
  }, 60_000);
});
