/* SPDX-License-Identifier: MIT */
/*
 * hashmap: the one hash table of the tree, keyed by nonzero 64-bit integers
 * (addresses, pid and start time) or by strings (names), with the caller's
 * entries stored inline.
 *
 * An entry is the caller's struct whose first member is the uint64_t key;
 * key 0 marks an empty slot. Open addressing with linear probing and
 * Fibonacci hashing (the top bits of key * 2^64/phi, so 16-aligned addresses
 * spread as well as any), load at most 3/4, and backward-shift deletion:
 * no tombstones pile up under the alloc/free churn of trace mode, and no
 * allocation per entry. The table doubles as it fills, up to the slots
 * max_count entries need: past max_count, inserting fails with -ENOSPC.
 *
 * String keys: the key is the string's hash (never 0), the name itself stays
 * in the caller's array; a lookup confirms a hash hit through the caller's
 * name_of(), so two names with one hash are two entries.
 *
 * Why this one and not uthash: measured with build/hashmap_bench
 * (tests/bench/hashmap_bench.c) on agg's pattern: 16-aligned scattered
 * addresses, 40-byte entries; insert N into an empty table (it grows; the
 * figure is mostly page faults), look up and delete all in other orders,
 * then N free+alloc pairs around N/4 live. CPU ns per operation, best of 3,
 * -O2, on a 2-core machine shared with other work (load 4-15; runs vary by
 * 10-20%):
 *
 *   N = 4M              insert  lookup  delete  churn (free+alloc)
 *   agg's old table       703      63      95     156
 *   hashmap               715      70     126     187
 *   uthash, pooled       1049     298     358     815
 *   N = 1M
 *   agg's old table       668      50      80     118
 *   hashmap               697      53      83     133
 *   uthash, pooled        921     306     321     685
 *
 * uthash chains through a 56-byte handle per entry and hashes the key's
 * bytes (Jenkins): 4-6x slower on lookups and frees, 4-5x on the churn, and
 * more memory per entry. This map is within a few ns of the hand-rolled
 * table on lookups; on the free+alloc churn it stays 10-20% behind it
 * (15-30 ns per pair: the entry size is a run-time value here).
 */
#ifndef LEAKD_HASHMAP_H
#define LEAKD_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap {
	unsigned char *slots;	/* n_slots entries of entry_size bytes */
	size_t n_slots;		/* power of two, or 0 before the first insert */
	unsigned shift;		/* 64 - log2(n_slots) */
	size_t count;
	size_t entry_size;
	size_t max_count;
};

/*
 * entry_size: sizeof the caller's entry, a multiple of 8 starting with the
 * uint64_t key. max_count: the most entries ever held (0: no bound but
 * memory). Allocates nothing yet. Returns 0 or -EINVAL.
 */
int hashmap_init(struct hashmap *m, size_t entry_size, size_t max_count);
/* Frees the slots; the map is empty and usable again. NULL is fine. */
void hashmap_fini(struct hashmap *m);
/* Empties the map, keeping its slots. */
void hashmap_clear(struct hashmap *m);

/* Grows now to hold n entries without growing again. 0, -ENOSPC, -ENOMEM. */
int hashmap_reserve(struct hashmap *m, size_t n);

/* The entry of key, or NULL (also for key 0). */
void *hashmap_get(const struct hashmap *m, uint64_t key);

/*
 * The entry of key, added (zeroed but for the key) when missing. Returns 1
 * added, 0 found, -EINVAL for key 0, -ENOSPC at max_count, -ENOMEM. An
 * insert may move every entry: pointers from before it are stale.
 */
int hashmap_put(struct hashmap *m, uint64_t key, void **entry);

/* Removes an entry got from hashmap_get/put/next. Entries after it in its
 * probe run may move (iteration with hashmap_next must restart). */
void hashmap_remove(struct hashmap *m, void *entry);
/* Removes key's entry; false when there was none. */
bool hashmap_del(struct hashmap *m, uint64_t key);
/* Removes key's entry, copied to out first (NULL: not copied); false when
 * there was none. Cheaper than get + remove on a hot path. */
bool hashmap_take(struct hashmap *m, uint64_t key, void *out);

/* Iteration: size_t pos = 0; while ((e = hashmap_next(m, &pos))) ... */
void *hashmap_next(const struct hashmap *m, size_t *pos);

static inline size_t hashmap_count(const struct hashmap *m) { return m->count; }
static inline size_t hashmap_bytes(const struct hashmap *m) { return m->n_slots * m->entry_size; }

/* ---- string keys ---- */

/* The name an entry stands for (from the caller's array). */
typedef const char *(*hashmap_name_of)(const void *entry, void *ctx);

/* The key a string is stored under: a 64-bit hash of it, never 0. */
uint64_t hashmap_hash_str(const char *s);
/* The entry named s, or NULL. */
void *hashmap_get_str(const struct hashmap *m, const char *s, hashmap_name_of name_of, void *ctx);
/* The entry named s, added when missing, as hashmap_put; a new entry has
 * its key set and the rest zeroed, for the caller to make name_of() true. */
int hashmap_put_str(struct hashmap *m, const char *s, hashmap_name_of name_of, void *ctx, void **entry);

#endif /* LEAKD_HASHMAP_H */
