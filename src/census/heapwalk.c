// SPDX-License-Identifier: MIT
/*
 * heapwalk: counting what the GC's lists do not hold (see heapwalk.h).
 *
 * Cost model: one bounded read per referent (the GC head before it and the
 * object's first 40 bytes, which hold its type, size field and, for str,
 * its length and kind), served mostly by the remote reader's block cache
 * since containers tend to sit near what they hold; item arrays and hash
 * tables are read in chunks. A referent already counted costs one bitmap
 * probe and no read at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/addrset.h"
#include "leakd/base/grow.h"
#include "leakd/census/heapwalk.h"
#include "leakd/python/pyrefs.h"

#define HDR_BEFORE 16			/* the GC head, read with the object */
#define OBJ_BYTES 40			/* ob_refcnt .. str state */
#define TOP_MIN_ITEMS 64		/* smaller containers are not remembered */

struct pending {
	uint64_t addr, type;
	int64_t ob_size;
};

struct heapwalk {
	const struct memreader *m;
	const struct pylayout *l;
	struct typetab *tt;
	struct heapwalk_limits lim;
	struct addrset *seen;
	struct pending *stack;
	size_t sp, stack_cap;
	struct heapwalk_stats st;
	struct heapwalk_container top[HEAPWALK_TOP_CONTAINERS];
	size_t ntop;
	/* Referent types of the container being decoded (direct referents only:
	 * nested containers are decoded after it, from the stack). */
	bool counting_held;
	uint64_t held_type[4], held_count[4];
	uint64_t items;			/* of the container being decoded */
};

static void hw_partial(struct heapwalk *hw, const char *why)
{
	if (!hw->st.partial)
		snprintf(hw->st.partial_reason, sizeof(hw->st.partial_reason), "%s", why);
	hw->st.partial = true;
}

int heapwalk_new(const struct memreader *m, const struct pylayout *l, struct typetab *tt,
		  const struct heapwalk_limits *lim, struct heapwalk **out)
{
	struct heapwalk *hw = calloc(1, sizeof(*hw));
	int err;

	if (!hw)
		return -ENOMEM;
	hw->m = m;
	hw->l = l;
	hw->tt = tt;
	if (lim)
		hw->lim = *lim;
	if (!hw->lim.max_objects)
		hw->lim.max_objects = HEAPWALK_DEFAULT_MAX_OBJECTS;
	if (!hw->lim.max_stack)
		hw->lim.max_stack = HEAPWALK_DEFAULT_MAX_STACK;
	err = addrset_new(hw->lim.max_set_bytes, &hw->seen);
	if (err) {
		free(hw);
		return err;
	}
	*out = hw;
	return 0;
}

void heapwalk_free(struct heapwalk *hw)
{
	if (!hw)
		return;
	addrset_free(hw->seen);
	free(hw->stack);
	free(hw);
}

static int hw_push(struct heapwalk *hw, uint64_t addr, uint64_t type, int64_t ob_size)
{
	int r = grow_room((void **)&hw->stack, hw->sp, &hw->stack_cap, sizeof(*hw->stack), 4096,
			  hw->lim.max_stack);

	if (r < 0)
		return r;
	if (r > 0) {
		hw_partial(hw, "untracked containers nested deeper than the walk's stack");
		return 0;
	}
	hw->stack[hw->sp++] = (struct pending){ addr, type, ob_size };
	return 0;
}

static void hw_note_held(struct heapwalk *hw, uint64_t type)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (hw->held_type[i] == type) {
			hw->held_count[i]++;
			return;
		}
		if (!hw->held_type[i]) {
			hw->held_type[i] = type;
			hw->held_count[i] = 1;
			return;
		}
	}
}

