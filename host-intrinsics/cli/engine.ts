// The one place the CLI makes an engine: the VM core module on this host (the component engine of
// host-intrinsics/api.ts implements the same Engine interface).

import { Vm } from '../vm.js';
import type { WasiEngine } from '../wasi/engine.js';

export type CliEngine = WasiEngine;

export function createEngine(): CliEngine {
  return Vm.createSync();
}
