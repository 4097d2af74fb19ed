// A bytecode interpreter: a tokenizer and a one-pass recursive-descent compiler for a small
// language (functions, locals, while/if/else, return, integer arithmetic and comparisons with
// short-circuit && ||, a global array through get/put) to a stack machine's bytecode, and the
// machine that runs it (a switch dispatch loop, call frames on the value stack). The program
// sieves primes, counts Collatz steps, runs recursive fib and gcd, and sorts an array.
//
//   bytecode [N=60000]   the program's size parameter; tests use 600
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *SOURCE =
  "fn fib(n) { if (n < 2) { return n; } return fib(n - 1) + fib(n - 2); }\n"
  "fn gcd(a, b) { while (b != 0) { var t = a % b; a = b; b = t; } return a; }\n"
  "fn sieve(n) {\n"
  "  var i = 2; while (i < n) { put(i, 1); i = i + 1; }\n"
  "  var count = 0; i = 2;\n"
  "  while (i < n) {\n"
  "    if (get(i)) { count = count + 1; var j = n; if (i <= n / i) { j = i * i; } while (j < n) { put(j, 0); j = j + i; } }\n"
  "    i = i + 1;\n"
  "  }\n"
  "  return count;\n"
  "}\n"
  "fn collatz(limit) {\n"
  "  var best = 0; var arg = 0; var k = 1;\n"
  "  while (k < limit) {\n"
  "    var x = k; var steps = 0;\n"
  "    while (x != 1) { if (x % 2 == 0) { x = x / 2; } else { x = 3 * x + 1; } steps = steps + 1; }\n"
  "    if (steps > best) { best = steps; arg = k; }\n"
  "    k = k + 1;\n"
  "  }\n"
  "  return arg * 1000 + best;\n"
  "}\n"
  "fn shellsort(n) {\n"
  "  var seed = 12345; var i = 0;\n"
  "  while (i < n) { seed = (seed * 1103 + 12345) % 65536; put(i, seed); i = i + 1; }\n"
  "  var gap = n / 2;\n"
  "  while (gap > 0) {\n"
  "    i = gap;\n"
  "    while (i < n) {\n"
  "      var v = get(i); var j = i;\n"
  "      while (j >= gap && get(j - gap) > v) { put(j, get(j - gap)); j = j - gap; }\n"
  "      put(j, v); i = i + 1;\n"
  "    }\n"
  "    gap = gap / 2;\n"
  "  }\n"
  "  i = 1; var ok = 1; var sum = 0;\n"
  "  while (i < n) { if (get(i - 1) > get(i)) { ok = 0; } sum = (sum * 31 + get(i)) % 1000003; i = i + 1; }\n"
  "  return ok * 10000000 + sum;\n"
  "}\n"
  "fn main(n) {\n"
  "  var acc = sieve(n);\n"
  "  acc = acc * 7 + collatz(n / 8);\n"
  "  acc = acc * 7 + fib(14 + n / 20000);\n"
  "  var g = 0; var a = 1;\n"
  "  while (a < n / 10) { g = g + gcd(a * 7919, n + a); a = a + 1; }\n"
  "  acc = acc * 7 + g;\n"
  "  acc = acc * 7 + shellsort(n / 4);\n"
  "  return acc;\n"
  "}\n";

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, DIV, MOD, LT, LE, GT, GE, EQ, NE, NEG, NOT, JMP, JZ, JNZ, CALL, RET, POP, GET, PUT, DUP };
static const char *OPNAMES[] = {"push", "load", "store", "add", "sub", "mul", "div", "mod", "lt", "le", "gt", "ge", "eq", "ne", "neg", "not", "jmp", "jz", "jnz", "call", "ret", "pop", "get", "put", "dup"};

// --- tokens -------------------------------------------------------------------------------------
enum { T_EOF, T_NUM, T_ID, T_FN, T_VAR, T_IF, T_ELSE, T_WHILE, T_RETURN, T_OP };
typedef struct { int kind; int32_t num; char text[32]; } Token;
static const char *src;
static Token tok;

static void next(void) {
  while (isspace((unsigned char)*src)) src++;
  memset(&tok, 0, sizeof tok);
  if (!*src) { tok.kind = T_EOF; return; }
  if (isdigit((unsigned char)*src)) { tok.kind = T_NUM; while (isdigit((unsigned char)*src)) tok.num = tok.num * 10 + (*src++ - '0'); return; }
  if (isalpha((unsigned char)*src) || *src == '_') {
    int n = 0;
    while ((isalnum((unsigned char)*src) || *src == '_') && n < 31) tok.text[n++] = *src++;
    static const struct { const char *w; int k; } kw[] = {{"fn", T_FN}, {"var", T_VAR}, {"if", T_IF}, {"else", T_ELSE}, {"while", T_WHILE}, {"return", T_RETURN}};
    tok.kind = T_ID;
    for (int i = 0; i < 6; i++) if (strcmp(tok.text, kw[i].w) == 0) tok.kind = kw[i].k;
    return;
  }
  static const char *two[] = {"<=", ">=", "==", "!=", "&&", "||"};
  tok.kind = T_OP;
  for (int i = 0; i < 6; i++) if (src[0] == two[i][0] && src[1] == two[i][1]) { memcpy(tok.text, two[i], 2); src += 2; return; }
  tok.text[0] = *src++;
}
static int is(const char *op) { return tok.kind == T_OP && strcmp(tok.text, op) == 0; }
static void fail(const char *what) { printf("compile error: %s near '%s'\n", what, tok.text); exit(1); }
static void expect(const char *op) { if (!is(op)) fail(op); next(); }

