/* SPDX-License-Identifier: MIT */
/*
 * Tests for agg: live-table bookkeeping, size classes, the cap, GC epochs
 * and live entries by type. The series are test_series.c's.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leakd/verdict/agg.h"

static struct agg_stats stats_of(const struct agg *a)
{
	struct agg_stats st;

	memset(&st, 0xff, sizeof(st));
	agg_stats(a, &st);
	return st;
}

static struct agg *new_agg(size_t live_cap)
{
	struct agg *a = NULL;

	cr_assert_eq(agg_new(live_cap, &a), 0);
	cr_assert_not_null(a);
	return a;
}

Test(agg, new_with_default_cap_and_free_accepts_null)
{
	struct agg *a = new_agg(0);

	cr_assert_eq(agg_new(0, NULL), -EINVAL);
	cr_assert_eq(stats_of(a).live_objects, 0);
	agg_free(a);
	agg_free(NULL);
}

Test(agg, live_counts_follow_alloc_free_replace_and_unmatched)
{
	struct agg *a = new_agg(0);
	struct agg_stats st;

	agg_alloc(a, 10, 0x1000, 32, 0);
	agg_alloc(a, 11, 0x2000, 100, 0);
	agg_alloc(a, 12, 0x3000, 64, 0);
	st = stats_of(a);
	cr_assert_eq(st.allocs, 3);
	cr_assert_eq(st.live_objects, 3);
	cr_assert_eq(st.live_bytes, 196);

	agg_free_addr(a, 13, 0x2000);
	st = stats_of(a);
	cr_assert_eq(st.frees, 1);
	cr_assert_eq(st.live_objects, 2);
	cr_assert_eq(st.live_bytes, 96);

	/* the same address allocated again without a free: replaced, not doubled */
	agg_alloc(a, 14, 0x1000, 48, 0);
	st = stats_of(a);
	cr_assert_eq(st.replaced, 1);
	cr_assert_eq(st.allocs, 4);
	cr_assert_eq(st.live_objects, 2);
	cr_assert_eq(st.live_bytes, 112);

	/* unknown address and a double free are both unmatched no-ops */
	agg_free_addr(a, 15, 0x9000);
	agg_free_addr(a, 16, 0x2000);
	st = stats_of(a);
	cr_assert_eq(st.frees_unmatched, 2);
	cr_assert_eq(st.frees, 1);
	cr_assert_eq(st.live_objects, 2);
	cr_assert_eq(st.first_ts_ns, 10);
	cr_assert_eq(st.last_ts_ns, 16);
	agg_free(a);
}

Test(agg, many_allocs_and_frees_survive_growth_and_backward_shift_deletion)
{
	struct agg *a = new_agg(0);
	struct agg_stats st;
	uint64_t bytes = 0;

	/* addresses that collide in the low bits stress the probe runs */
	for (uint64_t i = 1; i <= 20000; i++)
		agg_alloc(a, i, i * 0x10000, i % 700 + 1, 0);
	for (uint64_t i = 1; i <= 20000; i += 2)
		agg_free_addr(a, i, i * 0x10000);
	for (uint64_t i = 2; i <= 20000; i += 2)
		bytes += i % 700 + 1;
	st = stats_of(a);
	cr_assert_eq(st.live_objects, 10000);
	cr_assert_eq(st.live_bytes, bytes);
	cr_assert_eq(st.frees_unmatched, 0);
	/* every surviving entry is still findable */
	for (uint64_t i = 2; i <= 20000; i += 2)
		agg_free_addr(a, i, i * 0x10000);
	st = stats_of(a);
	cr_assert_eq(st.live_objects, 0);
	cr_assert_eq(st.live_bytes, 0);
	cr_assert_eq(st.frees_unmatched, 0);
	cr_assert_eq(st.frees, 20000);
	agg_free(a);
}

Test(agg, size_class_boundaries)
{
	cr_assert_eq(sizeclass_of(1), 0);
	cr_assert_eq(sizeclass_of(16), 0);
	cr_assert_eq(sizeclass_of(17), 1);
	cr_assert_eq(sizeclass_of(512), 31);
	cr_assert_eq(sizeclass_of(513), 32);
	cr_assert_eq(sizeclass_of(1024), 32);
	cr_assert_eq(sizeclass_of(1025), 33);
	cr_assert_eq(sizeclass_of(1ull << 30), SIZECLASS_N - 1);
	cr_assert_eq(sizeclass_of((1ull << 30) + 1), SIZECLASS_N - 1);
	cr_assert_eq(sizeclass_of(1ull << 40), SIZECLASS_N - 1);
	cr_assert_eq(sizeclass_bound(0), 16);
	cr_assert_eq(sizeclass_bound(31), 512);
	cr_assert_eq(sizeclass_bound(32), 1024);
	cr_assert_eq(sizeclass_bound(SIZECLASS_N - 1), 1ull << 30);
}

