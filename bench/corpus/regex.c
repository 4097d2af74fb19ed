// A regex engine: patterns (literals, ., [classes] with ranges and negation, * + ?, |, groups,
// ^ $ anchors) parsed to postfix, compiled to a Thompson NFA, and run by simulating the NFA with
// state lists (no backtracking), with a lazily built DFA cache in front of it; searched over
// generated log-like lines, both engines cross-checked. Prints match counts per pattern.
//
//   regex [LINES=6000]   generated lines; tests use 200
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 7u;
static uint32_t next_random(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

// --- NFA ------------------------------------------------------------------------------------
enum { S_CHAR, S_ANY, S_CLASS, S_SPLIT, S_MATCH, S_BOL, S_EOL };
typedef struct State { int kind, c; uint8_t set[32]; struct State *out, *out1; int mark; int id; } State;

static State pool[4096];
static int npool;
static State *state(int kind, State *out, State *out1) {
  if (npool == 4096) { printf("pattern too large\n"); exit(1); }
  State *s = &pool[npool];
  memset(s, 0, sizeof *s);
  s->kind = kind; s->out = out; s->out1 = out1; s->id = npool++;
  return s;
}

// A fragment: its start and a list of dangling out pointers (threaded through themselves).
typedef union Ptr { union Ptr *next; State *s; } Ptr;
typedef struct { State *start; Ptr *out; } Frag;
static Ptr *list1(State **p) { Ptr *l = (Ptr *)p; l->next = NULL; return l; }
static void patch(Ptr *l, State *s) { while (l) { Ptr *n = l->next; l->s = s; l = n; } }
static Ptr *append(Ptr *a, Ptr *b) { Ptr *o = a; while (a->next) a = a->next; a->next = b; return o; }

// Parser: pattern → a postfix token stream. Tokens: {kind, c, set}; '.' concat, '|', '*', '+', '?'.
typedef struct { int op; int kind, c; uint8_t set[32]; } Tok;
static Tok post[1024];
static int npost;
static const char *pat;

static void emit_atom(int kind, int c, const uint8_t *set) {
  Tok *t = &post[npost++];
  memset(t, 0, sizeof *t);
  t->op = 0; t->kind = kind; t->c = c;
  if (set) memcpy(t->set, set, 32);
}
static void emit_op(int op) { Tok *t = &post[npost++]; memset(t, 0, sizeof *t); t->op = op; }

static void parse_alt(void);
static int parse_atom(void) {
  char c = *pat;
  if (!c || c == '|' || c == ')') return 0;
  pat++;
  if (c == '(') { parse_alt(); if (*pat++ != ')') { printf("missing )\n"); exit(1); } return 1; }
  if (c == '.') { emit_atom(S_ANY, 0, NULL); return 1; }
  if (c == '^') { emit_atom(S_BOL, 0, NULL); return 1; }
  if (c == '$') { emit_atom(S_EOL, 0, NULL); return 1; }
  if (c == '[') {
    uint8_t set[32] = {0};
    int negate = *pat == '^';
    if (negate) pat++;
    while (*pat && *pat != ']') {
      unsigned lo = (unsigned char)*pat++, hi = lo;
      if (*pat == '-' && pat[1] && pat[1] != ']') { pat++; hi = (unsigned char)*pat++; }
      for (unsigned k = lo; k <= hi; k++) set[k >> 3] |= (uint8_t)(1 << (k & 7));
    }
    pat++;
    if (negate) for (int k = 0; k < 32; k++) set[k] = (uint8_t)~set[k];
    emit_atom(S_CLASS, 0, set);
    return 1;
  }
  if (c == '\\') {
    char e = *pat++;
    uint8_t set[32] = {0};
    if (e == 'd') { for (int k = '0'; k <= '9'; k++) set[k >> 3] |= (uint8_t)(1 << (k & 7)); emit_atom(S_CLASS, 0, set); return 1; }
    if (e == 'w') {
      for (int k = 0; k < 256; k++) if ((k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') || (k >= '0' && k <= '9') || k == '_') set[k >> 3] |= (uint8_t)(1 << (k & 7));
      emit_atom(S_CLASS, 0, set);
      return 1;
    }
    c = e;
  }
  emit_atom(S_CHAR, (unsigned char)c, NULL);
  return 1;
}
static int parse_repeat(void) {
  if (!parse_atom()) return 0;
  while (*pat == '*' || *pat == '+' || *pat == '?') emit_op(*pat++);
  return 1;
}
static void parse_concat(void) {
  int n = 0;
  while (parse_repeat()) if (++n > 1) emit_op('.');
  if (n == 0) emit_atom(S_SPLIT, -1, NULL); // empty: matches nothing-consuming
}
static void parse_alt(void) {
  parse_concat();
  while (*pat == '|') { pat++; parse_concat(); emit_op('|'); }
}

static State *compile(const char *p) {
  pat = p; npost = 0;
  parse_alt();
  Frag stack[512];
  int sp = 0;
  for (int i = 0; i < npost; i++) {
    Tok *t = &post[i];
    Frag a, b;
    State *s;
    switch (t->op) {
      case 0:
        if (t->kind == S_SPLIT) { // the empty pattern: a split whose both arms dangle
          s = state(S_SPLIT, NULL, NULL);
          stack[sp++] = (Frag){s, append(list1(&s->out), list1(&s->out1))};
          break;
        }
        s = state(t->kind, NULL, NULL);
        s->c = t->c;
        memcpy(s->set, t->set, 32);
        stack[sp++] = (Frag){s, list1(&s->out)};
        break;
      case '.': b = stack[--sp]; a = stack[--sp]; patch(a.out, b.start); stack[sp++] = (Frag){a.start, b.out}; break;
      case '|': b = stack[--sp]; a = stack[--sp]; s = state(S_SPLIT, a.start, b.start); stack[sp++] = (Frag){s, append(a.out, b.out)}; break;
      case '?': a = stack[--sp]; s = state(S_SPLIT, a.start, NULL); stack[sp++] = (Frag){s, append(a.out, list1(&s->out1))}; break;
      case '*': a = stack[--sp]; s = state(S_SPLIT, a.start, NULL); patch(a.out, s); stack[sp++] = (Frag){s, list1(&s->out1)}; break;
      case '+': a = stack[--sp]; s = state(S_SPLIT, a.start, NULL); patch(a.out, s); stack[sp++] = (Frag){a.start, list1(&s->out1)}; break;
    }
  }
  Frag e = stack[--sp];
  patch(e.out, state(S_MATCH, NULL, NULL));
  return e.start;
}

// --- simulation ---------------------------------------------------------------------------------
typedef struct { State **s; int n; } List;
static int generation;
static State *lbuf[3][4096];

// Follows splits and zero-width anchors; `at` and `len` decide ^ and $.
static void addstate(List *l, State *s, int at, int len) {
  if (!s || s->mark == generation) return;
  s->mark = generation;
  if (s->kind == S_SPLIT) { addstate(l, s->out, at, len); addstate(l, s->out1, at, len); return; }
  if (s->kind == S_BOL) { if (at == 0) addstate(l, s->out, at, len); return; }
  if (s->kind == S_EOL) { if (at == len) addstate(l, s->out, at, len); return; }
  l->s[l->n++] = s;
}
static int step_matches(const State *s, int c) {
  switch (s->kind) {
    case S_CHAR: return s->c == c;
    case S_ANY: return c != '\n';
    case S_CLASS: return (s->set[c >> 3] >> (c & 7)) & 1;
  }
  return 0;
}
static int has_match(const List *l) { for (int i = 0; i < l->n; i++) if (l->s[i]->kind == S_MATCH) return 1; return 0; }

// Unanchored search: the start state is added at every position.
static int nfa_search(State *start, const char *text, int len) {
  List cur = {lbuf[0], 0}, nxt = {lbuf[1], 0};
  generation++;
  addstate(&cur, start, 0, len);
  for (int i = 0; i < len; i++) {
    if (has_match(&cur)) return 1;
    int c = (unsigned char)text[i];
    generation++;
    nxt.n = 0;
    for (int k = 0; k < cur.n; k++) if (step_matches(cur.s[k], c)) addstate(&nxt, cur.s[k]->out, i + 1, len);
    addstate(&nxt, start, i + 1, len);
    List t = cur; cur = nxt; nxt = t;
  }
  return has_match(&cur);
}

// --- a DFA cache: each DFA state is a sorted set of NFA states (valid away from ^ and $) --------
#define MAXD 2048
typedef struct { int n; int ids[64]; int next[256]; int match; } DState;
static DState *dstates;
static int ndstates;
static int dfa_broken;

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static int dstate_of(List *l) {
  int ids[4096];
  int n = l->n;
  if (n > 64) { dfa_broken = 1; return -1; }
  for (int i = 0; i < n; i++) ids[i] = l->s[i]->id;
  qsort(ids, (size_t)n, sizeof *ids, cmp_int);
  for (int d = 0; d < ndstates; d++)
    if (dstates[d].n == n && memcmp(dstates[d].ids, ids, sizeof(int) * (size_t)n) == 0) return d;
  if (ndstates == MAXD) { dfa_broken = 1; return -1; }
  DState *d = &dstates[ndstates];
  d->n = n;
  memcpy(d->ids, ids, sizeof(int) * (size_t)n);
  for (int c = 0; c < 256; c++) d->next[c] = -1;
  d->match = has_match(l);
  return ndstates++;
}
// Only for patterns without anchors: the mid-text closure is the same at every position.
static int dfa_search(State *start, const char *text, int len) {
  List cur = {lbuf[0], 0};
  generation++;
  addstate(&cur, start, 1, len + 1);
  int d = dstate_of(&cur);
  for (int i = 0; i < len && d >= 0; i++) {
    if (dstates[d].match) return 1;
    int c = (unsigned char)text[i];
    int nd = dstates[d].next[c];
    if (nd < 0) {
      List nxt = {lbuf[2], 0};
      generation++;
      for (int k = 0; k < dstates[d].n; k++) {
        State *s = &pool[dstates[d].ids[k]];
        if (step_matches(s, c)) addstate(&nxt, s->out, 1, len + 1);
      }
      addstate(&nxt, start, 1, len + 1);
      nd = dstate_of(&nxt);
      if (nd < 0) return -1;
      dstates[d].next[c] = nd;
    }
    d = nd;
  }
  return d < 0 ? -1 : dstates[d].match;
}

static const char *PATTERNS[] = {
  "error", "^\\d\\d:\\d\\d", "user=[a-z]+\\d+", "(GET|POST) /api/v[12]/\\w+", "id=\\d\\d\\d\\d+ ", "[^a-z ]x+y",
  "(a|b)*abb", "timeout.*retry", "^\\d+:\\d+ (INFO|WARN) .*ms$", "\\w+@\\w+\\.(com|org)", "(ab|ba|aab)+c", "[0-9]+\\.[0-9]+\\.[0-9]+",
};

int main(int argc, char **argv) {
  long lines = argc > 1 ? atol(argv[1]) : 6000;
  if (lines < 1) lines = 1;
  static const char *LEVEL[] = {"INFO", "WARN", "ERROR", "DEBUG"}, *VERB[] = {"GET", "POST", "PUT"};
  static const char *WORD[] = {"users", "orders", "timeout", "retry", "abba", "aab", "cache", "mail@host.com", "x@y.org"};
  char *text = malloc((size_t)lines * 128);
  int *start = malloc(sizeof(int) * (size_t)(lines + 1));
  int at = 0;
  for (long i = 0; i < lines; i++) {
    uint32_t r = next_random(), s = next_random();
    start[i] = at;
    at += sprintf(text + at, "%02u:%02u %s %s /api/v%u/%s user=%s%u %s %s id=%u %u.%u.%u %ums",
                  r % 24, (r >> 5) % 60, LEVEL[(r >> 11) % 4], VERB[(r >> 13) % 3], 1 + (r >> 15) % 3, WORD[(r >> 17) % 9],
                  r >> 28 ? "bob" : "ALICE", (s % 1000), WORD[(s >> 10) % 9], (s >> 14) % 5 ? "ok" : "error", s % 100000,
                  (s >> 3) % 10, (s >> 7) % 100, (s >> 12) % 10, (r >> 20) % 900);
    if (r % 5 == 0) at += sprintf(text + at, " ababaabbaabc Xxxy");
  }
  start[lines] = at;
  dstates = malloc(sizeof(DState) * MAXD);
  uint32_t total = 0;
  int npat = (int)(sizeof PATTERNS / sizeof PATTERNS[0]);
  for (int p = 0; p < npat; p++) {
    npool = 0;
    State *st = compile(PATTERNS[p]);
    int anchored = strchr(PATTERNS[p], '^') || strchr(PATTERNS[p], '$');  // conservative: a ^ inside [^…] counts too
    ndstates = 0;
    dfa_broken = 0;
    long nfa_hits = 0, dfa_hits = 0;
    for (long i = 0; i < lines; i++) {
      const char *line = text + start[i];
      int len = start[i + 1] - start[i];
      int m = nfa_search(st, line, len);
      nfa_hits += m;
      // The DFA gets every line unless anchored; the NFA alone is the slower engine, so it
      // runs on every line as the reference.
      if (!anchored) {
        int dm = dfa_search(st, line, len);
        if (dm >= 0 && dm != m) { printf("pattern %d: engines disagree on line %ld\n", p, i); return 1; }
        dfa_hits += dm > 0;
      }
    }
    printf("%-28s %5d states %4d dfa states: %ld lines\n", PATTERNS[p], npool, anchored ? 0 : ndstates, nfa_hits);
    total = total * 31 + (uint32_t)nfa_hits;
    (void)dfa_hits;
  }
  printf("checksum %08x\n", total);
  free(text); free(start); free(dstates);
  return 0;
}