// --- the compiler -------------------------------------------------------------------------------
static int32_t code[8192];
static int ncode;
typedef struct { char name[32]; int addr, params, locals; int patches[64], npatches; } Func;
static Func funcs[32];
static int nfuncs;
static char locals[64][32];
static int nlocals;

static void emit(int32_t v) { if (ncode >= 8192) fail("program too long"); code[ncode++] = v; }
static int func_index(const char *name) {
  for (int i = 0; i < nfuncs; i++) if (strcmp(funcs[i].name, name) == 0) return i;
  strcpy(funcs[nfuncs].name, name);
  funcs[nfuncs].addr = -1;
  return nfuncs++;
}
static int local_index(const char *name, int declare) {
  for (int i = 0; i < nlocals; i++) if (strcmp(locals[i], name) == 0) return i;
  if (!declare) fail("unknown variable");
  strcpy(locals[nlocals], name);
  return nlocals++;
}

static void expr(void);
static void primary(void) {
  if (tok.kind == T_NUM) { emit(PUSH); emit(tok.num); next(); return; }
  if (is("(")) { next(); expr(); expect(")"); return; }
  if (is("-")) { next(); primary(); emit(NEG); return; }
  if (is("!")) { next(); primary(); emit(NOT); return; }
  if (tok.kind != T_ID) fail("expression expected");
  char name[32];
  strcpy(name, tok.text);
  next();
  if (!is("(")) { emit(LOAD); emit(local_index(name, 0)); return; }
  next();
  int args = 0;
  while (!is(")")) { expr(); args++; if (!is(")")) expect(","); }
  next();
  if (strcmp(name, "get") == 0) { emit(GET); return; }
  if (strcmp(name, "put") == 0) { emit(PUT); emit(PUSH); emit(0); return; }
  int f = func_index(name);
  emit(CALL);
  funcs[f].patches[funcs[f].npatches++] = ncode;
  emit(-1);
  emit(args);
}
// Precedence climbing over binary operators; && and || jump around their right side.
static int prec(void) {
  if (tok.kind != T_OP) return 0;
  static const struct { const char *op; int p; } ops[] = {{"||", 1}, {"&&", 2}, {"==", 3}, {"!=", 3}, {"<", 4}, {"<=", 4}, {">", 4}, {">=", 4}, {"+", 5}, {"-", 5}, {"*", 6}, {"/", 6}, {"%", 6}};
  for (int i = 0; i < 13; i++) if (strcmp(tok.text, ops[i].op) == 0) return ops[i].p;
  return 0;
}
static void binary(int min) {
  primary();
  for (int p; (p = prec()) >= min;) {
    char op[3];
    strcpy(op, tok.text);
    next();
    if (p <= 2) { // a && b: dup a; jz end; pop; b; end:  (a || b likewise with jnz)
      emit(DUP); emit(p == 1 ? JNZ : JZ);
      int at = ncode; emit(0);
      emit(POP); binary(p + 1);
      code[at] = ncode;
      continue;
    }
    binary(p + 1);
    static const struct { const char *op; int code; } table[] = {{"==", EQ}, {"!=", NE}, {"<", LT}, {"<=", LE}, {">", GT}, {">=", GE}, {"+", ADD}, {"-", SUB}, {"*", MUL}, {"/", DIV}, {"%", MOD}};
    for (int i = 0; i < 11; i++) if (strcmp(op, table[i].op) == 0) emit(table[i].code);
  }
}
static void expr(void) { binary(1); }

static void block(void);
static void statement(void) {
  if (tok.kind == T_VAR || (tok.kind == T_ID && src[strspn(src, " ")] == '=' && src[strspn(src, " ") + 1] != '=')) {
    int declare = tok.kind == T_VAR;
    if (declare) next();
    int slot = local_index(tok.text, declare);
    next();
    expect("=");
    expr();
    expect(";");
    emit(STORE); emit(slot);
  } else if (tok.kind == T_IF) {
    next(); expect("("); expr(); expect(")");
    emit(JZ); int jz = ncode; emit(0);
    block();
    if (tok.kind == T_ELSE) {
      next();
      emit(JMP); int jmp = ncode; emit(0);
      code[jz] = ncode;
      block();
      code[jmp] = ncode;
    } else code[jz] = ncode;
  } else if (tok.kind == T_WHILE) {
    next();
    int top = ncode;
    expect("("); expr(); expect(")");
    emit(JZ); int jz = ncode; emit(0);
    block();
    emit(JMP); emit(top);
    code[jz] = ncode;
  } else if (tok.kind == T_RETURN) {
    next(); expr(); expect(";"); emit(RET);
  } else {
    expr(); expect(";"); emit(POP);
  }
}
static void block(void) { expect("{"); while (!is("}")) statement(); next(); }

