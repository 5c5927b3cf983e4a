/* SPDX-License-Identifier: MIT */
/*
 * Tests for agg: live-table bookkeeping, size classes, the cap, bounded
 * series that keep their floors, and type folding into "(other)".
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leakd/agg.h"

static struct agg_stats stats_of(const struct agg *a)
{
	struct agg_stats st;

	memset(&st, 0xff, sizeof(st));
	agg__stats(a, &st);
	return st;
}

Test(agg, new_with_null_limits_uses_defaults_and_free_accepts_null)
{
	struct agg *a = agg__new(NULL);

	cr_assert_not_null(a);
	cr_assert_eq(stats_of(a).live_objects, 0);
	agg__free(a);
	agg__free(NULL);
}

Test(agg, rejects_a_series_cap_too_small_to_halve)
{
	struct agg_limits lim = { .series_cap = 2 };

	cr_assert_null(agg__new(&lim));
	cr_assert_eq(errno, EINVAL);
}

Test(agg, live_counts_follow_alloc_free_replace_and_unmatched)
{
	struct agg *a = agg__new(NULL);
	struct agg_stats st;

	agg__alloc(a, 10, 0x1000, 32, 0);
	agg__alloc(a, 11, 0x2000, 100, 0);
	agg__alloc(a, 12, 0x3000, 64, 0);
	st = stats_of(a);
	cr_assert_eq(st.allocs, 3);
	cr_assert_eq(st.live_objects, 3);
	cr_assert_eq(st.live_bytes, 196);

	agg__free_addr(a, 13, 0x2000);
	st = stats_of(a);
	cr_assert_eq(st.frees, 1);
	cr_assert_eq(st.live_objects, 2);
	cr_assert_eq(st.live_bytes, 96);

	/* the same address allocated again without a free: replaced, not doubled */
	agg__alloc(a, 14, 0x1000, 48, 0);
	st = stats_of(a);
	cr_assert_eq(st.replaced, 1);
	cr_assert_eq(st.allocs, 4);
	cr_assert_eq(st.live_objects, 2);
	cr_assert_eq(st.live_bytes, 112);

	/* unknown address and a double free are both unmatched no-ops */
	agg__free_addr(a, 15, 0x9000);
	agg__free_addr(a, 16, 0x2000);
	st = stats_of(a);
	cr_assert_eq(st.frees_unmatched, 2);
	cr_assert_eq(st.frees, 1);
	cr_assert_eq(st.live_objects, 2);
	cr_assert_eq(st.first_ts_ns, 10);
	cr_assert_eq(st.last_ts_ns, 16);
	agg__free(a);
}

Test(agg, many_allocs_and_frees_survive_growth_and_backward_shift_deletion)
{
	struct agg *a = agg__new(NULL);
	struct agg_stats st;
	uint64_t bytes = 0;

	/* addresses that collide in the low bits stress the probe runs */
	for (uint64_t i = 1; i <= 20000; i++)
		agg__alloc(a, i, i * 0x10000, i % 700 + 1, 0);
	for (uint64_t i = 1; i <= 20000; i += 2)
		agg__free_addr(a, i, i * 0x10000);
	for (uint64_t i = 2; i <= 20000; i += 2)
		bytes += i % 700 + 1;
	st = stats_of(a);
	cr_assert_eq(st.live_objects, 10000);
	cr_assert_eq(st.live_bytes, bytes);
	cr_assert_eq(st.frees_unmatched, 0);
	/* every surviving entry is still findable */
	for (uint64_t i = 2; i <= 20000; i += 2)
		agg__free_addr(a, i, i * 0x10000);
	st = stats_of(a);
	cr_assert_eq(st.live_objects, 0);
	cr_assert_eq(st.live_bytes, 0);
	cr_assert_eq(st.frees_unmatched, 0);
	cr_assert_eq(st.frees, 20000);
	agg__free(a);
}

