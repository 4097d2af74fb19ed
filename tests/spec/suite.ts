// Finds the spec suite on disk (../shared/spec beside the repo, or $HANDOVER_SPEC_DIR) and reads
// its wast2json scripts.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../host-intrinsics/vm.js';
import type { Command, Script } from './runner.js';

export interface ScriptFile {
  name: string;
  json: string;
}

/** Commands in core/ of the pinned suite (README.md, "The spec suite"). */
const CORE_COMMANDS = 28_018;

/**
 * Without the suite the stage cannot run: it says so loudly, with what did not run, and ends with
 * status 0 so that the unit tests before it still count. Never a silent pass.
 */
export function suiteMissing(dir: string): never {
  const bar = '='.repeat(78);
  process.stdout.write([
    bar,
    `SPEC SUITE NOT RUN: no scripts in ${path.join(dir, 'core')}`,
    `0 of the ${CORE_COMMANDS.toLocaleString('en')} core spec commands ran in this stage (${process.argv.slice(2).join(' ') || 'plain'}).`,
    'README.md, "The spec suite", says what it is and how to make it; HANDOVER_SPEC_DIR points at a copy.',
    bar,
    'spec: NOT RUN (0 commands)',
    '',
  ].join('\n'));
  process.exit(0);
}

export function specDir(): string {
  return process.env.HANDOVER_SPEC_DIR ?? path.resolve(packageRoot(import.meta.url), '../shared/spec');
}

/** The scripts of one suite folder (`core`, `simd`), sorted by name; none if it does not exist. */
export function listScripts(dir: string, suite: string): ScriptFile[] {
  const root = path.join(dir, suite);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({ name: e.name, json: path.join(root, e.name, `${e.name}.json`) }))
    .filter((s) => existsSync(s.json))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function loadScript(file: ScriptFile): Script {
  const json = JSON.parse(readFileSync(file.json, 'utf8')) as { commands?: unknown };
  if (!Array.isArray(json.commands)) throw new Error(`${file.json} has no command list`);
  return { name: file.name, dir: path.dirname(file.json), commands: json.commands as Command[] };
}