static void compile(const char *text) {
  src = text;
  next();
  while (tok.kind == T_FN) {
    next();
    int f = func_index(tok.text);
    next();
    nlocals = 0;
    expect("(");
    while (!is(")")) { local_index(tok.text, 1); next(); if (!is(")")) expect(","); }
    next();
    funcs[f].params = nlocals;
    // Room for the locals: a placeholder count patched once the body is compiled.
    funcs[f].addr = ncode;
    emit(0);
    block();
    emit(PUSH); emit(0); emit(RET);
    code[funcs[f].addr] = nlocals - funcs[f].params;
  }
  if (tok.kind != T_EOF) fail("fn expected");
  for (int i = 0; i < nfuncs; i++) {
    if (funcs[i].addr < 0) { printf("compile error: undefined %s\n", funcs[i].name); exit(1); }
    for (int k = 0; k < funcs[i].npatches; k++) code[funcs[i].patches[k]] = funcs[i].addr;
  }
}

// --- the machine ----------------------------------------------------------------------------------
static int32_t stack[1 << 16];
static struct { int ret; int32_t *fp; } frames[4096];
static int32_t *heap;
static int heap_size;
static long executed[DUP + 1];

static int32_t run(int entry, int32_t arg) {
  int32_t *sp = stack, *fp = stack;
  int depth = 0, pc = entry + 1;
  *sp++ = arg;
  for (int i = 0; i < code[entry]; i++) *sp++ = 0;
  frames[depth].ret = -1;
  frames[depth++].fp = fp;
  int32_t a, b;
  for (;;) {
    int op = code[pc++];
    executed[op]++;
    switch (op) {
      case PUSH: *sp++ = code[pc++]; break;
      case LOAD: *sp++ = fp[code[pc++]]; break;
      case STORE: fp[code[pc++]] = *--sp; break;
      case DUP: sp[0] = sp[-1]; sp++; break;
      case POP: sp--; break;
#define BIN(OP, EXPR) case OP: b = *--sp; a = sp[-1]; sp[-1] = (EXPR); break;
      BIN(ADD, (int32_t)((uint32_t)a + (uint32_t)b))
      BIN(SUB, (int32_t)((uint32_t)a - (uint32_t)b))
      BIN(MUL, (int32_t)((uint32_t)a * (uint32_t)b))
      BIN(DIV, b == 0 || (a == INT32_MIN && b == -1) ? 0 : a / b)
      BIN(MOD, b == 0 || (a == INT32_MIN && b == -1) ? 0 : a % b)
      BIN(LT, a < b) BIN(LE, a <= b) BIN(GT, a > b) BIN(GE, a >= b) BIN(EQ, a == b) BIN(NE, a != b)
      case NEG: sp[-1] = (int32_t)(0u - (uint32_t)sp[-1]); break;
      case NOT: sp[-1] = !sp[-1]; break;
      case JMP: pc = code[pc]; break;
      case JZ: pc = *--sp ? pc + 1 : code[pc]; break;
      case JNZ: pc = *--sp ? code[pc] : pc + 1; break;
      case GET: a = sp[-1]; sp[-1] = a >= 0 && a < heap_size ? heap[a] : 0; break;
      case PUT: b = *--sp; a = *--sp; if (a >= 0 && a < heap_size) heap[a] = b; break;
      case CALL: {
        int target = code[pc], args = code[pc + 1];
        if (depth == 4096 || sp - stack > (1 << 16) - 256) { printf("stack overflow\n"); exit(1); }
        frames[depth].ret = pc + 2;
        frames[depth++].fp = fp;
        fp = sp - args;
        for (int i = 0; i < code[target]; i++) *sp++ = 0;
        pc = target + 1;
        break;
      }
      case RET: {
        int32_t result = sp[-1];
        sp = fp;
        depth--;
        fp = frames[depth].fp;
        pc = frames[depth].ret;
        *sp++ = result;
        if (pc < 0) return result;
        break;
      }
      default: printf("bad opcode %d\n", op); exit(1);
    }
  }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 60000;
  if (n < 100) n = 100;
  if (n > 10000000) n = 10000000;
  compile(SOURCE);
  heap_size = (int)n + 16;
  heap = calloc((size_t)heap_size, sizeof *heap);
  printf("compiled %d functions into %d words\n", nfuncs, ncode);
  int entry = funcs[func_index("main")].addr;
  int32_t result = run(entry, (int32_t)n);
  printf("main(%ld) = %d\n", n, result);
  long total = 0;
  for (int op = 0; op <= DUP; op++) total += executed[op];
  printf("executed %ld instructions:", total);
  for (int op = 0; op <= DUP; op++) if (executed[op]) printf(" %s %ld", OPNAMES[op], executed[op]);
  printf("\n");
  free(heap);
  return 0;
}
