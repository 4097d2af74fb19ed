// Big-number arithmetic: digits of pi by Machin's formula in fixed point (base 10^9 limbs:
// division by small numbers, addition, subtraction), N! by repeated small multiplication,
// then general bignum × bignum (schoolbook) and bignum ÷ bignum (Knuth's algorithm D, base 2^32),
// checked by q·d + r = n; decimal conversion by repeated division. Prints digit checksums.
//
//   bignum [DIGITS=8000]   digits of pi; the other parts scale with it; tests use 100
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE 1000000000u

// --- fixed point, base 10^9, limb 0 is the integer part ------------------------------------
typedef struct { uint32_t *d; int n; } Fixed;

static Fixed fixed_new(int n) { Fixed f = {calloc((size_t)n, sizeof(uint32_t)), n}; return f; }

static int fixed_zero(const Fixed *f) {
  for (int i = 0; i < f->n; i++) if (f->d[i]) return 0;
  return 1;
}
static void fixed_div_small(Fixed *f, uint32_t q) {
  uint64_t r = 0;
  for (int i = 0; i < f->n; i++) {
    uint64_t cur = r * BASE + f->d[i];
    f->d[i] = (uint32_t)(cur / q);
    r = cur % q;
  }
}
static void fixed_add(Fixed *a, const Fixed *b) {
  uint32_t carry = 0;
  for (int i = a->n - 1; i >= 0; i--) {
    uint32_t s = a->d[i] + b->d[i] + carry;
    carry = s >= BASE;
    a->d[i] = carry ? s - BASE : s;
  }
}
static void fixed_sub(Fixed *a, const Fixed *b) {
  uint32_t borrow = 0;
  for (int i = a->n - 1; i >= 0; i--) {
    uint32_t sub = b->d[i] + borrow;
    borrow = a->d[i] < sub;
    a->d[i] = borrow ? a->d[i] + BASE - sub : a->d[i] - sub;
  }
}
static void fixed_mul_small(Fixed *a, uint32_t m) {
  uint64_t carry = 0;
  for (int i = a->n - 1; i >= 0; i--) {
    uint64_t cur = (uint64_t)a->d[i] * m + carry;
    a->d[i] = (uint32_t)(cur % BASE);
    carry = cur / BASE;
  }
}

// arctan(1/x) = 1/x - 1/(3x^3) + 1/(5x^5) - …
static void arctan_inv(Fixed *out, uint32_t x) {
  Fixed power = fixed_new(out->n), term = fixed_new(out->n);
  memset(out->d, 0, (size_t)out->n * sizeof(uint32_t));
  power.d[0] = 1;
  fixed_div_small(&power, x);
  uint32_t x2 = x * x;
  for (uint32_t k = 1; !fixed_zero(&power); k += 2) {
    memcpy(term.d, power.d, (size_t)out->n * sizeof(uint32_t));
    fixed_div_small(&term, k);
    if ((k >> 1) & 1) fixed_sub(out, &term); else fixed_add(out, &term);
    fixed_div_small(&power, x2);
  }
  free(power.d);
  free(term.d);
}

// --- integers, base 2^32, little-endian limbs -------------------------------------------------
typedef struct { uint32_t *d; int n, cap; } Big;

