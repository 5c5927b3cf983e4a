/* SPDX-License-Identifier: MIT */
/*
 * holdsched: the daemon's holder searches (holders.h), when and what they
 * leave behind. Pure: the daemon asks, does the I/O, and reports back.
 *
 * A search needs the tracked objects' addresses from a census
 * (census_limits.keep_tracked: 8 bytes per tracked object), which the daemon
 * does not keep for hundreds of processes. When a flagged process is due, the
 * search is armed: its next two censuses keep them (the search samples first
 * the instances the second one added: what leaks now), the search runs right
 * after the second with the process running, and the addresses are freed. At most
 * one search per process per period; period 0 means none.
 *
 * What a search leaves is a few (type, path) rows for the journal and
 * leakd_leak_holder_info: the top path of every type searched first, in the
 * order of the types (the verdict's, strongest leak first), then the second
 * paths, and so on, at most HOLDSCHED_ROWS. Row 0 is the top path of the top
 * type that has one: the journal's LEAKD_HOLDER=.
 */
#ifndef LEAKD_HOLDSCHED_H
#define LEAKD_HOLDSCHED_H

#include <stdbool.h>
#include <stddef.h>

#include "leakd/holders/holders.h"

#define HOLDSCHED_ROWS 5	/* metric series per process, at most */

struct holdsched {
	double last;		/* when the last search ran */
	bool searched;		/* one has run */
	bool armed;		/* the next censuses keep the tracked objects for a search */
};

struct holdsched_row {
	char type[HOLDERS_NAME_MAX];	/* raw: escape to print */
	char holder[HOLDERS_TEXT_MAX];	/* the path's text */
};

/* Whether to arm a search at now: the process is flagged (leak), searches
 * are on (period > 0), none is armed, and none ran within the period. */
bool holdsched_due(const struct holdsched *s, double period, bool leak, double now);

/* A search is armed (the next censuses keep the tracked objects). */
void holdsched_arm(struct holdsched *s);

/* The armed search ran (or failed: it is not retried before the period). */
void holdsched_ran(struct holdsched *s, double now);

/* The process is no longer flagged: an armed search is not needed. */
void holdsched_disarm(struct holdsched *s);

/* Fills rows (at most max, at most HOLDSCHED_ROWS) from a search's result
 * as above; identical (type, path) pairs once. Returns the count. */
size_t holdsched_rows(const struct holders_result *r, struct holdsched_row *rows, size_t max);

#endif /* LEAKD_HOLDSCHED_H */