Test(agg, size_class_boundaries)
{
	cr_assert_eq(agg_size_class(1), 0);
	cr_assert_eq(agg_size_class(16), 0);
	cr_assert_eq(agg_size_class(17), 1);
	cr_assert_eq(agg_size_class(512), 31);
	cr_assert_eq(agg_size_class(513), 32);
	cr_assert_eq(agg_size_class(1024), 32);
	cr_assert_eq(agg_size_class(1025), 33);
	cr_assert_eq(agg_size_class(1ull << 30), AGG_N_SIZE_CLASSES - 1);
	cr_assert_eq(agg_size_class((1ull << 30) + 1), AGG_N_SIZE_CLASSES - 1);
	cr_assert_eq(agg_size_class(1ull << 40), AGG_N_SIZE_CLASSES - 1);
	cr_assert_eq(agg_size_class_bound(0), 16);
	cr_assert_eq(agg_size_class_bound(31), 512);
	cr_assert_eq(agg_size_class_bound(32), 1024);
	cr_assert_eq(agg_size_class_bound(AGG_N_SIZE_CLASSES - 1), 1ull << 30);
}

Test(agg, size_class_histogram_is_incremental_and_ascending)
{
	struct agg *a = agg__new(NULL);
	struct report_size_row rows[AGG_N_SIZE_CLASSES];
	size_t n;

	agg__alloc(a, 1, 0x100, 16, 0);
	agg__alloc(a, 1, 0x200, 17, 0);
	agg__alloc(a, 1, 0x300, 512, 0);
	agg__alloc(a, 1, 0x400, 513, 0);
	agg__alloc(a, 1, 0x500, (1ull << 30) + 5, 0);
	agg__alloc(a, 1, 0x600, 10, 0);
	agg__free_addr(a, 2, 0x300);

	n = agg__size_classes(a, rows, AGG_N_SIZE_CLASSES);
	cr_assert_eq(n, 4);
	cr_assert_eq(rows[0].size, 16);
	cr_assert_eq(rows[0].live_objects, 2);
	cr_assert_eq(rows[0].live_bytes, 26);
	cr_assert_eq(rows[1].size, 32);
	cr_assert_eq(rows[1].live_bytes, 17);
	cr_assert_eq(rows[2].size, 1024);
	cr_assert_eq(rows[2].live_bytes, 513);
	cr_assert_eq(rows[3].size, 1ull << 30);
	cr_assert_eq(rows[3].live_bytes, (1ull << 30) + 5);

	/* max bounds the output */
	cr_assert_eq(agg__size_classes(a, rows, 2), 2);
	agg__free(a);
}

Test(agg, live_cap_stops_inserting_and_counts_hits)
{
	struct agg_limits lim = { .live_cap = 100 };
	struct agg *a = agg__new(&lim);
	struct agg_stats st;

	for (uint64_t i = 1; i <= 150; i++)
		agg__alloc(a, i, i << 4, 32, 0);
	st = stats_of(a);
	cr_assert_eq(st.live_objects, 100);
	cr_assert_eq(st.live_cap_hits, 50);
	cr_assert_eq(st.allocs, 150);
	/* the untracked ones show up as unmatched frees, not as corruption */
	agg__free_addr(a, 200, 150 << 4);
	agg__free_addr(a, 200, 1 << 4);
	st = stats_of(a);
	cr_assert_eq(st.frees_unmatched, 1);
	cr_assert_eq(st.live_objects, 99);
	/* room again */
	agg__alloc(a, 201, 0xabc0, 32, 0);
	cr_assert_eq(stats_of(a).live_objects, 100);
	cr_assert_eq(stats_of(a).live_cap_hits, 50);
	agg__free(a);
}

Test(agg, gc_done_bumps_epoch_and_births_remember_it)
{
	struct agg *a = agg__new(NULL);
	struct agg_stats st;

	agg__alloc(a, 1, 0x10, 16, 0);
	agg__gc_done(a, 2, 0, 3);
	agg__alloc(a, 3, 0x20, 16, 0);
	agg__gc_done(a, 4, 2, 7);
	agg__gc_done(a, 5, 5, 0);	/* unknown generation: counted as 2 */
	agg__alloc(a, 6, 0x30, 16, 0);
	st = stats_of(a);
	cr_assert_eq(st.gc_epoch, 3);
	cr_assert_eq(st.gc_collections[0], 1);
	cr_assert_eq(st.gc_collections[1], 0);
	cr_assert_eq(st.gc_collections[2], 2);
	cr_assert_eq(st.gc_collected, 10);
	cr_assert_eq(agg__live_older_than(a, 1), 1);
	cr_assert_eq(agg__live_older_than(a, 3), 2);
	cr_assert_eq(agg__live_older_than(a, 4), 3);
	agg__free(a);
}

