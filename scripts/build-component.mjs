// Builds the VM as a WebAssembly component and its JS bindings (`npm run build:component`):
//
//   guest-vm/abi/engine.ts ──asc + component-exports transform──▶ build/component/core.wasm
//     ──jco embed (wit/, world guest-vm)──▶ ──jco new──▶ build/component/handover-vm.wasm
//     ──jco wit──▶ build/component/handover-vm.wit (checked against wit/)
//     ──jco transpile (sync instantiation)──▶ build/component/js/handover-vm.js (+ .core.wasm, .d.ts)
//
// handover-vm.wasm is the product: a component any component host can run. The JS bindings are
// what host-intrinsics/component.ts loads. jco is used through its programmatic API (the same
// code as its CLI, without a process per step).

import asc from "assemblyscript/asc";
import { componentEmbed, componentNew, componentWit, transpile } from "@bytecodealliance/jco";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WORLD, componentWitProblems } from "./component-wit.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "build/component");
const NAME = "handover-vm";

// Two fixes to jco 1.35's bindings, each a pattern that must match exactly once (a jco upgrade that
// changes it fails here, loudly, rather than silently losing the fix):
const PATCHES = [
  // Strings lift through a TextDecoder that drops a leading U+FEFF as a byte-order mark, but it is
  // a character of the string (a Wasm name may start with it: the spec's names.wast does).
  ["const TEXT_DECODER_UTF8 = new TextDecoder();", "const TEXT_DECODER_UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });"],
  // process.env.JCO_DEBUG is read on every debug-log call, several times per export call: about
  // 1.6 µs of the 2.3 µs an export call costs on Node 20. Read it once, at load.
  ["if (!globalThis?.process?.env?.JCO_DEBUG) { return; }", "if (!JCO_DEBUG_AT_LOAD) { return; }"],
];

// Built beside the final folder and renamed into place, so a reader never sees a mix of builds.
const work = join(root, `build/component.${process.pid}.tmp`);

function fail(message) {
  console.error(`build-component: ${message}`);
  // Nothing half-built stays behind for the tests to pick up as current.
  rmSync(work, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
  process.exit(1);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, "js"), { recursive: true });
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const rel = (p) => p.slice(root.length + 1);

// 1. The core module: the VM plus the canonical-ABI glue, exports renamed by the transform.
const { error } = await asc.main([
  "guest-vm/abi/engine.ts",
  "--outFile", rel(join(work, "core.wasm")),
  "--runtime", "incremental",
  // No env.abort import (jco new refuses imports the world does not declare): a failed
  // assertion or allocation becomes `unreachable`.
  "--use", "abort=",
  "--transform", "./scripts/component-exports.mjs",
  "--baseDir", root,
  "-O3", "--converge", "--noAssert",
], { stdout: process.stdout, stderr: process.stderr });
if (error) fail(`asc failed: ${error.message}`);

const core = new Uint8Array(readFileSync(join(work, "core.wasm")));
const problems = [];
for (const i of WebAssembly.Module.imports(new WebAssembly.Module(core))) {
  if (i.module !== "[export]handover:vm/engine" && i.module !== "handover:vm/intrinsics") problems.push(`imports ${i.module}.${i.name}`);
}
if (problems.length > 0) fail(`the core module ${problems.join(", ")}`);

// 2. The component.
const witSource = readFileSync(join(root, "wit/vm.wit"), "utf8");
let component;
let wit;
try {
  const embedded = await componentEmbed({ binary: core, witSource, world: WORLD });
  component = await componentNew(embedded);
  wit = await componentWit(component);
} catch (e) {
  fail(`jco embed/new failed: ${e?.message ?? e}`);
}
writeFileSync(join(work, `${NAME}.wasm`), component);
writeFileSync(join(work, `${NAME}.wit`), wit);

// 3. The component must have wit/'s interface (its world may drop imports it never calls).
const witProblems = await componentWitProblems(component, join(root, "wit"));
if (witProblems.length > 0) fail(witProblems.join("\n  "));

// 4. JS bindings.
let files;
try {
  ({ files } = await transpile(component, {
    name: NAME, instantiation: "sync", quiet: true,
    // Intrinsics whose import value carries Symbol.for('cabiLower') are bound to that core
    // function directly, without a JS trampoline (host-intrinsics/component.ts).
    importBindings: "hybrid",
  }));
} catch (e) {
  fail(`jco transpile failed: ${e?.message ?? e}`);
}
for (const [file, bytes] of Object.entries(files)) {
  const path = join(work, "js", file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file === `${NAME}.js` ? patchBindings(Buffer.from(bytes).toString("utf8")) : bytes);
}

rmSync(outDir, { recursive: true, force: true });
renameSync(work, outDir);
console.log(`build-component: build/component/${NAME}.wasm ${component.length} bytes ` +
  `(core ${core.length}), bindings in build/component/js/`);

function patchBindings(js) {
  for (const [from, to] of PATCHES) {
    const count = js.split(from).length - 1;
    if (count !== 1) fail(`expected one \`${from}\` in the bindings, found ${count}`);
    js = js.replace(from, to);
  }
  return "const JCO_DEBUG_AT_LOAD = !!globalThis?.process?.env?.JCO_DEBUG;\n" + js;
}
