// asc transform for the component build: gives the core module the export names the component
// model wants. AssemblyScript cannot spell `handover:vm/engine#[method]module.describe`, so the
// glue (guest-vm/abi/engine.ts) exports each function of the WIT interface under its snake_case
// name (`load_module`, `module_describe` for a method `describe` of resource `module`), and this
// transform renames them after compilation, adds `cabi_post_<name>` aliases of `post_return` for
// every function that returns through the return area, and fails the build when the glue and the
// WIT disagree. The list of functions comes from wit/vm.wit itself.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Transform } from "assemblyscript/transform";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const INTERFACE = "engine";
const PREFIX = `handover:vm/${INTERFACE}#`;

/** The canonical export names of the interface's functions, keyed by their snake_case glue name. */
export function witFunctions(witText, iface = INTERFACE) {
  const text = witText.replace(/\/\/.*$/gm, "");
  const start = text.search(new RegExp(`\\binterface\\s+${iface}\\s*\\{`));
  if (start < 0) throw new Error(`no interface ${iface} in the WIT`);
  const names = new Map();
  const snake = (s) => s.replace(/^%/, "").replace(/-/g, "_");
  let depth = 0;
  let resource = null;
  // Tokens: braces, `resource name {`, and `name: [static] func`.
  const token = /(\{)|(\})|\bresource\s+(%?[a-z][\w-]*)\s*\{|(%?[a-z][\w-]*)\s*:\s*(static\s+)?func\s*\(|\b(constructor)\s*\(/g;
  token.lastIndex = text.indexOf("{", start);
  for (let m; (m = token.exec(text)); ) {
    if (m[1]) depth++;
    else if (m[2]) {
      depth--;
      if (depth === 1) resource = null;
      if (depth === 0) break;
    } else if (m[3]) {
      depth++;
      resource = m[3].replace(/^%/, "");
    } else if (m[6]) {
      throw new Error(`resource ${resource}: constructors are not supported by the glue naming`);
    } else if (m[4]) {
      const name = m[4].replace(/^%/, "");
      const canonical = resource === null ? name : `${m[5] ? "[static]" : "[method]"}${resource}.${name}`;
      const glue = resource === null ? snake(name) : `${snake(resource)}_${snake(name)}`;
      if (names.has(glue)) throw new Error(`two WIT functions map to the glue name ${glue}`);
      names.set(glue, canonical);
    }
  }
  return names;
}

export default class ComponentExports extends Transform {
  afterCompile(module) {
    const binaryen = this.binaryen;
    const wanted = witFunctions(readFileSync(join(root, "wit/vm.wit"), "utf8"));
    const exports = [];
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind === binaryen.ExternalFunction) exports.push(info);
    }
    const post = exports.find((e) => e.name === "post_return");
    if (!post) throw new Error("component-exports: the glue exports no post_return");
    module.removeExport("post_return");
    const done = new Set();
    for (const { name, value } of exports) {
      const canonical = wanted.get(name);
      if (canonical === undefined) continue;
      module.removeExport(name);
      module.addFunctionExport(value, PREFIX + canonical);
      const fn = binaryen.getFunctionInfo(module.getFunction(value));
      // One i32 result = a pointer into the return area (every function with results here).
      if (fn.results === binaryen.i32) module.addFunctionExport(post.value, `cabi_post_${PREFIX}${canonical}`);
      done.add(name);
    }
    const missing = [...wanted.keys()].filter((n) => !done.has(n));
    if (missing.length > 0) {
      throw new Error(`component-exports: the glue lacks ${missing.map((n) => `${n} (${wanted.get(n)})`).join(", ")}`);
    }
  }
}
