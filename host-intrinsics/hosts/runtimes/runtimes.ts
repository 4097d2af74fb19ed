// The WASI runtimes that run build/handover.wasm (the VM as a WASI command, guest-vm/command),
// each a real runtime installed from a registry (scripts/install-runtimes.sh), and the command
// line that runs a WASI module under each. The runtime preopens `dirs` under their own names:
// handover.wasm reaches the module, the snapshot files and the guest's directories through them.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../vm.js';

export const RUNTIMES = ['node', 'wasmtime', 'wamr', 'wasm3', 'jco'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export const RUNTIME_LABELS: Record<RuntimeName, string> = {
  node: "Node's node:wasi (V8)",
  wasmtime: 'Wasmtime (Cranelift)',
  wamr: 'WAMR iwasm (fast interpreter)',
  wasm3: 'Wasm3 (pywasm3)',
  jco: 'jco run (the command component on preview2-shim, V8)',
};

export const INSTALL_LINE = 'bash scripts/install-runtimes.sh';

export function runtimesDir(): string {
  return process.env.HANDOVER_RUNTIMES ?? path.join(packageRoot(), 'build', 'runtimes');
}

export function handoverWasm(): string {
  return path.join(packageRoot(), 'build', 'handover.wasm');
}

export function handoverCommandComponent(): string {
  return path.join(packageRoot(), 'build', 'handover-command.wasm');
}

export interface RuntimeCommand {
  file: string;
  args: string[];
  env?: Record<string, string>;
}

/** A runtime the machine lacks: what to run to install it. */
export class RuntimeMissing extends Error {
  override name = 'RuntimeMissing';
}

const here = path.dirname(fileURLToPath(import.meta.url));
// The adapters are not compiled: the same file beside the source and the build.
function adapter(name: string): string {
  const beside = path.join(here, name);
  return existsSync(beside) ? beside : path.join(packageRoot(), 'host-intrinsics', 'hosts', 'runtimes', name);
}

function need(file: string, what: string): string {
  if (!existsSync(file)) throw new RuntimeMissing(`${what} is not installed (${file} is missing): run ${INSTALL_LINE}`);
  return file;
}

/**
 * How to run `module` (a WASI command) with `args` on `runtime`, with each of `dirs` preopened
 * under its own path. Throws RuntimeMissing when the runtime is not installed.
 */
export function runtimeCommand(runtime: RuntimeName, module: string, args: readonly string[], dirs: readonly string[]): RuntimeCommand {
  const rt = runtimesDir();
  switch (runtime) {
    case 'node':
      // Node 20's WASI fast calls may collect garbage inside a call and crash (nodejs/node#46777):
      // a guest that grows the VM's memory hits it.
      return { file: process.execPath, args: ['--no-warnings', '--no-turbo-fast-api-calls', adapter('node-wasi.mjs'), ...dirs.flatMap((d) => ['--dir', d]), module, ...args] };
    case 'wasmtime':
      return { file: need(path.join(rt, 'wasmtime_cli', 'wasmtime'), 'wasmtime'), args: ['run', ...dirs.flatMap((d) => ['--dir', d]), module, ...args] };
    case 'wamr':
      // A guest's stack lives in the interpreter's: the VM's dispatch loop needs more than the
      // default 64 KiB. No extra heap: it would be added to the module's memory.
      return {
        file: need(path.join(rt, 'bin', 'iwasm'), 'WAMR (iwasm)'),
        args: ['--stack-size=8388608', '--heap-size=0', ...dirs.map((d) => `--dir=${d}`), module, ...args],
      };
    case 'wasm3': {
      need(path.join(rt, 'pywasm3-0.5.0.dist-info'), 'Wasm3 (pywasm3)');
      return {
        file: 'python3', args: [adapter('wasm3-wasi.py'), ...dirs.flatMap((d) => ['--dir', d]), module, ...args],
        env: { PYTHONPATH: rt },
      };
    }
    case 'jco': {
      // jco runs a component; the core module's command component sits beside it. It preopens
      // the whole file system as "/".
      const component = module === handoverWasm() ? handoverCommandComponent() : module;
      const bin = path.join(packageRoot(), 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
      return { file: process.execPath, args: ['--no-warnings', bin, 'run', component, ...args] };
    }
  }
}
