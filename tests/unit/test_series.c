/* SPDX-License-Identifier: MIT */
/*
 * Tests for series: bounded series that keep their floors when halved, the
 * per-type series of censuses, and type folding into "(other)".
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leakd/verdict/series.h"

static size_t other_index(const struct series *s)
{
	struct series_type_info ti;

	for (size_t i = 0; i < series_n_types(s); i++)
		if (!series_type(s, i, &ti) && !strcmp(ti.name, SERIES_OTHER_TYPE))
			return i;
	cr_assert_fail("no \"(other)\" series");
	return 0;
}

static struct series *new_series(size_t cap, size_t type_cap)
{
	struct series *s = NULL;

	cr_assert_eq(series_new(cap, type_cap, &s), 0);
	cr_assert_not_null(s);
	return s;
}

Test(series, caps_too_small_to_halve_or_no_out_are_einval)
{
	struct series *s = (struct series *)&s;

	cr_assert_eq(series_new(2, 0, &s), -EINVAL);
	cr_assert_eq(s, (struct series *)&s, "out untouched");
	cr_assert_eq(series_new(0, 0, NULL), -EINVAL);
	cr_assert_eq(series_new(4, 0, &s), 0);
	series_free(s);
	series_free(NULL);
}

Test(series, empty_series_has_no_points_and_no_types)
{
	struct series *s = new_series(0, 0);
	const struct series_point *p = (const struct series_point *)&p;
	struct series_type_info ti;

	cr_assert_eq(series_points(s, &p), 0);
	cr_assert_null(p);
	cr_assert_eq(series_n_types(s), 0);
	cr_assert_eq(series_type(s, 0, &ti), -ENOENT);
	cr_assert_eq(series_add_type_counts(s, 1.0, NULL, NULL, NULL, NULL, 1), -EINVAL);
	series_free(s);
}

Test(series, series_halving_keeps_minima_and_earlier_t_and_stays_bounded)
{
	struct series *a = new_series(8, 0);
	const struct series_point *p;
	size_t n;

	/* sawtooth: odd samples are the floors */
	for (int i = 0; i < 8; i++) {
		struct series_point pt = { .t = i, .objects = i % 2 ? 100 + i : 1000 + i,
					.bytes = i % 2 ? 1000 + i : 10 + i, .fds = NAN, .rss = 5 };

		series_add_point(a, &pt);
	}
	cr_assert_eq(series_points(a, &p), 8);
	series_add_point(a, &(struct series_point){ .t = 8, .objects = 7, .bytes = 7, .fds = 3, .rss = 1 });
	n = series_points(a, &p);
	cr_assert_eq(n, 5);
	cr_assert_float_eq(p[0].t, 0, 1e-12);
	cr_assert_float_eq(p[0].objects, 101, 1e-12);	/* min of 1000, 101 */
	cr_assert_float_eq(p[0].bytes, 10, 1e-12);	/* min per field */
	cr_assert(isnan(p[0].fds));			/* unknown stays unknown */
	cr_assert_float_eq(p[1].t, 2, 1e-12);
	cr_assert_float_eq(p[1].objects, 103, 1e-12);
	cr_assert_float_eq(p[3].t, 6, 1e-12);
	cr_assert_float_eq(p[3].objects, 107, 1e-12);
	cr_assert_float_eq(p[4].t, 8, 1e-12);
	cr_assert_float_eq(p[4].fds, 3, 1e-12);

	for (int i = 9; i < 10000; i++)
		series_add_point(a, &(struct series_point){ .t = i, .objects = i, .bytes = i, .fds = i, .rss = i });
	n = series_points(a, &p);
	cr_assert_leq(n, 8);
	cr_assert_geq(n, 4);
	cr_assert_float_eq(p[0].t, 0, 1e-12);
	cr_assert_float_eq(p[0].objects, 7, 1e-12);	/* the global floor survives every halving */
	for (size_t i = 1; i < n; i++)
		cr_assert_gt(p[i].t, p[i - 1].t);
	series_free(a);
}

