// Checks that a built component has the interface wit/ declares (used by build-component.mjs and
// tests/component/wit.test.ts). `jco wit` prints a component's world but not the bodies of the
// interfaces it exports, so the bodies are compared through the TypeScript declarations jco
// derives from each side: `jco types` on wit/ and `jco transpile` on the component, comments
// dropped (a component keeps no doc comments). Every function, record, variant, enum and
// resource shows up there, though not the signedness of an integer (u32 and s32 are both
// `number`); the world's imports and exports are compared from `jco wit`.

import { componentWit, transpile, types } from "@bytecodealliance/jco";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const WORLD = "guest-vm";
const ENGINE_DTS = "interfaces/handover-vm-engine.d.ts";

const text = (bytes) => Buffer.from(bytes).toString("utf8");
const declarations = (dts) =>
  dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "").split("\n").map((l) => l.trim()).filter(Boolean);

/** `import X;` / `export X;` lines of a world named `world` in WIT text. */
function worldItems(wit, world) {
  const body = wit.replace(/\/\/.*$/gm, "").match(new RegExp(`\\bworld\\s+${world}\\s*\\{([^}]*)\\}`));
  if (!body) throw new Error(`no world ${world}`);
  const items = { imports: [], exports: [] };
  for (const m of body[1].matchAll(/\b(import|export)\s+([^;]+);/g)) items[`${m[1]}s`].push(m[2].trim());
  return items;
}

/** What differs between the component and wit/ (empty when it matches). */
export async function componentWitProblems(component, witDir) {
  const problems = [];
  const witSource = readFileSync(join(witDir, "vm.wit"), "utf8");
  const pkg = witSource.match(/^\s*package\s+([^;@]+)/m)[1].trim();
  const want = worldItems(witSource, WORLD);
  const got = worldItems(await componentWit(component), "root");
  const qualified = (items) => items.map((i) => (i.includes(":") ? i : `${pkg}/${i}`));
  const wantExports = qualified(want.exports).sort().join(", ");
  if (got.exports.sort().join(", ") !== wantExports) {
    problems.push(`the component exports [${got.exports.join(", ")}], wit/ [${wantExports}]`);
  }
  // wit-component drops every import the core module never calls, so a subset is expected.
  const extra = got.imports.filter((i) => !qualified(want.imports).includes(i));
  if (extra.length > 0) problems.push(`the component imports what wit/ does not declare: ${extra.join(", ")}`);

  const fromWit = await types(witDir, { worldName: WORLD, name: "check", instantiation: "sync", quiet: true });
  const { files } = await transpile(component, { name: "check", instantiation: "sync", quiet: true });
  const a = declarations(text(fromWit[ENGINE_DTS]));
  const b = declarations(text(files[ENGINE_DTS] ?? new Uint8Array()));
  const first = a.findIndex((line, i) => line !== b[i]);
  if (first >= 0 || a.length !== b.length) {
    const at = first >= 0 ? first : Math.min(a.length, b.length);
    problems.push(`interface engine differs from wit/ at declaration ${at}: wit/ has "${a[at] ?? "(end)"}", ` +
      `the component "${b[at] ?? "(end)"}"`);
  }
  return problems;
}
