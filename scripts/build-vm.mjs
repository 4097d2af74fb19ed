// Builds the VM core module: guest-vm/index.ts → build/vm.wasm (+ build/vm.wat for reading), then
// checks the result against the ABI: no imports at all (the module must instantiate on any host
// and become a component), memory exported as `memory`, and every export ABI.md names.
//
//   node scripts/build-vm.mjs            optimized (-O3, assertions off)
//   node scripts/build-vm.mjs --debug    -O0 with assertions (they trap: abort is disabled too)
//   node scripts/build-vm.mjs --profile  build/vm-profile.wasm: the dispatch loop counts IR ops
//                                        and op pairs (export profile_counts; bench/profile.mjs)

import asc from "assemblyscript/asc";
import { readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const debug = process.argv.includes("--debug");
const profile = process.argv.includes("--profile");

// asc writes to a temporary name; build/vm.wasm appears only once checked (a rename, so a
// concurrent reader never sees a partial file), and a failed build removes the old one rather
// than leave it for later steps to pick up as current.
const outName = profile ? "build/vm-profile.wasm" : "build/vm.wasm";
const outFile = join(root, outName);
const tmpName = `build/vm.${process.pid}.tmp.wasm`; // per process: concurrent builds do not clash
const tmpFile = join(root, tmpName);
function failBuild(message) {
  console.error(`build-vm: ${message}`);
  rmSync(tmpFile, { force: true });
  rmSync(outFile, { force: true });
  process.exit(1);
}

const args = [
  "guest-vm/index.ts",
  "--outFile", tmpName,
  ...(profile ? ["--use", "HANDOVER_PROFILE=1"] : ["--textFile", "build/vm.wat"]),
  "--runtime", "incremental",
  // No env.abort import: a failed assertion or allocation becomes `unreachable`.
  "--use", "abort=",
  "--exportRuntime",
  "--baseDir", root,
  ...(debug ? ["-O0", "--debug"] : ["-O3", "--converge", "--noAssert"]),
];

const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) failBuild(`asc failed: ${error.message}`);

const bytes = readFileSync(tmpFile);
const mod = new WebAssembly.Module(bytes);
const problems = [];

const imports = WebAssembly.Module.imports(mod);
for (const i of imports) problems.push(`imports ${i.module}.${i.name} (${i.kind})`);

const exported = new Map(WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]));
if (exported.get("memory") !== "memory") problems.push("does not export its memory as `memory`");
const abiNames = abiExports();
if (abiNames.size === 0) problems.push("cannot be checked: no export names found in guest-vm/ABI.md");
for (const name of abiNames) {
  if (exported.get(name) !== "function") problems.push(`does not export function \`${name}\``);
}

if (problems.length > 0) failBuild(problems.map((p) => `${outName} ${p}`).join("\nbuild-vm: "));
renameSync(tmpFile, outFile);
console.log(`build-vm: ${outName} ${bytes.length} bytes${debug ? " (debug)" : ""}${profile ? " (profiling)" : ""}, ` +
  `${exported.size} exports, no imports`);

// The export names ABI.md lists: every `name(` in the first column of its tables, so the check
// follows the document rather than a second copy of the list.
function abiExports() {
  const names = new Set();
  const abi = readFileSync(join(root, "guest-vm/ABI.md"), "utf8");
  for (const line of abi.split("\n")) {
    const first = line.startsWith("|") ? line.split("|")[1] : "";
    for (const m of first.matchAll(/`([a-z_]+)\(/g)) names.add(m[1]);
  }
  return names;
}
