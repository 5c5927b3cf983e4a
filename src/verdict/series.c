// SPDX-License-Identifier: MIT
/*
 * series: the bounded sample series of one process (see
 * include/leakd/verdict/series.h): the process-wide points and one series per type,
 * each halved (minima kept) when it reaches its cap.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "leakd/base/grow.h"
#include "leakd/base/hashmap.h"
#include "leakd/verdict/series.h"

#define SERIES_INIT		64u

struct series_type {
	char name[REPORT_TYPE_NAME_MAX];
	uint64_t last_objects, last_bytes;
	double cur_objects, cur_bytes, cur_settled;	/* accumulated during one census */
	double peak_objects;		/* the most it ever had at a census */
	uint64_t named_at;		/* the census (series.censuses) it got its slot */
	struct series_type_point *pts;
	size_t n, cap;
};

struct series {
	size_t cap, type_cap;

	struct series_point *pts;
	size_t n_pts, cap_pts;

	struct series_type *types;	/* type_cap named + 1 for "(other)" */
	size_t n_types;
	size_t n_named;
	ssize_t other;		/* index of "(other)", -1 until needed */
	struct hashmap type_index;	/* name -> struct series_name_ref */
	uint64_t censuses;	/* series_add_type_counts() calls */
	uint64_t folds;		/* of them, those that folded a type into "(other)" */
};

/* An entry of the name index: the name is types[index].name. */
struct series_name_ref {
	uint64_t key;
	uint64_t index;
};

int series_new(size_t cap, size_t type_cap, struct series **out)
{
	struct series *s;

	if (!cap)
		cap = SERIES_DEFAULT_CAP;
	if (!type_cap)
		type_cap = SERIES_DEFAULT_TYPE_CAP;
	if (!out || cap < 4 || type_cap > UINT32_MAX / 4)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cap = cap;
	s->type_cap = type_cap;
	s->other = -1;
	hashmap_init(&s->type_index, sizeof(struct series_name_ref), 0);
	*out = s;
	return 0;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_types; i++)
		free(s->types[i].pts);
	free(s->types);
	hashmap_fini(&s->type_index);
	free(s->pts);
	free(s);
}

/*
 * Halves a series of *n points of `width` doubles each, the first one t:
 * neighbour pairs merge into the earlier t and the minimum of every other
 * field. fmin() is NaN-aware: an unknown value must not erase a known floor.
 * Both point types are plain runs of doubles (checked below), so one
 * function serves the process series and the per-type ones.
 */
static void series_halve(double *p, size_t width, size_t *n)
{
	size_t k = 0;

	for (size_t i = 0; i + 1 < *n; i += 2, k++) {
		const double *a = p + i * width, *b = a + width;
		double *out = p + k * width;

		out[0] = a[0];
		for (size_t f = 1; f < width; f++)
			out[f] = fmin(a[f], b[f]);
	}
	if (*n % 2) {
		memmove(p + k * width, p + (*n - 1) * width, width * sizeof(*p));
		k++;
	}
	*n = k;
}

_Static_assert(sizeof(struct series_point) == 6 * sizeof(double) &&
		       offsetof(struct series_point, t) == 0,
	       "series_point must stay a run of doubles starting with t");
_Static_assert(sizeof(struct series_type_point) == 4 * sizeof(double) &&
		       offsetof(struct series_type_point, t) == 0,
	       "series_type_point must stay a run of doubles starting with t");
#define SERIES_WIDTH(pt) (sizeof(pt) / sizeof(double))

void series_add_point(struct series *s, const struct series_point *p)
{
	int r;

	if (!s || !p)
		return;
	r = grow_room((void **)&s->pts, s->n_pts, &s->cap_pts, sizeof(*s->pts), SERIES_INIT, s->cap);
	if (r < 0)
		return;
	if (r > 0)
		series_halve((double *)s->pts, SERIES_WIDTH(*s->pts), &s->n_pts);
	s->pts[s->n_pts++] = *p;
}

size_t series_points(const struct series *s, const struct series_point **pts)
{
	if (!s || !pts)
		return 0;
	*pts = s->n_pts ? s->pts : NULL;
	return s->n_pts;
}

static int series_type_append(struct series *s, struct series_type *ty, double t)
{
	int r;

	r = grow_room((void **)&ty->pts, ty->n, &ty->cap, sizeof(*ty->pts), SERIES_INIT, s->cap);
	if (r < 0)
		return r;
	if (r > 0)
		series_halve((double *)ty->pts, SERIES_WIDTH(*ty->pts), &ty->n);
	ty->pts[ty->n++] = (struct series_type_point){ .t = t, .objects = ty->cur_objects,
						   .bytes = ty->cur_bytes, .settled = ty->cur_settled };
	if (ty->cur_objects > ty->peak_objects)
		ty->peak_objects = ty->cur_objects;
	return 0;
}

