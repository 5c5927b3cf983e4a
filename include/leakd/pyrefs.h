/* SPDX-License-Identifier: MIT */
/*
 * pyrefs: what one Python object refers to, read from a target's memory.
 *
 * The decoders for the containers the heap walk follows (heapwalk.h), kept
 * apart from the traversal so that the holder search can use the same ones:
 * list (ob_item), tuple (inline items), dict in every form (<=3.10 tables
 * with a width-dependent index array, 3.11+ general/unicode/split keys,
 * values arrays with 3.11/3.12 order prefixes or the 3.13+ sized header),
 * set and frozenset tables, deque blocks, cell, function, bound method,
 * module, class dicts, and the attributes of instances of heap types:
 * __dict__ at tp_dictoffset, 3.11/3.12 managed dicts and values, 3.13+
 * inline values, and __slots__.
 */
#ifndef LEAKD_PYREFS_H
#define LEAKD_PYREFS_H

#include <stdint.h>

#include "leakd/memreader.h"
#include "leakd/pylayout.h"
#include "leakd/typetab.h"

#define PYREFS_MAX_ITEMS (1ll << 28)	/* larger counts are not item counts */

struct pyrefs_sink {
	/* One referent (0 for an empty slot is never passed... but may be:
	 * ignore it). Returns 0, or a hard -errno that ends the decoding. */
	int (*ref)(void *ctx, uint64_t p);
	/* 1 if the shared table at addr is met for the first time in this
	 * walk (count it and follow its keys), 0 if not, or -errno. */
	int (*first)(void *ctx, uint64_t addr);
	void *ctx;
	uint64_t rejected;	/* inconsistent or unreadable fields met */
	uint64_t items;		/* len() of the container last decoded */
};

/*
 * Calls s->ref for each referent of the object at obj, whose type entry is
 * t and whose ob_size field read ob_size. Returns the bytes the object owns
 * beyond its shallow size (item array, hash tables, deque blocks, dict
 * values kept apart), or the first hard -errno from the reader or the sink.
 */
int64_t pyrefs_decode(const struct memreader *m, const struct pylayout *l, uint64_t obj,
		      const struct typetab_entry *t, int64_t ob_size, struct pyrefs_sink *s);

/* |n| when it can be an item count, else 0. */
static inline uint64_t pyrefs_items(int64_t n)
{
	/* compared before negating: -INT64_MIN does not exist */
	if (n > PYREFS_MAX_ITEMS || n < -PYREFS_MAX_ITEMS)
		return 0;
	return (uint64_t)(n < 0 ? -n : n);
}

#endif /* LEAKD_PYREFS_H */
