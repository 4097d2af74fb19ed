// A parser: generates a JSON document (nested objects and arrays, strings with escapes and
// \u sequences, integers, fractions, exponents, literals), parses it into a tree (recursive
// descent, objects as arrays of members), walks it (counts, sums, depth, lookups by key path),
// serializes the tree again and parses that, which must give the same serialization.
//
//   json [N=5000]   records in the generated document; tests use 60
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 1u;
static uint32_t next_random(void) { rng = rng * 1664525u + 1013904223u; return rng >> 8; }

// --- a growable text buffer -----------------------------------------------------------------
typedef struct { char *p; size_t n, cap; } Buf;
static void grow(Buf *b, size_t more) {
  if (b->n + more <= b->cap) return;
  while (b->n + more > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
  b->p = realloc(b->p, b->cap);
}
static void add(Buf *b, const char *s, size_t n) { grow(b, n + 1); memcpy(b->p + b->n, s, n); b->n += n; b->p[b->n] = 0; }
static void adds(Buf *b, const char *s) { add(b, s, strlen(s)); }
static void addc(Buf *b, char c) { add(b, &c, 1); }

// --- the tree ---------------------------------------------------------------------------------
enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct Value Value;
struct Value {
  int type;
  double num;
  char *str;        // J_STR; for members of J_OBJ, the key is in keys[i]
  Value **items;
  char **keys;
  int count, cap;
};

static Value *value(int type) { Value *v = calloc(1, sizeof *v); v->type = type; return v; }
static void push(Value *v, char *key, Value *item) {
  if (v->count == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 4;
    v->items = realloc(v->items, sizeof *v->items * (size_t)v->cap);
    if (v->type == J_OBJ) v->keys = realloc(v->keys, sizeof *v->keys * (size_t)v->cap);
  }
  if (v->type == J_OBJ) v->keys[v->count] = key;
  v->items[v->count++] = item;
}
static void release(Value *v) {
  for (int i = 0; i < v->count; i++) { release(v->items[i]); if (v->keys) free(v->keys[i]); }
  free(v->items); free(v->keys); free(v->str); free(v);
}

// --- parsing ------------------------------------------------------------------------------------
typedef struct { const char *s; size_t at; const char *error; } Parser;

static void ws(Parser *p) { while (p->s[p->at] == ' ' || p->s[p->at] == '\n' || p->s[p->at] == '\t' || p->s[p->at] == '\r') p->at++; }

static int hexval(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

static char *parse_string(Parser *p) {
  Buf b = {0};
  p->at++; // the opening quote
  for (;;) {
    char c = p->s[p->at++];
    if (c == '"') break;
    if (c == 0 || (unsigned char)c < 0x20) { p->error = "bad string"; free(b.p); return NULL; }
    if (c != '\\') { addc(&b, c); continue; }
    char e = p->s[p->at++];
    switch (e) {
      case 'n': addc(&b, '\n'); break;
      case 't': addc(&b, '\t'); break;
      case 'r': addc(&b, '\r'); break;
      case 'b': addc(&b, '\b'); break;
      case 'f': addc(&b, '\f'); break;
      case '"': case '\\': case '/': addc(&b, e); break;
      case 'u': {
        unsigned cp = 0;
        for (int k = 0; k < 4; k++) {
          int h = hexval(p->s[p->at++]);
          if (h < 0) { p->error = "bad \\u"; free(b.p); return NULL; }
          cp = cp << 4 | (unsigned)h;
        }
        // UTF-8 (the generator makes no surrogates)
        if (cp < 0x80) addc(&b, (char)cp);
        else if (cp < 0x800) { addc(&b, (char)(0xC0 | cp >> 6)); addc(&b, (char)(0x80 | (cp & 63))); }
        else { addc(&b, (char)(0xE0 | cp >> 12)); addc(&b, (char)(0x80 | ((cp >> 6) & 63))); addc(&b, (char)(0x80 | (cp & 63))); }
        break;
      }
      default: p->error = "bad escape"; free(b.p); return NULL;
    }
  }
  if (!b.p) adds(&b, "");
  return b.p;
}

static Value *parse_value(Parser *p, int depth);

static Value *parse_number(Parser *p) {
  const char *start = p->s + p->at;
  char *end;
  double d = strtod(start, &end);
  if (end == start) { p->error = "bad number"; return NULL; }
  p->at += (size_t)(end - start);
  Value *v = value(J_NUM);
  v->num = d;
  return v;
}

static Value *parse_container(Parser *p, int depth, int obj) {
  Value *v = value(obj ? J_OBJ : J_ARR);
  p->at++;
  ws(p);
  if (p->s[p->at] == (obj ? '}' : ']')) { p->at++; return v; }
  for (;;) {
    char *key = NULL;
    if (obj) {
      ws(p);
      if (p->s[p->at] != '"' || !(key = parse_string(p))) { p->error = p->error ? p->error : "key expected"; release(v); return NULL; }
      ws(p);
      if (p->s[p->at++] != ':') { p->error = "':' expected"; free(key); release(v); return NULL; }
    }
    Value *item = parse_value(p, depth + 1);
    if (!item) { free(key); release(v); return NULL; }
    push(v, key, item);
    ws(p);
    char c = p->s[p->at++];
    if (c == ',') continue;
    if (c == (obj ? '}' : ']')) return v;
    p->error = "',' or end expected";
    release(v);
    return NULL;
  }
}

static Value *parse_value(Parser *p, int depth) {
  if (depth > 200) { p->error = "too deep"; return NULL; }
  ws(p);
  char c = p->s[p->at];
  if (c == '{' || c == '[') return parse_container(p, depth, c == '{');
  if (c == '"') { char *s = parse_string(p); if (!s) return NULL; Value *v = value(J_STR); v->str = s; return v; }
  if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
  static const struct { const char *word; int type; } lits[] = {{"null", J_NULL}, {"true", J_TRUE}, {"false", J_FALSE}};
  for (int i = 0; i < 3; i++)
    if (strncmp(p->s + p->at, lits[i].word, strlen(lits[i].word)) == 0) { p->at += strlen(lits[i].word); return value(lits[i].type); }
  p->error = "value expected";
  return NULL;
}

// --- serializing ----------------------------------------------------------------------------------
static void emit_string(Buf *b, const char *s) {
  addc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { addc(b, '\\'); addc(b, (char)c); }
    else if (c == '\n') adds(b, "\\n");
    else if (c == '\t') adds(b, "\\t");
    else if (c < 0x20) { char e[8]; snprintf(e, sizeof e, "\\u%04x", c); adds(b, e); }
    else addc(b, (char)c);
  }
  addc(b, '"');
}
static void emit(Buf *b, const Value *v) {
  char num[32];
  switch (v->type) {
    case J_NULL: adds(b, "null"); break;
    case J_TRUE: adds(b, "true"); break;
    case J_FALSE: adds(b, "false"); break;
    case J_NUM: snprintf(num, sizeof num, "%.17g", v->num); adds(b, num); break;
    case J_STR: emit_string(b, v->str); break;
    default:
      addc(b, v->type == J_OBJ ? '{' : '[');
      for (int i = 0; i < v->count; i++) {
        if (i) addc(b, ',');
        if (v->type == J_OBJ) { emit_string(b, v->keys[i]); addc(b, ':'); }
        emit(b, v->items[i]);
      }
      addc(b, v->type == J_OBJ ? '}' : ']');
  }
}

// --- walking ----------------------------------------------------------------------------------------
typedef struct { long nodes, strings, numbers, bytes; double sum; int depth; } Stats;
static void walk(const Value *v, int depth, Stats *s) {
  s->nodes++;
  if (depth > s->depth) s->depth = depth;
  if (v->type == J_NUM) { s->numbers++; s->sum += v->num; }
  if (v->type == J_STR) { s->strings++; s->bytes += (long)strlen(v->str); }
  for (int i = 0; i < v->count; i++) walk(v->items[i], depth + 1, s);
}
static const Value *get(const Value *v, const char *key) {
  if (!v || v->type != J_OBJ) return NULL;
  for (int i = 0; i < v->count; i++) if (strcmp(v->keys[i], key) == 0) return v->items[i];
  return NULL;
}

// --- generating -------------------------------------------------------------------------------------
static const char *NAMES[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
static void gen_value(Buf *b, int depth);
static void gen_string(Buf *b) {
  addc(b, '"');
  int n = (int)(next_random() % 12);
  for (int i = 0; i < n; i++) {
    uint32_t r = next_random() % 40;
    if (r == 0) adds(b, "\\\"");
    else if (r == 1) adds(b, "\\n");
    else if (r == 2) adds(b, "\\u00e9");
    else if (r == 3) adds(b, "\\u20ac");
    else addc(b, (char)('a' + r % 26));
  }
  addc(b, '"');
}
static void gen_value(Buf *b, int depth) {
  uint32_t r = next_random() % (depth > 4 ? 6 : 9);
  char num[40];
  switch (r) {
    case 0: adds(b, next_random() & 1 ? "true" : "null"); break;
    case 1: adds(b, "false"); break;
    case 2: snprintf(num, sizeof num, "%d", (int)(next_random() % 200000) - 100000); adds(b, num); break;
    case 3: snprintf(num, sizeof num, "%u.%03u", next_random() % 1000, next_random() % 1000); adds(b, num); break;
    case 4: snprintf(num, sizeof num, "%ue-%u", next_random() % 100, next_random() % 5); adds(b, num); break;
    case 5: gen_string(b); break;
    case 6: case 7: {
      int n = (int)(next_random() % 5);
      adds(b, "[ ");
      for (int i = 0; i < n; i++) { if (i) adds(b, ", "); gen_value(b, depth + 1); }
      adds(b, " ]");
      break;
    }
    default: {
      int n = (int)(next_random() % 5);
      addc(b, '{');
      for (int i = 0; i < n; i++) {
        if (i) addc(b, ',');
        adds(b, "\n  \""); adds(b, NAMES[(i + next_random()) % 8]); adds(b, "\": ");
        gen_value(b, depth + 1);
      }
      addc(b, '}');
    }
  }
}

static uint32_t fnv(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000;
  if (n < 1) n = 1;
  Buf doc = {0};
  adds(&doc, "{\"version\": 3, \"records\": [\n");
  for (long i = 0; i < n; i++) {
    char head[96];
    snprintf(head, sizeof head, "%s{\"id\": %ld, \"name\": \"%s-%ld\", \"score\": %u.%02u, \"data\": ", i ? ",\n" : "", i, NAMES[i % 8], i, next_random() % 100, next_random() % 100);
    adds(&doc, head);
    gen_value(&doc, 0);
    adds(&doc, ", \"tags\": [");
    for (int t = 0; t < (int)(i % 4); t++) { if (t) addc(&doc, ','); gen_string(&doc); }
    adds(&doc, "]}");
  }
  adds(&doc, "\n], \"end\": true}\n");

  Parser p = {doc.p, 0, NULL};
  Value *root = parse_value(&p, 0);
  if (!root) { printf("parse error at %zu: %s\n", p.at, p.error); return 1; }
  Stats s = {0};
  walk(root, 0, &s);
  const Value *records = get(root, "records");
  double scores = 0;
  long tags = 0;
  for (int i = 0; records && i < records->count; i++) {
    const Value *sc = get(records->items[i], "score"), *tg = get(records->items[i], "tags");
    if (sc) scores += sc->num;
    if (tg) tags += tg->count;
  }
  printf("document: %zu bytes, %ld records\n", doc.n, records ? (long)records->count : -1L);
  printf("tree: %ld nodes, %ld strings (%ld bytes), %ld numbers, depth %d\n", s.nodes, s.strings, s.bytes, s.numbers, s.depth);
  printf("sum of numbers %.6e, scores %.2f, tags %ld\n", s.sum, scores, tags);

  // Round trip: serialize, parse that, serialize again; the two serializations are equal.
  Buf out1 = {0}, out2 = {0};
  emit(&out1, root);
  Parser p2 = {out1.p, 0, NULL};
  Value *again = parse_value(&p2, 0);
  if (!again) { printf("reparse error at %zu: %s\n", p2.at, p2.error); return 1; }
  emit(&out2, again);
  if (out1.n != out2.n || memcmp(out1.p, out2.p, out1.n) != 0) { printf("round trip differs\n"); return 1; }
  printf("serialized %zu bytes, hash %08x\n", out1.n, fnv(out1.p, out1.n));

  // Malformed inputs are refused.
  static const char *bad[] = {"[1,]", "{\"a\" 1}", "[\"\\x\"]", "[1 2]", "{\"a\":tru}", "\"abc"};
  int refused = 0;
  for (int i = 0; i < 6; i++) {
    Parser q = {bad[i], 0, NULL};
    Value *v = parse_value(&q, 0);
    if (v) release(v); else refused++;
  }
  printf("refused %d of 6 malformed\n", refused);
  release(root);
  release(again);
  free(doc.p); free(out1.p); free(out2.p);
  return 0;
}
