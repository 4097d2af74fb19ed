// Child process of state.test.ts: resumes a WASI state (JSON, argument 1) in a new VM in this
// process and reads what is left of fd (argument 2), printing it.

import { WasiContext } from '../../host-intrinsics/wasi/index.js';
import { read } from './ops.js';
import { vmProbe } from './probe.js';

const [state, fd] = process.argv.slice(2);
const p = vmProbe(WasiContext.fromJSON(JSON.parse(state)));
process.stdout.write(read(p, Number(fd)).text);
