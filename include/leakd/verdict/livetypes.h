/* SPDX-License-Identifier: MIT */
/*
 * livetypes: the names of the live table's types, in trace mode.
 *
 * The allocation probes report raw blocks; agg keeps them keyed by address
 * with a type that is learnt later (agg_resolve_types). This module is that
 * resolver and the namer of what it found: it reads a block's header in the
 * target, and caches each type object it meets (its name, and the
 * pre-header size its instances have: GC head, managed dict) once per
 * target, so the live table's rows and the byte samples grouped by type
 * use the same names. It lives below the stages that name types (the
 * summary's live_types, sites' byte samples) so each reaches it directly.
 *
 * Everything read is untrusted: a candidate type is checked (its own type
 * is a known type) before it is named, and only real types are cached, in
 * a bounded table (LIVETYPES_MAX).
 */
#ifndef LEAKD_LIVETYPES_H
#define LEAKD_LIVETYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/base/hashmap.h"
#include "leakd/python/pylayout.h"
#include "leakd/summary.h"
#include "leakd/process/memreader.h"

#define LIVETYPES_MAX 2048	/* distinct type objects named per target */

/* A type object seen in the target. */
struct livetypes_entry {
	uint64_t addr;			/* the hashmap key: the type object */
	uint8_t presize;		/* bytes before its instances' object header */
	char name[REPORT_TYPE_NAME_MAX];
};

struct livetypes {
	struct memreader rd;
	const struct pylayout *layout;
	struct hashmap types;		/* of struct livetypes_entry, reserved whole: names never move */
};

/* Starts naming types read through rd with layout l (both must outlive lt).
 * Returns 0 or -ENOMEM. */
int livetypes_start(struct livetypes *lt, const struct memreader *rd, const struct pylayout *l);
/* Frees the cache; lt may be zeroed or NULL. */
void livetypes_release(struct livetypes *lt);

/* Whether livetypes_start() succeeded. */
static inline bool livetypes_started(const struct livetypes *lt)
{
	return lt && lt->types.slots;
}

/* The type object a live block of the target holds, 0 when none
 * (agg_type_resolver; ctx is the struct livetypes). */
uint64_t livetypes_resolve_block(void *ctx, uint64_t addr, uint64_t size);

/* The name of a type the live table holds (a type object address, or
 * AGG_TYPE_BUFFER: "(buffer)"); NULL when it is not a type leakd can name
 * (or lt is not started). */
const char *livetypes_name(struct livetypes *lt, uint64_t type);

#endif /* LEAKD_LIVETYPES_H */