static const char *series_name_of(const void *entry, void *ctx)
{
	const struct series *s = ctx;

	return s->types[((const struct series_name_ref *)entry)->index].name;
}

static ssize_t series_type_lookup(const struct series *s, const char *name)
{
	const struct series_name_ref *r = hashmap_get_str(&s->type_index, name, series_name_of, (void *)s);

	return r ? (ssize_t)r->index : -1;
}

/* Files types[k] under its name; room was reserved for type_cap + 1. */
static void series_index_add(struct series *s, size_t k)
{
	struct series_name_ref *r;

	if (hashmap_put_str(&s->type_index, s->types[k].name, series_name_of, s, (void **)&r) == 1)
		r->index = k;
}

/*
 * The table is full and a type ranks among this census's top type_cap: the
 * named type that never held more than half of it gives up its slot, the
 * least ever first. Without this a class that starts leaking after the
 * imports filled the table (a daemon's first census sees every import-time
 * type) would stay in "(other)" for good and never be named. Types already
 * counted in this census, or named in it, keep theirs: their points are
 * being written. The one evicted folds into "(other)" from now on, with its
 * history: a fold of something smaller than what leaves "(other)" cannot
 * look like a rise there.
 */
static ssize_t series_type_evict(struct series *s, const char *name, double objects)
{
	ssize_t victim = -1;

	for (size_t k = 0; k < s->n_types; k++) {
		const struct series_type *ty = &s->types[k];

		if ((ssize_t)k == s->other || ty->cur_objects > 0 || ty->named_at == s->censuses ||
		    !(ty->peak_objects * 2 < objects))
			continue;
		if (victim < 0 || ty->peak_objects < s->types[victim].peak_objects)
			victim = (ssize_t)k;
	}
	if (victim >= 0) {
		struct series_type *ty = &s->types[victim];
		struct series_type_point *pts = ty->pts;
		size_t cap = ty->cap;
		void *old = hashmap_get_str(&s->type_index, ty->name, series_name_of, s);

		if (old)
			hashmap_remove(&s->type_index, old);
		*ty = (struct series_type){ .pts = pts, .cap = cap, .named_at = s->censuses,
					    .cur_bytes = ty->cur_bytes };
		snprintf(ty->name, sizeof(ty->name), "%s", name);
		series_index_add(s, (size_t)victim);
	}
	return victim;
}

static ssize_t series_type_create(struct series *s, const char *name)
{
	struct series_type *ty;

	if (!s->types) {
		/* all slots at once: type_cap is small and pointers stay stable */
		s->types = calloc(s->type_cap + 1, sizeof(*s->types));
		if (!s->types || hashmap_reserve(&s->type_index, s->type_cap + 1) < 0) {
			free(s->types);
			s->types = NULL;
			hashmap_fini(&s->type_index);
			return -ENOMEM;
		}
	}
	if (s->n_types >= s->type_cap + 1)
		return -ENOSPC;
	ty = &s->types[s->n_types];
	snprintf(ty->name, sizeof(ty->name), "%s", name);
	ty->named_at = s->censuses;
	series_index_add(s, s->n_types);
	return (ssize_t)s->n_types++;
}

struct series_rank {
	uint64_t objects;
	size_t i;
};

