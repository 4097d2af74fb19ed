// The WASI state is plain data: toJSON gives what a snapshot will carry, and fromJSON resumes it —
// in this process or another one — with files reopened by path at their recorded offsets, fds,
// flags and rights as they were, and a monotonic clock that does not go back.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateError, WasiContext } from '../../host-intrinsics/wasi/index.js';
import { ROOT, requireBuild, tempDir } from './harness.js';
import { Errno, O, RO, fdstat, open, read, write } from './ops.js';
import { vmProbe, u64 } from './probe.js';

function preopened(): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'digits.txt'), '0123456789');
  return dir;
}

describe('WASI state as data', () => {
  it('is JSON: args, env, preopens, fds with paths and offsets', () => {
    const dir = preopened();
    const p = vmProbe({ args: ['prog', 'x'], env: { K: 'v' }, preopens: { '/data': dir } });
    const { fd } = open(p, 'digits.txt', 0, RO);
    read(p, fd, 4);
    const state = JSON.parse(JSON.stringify(p.ctx));
    expect(state).toMatchObject({
      version: 1, args: ['prog', 'x'], env: ['K=v'], preopens: [{ guestPath: '/data', hostPath: dir }],
      fds: { [fd]: { kind: 'file', preopen: 0, path: 'digits.txt', offset: 4 }, 3: { kind: 'preopen', path: '' } },
    });
    expect(state.clock.monotonicNs).toMatch(/^\d+$/);
  });

  it('resumes in a new VM: reads continue at the offset, fds keep flags and rights', () => {
    const dir = preopened();
    const first = vmProbe({ preopens: { '/data': dir } });
    const reader = open(first, 'digits.txt', 0, RO).fd;
    read(first, reader, 3);
    const appender = open(first, 'log.txt', O.CREAT, undefined, 1).fd;
    write(first, appender, 'one\n');
    const before = fdstat(first, reader);
    const state = JSON.stringify(first.ctx);
    first.ctx.close();

    const second = vmProbe(WasiContext.fromJSON(JSON.parse(state)));
    expect(read(second, reader, 4).text).toBe('3456');
    expect(fdstat(second, reader)).toEqual(before);
    expect(write(second, reader, 'no').errno).toBe(Errno.NOTCAPABLE);
    write(second, appender, 'two\n');
    expect(read(second, open(second, 'log.txt', 0, RO).fd).text).toBe('one\ntwo\n');
    // The new fd took the lowest free number, as it would have before.
    expect(open(second, 'digits.txt', 0, RO).fd).toBe(appender + 2);
  });

  it('resumes in another process', () => {
    requireBuild('tests/wasi/restore-child.js', ['tests/wasi', 'host-intrinsics/wasi']);
    const dir = preopened();
    const p = vmProbe({ preopens: { '/data': dir } });
    const { fd } = open(p, 'digits.txt', 0, RO);
    read(p, fd, 6);
    const child = spawnSync(process.execPath, [path.join(ROOT, 'build/js/tests/wasi/restore-child.js'), JSON.stringify(p.ctx), String(fd)], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('6789');
  });

  it('keeps the monotonic clock going from where the captured state left it', () => {
    const state = WasiContext.create().toJSON();
    const ahead = BigInt(state.clock.monotonicNs!) + 10n ** 15n; // as if captured on a machine up for longer
    const p = vmProbe(WasiContext.fromJSON({ ...state, clock: { monotonicNs: ahead.toString() } }));
    expect(p.call('clock_time_get', 1, 0n, 64)).toBe(0);
    expect(u64(p, 64)).toBeGreaterThanOrEqual(ahead);
  });

  it('refuses what is not a state it can resume', () => {
    const good = WasiContext.create({ preopens: { '/d': tempDir() } }).toJSON();
    const bad = (patch: object) => () => WasiContext.fromJSON({ ...good, ...patch });
    expect(() => WasiContext.fromJSON('{}')).toThrow(StateError);
    expect(bad({ version: 2 })).toThrow(/version 2/);
    expect(bad({ args: [1] })).toThrow(StateError);
    expect(bad({ fds: { 4: { kind: 'file', preopen: 0, path: '../etc/passwd', filetype: 4, offset: 0, fdflags: 0, rightsBase: 0, rightsInheriting: 0 } } })).toThrow(/bad fd 4/);
    expect(bad({ fds: { 4: { kind: 'file', preopen: 7, path: 'x', filetype: 4, offset: 0, fdflags: 0, rightsBase: 0, rightsInheriting: 0 } } })).toThrow(/bad fd 4/);
    expect(bad({ clock: { monotonicNs: 'soon' } })).toThrow(/clock/);
  });
});
