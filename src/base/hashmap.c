/* SPDX-License-Identifier: MIT */
/*
 * hashmap: open addressing with linear probing and backward-shift deletion
 * (see include/leakd/base/hashmap.h for the contract and why this design).
 *
 * Responsible for placing, finding and removing entries and for growing
 * the slot array within the bound the caller set; what an entry means is
 * the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/hashmap.h"

#define HASHMAP_FIRST_SLOTS 16u
#define HASHMAP_GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t *slot_key(const struct hashmap *m, size_t i)
{
	return (uint64_t *)(m->slots + i * m->entry_size);
}

/* Entries are a few words: fixed-size copies of the common sizes beat a
 * call to memcpy of a size the compiler cannot see, and a word loop
 * (measured on agg's churn pattern, tests/bench/hashmap_bench.c). */
static inline void copy_entry(size_t words, uint64_t *to, const uint64_t *from)
{
	switch (words) {
	case 2: memcpy(to, from, 2 * sizeof(*to)); break;
	case 3: memcpy(to, from, 3 * sizeof(*to)); break;
	case 4: memcpy(to, from, 4 * sizeof(*to)); break;
	case 5: memcpy(to, from, 5 * sizeof(*to)); break;
	default:
		for (size_t w = 0; w < words; w++)
			to[w] = from[w];
	}
}

static inline void clear_entry(size_t words, uint64_t *e)
{
	switch (words) {
	case 2: memset(e, 0, 2 * sizeof(*e)); break;
	case 3: memset(e, 0, 3 * sizeof(*e)); break;
	case 4: memset(e, 0, 4 * sizeof(*e)); break;
	case 5: memset(e, 0, 5 * sizeof(*e)); break;
	default:
		for (size_t w = 0; w < words; w++)
			e[w] = 0;
	}
}

/* Fibonacci hashing: the top bits of the product depend on every key bit,
 * so aligned addresses (low bits 0) spread evenly. */
static inline size_t home_of(const struct hashmap *m, uint64_t key)
{
	return (size_t)((key * HASHMAP_GOLDEN) >> m->shift);
}

int hashmap_init(struct hashmap *m, size_t entry_size, size_t max_count)
{
	if (!m || entry_size < sizeof(uint64_t) || entry_size % sizeof(uint64_t))
		return -EINVAL;
	*m = (struct hashmap){ .entry_size = entry_size, .max_count = max_count };
	return 0;
}

void hashmap_fini(struct hashmap *m)
{
	if (!m)
		return;
	free(m->slots);
	m->slots = NULL;
	m->n_slots = 0;
	m->count = 0;
}

void hashmap_clear(struct hashmap *m)
{
	if (m && m->slots)
		memset(m->slots, 0, m->n_slots * m->entry_size);
	if (m)
		m->count = 0;
}

/* Slots that hold n entries at load <= 3/4. */
static size_t slots_for(size_t n)
{
	size_t need = n + n / 3 + 1, p = HASHMAP_FIRST_SLOTS;

	while (p < need)
		p <<= 1;
	return p;
}

static int rehash(struct hashmap *m, size_t n_slots)
{
	struct hashmap fresh = *m;
	unsigned log2 = 0;

	while (((size_t)1 << log2) < n_slots)
		log2++;
	fresh.slots = calloc(n_slots, m->entry_size);
	if (!fresh.slots)
		return -ENOMEM;
	fresh.n_slots = n_slots;
	fresh.shift = 64 - log2;
	for (size_t i = 0; i < m->n_slots; i++) {
		uint64_t key = *slot_key(m, i);
		size_t j, mask = n_slots - 1;

		if (!key)
			continue;
		for (j = home_of(&fresh, key); *slot_key(&fresh, j); j = (j + 1) & mask)
			;
		copy_entry(m->entry_size / sizeof(uint64_t), slot_key(&fresh, j), slot_key(m, i));
	}
	free(m->slots);
	*m = fresh;
	return 0;
}

int hashmap_reserve(struct hashmap *m, size_t n)
{
	size_t want;

	if (m->max_count && n > m->max_count)
		return -ENOSPC;
	want = slots_for(n);
	return want > m->n_slots ? rehash(m, want) : 0;
}

/* The slot index of key, or SIZE_MAX. */
static inline size_t find(const struct hashmap *m, uint64_t key)
{
	unsigned char *slots = m->slots;
	size_t mask = m->n_slots - 1, esz = m->entry_size, i;

	if (!m->n_slots || !key)
		return SIZE_MAX;
	for (i = home_of(m, key);; i = (i + 1) & mask) {
		uint64_t k = *(uint64_t *)(slots + i * esz);

		if (k == key)
			return i;
		if (!k)
			return SIZE_MAX;
	}
}

void *hashmap_get(const struct hashmap *m, uint64_t key)
{
	size_t i = find(m, key);

	return i == SIZE_MAX ? NULL : slot_key(m, i);
}

