// preview1's socket calls. A guest here has no sockets (no preopened ones, no way to make one), so
// each answers ENOTSUP, as node:wasi does.

import { Errno } from './errno.js';
import { def, type Preview1Func } from './func.js';

const unsupported = () => Errno.NOTSUP;

export const socketFunctions: Record<string, Preview1Func> = {
  sock_accept: def(['i32', 'i32', 'i32'], unsupported),
  sock_recv: def(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], unsupported),
  sock_send: def(['i32', 'i32', 'i32', 'i32', 'i32'], unsupported),
  sock_shutdown: def(['i32', 'i32'], unsupported),
};
