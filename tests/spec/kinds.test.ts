// The runner checks the kind of each refusal: assert_malformed only passes on a decode error,
// assert_invalid only on a validation error, assert_unlinkable only at link time; and it counts
// each kind of refusal apart, text modules (which it skips) included.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Vm } from '../../host-intrinsics/vm.js';
import { wat } from '../helpers/wat.js';
import { runScript, type Command } from './runner.js';

const dir = mkdtempSync(path.join(tmpdir(), 'handover-spec-kinds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const malformed = new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]); // unknown binary version
const invalid = wat('(module (func (result i32) (i64.const 1)))');
const unlinkable = wat('(module (import "nowhere" "f" (func)))');
writeFileSync(path.join(dir, 'malformed.wasm'), malformed);
writeFileSync(path.join(dir, 'invalid.wasm'), invalid);
writeFileSync(path.join(dir, 'unlinkable.wasm'), unlinkable);

function run(commands: Omit<Command, 'line'>[]) {
  const script = { name: 'kinds', dir, commands: commands.map((c, i) => ({ line: i + 1, ...c })) };
  return runScript(script, { newVm: () => Vm.createSync(), timeoutMs: 10_000, slice: 1_000_000 });
}

it('passes each assertion only on a refusal of its own kind', () => {
  const r = run([
    { type: 'assert_malformed', filename: 'malformed.wasm', module_type: 'binary', text: 'unknown binary version' },
    { type: 'assert_invalid', filename: 'invalid.wasm', module_type: 'binary', text: 'type mismatch' },
    { type: 'assert_unlinkable', filename: 'unlinkable.wasm', module_type: 'binary', text: 'unknown import' },
    { type: 'assert_malformed', filename: 'invalid.wasm', module_type: 'binary', text: 'type mismatch' },
    { type: 'assert_invalid', filename: 'malformed.wasm', module_type: 'binary', text: 'unknown binary version' },
    { type: 'assert_invalid', filename: 'unlinkable.wasm', module_type: 'binary', text: 'unknown import' },
    { type: 'assert_unlinkable', filename: 'invalid.wasm', module_type: 'binary', text: 'unknown import' },
    { type: 'assert_malformed', filename: 'nothing.wat', module_type: 'text', text: 'unexpected token' },
  ]);
  expect([r.passed, r.failed, r.skipped]).toEqual([3, 4, 1]);
  expect(r.failures.map((f) => [f.line, f.message.replace(/ \(.*?\), but/, ', but').replace(/: .*/, '')])).toEqual([
    [4, 'expected the module to be refused as malformed, but it was refused as invalid'],
    [5, 'expected the module to be refused as invalid, but it was refused as malformed'],
    [6, 'expected the module to be refused as invalid, but it loaded'],
    [7, 'expected unlinkable, but it failed to load'],
  ]);
  expect(r.refusals).toEqual({
    assert_malformed: { passed: 1, failed: 1, skipped: 1, text: 1 },
    assert_invalid: { passed: 1, failed: 2, skipped: 0, text: 0 },
    assert_unlinkable: { passed: 1, failed: 1, skipped: 0, text: 0 },
    assert_uninstantiable: { passed: 0, failed: 0, skipped: 0, text: 0 },
  });
});
