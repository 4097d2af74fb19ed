#!/usr/bin/env node
// `npx handover` in the checkout. This package is linked into node_modules (a `file:` dependency),
// so npm resolves the command here instead of packing the checkout (which would run `prepare`, a
// full rebuild, into npx's cache). The CLI itself is the build's.
import '../../../build/js/host-intrinsics/cli/main.js';
