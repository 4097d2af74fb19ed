// Sorting: merge sort (top-down, with a scratch buffer), heap sort, LSD radix sort (8-bit
// digits), introsort (median-of-three quicksort, heap sort past the depth limit, insertion sort
// for short ranges) and libc qsort, each over six distributions of 32-bit keys; every result is
// checked against the others and summed into a checksum.
//
//   sort [N=50000]   keys per array; tests use 2000
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 2463534242u;
static uint32_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void merge_rec(uint32_t *a, uint32_t *tmp, size_t lo, size_t hi) {
  if (hi - lo < 2) return;
  size_t mid = lo + (hi - lo) / 2;
  merge_rec(a, tmp, lo, mid);
  merge_rec(a, tmp, mid, hi);
  if (a[mid - 1] <= a[mid]) return; // already in order: common for presorted input
  size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
  while (i < mid) tmp[k++] = a[i++];
  while (j < hi) tmp[k++] = a[j++];
  memcpy(a + lo, tmp + lo, (hi - lo) * sizeof *a);
}

static void merge_sort(uint32_t *a, size_t n) {
  uint32_t *tmp = malloc(n * sizeof *a);
  merge_rec(a, tmp, 0, n);
  free(tmp);
}

static void sift_down(uint32_t *a, size_t root, size_t n) {
  uint32_t v = a[root];
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) break;
    if (child + 1 < n && a[child + 1] > a[child]) child++;
    if (a[child] <= v) break;
    a[root] = a[child];
    root = child;
  }
  a[root] = v;
}

static void heap_sort(uint32_t *a, size_t n) {
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (size_t end = n - 1; end > 0; end--) {
    uint32_t t = a[0]; a[0] = a[end]; a[end] = t;
    sift_down(a, 0, end);
  }
}

static void radix_sort(uint32_t *a, size_t n) {
  uint32_t *tmp = malloc(n * sizeof *a);
  uint32_t *src = a, *dst = tmp;
  for (int shift = 0; shift < 32; shift += 8) {
    size_t count[257] = {0};
    for (size_t i = 0; i < n; i++) count[((src[i] >> shift) & 0xFF) + 1]++;
    if (count[((src[0] >> shift) & 0xFF) + 1] == n) continue; // one digit everywhere: skip the pass
    for (int d = 0; d < 256; d++) count[d + 1] += count[d];
    for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
    uint32_t *t = src; src = dst; dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
  free(tmp);
}

static void insertion_sort(uint32_t *a, size_t lo, size_t hi) {
  for (size_t i = lo + 1; i < hi; i++) {
    uint32_t v = a[i];
    size_t j = i;
    while (j > lo && a[j - 1] > v) { a[j] = a[j - 1]; j--; }
    a[j] = v;
  }
}

static void swap(uint32_t *a, size_t i, size_t j) { uint32_t t = a[i]; a[i] = a[j]; a[j] = t; }

static void intro_rec(uint32_t *a, size_t lo, size_t hi, int depth) {
  while (hi - lo > 16) {
    if (depth-- == 0) { heap_sort(a + lo, hi - lo); return; }
    size_t mid = lo + (hi - lo) / 2;
    // Median of three into a[lo]: a guard for the partition loops below.
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi - 1] < a[lo]) swap(a, hi - 1, lo);
    if (a[hi - 1] < a[mid]) swap(a, hi - 1, mid);
    swap(a, lo, mid);
    uint32_t pivot = a[lo];
    size_t i = lo, j = hi;
    for (;;) {
      do i++; while (i < hi && a[i] < pivot);
      do j--; while (a[j] > pivot);
      if (i >= j) break;
      swap(a, i, j);
    }
    swap(a, lo, j);
    // Recurse into the smaller side, loop on the larger: O(log n) stack.
    if (j - lo < hi - j - 1) { intro_rec(a, lo, j, depth); lo = j + 1; }
    else { intro_rec(a, j + 1, hi, depth); hi = j; }
  }
  insertion_sort(a, lo, hi);
}

static void intro_sort(uint32_t *a, size_t n) {
  int depth = 0;
  for (size_t m = n; m > 1; m >>= 1) depth += 2;
  intro_rec(a, 0, n, depth);
}

static int cmp_u32(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return (a > b) - (a < b);
}
static void libc_sort(uint32_t *a, size_t n) { qsort(a, n, sizeof *a, cmp_u32); }

static void fill(uint32_t *a, size_t n, int dist) {
  for (size_t i = 0; i < n; i++) {
    switch (dist) {
      case 0: a[i] = next_random(); break;                          // uniform
      case 1: a[i] = (uint32_t)i * 3u; break;                       // sorted
      case 2: a[i] = (uint32_t)(n - i) * 5u; break;                 // reversed
      case 3: a[i] = next_random() % 16; break;                     // few unique
      case 4: a[i] = (uint32_t)(i < n / 2 ? i : n - i); break;      // organ pipe
      default: a[i] = (uint32_t)i ^ (next_random() % 64 == 0 ? next_random() : 0); break; // nearly sorted
    }
  }
}

static uint64_t digest(const uint32_t *a, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ a[i]) * 1099511628211ull;
  return h;
}

typedef void (*Sorter)(uint32_t *, size_t);
static const struct { const char *name; Sorter sort; } SORTS[] = {
  {"merge", merge_sort}, {"heap", heap_sort}, {"radix", radix_sort}, {"intro", intro_sort}, {"qsort", libc_sort},
};
static const char *DISTS[] = {"uniform", "sorted", "reversed", "few-unique", "organ-pipe", "nearly-sorted"};

int main(int argc, char **argv) {
  long arg = argc > 1 ? atol(argv[1]) : 50000;
  size_t n = arg < 16 ? 16 : (size_t)arg;
  uint32_t *orig = malloc(n * sizeof *orig), *work = malloc(n * sizeof *work);
  uint64_t total = 0;
  for (int d = 0; d < 6; d++) {
    fill(orig, n, d);
    uint64_t first = 0;
    printf("%-13s", DISTS[d]);
    for (size_t s = 0; s < sizeof SORTS / sizeof SORTS[0]; s++) {
      // qsort (musl's smoothsort) is slow in comparisons; it gets every other distribution.
      if (s == 4 && d % 2) continue;
      memcpy(work, orig, n * sizeof *work);
      SORTS[s].sort(work, n);
      for (size_t i = 1; i < n; i++)
        if (work[i - 1] > work[i]) { printf("\n%s: not sorted at %zu\n", SORTS[s].name, i); return 1; }
      uint64_t h = digest(work, n);
      if (s == 0) first = h;
      else if (h != first) { printf("\n%s disagrees with merge\n", SORTS[s].name); return 1; }
      printf(" %s", SORTS[s].name);
    }
    printf(": %016llx min %u median %u max %u\n", (unsigned long long)first, work[0], work[n / 2], work[n - 1]);
    total = total * 31 + first;
  }
  printf("checksum %016llx\n", (unsigned long long)total);
  free(orig);
  free(work);
  return 0;
}