Test(series, type_series_record_census_points_and_zero_for_absent_types)
{
	struct series *a = new_series(0, 0);
	const char *names1[] = { "dict", "list", "__main__.Item" };
	uint64_t ob1[] = { 300, 200, 10 }, by1[] = { 3000, 2000, 100 };
	const char *names2[] = { "dict", "__main__.Item", "dict" };
	uint64_t ob2[] = { 310, 20, 5 };
	struct series_type_info ti;

	cr_assert_eq(series_add_type_counts(a, 1.0, names1, ob1, by1, NULL, 3), 0);
	cr_assert_eq(series_add_type_counts(a, 2.0, names2, ob2, NULL, NULL, 3), 0);
	cr_assert_eq(series_n_types(a), 3);

	cr_assert_eq(series_type(a, 0, &ti), 0);
	cr_assert_str_eq(ti.name, "dict");
	cr_assert_eq(ti.n, 2);
	cr_assert_float_eq(ti.pts[0].objects, 300, 1e-12);
	cr_assert_float_eq(ti.pts[0].bytes, 3000, 1e-12);
	cr_assert_float_eq(ti.pts[1].objects, 315, 1e-12);	/* duplicate names summed */
	cr_assert(isnan(ti.pts[1].bytes));
	cr_assert_eq(ti.last_objects, 315);

	cr_assert_eq(series_type(a, 1, &ti), 0);
	cr_assert_str_eq(ti.name, "list");
	cr_assert_float_eq(ti.pts[1].objects, 0, 1e-12);	/* absent: none left */
	cr_assert_eq(ti.last_objects, 0);

	cr_assert_eq(series_type(a, 2, &ti), 0);
	cr_assert_str_eq(ti.name, "__main__.Item");
	cr_assert_eq(ti.last_objects, 20);

	cr_assert_eq(series_type(a, 3, &ti), -ENOENT);
	series_free(a);
}

Test(series, types_beyond_the_cap_fold_into_other)
{
	struct series *a = new_series(0, 2);
	const char *names[] = { "small", "big", "mid", "tiny" };
	uint64_t ob[] = { 5, 100, 50, 1 };
	const char *names2[] = { "big", "mid", "newcomer" };
	uint64_t ob2[] = { 90, 40, 60 };
	struct series_type_info ti;

	cr_assert_eq(series_add_type_counts(a, 1.0, names, ob, NULL, NULL, 4), 0);
	/* the census's top 2 get series, the rest are "(other)" */
	cr_assert_eq(series_n_types(a), 3);
	series_type(a, 0, &ti);
	cr_assert_str_eq(ti.name, "big");
	series_type(a, 1, &ti);
	cr_assert_str_eq(ti.name, "mid");
	series_type(a, 2, &ti);
	cr_assert_str_eq(ti.name, SERIES_OTHER_TYPE);
	cr_assert_eq(ti.last_objects, 6);
	cr_assert_eq(series_folds(a), 1);

	/* full: a new type that is not twice what a named one ever held folds,
	 * known types keep their series */
	cr_assert_eq(series_add_type_counts(a, 2.0, names2, ob2, NULL, NULL, 3), 0);
	cr_assert_eq(series_n_types(a), 3);
	series_type(a, 0, &ti);
	cr_assert_eq(ti.last_objects, 90);
	cr_assert_eq(ti.n, 2);
	series_type(a, 2, &ti);
	cr_assert_eq(ti.last_objects, 60);
	cr_assert_eq(ti.n, 2);
	cr_assert_eq(series_folds(a), 2);
	series_free(a);
}

/* A class that starts to leak once the imports have filled the table gets a
 * series of its own: the smallest named type gives up its slot. */
Test(series, a_type_that_outgrows_a_named_one_takes_its_slot)
{
	struct series *a = new_series(0, 2);
	const char *names[] = { "big", "mid", "Leak" };
	uint64_t first[] = { 100, 50, 2 };
	struct series_type_info ti;
	ssize_t leak = -1;

	cr_assert_eq(series_add_type_counts(a, 1.0, names, first, NULL, NULL, 3), 0);
	for (int t = 2; t <= 6; t++) {
		uint64_t ob[] = { 100, 50, (uint64_t)t * 40 };

		cr_assert_eq(series_add_type_counts(a, t, names, ob, NULL, NULL, 3), 0);
	}
	cr_assert_eq(series_n_types(a), 3, "no new slot: one was given up");
	for (size_t i = 0; i < series_n_types(a); i++) {
		series_type(a, i, &ti);
		cr_assert_str_neq(ti.name, "mid", "mid (never over 50) gave its slot to Leak");
		if (!strcmp(ti.name, "Leak"))
			leak = (ssize_t)i;
	}
	cr_assert_geq(leak, 0);
	series_type(a, (size_t)leak, &ti);
	/* 120 at t=3 is the first count over twice mid's 50: named from then on */
	cr_assert_eq(ti.n, 4);
	cr_assert_eq(ti.pts[0].t, 3.0);
	cr_assert_eq(ti.pts[0].objects, 120);
	cr_assert_eq(ti.last_objects, 240);
	series_type(a, other_index(a), &ti);
	cr_assert_eq(ti.last_objects, 50, "mid folds into (other) once evicted");
	series_free(a);
}

