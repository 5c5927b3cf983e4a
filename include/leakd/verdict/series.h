/* SPDX-License-Identifier: MIT */
/*
 * series: the bounded sample series of one process, what the detector (via
 * verdict) judges. In every mode the session and the daemon append one
 * series_point per sample (live objects, bytes, fds, rss) and, after each
 * census, the per-type counts.
 *
 * Memory stays bounded for a process that runs for months: a series that
 * reaches its cap is halved by merging neighbour pairs, keeping the MINIMUM
 * of each field and the earlier t. Minima because the detector looks at
 * floors: an average would lift the floor of a sawtooth and could hide a
 * slow leak or fake one. The number of distinct types is bounded too; types
 * that arrive once the table is full fold into "(other)", unless one grows
 * past twice the most a named type ever held, which then gives up its slot.
 *
 * Not thread-safe: one consumer thread owns a series.
 */
#ifndef LEAKD_SERIES_H
#define LEAKD_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "leakd/summary.h"

#define SERIES_DEFAULT_CAP	4096u
#define SERIES_DEFAULT_TYPE_CAP	512u
#define SERIES_OTHER_TYPE	"(other)"

/* One sample of the process. t in seconds on any monotonic clock; a field
 * that is unknown for this sample is NaN (the detector skips it). */
struct series_point {
	double t;
	double objects;
	double bytes;
	double fds;
	double rss;
	double native;	/* anonymous RSS not explained by Python objects: rss_anon - bytes */
};

/* One census point of one type. */
struct series_type_point {
	double t;
	double objects;
	double bytes;
	double settled;	/* objects past the young generations (series_add_type_counts) */
};

/* Read-only view of one tracked type; pointers valid until the next series__ call
 * that modifies the series. */
struct series_type_info {
	const char *name;
	uint64_t last_objects;		/* at the last census that ran */
	uint64_t last_bytes;
	const struct series_type_point *pts;
	size_t n;
};

struct series;

/* At most cap points per series (>= 4; 0: the default) and type_cap named
 * types (0: the default). Returns 0, -EINVAL (cap < 4, a huge type_cap,
 * NULL out) or -ENOMEM. */
int series_new(size_t cap, size_t type_cap, struct series **out);
void series_free(struct series *s);

void series_add_point(struct series *s, const struct series_point *p);
/* The process series; returns its length and sets *pts (NULL if empty). */
size_t series_points(const struct series *s, const struct series_point **pts);

/*
 * One census: n types with their live object and byte counts (bytes may be
 * NULL) and, of the objects, those that are settled (settled may be NULL: all
 * are): not in the GC's young generations, where garbage waits for the next
 * young collection and traffic passes through. Pass every type the census
 * saw, not only a top-N: a known type that is absent from a call gets a 0
 * point. Types in this census's top type_cap
 * by objects get their own series while slots remain, or else the slot of
 * the named type that never held half as many (the least ever first; not one
 * counted or named in this call, and its history goes); the rest are summed
 * into "(other)". Names longer than REPORT_TYPE_NAME_MAX-1 are truncated.
 * Returns 0 or -ENOMEM (the census is then partly recorded).
 */
int series_add_type_counts(struct series *s, double t, const char *const *names,
			     const uint64_t *objects, const uint64_t *bytes, const uint64_t *settled, size_t n);

/* Censuses (series_add_type_counts() calls) that folded a type into
 * "(other)" because the table was full: leakd_cap_hits_total{cap="types"}. */
uint64_t series_folds(const struct series *s);

/* Tracked types, "(other)" included once it exists, in first-seen order. */
size_t series_n_types(const struct series *s);
/* Returns 0, or -ENOENT if i is out of range (out untouched). */
int series_type(const struct series *s, size_t i, struct series_type_info *out);

#endif /* LEAKD_SERIES_H */
