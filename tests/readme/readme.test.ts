// README.md as a new user meets it: every code block runs as written. Shell blocks line by line from
// the repository's root (each line's exit status as its comment says, 0 otherwise); JavaScript
// blocks as .mjs files inside the package, their `// result` comments found in what they print.
// The set-up block's commands are the ones .ci/run ends with. And the package's types serve a TypeScript user.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../host-intrinsics/vm.js';

const ROOT = packageRoot();
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const work = mkdtempSync(path.join(ROOT, 'build', 'readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Block {
  lang: string;
  section: string;
  body: string;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  let section = '';
  let open: Block | null = null;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        out.push(open);
        open = null;
      } else open.body += `${line}\n`;
    } else if (line.startsWith('#')) section = line.replace(/^#+\s*/, '');
    else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), section, body: '' };
  }
  return out;
}

const all = blocks(README);
const NO_STACK = /\n\s+at .*[:(]/;

function sh(line: string) {
  // One pipe for both streams, so that the order of notes and output is the order they came in.
  const r = spawnSync('bash', ['-c', `exec 2>&1\n${line}`], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { out: r.stdout, status: r.status };
}

/** The exit status a line's comment announces ("exit 2", "exits with code 3"), else 0. */
function expectedStatus(line: string): number {
  const comment = line.slice(line.indexOf('#') + 1);
  const m = line.includes('#') ? /exits? (?:with )?(?:code )?(\d+)/.exec(comment) ?? /: exit (\d+)/.exec(comment) : null;
  return m ? Number(m[1]) : 0;
}

describe('README.md', () => {
  it('has the blocks this test knows how to run, and no other kind', () => {
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const b of all) expect(['sh', 'js'], `${b.section}: \`\`\`${b.lang}`).toContain(b.lang);
  });

  it('set-up: .ci/run runs the block\'s commands as written, and each command is one npm knows', () => {
    const setup = all.filter((b) => b.section === 'Set-up');
    expect(setup).toHaveLength(1);
    const commands = setup[0].body.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    // .ci/run ends with exactly these commands, in this order.
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8').trimEnd().split('\n').map((l) => l.trim());
    expect(ci.slice(-commands.length)).toEqual(commands);
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const line of commands) {
      const [tool, command, script] = line.split(/\s+/);
      expect(tool).toBe('npm');
      if (command === 'install') continue;
      expect(scripts[command === 'run' ? script : command], line).toBeDefined();
    }
  });

  for (const b of all.filter((x) => x.lang === 'sh' && x.section !== 'Set-up')) {
    it(`${b.section}: every command runs as written`, { timeout: 300_000 }, () => {
      for (const line of b.body.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))) {
        const r = sh(line);
        expect(r.status, `${line}\n${r.out}`).toBe(expectedStatus(line));
        expect(r.out, line).not.toMatch(NO_STACK);
        if (line.startsWith('npm start')) {
          // The demo checks its own output; its notes come in the order things happened.
          expect(r.out).toContain('the output is identical to the uninterrupted run');
          expect(r.out.indexOf('resuming on node after')).toBeGreaterThan(0);
          expect(r.out.indexOf('resuming on node after')).toBeLessThan(r.out.lastIndexOf('libm sum'));
          // The cluster part (nats-server is installed wherever the tests run: tests/cluster needs
          // it too): both moves, each with its downtime, while the ticks flow, and the same output
          // as a local run.
          expect(r.out).not.toContain('the cluster part needs nats-server');
          const there = r.out.search(/moved ticker from edge to cloud: .*downtime \d/);
          const back = r.out.search(/moved ticker from cloud to edge: .*downtime \d/);
          expect(there).toBeGreaterThan(r.out.indexOf('\ntick 0 '));
          expect(back).toBeGreaterThan(there);
          expect(back).toBeLessThan(r.out.indexOf('\ndone '));
          expect(r.out).toContain('the output is identical to a local run');
        }
      }
    });
  }

  all.filter((x) => x.lang === 'js').forEach((b, i) => {
    it(`${b.section}: the example runs and prints what its comments say`, () => {
      const file = path.join(work, `example-${i}.mjs`);
      writeFileSync(file, b.body);
      const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const lines = b.body.split('\n');
      const promised = lines.filter((l, j) => /^\/\/ /.test(l) && /console\.log\(/.test(lines[j - 1] ?? '')).map((l) => l.slice(3));
      expect(promised.length).toBeGreaterThan(0);
      // console.log breaks long values over lines: compare with whitespace collapsed.
      const flat = (t: string) => t.replace(/\s+/g, ' ');
      for (const p of promised) expect(flat(r.stdout)).toContain(flat(p));
    });
  });
});

describe('the package for a TypeScript user', () => {
  const tsc = (source: string) => {
    const file = path.join(work, `use-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', file], { cwd: ROOT, encoding: 'utf8' });
    return r.stdout + r.stderr;
  };

  it('finds typed declarations for `handover`', () => {
    expect(tsc(`import { Vm, ComponentEngine, runWasi, type Engine, type Value } from 'handover';
const engine: Engine = Vm.createSync();
const other: Engine = ComponentEngine.create();
const v: Value = { type: 'i32', value: 1 };
export const used = [engine, other, v, runWasi];
`)).toBe('');
  });

  it('and they are real types, not any: a misuse is a type error', () => {
    expect(tsc(`import { Vm } from 'handover';\nexport const n: number = Vm.createSync();\n`)).toMatch(/error TS2322/);
  });
});
