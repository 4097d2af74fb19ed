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
