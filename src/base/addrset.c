// SPDX-License-Identifier: MIT
/*
 * addrset: sparse bitmap of 8-byte-aligned addresses (see addrset.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/addrset.h"

#define CHUNK_SHIFT 20				/* 1 MiB of address space per chunk */
#define CHUNK_BITS (1u << (CHUNK_SHIFT - 3))	/* one bit per 8 bytes */
#define CHUNK_WORDS (CHUNK_BITS / 64)
#define ADDR_LIMIT (1ull << 48)

struct addrset_slot {
	uint64_t key;		/* chunk number + 1; 0 = empty */
	uint64_t *bits;
};

struct addrset {
	struct addrset_slot *slots;
	size_t cap, used;	/* cap a power of two, used < cap / 2 */
	size_t max_bytes, bytes;
	uint64_t count;
	/* The last chunk looked up: consecutive addresses mostly share one. */
	uint64_t last_key;
	uint64_t *last_bits;
};

static size_t addrset_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

int addrset_new(size_t max_bytes, struct addrset **out)
{
	struct addrset *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cap = 256;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return -ENOMEM;
	}
	s->max_bytes = max_bytes ? max_bytes : ADDRSET_DEFAULT_MAX_BYTES;
	s->bytes = s->cap * sizeof(*s->slots);
	*out = s;
	return 0;
}

void addrset_free(struct addrset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].bits);
	free(s->slots);
	free(s);
}

static uint64_t *addrset_find(const struct addrset *s, uint64_t key)
{
	for (size_t j = addrset_hash(key, s->cap);; j = (j + 1) & (s->cap - 1)) {
		if (s->slots[j].key == key)
			return s->slots[j].bits;
		if (!s->slots[j].key)
			return NULL;
	}
}

static int addrset_grow(struct addrset *s)
{
	size_t ncap = s->cap * 2;
	struct addrset_slot *ns;

	if (s->bytes + ncap * sizeof(*ns) > s->max_bytes)
		return -ENOSPC;
	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (!s->slots[i].key)
			continue;
		for (j = addrset_hash(s->slots[i].key, ncap); ns[j].key; j = (j + 1) & (ncap - 1))
			;
		ns[j] = s->slots[i];
	}
	free(s->slots);
	s->bytes += (ncap - s->cap) * sizeof(*ns);
	s->slots = ns;
	s->cap = ncap;
	return 0;
}

/* The chunk for key, created when create is set. NULL + *err on failure. */
static uint64_t *addrset_chunk(struct addrset *s, uint64_t key, int *err)
{
	uint64_t *bits;
	size_t j;

	*err = 0;
	if (key == s->last_key)
		return s->last_bits;
	bits = addrset_find(s, key);
	if (!bits) {
		if (s->bytes + CHUNK_WORDS * 8 > s->max_bytes) {
			*err = -ENOSPC;
			return NULL;
		}
		if ((s->used + 1) * 2 > s->cap && (*err = addrset_grow(s)) < 0)
			return NULL;
		bits = calloc(CHUNK_WORDS, 8);
		if (!bits) {
			*err = -ENOMEM;
			return NULL;
		}
		for (j = addrset_hash(key, s->cap); s->slots[j].key; j = (j + 1) & (s->cap - 1))
			;
		s->slots[j].key = key;
		s->slots[j].bits = bits;
		s->used++;
		s->bytes += CHUNK_WORDS * 8;
	}
	s->last_key = key;
	s->last_bits = bits;
	return bits;
}

int addrset_add(struct addrset *s, uint64_t addr)
{
	uint64_t *bits, bit, mask;
	int err;

	if ((addr & 7) || addr >= ADDR_LIMIT)
		return -EINVAL;
	bits = addrset_chunk(s, (addr >> CHUNK_SHIFT) + 1, &err);
	if (!bits)
		return err;
	bit = (addr >> 3) & (CHUNK_BITS - 1);
	mask = 1ull << (bit & 63);
	if (bits[bit >> 6] & mask)
		return 0;
	bits[bit >> 6] |= mask;
	s->count++;
	return 1;
}

bool addrset_has(const struct addrset *s, uint64_t addr)
{
	uint64_t key = (addr >> CHUNK_SHIFT) + 1, bit;
	const uint64_t *bits;

	if ((addr & 7) || addr >= ADDR_LIMIT)
		return false;
	bits = key == s->last_key ? s->last_bits : addrset_find(s, key);
	if (!bits)
		return false;
	bit = (addr >> 3) & (CHUNK_BITS - 1);
	return (bits[bit >> 6] >> (bit & 63)) & 1;
}

uint64_t addrset_count(const struct addrset *s)
{
	return s->count;
}

size_t addrset_bytes(const struct addrset *s)
{
	return s->bytes;
}
