/* SPDX-License-Identifier: MIT */
/*
 * sites: which allocating Python stacks made the objects that stay.
 *
 * During a site window the stack walker samples allocations of the growing
 * types (struct leakd_stack_event, symbolised by pystack); the free probe
 * reports objects released meanwhile. At the window's end each sampled
 * object that was not freed is checked once more against the target (still
 * there, with its type); only survivors rank a site. A site whose objects
 * all died is churn and is never reported.
 *
 * Which types: survival is judged by address, so it only holds for types
 * whose objects are made and released through the probed entry points,
 * such as instances of Python classes. CPython's dict, list, tuple, float
 * and other builtins keep free lists: a freed dict goes back to the list
 * without PyObject_GC_Del and comes out again without _PyObject_GC_New, so
 * a churned sample's address then holds a kept object the window never saw
 * made, and the churn line would be credited with it (measured: a dict
 * churned on one line and kept on another, pyenv 3.11.7 and trixie 3.13.5,
 * ranked the churn line first). Callers must not open windows for such
 * types until the free-list paths are observed.
 *
 * Pure: the liveness check is a callback, so tests and the session decide
 * how to read the target (sites_alive() is the one over a memreader).
 * Memory is bounded: at most max_samples sampled objects and max_sites
 * distinct stacks; beyond, samples are counted as dropped, not stored.
 * Samples freed or found dead make room again when the table is full.
 */
#ifndef LEAKD_SITES_H
#define LEAKD_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/pystack.h"
#include "leakd/summary.h"

struct sites;

struct sites_site {
	uint64_t type;				/* type object address */
	const struct pystack_frame *frames;	/* innermost first; owned by the sites object */
	size_t nframes;
	bool truncated;				/* the walker cut the stack at LEAKD_MAX_PYFRAMES */
	uint64_t sampled;			/* sampled objects allocated here */
	uint64_t surviving;			/* of those, alive at the last sites_check() */
};

struct sites_stats {
	uint64_t samples, freed, dropped;	/* dropped: over max_samples or max_sites */
};

/* max_samples, max_sites: 0 for the defaults (65,536 and 1,024).
 * Returns 0, -EINVAL or -ENOMEM. */
int sites_new(size_t max_samples, size_t max_sites, struct sites **out);
void sites_free(struct sites *s);

/*
 * One sampled allocation: the object at addr of type `type`, made by the
 * stack frames[0..n) (innermost first). A later sample at the same address
 * replaces the earlier one (that object is gone). Returns 0, -ENOSPC when
 * the sample was dropped for lack of room, -EINVAL for bad arguments.
 */
int sites_sample(struct sites *s, uint64_t addr, uint64_t type, const struct pystack_frame *frames,
		  size_t n, bool truncated);

/*
 * One byte sample (trace mode's --sample-bytes): a block of `bytes` bytes at
 * addr, made by frames[0..n), its type not known yet (the site's type is 0).
 * Same returns as sites_sample().
 */
int sites_sample_bytes(struct sites *s, uint64_t addr, uint64_t bytes, const struct pystack_frame *frames,
			size_t n, bool truncated);

/* Each sample not freed nor found dead: its address, its bytes (0 for a
 * typed sample) and its site. */
typedef void (*sites_each_fn)(void *ctx, uint64_t addr, uint64_t bytes, const struct sites_site *site);
void sites_each_live(const struct sites *s, sites_each_fn fn, void *ctx);

/* The live byte samples of one (type, site): what they stand for. */
struct sites_live {
	uint64_t type;			/* as type_of() gave it */
	const struct sites_site *site;	/* its stack; valid until sites_free() */
	uint64_t samples;
	double bytes, objects;		/* estimates: each sample weighted as below */
};

/* Which type the live block at addr is now; 0 leaves the sample out. */
typedef uint64_t (*sites_type_fn)(void *ctx, uint64_t addr);

/*
 * The live byte samples grouped by (type, site), largest estimated bytes
 * first, into out[0..cap). With a mean interval of `mean` bytes a block of
 * s bytes was sampled with probability p = 1 - exp(-s / mean), so each
 * live sample stands for 1 / p blocks and s / p bytes (unbiased, as heap
 * profilers weight). Returns how many were written, or -ENOMEM/-EINVAL.
 */
long sites_live_by_type(const struct sites *s, uint64_t mean, sites_type_fn type_of, void *ctx,
			 struct sites_live *out, size_t cap);

/* An object released while the window is open (a free probe hit). */
void sites_freed(struct sites *s, uint64_t addr);

/* Is the object at addr still alive with type `type`? 1 yes, 0 no, <0 error. */
typedef int (*sites_alive_fn)(void *ctx, uint64_t addr, uint64_t type);

/*
 * The survival check: every sampled object not freed is asked about once;
 * survivors are counted per site. An error other than "not alive" from the
 * callback stops the check and is returned (-ESRCH: the target is gone).
 * Returns the number of survivors.
 */
long sites_check(struct sites *s, sites_alive_fn alive, void *ctx);

/*
 * The sites with at least one survivor, most surviving first (then most
 * sampled), into out[0..cap). If type is non-zero, only that type's sites.
 * Returns how many were written. Pointers stay valid until sites_free().
 */
size_t sites_ranked(const struct sites *s, uint64_t type, struct sites_site *out, size_t cap);

/* A ranked site as the summary carries it (summary.h), for the type named
 * type: frames (LEAKD_MAX_PYFRAMES of room) point into the site's, which
 * must outlive *out. Here rather than in the report writer: the stages
 * that rank sites fill the summary, the writer only prints it. */
void sites_report_site(struct report_site *out, struct report_frame *frames, const struct sites_site *s,
		       const char *type);

void sites_stats(const struct sites *s, struct sites_stats *out);

/*
 * The liveness check over a target's memory: alive when the object's
 * reference count (its low 32 bits) is not zero and its type is still `type`. A freed block
 * keeps neither for long (its refcount is 0 when it is released, and the
 * allocator reuses the block), and frees seen during the window catch the
 * rest. Returns 1, 0, or the reader's -ESRCH/-EPERM.
 */
int sites_alive(const struct memreader *m, const struct pylayout *l, uint64_t addr, uint64_t type);

#endif /* LEAKD_SITES_H */
