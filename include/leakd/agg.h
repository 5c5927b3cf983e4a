/* SPDX-License-Identifier: MIT */
/*
 * agg: everything leakd remembers about one traced process.
 *
 * Two feeds meet here. In trace mode the event consumer hands over every
 * alloc/free/GC event; agg keeps a live table (address -> size, birth time,
 * birth GC epoch), the live totals and a size-class histogram of the live
 * entries, all maintained incrementally so a sample costs O(1). In every mode
 * the daemon appends one agg_point per sample (live objects, bytes, fds, rss)
 * and, after each census, the per-type counts. Those series are what the
 * detector (via verdict) judges.
 *
 * Memory stays bounded for a process that runs for months: the live table
 * stops inserting at live_cap (counted in live_cap_hits), and a series that
 * reaches series_cap is halved by merging neighbour pairs, keeping the
 * MINIMUM of each field and the earlier t. Minima because the detector looks
 * at floors: an average would lift the floor of a sawtooth and could hide a
 * slow leak or fake one. The number of distinct types is bounded too; types
 * that arrive once the table is full fold into "(other)".
 *
 * Not thread-safe: one consumer thread owns an agg.
 */
#ifndef LEAKD_AGG_H
#define LEAKD_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/report.h"

#define AGG_DEFAULT_LIVE_CAP	(4u * 1024u * 1024u)
#define AGG_DEFAULT_SERIES_CAP	4096u
#define AGG_DEFAULT_TYPE_CAP	512u
#define AGG_OTHER_TYPE		"(other)"

/* Size classes: pymalloc's 16..512 step 16 (32 classes), then powers of two
 * 1 KiB .. 1 GiB (21 classes); the last one is open-ended. */
#define AGG_N_SIZE_CLASSES	53

/* Zero fields mean "default". Pass NULL for all defaults. */
struct agg_limits {
	size_t live_cap;	/* max live-table entries (default 4M) */
	size_t series_cap;	/* max points per series, >= 4 (default 4096) */
	size_t type_cap;	/* max distinct named types (default 512), "(other)" excluded */
};

/* One sample of the process. t in seconds on any monotonic clock; a field
 * that is unknown for this sample is NaN (the detector skips it). */
struct agg_point {
	double t;
	double objects;
	double bytes;
	double fds;
	double rss;
	double native;	/* anonymous RSS not explained by Python objects: rss_anon - bytes */
};

/* One census point of one type. */
struct agg_type_point {
	double t;
	double objects;
	double bytes;
};

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

/* Read-only view of one tracked type; pointers valid until the next agg__ call
 * that modifies the agg. */
struct agg_type_info {
	const char *name;
	uint64_t last_objects;		/* at the last census that ran */
	uint64_t last_bytes;
	const struct agg_type_point *pts;
	size_t n;
};

struct agg;

/* Returns NULL and sets errno (ENOMEM, EINVAL) on failure. */
struct agg *agg__new(const struct agg_limits *lim);
void agg__free(struct agg *a);

/* ---- trace-mode feed (ts_ns: CLOCK_MONOTONIC of the event) ---- */

/* addr 0 is ignored. An address already live is replaced (counted in replaced). */
void agg__alloc(struct agg *a, uint64_t ts_ns, uint64_t addr, uint64_t size, uint64_t type_addr);
/* Unknown address: counted as frees_unmatched, otherwise a no-op. */
void agg__free_addr(struct agg *a, uint64_t ts_ns, uint64_t addr);
/* A collection finished: bumps the GC epoch. gen < 0 is counted in no generation. */
void agg__gc_done(struct agg *a, uint64_t ts_ns, int gen, uint64_t collected);

void agg__stats(const struct agg *a, struct agg_stats *out);

/* True if addr is a live entry of the table. */
bool agg__is_live(const struct agg *a, uint64_t addr);

/* ---- types of live allocations (trace mode) ---- */

/* A live block that holds no object (a list's item array, a dict's keys). */
#define AGG_TYPE_BUFFER 1ull

/* Records the type object of the live entry at addr; false if not live. */
bool agg__set_type(struct agg *a, uint64_t addr, uint64_t type);

/* Returns the type object of the block at addr of size bytes, or 0 if it
 * holds none (the entry is then marked AGG_TYPE_BUFFER). */
typedef uint64_t (*agg_type_resolver)(void *ctx, uint64_t addr, uint64_t size);

/* Asks resolve about at most max live entries whose type is still unknown;
 * returns how many it asked about. */
size_t agg__resolve_types(struct agg *a, agg_type_resolver resolve, void *ctx, size_t max);

struct agg_type_total {
	uint64_t type;		/* type object, AGG_TYPE_BUFFER, or 0 (unknown) */
	uint64_t objects;
	uint64_t bytes;
};

/* Live entries by type, largest bytes first; returns how many were written. */
size_t agg__live_by_type(const struct agg *a, struct agg_type_total *out, size_t max);

/* Size class index (0..AGG_N_SIZE_CLASSES-1) and its upper bound in bytes. */
unsigned agg_size_class(uint64_t size);
uint64_t agg_size_class_bound(unsigned cls);

/* Fills rows with the non-empty classes in ascending size; returns how many
 * were written (at most max). */
size_t agg__size_classes(const struct agg *a, struct report_size_row *rows, size_t max);

/* Number of live entries born at GC epoch < epoch (survived at least one
 * collection since), for "age in GCs survived" views. O(live). */
uint64_t agg__live_older_than(const struct agg *a, uint64_t epoch);

/* ---- series ---- */

void agg__add_point(struct agg *a, const struct agg_point *p);
/* The process series; returns its length and sets *pts (NULL if empty). */
size_t agg__points(const struct agg *a, const struct agg_point **pts);

/*
 * One census: n types with their live object and byte counts (bytes may be
 * NULL). Pass every type the census saw, not only a top-N: a known type that
 * is absent from a call gets a 0 point. Types in this census's top type_cap
 * by objects get their own series while slots remain; the rest are summed
 * into "(other)". Names longer than REPORT_TYPE_NAME_MAX-1 are truncated.
 * Returns 0 or -ENOMEM (the census is then partly recorded).
 */
int agg__add_type_counts(struct agg *a, double t, const char *const *names,
			 const uint64_t *objects, const uint64_t *bytes, size_t n);

/* Tracked types, "(other)" included once it exists, in first-seen order. */
size_t agg__n_types(const struct agg *a);
/* Returns 0, or -ENOENT if i is out of range (out untouched). */
int agg__type(const struct agg *a, size_t i, struct agg_type_info *out);

#endif /* LEAKD_AGG_H */
