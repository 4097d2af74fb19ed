// The WASI preview1 bridge's public surface.

export { WasiContext, type Stdio, type WasiOptions } from './context.js';
export { Errno, ESCAPE, WasiError, errnoName } from './errno.js';
export { PREVIEW1, PREVIEW1_FUNCTIONS, linkPreview1 } from './link.js';
export { ProcExit } from './proc.js';
export {
  OUT_OF_FUEL, exitCodeOf, instantiateWasi, runExport, runWasi, stopMessage, type WasiInstance, type ModuleError, type RunResult, type RunWasiOptions,
} from './run.js';
export { StateError, type FdEntry, type WasiState } from './state.js';
export { CollectSink, bytesSource, discardSink, emptySource, fdSink, fdSource, type ByteSink, type ByteSource } from './stdio.js';
export type { WasiEngine } from './engine.js';
