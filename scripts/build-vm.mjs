// Builds the VM core module: guest-vm/index.ts → build/vm.wasm (+ build/vm.wat for reading), then
// checks the result against the ABI: imports only the `handover:vm/intrinsics` functions the
// helper provides, memory exported as `memory`, and every export ABI.md names. Also assembles the
// native intrinsic helper for JS hosts: host-intrinsics/intrinsics/helper.wat → build/intrinsics.wasm,
// and builds the VM as a WASI command: guest-vm/command/main.ts → build/handover.wasm, which
// imports nothing but wasi_snapshot_preview1, and the same as a wasi:cli command component
// (jco's preview1 command adapter): build/handover-command.wasm, for `jco run` and any
// component host.
//
//   node scripts/build-vm.mjs            optimized (-O3, assertions off)
//   node scripts/build-vm.mjs --debug    -O0 with assertions (they trap: abort is disabled too)
//   node scripts/build-vm.mjs --profile  build/vm-profile.wasm: the dispatch loop counts IR ops
//                                        and op pairs (export profile_counts; bench/profile.mjs)

import asc from "assemblyscript/asc";
import { componentNew } from "@bytecodealliance/jco";
import wabtInit from "wabt";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
  "--transform", "./scripts/fault-transform.mjs",
  "--baseDir", root,
  ...(debug ? ["-O0", "--debug"] : ["-O3", "--converge", "--noAssert"]),
];

// The helper first: the VM's imports are checked against it.
const wabt = await wabtInit();
const wat = readFileSync(join(root, "host-intrinsics/intrinsics/helper.wat"), "utf8");
const helperModule = wabt.parseWat("helper.wat", wat, { bulk_memory: true });
const helperBytes = helperModule.toBinary({}).buffer;
helperModule.destroy();
mkdirSync(join(root, "build"), { recursive: true });
writeFileSync(join(root, "build/intrinsics.wasm"), helperBytes);
const helperExports = new Set(WebAssembly.Module.exports(new WebAssembly.Module(helperBytes)).map((e) => e.name));

const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) failBuild(`asc failed: ${error.message}`);

const bytes = readFileSync(tmpFile);
const mod = new WebAssembly.Module(bytes);
const problems = [];

const imports = WebAssembly.Module.imports(mod);
for (const i of imports) {
  if (i.module !== "handover:vm/intrinsics" || i.kind !== "function" || !helperExports.has(i.name)) {
    problems.push(`imports ${i.module}.${i.name} (${i.kind})`);
  }
}

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
  `${exported.size} exports, ${imports.length} intrinsic imports; build/intrinsics.wasm ${helperBytes.length} bytes`);

if (!profile) await buildCommand();

// build/handover.wasm: the same VM without intrinsic imports (HANDOVER_WASI), its start function
// exported as the command's _start.
async function buildCommand() {
  const name = "build/handover.wasm";
  const tmp = `build/handover.${process.pid}.tmp.wasm`;
  const { error } = await asc.main([
    "guest-vm/command/main.ts", "--outFile", tmp, "--runtime", "incremental", "--use", "abort=", "--use", "HANDOVER_WASI=1",
    // -O3 without --converge: a quarter of the build time, and as fast on wasmtime (measured).
    "--exportStart", "_start", "--baseDir", root, ...(debug ? ["-O0", "--debug"] : ["-O3", "--noAssert"]),
  ], { stdout: process.stdout, stderr: process.stderr });
  const fail = (message) => {
    console.error(`build-vm: ${name} ${message}`);
    rmSync(join(root, tmp), { force: true });
    rmSync(join(root, name), { force: true });
    process.exit(1);
  };
  if (error) fail(`asc failed: ${error.message}`);
  const bytes = readFileSync(join(root, tmp));
  const mod = new WebAssembly.Module(bytes);
  const foreign = WebAssembly.Module.imports(mod).filter((i) => i.module !== "wasi_snapshot_preview1" || i.kind !== "function");
  if (foreign.length > 0) fail(`imports ${foreign.map((i) => `${i.module}.${i.name}`).join(", ")}`);
  const exported = WebAssembly.Module.exports(mod).map((e) => e.name);
  if (!exported.includes("_start") || !exported.includes("memory")) fail("does not export _start and memory");
  // jco's entry is dist/api.js; the adapter ships in its lib/.
  const adapter = join(dirname(fileURLToPath(import.meta.resolve("@bytecodealliance/jco"))), "../lib/wasi_snapshot_preview1.command.wasm");
  let component;
  try {
    component = await componentNew(bytes, [["wasi_snapshot_preview1", readFileSync(adapter)]]);
  } catch (e) {
    fail(`cannot be made a command component: ${e.message ?? e}`);
  }
  writeFileSync(join(root, "build/handover-command.wasm"), component);
  renameSync(join(root, tmp), join(root, name));
  console.log(`build-vm: ${name} ${bytes.length} bytes, ${WebAssembly.Module.imports(mod).length} WASI imports; ` +
    `build/handover-command.wasm ${component.length} bytes`);
}

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
