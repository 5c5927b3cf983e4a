/* SPDX-License-Identifier: MIT */
/*
 * contrack: which of the largest containers keeps growing.
 *
 * A leak into one list or dict shows as one object whose count never
 * changes; what changes is its length. Each census names its largest
 * containers (heapwalk.h); this keeps them by address and type across
 * censuses (a freed and reused address changes one or both), with their
 * length when first and last seen, so the reason can say "list (1 object)
 * +999 items/s, holding tuple". Pure: names come from a callback.
 */
#ifndef LEAKD_CONTRACK_H
#define LEAKD_CONTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/census/heapwalk.h"
#include "leakd/summary.h"
#include "leakd/verdict/verdict.h"

#define CONTRACK_SLOTS (2 * HEAPWALK_TOP_CONTAINERS)

struct contrack_entry {
	uint64_t addr, type;
	double t0, t1;			/* first and last census that saw it */
	uint64_t items0, items1;
	char name[REPORT_TYPE_NAME_MAX];
	char held[HEAPWALK_HELD_TYPES][REPORT_TYPE_NAME_MAX];
	bool seen_now;			/* in the latest census */
};

struct contrack {
	struct contrack_entry e[CONTRACK_SLOTS];
	size_t n;
};

/* Writes the name of the type object at type into buf; returns > 0 on success. */
typedef int (*contrack_namer)(void *ctx, uint64_t type, char *buf, size_t len);

/* One census's largest containers at time now. A container seen for the
 * first time takes a free slot or the slot of one that is gone. */
void contrack_update(struct contrack *ct, const struct heapwalk_container *c, size_t n, double now,
		     contrack_namer name, void *ctx);

/* The containers in the latest census that grew since they were first seen
 * (at least 1 s apart), as verdict_add_containers() takes them; the
 * strings point into ct. Returns how many (<= max). */
size_t contrack_growing(const struct contrack *ct, struct verdict_container *out, size_t max);

#endif /* LEAKD_CONTRACK_H */
