// What the generators (gen-isa.mjs, gen-vocabulary.mjs) share: a file's generated section between
// its markers, and writing the outputs, or with `--check` failing when one would change (the
// tests run the checks, so no generated file can go stale).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** File `rel` with `body` between its `begin` and `end` marker lines. */
export function splice(root, rel, begin, end, body) {
  const file = readFileSync(path.join(root, rel), "utf8");
  const a = file.indexOf(begin), b = file.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${rel} lacks the generated-section markers ${JSON.stringify(begin.trim())}`);
  return file.slice(0, a + begin.length) + body + file.slice(b);
}

/** Writes each output (path relative to `root` → text); with --check, exits 1 naming the stale ones. */
export function emit(root, outputs) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [rel, text] of Object.entries(outputs)) {
    const file = path.join(root, rel);
    let old = null;
    try { old = readFileSync(file, "utf8"); } catch {}
    if (old === text) continue;
    if (check) { console.error(`stale: ${rel} (run npm run gen)`); stale++; }
    else { writeFileSync(file, text); console.log(`wrote ${rel}`); }
  }
  if (stale) process.exit(1);
}
