// The part of the VM's host API that the WASI bridge and the CLI use, named in one place: the
// embedding API's Engine interface (host-intrinsics/engine.ts), which both the core-module Vm and
// the component's ComponentEngine implement.

import type { Engine } from '../engine.js';

export type WasiEngine = Engine;

export { EndActivation } from '../engine.js';
export type { Extern, HostFuncImpl, LoadedModule, Outcome, VmError } from '../engine.js';
export type { FuncType, ImportDesc, ValType, Value } from '../abi.js';
