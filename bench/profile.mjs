// Which IR ops a guest runs, and which pairs follow each other: the data behind superinstruction
// choices. Needs the profiling build (node scripts/build-vm.mjs --profile).
//   node bench/profile.mjs tests/fixtures/float.wasm 20000
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Vm } from "../build/js/host-intrinsics/vm.js";
import { runWasi } from "../build/js/host-intrinsics/wasi/run.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [file, ...args] = process.argv.slice(2);
const names = [...readFileSync(path.join(root, "guest-vm/ir/ops.ts"), "utf8").matchAll(/^  (\w+) = (\d+),/gm)].map((m) => m[1]);
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
