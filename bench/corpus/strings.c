// String processing: generates prose from a syllable grammar, tokenizes it (words, numbers,
// punctuation), counts word frequencies in a chained hash table of interned strings, sorts the
// vocabulary by frequency then alphabetically, builds strings (a report, a reversed and
// capitalized copy, a joined list), and computes edit distances (Levenshtein, two-row DP) and
// longest common prefixes between neighbouring words. Prints counts and checksums.
//
//   strings [KIB=768]   size of the generated text in KiB; tests use 8
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 123456789u;
static uint32_t next_random(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

// --- a string builder ---------------------------------------------------------------------------
typedef struct { char *p; size_t n, cap; } Str;
static void reserve(Str *s, size_t more) {
  if (s->n + more + 1 <= s->cap) return;
  while (s->n + more + 1 > s->cap) s->cap = s->cap ? s->cap * 2 : 64;
  s->p = realloc(s->p, s->cap);
}
static void append(Str *s, const char *t, size_t n) { reserve(s, n); memcpy(s->p + s->n, t, n); s->n += n; s->p[s->n] = 0; }
static void appends(Str *s, const char *t) { append(s, t, strlen(t)); }

// --- interning hash table -----------------------------------------------------------------------
typedef struct Entry { struct Entry *next; uint32_t hash; int count, first; char word[]; } Entry;
static Entry **table;
static size_t table_size, entries;

static uint32_t hash_str(const char *s, size_t n) {
  uint32_t h = 5381;
  for (size_t i = 0; i < n; i++) h = h * 33 ^ (unsigned char)s[i];
  return h;
}
static void rehash(void) {
  size_t size = table_size ? table_size * 2 : 1024;
  Entry **t = calloc(size, sizeof *t);
  for (size_t i = 0; i < table_size; i++)
    for (Entry *e = table[i], *next; e; e = next) { next = e->next; e->next = t[e->hash & (size - 1)]; t[e->hash & (size - 1)] = e; }
  free(table);
  table = t;
  table_size = size;
}
static Entry *intern(const char *w, size_t n, int position) {
  uint32_t h = hash_str(w, n);
  for (Entry *e = table[h & (table_size - 1)]; e; e = e->next)
    if (e->hash == h && strncmp(e->word, w, n) == 0 && e->word[n] == 0) return e;
  if (entries * 4 >= table_size * 3) rehash();
  Entry *e = malloc(sizeof *e + n + 1);
  memcpy(e->word, w, n);
  e->word[n] = 0;
  e->hash = h; e->count = 0; e->first = position;
  e->next = table[h & (table_size - 1)];
  table[h & (table_size - 1)] = e;
  entries++;
  return e;
}

static int by_frequency(const void *a, const void *b) {
  const Entry *x = *(Entry *const *)a, *y = *(Entry *const *)b;
  if (x->count != y->count) return y->count - x->count;
  return strcmp(x->word, y->word);
}

static int alphabetical(const void *a, const void *b) { return strcmp((*(Entry *const *)a)->word, (*(Entry *const *)b)->word); }

static int levenshtein(const char *a, const char *b, int *row0, int *row1) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  for (int j = 0; j <= lb; j++) row0[j] = j;
  for (int i = 1; i <= la; i++) {
    row1[0] = i;
    for (int j = 1; j <= lb; j++) {
      int sub = row0[j - 1] + (a[i - 1] != b[j - 1]);
      int del = row0[j] + 1, ins = row1[j - 1] + 1;
      row1[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    int *t = row0; row0 = row1; row1 = t;
  }
  return row0[lb];
}

static const char *SYLL[] = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "an", "el", "or", "us", "th", "qua", "ber", "ling", "st", "ion"};

int main(int argc, char **argv) {
  long kib = argc > 1 ? atol(argv[1]) : 768;
  if (kib < 1) kib = 1;
  size_t want = (size_t)kib * 1024;

  // Prose: words of 1–4 syllables, a few hundred favourites drawn often (Zipf-like), numbers,
  // punctuation, capitalized sentence starts.
  Str text = {0};
  char favourites[256][24];
  for (int f = 0; f < 256; f++) {
    favourites[f][0] = 0;
    int k = 1 + (int)(next_random() % 3);
    for (int s = 0; s < k; s++) strcat(favourites[f], SYLL[next_random() % 18]);
  }
  int sentence_start = 1;
  while (text.n < want) {
    uint32_t r = next_random();
    char word[64];
    if (r % 23 == 0) snprintf(word, sizeof word, "%u", r >> 20);
    else if (r % 3) { uint32_t f = (r >> 8) % 256; strcpy(word, favourites[f * f / 256]); }
    else {
      word[0] = 0;
      for (int s = 0, k = 1 + (int)((r >> 4) % 4); s < k; s++) strcat(word, SYLL[next_random() % 18]);
    }
    if (sentence_start && isalpha((unsigned char)word[0])) word[0] = (char)toupper((unsigned char)word[0]);
    appends(&text, word);
    sentence_start = 0;
    uint32_t p = (r >> 24) % 16;
    if (p == 0) { appends(&text, ". "); sentence_start = 1; }
    else if (p == 1) appends(&text, ", ");
    else if (p == 2) appends(&text, (r & 1) ? "; " : "\n");
    else appends(&text, " ");
  }

  // Tokenize: lowercase words are counted, numbers summed, punctuation tallied.
  rehash();
  long words = 0, numbers = 0, punct = 0, lines = 1;
  uint64_t number_sum = 0;
  char buf[64];
  for (size_t i = 0; i < text.n;) {
    unsigned char c = (unsigned char)text.p[i];
    if (isalpha(c)) {
      size_t n = 0;
      while (i < text.n && isalpha((unsigned char)text.p[i]) && n < sizeof buf - 1) buf[n++] = (char)tolower((unsigned char)text.p[i++]);
      intern(buf, n, (int)words)->count++;
      words++;
    } else if (isdigit(c)) {
      uint64_t v = 0;
      while (i < text.n && isdigit((unsigned char)text.p[i])) v = v * 10 + (uint64_t)(text.p[i++] - '0');
      number_sum += v;
      numbers++;
    } else {
      if (ispunct(c)) punct++;
      if (c == '\n') lines++;
      i++;
    }
  }
  Entry **vocab = malloc(sizeof *vocab * entries);
  size_t nv = 0;
  for (size_t i = 0; i < table_size; i++) for (Entry *e = table[i]; e; e = e->next) vocab[nv++] = e;
  qsort(vocab, nv, sizeof *vocab, by_frequency);
  printf("text %zu bytes, %ld lines: %ld words (%zu distinct), %ld numbers (sum %llu), %ld punctuation\n",
         text.n, lines, words, nv, numbers, (unsigned long long)number_sum, punct);
  printf("top:");
  for (size_t i = 0; i < 8 && i < nv; i++) printf(" %s=%d", vocab[i]->word, vocab[i]->count);
  printf("\n");

  // String building: a report line per word, a reversed copy with words capitalized.
  Str report = {0}, reversed = {0};
  for (size_t i = 0; i < nv; i++) {
    char line[96];
    int n = snprintf(line, sizeof line, "%5zu %-20s %6d first@%d\n", i + 1, vocab[i]->word, vocab[i]->count, vocab[i]->first);
    append(&report, line, (size_t)n);
  }
  reserve(&reversed, text.n);
  for (size_t i = text.n; i-- > 0;) {
    char c = text.p[i];
    // The last letter of each word (its first in reverse) goes upper case.
    int starts = isalpha((unsigned char)c) && (i + 1 == text.n || !isalpha((unsigned char)text.p[i + 1]));
    reversed.p[reversed.n++] = starts ? (char)toupper((unsigned char)c) : c;
  }
  reversed.p[reversed.n] = 0;
  printf("report %zu bytes hash %08x; reversed hash %08x\n", report.n, hash_str(report.p, report.n), hash_str(reversed.p, reversed.n));

  // Edit distances between neighbours in alphabetical order, and their common prefixes.
  Entry **alpha = malloc(sizeof *alpha * nv);
  memcpy(alpha, vocab, sizeof *alpha * nv);
  qsort(alpha, nv, sizeof *alpha, alphabetical);
  long dist_sum = 0, prefix_sum = 0, close = 0;
  int row0[64], row1[64];
  for (size_t i = 1; i < nv; i++) {
    const char *a = alpha[i - 1]->word, *b = alpha[i]->word;
    int d = levenshtein(a, b, row0, row1);
    dist_sum += d;
    close += d <= 2;
    size_t k = 0;
    while (a[k] && a[k] == b[k]) k++;
    prefix_sum += (long)k;
  }
  // Every word against a handful of probes: the nearest one by edit distance.
  const char *probes[] = {"kalomi", "theling", "quaber", "ruston", "vision"};
  for (int p = 0; p < 5; p++) {
    int best = 1 << 30;
    const char *arg = "";
    for (size_t i = 0; i < nv; i++) {
      int d = levenshtein(probes[p], vocab[i]->word, row0, row1);
      if (d < best || (d == best && strcmp(vocab[i]->word, arg) < 0)) { best = d; arg = vocab[i]->word; }
    }
    printf("nearest to %s: %s (%d)\n", probes[p], arg, best);
  }
  printf("neighbours: distance sum %ld, %ld within 2, prefix sum %ld\n", dist_sum, close, prefix_sum);
  free(alpha);
  free(vocab);
  free(text.p); free(report.p); free(reversed.p);
  return 0;
}
