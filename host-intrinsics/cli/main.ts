#!/usr/bin/env node
// The `handover` command: picks the command and turns every way it can fail into a message and an
// exit status. A user's mistake never shows a JavaScript stack trace; an internal error shows one
// only with HANDOVER_DEBUG=1.

import { readFileSync } from 'node:fs';
import { parseClusterArgs, parseInspectArgs, parseResumeArgs, parseRunArgs } from './options.js';
import { CliError, USAGE, UsageError } from './usage.js';

const INTERNAL_ERROR_STATUS = 70;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
    case '--version':
    case '-V':
      process.stdout.write(`handover ${version()}\n`);
      return 0;
    case 'run': {
      const options = parseRunArgs(rest);
      if (options === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      for (const w of options.warnings) process.stderr.write(`warning: ${w}\n`);
      if (options.on !== undefined) return (await import('./cluster.js')).runOnCommand(options);
      // Loaded only to run: the VM and preview2-shim (which starts its I/O worker) take a while.
      return (await import('./run.js')).runCommand(options);
    }
    case 'resume': {
      const options = parseResumeArgs(rest);
      if (options === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      return (await import('./handover.js')).resumeCommand(options);
    }
    case 'inspect': {
      const options = parseInspectArgs(rest);
      if (options === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      return (await import('./handover.js')).inspectCommand(options.file);
    }
    case 'node':
    case 'move':
    case 'attach':
    case 'ps':
    case 'nodes': {
      const parsed = parseClusterArgs(command, rest);
      if (parsed === 'help') {
        process.stdout.write(USAGE);
        return 0;
      }
      return (await import('./cluster.js')).clusterCommand(parsed);
    }
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

// The package's own version: build/js/host-intrinsics/cli/ is four levels below package.json.
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    // The error and one hint, as git and wasmtime do: the whole help would scroll the error away.
    process.stderr.write(`error: ${e.message}\nrun 'handover --help' for the commands and their options\n`);
    process.exitCode = 1;
  } else if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    const detail = process.env.HANDOVER_DEBUG === '1' && e instanceof Error ? `\n${e.stack}` : '';
    process.stderr.write(`handover: internal error: ${e instanceof Error ? e.message : String(e)}${detail}\n`);
    process.exitCode = INTERNAL_ERROR_STATUS;
  }
}
