// wasi:cli/exit for preview1, and the other process-level calls: proc_exit ends the guest's run by
// ending the VM activation (the VM discards the guest's frames and stays usable), proc_raise is not
// supported (as in node:wasi's sandbox there is nobody to signal), sched_yield has nothing to yield to.

import { Errno } from './errno.js';
import { def, defNoReturn, SUCCESS, type Preview1Func } from './func.js';
import { EndActivation } from './engine.js';

/** What a proc_exit carries out of the VM (as EndActivation's value). */
export class ProcExit {
  constructor(readonly code: number) {}
}

export const procFunctions: Record<string, Preview1Func> = {
  proc_exit: defNoReturn(['i32'], (_ctx, code) => {
    throw new EndActivation(new ProcExit(code), `proc_exit(${code})`);
  }),
  proc_raise: def(['i32'], () => Errno.NOSYS),
  sched_yield: def([], () => SUCCESS),
};
