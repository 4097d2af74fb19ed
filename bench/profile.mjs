// Which IR ops a guest runs, and which pairs follow each other: the data behind superinstruction
// choices. Needs the profiling build (node scripts/build-vm.mjs --profile).
//   node bench/profile.mjs tests/fixtures/float.wasm 20000
// Last, the hottest instruction sites in IR order (runs of consecutive sites are hot loops), with
// their operand words.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Vm } from "../build/js/host-intrinsics/vm.js";
import { runWasi } from "../build/js/host-intrinsics/wasi/run.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [file, ...args] = process.argv.slice(2);
const irEnum = [...readFileSync(path.join(root, "guest-vm/ir/ops.ts"), "utf8").matchAll(/^  (\w+) = (\d+),.*\((\d+) bytes\)$/gm)];
const names = irEnum.map((m) => m[1]);
const sizes = irEnum.map((m) => Number(m[3]));
const vm = Vm.createSync({ wasmPath: path.join(root, "build/vm-profile.wasm") });
const result = runWasi(vm, readFileSync(file), { args: [path.basename(file, ".wasm"), ...args], env: {}, stdout: { write() {} }, stderr: process.stderr });
const ex = vm.rawExports;
const p = ex.profile_data();
const n = names.length;
const view = new DataView(ex.memory.buffer);
const count = (i) => Number(view.getBigUint64(p + i * 8, true));
const total = names.reduce((s, _, i) => s + count(i), 0);
console.log(`${file} ${args.join(" ")}: exit ${result.exitCode}, ${total} IR ops dispatched`);
const ops = names.map((name, i) => [name, count(i)]).sort((a, b) => b[1] - a[1]).slice(0, 25);
for (const [name, c] of ops) console.log(`  ${name.padEnd(24)} ${String(c).padStart(12)}  ${(100 * c / total).toFixed(1)}%`);
const pairs = [];
for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
  const c = count(n + a * n + b);
  if (c > total / 200) pairs.push([`${names[a]} → ${names[b]}`, c]);
}
pairs.sort((x, y) => y[1] - x[1]);
console.log("pairs:");
for (const [name, c] of pairs.slice(0, 25)) console.log(`  ${name.padEnd(44)} ${String(c).padStart(12)}  ${(100 * c / total).toFixed(1)}%`);
const sitesAt = p + (n + n * n) * 8;
const nSites = Number(view.getBigUint64(sitesAt, true));
const sites = [];
for (let i = 0; i < nSites; i++) {
  sites.push([Number(view.getBigUint64(sitesAt + 8 + i * 16, true)), Number(view.getBigUint64(sitesAt + 16 + i * 16, true))]);
}
const hot = sites.filter(([, c]) => c > total / 1000).sort((a, b) => a[0] - b[0]);
console.log("hot sites (pc: executions op operands):");
let prev = -1;
for (const [pc, c] of hot) {
  const op = view.getUint32(pc, true);
  if (prev >= 0 && pc !== prev) console.log("  ...");
  const words = [];
  for (let o = 4; o < sizes[op]; o += 4) words.push(view.getInt32(pc + o, true));
  console.log(`  ${String(pc).padStart(8)}: ${String(c).padStart(11)}  ${names[op].padEnd(20)} ${words.join(" ")}`);
  prev = pc + sizes[op];
}
