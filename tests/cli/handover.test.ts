// The handover commands as a user runs them (separate processes, the compiled CLI): `run
// --suspend-after --snapshot`, `resume --host` (chained), `inspect`, their help, their mistakes, and
// a host that is not installed. Which hosts give identical output at every point is
// tests/hosts/handover.test.ts's business; here each command's contract.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, requireBuild } from '../wasi/harness.js';
import { layout, resealed, withField } from '../fuzz/snapshot-format.js';
import { Vm } from '../../host-intrinsics/vm.js';
import { snapshotSections } from '../../host-intrinsics/hosts/snapshot-file.js';
import { SECTION_NAMES, Section } from '../../host-intrinsics/vocabulary.js';

requireBuild('host-intrinsics/cli/main.js', ['host-intrinsics/cli', 'host-intrinsics/hosts', 'host-intrinsics/wasi']);
const MAIN = path.join(ROOT, 'build/js/host-intrinsics/cli/main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'handover-cli-ho-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function handover(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
  expect(r.stderr).not.toMatch(/\n\s+at .*[:(]/); // no stack trace, ever
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
const fixture = (name: string) => path.join(FIXTURES, `${name}.wasm`);
const file = (name: string) => path.join(dir, name);
const NOTE = /^handover: suspended on (\S+) after (\d+) instructions; snapshot (\S+) \((\d+) bytes\)\n$/;

describe('help', () => {
  it('documents run --suspend-after, resume, inspect and the hosts', () => {
    const r = handover(['--help']);
    for (const word of ['--suspend-after', '--snapshot', 'handover resume', '--host', 'handover inspect', 'node-liftoff', 'spidermonkey', 'chromium', 'libmozjs-102-dev']) {
      expect(r.stdout).toContain(word);
    }
    expect(handover(['resume', '--help']).status).toBe(0);
    expect(handover(['inspect', '--help']).status).toBe(0);
  });
});

describe('suspend, resume, inspect', () => {
  it('run --suspend-after prints the output so far, writes the snapshot and exits 0', () => {
    const whole = handover(['run', fixture('float'), '1000']);
    const first = handover(['run', '--suspend-after', '200000', '--snapshot', file('a.snap'), fixture('float'), '1000']);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(NOTE);
    expect(whole.stdout.startsWith(first.stdout)).toBe(true);
    // node → spidermonkey → node: a chain of handovers gives the rest of the output.
    const second = handover(['resume', file('a.snap'), '--host', 'spidermonkey', '--suspend-after', '200000', '--snapshot', file('b.snap')]);
    expect([second.status, second.stderr.match(NOTE)?.slice(1, 3)]).toEqual([0, ['spidermonkey', expect.any(String)]]);
    const third = handover(['resume', file('b.snap')]);
    expect(third).toEqual({ stdout: whole.stdout.slice(first.stdout.length + second.stdout.length), stderr: '', status: 0 });
  });

  it('a guest that finishes before --suspend-after runs as usual and writes no snapshot', () => {
    const r = handover(['run', '--env', 'LANG=C', '--suspend-after', '100000000', '--snapshot', file('never.snap'), fixture('args'), '3', 'x']);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('args: exiting with code 3\n');
    expect(existsSync(file('never.snap'))).toBe(false);
  });

  it('resume exits with the guest\'s code and keeps its stderr (args, on node-liftoff)', () => {
    const whole = handover(['run', '--env', 'LANG=C', fixture('args'), '3', 'x']);
    const first = handover(['run', '--env', 'LANG=C', '--suspend-after', '20000', '--snapshot', file('args.snap'), fixture('args'), '3', 'x']);
    const rest = handover(['resume', file('args.snap'), '--host', 'node-liftoff']);
    expect(rest.status).toBe(3);
    expect(first.stdout + rest.stdout).toBe(whole.stdout);
    expect(first.stderr.replace(NOTE, '') + rest.stderr).toBe(whole.stderr);
  });

  it('fileio resumes with its files reopened by path and offset', () => {
    const box = file('box');
    spawnSync('mkdir', ['-p', box]);
    const whole = handover(['run', '--dir', `${box}::/sandbox`, fixture('fileio'), '/sandbox', '5']);
    const first = handover(['run', '--dir', `${box}::/sandbox`, '--suspend-after', '150000', '--snapshot', file('f.snap'), fixture('fileio'), '/sandbox', '5']);
    const info = handover(['inspect', file('f.snap')]);
    expect(info.stdout).toMatch(/fd 4 +file \/sandbox\/fio\/\S+, offset \d+/);
    const rest = handover(['resume', file('f.snap'), '--host', 'node-liftoff', '--dir', `${box}::/sandbox`]);
    expect([rest.status, first.stdout + rest.stdout]).toEqual([0, whole.stdout]);
  });

  it('a snapshot grants no directory: resume needs --dir for each preopen, and the path in the file is ignored', () => {
    const box = file('box2');
    const elsewhere = file('elsewhere');
    spawnSync('mkdir', ['-p', box, elsewhere]);
    const whole = handover(['run', '--dir', `${box}::/sandbox`, fixture('fileio'), '/sandbox', '5']);
    expect(handover(['run', '--dir', `${box}::/sandbox`, '--suspend-after', '150000', '--snapshot', file('d.snap'), fixture('fileio'), '/sandbox', '5']).status).toBe(0);
    expect(handover(['resume', file('d.snap')])).toEqual({
      stdout: '', status: 1, stderr: `error: ${file('d.snap')}: the guest had /sandbox preopened (from ${box}); give --dir <host>::/sandbox to grant it a directory\n`,
    });
    expect(handover(['resume', file('d.snap'), '--dir', `${box}::/sandbox`, '--dir', `${box}::/other`])).toMatchObject({
      status: 1, stderr: 'error: --dir /other: the snapshot has no preopen named /other (it has /sandbox)\n',
    });
    // A copy of the directory granted instead: the guest goes on there, the original is untouched.
    spawnSync('cp', ['-a', `${box}/.`, elsewhere]);
    const before = spawnSync('find', [box, '-type', 'f', '-newer', file('d.snap')], { encoding: 'utf8' }).stdout;
    const rest = handover(['resume', file('d.snap'), '--dir', `${elsewhere}::/sandbox`]);
    expect(rest.status).toBe(0);
    expect(rest.stdout.length).toBeGreaterThan(0);
    expect(whole.stdout.endsWith(rest.stdout)).toBe(true);
    expect(spawnSync('find', [box, '-type', 'f', '-newer', file('d.snap')], { encoding: 'utf8' }).stdout).toBe(before);
  });

  it('inspect shows the format, sizes, pages, frames with names and the WASI state', () => {
    handover(['run', '--suspend-after', '300000', '--snapshot', file('i.snap'), fixture('float'), '1000']);
    const r = handover(['inspect', file('i.snap')]);
    expect(r.status).toBe(0);
    const size = readFileSync(file('i.snap')).length;
    for (const re of [
      new RegExp(`${size} bytes`), /format +version 2, written by handover/, /module +embedded, \d+ bytes, sha256 [0-9a-f]{64}/,
      /memory 0 +17 pages .*, \d+ stored/, /sections +state \d+, globals \d+, memory \d+/, /executed +\d+ instructions, on node/,
      /#0 +_start/, / main +func/, /args \["float","1000"\]/,
    ]) expect(r.stdout).toMatch(re);
  });

  it('inspect names every section, those of monitored and probed snapshots and a pending host call too', () => {
    handover(['run', '--suspend-after', '300000', '--snapshot', file('n.snap'), fixture('float'), '1000']);
    const info = Vm.createSync().snapshotInfo(readFileSync(file('n.snap')));
    if (!('frames' in info) || !info.module) throw new Error('no snapshot');
    // The same guest stopped at its first host call in a store that monitors and records, with
    // the CLI's host state: a snapshot holding every section.
    const vm = Vm.createSync();
    vm.setMonitoring(true);
    vm.setRecording({ inclusive: true });
    const loaded = vm.loadModule(info.module);
    if (!loaded.ok) throw new Error(loaded.message);
    const imports = loaded.imports.map((i) => {
      if (i.kind !== 'func') throw new Error('a WASI guest imports functions only');
      const f = vm.newHostFunc(i.type, () => { throw new Error('never called'); });
      if (!f.ok) throw new Error(f.message);
      return f.addr;
    });
    const inst = vm.instantiate(loaded.id, imports);
    if (!inst.ok) throw new Error(inst.message);
    const start = vm.exports(inst.id).get('_start');
    if (start?.kind !== 'func') throw new Error('no _start');
    expect(vm.invoke(start.addr, [], { stopAtHostCalls: true }).kind).toBe('host-call');
    const snapshot = vm.snapshot(inst.id, info.hostState, { embedModule: true });
    if (!(snapshot instanceof Uint8Array)) throw new Error(snapshot.message);
    writeFileSync(file('all.snap'), snapshot);
    const r = handover(['inspect', file('all.snap')]);
    expect(r.status).toBe(0);
    const line = /^sections +(.*)$/m.exec(r.stdout)?.[1] ?? '';
    const tags = (snapshotSections(snapshot) ?? []).map((x) => x.tag);
    expect([...tags].sort((a, b) => a - b)).toEqual(Object.values(Section).sort((a, b) => a - b));
    expect(line.split(', ').map((x) => x.replace(/ \d+$/, ''))).toEqual(tags.map((tag) => SECTION_NAMES[tag]));
    expect(line).not.toMatch(/#\d|unknown/);
    expect(r.stdout).toMatch(/host call +pending: wasi_snapshot_preview1\.\w+/);
  });
});

describe('mistakes', () => {
  it('--suspend-after and --snapshot go together', () => {
    expect(handover(['run', '--suspend-after', '5', fixture('hello')])).toMatchObject({ status: 1, stderr: expect.stringContaining('--suspend-after needs --snapshot') });
    expect(handover(['resume', 'x.snap', '--snapshot', 'y'])).toMatchObject({ status: 1, stderr: expect.stringContaining('--snapshot needs --suspend-after') });
  });

  it('an unknown host, a missing or foreign file', () => {
    expect(handover(['resume', 'x.snap', '--host', 'wasmtime']).stderr).toContain('--host wants one of node, node-liftoff, spidermonkey, chromium, vm');
    expect(handover(['resume', file('missing.snap')])).toMatchObject({ status: 1, stderr: expect.stringContaining('no such file') });
    expect(handover(['inspect', fixture('hello')])).toMatchObject({ status: 1, stderr: expect.stringMatching(/^error: .*hello\.wasm: /) });
  });

  it('an unwritable --snapshot is refused before the guest runs', () => {
    for (const [target, why] of [[file('no/such/dir/s.snap'), `no such directory ${file('no/such/dir')}`], [dir, 'it is a directory']]) {
      expect(handover(['run', '--suspend-after', '100', '--snapshot', target, fixture('hello')])).toEqual({
        stdout: '', stderr: `error: cannot write the snapshot ${target}: ${why}\n`, status: 1,
      });
    }
    expect(handover(['run', '--suspend-after', '100', '--snapshot', file('w.snap'), fixture('hello')]).status).toBe(0);
    expect(handover(['resume', file('w.snap'), '--suspend-after', '5', '--snapshot', file('nope/w2.snap')])).toMatchObject({ stdout: '', status: 1 });
  });

  it('resume says so when a file the guest had open is gone', () => {
    const box = file('gone');
    spawnSync('mkdir', ['-p', box]);
    expect(handover(['run', '--dir', `${box}::/sandbox`, '--suspend-after', '150000', '--snapshot', file('g.snap'), fixture('fileio'), '/sandbox', '5']).status).toBe(0);
    const open = /fd (\d+) +file (\/sandbox\/(\S+)), offset/.exec(handover(['inspect', file('g.snap')]).stdout);
    expect(open).not.toBeNull();
    rmSync(path.join(box, 'fio'), { recursive: true, force: true });
    const rest = handover(['resume', file('g.snap'), '--dir', `${box}::/sandbox`]);
    expect(rest.stderr).toContain(`handover: warning: ${path.join(box, open![3])} (the guest's fd ${open![1]}, ${open![2]}) no longer exists; the guest's next use of it fails with ENOENT\n`);
  });

  it('a snapshot whose host state lacks a field or has one of the wrong type: one line, exit 1', () => {
    expect(handover(['run', '--suspend-after', '100000', '--snapshot', file('hs.snap'), fixture('float'), '1000']).status).toBe(0);
    const snap = new Uint8Array(readFileSync(file('hs.snap')));
    const host = layout(snap).sections.find((s) => s.tag === 7)!;
    // The host section is u32 n, then n bytes (guest-vm/snapshot/FORMAT.md).
    const state = JSON.parse(new TextDecoder().decode(snap.subarray(host.payload + 4, host.end))) as Record<string, unknown>;
    expect(state).toMatchObject({ format: 'handover-cli', version: 1, hosts: ['node'] });
    // The host section rewritten, its length and the trailer checksum fixed, so only the host state is wrong.
    const forge = (name: string, json: string): string => {
      const text = new TextEncoder().encode(json);
      const payload = new Uint8Array(4 + text.length);
      new DataView(payload.buffer).setUint32(0, text.length, true);
      payload.set(text, 4);
      const out = new Uint8Array(snap.length - (host.end - host.payload) + payload.length);
      out.set(snap.subarray(0, host.payload));
      new DataView(out.buffer).setUint32(host.start + 4, payload.length, true);
      out.set(payload, host.payload);
      out.set(snap.subarray(host.end), host.payload + payload.length);
      writeFileSync(file(name), resealed(out));
      return file(name);
    };
    const without = (key: string) => JSON.stringify({ ...state, [key]: undefined });
    const wasi = state.wasi as Record<string, unknown>;
    const cases: [string, string, string][] = [
      ['no-instructions', without('instructions'), 'the host state\'s "instructions" must be a decimal instruction count, it is missing'],
      ['number-instructions', JSON.stringify({ ...state, instructions: 12.5 }), 'the host state\'s "instructions" must be a decimal instruction count, got 12.5'],
      ['word-instructions', JSON.stringify({ ...state, instructions: 'many' }), 'the host state\'s "instructions" must be a decimal instruction count, got "many"'],
      ['no-hosts', without('hosts'), 'the host state\'s "hosts" must be a list of host names, it is missing'],
      ['string-hosts', JSON.stringify({ ...state, hosts: 'node' }), 'the host state\'s "hosts" must be a list of host names, got "node"'],
      ['no-wasi', without('wasi'), 'the host state\'s "wasi" must be a WASI state, it is missing'],
      ['null-fds', JSON.stringify({ ...state, wasi: { ...wasi, fds: null } }), 'the host state\'s "wasi" is not a WASI state: no fd table'],
      ['number-args', JSON.stringify({ ...state, wasi: { ...wasi, args: [1] } }), 'the host state\'s "wasi" is not a WASI state: args and env must be lists of strings'],
      ['version-2', JSON.stringify({ ...state, version: 2 }), 'the host state\'s "version" must be 1 (this handover reads version 1), got 2'],
      ['not-json', '{"format": "handover-cli", ', 'the snapshot carries no WASI state (not written by handover run)'],
      ['json-null', 'null', 'the snapshot carries no WASI state (not written by handover run)'],
    ];
    for (const [name, json, why] of cases) {
      const forged = forge(`${name}.snap`, json);
      const commands = [['resume', forged], ['inspect', forged]];
      // --verbose prints the hosts and the count before the run: refused before that too.
      if (name.startsWith('no-')) commands.push(['resume', forged, '--host', 'vm', '--verbose']);
      for (const command of commands) {
        expect({ command, ...handover(command) }).toEqual({ command, stdout: '', stderr: `error: ${forged}: ${why}\n`, status: 1 });
      }
    }
    // The forging itself keeps a good snapshot good.
    expect(handover(['inspect', forge('same.snap', JSON.stringify(state))]).status).toBe(0);
  });

  it('a rewritten snapshot that passes the checksum but not the restore: one line, exit 1', () => {
    expect(handover(['run', '--suspend-after', '100000', '--snapshot', file('fr.snap'), fixture('float'), '1000']).status).toBe(0);
    const snap = new Uint8Array(readFileSync(file('fr.snap')));
    const field = layout(snap).fields.find((f) => f.name === 'frame 0 function')!;
    writeFileSync(file('fr2.snap'), withField(snap, field.at, 4, 0xffffn));
    expect(handover(['resume', file('fr2.snap')])).toEqual({
      stdout: '', status: 1, stderr: `error: ${file('fr2.snap')}: the snapshot does not restore: corrupt snapshot: a frame names no function of the module\n`,
    });
  });

  it('a host that is not installed: a clear error with the install command, exit 1', () => {
    expect(handover(['run', '--suspend-after', '100', '--snapshot', file('h.snap'), fixture('hello')]).status).toBe(0);
    expect(handover(['resume', file('h.snap'), '--host', 'spidermonkey'], { HANDOVER_JS102: '/nonexistent/js102' })).toEqual({
      stdout: '', stderr: 'error: spidermonkey: HANDOVER_JS102=/nonexistent/js102 is not an executable file — fix or unset it (apt-get install libmozjs-102-dev installs js102)\n', status: 1,
    });
    expect(handover(['resume', file('h.snap'), '--host', 'chromium'], { HANDOVER_CHROMIUM: '/nonexistent/chromium' })).toMatchObject({
      stderr: expect.stringContaining('apt-get install chromium'), status: 1,
    });
  });
});
