// A small database workload: a table of fixed-size rows in a heap, a B+ tree primary index
// (order 32, leaves linked for range scans; inserts split nodes, deletes borrow from or merge
// with a sibling and shrink the root) and an open-addressing hash index on a secondary key. Mixed
// inserts, point lookups, range scans, updates and deletes, with the tree's invariants checked.
//
//   btree [N=120000]   operations; tests use 1500
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDER 32 // most keys per node

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t next_random(void) { rng = rng * 6364136223846793005ull + 1442695040888963407ull; return (uint32_t)(rng >> 33); }

typedef struct { uint32_t id, group, balance; char name[20]; } Row;

typedef struct Node {
  int leaf, n;
  uint32_t keys[ORDER + 1];
  union { struct Node *child[ORDER + 2]; uint32_t row[ORDER + 1]; } u;
  struct Node *next; // leaves: the next leaf
} Node;

static Node *root;
static long nodes_alive;

static Node *node_new(int leaf) { Node *x = calloc(1, sizeof *x); x->leaf = leaf; nodes_alive++; return x; }

static int lower_bound(const Node *x, uint32_t key) {
  int lo = 0, hi = x->n;
  while (lo < hi) { int mid = (lo + hi) / 2; if (x->keys[mid] < key) lo = mid + 1; else hi = mid; }
  return lo;
}
// Inner nodes: child i holds keys < keys[i]; keys equal to keys[i] go right.
static int child_index(const Node *x, uint32_t key) {
  int lo = 0, hi = x->n;
  while (lo < hi) { int mid = (lo + hi) / 2; if (x->keys[mid] <= key) lo = mid + 1; else hi = mid; }
  return lo;
}

static int find(uint32_t key, uint32_t *row) {
  Node *x = root;
  while (!x->leaf) x = x->u.child[child_index(x, key)];
  int i = lower_bound(x, key);
  if (i < x->n && x->keys[i] == key) { *row = x->u.row[i]; return 1; }
  return 0;
}

// Inserts into the subtree; on a split returns the new right sibling and its separator.
static Node *insert_rec(Node *x, uint32_t key, uint32_t row, uint32_t *sep, int *added) {
  if (x->leaf) {
    int i = lower_bound(x, key);
    if (i < x->n && x->keys[i] == key) { x->u.row[i] = row; *added = 0; return NULL; }
    memmove(x->keys + i + 1, x->keys + i, sizeof(uint32_t) * (size_t)(x->n - i));
    memmove(x->u.row + i + 1, x->u.row + i, sizeof(uint32_t) * (size_t)(x->n - i));
    x->keys[i] = key; x->u.row[i] = row; x->n++;
    *added = 1;
    if (x->n <= ORDER) return NULL;
    Node *r = node_new(1);
    int half = x->n / 2;
    r->n = x->n - half;
    memcpy(r->keys, x->keys + half, sizeof(uint32_t) * (size_t)r->n);
    memcpy(r->u.row, x->u.row + half, sizeof(uint32_t) * (size_t)r->n);
    x->n = half;
    r->next = x->next; x->next = r;
    *sep = r->keys[0];
    return r;
  }
  int c = child_index(x, key);
  uint32_t s;
  Node *r = insert_rec(x->u.child[c], key, row, &s, added);
  if (!r) return NULL;
  memmove(x->keys + c + 1, x->keys + c, sizeof(uint32_t) * (size_t)(x->n - c));
  memmove(x->u.child + c + 2, x->u.child + c + 1, sizeof(Node *) * (size_t)(x->n - c));
  x->keys[c] = s; x->u.child[c + 1] = r; x->n++;
  if (x->n <= ORDER) return NULL;
  Node *nr = node_new(0);
  int half = x->n / 2; // keys[half] moves up
  nr->n = x->n - half - 1;
  memcpy(nr->keys, x->keys + half + 1, sizeof(uint32_t) * (size_t)nr->n);
  memcpy(nr->u.child, x->u.child + half + 1, sizeof(Node *) * (size_t)(nr->n + 1));
  *sep = x->keys[half];
  x->n = half;
  return nr;
}

static int insert(uint32_t key, uint32_t row) {
  uint32_t sep;
  int added;
  Node *r = insert_rec(root, key, row, &sep, &added);
  if (r) {
    Node *nr = node_new(0);
    nr->n = 1; nr->keys[0] = sep; nr->u.child[0] = root; nr->u.child[1] = r;
    root = nr;
  }
  return added;
}

