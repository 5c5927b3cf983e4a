/* SPDX-License-Identifier: MIT */
/*
 * Tests for verdict: synthetic series shaped like real sessions (30 samples at
 * ~1/s, as the integration tests produce) must give the right leak flag and
 * a reason that names what grew.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "leakd/verdict/series.h"
#include "leakd/verdict/verdict.h"

static uint32_t lcg_state;

/* deterministic noise in [-1, 1) */
static double noise(void)
{
	lcg_state = lcg_state * 1664525u + 1013904223u;
	return (double)(lcg_state >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

/* 30 samples: objects = o0 + o_rate*t (+-noise), fds = f0 + f_rate*t, and a
 * census with "dict" growing at dict_rate and "list" flat. */
static struct series *new_series(void)
{
	struct series *s = NULL;

	cr_assert_eq(series_new(0, 0, &s), 0);
	return s;
}

static struct series *make_series(double o0, double o_rate, double f0, double f_rate, double dict_rate)
{
	struct series *a = new_series();
	const char *names[] = { "list", "dict", "__main__.Item" };

	lcg_state = 12345;
	for (int i = 0; i < 30; i++) {
		double t = i;
		struct series_point p = {
			.t = t,
			.objects = (o0 + o_rate * t) * (1 + 0.05 * noise()),
			.bytes = 64 * (o0 + o_rate * t),
			.fds = f0 + floor(f_rate * t),
			.rss = 50e6,
		};
		uint64_t ob[3] = { 4000 + (uint64_t)(50 * (1 + noise())), 5000 + (uint64_t)(dict_rate * t),
				   (uint64_t)(dict_rate > 0 ? 100 + dict_rate / 2 * t : 100) };

		series_add_point(a, &p);
		cr_assert_eq(series_add_type_counts(a, t, names, ob, NULL, NULL, 3), 0);
	}
	return a;
}

Test(verdict, growing_objects_are_a_leak_and_the_reason_names_the_type)
{
	struct series *a = make_series(20000, 2000, 12, 0, 1200);
	struct verdict v;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert(v.growth.leak);
	cr_assert(v.objects.r.leak);
	cr_assert_float_eq(v.growth.objects_per_s, 2000, 200);
	cr_assert_float_eq(v.growth.bytes_per_s, 128000, 1000);
	cr_assert_geq(v.growth.confidence, 0.99);
	cr_assert_leq(v.growth.confidence, 1.0);
	cr_assert_not_null(strstr(v.growth.reason, "live objects grew"), "%s", v.growth.reason);
	/* the class first, then the builtins its instances are made of */
	cr_assert_not_null(strstr(v.growth.reason, "growing types: __main__.Item +600/s, dict +1,200/s"),
			   "%s", v.growth.reason);
	cr_assert_null(strstr(v.growth.reason, "file descriptors"), "%s", v.growth.reason);

	/* leaking types first, classes before builtins, then by growth; the
	 * flat one last and not flagged */
	cr_assert_eq(v.n_types, 3);
	cr_assert_eq(v.n_leaking_types, 2);
	cr_assert_str_eq(v.types[0].type, "__main__.Item");
	cr_assert_str_eq(v.types[1].type, "dict");
	cr_assert(v.types[1].leak);
	cr_assert_float_eq(v.types[1].growth_per_s, 1200, 1);
	cr_assert_eq(v.types[1].live_objects, 5000 + 1200 * 29);
	cr_assert_str_eq(v.types[2].type, "list");
	cr_assert_not(v.types[2].leak);
	verdict_clear(&v);
	cr_assert_null(v.types);
	series_free(a);
}

Test(verdict, growing_fds_are_a_leak_named_as_file_descriptors)
{
	struct series *a = make_series(5000, 0, 12, 6.6, 0);
	struct verdict v;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert(v.growth.leak);
	cr_assert(v.fds.r.leak);
	cr_assert_not(v.objects.r.leak);
	cr_assert_not_null(strstr(v.growth.reason, "open file descriptors grew"), "%s", v.growth.reason);
	cr_assert_not_null(strstr(v.growth.reason, "never closed"), "%s", v.growth.reason);
	cr_assert_not_null(strstr(v.growth.reason, "+6.6/s"), "%s", v.growth.reason);
	cr_assert_eq(v.n_leaking_types, 0);
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, flat_process_is_not_a_leak)
{
	struct series *a = make_series(5000, 0, 12, 0, 0);
	struct verdict v;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_not(v.growth.leak);
	cr_assert_eq(v.n_leaking_types, 0);
	cr_assert_not_null(strstr(v.growth.reason, "no sustained growth"), "%s", v.growth.reason);
	cr_assert_float_eq(v.growth.confidence, v.objects.r.confidence, 1e-12);
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, cache_that_fills_then_plateaus_is_not_a_leak)
{
	struct series *a = new_series();
	struct verdict v;

	for (int i = 0; i < 30; i++) {
		double obj = i < 8 ? 625.0 * i : 5000;

		series_add_point(a, &(struct series_point){ .t = i, .objects = obj, .bytes = 100 * obj,
						       .fds = 10, .rss = NAN });
	}
	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_not(v.growth.leak);
	cr_assert_not_null(strstr(v.growth.reason, "no sustained growth"), "%s", v.growth.reason);
	cr_assert_not_null(strstr(v.growth.reason, "5,000"), "%s", v.growth.reason);
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, too_few_samples_says_how_many_are_needed)
{
	struct series *a = new_series();
	struct verdict v;

	for (int i = 0; i < 4; i++)
		series_add_point(a, &(struct series_point){ .t = i, .objects = 1000 * i, .bytes = NAN,
						       .fds = NAN, .rss = NAN });
	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_not(v.growth.leak);
	/* 1 s apart: 3 s of warm-up, then 6 windows of ~2.5 points (5 windows
	 * can never reach the 0.99 confidence) */
	cr_assert_str_eq(v.growth.reason, "not enough samples yet (4 of 18 needed)");
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, short_rising_series_asks_for_more_samples_instead_of_saying_flat)
{
	struct series *a = new_series();
	struct verdict v;

	for (int i = 0; i < 10; i++)
		series_add_point(a, &(struct series_point){ .t = i, .objects = 1000 + 500 * i, .bytes = NAN,
						       .fds = NAN, .rss = NAN });
	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_not(v.growth.leak);
	cr_assert_str_eq(v.growth.reason, "not enough samples yet (10 of 18 needed)");
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, empty_series_is_not_a_leak_and_bad_params_are_rejected)
{
	struct series *a = new_series();
	struct verdict v, untouched;
	struct detect_params p;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_not(v.growth.leak);
	cr_assert_eq(v.n_types, 0);
	cr_assert_not_null(strstr(v.growth.reason, "not enough samples yet (0 of"), "%s", v.growth.reason);
	verdict_clear(&v);

	detect_params_default(&p);
	p.min_windows = 1;
	memset(&untouched, 0x5a, sizeof(untouched));
	v = untouched;
	cr_assert_eq(verdict_compute(a, &p, &v), -EINVAL);
	cr_assert_eq(memcmp(&v, &untouched, sizeof(v)), 0);
	cr_assert_eq(verdict_compute(NULL, NULL, &v), -EINVAL);
	verdict_clear(NULL);
	series_free(a);
}

Test(verdict, slow_fd_leak_of_a_few_dozen_is_flagged)
{
	/* 10 -> 40 descriptors in 30 s: far below the 64-object floor used for
	 * objects, but a file handle kept every second is a leak. */
	struct series *a = make_series(5000, 0, 10, 1.0, 0);
	struct verdict v;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert(v.fds.r.leak, "%s", v.growth.reason);
	cr_assert(v.growth.leak);
	verdict_clear(&v);
	series_free(a);
}

/* 30 samples of a process whose object count is flat: one "list" whose bytes
 * grow by bytes_rate, and anonymous memory outside objects growing by
 * native_rate. */
static struct series *make_flat_series(double bytes_rate, double native_rate)
{
	struct series *a = new_series();
	const char *names[] = { "list", "str" };

	lcg_state = 777;
	for (int i = 0; i < 30; i++) {
		double t = i, objs = 50000 * (1 + 0.01 * noise());
		struct series_point p = {
			.t = t, .objects = objs, .bytes = 4e6 + 0.01e6 * noise(), .fds = 5, .rss = 50e6,
			.native = 6e6 + native_rate * t + 0.05e6 * noise(),
		};
		uint64_t ob[2] = { 1, 30000 + (uint64_t)(100 * (1 + noise())) };
		uint64_t by[2] = { 1000000 + (uint64_t)(bytes_rate * t), 2400000 };

		series_add_point(a, &p);
		cr_assert_eq(series_add_type_counts(a, t, names, ob, by, NULL, 2), 0);
	}
	return a;
}

Test(verdict, one_container_growing_in_bytes_is_a_type_leak_named_by_bytes)
{
	struct series *a = make_flat_series(80000, 0);
	struct verdict v;
	const struct report_type_row *list = NULL;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	for (size_t i = 0; i < v.n_types; i++)
		if (!strcmp(v.types[i].type, "list"))
			list = &v.types[i];
	cr_assert_not_null(list);
	cr_assert(list->leak, "%s", v.growth.reason);
	cr_assert_float_eq(list->bytes_per_s, 80000, 2000);
	cr_assert(v.growth.leak);
	cr_assert_not_null(strstr(v.growth.reason, "list +78.1 KiB/s"), "%s", v.growth.reason);
	/* the container clause names what grows and what it holds */
	struct verdict_container c[2] = {
		{ .type = "dict", .items_per_s = 0 },
		{ .type = "list", .items_per_s = 1000, .held = { "str", "tuple" } },
	};
	verdict_add_containers(&v, c, 2);
	cr_assert_not_null(strstr(v.growth.reason, "; growing container: list (1 object) +1,000 items/s, holding str, tuple"),
			   "%s", v.growth.reason);
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, memory_outside_objects_that_keeps_growing_is_blamed_on_native_code)
{
	struct series *a = make_flat_series(0, 400e3);
	struct verdict v;

	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert(v.growth.leak);
	cr_assert(v.native.r.leak);
	cr_assert_not(v.objects.r.leak);
	cr_assert_not_null(strstr(v.growth.reason, "Python objects are flat, but memory outside them grew"),
			   "%s", v.growth.reason);
	cr_assert_not_null(strstr(v.growth.reason, "native code"), "%s", v.growth.reason);
	verdict_clear(&v);
	series_free(a);

	/* a megabyte of arena retention that then holds still is not a leak */
	a = make_flat_series(0, 30e3);
	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_not(v.native.r.leak, "%s", v.growth.reason);
	cr_assert_not(v.growth.leak, "%s", v.growth.reason);
	verdict_add_containers(&v, (struct verdict_container[]){ { .type = "list", .items_per_s = 5 } }, 1);
	cr_assert_null(strstr(v.growth.reason, "container"), "no container clause without a leak");
	verdict_clear(&v);
	series_free(a);
}

Test(verdict, a_leaking_class_comes_before_the_builtins_its_instances_hold)
{
	/* observer registry: each Subscriber holds a str and an int, all three
	 * grow at the same rate; the class is what to look for in the code */
	struct series *a = new_series();
	const char *names[] = { "str", "int", "__main__.Subscriber", "list" };
	struct verdict v;

	for (int i = 0; i < 30; i++) {
		struct series_point p = { .t = i, .objects = 30000 + 1500.0 * i, .bytes = 3e6 + 1e5 * i, .fds = 5,
				       .rss = 5e7, .native = 5e6 };
		uint64_t ob[4] = { 20000 + 500u * (uint64_t)i, 15000 + 500u * (uint64_t)i, 100 + 500u * (uint64_t)i, 300 };

		series_add_point(a, &p);
		cr_assert_eq(series_add_type_counts(a, i, names, ob, NULL, NULL, 4), 0);
	}
	cr_assert_eq(verdict_compute(a, NULL, &v), 0);
	cr_assert_geq(v.n_leaking_types, 3);
	cr_assert_str_eq(v.types[0].type, "__main__.Subscriber");
	cr_assert_not_null(strstr(v.growth.reason, "growing types: __main__.Subscriber"), "%s", v.growth.reason);
	verdict_clear(&v);
	series_free(a);
}

/*
 * The process total is flat (noise larger than one type's rise). A type whose
 * count rises only in the young generations (cycles waiting for the next
 * collection, as cycles_collected.py makes them on 3.9) is not a leak; the
 * same rise in settled objects is, and says so.
 */
static void type_only_rise(bool settled_rises, struct verdict *v)
{
	struct series *a = new_series();
	const char *names[] = { "__main__.Node", "dict" };

	for (int i = 0; i < 40; i++) {
		struct series_point p = { .t = i, .objects = 50000 + (i % 3) * 900.0, .bytes = 5e6 + (i % 3) * 9e4,
				       .fds = 5, .rss = 5e7, .native = 5e6 };
		uint64_t ob[2] = { 100 + 6u * (uint64_t)i, 9000 + (uint64_t)(i % 2) * 30 };
		uint64_t settled[2] = { settled_rises ? ob[0] - 20 : 30 + (uint64_t)(i % 4), ob[1] };

		series_add_point(a, &p);
		cr_assert_eq(series_add_type_counts(a, i, names, ob, NULL, settled, 2), 0);
	}
	cr_assert_eq(verdict_compute(a, NULL, v), 0);
	series_free(a);
}

Test(verdict, a_type_that_grows_only_in_the_young_generations_is_not_a_leak_alone)
{
	struct verdict v;

	type_only_rise(false, &v);
	cr_assert_not(v.objects.r.leak, "%s", v.growth.reason);
	cr_assert_eq(v.n_leaking_types, 0, "%s", v.growth.reason);
	cr_assert_not(v.growth.leak, "%s", v.growth.reason);
	verdict_clear(&v);

	type_only_rise(true, &v);
	cr_assert_not(v.objects.r.leak, "%s", v.growth.reason);
	cr_assert_eq(v.n_leaking_types, 1, "%s", v.growth.reason);
	cr_assert_str_eq(v.types[0].type, "__main__.Node");
	cr_assert(v.growth.leak);
	cr_assert_not_null(strstr(v.growth.reason, "some types grew while the process total did not: __main__.Node"),
			   "%s", v.growth.reason);
	verdict_clear(&v);
}
