/* SPDX-License-Identifier: MIT */
/*
 * agg: per-process aggregation (see include/leakd/verdict/agg.h for the contract).
 *
 * Responsible for the live table (open addressing, linear probing, backward
 * shift deletion so no tombstones pile up under the alloc/free churn of a
 * Python process), the live totals and size-class histogram kept in step
 * with it. Everything is O(1) per event; memory grows on demand up to the
 * cap and never beyond it. The sample series are series.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "leakd/verdict/agg.h"

#define AGG_LIVE_INIT_SLOTS	1024u

struct agg_live {
	uint64_t addr;		/* 0 = empty slot */
	uint64_t size;
	uint64_t birth_ns;
	uint64_t birth_epoch;
	uint64_t type;		/* type object, AGG_TYPE_BUFFER, or 0 while unknown */
};

struct agg {
	size_t live_cap;

	struct agg_live *slots;
	size_t n_slots;		/* power of two, or 0 before the first alloc */
	struct agg_stats st;
	uint64_t class_objects[SIZECLASS_N];
	uint64_t class_bytes[SIZECLASS_N];
};

static size_t agg_pow2_at_least(size_t v)
{
	size_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int agg_new(size_t live_cap, struct agg **out)
{
	struct agg *a;

	if (!out)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->live_cap = live_cap ? live_cap : AGG_DEFAULT_LIVE_CAP;
	*out = a;
	return 0;
}

void agg_free(struct agg *a)
{
	if (!a)
		return;
	free(a->slots);
	free(a);
}

/* ---- live table ---- */

static size_t agg_hash_addr(uint64_t addr, size_t mask)
{
	/* allocations are 16-byte aligned: the low bits carry nothing */
	uint64_t h = (addr >> 4) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & mask;
}

static struct agg_live *agg_find(const struct agg *a, uint64_t addr)
{
	size_t mask, i;

	if (!a->n_slots)
		return NULL;
	mask = a->n_slots - 1;
	for (i = agg_hash_addr(addr, mask);; i = (i + 1) & mask) {
		if (a->slots[i].addr == addr)
			return &a->slots[i];
		if (a->slots[i].addr == 0)
			return NULL;
	}
}

/* Insert into a table known to have room and not to hold addr. */
static void agg_place(struct agg_live *slots, size_t n_slots, const struct agg_live *e)
{
	size_t mask = n_slots - 1, i;

	for (i = agg_hash_addr(e->addr, mask); slots[i].addr; i = (i + 1) & mask)
		;
	slots[i] = *e;
}

/* Makes room for one more entry, keeping the load factor at or below 3/4. */
static int agg_reserve(struct agg *a)
{
	size_t want, n;
	struct agg_live *ns;

	if (a->n_slots && (a->st.live_objects + 1) * 4 <= a->n_slots * 3)
		return 0;
	want = a->n_slots ? a->n_slots * 2 : AGG_LIVE_INIT_SLOTS;
	/* never more than the live cap needs */
	n = agg_pow2_at_least((a->live_cap * 4 + 2) / 3 + 1);
	if (want > n)
		want = n;
	if (want <= a->n_slots)
		return a->st.live_objects + 1 < a->n_slots ? 0 : -ENOSPC;
	ns = calloc(want, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].addr)
			agg_place(ns, want, &a->slots[i]);
	free(a->slots);
	a->slots = ns;
	a->n_slots = want;
	return 0;
}

static void agg_account(struct agg *a, uint64_t size, int sign)
{
	unsigned cls = sizeclass_of(size);

	if (sign > 0) {
		a->st.live_objects++;
		a->st.live_bytes += size;
		a->class_objects[cls]++;
		a->class_bytes[cls] += size;
	} else {
		a->st.live_objects--;
		a->st.live_bytes -= size;
		a->class_objects[cls]--;
		a->class_bytes[cls] -= size;
	}
}

static void agg_seen(struct agg *a, uint64_t ts_ns)
{
	if (!a->st.first_ts_ns || ts_ns < a->st.first_ts_ns)
		a->st.first_ts_ns = ts_ns;
	if (ts_ns > a->st.last_ts_ns)
		a->st.last_ts_ns = ts_ns;
}

void agg_alloc(struct agg *a, uint64_t ts_ns, uint64_t addr, uint64_t size, uint64_t type_addr)
{
	struct agg_live *e, ne;

	if (!a || !addr)
		return;
	agg_seen(a, ts_ns);
	a->st.allocs++;
	e = agg_find(a, addr);
	if (e) {
		/* the free was lost (dropped event or an unprobed path) */
		a->st.replaced++;
		agg_account(a, e->size, -1);
		e->size = size;
		e->birth_ns = ts_ns;
		e->birth_epoch = a->st.gc_epoch;
		e->type = type_addr;
		agg_account(a, size, +1);
		return;
	}
	if (a->st.live_objects >= a->live_cap || agg_reserve(a) < 0) {
		a->st.live_cap_hits++;
		return;
	}
	ne = (struct agg_live){ .addr = addr, .size = size, .birth_ns = ts_ns,
				.birth_epoch = a->st.gc_epoch, .type = type_addr };
	agg_place(a->slots, a->n_slots, &ne);
	agg_account(a, size, +1);
}

