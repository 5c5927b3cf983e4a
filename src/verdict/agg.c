/* SPDX-License-Identifier: MIT */
/*
 * agg: per-process aggregation (see include/leakd/verdict/agg.h for the contract).
 *
 * Responsible for the live table (a base/hashmap bounded at the live cap:
 * its backward-shift deletion leaves no tombstones under the alloc/free
 * churn of a Python process), the live totals and size-class histogram kept in step
 * with it. Everything is O(1) per event; memory grows on demand up to the
 * cap and never beyond it. The sample series are series.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "leakd/base/hashmap.h"
#include "leakd/verdict/agg.h"

struct agg_live {
	uint64_t addr;		/* the key */
	uint64_t size;
	uint64_t birth_ns;
	uint64_t birth_epoch;
	uint64_t type;		/* type object, AGG_TYPE_BUFFER, or 0 while unknown */
};

struct agg {
	size_t live_cap;

	struct hashmap live;	/* addr -> struct agg_live, at most live_cap */
	struct agg_stats st;
	uint64_t class_objects[SIZECLASS_N];
	uint64_t class_bytes[SIZECLASS_N];
};

int agg_new(size_t live_cap, struct agg **out)
{
	struct agg *a;

	if (!out)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->live_cap = live_cap ? live_cap : AGG_DEFAULT_LIVE_CAP;
	hashmap_init(&a->live, sizeof(struct agg_live), a->live_cap);
	*out = a;
	return 0;
}

void agg_free(struct agg *a)
{
	if (!a)
		return;
	hashmap_fini(&a->live);
	free(a);
}

/* ---- live table ---- */

static struct agg_live *agg_find(const struct agg *a, uint64_t addr)
{
	return hashmap_get(&a->live, addr);
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
	struct agg_live *e;
	int added;

	if (!a || !addr)
		return;
	agg_seen(a, ts_ns);
	a->st.allocs++;
	added = hashmap_put(&a->live, addr, (void **)&e);
	if (added < 0) {
		a->st.live_cap_hits++;
		return;
	}
	if (!added) {
		/* the free was lost (dropped event or an unprobed path) */
		a->st.replaced++;
		agg_account(a, e->size, -1);
	}
	e->size = size;
	e->birth_ns = ts_ns;
	e->birth_epoch = a->st.gc_epoch;
	e->type = type_addr;
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
	size_t done = 0, pos = 0;
	struct agg_live *e;

	if (!a || !resolve)
		return 0;
	while (done < max && (e = hashmap_next(&a->live, &pos))) {
		if (e->type)
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

#define AGG_BY_TYPE_MAX 512	/* distinct types counted; more are left out */

/* A row of the by-type scratch table, keyed by ~type so that the unknown
 * type 0 has a key too. */
struct agg_type_row {
	uint64_t not_type;
	uint64_t objects;
	uint64_t bytes;
};

/* O(live) with a scratch table of the live entries' distinct types; run
 * once per summary, never on the event path. */
size_t agg_live_by_type(const struct agg *a, struct agg_type_total *out, size_t max)
{
	struct agg_type_total *rows = NULL;
	struct hashmap tab;
	struct agg_type_row *r;
	const struct agg_live *e;
	size_t pos = 0, used = 0, n = 0;

	if (!a || !out || !max)
		return 0;
	hashmap_init(&tab, sizeof(struct agg_type_row), AGG_BY_TYPE_MAX);
	while ((e = hashmap_next(&a->live, &pos))) {
		if (hashmap_put(&tab, ~e->type, (void **)&r) < 0)
			continue;	/* more distinct types than the scratch holds: left out */
		r->objects++;
		r->bytes += e->size;
	}
	rows = calloc(hashmap_count(&tab) + 1, sizeof(*rows));
	if (!rows)
		goto cleanup;
	for (pos = 0; (r = hashmap_next(&tab, &pos));)
		rows[used++] = (struct agg_type_total){ .type = ~r->not_type, .objects = r->objects,
							 .bytes = r->bytes };
	qsort(rows, used, sizeof(*rows), agg_by_type_cmp);
	for (size_t i = 0; i < used && n < max; i++)
		out[n++] = rows[i];
cleanup:
	free(rows);
	hashmap_fini(&tab);
	return n;
}

void agg_free_addr(struct agg *a, uint64_t ts_ns, uint64_t addr)
{
	struct agg_live e;

	if (!a)
		return;
	agg_seen(a, ts_ns);
	if (!hashmap_take(&a->live, addr, &e)) {
		a->st.frees_unmatched++;
		return;
	}
	a->st.frees++;
	agg_account(a, e.size, -1);
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
	const struct agg_live *e;
	uint64_t n = 0;
	size_t pos = 0;

	if (!a)
		return 0;
	while ((e = hashmap_next(&a->live, &pos)))
		if (e->birth_epoch < epoch)
			n++;
	return n;
}
