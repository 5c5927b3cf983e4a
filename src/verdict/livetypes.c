// SPDX-License-Identifier: MIT
/*
 * livetypes: the live table's types, read from the target and named once
 * (see livetypes.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "leakd/python/pyname.h"
#include "leakd/verdict/agg.h"
#include "leakd/verdict/livetypes.h"

int livetypes_start(struct livetypes *lt, const struct memreader *rd, const struct pylayout *l)
{
	int err;

	if (lt->types.slots)
		return 0;
	/* Reserved whole: an insert never moves the entries, so a name handed
	 * out stays valid for the target's life. */
	err = hashmap_init(&lt->types, sizeof(struct livetypes_entry), LIVETYPES_MAX) ?:
	      hashmap_reserve(&lt->types, LIVETYPES_MAX);
	if (err) {
		hashmap_fini(&lt->types);
		return err == -ENOSPC ? -ENOMEM : err;
	}
	lt->rd = *rd;
	lt->layout = l;
	return 0;
}

void livetypes_release(struct livetypes *lt)
{
	if (lt)
		hashmap_fini(&lt->types);
}

/* The type object at t, named and checked once per target. NULL when the
 * cache is full or t is not a type. */
static const struct livetypes_entry *lookup(struct livetypes *lt, uint64_t t)
{
	struct livetypes_entry e = { .addr = t }, *slot = hashmap_get(&lt->types, t);
	uint64_t flags;

	if (slot)
		return slot;
	/* Cheap rejection first: a type's own type is a known type (or itself,
	 * for `type`); random words read from a buffer rarely pass. */
	if (memreader_read_u64(&lt->rd, t + 8, &flags) || (flags != t && !hashmap_get(&lt->types, flags)))
		return NULL;
	/* Only real types are cached: candidates read from buffers are mostly
	 * garbage, and remembering them would crowd the real ones out. */
	if (pyname_type(&lt->rd, lt->layout, t, e.name, sizeof(e.name)) <= 0 ||
	    memreader_read_u64(&lt->rd, t + lt->layout->tp_flags, &flags))
		return NULL;
	e.presize = (flags & PYLAYOUT_TPFLAGS_HAVE_GC ? lt->layout->gc_head_size : 0) +
		    (flags & lt->layout->preheader_flags ? 16 : 0);
	if (hashmap_put(&lt->types, t, (void **)&slot) < 0)
		return NULL;	/* full */
	*slot = e;
	return slot;
}

/* What object a live block holds: the allocator returns the block, and the
 * object starts after its pre-header (0, 16 or 32 bytes), so try each and
 * keep the one whose type agrees with that pre-header size. */
uint64_t livetypes_resolve_block(void *ctx, uint64_t addr, uint64_t size)
{
	struct livetypes *lt = ctx;

	for (uint64_t off = 0; livetypes_started(lt) && off <= 32; off += 16) {
		const struct livetypes_entry *ty;
		uint64_t hdr[2];

		if (size < off + sizeof(hdr) || memreader_read(&lt->rd, addr + off, hdr, sizeof(hdr)))
			break;
		/* ob_refcnt of a live object: positive, and not a pointer */
		if (!hdr[0] || hdr[0] >> 40 || (hdr[1] & 7) || hdr[1] < 4096)
			continue;
		ty = lookup(lt, hdr[1]);
		if (ty && ty->presize == off)
			return hdr[1];
	}
	return 0;
}

const char *livetypes_name(struct livetypes *lt, uint64_t type)
{
	const struct livetypes_entry *ty;

	if (type == AGG_TYPE_BUFFER)
		return "(buffer)";
	ty = type > AGG_TYPE_BUFFER && livetypes_started(lt) ? lookup(lt, type) : NULL;
	return ty ? ty->name : NULL;
}