static int series_rank_cmp(const void *x, const void *y)
{
	const struct series_rank *p = x, *q = y;

	if (p->objects != q->objects)
		return p->objects > q->objects ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

/* The indexes of objects[0..n) in decreasing count order (ties by index),
 * in *out (NULL when n is 0). Returns 0 or -ENOMEM. */
static int series_rank_new(const uint64_t *objects, size_t n, struct series_rank **out)
{
	struct series_rank *rank = NULL;

	if (n) {
		rank = malloc(n * sizeof(*rank));
		if (!rank)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		rank[i] = (struct series_rank){ .objects = objects[i], .i = i };
	qsort(rank, n, sizeof(*rank), series_rank_cmp);
	*out = rank;
	return 0;
}

/*
 * The slot of the type name, r-th largest in this census with objects
 * live: its own, a new one while named slots are free, or one taken from a
 * type that has shrunk away; only the type_cap largest get one. Returns the
 * index, another negative value for "(other)", or -ENOMEM.
 */
static ssize_t series_slot(struct series *s, const char *name, size_t r, double objects)
{
	ssize_t k;

	k = strcmp(name, SERIES_OTHER_TYPE) ? series_type_lookup(s, name) : -1;
	if (k < 0 && r < s->type_cap && s->n_named < s->type_cap &&
	    strcmp(name, SERIES_OTHER_TYPE)) {
		k = series_type_create(s, name);
		if (k >= 0)
			s->n_named++;
	} else if (k < 0 && r < s->type_cap && strcmp(name, SERIES_OTHER_TYPE)) {
		k = series_type_evict(s, name, objects);
	}
	return k;
}

/* This census's counts of "(other)", its slot made the first time a type
 * is folded into it (seen). Once made it gets a point every census, zero
 * or not. Returns 0 or -errno (no slot). */
static int series_other_set(struct series *s, bool seen, double objects, double bytes,
			    double settled)
{
	if (seen && s->other < 0) {
		s->other = series_type_create(s, SERIES_OTHER_TYPE);
		if (s->other < 0) {
			int err = (int)s->other;

			s->other = -1;
			return err;
		}
	}
	if (s->other >= 0) {
		s->types[s->other].cur_objects = objects;
		s->types[s->other].cur_settled = settled;
		s->types[s->other].cur_bytes = bytes;
	}
	return 0;
}

/* Ends a census: each type's counts become its last and a new point at t.
 * Returns 0 or -ENOMEM (the points that fit are kept). */
static int series_census_close(struct series *s, double t, bool have_bytes)
{
	int ret = 0;

	for (size_t k = 0; k < s->n_types; k++) {
		struct series_type *ty = &s->types[k];

		ty->last_objects = (uint64_t)ty->cur_objects;
		ty->last_bytes = have_bytes ? (uint64_t)ty->cur_bytes : 0;
		if (series_type_append(s, ty, t) < 0)
			ret = -ENOMEM;
	}
	return ret;
}

int series_add_type_counts(struct series *s, double t, const char *const *names,
			     const uint64_t *objects, const uint64_t *bytes, const uint64_t *settled, size_t n)
{
	struct series_rank *rank = NULL;
	double other_obj = 0, other_bytes = 0, other_settled = 0;
	bool other_seen = false, folded = false;
	char name[REPORT_TYPE_NAME_MAX];
	int ret = 0;

	if (!s || (n && (!names || !objects)))
		return -EINVAL;
	ret = series_rank_new(objects, n, &rank);
	if (ret)
		return ret;
	s->censuses++;

	for (size_t k = 0; k < s->n_types; k++) {
		s->types[k].cur_objects = 0;
		s->types[k].cur_settled = 0;
		s->types[k].cur_bytes = bytes ? 0 : NAN;
	}
	for (size_t r = 0; r < n; r++) {
		size_t i = rank[r].i;
		double ob = (double)objects[i], by = bytes ? (double)bytes[i] : NAN;
		double se = settled && settled[i] < objects[i] ? (double)settled[i] : ob;
		ssize_t k;

		snprintf(name, sizeof(name), "%s", names[i] ? names[i] : "?");
		k = series_slot(s, name, r, ob);
		if (k == -ENOMEM) {
			ret = -ENOMEM;
			goto cleanup;
		}
		if (k < 0) {
			folded |= strcmp(name, SERIES_OTHER_TYPE) != 0;
			other_obj += ob;
			other_bytes += by;
			other_settled += se;
			other_seen = true;
			continue;
		}
		/* same name twice (e.g. two modules' "Item"): one series */
		s->types[k].cur_objects += ob;
		s->types[k].cur_settled += se;
		s->types[k].cur_bytes = bytes ? s->types[k].cur_bytes + by : NAN;
	}
	ret = series_other_set(s, other_seen, other_obj, bytes ? other_bytes : NAN, other_settled);
	if (ret)
		goto cleanup;
	ret = series_census_close(s, t, bytes != NULL);
	s->folds += folded;
cleanup:
	free(rank);
	return ret;
}

uint64_t series_folds(const struct series *s)
{
	return s ? s->folds : 0;
}

size_t series_n_types(const struct series *s)
{
	return s ? s->n_types : 0;
}

int series_type(const struct series *s, size_t i, struct series_type_info *out)
{
	const struct series_type *ty;

	if (!s || !out || i >= s->n_types)
		return -ENOENT;
	ty = &s->types[i];
	out->name = ty->name;
	out->last_objects = ty->last_objects;
	out->last_bytes = ty->last_bytes;
	out->pts = ty->n ? ty->pts : NULL;
	out->n = ty->n;
	return 0;
}