/* The size of an untracked object from its first OBJ_BYTES bytes. */
static uint64_t hw_shallow_size(const struct heapwalk *hw, const struct typetab_entry *t, const unsigned char *o)
{
	const struct pylayout *l = hw->l;
	uint64_t size = t->basicsize, v;
	int64_t n;

	memcpy(&n, o + l->ob_size, 8);
	switch (t->kind) {
	case PYK_STR: {
		uint32_t state;

		memcpy(&v, o + l->str_length, 8);
		memcpy(&state, o + l->str_state, 4);
		if (v > PYREFS_MAX_ITEMS || !((state >> 5) & 1))	/* legacy or subclass: not compact */
			break;
		if ((state >> 6) & 1)
			size = l->str_ascii_data + v + 1;
		else
			size = l->str_compact_data + (v + 1) * ((state >> 2) & 7);
		break;
	}
	case PYK_INT:
		if (l->int_lv_tag) {
			v = (uint64_t)n >> 3;	/* lv_tag: digits << 3 | sign */
			size += (v ? (v > PYREFS_MAX_ITEMS ? 0 : v) : 1) * t->itemsize;
		} else {
			size += pyrefs_items(n) * t->itemsize;
		}
		break;
	case PYK_BYTEARRAY:
		memcpy(&v, o + l->bytearray_alloc, 8);
		size += v <= (1ull << 40) ? v : 0;
		break;
	default:
		size += pyrefs_items(n) * t->itemsize;
		break;
	}
	if (t->flags & PYLAYOUT_TPFLAGS_HAVE_GC)
		size += l->gc_head_size;
	if (t->flags & l->preheader_flags)
		size += 16;
	return size;
}

static bool hw_is_container(const struct typetab_entry *t)
{
	switch (t->kind) {
	case PYK_STR: case PYK_BYTES: case PYK_BYTEARRAY: case PYK_INT: case PYK_FLOAT:
		return (t->flags & PYLAYOUT_TPFLAGS_HEAPTYPE) != 0;	/* subclass instances may have attributes */
	case PYK_OTHER: case PYK_WEAKREF:
		return (t->flags & PYLAYOUT_TPFLAGS_HEAPTYPE) != 0;
	default:
		return true;
	}
}

/*
 * One referent. Counts it once if it is untracked and queues it when it can
 * hold more. Returns 0, or a hard -errno.
 */
static int hw_ref(struct heapwalk *hw, uint64_t p)
{
	const struct pylayout *l = hw->l;
	unsigned char b[HDR_BEFORE + OBJ_BYTES];
	const unsigned char *o = b + HDR_BEFORE;
	struct typetab_entry *t;
	uint64_t refcnt, type, gc_next, size;
	bool have_head = true;
	int64_t ob_size;
	int r;

	if (!p)
		return 0;
	hw->st.refs++;
	if (!memreader_ptr_ok(p)) {
		hw->st.rejected++;
		return 0;
	}
	if (addrset_has(hw->seen, p))
		return 0;
	r = memreader_read(hw->m, p - HDR_BEFORE, b, sizeof(b));
	if (r == -EFAULT) {	/* first object of a mapping, or a short one at its end */
		have_head = false;
		memset(b, 0, sizeof(b));
		r = memreader_read(hw->m, p, b + HDR_BEFORE, 24);
	}
	if (r == -EFAULT) {
		hw->st.rejected++;
		return 0;
	}
	if (r < 0)
		return r;
	memcpy(&refcnt, o, 8);
	memcpy(&type, o + l->ob_type, 8);
	memcpy(&ob_size, o + l->ob_size, 8);
	if (!refcnt || !type) {	/* freed, or not yet an object */
		hw->st.rejected++;
		return 0;
	}
	t = typetab_get(hw->tt, type, &r);
	if (r < 0)
		return r;
	if (!t || !t->valid) {
		if (!t)
			hw_partial(hw, "more distinct types than the type table holds");
		else
			hw->st.rejected++;
		return 0;
	}
	if (hw->counting_held)
		hw_note_held(hw, type);
	memcpy(&gc_next, b, 8);
	if ((t->flags & PYLAYOUT_TPFLAGS_HAVE_GC) && have_head && gc_next)
		return 0;	/* tracked: the list walk counts it and visits it */
	if (hw->st.objects >= hw->lim.max_objects) {
		hw_partial(hw, "more untracked objects than the walk's limit");
		return 0;
	}
	r = addrset_add(hw->seen, p);
	if (r == -ENOSPC) {
		hw_partial(hw, "the dedup set reached its memory limit");
		return 0;
	}
	if (r <= 0)
		return r;
	size = hw_shallow_size(hw, t, o);
	t->objects++;
	t->bytes += size;
	hw->st.objects++;
	hw->st.bytes += size;
	return hw_is_container(t) ? hw_push(hw, p, type, ob_size) : 0;
}

