// JSON for the snapshot's host state, which the TypeScript CLI writes with JSON.stringify: the
// two must read each other's. Numbers are integers here (the state holds no others), kept as
// u64; a number that is not a non-negative integer below 2^53 is refused, as the CLI refuses it.

export const J_NULL: u8 = 0;
export const J_BOOL: u8 = 1;
export const J_NUM: u8 = 2;
export const J_STR: u8 = 3;
export const J_ARR: u8 = 4;
export const J_OBJ: u8 = 5;

export class Json {
  kind: u8 = J_NULL;
  num: u64 = 0;
  str: string = "";
  items: Json[] = [];
  keys: string[] = [];

  static num(n: u64): Json {
    const j = new Json();
    j.kind = J_NUM;
    j.num = n;
    return j;
  }
  static str(s: string): Json {
    const j = new Json();
    j.kind = J_STR;
    j.str = s;
    return j;
  }
  static arr(): Json {
    const j = new Json();
    j.kind = J_ARR;
    return j;
  }
  static obj(): Json {
    const j = new Json();
    j.kind = J_OBJ;
    return j;
  }

  set(key: string, value: Json): Json {
    this.keys.push(key);
    this.items.push(value);
    return this;
  }
  push(value: Json): Json {
    this.items.push(value);
    return this;
  }
  get(key: string): Json | null {
    for (let i = 0; i < this.keys.length; i++) if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    return null;
  }

  stringify(): string {
    const out: string[] = [];
    write(this, out);
    return out.join("");
  }
}

function write(j: Json, out: string[]): void {
  switch (j.kind) {
    case J_NULL: out.push("null"); break;
    case J_BOOL: out.push(j.num != 0 ? "true" : "false"); break;
    case J_NUM: out.push(j.num.toString()); break;
    case J_STR: quote(j.str, out); break;
    case J_ARR:
      out.push("[");
      for (let i = 0; i < j.items.length; i++) {
        if (i > 0) out.push(",");
        write(unchecked(j.items[i]), out);
      }
      out.push("]");
      break;
    default:
      out.push("{");
      for (let i = 0; i < j.items.length; i++) {
        if (i > 0) out.push(",");
        quote(unchecked(j.keys[i]), out);
        out.push(":");
        write(unchecked(j.items[i]), out);
      }
      out.push("}");
  }
}

const HEX = "0123456789abcdef";

// As JSON.stringify quotes: the two escapes, the short control escapes, others as \u00XX.
function quote(s: string, out: string[]): void {
  out.push("\"");
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > from) out.push(s.substring(from, i));
    from = i + 1;
    if (c == 0x22) out.push("\\\"");
    else if (c == 0x5c) out.push("\\\\");
    else if (c == 0x0a) out.push("\\n");
    else if (c == 0x0d) out.push("\\r");
    else if (c == 0x09) out.push("\\t");
    else if (c == 0x08) out.push("\\b");
    else if (c == 0x0c) out.push("\\f");
    else out.push("\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15));
  }
  if (s.length > from) out.push(s.substring(from));
  out.push("\"");
}

// ── parsing ──────────────────────────────────────────────────────────────────────────────
let text: string = "";
let at: i32 = 0;
let bad: bool = false;

// The value `s` holds, or null when it is no JSON (or has numbers this reader does not take).
export function parse(s: string): Json | null {
  text = s;
  at = 0;
  bad = false;
  const v = value(0);
  space();
  if (bad || at != text.length) return null;
  return v;
}

function space(): void {
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    at++;
  }
}

function fail(): Json {
  bad = true;
  return new Json();
}

function literal(word: string): bool {
  if (text.substr(at, word.length) != word) return false;
  at += word.length;
  return true;
}

function value(depth: i32): Json {
  if (depth > 64) return fail();
  space();
  if (at >= text.length) return fail();
  const c = text.charCodeAt(at);
  if (c == 0x7b) {
    at++;
    const o = Json.obj();
    space();
    if (at < text.length && text.charCodeAt(at) == 0x7d) { at++; return o; }
    for (;;) {
      space();
      if (at >= text.length || text.charCodeAt(at) != 0x22) return fail();
      const k = stringBody();
      space();
      if (bad || at >= text.length || text.charCodeAt(at) != 0x3a) return fail();
      at++;
      o.set(k, value(depth + 1));
      if (bad) return o;
      space();
      if (at < text.length && text.charCodeAt(at) == 0x2c) { at++; continue; }
      if (at < text.length && text.charCodeAt(at) == 0x7d) { at++; return o; }
      return fail();
    }
  }
  if (c == 0x5b) {
    at++;
    const a = Json.arr();
    space();
    if (at < text.length && text.charCodeAt(at) == 0x5d) { at++; return a; }
    for (;;) {
      a.push(value(depth + 1));
      if (bad) return a;
      space();
      if (at < text.length && text.charCodeAt(at) == 0x2c) { at++; continue; }
      if (at < text.length && text.charCodeAt(at) == 0x5d) { at++; return a; }
      return fail();
    }
  }
  if (c == 0x22) return Json.str(stringBody());
  if (literal("true")) { const b = new Json(); b.kind = J_BOOL; b.num = 1; return b; }
  if (literal("false")) { const b = new Json(); b.kind = J_BOOL; return b; }
  if (literal("null")) return new Json();
  if (c >= 0x30 && c <= 0x39) {
    let n: u64 = 0;
    const start = at;
    while (at < text.length && text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x39) {
      n = n * 10 + <u64>(text.charCodeAt(at) - 0x30);
      at++;
      if (at - start > 16) return fail();
    }
    if (at - start > 1 && text.charCodeAt(start) == 0x30) return fail();
    if (at < text.length) {
      const d = text.charCodeAt(at);
      if (d == 0x2e || d == 0x65 || d == 0x45) return fail();
    }
    if (n >= (<u64>1 << 53)) return fail();
    return Json.num(n);
  }
  return fail();
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

// The string starting at the quote under `at`.
function stringBody(): string {
  at++;
  const parts: string[] = [];
  let from = at;
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c == 0x22) {
      parts.push(text.substring(from, at));
      at++;
      return parts.join("");
    }
    if (c < 0x20) break;
    if (c != 0x5c) { at++; continue; }
    parts.push(text.substring(from, at));
    if (at + 1 >= text.length) break;
    const e = text.charCodeAt(at + 1);
    at += 2;
    if (e == 0x75) {
      if (at + 4 > text.length) break;
      let u = 0;
      for (let k = 0; k < 4; k++) {
        const h = hexDigit(text.charCodeAt(at + k));
        if (h < 0) { bad = true; return ""; }
        u = (u << 4) | h;
      }
      at += 4;
      parts.push(String.fromCharCode(u));
    } else if (e == 0x22) parts.push("\"");
    else if (e == 0x5c) parts.push("\\");
    else if (e == 0x2f) parts.push("/");
    else if (e == 0x6e) parts.push("\n");
    else if (e == 0x72) parts.push("\r");
    else if (e == 0x74) parts.push("\t");
    else if (e == 0x62) parts.push("\b");
    else if (e == 0x66) parts.push("\f");
    else break;
    from = at;
  }
  bad = true;
  return "";
}
