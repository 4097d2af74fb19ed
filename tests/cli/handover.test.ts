// The handover commands as a user runs them (separate processes, the compiled CLI): `run
// --suspend-after --snapshot`, `resume --host` (chained), `inspect`, their help, their mistakes, and
// a host that is not installed. Which hosts give identical output at every point is
// tests/hosts/handover.test.ts's business; here each command's contract.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, requireBuild } from '../wasi/harness.js';

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
