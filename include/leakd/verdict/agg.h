/* SPDX-License-Identifier: MIT */
/*
 * agg: the live table of one process traced in trace mode.
 *
 * The event consumer hands over every alloc/free/GC event; agg keeps a live
 * table (address -> size, birth time, birth GC epoch, type), the live totals
 * and a size-class histogram of the live entries, all maintained
 * incrementally so a sample costs O(1). The samples and census counts that
 * the detector judges are series.h's.
 *
 * Memory stays bounded for a process that runs for months: the live table
 * stops inserting at live_cap (counted in live_cap_hits).
 *
 * Not thread-safe: one consumer thread owns an agg.
 */
#ifndef LEAKD_AGG_H
#define LEAKD_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/base/sizeclass.h"
#include "leakd/summary.h"

#define AGG_DEFAULT_LIVE_CAP	(4u * 1024u * 1024u)


struct agg_stats {
	uint64_t allocs;
	uint64_t frees;			/* matched frees */
	uint64_t frees_unmatched;	/* free of an address not in the live table */
	uint64_t replaced;		/* alloc of an address already live */
	uint64_t live_objects;
	uint64_t live_bytes;
	uint64_t live_cap_hits;		/* allocs not tracked because the table was full */
	uint64_t gc_epoch;		/* completed collections, all generations */
	uint64_t gc_collections[3];	/* per generation (gen > 2 counted as 2) */
	uint64_t gc_collected;
	uint64_t first_ts_ns, last_ts_ns;	/* of events seen, 0 if none */
};

struct agg;

/* The live table stops inserting at live_cap entries (0: the default).
 * Returns 0 or -EINVAL (NULL out), -ENOMEM. */
int agg_new(size_t live_cap, struct agg **out);
void agg_free(struct agg *a);

/* ---- trace-mode feed (ts_ns: CLOCK_MONOTONIC of the event) ---- */

/* addr 0 is ignored. An address already live is replaced (counted in replaced). */
void agg_alloc(struct agg *a, uint64_t ts_ns, uint64_t addr, uint64_t size, uint64_t type_addr);
/* Unknown address: counted as frees_unmatched, otherwise a no-op. */
void agg_free_addr(struct agg *a, uint64_t ts_ns, uint64_t addr);
/* A collection finished: bumps the GC epoch. gen < 0 is counted in no generation. */
void agg_gc_done(struct agg *a, uint64_t ts_ns, int gen, uint64_t collected);

void agg_stats(const struct agg *a, struct agg_stats *out);

/* True if addr is a live entry of the table. */
bool agg_is_live(const struct agg *a, uint64_t addr);

/* ---- types of live allocations (trace mode) ---- */

/* A live block that holds no object (a list's item array, a dict's keys). */
#define AGG_TYPE_BUFFER 1ull

/* Records the type object of the live entry at addr; false if not live. */
bool agg_set_type(struct agg *a, uint64_t addr, uint64_t type);
/* The live entry's type: a type object, AGG_TYPE_BUFFER, or 0 (not live, or
 * not typed yet). */
uint64_t agg_type_of(const struct agg *a, uint64_t addr);

/* Returns the type object of the block at addr of size bytes, or 0 if it
 * holds none (the entry is then marked AGG_TYPE_BUFFER). */
typedef uint64_t (*agg_type_resolver)(void *ctx, uint64_t addr, uint64_t size);

/* Asks resolve about at most max live entries whose type is still unknown;
 * returns how many it asked about. */
size_t agg_resolve_types(struct agg *a, agg_type_resolver resolve, void *ctx, size_t max);

struct agg_type_total {
	uint64_t type;		/* type object, AGG_TYPE_BUFFER, or 0 (unknown) */
	uint64_t objects;
	uint64_t bytes;
};

/* Live entries by type, largest bytes first; returns how many were written. */
size_t agg_live_by_type(const struct agg *a, struct agg_type_total *out, size_t max);


/* Fills rows with the non-empty classes in ascending size; returns how many
 * were written (at most max). */
size_t agg_size_classes(const struct agg *a, struct report_size_row *rows, size_t max);

/* Number of live entries born at GC epoch < epoch (survived at least one
 * collection since), for "age in GCs survived" views. O(live). */
uint64_t agg_live_older_than(const struct agg *a, uint64_t epoch);

#endif /* LEAKD_AGG_H */