Test(agg, series_halving_keeps_minima_and_earlier_t_and_stays_bounded)
{
	struct agg_limits lim = { .series_cap = 8 };
	struct agg *a = agg__new(&lim);
	const struct agg_point *p;
	size_t n;

	/* sawtooth: odd samples are the floors */
	for (int i = 0; i < 8; i++) {
		struct agg_point pt = { .t = i, .objects = i % 2 ? 100 + i : 1000 + i,
					.bytes = i % 2 ? 1000 + i : 10 + i, .fds = NAN, .rss = 5 };

		agg__add_point(a, &pt);
	}
	cr_assert_eq(agg__points(a, &p), 8);
	agg__add_point(a, &(struct agg_point){ .t = 8, .objects = 7, .bytes = 7, .fds = 3, .rss = 1 });
	n = agg__points(a, &p);
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
		agg__add_point(a, &(struct agg_point){ .t = i, .objects = i, .bytes = i, .fds = i, .rss = i });
	n = agg__points(a, &p);
	cr_assert_leq(n, 8);
	cr_assert_geq(n, 4);
	cr_assert_float_eq(p[0].t, 0, 1e-12);
	cr_assert_float_eq(p[0].objects, 7, 1e-12);	/* the global floor survives every halving */
	for (size_t i = 1; i < n; i++)
		cr_assert_gt(p[i].t, p[i - 1].t);
	agg__free(a);
}

Test(agg, type_series_record_census_points_and_zero_for_absent_types)
{
	struct agg *a = agg__new(NULL);
	const char *names1[] = { "dict", "list", "__main__.Item" };
	uint64_t ob1[] = { 300, 200, 10 }, by1[] = { 3000, 2000, 100 };
	const char *names2[] = { "dict", "__main__.Item", "dict" };
	uint64_t ob2[] = { 310, 20, 5 };
	struct agg_type_info ti;

	cr_assert_eq(agg__add_type_counts(a, 1.0, names1, ob1, by1, 3), 0);
	cr_assert_eq(agg__add_type_counts(a, 2.0, names2, ob2, NULL, 3), 0);
	cr_assert_eq(agg__n_types(a), 3);

	cr_assert_eq(agg__type(a, 0, &ti), 0);
	cr_assert_str_eq(ti.name, "dict");
	cr_assert_eq(ti.n, 2);
	cr_assert_float_eq(ti.pts[0].objects, 300, 1e-12);
	cr_assert_float_eq(ti.pts[0].bytes, 3000, 1e-12);
	cr_assert_float_eq(ti.pts[1].objects, 315, 1e-12);	/* duplicate names summed */
	cr_assert(isnan(ti.pts[1].bytes));
	cr_assert_eq(ti.last_objects, 315);

	cr_assert_eq(agg__type(a, 1, &ti), 0);
	cr_assert_str_eq(ti.name, "list");
	cr_assert_float_eq(ti.pts[1].objects, 0, 1e-12);	/* absent: none left */
	cr_assert_eq(ti.last_objects, 0);

	cr_assert_eq(agg__type(a, 2, &ti), 0);
	cr_assert_str_eq(ti.name, "__main__.Item");
	cr_assert_eq(ti.last_objects, 20);

	cr_assert_eq(agg__type(a, 3, &ti), -ENOENT);
	agg__free(a);
}

Test(agg, types_beyond_the_cap_fold_into_other)
{
	struct agg_limits lim = { .type_cap = 2 };
	struct agg *a = agg__new(&lim);
	const char *names[] = { "small", "big", "mid", "tiny" };
	uint64_t ob[] = { 5, 100, 50, 1 };
	const char *names2[] = { "newcomer", "big", "mid" };
	uint64_t ob2[] = { 1000, 90, 40 };
	struct agg_type_info ti;

	cr_assert_eq(agg__add_type_counts(a, 1.0, names, ob, NULL, 4), 0);
	/* the census's top 2 get series, the rest are "(other)" */
	cr_assert_eq(agg__n_types(a), 3);
	agg__type(a, 0, &ti);
	cr_assert_str_eq(ti.name, "big");
	agg__type(a, 1, &ti);
	cr_assert_str_eq(ti.name, "mid");
	agg__type(a, 2, &ti);
	cr_assert_str_eq(ti.name, AGG_OTHER_TYPE);
	cr_assert_eq(ti.last_objects, 6);

	/* full: a new top type folds too, known types keep their series */
	cr_assert_eq(agg__add_type_counts(a, 2.0, names2, ob2, NULL, 3), 0);
	cr_assert_eq(agg__n_types(a), 3);
	agg__type(a, 0, &ti);
	cr_assert_eq(ti.last_objects, 90);
	cr_assert_eq(ti.n, 2);
	agg__type(a, 2, &ti);
	cr_assert_eq(ti.last_objects, 1000);
	cr_assert_eq(ti.n, 2);
	agg__free(a);
}