/* Types counted in the same census keep their slot whatever their past:
 * only one not yet seen in it, and never the one just named, can go. */
Test(series, a_type_counted_in_this_census_keeps_its_slot)
{
	struct series *a = new_series(0, 2);
	const char *names[] = { "a", "b" };
	uint64_t ob[] = { 10, 5 };
	const char *names2[] = { "x", "y", "a", "b" };
	uint64_t ob2[] = { 1000, 900, 10, 5 };
	struct series_type_info ti;

	cr_assert_eq(series_add_type_counts(a, 1.0, names, ob, NULL, NULL, 2), 0);
	cr_assert_eq(series_add_type_counts(a, 2.0, names2, ob2, NULL, NULL, 4), 0);
	/* x takes b's slot (the least ever), y takes a's; a and b fold */
	cr_assert_eq(series_n_types(a), 3);
	series_type(a, 0, &ti);
	cr_assert_str_eq(ti.name, "y");
	cr_assert_eq(ti.n, 1);
	series_type(a, 1, &ti);
	cr_assert_str_eq(ti.name, "x");
	cr_assert_eq(ti.last_objects, 1000);
	series_type(a, 2, &ti);
	cr_assert_str_eq(ti.name, SERIES_OTHER_TYPE);
	cr_assert_eq(ti.last_objects, 15);
	series_free(a);
}

Test(series, type_series_halve_like_the_process_series)
{
	struct series *a = new_series(4, 0);
	const char *names[] = { "dict" };
	struct series_type_info ti;

	for (int i = 0; i < 100; i++) {
		uint64_t ob = (uint64_t)(i % 2 ? 10 + i : 1000);

		series_add_type_counts(a, i, names, &ob, NULL, NULL, 1);
	}
	series_type(a, 0, &ti);
	cr_assert_leq(ti.n, 4);
	cr_assert_float_eq(ti.pts[0].t, 0, 1e-12);
	cr_assert_float_eq(ti.pts[0].objects, 11, 1e-12);
	series_free(a);
}

Test(series, long_type_names_are_truncated_not_overflowed)
{
	struct series *a = new_series(0, 0);
	char longname[400];
	const char *names[] = { longname };
	uint64_t ob = 1;
	struct series_type_info ti;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(series_add_type_counts(a, 0, names, &ob, NULL, NULL, 1), 0);
	series_type(a, 0, &ti);
	cr_assert_eq(strlen(ti.name), REPORT_TYPE_NAME_MAX - 1);
	series_free(a);
}

/* Settled counts ride along: NULL means all settled, "(other)" sums them. */
Test(series, settled_counts_are_recorded_and_summed_into_other)
{
	struct series *a = new_series(0, 1);
	const char *names[] = { "Node", "dict", "list" };
	uint64_t ob[] = { 300, 20, 10 }, settled[] = { 40, 15, 10 };
	struct series_type_info ti;

	cr_assert_eq(series_add_type_counts(a, 1.0, names, ob, NULL, settled, 3), 0);
	cr_assert_eq(series_add_type_counts(a, 2.0, names, ob, NULL, NULL, 3), 0);
	series_type(a, 0, &ti);
	cr_assert_str_eq(ti.name, "Node");
	cr_assert_eq(ti.pts[0].settled, 40);
	cr_assert_eq(ti.pts[1].settled, 300, "without settled counts every object is settled");
	series_type(a, other_index(a), &ti);
	cr_assert_eq(ti.pts[0].objects, 30);
	cr_assert_eq(ti.pts[0].settled, 25);
	series_free(a);
}
