/* SPDX-License-Identifier: MIT */
/*
 * GC census: count a CPython process's live GC-tracked objects by type, from
 * outside, by walking the collector's generation lists.
 *
 * This is the always-on live series of leakd: it needs no allocation probe,
 * so it works the same on LTO builds where pymalloc is inlined. Everything
 * version-specific comes from a struct pylayout, and all memory access goes
 * through a struct memreader, so tests run it on synthetic memory.
 *
 * The walk trusts nothing it reads: list heads are validated (both links
 * must point back) before use, every node's back-link is checked, every type
 * pointer is checked (aligned, readable, READY|HAVE_GC, sane sizes); a list
 * that breaks is abandoned and counted in broken_links, never followed
 * further. Walk a frozen target (freeze.h) for exact numbers; an unfrozen one
 * gives approximate numbers and some broken links.
 *
 * Invisible to a census: objects that are not GC-tracked (str, int, float,
 * atom-only dicts and tuples the collector untracked) and immortal/static
 * objects.
 */
#ifndef LEAKD_CENSUS_H
#define LEAKD_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/base/sizeclass.h"
#include "leakd/census/heapwalk.h"
#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/pyname.h"

#define CENSUS_NAME_MAX PYNAME_MAX
#define CENSUS_DEFAULT_MAX_STEPS 50000000ull
#define CENSUS_DEFAULT_MAX_TYPES 4096
#define CENSUS_DEFAULT_MAX_SEEDS (16u << 20)	/* 24 bytes each: 384 MiB at most */

struct census_type {
	uint64_t type_addr;		/* 0 for the "(other)" bucket */
	char name[CENSUS_NAME_MAX];	/* "dict", "collections.OrderedDict", "__main__.Leaky" */
	uint64_t objects;
	uint64_t bytes;
	uint64_t gens[4];		/* tracked ones by generation list: 0-2, permanent */
};

#define CENSUS_CONTAINERS HEAPWALK_TOP_CONTAINERS

struct census {
	uint64_t objects, bytes;	/* every object counted: tracked + untracked */
	uint64_t tracked_objects;	/* on the GC's lists */
	uint64_t tracked_bytes;		/* their shallow size: GC head (+16 pre-header when
					 * managed dict/weakref) + tp_basicsize +
					 * tp_itemsize * |ob_size|, plus, in a reachable
					 * census, what they own (item arrays, tables) */
	/* A reachable census (census_limits.reachable) also counts every
	 * untracked object the tracked ones reach (heapwalk.h). */
	bool reachable;
	uint64_t untracked_objects, untracked_bytes;
	uint64_t refs, rejected;	/* referents examined, and those that were not objects */
	uint64_t set_bytes;		/* leakd memory of the dedup set */
	char partial[96];		/* why the answer is incomplete, or "" */
	struct heapwalk_container containers[CENSUS_CONTAINERS];	/* largest first */
	size_t ncontainers;
	struct census_ctx *pending;	/* between census_walk() and census_reach(): owned */
	struct census_type *types;	/* sorted by objects desc; owned; census_free() */
	size_t ntypes;
	uint64_t gen_objects[4];	/* generations 0..2, then the permanent generation */
	/* With census_limits.keep_tracked, after census_reach(): the tracked
	 * objects' addresses, for the holder search (holders.h); owned. */
	uint64_t *tracked;
	size_t ntracked;
	uint64_t steps;			/* list nodes visited */
	int broken_links;		/* lists abandoned on a bad link or type */
	bool truncated;			/* max_steps reached */
	/* Objects and bytes by size class (sizeclass_of() of each object's
	 * shallow size): the size histogram of builds and modes where no
	 * allocation probe sees the traffic. */
	uint64_t size_objects[SIZECLASS_N];
	uint64_t size_bytes[SIZECLASS_N];
};

struct census_limits {
	uint64_t max_steps;	/* 0: CENSUS_DEFAULT_MAX_STEPS */
	size_t max_types;	/* 0: CENSUS_DEFAULT_MAX_TYPES; the rest folded into "(other)" */
	/* Optional: called for every counted object with its GC node address,
	 * the object's address and its type, e.g. to match the census against
	 * the allocations the probes recorded. */
	void (*visit)(void *ctx, uint64_t node, uint64_t obj, uint64_t type);
	void *visit_ctx;
	/* Also walk everything the tracked objects reach (3.8+): see
	 * census_reach(). */
	bool reachable;
	size_t max_seeds;	/* tracked objects followed; 0: CENSUS_DEFAULT_MAX_SEEDS */
	bool keep_tracked;	/* keep their addresses in census.tracked */
	struct heapwalk_limits heap;
};

struct pygc_state {
	bool enabled;
	int collecting;
	uint64_t collections[3], collected[3], uncollectable[3];
	int count[3], threshold[3];
};

/* Where the GC state of the main interpreter is, as census_locate() found it. */
struct census_gc_loc {
	uint64_t interp;	/* PyInterpreterState * (0 on 3.7/3.8: unused) */
	uint64_t gc;		/* struct _gc_runtime_state * */
	uint32_t gens_off;	/* validated offset of generations[0] in the GC state */
	uint32_t valid_heads;	/* bit i: generation i's head validated (others were mid-update) */
};

/*
 * Finds the main interpreter's GC state from _PyRuntime's address and picks
 * the generations offset (l->gc_gens, else l->gc_gens_alt) where all three
 * thresholds are sane and at least one list head validates (a running
 * target may be rewriting the others; the walk checks every link anyway). Returns 0; -ENOTSUP layout unknown; -ENOENT no interpreter
 * yet (or finalized); -EPROTO no candidate validates (wrong layout or
 * address); -EFAULT/-ESRCH/... from the reader.
 */
int census_locate(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
		  struct census_gc_loc *out);

/* Reads the GC's switches and counters. Same returns as census_locate(). */
int census_gc_state(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
		    struct pygc_state *out);

/*
 * Walks generations 0-2 and the permanent generation and fills *out (which
 * the caller later releases with census_free()). lim may be NULL for the
 * defaults. Returns 0 (possibly with broken_links > 0 or truncated), or the
 * census_locate() errors, -ENOMEM, or -ESRCH/-EPERM when the target goes
 * away mid-walk. *out untouched on failure.
 */
int census_walk(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
		const struct census_limits *lim, struct census *out);

/*
 * Completes a reachable census that census_walk() left pending (it returns
 * with out->pending set and nothing counted yet when lim->reachable): follows
 * the referents of every tracked object the list walk found (heapwalk.h),
 * then counts, sizes and names the types. The list walk is what needs the
 * target stopped, since it follows links the collector rewrites; this part
 * may run after the target is resumed, so that a heap of untracked objects
 * ten times the tracked ones does not stretch the pause ten times. Under
 * churn its counts are then as of a few milliseconds later, and referents
 * freed meanwhile are rejected or counted once; on a quiet process they are
 * exact. Returns 0, or -ENOMEM, -ESRCH, -EPERM, -EINVAL (nothing pending);
 * *inout is released either way on error.
 */
int census_reach(const struct memreader *m, struct census *inout);

/* Releases out->types and zeroes *c; NULL-safe. */
void census_free(struct census *c);

#endif /* LEAKD_CENSUS_H */