Test(agg, size_class_histogram_is_incremental_and_ascending)
{
	struct agg *a = new_agg(0);
	struct report_size_row rows[SIZECLASS_N];
	size_t n;

	agg_alloc(a, 1, 0x100, 16, 0);
	agg_alloc(a, 1, 0x200, 17, 0);
	agg_alloc(a, 1, 0x300, 512, 0);
	agg_alloc(a, 1, 0x400, 513, 0);
	agg_alloc(a, 1, 0x500, (1ull << 30) + 5, 0);
	agg_alloc(a, 1, 0x600, 10, 0);
	agg_free_addr(a, 2, 0x300);

	n = agg_size_classes(a, rows, SIZECLASS_N);
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
	cr_assert_eq(agg_size_classes(a, rows, 2), 2);
	agg_free(a);
}

Test(agg, live_cap_stops_inserting_and_counts_hits)
{
	struct agg *a = new_agg(100);
	struct agg_stats st;

	for (uint64_t i = 1; i <= 150; i++)
		agg_alloc(a, i, i << 4, 32, 0);
	st = stats_of(a);
	cr_assert_eq(st.live_objects, 100);
	cr_assert_eq(st.live_cap_hits, 50);
	cr_assert_eq(st.allocs, 150);
	/* the untracked ones show up as unmatched frees, not as corruption */
	agg_free_addr(a, 200, 150 << 4);
	agg_free_addr(a, 200, 1 << 4);
	st = stats_of(a);
	cr_assert_eq(st.frees_unmatched, 1);
	cr_assert_eq(st.live_objects, 99);
	/* room again */
	agg_alloc(a, 201, 0xabc0, 32, 0);
	cr_assert_eq(stats_of(a).live_objects, 100);
	cr_assert_eq(stats_of(a).live_cap_hits, 50);
	agg_free(a);
}

Test(agg, gc_done_bumps_epoch_and_births_remember_it)
{
	struct agg *a = new_agg(0);
	struct agg_stats st;

	agg_alloc(a, 1, 0x10, 16, 0);
	agg_gc_done(a, 2, 0, 3);
	agg_alloc(a, 3, 0x20, 16, 0);
	agg_gc_done(a, 4, 2, 7);
	agg_gc_done(a, 5, 5, 0);	/* unknown generation: counted as 2 */
	agg_alloc(a, 6, 0x30, 16, 0);
	st = stats_of(a);
	cr_assert_eq(st.gc_epoch, 3);
	cr_assert_eq(st.gc_collections[0], 1);
	cr_assert_eq(st.gc_collections[1], 0);
	cr_assert_eq(st.gc_collections[2], 2);
	cr_assert_eq(st.gc_collected, 10);
	cr_assert_eq(agg_live_older_than(a, 1), 1);
	cr_assert_eq(agg_live_older_than(a, 3), 2);
	cr_assert_eq(agg_live_older_than(a, 4), 3);
	agg_free(a);
}

Test(agg, is_live_follows_allocs_and_frees)
{
	struct agg *a = new_agg(0);

	cr_assert_not(agg_is_live(a, 0x1000));
	agg_alloc(a, 1, 0x1000, 32, 0);
	cr_assert(agg_is_live(a, 0x1000));
	cr_assert_not(agg_is_live(a, 0x1010));
	agg_free_addr(a, 2, 0x1000);
	cr_assert_not(agg_is_live(a, 0x1000));
	cr_assert_not(agg_is_live(NULL, 0x1000));
	agg_free(a);
}

static uint64_t resolve_even_as_type(void *ctx, uint64_t addr, uint64_t size)
{
	(*(int *)ctx)++;
	return (addr & 0x10) ? 0 : 0x7000;	/* odd blocks hold no object */
}

Test(agg, live_entries_get_types_and_sum_by_type)
{
	struct agg *a = new_agg(0);
	struct agg_type_total tot[8];
	int asked = 0;
	size_t n;

	agg_alloc(a, 1, 0x1000, 64, 0x9000);	/* typed at birth (_PyObject_GC_New) */
	agg_alloc(a, 1, 0x2000, 32, 0);
	agg_alloc(a, 1, 0x2010, 100, 0);
	agg_alloc(a, 1, 0x3000, 48, 0);
	cr_assert(agg_set_type(a, 0x3000, 0x9000));	/* typed by the census */
	cr_assert_not(agg_set_type(a, 0x4000, 0x9000));
	cr_assert_eq(agg_resolve_types(a, resolve_even_as_type, &asked, 100), 2);
	cr_assert_eq(asked, 2);	/* only the untyped ones */
	cr_assert_eq(agg_resolve_types(a, resolve_even_as_type, &asked, 100), 0);	/* once each */

	n = agg_live_by_type(a, tot, 8);
	cr_assert_eq(n, 3);
	/* largest bytes first: 0x9000 (112), AGG_TYPE_BUFFER (100), 0x7000 (32) */
	cr_assert_eq(tot[0].type, 0x9000);
	cr_assert_eq(tot[0].objects, 2);
	cr_assert_eq(tot[0].bytes, 112);
	cr_assert_eq(tot[1].type, AGG_TYPE_BUFFER);
	cr_assert_eq(tot[1].bytes, 100);
	cr_assert_eq(tot[2].type, 0x7000);
	cr_assert_eq(agg_live_by_type(a, tot, 1), 1);
	agg_free(a);
}
