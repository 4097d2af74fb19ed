// Compression: an LZ77 compressor (32 KiB window, hash chains, lazy matching) whose literals,
// lengths and distances are coded with Huffman codes (deflate-like: length and distance buckets
// with extra bits, code lengths limited to 15, canonical codes), and the decompressor (table
// lookup on the canonical code), round-tripped over generated text and binary data.
//
//   lz [KIB=256]   size of each generated input in KiB; tests use 8
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 32768
#define MIN_MATCH 3
#define MAX_MATCH 258
#define HASH_BITS 15
#define MAX_CHAIN 48
#define NLIT 286 // 0..255 literals, 256 end, 257..285 lengths
#define NDIST 30
#define MAXBITS 15

static uint32_t rng = 88172645u;
static uint32_t next_random(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

// Deflate's length and distance buckets: base value and extra bits.
static const uint16_t LBASE[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DBASE[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DEXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int length_code(int len) { int c = 0; while (c < 28 && LBASE[c + 1] <= len) c++; return c; }
static int dist_code(int d) { int c = 0; while (c < 29 && DBASE[c + 1] <= d) c++; return c; }

// --- tokens: lit < 256, or a match (len, dist) ---------------------------------------------
typedef struct { uint16_t len, dist; uint8_t lit; } Token;

static size_t lz_parse(const uint8_t *in, size_t n, Token *out) {
  int32_t *head = malloc(sizeof(int32_t) << HASH_BITS), *prev = malloc(sizeof(int32_t) * WINDOW);
  for (int i = 0; i < 1 << HASH_BITS; i++) head[i] = -1;
  size_t nt = 0, i = 0;
#define HASH(p) ((((uint32_t)in[p] << 10) ^ ((uint32_t)in[(p) + 1] << 5) ^ in[(p) + 2]) & ((1 << HASH_BITS) - 1))
#define INSERT(p) do { if ((p) + 2 < n) { uint32_t h_ = HASH(p); prev[(p) % WINDOW] = head[h_]; head[h_] = (int32_t)(p); } } while (0)
  int pend_len = 0, pend_dist = 0;
  while (i < n) {
    int best = 0, bdist = 0;
    if (i + 2 < n) {
      int32_t cand = head[HASH(i)];
      int limit = (int)(n - i < MAX_MATCH ? n - i : MAX_MATCH);
      for (int chain = 0; cand >= 0 && i - (size_t)cand <= WINDOW && chain < MAX_CHAIN; chain++) {
        if (in[cand + best] == in[i + best]) {
          int l = 0;
          while (l < limit && in[cand + l] == in[i + l]) l++;
          if (l > best) { best = l; bdist = (int)(i - (size_t)cand); if (l == limit) break; }
        }
        int32_t p = prev[cand % WINDOW];
        if (p >= cand) break; // the slot was overwritten by a newer position
        cand = p;
      }
    }
    INSERT(i);
    if (pend_len) {
      // Lazy matching: a longer match one byte later wins over the pending one.
      if (best > pend_len) {
        out[nt++] = (Token){0, 0, in[i - 1]};
        pend_len = best; pend_dist = bdist;
        i++;
        continue;
      }
      out[nt++] = (Token){(uint16_t)pend_len, (uint16_t)pend_dist, 0};
      for (size_t k = i + 1; k < i - 1 + (size_t)pend_len; k++) INSERT(k);
      i = i - 1 + (size_t)pend_len;
      pend_len = 0;
      continue;
    }
    if (best >= MIN_MATCH) { pend_len = best; pend_dist = bdist; i++; continue; }
    out[nt++] = (Token){0, 0, in[i]};
    i++;
  }
  if (pend_len) out[nt++] = (Token){(uint16_t)pend_len, (uint16_t)pend_dist, 0};
  free(head);
  free(prev);
  return nt;
}

// --- Huffman code lengths (limited), canonical codes ------------------------------------------
typedef struct { uint32_t freq; int sym, left, right; } Node;

static void lengths_from_tree(const Node *t, int node, int depth, uint8_t *len) {
  if (t[node].sym >= 0) { len[t[node].sym] = (uint8_t)(depth ? depth : 1); return; }
  lengths_from_tree(t, t[node].left, depth + 1, len);
  lengths_from_tree(t, t[node].right, depth + 1, len);
}

static void build_lengths(const uint32_t *freq, int n, uint8_t *len) {
  Node t[2 * NLIT];
  int heap[NLIT], hn = 0, nn = 0;
  memset(len, 0, (size_t)n);
  for (int s = 0; s < n; s++) if (freq[s]) { t[nn] = (Node){freq[s], s, -1, -1}; heap[hn++] = nn++; }
  if (hn == 0) return;
  // Repeatedly merge the two rarest (a simple O(n^2) selection: n is at most 286).
  while (hn > 1) {
    int pick[2];
    for (int k = 0; k < 2; k++) {
      int m = 0;
      for (int j = 1; j < hn; j++) if (t[heap[j]].freq < t[heap[m]].freq) m = j;
      pick[k] = heap[m];
      heap[m] = heap[--hn];
    }
    t[nn] = (Node){t[pick[0]].freq + t[pick[1]].freq, -1, pick[0], pick[1]};
    heap[hn++] = nn++;
  }
  lengths_from_tree(t, heap[0], 0, len);
  // Limit to MAXBITS (zlib's way): move overlong leaves up, then restore the Kraft sum.
  int count[64] = {0};
  for (int s = 0; s < n; s++) if (len[s]) count[len[s]]++;
  int over = 0;
  for (int b = MAXBITS + 1; b < 64; b++) { over += count[b]; count[MAXBITS] += count[b]; count[b] = 0; }
  if (over) {
    uint32_t kraft = 0;
    for (int b = 1; b <= MAXBITS; b++) kraft += (uint32_t)count[b] << (MAXBITS - b);
    while (kraft > 1u << MAXBITS) {
      int b = MAXBITS - 1;
      while (count[b] == 0) b--;
      count[b]--; count[b + 1] += 2; count[MAXBITS]--;
      kraft -= 1u << (MAXBITS - b - 1);
    }
    // Reassign lengths by frequency: the rarest symbols get the longest codes.
    int order[NLIT], no = 0;
    for (int s = 0; s < n; s++) if (freq[s]) order[no++] = s;
    for (int a = 1; a < no; a++) {
      int v = order[a], j = a;
      while (j > 0 && freq[order[j - 1]] > freq[v]) { order[j] = order[j - 1]; j--; }
      order[j] = v;
    }
    int at = 0;
    for (int b = MAXBITS; b >= 1; b--) for (int k = 0; k < count[b]; k++) len[order[at++]] = (uint8_t)b;
  }
}

static void canonical(const uint8_t *len, int n, uint16_t *code) {
  int count[MAXBITS + 1] = {0}, next[MAXBITS + 2];
  for (int s = 0; s < n; s++) count[len[s]]++;
  count[0] = 0;
  next[1] = 0;
  for (int b = 1; b <= MAXBITS; b++) next[b + 1] = (next[b] + count[b]) << 1;
  for (int s = 0; s < n; s++) if (len[s]) code[s] = (uint16_t)next[len[s]]++;
}

// --- bits, most significant first -----------------------------------------------------------
typedef struct { uint8_t *buf; size_t pos; uint32_t acc; int bits; } BitWriter;
static void put(BitWriter *w, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    w->acc = w->acc << 1 | ((v >> i) & 1);
    if (++w->bits == 8) { w->buf[w->pos++] = (uint8_t)w->acc; w->acc = 0; w->bits = 0; }
  }
}
static void flush(BitWriter *w) { while (w->bits) put(w, 0, 1); }

typedef struct { const uint8_t *buf; size_t pos; int bit; } BitReader;
static uint32_t get(BitReader *r, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; i++) {
    v = v << 1 | ((r->buf[r->pos] >> (7 - r->bit)) & 1);
    if (++r->bit == 8) { r->bit = 0; r->pos++; }
  }
  return v;
}

// Decoding: for each length, the first code and the symbols in canonical order.
typedef struct { int first[MAXBITS + 2], index[MAXBITS + 2], count[MAXBITS + 1]; int16_t sym[NLIT]; } Decoder;
static void decoder_init(Decoder *d, const uint8_t *len, int n) {
  memset(d, 0, sizeof *d);
  for (int s = 0; s < n; s++) d->count[len[s]]++;
  d->count[0] = 0;
  int code = 0, idx = 0;
  for (int b = 1; b <= MAXBITS; b++) {
    d->first[b] = code; d->index[b] = idx;
    idx += d->count[b];
    code = (code + d->count[b]) << 1;
  }
  int at[MAXBITS + 1];
  for (int b = 1; b <= MAXBITS; b++) at[b] = d->index[b];
  for (int s = 0; s < n; s++) if (len[s]) d->sym[at[len[s]]++] = (int16_t)s;
}
static int decode(const Decoder *d, BitReader *r) {
  int code = 0;
  for (int b = 1; b <= MAXBITS; b++) {
    code |= (int)get(r, 1);
    int off = code - d->first[b];
    if (off < d->count[b]) return d->sym[d->index[b] + off];
    code <<= 1;
  }
  return -1;
}

static size_t compress(const uint8_t *in, size_t n, uint8_t *out) {
  Token *tok = malloc(sizeof(Token) * (n + 1));
  size_t nt = lz_parse(in, n, tok);
  uint32_t lf[NLIT] = {0}, df[NDIST] = {0};
  for (size_t i = 0; i < nt; i++) {
    if (tok[i].len) { lf[257 + length_code(tok[i].len)]++; df[dist_code(tok[i].dist)]++; }
    else lf[tok[i].lit]++;
  }
  lf[256] = 1;
  uint8_t ll[NLIT], dl[NDIST];
  uint16_t lc[NLIT], dc[NDIST];
  build_lengths(lf, NLIT, ll);
  build_lengths(df, NDIST, dl);
  canonical(ll, NLIT, lc);
  canonical(dl, NDIST, dc);
  BitWriter w = {out, 0, 0, 0};
  put(&w, (uint32_t)n, 32);
  for (int s = 0; s < NLIT; s++) put(&w, ll[s], 4);
  for (int s = 0; s < NDIST; s++) put(&w, dl[s], 4);
  for (size_t i = 0; i < nt; i++) {
    if (!tok[i].len) { put(&w, lc[tok[i].lit], ll[tok[i].lit]); continue; }
    int c = length_code(tok[i].len), dcode = dist_code(tok[i].dist);
    put(&w, lc[257 + c], ll[257 + c]);
    put(&w, (uint32_t)(tok[i].len - LBASE[c]), LEXTRA[c]);
    put(&w, dc[dcode], dl[dcode]);
    put(&w, (uint32_t)(tok[i].dist - DBASE[dcode]), DEXTRA[dcode]);
  }
  put(&w, lc[256], ll[256]);
  flush(&w);
  free(tok);
  return w.pos;
}

static long decompress(const uint8_t *in, uint8_t *out, size_t cap) {
  BitReader r = {in, 0, 0};
  size_t n = get(&r, 32), o = 0;
  if (n > cap) return -1;
  uint8_t ll[NLIT], dl[NDIST];
  for (int s = 0; s < NLIT; s++) ll[s] = (uint8_t)get(&r, 4);
  for (int s = 0; s < NDIST; s++) dl[s] = (uint8_t)get(&r, 4);
  static Decoder dlit, ddist;
  decoder_init(&dlit, ll, NLIT);
  decoder_init(&ddist, dl, NDIST);
  for (;;) {
    int s = decode(&dlit, &r);
    if (s < 0) return -1;
    if (s < 256) { if (o >= n) return -1; out[o++] = (uint8_t)s; continue; }
    if (s == 256) break;
    int len = LBASE[s - 257] + (int)get(&r, LEXTRA[s - 257]);
    int dcode = decode(&ddist, &r);
    if (dcode < 0) return -1;
    size_t dist = DBASE[dcode] + get(&r, DEXTRA[dcode]);
    if (dist > o || o + (size_t)len > n) return -1;
    for (int k = 0; k < len; k++, o++) out[o] = out[o - dist]; // overlapping copies are runs
  }
  return (long)o;
}

static uint32_t checksum(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

int main(int argc, char **argv) {
  long kib = argc > 1 ? atol(argv[1]) : 256;
  if (kib < 1) kib = 1;
  size_t n = (size_t)kib * 1024;
  uint8_t *in = malloc(n), *packed = malloc(n * 2 + 1024), *back = malloc(n);
  static const char *words[] = {"compression", "of", "the", "data", "window", "match", "literal", "and", "huffman",
                                "code", "length", "distance", "tree", "a", "stream", "bits", "is", "to", "in", "symbol"};
  uint32_t total = 0;
  for (int kind = 0; kind < 3; kind++) {
    size_t i = 0;
    while (i < n) {
      uint32_t r = next_random();
      if (kind == 0) { // text: skewed word choice, punctuation, line breaks
        const char *w = words[(r % 20) * (r % 20) / 20];
        while (*w && i < n) in[i++] = (uint8_t)*w++;
        if (i < n) in[i++] = r % 97 == 0 ? '\n' : r % 13 == 0 ? ',' : ' ';
      } else if (kind == 1) { // records: a table of numbers with repeated structure
        char line[48];
        int len = snprintf(line, sizeof line, "%u;%u;item-%u;%s\n", r % 1000, (r >> 10) % 50, (r >> 16) % 300, words[r % 7]);
        for (int k = 0; k < len && i < n; k++) in[i++] = (uint8_t)line[k];
      } else { // noisy binary: a random walk, mostly small deltas
        static uint8_t v = 128;
        v = (uint8_t)(v + (int)(r % 7) - 3);
        in[i++] = r % 31 == 0 ? (uint8_t)(r >> 24) : v;
      }
    }
    size_t clen = compress(in, n, packed);
    long dlen = decompress(packed, back, n);
    if (dlen != (long)n || memcmp(in, back, n) != 0) { printf("kind %d: round trip FAILED\n", kind); return 1; }
    uint32_t c = checksum(packed, clen);
    printf("kind %d: %zu -> %zu bytes (%.1f%%), packed checksum %08x\n", kind, n, clen, 100.0 * (double)clen / (double)n, c);
    total = total * 31 + c;
  }
  printf("checksum %08x\n", total);
  free(in); free(packed); free(back);
  return 0;
}
