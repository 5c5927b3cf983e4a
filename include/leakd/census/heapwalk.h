/* SPDX-License-Identifier: MIT */
/*
 * heapwalk: everything reachable from the GC-tracked objects, counted once.
 *
 * The GC's lists hold only tracked objects. str, bytes, bytearray, int,
 * float, and tuples and dicts that hold only such atoms are not tracked, so
 * a cache of strings or a list of buffers is one container to the list walk,
 * whose count never changes. Every such object is still a referent of some
 * tracked object (a module's dict, an instance, a list), possibly through
 * untracked tuples and dicts. So the census hands each tracked object it
 * walks to heapwalk_visit(), which decodes its referents with the
 * per-version layouts (list, tuple, dict in every form, set, deque, cell,
 * function, method, module, heap types, instance __dict__ and __slots__),
 * counts each untracked referent once (an addrset deduplicates by address)
 * with its real size (str by kind and length, int digits, bytearray's
 * buffer, item arrays and hash tables), and descends into untracked
 * containers with an explicit, bounded stack. Tracked referents are left to
 * the list walk, which counts each exactly once.
 *
 * Nothing read is trusted: a referent must be an aligned user-space pointer
 * whose type validates (typetab.h), every count and size is bounded, and
 * limits (objects, stack depth, set memory) end the walk early with
 * `partial` set and a reason, never a crash or an unbounded allocation.
 * Reference cycles among untracked objects cannot loop: a second visit is a
 * set hit.
 *
 * Not reached: objects held only by C (extension state, the interpreter's
 * own tables) and by the locals of running frames on 3.11+, whose frames are
 * not objects.
 */
#ifndef LEAKD_HEAPWALK_H
#define LEAKD_HEAPWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/typetab.h"

#define HEAPWALK_TOP_CONTAINERS 16	/* largest containers remembered per walk */
#define HEAPWALK_HELD_TYPES 3		/* referent types remembered per container */
#define HEAPWALK_DEFAULT_MAX_OBJECTS 200000000ull
#define HEAPWALK_DEFAULT_MAX_STACK (1u << 20)

struct heapwalk_limits {
	uint64_t max_objects;	/* untracked objects counted; 0: default */
	size_t max_stack;	/* untracked containers pending; 0: default */
	size_t max_set_bytes;	/* the dedup set's memory; 0: addrset's default */
};

/* A large container seen by the walk: the seed of "which list grows". */
struct heapwalk_container {
	uint64_t addr, type;
	uint64_t items;			/* len() */
	uint64_t bytes;			/* its own size: header plus item array or tables */
	uint64_t held_type[HEAPWALK_HELD_TYPES];	/* most common referent types, 0 = none */
	uint64_t held_count[HEAPWALK_HELD_TYPES];
};

struct heapwalk_stats {
	uint64_t objects, bytes;	/* untracked objects reached, and their bytes */
	uint64_t refs;			/* referent pointers examined */
	uint64_t rejected;		/* referents that were not valid objects */
	uint64_t set_bytes;		/* memory of the dedup set */
	bool partial;
	char partial_reason[96];	/* "" unless partial */
};

struct heapwalk;

/* m, l and tt must outlive the walk; lim may be NULL. Returns 0 or -ENOMEM. */
int heapwalk_new(const struct memreader *m, const struct pylayout *l, struct typetab *tt,
		  const struct heapwalk_limits *lim, struct heapwalk **out);
void heapwalk_free(struct heapwalk *hw);

/*
 * Follows the referents of the tracked object at obj (type entry t, ob_size
 * as read at obj + ob_size) and everything untracked below them. Returns
 * the bytes obj owns beyond its shallow size (item array, hash tables,
 * buffers) for the caller to add to obj's type, or a hard -errno (-ESRCH,
 * -EPERM, -ENOMEM): the target is gone or cannot be read.
 */
int64_t heapwalk_visit(struct heapwalk *hw, uint64_t obj, struct typetab_entry *t, int64_t ob_size);

/* Copies the walk's statistics. */
void heapwalk_stats(const struct heapwalk *hw, struct heapwalk_stats *out);

/* The largest containers, most items first; returns how many (<= max). */
size_t heapwalk_containers(const struct heapwalk *hw, struct heapwalk_container *out, size_t max);

#endif /* LEAKD_HEAPWALK_H */
