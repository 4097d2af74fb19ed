// Hashing: SHA-256, CRC-32 (table-driven and bitwise, cross-checked), Adler-32 and 64-bit FNV-1a
// over generated data of several shapes, plus SHA-256 chains (each digest hashed again) and the
// standard test vectors, checked. Prints digests and checksums.
//
//   hash [KIB=1024]   size of the generated buffer in KiB; tests use 8
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
  // xorshift64*: deterministic, fast, good enough for data generation.
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

// --- SHA-256 (FIPS 180-4) -------------------------------------------------------------------
typedef struct {
  uint32_t h[8];
  uint8_t block[64];
  size_t used;
  uint64_t length;
} Sha256;

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_init(Sha256 *s) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, iv, sizeof iv);
  s->used = 0;
  s->length = 0;
}

static void sha256_block(Sha256 *s, const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
  uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
  s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha256_update(Sha256 *s, const uint8_t *p, size_t n) {
  s->length += n;
  if (s->used) {
    size_t take = 64 - s->used < n ? 64 - s->used : n;
    memcpy(s->block + s->used, p, take);
    s->used += take; p += take; n -= take;
    if (s->used < 64) return;
    sha256_block(s, s->block);
    s->used = 0;
  }
  for (; n >= 64; p += 64, n -= 64) sha256_block(s, p);
  memcpy(s->block, p, n);
  s->used = n;
}

static void sha256_final(Sha256 *s, uint8_t out[32]) {
  uint64_t bits = s->length * 8;
  uint8_t pad = 0x80;
  sha256_update(s, &pad, 1);
  pad = 0;
  while (s->used != 56) sha256_update(s, &pad, 1);
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(s, len, 8);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32]) {
  Sha256 s;
  sha256_init(&s);
  sha256_update(&s, p, n);
  sha256_final(&s, out);
}

static void hex(const uint8_t *d, int n, char *out) {
  for (int i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

// --- CRC-32 (IEEE, reflected), Adler-32, FNV-1a 64 ------------------------------------------
static uint32_t crc_table[256];
static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static uint32_t crc32_table(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}
static uint32_t crc32_bitwise(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return c ^ 0xFFFFFFFFu;
}
static uint32_t adler32(const uint8_t *p, size_t n) {
  uint32_t a = 1, b = 0;
  while (n > 0) {
    // 5552 bytes is the most that cannot overflow b before the modulo.
    size_t chunk = n < 5552 ? n : 5552;
    n -= chunk;
    while (chunk--) { a += *p++; b += a; }
    a %= 65521; b %= 65521;
  }
  return b << 16 | a;
}
static uint64_t fnv1a64(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ull; }
  return h;
}

static int check_vectors(void) {
  static const struct { const char *in; const char *sha; } v[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  char h[65];
  uint8_t d[32];
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    sha256((const uint8_t *)v[i].in, strlen(v[i].in), d);
    hex(d, 32, h);
    if (strcmp(h, v[i].sha) != 0) return 0;
  }
  const char *q = "123456789";
  return crc32_table((const uint8_t *)q, 9) == 0xCBF43926u && adler32((const uint8_t *)"Wikipedia", 9) == 0x11E60398u;
}

int main(int argc, char **argv) {
  long kib = argc > 1 ? atol(argv[1]) : 1024;
  if (kib < 1) kib = 1;
  size_t n = (size_t)kib * 1024;
  uint8_t *buf = malloc(n);
  if (!buf) return 1;
  crc_init();
  if (!check_vectors()) { printf("test vectors FAILED\n"); return 1; }

  // Three shapes: random bytes, text-like bytes, long runs.
  const char *words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "hash", "block"};
  char h[65];
  uint8_t d[32];
  uint32_t total = 0;
  for (int shape = 0; shape < 3; shape++) {
    size_t i = 0;
    while (i < n) {
      uint64_t r = next_random();
      if (shape == 0) {
        buf[i++] = (uint8_t)r;
      } else if (shape == 1) {
        const char *w = words[r % 10];
        while (*w && i < n) buf[i++] = (uint8_t)*w++;
        if (i < n) buf[i++] = (r >> 32) % 7 == 0 ? '\n' : ' ';
      } else {
        size_t run = 1 + (r >> 40) % 300;
        while (run-- && i < n) buf[i++] = (uint8_t)(r >> 8);
      }
    }
    sha256(buf, n, d);
    hex(d, 32, h);
    uint32_t crc = crc32_table(buf, n);
    // The bitwise CRC is 8x slower: a slice of the buffer, cross-checked against the table.
    size_t slice = n / 4;
    if (crc32_bitwise(buf, slice) != crc32_table(buf, slice)) { printf("crc mismatch\n"); return 1; }
    uint32_t ad = adler32(buf, n);
    uint64_t fnv = fnv1a64(buf, n);
    printf("shape %d: sha256 %s crc32 %08x adler32 %08x fnv1a %016llx\n", shape, h, crc, ad, (unsigned long long)fnv);
    total ^= crc ^ ad;
  }

  // Incremental updates in odd-sized pieces must give the one-shot digest.
  Sha256 s;
  sha256_init(&s);
  for (size_t off = 0, step = 1; off < n; off += step, step = step * 7 % 127 + 1)
    sha256_update(&s, buf + off, off + step > n ? n - off : step);
  uint8_t d2[32];
  sha256_final(&s, d2);
  if (memcmp(d, d2, 32) != 0) { printf("incremental mismatch\n"); return 1; }

  // A chain of digests over small messages: per-call overhead and padding paths.
  uint8_t chain[32 + 23];
  memset(chain, 0, sizeof chain);
  long links = kib * 16;
  for (long i = 0; i < links; i++) {
    chain[32 + i % 23] ^= (uint8_t)i;
    sha256(chain, 32 + (size_t)(i % 24), chain);
  }
  hex(chain, 32, h);
  printf("chain of %ld: %s\n", links, h);
  printf("checksum %08x\n", total ^ crc32_table(chain, 32));
  free(buf);
  return 0;
}
