// asc transform for the VM core module: a host trap out of the dispatch loop (an out-of-bounds
// access to host-owned memory, runtime/hosted.ts) unwinds AssemblyScript's frames without their
// epilogues, leaving the runtime's shadow-stack pointer where the deepest frame put it. Every
// export is entered with an empty shadow stack (the VM never calls the host while guest code or
// a nested export is live: host calls return from the dispatch loop first), so `host_fault`,
// which the host calls after such a trap, starts by resetting the pointer to its initial value.

import { Transform } from "assemblyscript/transform";

export default class FaultTransform extends Transform {
  afterCompile(module) {
    const binaryen = this.binaryen;
    let target = null;
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind === binaryen.ExternalFunction && info.name === "host_fault") target = info.value;
    }
    if (target === null) return; // a build without the fault path (the component's)
    const SP = "~lib/memory/__stack_pointer";
    const global = module.getGlobal(SP);
    if (!global) throw new Error(`fault-transform: no global ${SP}`);
    const init = binaryen.getExpressionInfo(binaryen.getGlobalInfo(global).init);
    if (init.id !== binaryen.ConstId) throw new Error(`fault-transform: ${SP} has no constant initial value`);
    const fn = binaryen.getFunctionInfo(module.getFunction(target));
    const reset = module.global.set(SP, module.i32.const(init.value));
    const body = module.block(null, [reset, fn.body], fn.results);
    module.removeFunction(target);
    module.addFunction(target, fn.params, fn.results, fn.vars, body);
  }
}