#define MIN_KEYS (ORDER / 2)
// Refills child c of x after a delete left it below MIN_KEYS: borrow from a sibling, or merge.
static void rebalance(Node *x, int c) {
  Node *a = x->u.child[c];
  Node *l = c > 0 ? x->u.child[c - 1] : NULL, *r = c < x->n ? x->u.child[c + 1] : NULL;
  if (l && l->n > MIN_KEYS) {
    memmove(a->keys + 1, a->keys, sizeof(uint32_t) * (size_t)a->n);
    if (a->leaf) {
      memmove(a->u.row + 1, a->u.row, sizeof(uint32_t) * (size_t)a->n);
      a->keys[0] = l->keys[l->n - 1]; a->u.row[0] = l->u.row[l->n - 1];
      x->keys[c - 1] = a->keys[0];
    } else {
      memmove(a->u.child + 1, a->u.child, sizeof(Node *) * (size_t)(a->n + 1));
      a->keys[0] = x->keys[c - 1]; a->u.child[0] = l->u.child[l->n];
      x->keys[c - 1] = l->keys[l->n - 1];
    }
    a->n++; l->n--;
    return;
  }
  if (r && r->n > MIN_KEYS) {
    if (a->leaf) {
      a->keys[a->n] = r->keys[0]; a->u.row[a->n] = r->u.row[0];
      memmove(r->keys, r->keys + 1, sizeof(uint32_t) * (size_t)(r->n - 1));
      memmove(r->u.row, r->u.row + 1, sizeof(uint32_t) * (size_t)(r->n - 1));
      x->keys[c] = r->keys[0];
    } else {
      a->keys[a->n] = x->keys[c]; a->u.child[a->n + 1] = r->u.child[0];
      x->keys[c] = r->keys[0];
      memmove(r->keys, r->keys + 1, sizeof(uint32_t) * (size_t)(r->n - 1));
      memmove(r->u.child, r->u.child + 1, sizeof(Node *) * (size_t)r->n);
    }
    a->n++; r->n--;
    return;
  }
  // Merge the right one of (l, a) or (a, r) into the left one; x loses a key and a child.
  int k = l ? c - 1 : c;
  Node *left = x->u.child[k], *right = x->u.child[k + 1];
  if (left->leaf) {
    memcpy(left->keys + left->n, right->keys, sizeof(uint32_t) * (size_t)right->n);
    memcpy(left->u.row + left->n, right->u.row, sizeof(uint32_t) * (size_t)right->n);
    left->n += right->n;
    left->next = right->next;
  } else {
    left->keys[left->n] = x->keys[k];
    memcpy(left->keys + left->n + 1, right->keys, sizeof(uint32_t) * (size_t)right->n);
    memcpy(left->u.child + left->n + 1, right->u.child, sizeof(Node *) * (size_t)(right->n + 1));
    left->n += right->n + 1;
  }
  free(right); nodes_alive--;
  memmove(x->keys + k, x->keys + k + 1, sizeof(uint32_t) * (size_t)(x->n - k - 1));
  memmove(x->u.child + k + 1, x->u.child + k + 2, sizeof(Node *) * (size_t)(x->n - k - 1));
  x->n--;
}

static int delete_rec(Node *x, uint32_t key) {
  if (x->leaf) {
    int i = lower_bound(x, key);
    if (i >= x->n || x->keys[i] != key) return 0;
    memmove(x->keys + i, x->keys + i + 1, sizeof(uint32_t) * (size_t)(x->n - i - 1));
    memmove(x->u.row + i, x->u.row + i + 1, sizeof(uint32_t) * (size_t)(x->n - i - 1));
    x->n--;
    return 1;
  }
  int c = child_index(x, key);
  if (!delete_rec(x->u.child[c], key)) return 0;
  if (x->u.child[c]->n < MIN_KEYS) rebalance(x, c);
  return 1;
}
static int delete(uint32_t key) {
  int found = delete_rec(root, key);
  if (!root->leaf && root->n == 0) { Node *old = root; root = root->u.child[0]; free(old); nodes_alive--; }
  return found;
}

// Checks order, fill and uniform depth; returns the number of keys.
static long check(const Node *x, int depth, int *leaf_depth, uint32_t lo, uint32_t hi, int is_root) {
  if (!is_root && x->n < MIN_KEYS) { printf("underfull node\n"); exit(1); }
  for (int i = 0; i < x->n; i++)
    if (x->keys[i] < lo || x->keys[i] >= hi || (i && x->keys[i - 1] >= x->keys[i])) { printf("order broken\n"); exit(1); }
  if (x->leaf) {
    if (*leaf_depth < 0) *leaf_depth = depth;
    else if (*leaf_depth != depth) { printf("uneven depth\n"); exit(1); }
    return x->n;
  }
  long total = 0;
  for (int i = 0; i <= x->n; i++)
    total += check(x->u.child[i], depth + 1, leaf_depth, i ? x->keys[i - 1] : lo, i < x->n ? x->keys[i] : hi, 0);
  return total;
}

