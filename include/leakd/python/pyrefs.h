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
 * inline values, and __slots__; and the locals of suspended generators and
 * coroutines (their embedded frame on 3.11+, the gi_frame object before).
 * On request, the fields of objects of other C types the collector tracks
 * (an asyncio Task's coroutine, an lru_cache's dict, a partial's function):
 * every word of their fixed part that the sink finds to be an object, since
 * no version's header describes those structs.
 */
#ifndef LEAKD_PYREFS_H
#define LEAKD_PYREFS_H

#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/typetab.h"

#define PYREFS_MAX_ITEMS (1ll << 28)	/* larger counts are not item counts */

/* How the referent passed to pyrefs_sink.ref is held: the holder search
 * (holders.h) names the edges of its paths with it; the heap walk ignores it. */
enum pyrefs_edge_kind {
	PYREF_ITEM = 1,		/* list/tuple/deque item; index */
	PYREF_DICT_KEY,		/* the key object itself */
	PYREF_DICT_VALUE,	/* key: the key object */
	PYREF_VALUES_SLOT,	/* split/managed values; index: slot in the shared keys */
	PYREF_SET_MEMBER,
	PYREF_CELL,		/* cell_contents */
	PYREF_FUNC_FIELD,	/* index: enum pyrefs_func_field */
	PYREF_METHOD_FUNC, PYREF_METHOD_SELF,
	PYREF_MODULE_DICT,	/* a module's __dict__ */
	PYREF_TYPE_DICT,	/* a class's __dict__ */
	PYREF_INST_DICT,	/* an instance's __dict__ */
	PYREF_SLOT,		/* __slots__ member; index: the member's offset */
	PYREF_GEN_FRAME,	/* <= 3.10: a generator's frame object */
	PYREF_FRAME_LOCAL,	/* a suspended frame's local; index: its slot (pyrefs_frame_names) */
	PYREF_NATIVE_FIELD,	/* a C type's field (native_fields); index: its byte offset */
	PYREF_FRAME_STACK,	/* on a suspended frame's value stack (what it awaits); index: depth */
};

enum pyrefs_func_field { PYREF_FUNC_GLOBALS, PYREF_FUNC_DEFAULTS, PYREF_FUNC_KWDEFAULTS, PYREF_FUNC_CLOSURE,
			 PYREF_FUNC_DICT };

struct pyrefs_edge {
	uint8_t kind;		/* enum pyrefs_edge_kind */
	uint64_t key;		/* PYREF_DICT_VALUE: the key object */
	uint64_t index;		/* see the kinds */
};

struct pyrefs_sink {
	/* One referent (0 for an empty slot is never passed... but may be:
	 * ignore it). Returns 0, or a hard -errno that ends the decoding. */
	int (*ref)(void *ctx, uint64_t p);
	/* 1 if the shared table at addr is met for the first time in this
	 * walk (count it and follow its keys), 0 if not, or -errno. */
	int (*first)(void *ctx, uint64_t addr);
	void *ctx;
	/* Also pass every non-zero word of the fixed part of objects of C types
	 * the collector tracks and no decoder knows (not weakrefs): the sink
	 * checks that each is an object. For the holder search, where a missed
	 * reference is a wrong answer; the census does not need them. */
	bool native_fields;
	uint64_t rejected;	/* inconsistent or unreadable fields met */
	uint64_t items;		/* len() of the container last decoded */
	struct pyrefs_edge edge;	/* how the referent being passed to ref is held */
};

/*
 * Calls s->ref for each referent of the object at obj, whose type entry is
 * t and whose ob_size field read ob_size. Returns the bytes the object owns
 * beyond its shallow size (item array, hash tables, deque blocks, dict
 * values kept apart), or the first hard -errno from the reader or the sink.
 */
int64_t pyrefs_decode(const struct memreader *m, const struct pylayout *l, uint64_t obj,
		      const struct typetab_entry *t, int64_t ob_size, struct pyrefs_sink *s);

/*
 * The key object of entry `slot` of the dict keys table at keys (shared
 * keys of split dicts and managed instance values name their slots this
 * way). Returns 0, -ENOENT past the entries, or a reader -errno.
 */
int pyrefs_keys_slot(const struct memreader *m, const struct pylayout *l, uint64_t keys, uint64_t slot,
		     uint64_t *key);

/*
 * dict[key] for a combined (not split) dict, by scanning its entries: the
 * namespaces looked up from outside are small, and a scan needs no copy of
 * each version's hash probing. match returns 1 for the wanted key, 0 for
 * another, or -errno. Returns 0 with *val set, -ENOENT, -ENOTSUP (a split
 * dict), -E2BIG (more than PYREFS_DICT_SCAN_MAX entries), or a reader -errno.
 */
#define PYREFS_DICT_SCAN_MAX (1u << 16)
int pyrefs_dict_get(const struct memreader *m, const struct pylayout *l, uint64_t dict,
		    int (*match)(void *ctx, uint64_t key), void *ctx, uint64_t *val);

#define PYREFS_MAX_LOCALS 4096	/* a frame's locals beyond this are not locals */

/* The names of a frame's local slots, from its code object: co_localsplusnames
 * (3.11+), or co_varnames, co_cellvars and co_freevars (<= 3.10), in slot order. */
struct pyrefs_names {
	uint64_t tuples[3];
	uint64_t len[3];
	uint64_t total;
};

/* Reads them; returns 0, -EFAULT (unreadable or more than PYREFS_MAX_LOCALS),
 * or a reader -errno. The tuples are not validated: check their type. */
int pyrefs_frame_names(const struct memreader *m, const struct pylayout *l, uint64_t code,
		       struct pyrefs_names *out);

#define PYREFS_MAX_STACK 1024	/* a value stack deeper than this is not one */

/* Where a suspended frame keeps its value stack, the frame having nlocals
 * local slots: *count words from *base (0 while it runs, or before 3.8).
 * Returns 0, -EFAULT (a top that cannot be, or deeper than
 * PYREFS_MAX_STACK), or a reader -errno. */
int pyrefs_frame_stack(const struct memreader *m, const struct pylayout *l, uint64_t frame, uint64_t nlocals,
		       uint64_t *base, uint64_t *count);

/* The str naming slot i of a frame with those names: 0 with *str set, -ENOENT
 * past them, or a reader -errno. */
int pyrefs_frame_name(const struct memreader *m, const struct pylayout *l, const struct pyrefs_names *nm,
		      uint64_t i, uint64_t *str);

/* |n| when it can be an item count, else 0. */
static inline uint64_t pyrefs_items(int64_t n)
{
	/* compared before negating: -INT64_MIN does not exist */
	if (n > PYREFS_MAX_ITEMS || n < -PYREFS_MAX_ITEMS)
		return 0;
	return (uint64_t)(n < 0 ? -n : n);
}

#endif /* LEAKD_PYREFS_H */