static void hw_offer_container(struct heapwalk *hw, uint64_t obj, uint64_t type, uint64_t own_bytes)
{
	struct heapwalk_container c = { .addr = obj, .type = type, .items = hw->items, .bytes = own_bytes };
	size_t i;

	if (hw->items < TOP_MIN_ITEMS)
		return;
	if (hw->ntop == HEAPWALK_TOP_CONTAINERS && hw->top[hw->ntop - 1].items >= c.items)
		return;
	/* the most common referent types first */
	for (int k = 0; k < HEAPWALK_HELD_TYPES; k++) {
		int best = -1;

		for (int j = 0; j < 4; j++)
			if (hw->held_type[j] && (best < 0 || hw->held_count[j] > hw->held_count[best]))
				best = j;
		if (best < 0)
			break;
		c.held_type[k] = hw->held_type[best];
		c.held_count[k] = hw->held_count[best];
		hw->held_type[best] = 0;
	}
	if (hw->ntop < HEAPWALK_TOP_CONTAINERS)
		hw->ntop++;
	for (i = hw->ntop - 1; i > 0 && hw->top[i - 1].items < c.items; i--)
		hw->top[i] = hw->top[i - 1];
	hw->top[i] = c;
}

static int hw_sink_ref(void *ctx, uint64_t p)
{
	return hw_ref(ctx, p);
}

static int hw_sink_first(void *ctx, uint64_t addr)
{
	struct heapwalk *hw = ctx;
	int r = addrset_add(hw->seen, addr);

	if (r == -ENOSPC) {
		hw_partial(hw, "the dedup set reached its memory limit");
		return 0;
	}
	return r;
}

/* Decodes one object's referents (and remembers it if it is a large
 * container); returns the bytes it owns beyond its shallow size, or a hard
 * -errno. */
static int64_t hw_decode(struct heapwalk *hw, uint64_t obj, const struct typetab_entry *t, int64_t ob_size)
{
	struct pyrefs_sink s = { .ref = hw_sink_ref, .first = hw_sink_first, .ctx = hw };
	int64_t bytes;

	hw->counting_held = true;
	memset(hw->held_type, 0, sizeof(hw->held_type));
	bytes = pyrefs_decode(hw->m, hw->l, obj, t, ob_size, &s);
	hw->counting_held = false;
	hw->st.rejected += s.rejected;
	if (bytes < 0)
		return bytes;
	hw->items = s.items;
	if (t->kind == PYK_LIST || t->kind == PYK_DICT || t->kind == PYK_SET || t->kind == PYK_DEQUE ||
	    t->kind == PYK_TUPLE)
		hw_offer_container(hw, obj, t->addr, t->basicsize + (uint64_t)bytes);
	return bytes;
}

/* Decodes the queued untracked containers. */
static int hw_drain(struct heapwalk *hw)
{
	while (hw->sp) {
		struct pending pd = hw->stack[--hw->sp];
		struct typetab_entry *t;
		int64_t extra;
		int err;

		t = typetab_get(hw->tt, pd.type, &err);
		if (!t)
			continue;
		extra = hw_decode(hw, pd.addr, t, pd.ob_size);
		if (extra < 0)
			return (int)extra;
		t->bytes += (uint64_t)extra;
		hw->st.bytes += (uint64_t)extra;
	}
	return 0;
}

int64_t heapwalk_visit(struct heapwalk *hw, uint64_t obj, struct typetab_entry *t, int64_t ob_size)
{
	int64_t extra;
	int r;

	if (!hw || !t || !t->valid)
		return -EINVAL;
	extra = hw_decode(hw, obj, t, ob_size);
	if (extra < 0)
		return extra;
	r = hw_drain(hw);
	return r < 0 ? r : extra;
}

void heapwalk_stats(const struct heapwalk *hw, struct heapwalk_stats *out)
{
	*out = hw->st;
	out->set_bytes = addrset_bytes(hw->seen);
}

size_t heapwalk_containers(const struct heapwalk *hw, struct heapwalk_container *out, size_t max)
{
	size_t n = hw->ntop < max ? hw->ntop : max;

	memcpy(out, hw->top, n * sizeof(*out));
	return n;
}