// --- the hash index: group → first row, rows of a group chained through `chain` ---------------
#define HBITS 12
static uint32_t hkeys[1 << HBITS];
static int32_t hfirst[1 << HBITS];
static int32_t *chain;
static int32_t hash_slot(uint32_t g) {
  uint32_t h = (g * 2654435769u) >> (32 - HBITS);
  while (hfirst[h] >= 0 && hkeys[h] != g) h = (h + 1) & ((1 << HBITS) - 1);
  return (int32_t)h;
}

int main(int argc, char **argv) {
  long ops = argc > 1 ? atol(argv[1]) : 120000;
  if (ops < 10) ops = 10;
  long cap = ops + 16;
  Row *rows = malloc(sizeof(Row) * (size_t)cap);
  uint8_t *live = calloc((size_t)cap, 1);
  chain = malloc(sizeof(int32_t) * (size_t)cap);
  for (int i = 0; i < 1 << HBITS; i++) hfirst[i] = -1;
  root = node_new(1);
  long nrows = 0, count = 0, found = 0, missed = 0, scanned = 0, deleted = 0, updated = 0;
  uint64_t scan_sum = 0;
  uint32_t keyspace = (uint32_t)ops * 2;
  for (long op = 0; op < ops; op++) {
    uint32_t r = next_random(), key = next_random() % keyspace, row;
    int kind = (int)(r % 100);
    if (kind < 40 || count < 100) { // insert (or update the row if the key is there)
      if (find(key, &row)) { rows[row].balance += r >> 20; updated++; continue; }
      Row *w = &rows[nrows];
      w->id = key; w->group = (r >> 8) % 1000; w->balance = r >> 16;
      snprintf(w->name, sizeof w->name, "cust%u", key);
      live[nrows] = 1;
      int32_t h = hash_slot(w->group);
      if (hfirst[h] < 0) { hkeys[h] = w->group; chain[nrows] = -1; }
      else chain[nrows] = hfirst[h];
      hfirst[h] = (int32_t)nrows;
      insert(key, (uint32_t)nrows++);
      count++;
    } else if (kind < 70) { // point lookup, half of them of a key that was inserted
      if (r & 1) key = rows[next_random() % nrows].id;
      if (find(key, &row) && rows[row].id == key && strncmp(rows[row].name, "cust", 4) == 0) found++; else missed++;
    } else if (kind < 80) { // range scan of up to 50 keys from key
      Node *x = root;
      while (!x->leaf) x = x->u.child[child_index(x, key)];
      int i = lower_bound(x, key), n = 0;
      uint32_t prev = 0;
      while (x && n < 50) {
        if (i >= x->n) { x = x->next; i = 0; continue; }
        if (n && x->keys[i] <= prev) { printf("scan out of order\n"); return 1; }
        prev = x->keys[i];
        scan_sum += rows[x->u.row[i]].balance;
        i++; n++;
      }
      scanned += n;
    } else if (kind < 95) { // delete a row that was inserted (it may be gone already)
      key = rows[next_random() % nrows].id;
      if (find(key, &row)) { if (!delete(key)) { printf("delete failed\n"); return 1; } live[row] = 0; count--; deleted++; }
    } else { // secondary index: sum balances of one group's live rows
      int32_t h = hash_slot(r % 1000);
      for (int32_t at = hfirst[h]; at >= 0; at = chain[at]) if (live[at]) scan_sum += rows[at].balance & 0xFF;
    }
    if (op % 20000 == 19999) {
      int depth = -1;
      if (check(root, 0, &depth, 0, UINT32_MAX, 1) != count) { printf("key count wrong\n"); return 1; }
    }
  }
  int depth = -1;
  long keys = check(root, 0, &depth, 0, UINT32_MAX, 1);
  if (keys != count) { printf("key count wrong\n"); return 1; }
  printf("rows %ld, live keys %ld, depth %d, nodes %ld\n", nrows, count, depth + 1, nodes_alive);
  printf("lookups %ld found %ld missed, %ld updated, %ld deleted, %ld scanned, sum %llu\n", found, missed, updated, deleted, scanned, (unsigned long long)scan_sum);
  free(rows); free(live); free(chain);
  return 0;
}
