// The package's entry (`import … from 'handover'`): both engines behind one `Engine` interface,
// their shared vocabulary, and WASI preview1 on either.

export * from './vm.js';
export { ComponentEngine } from './api.js';
export {
  CollectSink, ProcExit, WasiContext, bytesSource, discardSink, emptySource, fdSink, fdSource, linkPreview1, runWasi,
  type ByteSink, type ByteSource, type RunResult, type RunWasiOptions, type Stdio, type WasiOptions,
} from './wasi/index.js';