static Big big_new(int cap) { Big b = {calloc((size_t)cap, sizeof(uint32_t)), 0, cap}; return b; }
static void big_trim(Big *b) { while (b->n > 0 && b->d[b->n - 1] == 0) b->n--; }
static void big_reserve(Big *b, int cap) {
  if (cap <= b->cap) return;
  b->d = realloc(b->d, (size_t)cap * sizeof(uint32_t));
  memset(b->d + b->cap, 0, (size_t)(cap - b->cap) * sizeof(uint32_t));
  b->cap = cap;
}
static void big_mul_small(Big *b, uint32_t m) {
  uint64_t carry = 0;
  for (int i = 0; i < b->n; i++) {
    uint64_t cur = (uint64_t)b->d[i] * m + carry;
    b->d[i] = (uint32_t)cur;
    carry = cur >> 32;
  }
  if (carry) { big_reserve(b, b->n + 1); b->d[b->n++] = (uint32_t)carry; }
}
static uint32_t big_div_small(Big *b, uint32_t q) {
  uint64_t r = 0;
  for (int i = b->n - 1; i >= 0; i--) {
    uint64_t cur = r << 32 | b->d[i];
    b->d[i] = (uint32_t)(cur / q);
    r = cur % q;
  }
  big_trim(b);
  return (uint32_t)r;
}
static Big big_mul(const Big *a, const Big *b) {
  Big r = big_new(a->n + b->n);
  for (int i = 0; i < a->n; i++) {
    uint64_t carry = 0, ai = a->d[i];
    for (int j = 0; j < b->n; j++) {
      uint64_t cur = ai * b->d[j] + r.d[i + j] + carry;
      r.d[i + j] = (uint32_t)cur;
      carry = cur >> 32;
    }
    r.d[i + b->n] = (uint32_t)carry;
  }
  r.n = a->n + b->n;
  big_trim(&r);
  return r;
}
static int big_cmp(const Big *a, const Big *b) {
  if (a->n != b->n) return a->n < b->n ? -1 : 1;
  for (int i = a->n - 1; i >= 0; i--) if (a->d[i] != b->d[i]) return a->d[i] < b->d[i] ? -1 : 1;
  return 0;
}
static void big_add_to(Big *a, const Big *b) {
  int n = (a->n > b->n ? a->n : b->n) + 1;
  big_reserve(a, n);
  uint64_t carry = 0;
  for (int i = 0; i < n; i++) {
    uint64_t cur = (uint64_t)a->d[i] + (i < b->n ? b->d[i] : 0) + carry;
    a->d[i] = (uint32_t)cur;
    carry = cur >> 32;
  }
  a->n = n;
  big_trim(a);
}

static int clz32(uint32_t x) { return x ? __builtin_clz(x) : 32; }

// Knuth D: q = u / v, r = u % v, v->n >= 2.
static void big_divmod(const Big *u0, const Big *v0, Big *q, Big *r) {
  int n = v0->n, m = u0->n - n, s = clz32(v0->d[n - 1]);
  uint32_t *v = calloc((size_t)n, 4), *u = calloc((size_t)u0->n + 1, 4);
  for (int i = n - 1; i > 0; i--) v[i] = s ? v0->d[i] << s | v0->d[i - 1] >> (32 - s) : v0->d[i];
  v[0] = v0->d[0] << s;
  u[u0->n] = s ? u0->d[u0->n - 1] >> (32 - s) : 0;
  for (int i = u0->n - 1; i > 0; i--) u[i] = s ? u0->d[i] << s | u0->d[i - 1] >> (32 - s) : u0->d[i];
  u[0] = u0->d[0] << s;
  *q = big_new(m + 1);
  q->n = m + 1;
  for (int j = m; j >= 0; j--) {
    uint64_t num = (uint64_t)u[j + n] << 32 | u[j + n - 1];
    uint64_t qhat = num / v[n - 1], rhat = num % v[n - 1];
    while (qhat >> 32 || qhat * v[n - 2] > (rhat << 32 | u[j + n - 2])) {
      qhat--;
      rhat += v[n - 1];
      if (rhat >> 32) break;
    }
    int64_t borrow = 0;
    uint64_t carry = 0;
    for (int i = 0; i < n; i++) {
      uint64_t p = qhat * v[i] + carry;
      carry = p >> 32;
      int64_t t = (int64_t)u[i + j] - (int64_t)(uint32_t)p + borrow;
      u[i + j] = (uint32_t)t;
      borrow = t >> 32;
    }
    int64_t t = (int64_t)u[j + n] - (int64_t)carry + borrow;
    u[j + n] = (uint32_t)t;
    if (t < 0) { // qhat was one too large: add v back
      qhat--;
      uint64_t c = 0;
      for (int i = 0; i < n; i++) {
        uint64_t sum = (uint64_t)u[i + j] + v[i] + c;
        u[i + j] = (uint32_t)sum;
        c = sum >> 32;
      }
      u[j + n] += (uint32_t)c;
    }
    q->d[j] = (uint32_t)qhat;
  }
  big_trim(q);
  *r = big_new(n);
  r->n = n;
  for (int i = 0; i < n; i++) r->d[i] = s ? u[i] >> s | u[i + 1] << (32 - s) : u[i];
  big_trim(r);
  free(u);
  free(v);
}