bool agg_is_live(const struct agg *a, uint64_t addr)
{
	return a && addr && agg_find(a, addr) != NULL;
}

bool agg_set_type(struct agg *a, uint64_t addr, uint64_t type)
{
	struct agg_live *e = a && addr ? agg_find(a, addr) : NULL;

	if (!e)
		return false;
	e->type = type;
	return true;
}

uint64_t agg_type_of(const struct agg *a, uint64_t addr)
{
	const struct agg_live *e = a && addr ? agg_find(a, addr) : NULL;

	return e ? e->type : 0;
}

size_t agg_resolve_types(struct agg *a, agg_type_resolver resolve, void *ctx, size_t max)
{
	size_t done = 0;

	if (!a || !resolve)
		return 0;
	for (size_t i = 0; i < a->n_slots && done < max; i++) {
		struct agg_live *e = &a->slots[i];

		if (!e->addr || e->type)
			continue;
		e->type = resolve(ctx, e->addr, e->size);
		if (!e->type)
			e->type = AGG_TYPE_BUFFER;
		done++;
	}
	return done;
}

static int agg_by_type_cmp(const void *x, const void *y)
{
	const struct agg_type_total *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return (a->type > b->type) - (a->type < b->type);
}

/* O(live) with a scratch table sized for the live entries' distinct types;
 * run once per summary, never on the event path. */
size_t agg_live_by_type(const struct agg *a, struct agg_type_total *out, size_t max)
{
	struct agg_type_total *tab;
	size_t cap = 1024, used = 0, n = 0;

	if (!a || !out || !max)
		return 0;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return 0;
	for (size_t i = 0; i < a->n_slots; i++) {
		const struct agg_live *e = &a->slots[i];
		size_t h;

		if (!e->addr)
			continue;
		/* one slot per distinct type; unknowns share the 0 slot */
		for (h = (e->type * 0x9e3779b97f4a7c15ull >> 40) & (cap - 1);
		     tab[h].objects && tab[h].type != e->type; h = (h + 1) & (cap - 1))
			;
		if (!tab[h].objects) {
			if (used + 1 > cap / 2)
				continue;	/* more distinct types than the scratch holds: left out */
			used++;
			tab[h].type = e->type;
		}
		tab[h].objects++;
		tab[h].bytes += e->size;
	}
	qsort(tab, cap, sizeof(*tab), agg_by_type_cmp);
	for (size_t i = 0; i < cap && n < max; i++)
		if (tab[i].objects)
			out[n++] = tab[i];
	free(tab);
	return n;
}

void agg_free_addr(struct agg *a, uint64_t ts_ns, uint64_t addr)
{
	struct agg_live *e;
	size_t mask, i, j, home;

	if (!a)
		return;
	agg_seen(a, ts_ns);
	e = addr ? agg_find(a, addr) : NULL;
	if (!e) {
		a->st.frees_unmatched++;
		return;
	}
	a->st.frees++;
	agg_account(a, e->size, -1);

	/* backward shift: pull later members of the probe run into the hole */
	mask = a->n_slots - 1;
	i = (size_t)(e - a->slots);
	for (j = (i + 1) & mask; a->slots[j].addr; j = (j + 1) & mask) {
		home = agg_hash_addr(a->slots[j].addr, mask);
		/* move j to i unless its home lies cyclically in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			a->slots[i] = a->slots[j];
			i = j;
		}
	}
	a->slots[i].addr = 0;
}

void agg_gc_done(struct agg *a, uint64_t ts_ns, int gen, uint64_t collected)
{
	if (!a)
		return;
	agg_seen(a, ts_ns);
	a->st.gc_epoch++;
	if (gen >= 0)
		a->st.gc_collections[gen > 2 ? 2 : gen]++;
	a->st.gc_collected += collected;
}

void agg_stats(const struct agg *a, struct agg_stats *out)
{
	if (a && out)
		*out = a->st;
}

size_t agg_size_classes(const struct agg *a, struct report_size_row *rows, size_t max)
{
	size_t n = 0;

	if (!a || !rows)
		return 0;
	for (unsigned c = 0; c < SIZECLASS_N && n < max; c++) {
		if (!a->class_objects[c])
			continue;
		rows[n].size = sizeclass_bound(c);
		rows[n].live_objects = a->class_objects[c];
		rows[n].live_bytes = a->class_bytes[c];
		n++;
	}
	return n;
}

uint64_t agg_live_older_than(const struct agg *a, uint64_t epoch)
{
	uint64_t n = 0;

	if (!a)
		return 0;
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].addr && a->slots[i].birth_epoch < epoch)
			n++;
	return n;
}