/* The empty slot where key goes, growing first; the caller knows key is
 * absent. */
static int place(struct hashmap *m, uint64_t key, void **entry)
{
	size_t mask, i;
	uint64_t *k;

	if (m->max_count && m->count >= m->max_count)
		return -ENOSPC;
	if ((m->count + 1) * 4 > m->n_slots * 3) {
		int err = rehash(m, m->n_slots ? m->n_slots * 2 : HASHMAP_FIRST_SLOTS);

		if (err)
			return err;
	}
	mask = m->n_slots - 1;
	for (i = home_of(m, key); *(k = slot_key(m, i)); i = (i + 1) & mask)
		;
	*k = key;
	m->count++;
	*entry = k;
	return 1;
}

int hashmap_put(struct hashmap *m, uint64_t key, void **entry)
{
	unsigned char *slots = m->slots;
	size_t mask = m->n_slots - 1, esz = m->entry_size, i;
	void *e;

	if (!key)
		return -EINVAL;
	if (!m->n_slots || (m->count + 1) * 4 > m->n_slots * 3) {
		/* may grow: find first, then place in the grown table */
		e = hashmap_get(m, key);
		if (e) {
			*entry = e;
			return 0;
		}
		return place(m, key, entry);
	}
	/* one probe: with no tombstones, the first empty slot of key's run is
	 * where it goes when it is not there */
	for (i = home_of(m, key);; i = (i + 1) & mask) {
		uint64_t *k = (uint64_t *)(slots + i * esz);

		if (*k == key) {
			*entry = k;
			return 0;
		}
		if (!*k) {
			if (m->max_count && m->count >= m->max_count)
				return -ENOSPC;
			*k = key;
			m->count++;
			*entry = k;
			return 1;
		}
	}
}

/* Empties slot i. */
static void remove_at(struct hashmap *m, size_t i)
{
	/* locals: the stores below are uint64_t, which may alias *m's fields */
	unsigned char *slots = m->slots;
	size_t mask = m->n_slots - 1, esz = m->entry_size, words = esz / sizeof(uint64_t), j;
	unsigned shift = m->shift;
	uint64_t *hole, *k;

	hole = (uint64_t *)(slots + i * esz);
	/* backward shift: pull later members of the probe run into the hole */
	for (j = (i + 1) & mask; *(k = (uint64_t *)(slots + j * esz)); j = (j + 1) & mask) {
		size_t home = (size_t)((*k * HASHMAP_GOLDEN) >> shift);

		/* move j to i unless its home lies cyclically in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			copy_entry(words, hole, k);
			hole = k;
			i = j;
		}
	}
	clear_entry(words, hole);
	m->count--;
}

void hashmap_remove(struct hashmap *m, void *entry)
{
	remove_at(m, (size_t)((unsigned char *)entry - m->slots) / m->entry_size);
}

bool hashmap_del(struct hashmap *m, uint64_t key)
{
	return hashmap_take(m, key, NULL);
}

bool hashmap_take(struct hashmap *m, uint64_t key, void *out)
{
	size_t i = find(m, key);

	if (i == SIZE_MAX)
		return false;
	if (out)
		memcpy(out, slot_key(m, i), m->entry_size);
	remove_at(m, i);
	return true;
}

void *hashmap_next(const struct hashmap *m, size_t *pos)
{
	for (; *pos < m->n_slots; (*pos)++) {
		uint64_t *k = slot_key(m, *pos);

		if (*k) {
			(*pos)++;
			return k;
		}
	}
	return NULL;
}

/* ---- string keys ---- */

uint64_t hashmap_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h ? h : 1;
}

/* The entry named s, or (when absent) NULL; *key is s's key. */
static void *find_str(const struct hashmap *m, const char *s, hashmap_name_of name_of, void *ctx,
		      uint64_t *key)
{
	size_t mask, i;

	*key = hashmap_hash_str(s);
	if (!m->n_slots)
		return NULL;
	mask = m->n_slots - 1;
	for (i = home_of(m, *key);; i = (i + 1) & mask) {
		uint64_t *k = slot_key(m, i);

		if (!*k)
			return NULL;
		if (*k == *key) {
			const char *name = name_of(k, ctx);

			if (name && !strcmp(name, s))
				return k;
		}
	}
}

void *hashmap_get_str(const struct hashmap *m, const char *s, hashmap_name_of name_of, void *ctx)
{
	uint64_t key;

	return find_str(m, s, name_of, ctx, &key);
}

int hashmap_put_str(struct hashmap *m, const char *s, hashmap_name_of name_of, void *ctx, void **entry)
{
	uint64_t key;
	void *e = find_str(m, s, name_of, ctx, &key);

	if (e) {
		*entry = e;
		return 0;
	}
	return place(m, key, entry);
}