// Decimal digits, summed and hashed (consumes b).
static void big_digits(Big *b, int *count, uint64_t *sum, uint32_t *hash) {
  *count = 0; *sum = 0; *hash = 0;
  while (b->n > 0) {
    uint32_t chunk = big_div_small(b, BASE);
    for (int k = 0; k < 9 && (b->n > 0 || chunk); k++) {
      uint32_t dgt = chunk % 10;
      chunk /= 10;
      ++*count; *sum += dgt; *hash = *hash * 31 + dgt;
    }
  }
}

int main(int argc, char **argv) {
  int digits = argc > 1 ? atoi(argv[1]) : 8000;
  if (digits < 20) digits = 20;

  // pi = 16 arctan(1/5) - 4 arctan(1/239), with two guard limbs.
  int limbs = digits / 9 + 3;
  Fixed a = fixed_new(limbs), b = fixed_new(limbs);
  arctan_inv(&a, 5);
  fixed_mul_small(&a, 16);
  arctan_inv(&b, 239);
  fixed_mul_small(&b, 4);
  fixed_sub(&a, &b);
  char *text = malloc((size_t)limbs * 9 + 2);
  int len = sprintf(text, "%u.", a.d[0]);
  for (int i = 1; i < limbs; i++) len += sprintf(text + len, "%09u", a.d[i]);
  text[digits + 2] = 0;
  uint64_t dsum = 0;
  for (int i = 2; i < digits + 2; i++) dsum += (uint64_t)(text[i] - '0');
  printf("pi: %.20s...%s (%d digits, digit sum %llu)\n", text, text + digits - 8, digits, (unsigned long long)dsum);

  // N! and its digits; then (N!)^2 by a general multiply, divided back by N!.
  int n = digits / 3;
  Big f = big_new(16);
  f.d[0] = 1; f.n = 1;
  for (int i = 2; i <= n; i++) big_mul_small(&f, (uint32_t)i);
  Big sq = big_mul(&f, &f);
  Big q, r;
  big_divmod(&sq, &f, &q, &r);
  if (big_cmp(&q, &f) != 0 || r.n != 0) { printf("(n!)^2 / n! != n!\n"); return 1; }
  Big copy = big_new(f.n);
  memcpy(copy.d, f.d, (size_t)f.n * 4); copy.n = f.n;
  int count; uint64_t sum; uint32_t hash;
  big_digits(&copy, &count, &sum, &hash);
  printf("%d!: %d digits, digit sum %llu, hash %08x, %d limbs squared\n", n, count, (unsigned long long)sum, hash, f.n);

  // Divisions with remainders: (n! + k) mod (random divisors), checked by q·d + r.
  uint32_t rs = 12345;
  uint32_t acc = 0;
  for (int t = 0; t < 8; t++) {
    int dl = 2 + t * (f.n / 10 + 1);
    if (dl >= f.n) dl = f.n - 1;
    if (dl < 2) break;
    Big d = big_new(dl);
    for (int i = 0; i < dl; i++) { rs = rs * 1103515245u + 12345u; d.d[i] = rs ^ (rs >> 15); }
    d.d[dl - 1] |= 1; d.n = dl;
    big_divmod(&f, &d, &q, &r);
    Big back = big_mul(&q, &d);
    big_add_to(&back, &r);
    if (big_cmp(&back, &f) != 0 || big_cmp(&r, &d) >= 0) { printf("division %d failed\n", t); return 1; }
    for (int i = 0; i < r.n; i++) acc = acc * 2654435761u ^ r.d[i];
    free(d.d); free(back.d); free(q.d); free(r.d);
  }
  printf("remainder hash %08x\n", acc);
  free(a.d); free(b.d); free(text); free(f.d); free(sq.d); free(copy.d);
  return 0;
}
