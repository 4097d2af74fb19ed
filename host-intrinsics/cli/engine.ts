// The one place the CLI makes an engine: the VM core module on this host (the component engine of
// host-intrinsics/api.ts implements the same Engine interface).

import { Vm, type IntrinsicClass } from '../vm.js';

// The CLI uses what only the core-module engine offers: monitors (and snapshots).
export type CliEngine = Vm;

export function createEngine(intrinsicClasses?: IntrinsicClass[]): CliEngine {
  return Vm.createSync({ intrinsicClasses });
}