Test(agg, type_series_halve_like_the_process_series)
{
	struct agg_limits lim = { .series_cap = 4 };
	struct agg *a = agg__new(&lim);
	const char *names[] = { "dict" };
	struct agg_type_info ti;

	for (int i = 0; i < 100; i++) {
		uint64_t ob = (uint64_t)(i % 2 ? 10 + i : 1000);

		agg__add_type_counts(a, i, names, &ob, NULL, 1);
	}
	agg__type(a, 0, &ti);
	cr_assert_leq(ti.n, 4);
	cr_assert_float_eq(ti.pts[0].t, 0, 1e-12);
	cr_assert_float_eq(ti.pts[0].objects, 11, 1e-12);
	agg__free(a);
}

Test(agg, long_type_names_are_truncated_not_overflowed)
{
	struct agg *a = agg__new(NULL);
	char longname[400];
	const char *names[] = { longname };
	uint64_t ob = 1;
	struct agg_type_info ti;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(agg__add_type_counts(a, 0, names, &ob, NULL, 1), 0);
	agg__type(a, 0, &ti);
	cr_assert_eq(strlen(ti.name), REPORT_TYPE_NAME_MAX - 1);
	agg__free(a);
}

Test(agg, is_live_follows_allocs_and_frees)
{
	struct agg *a = agg__new(NULL);

	cr_assert_not(agg__is_live(a, 0x1000));
	agg__alloc(a, 1, 0x1000, 32, 0);
	cr_assert(agg__is_live(a, 0x1000));
	cr_assert_not(agg__is_live(a, 0x1010));
	agg__free_addr(a, 2, 0x1000);
	cr_assert_not(agg__is_live(a, 0x1000));
	cr_assert_not(agg__is_live(NULL, 0x1000));
	agg__free(a);
}

static uint64_t resolve_even_as_type(void *ctx, uint64_t addr, uint64_t size)
{
	(*(int *)ctx)++;
	return (addr & 0x10) ? 0 : 0x7000;	/* odd blocks hold no object */
}

Test(agg, live_entries_get_types_and_sum_by_type)
{
	struct agg *a = agg__new(NULL);
	struct agg_type_total tot[8];
	int asked = 0;
	size_t n;

	agg__alloc(a, 1, 0x1000, 64, 0x9000);	/* typed at birth (_PyObject_GC_New) */
	agg__alloc(a, 1, 0x2000, 32, 0);
	agg__alloc(a, 1, 0x2010, 100, 0);
	agg__alloc(a, 1, 0x3000, 48, 0);
	cr_assert(agg__set_type(a, 0x3000, 0x9000));	/* typed by the census */
	cr_assert_not(agg__set_type(a, 0x4000, 0x9000));
	cr_assert_eq(agg__resolve_types(a, resolve_even_as_type, &asked, 100), 2);
	cr_assert_eq(asked, 2);	/* only the untyped ones */
	cr_assert_eq(agg__resolve_types(a, resolve_even_as_type, &asked, 100), 0);	/* once each */

	n = agg__live_by_type(a, tot, 8);
	cr_assert_eq(n, 3);
	/* largest bytes first: 0x9000 (112), AGG_TYPE_BUFFER (100), 0x7000 (32) */
	cr_assert_eq(tot[0].type, 0x9000);
	cr_assert_eq(tot[0].objects, 2);
	cr_assert_eq(tot[0].bytes, 112);
	cr_assert_eq(tot[1].type, AGG_TYPE_BUFFER);
	cr_assert_eq(tot[1].bytes, 100);
	cr_assert_eq(tot[2].type, 0x7000);
	cr_assert_eq(agg__live_by_type(a, tot, 1), 1);
	agg__free(a);
}
