/* SPDX-License-Identifier: MIT */
/*
 * Tests for report and jsonw: fixed structs must produce exactly the text in
 * tests/fixtures/report/ *.golden (both formats), and the JSON must stay
 * valid whatever bytes a target puts in its names.
 *
 * To regenerate the golden files after an intended format change, run with
 * LEAKD_UPDATE_GOLDEN=1 and review the diff.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "golden.h"
#include "leakd/base/human.h"
#include "leakd/base/jsonw.h"
#include "leakd/output/report.h"

static void assert_golden(const char *name, const char *got)
{
	golden_assert("report", name, got);
}

/* What holds __main__.Item: one path from a module global, another from a
 * frame local whose name carries control characters. */
static struct holders_result *holders_example(void)
{
	static struct holders_result r;
	struct holders_type *t = &r.types[0];
	struct holders_path *p = &t->paths[0], *q = &t->paths[1];

	memset(&r, 0, sizeof(r));
	r.ntypes = 1;
	r.nodes = 41234;
	r.roots_modules = 98;
	r.roots_locals = 7;
	r.roots_native = 310;
	r.walk_ms = 42.5;
	r.bytes = 5242880;
	snprintf(t->name, sizeof(t->name), "__main__.Item");
	t->found = 20000;
	t->sampled = 200;
	t->npaths = 2;
	p->nsteps = 4;
	p->steps[0] = (struct holders_step){ .kind = HOLDERS_MODULE, .name = "module __main__", .via_type = "module" };
	p->steps[1] = (struct holders_step){ .kind = HOLDERS_GLOBAL, .name = "BUS", .via_type = "__main__.Bus" };
	p->steps[2] = (struct holders_step){ .kind = HOLDERS_ATTR, .name = "items", .via_type = "list" };
	p->steps[3] = (struct holders_step){ .kind = HOLDERS_ITEM, .name = "[*]", .via_type = "__main__.Item" };
	snprintf(p->text, sizeof(p->text), "module __main__ . BUS (__main__.Bus) .items (list) [*] -> __main__.Item");
	p->reached = 190;
	q->nsteps = 1;
	q->steps[0] = (struct holders_step){ .kind = HOLDERS_LOCAL, .name = "thread 7 frame f (a.py:3) local x\x1b[2J",
					     .via_type = "__main__.Item" };
	snprintf(q->text, sizeof(q->text), "thread 7 frame f (a.py:3) local x\x1b[2J -> __main__.Item");
	q->reached = 10;
	return &r;
}

/* Runs the writer into a memory buffer; returns the heap text. */
#define CAPTURE(buf, expr)                                                  \
	do {                                                                \
		size_t _len = 0;                                            \
		FILE *_m = open_memstream(&(buf), &_len);                   \
		cr_assert_not_null(_m);                                     \
		cr_assert_eq((expr), 0);                                    \
		fclose(_m);                                                 \
	} while (0)
#define OUT _m

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

static const struct report_sample samples[] = {
	{ .ts = 1732390000.25, .pid = 4242, .live_objects = 41200, .live_bytes = 5242880,
	  .allocs = 0, .frees = 0, .rss_bytes = 52428800, .open_fds = 12, .gc_collections = 17,
	  .source = REPORT_SOURCE_CENSUS },
	{ .ts = 1732390001.5, .pid = 4242, .live_objects = 98700, .live_bytes = 1000,
	  .allocs = 1234567, .frees = 1135867, .rss_bytes = REPORT_UNKNOWN,
	  .open_fds = REPORT_UNKNOWN, .gc_collections = 18, .source = REPORT_SOURCE_PROBES },
};

static const struct report_size_row sizes[] = {
	{ .size = 16, .live_objects = 1000, .live_bytes = 16000 },
	{ .size = 64, .live_objects = 90000, .live_bytes = 5000000 },
	{ .size = 1073741824, .live_objects = 1, .live_bytes = 2147483648ull },
};

static const struct report_type_row types[] = {
	{ .type = "dict", .live_objects = 41200, .live_bytes = 0, .growth_per_s = 1200, .bytes_per_s = 96000,
	  .leak = true },
	{ .type = "__main__.Item", .live_objects = 20000, .growth_per_s = 600.4, .bytes_per_s = 28800.5,
	  .leak = true, .has_generations = true, .generations = { 600, 1400, 18000, 0 } },
	{ .type = "list", .live_objects = 1, .live_bytes = 8000056, .growth_per_s = 0, .bytes_per_s = 8000,
	  .leak = true },
	{ .type = "new\"type\n", .live_objects = 3, .growth_per_s = NAN, .bytes_per_s = NAN, .leak = false },
};

static const struct report_type_row live_types[] = {
	{ .type = "(buffer)", .live_objects = 5000, .live_bytes = 4163567 },
	{ .type = "str", .live_objects = 27917, .live_bytes = 1926998 },
};

static const char *const signals[] = { "gc-usdt", "gc-census", "gc-stats", "alloc-probes" };
static const char *const probes[] = { "PyObject_Malloc+6", "PyObject_Free" };

/* Two sites of __main__.Item (the first with 7 frames: the table prints 5)
 * and four of dict (the table prints 3 per type). */
static const struct report_frame item_frames[] = {
	{ "app/bus.py", 11, "Bus.subscribe" }, { "app/bus.py", 19, "handle" }, { "app/srv.py", 40, "serve" },
	{ "app/srv.py", 52, "loop" }, { "app/main.py", 8, "main" }, { "app/main.py", 12, "run" },
	{ "app/main.py", 15, "<module>" },
};
static const struct report_frame dict_frames[] = { { "app/cfg.py", 3, "load" }, { "app/main.py", 8, "main" } };
static const struct report_site sites[] = {
	{ "__main__.Item", item_frames, 7, false, 640, 631, 0, 0 },
	{ "__main__.Item", item_frames + 1, 2, false, 20, 3, 0, 0 },
	{ "dict", dict_frames, 2, false, 50, 40, 0, 0 },
	{ "dict", dict_frames, 1, true, 40, 30, 0, 0 },
	{ "dict", dict_frames + 1, 1, false, 30, 20, 0, 0 },
	{ "dict", dict_frames, 0, false, 20, 10, 0, 0 },
};
/* Byte samples: two sites of str (the first also in the stack), one of (buffer). */
static const struct report_frame str_frames[] = { { "app/log.py", 7, "Log.add" }, { "app/srv.py", 40, "serve" } };
static const struct report_site live_sites[] = {
	{ .type = "(buffer)", .frames = dict_frames, .n_frames = 2, .sampled = 9, .surviving = 8,
	  .live_bytes = 4194304.4, .live_objects = 512.6 },
	{ .type = "str", .frames = str_frames, .n_frames = 2, .sampled = 4, .surviving = 3,
	  .live_bytes = 1572864, .live_objects = 20480 },
	{ .type = "str", .frames = str_frames + 1, .n_frames = 1, .truncated = true, .sampled = 1, .surviving = 1,
	  .live_bytes = 524288, .live_objects = 6826.7 },
};
static const struct report_site_coverage site_cov[] = {
	{ "__main__.Item", true, 1.0, 1400, 700, NULL },
	{ "__main__.Entry", false, 0.0, 0, 650,
	  "the typed allocation probes saw 0.0% of its new instances: this build allocates it inline (tp_alloc inlined)" },
	{ "str", false, NAN, 0, -1, "a builtin type" },
};

static void leak_summary(struct report_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = 4242;
	snprintf(s->comm, sizeof(s->comm), "python3");
	snprintf(s->exe, sizeof(s->exe), "/usr/bin/python3.11");
	snprintf(s->python, sizeof(s->python), "3.11.2");
	s->duration_s = 30.0123456;
	s->exited = true;
	s->allocs = 1234567;
	s->frees = 1135867;
	s->live_objects = 98700;
	s->live_bytes = 12582912;
	s->dropped_events = 3;
	s->gc = (struct report_gc){ .collections = { 120, 10, 1 }, .collected = 5000, .uncollectable = 2 };
	s->growth.leak = true;
	s->growth.bytes_per_s = 128000.123;
	s->growth.objects_per_s = 1910.4;
	s->growth.confidence = 0.999999;
	snprintf(s->growth.reason, sizeof(s->growth.reason),
		 "live objects grew 41,200 -> 98,700 (+1,910/s, confidence 1.00) over 24 s after warm-up; "
		 "growing types: dict +1,200/s, __main__.Item +600/s");
	s->size_classes = sizes;
	s->n_size_classes = 3;
	s->top_types = types;
	s->n_top_types = 4;
	s->live_types = live_types;
	s->n_live_types = 2;
	s->open_fds = 12;
	s->rss_bytes = 52428800;
	s->coverage = (struct report_coverage){ .mode = REPORT_MODE_TRACE, .signals = signals,
						.n_signals = 4, .probes = probes, .n_probes = 2,
						.tracked_seen_by_probes = 0.0123456789 };
	snprintf(s->coverage.warning, sizeof(s->coverage.warning),
		 "PyObject_Malloc is inlined into 190 call sites: probes see <1%% of allocations");
	s->coverage.site_types = site_cov;
	s->coverage.n_site_types = 3;
	s->sites = sites;
	s->n_sites = 6;
	s->live_sites = live_sites;
	s->n_live_sites = 3;
	s->census = (struct report_census){ .runs = 30, .pause_us_max = 1200, .pause_us_mean = 800,
					    .objects_walked = 1234567, .skipped_mid_gc = 2, .reachable = true, .reach_us_mean = 2100,
					    .untracked_objects = 61000, .period_s = 1.25, .pause_share = 0.0042 };
	snprintf(s->census.partial, sizeof(s->census.partial), "the dedup set reached its memory limit");
	s->memory = (struct report_memory){ .python_objects = 12582912, .pymalloc_arenas = 8388608,
					    .pymalloc_used = 6291456, .other_heap = 4194304, .rss = 52428800 };
	s->holders = holders_example();
}

/* A GC-mode session with every optional value unknown. */
static void quiet_summary(struct report_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = 7;
	s->duration_s = NAN;
	s->growth.bytes_per_s = NAN;
	s->growth.objects_per_s = -0.0;
	s->growth.confidence = 0.5;
	snprintf(s->growth.reason, sizeof(s->growth.reason), "not enough samples yet (4 of 18 needed)");
	s->open_fds = REPORT_UNKNOWN;
	s->rss_bytes = REPORT_UNKNOWN;
	s->memory = (struct report_memory){ .python_objects = REPORT_UNKNOWN, .pymalloc_arenas = REPORT_UNKNOWN,
					    .pymalloc_used = REPORT_UNKNOWN, .other_heap = REPORT_UNKNOWN,
					    .rss = REPORT_UNKNOWN };
	s->coverage.mode = REPORT_MODE_GC;
	s->coverage.tracked_seen_by_probes = NAN;
}

Test(report, samples_as_json_lines_match_golden)
{
	char *out = NULL;

	CAPTURE(out, report_write_header(OUT, REPORT_FORMAT_JSON) ||
		     report_write_sample(OUT, REPORT_FORMAT_JSON, &samples[0]) ||
		     report_write_sample(OUT, REPORT_FORMAT_JSON, &samples[1]));
	assert_golden("samples.json.golden", out);
	free(out);
}

Test(report, samples_as_table_match_golden)
{
	char *out = NULL;

	utc();
	CAPTURE(out, report_write_header(OUT, REPORT_FORMAT_TABLE) ||
		     report_write_sample(OUT, REPORT_FORMAT_TABLE, &samples[0]) ||
		     report_write_sample(OUT, REPORT_FORMAT_TABLE, &samples[1]));
	assert_golden("samples.table.golden", out);
	free(out);
}

Test(report, leak_summary_as_json_matches_golden)
{
	struct report_summary s;
	char *out = NULL;

	leak_summary(&s);
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_JSON, &s));
	assert_golden("summary_leak.json.golden", out);
	/* one record, one line */
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);
}

Test(report, leak_summary_as_table_matches_golden)
{
	struct report_summary s;
	char *out = NULL;

	leak_summary(&s);
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_TABLE, &s));
	assert_golden("summary_leak.table.golden", out);
	cr_assert_not_null(strstr(out, "LEAK SUSPECTED: live objects grew"));
	free(out);
}

Test(report, unknown_values_become_null_in_json_and_dash_in_table)
{
	struct report_summary s;
	char *out = NULL;

	quiet_summary(&s);
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_JSON, &s));
	assert_golden("summary_quiet.json.golden", out);
	cr_assert_null(strstr(out, "nan"));
	cr_assert_null(strstr(out, "inf"));
	cr_assert_not_null(strstr(out, "\"duration_s\":null"));
	cr_assert_not_null(strstr(out, "\"objects_per_s\":0,"));
	free(out);
	out = NULL;
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_TABLE, &s));
	assert_golden("summary_quiet.table.golden", out);
	cr_assert_not_null(strstr(out, "no leak: not enough samples yet"));
	free(out);
}

/* Fails on a raw control byte (other than the line ends) or a raw C1. */
static void assert_no_raw_controls(const char *out)
{
	for (const unsigned char *c = (const unsigned char *)out; *c; c++) {
		cr_assert(*c == '\n' || (*c >= 0x20 && *c != 0x7f), "raw control 0x%02x:\n%s", *c, out);
		cr_assert(!(c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f), "raw C1:\n%s", out);
	}
}

Test(report, hostile_names_are_escaped_in_table_and_json)
{
	static const struct report_type_row evil[] = {
		{ .type = "A\n  LEAK SUSPECTED: forged\x1b[2J\xc2\x9b", .live_objects = 1, .leak = true },
	};
	struct report_summary s;
	char *out = NULL;

	leak_summary(&s);
	snprintf(s.comm, sizeof(s.comm), "py\r\x1b]0;x\x07");
	snprintf(s.growth.reason, sizeof(s.growth.reason), "grew; types A\nno leak: forged");
	s.top_types = evil;
	s.n_top_types = 1;
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_TABLE, &s));
	assert_no_raw_controls(out);
	cr_assert_not_null(strstr(out, "== pid 4242 (py\\r\\x1b]0;x\\x07) "), "%s", out);
	cr_assert_not_null(strstr(out, "types A\\nno leak: forged\n"), "%s", out);
	cr_assert_not_null(strstr(out, "  A\\n  LEAK SUSPECTED: forged\\x1b[2J\\u009b "), "%s", out);
	free(out);
	out = NULL;
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_JSON, &s));
	assert_no_raw_controls(out);
	cr_assert_not_null(strstr(out, "\"type\":\"A\\n  LEAK SUSPECTED: forged\\u001b[2J\\u009b\""), "%s", out);
	free(out);
}

Test(report, hostile_site_names_are_escaped)
{
	static const struct report_frame frames[] = { { "a\n  MADE AT forged.py:1\x1b[2J", 7, "f\r\xc2\x9b" } };
	static const struct report_site evil[] = { { "T\x07", frames, 1, false, 2, 1, 0, 0 } };
	static const struct report_site_coverage cov[] = { { "T\x07", true, 1.0, 2, 2, "n\nx" } };
	struct report_summary s;
	char *out = NULL;

	leak_summary(&s);
	s.sites = evil;
	s.n_sites = 1;
	s.coverage.site_types = cov;
	s.coverage.n_site_types = 1;
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_TABLE, &s));
	assert_no_raw_controls(out);
	cr_assert_not_null(strstr(out, "  T\\x07  made at a\\n  MADE AT forged.py:1\\x1b[2J:7 in f\\r\\u009b()  (sampled 2, surviving 1)\n"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "site coverage: T\\x07 attributable (probes saw 100.0% of 2 new instances): n\\nx\n"),
			   "%s", out);
	free(out);
	out = NULL;
	CAPTURE(out, report_write_summary(OUT, REPORT_FORMAT_JSON, &s));
	assert_no_raw_controls(out);
	cr_assert_not_null(strstr(out, "\"file\":\"a\\n  MADE AT forged.py:1\\u001b[2J\",\"line\":7,\"function\":\"f\\r\\u009b\""),
			   "%s", out);
	free(out);
}

Test(report, bad_arguments_are_rejected)
{
	struct report_sample s = samples[0];

	cr_assert_eq(report_write_sample(NULL, REPORT_FORMAT_JSON, &s), -EINVAL);
	cr_assert_eq(report_write_sample(stdout, REPORT_FORMAT_JSON, NULL), -EINVAL);
	cr_assert_eq(report_write_sample(stdout, (enum report_format)9, &s), -EINVAL);
	cr_assert_eq(report_write_summary(stdout, REPORT_FORMAT_TABLE, NULL), -EINVAL);
	cr_assert_eq(report_format_parse("json"), REPORT_FORMAT_JSON);
	cr_assert_eq(report_format_parse("TABLE"), REPORT_FORMAT_TABLE);
	cr_assert_eq(report_format_parse("yaml"), -EINVAL);
}

Test(report, write_errors_are_reported)
{
	FILE *f = fopen("/dev/full", "w");
	struct report_summary s;

	if (!f)
		cr_skip_test("/dev/full not available");
	setvbuf(f, NULL, _IONBF, 0);
	leak_summary(&s);
	cr_assert_lt(report_write_summary(f, REPORT_FORMAT_JSON, &s), 0);
	cr_assert_lt(report_write_summary(f, REPORT_FORMAT_TABLE, &s), 0);
	fclose(f);
}

Test(report, human_readable_numbers)
{
	char b[32];

	cr_assert_str_eq(human_bytes(b, sizeof(b), 0), "0 B");
	cr_assert_str_eq(human_bytes(b, sizeof(b), 1023), "1023 B");
	cr_assert_str_eq(human_bytes(b, sizeof(b), 1536), "1.5 KiB");
	cr_assert_str_eq(human_bytes(b, sizeof(b), 1048575), "1.0 MiB");
	cr_assert_str_eq(human_bytes(b, sizeof(b), 12.3 * 1048576), "12.3 MiB");
	cr_assert_str_eq(human_bytes(b, sizeof(b), -2048), "-2.0 KiB");
	cr_assert_str_eq(human_bytes(b, sizeof(b), NAN), "-");
	cr_assert_str_eq(human_count(b, sizeof(b), 98700), "98,700");
	cr_assert_str_eq(human_count(b, sizeof(b), 1234567), "1,234,567");
	cr_assert_str_eq(human_count(b, sizeof(b), 999), "999");
	cr_assert_str_eq(human_count(b, sizeof(b), -1000), "-1,000");
	cr_assert_str_eq(human_rate(b, sizeof(b), 1910.4), "+1,910");
	cr_assert_str_eq(human_rate(b, sizeof(b), 6.6), "+6.6");
	cr_assert_str_eq(human_rate(b, sizeof(b), -0.25), "-0.25");
	cr_assert_str_eq(human_rate(b, sizeof(b), 0), "0");
	cr_assert_str_eq(human_rate(b, sizeof(b), INFINITY), "-");
}

/* ---- jsonw ---- */

static char *escape_of(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	struct jsonw w;

	jsonw_init(&w, m);
	jsonw_strn(&w, s, len);
	cr_assert_eq(jsonw_finish(&w), 0);
	fclose(m);
	return buf;
}

#define ASSERT_ESCAPE(in, want)                                      \
	do {                                                         \
		char *_g = escape_of((in), sizeof(in) - 1);          \
		cr_assert_str_eq(_g, (want));                        \
		free(_g);                                            \
	} while (0)

Test(jsonw, escapes_quotes_backslash_and_control_characters)
{
	ASSERT_ESCAPE("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	ASSERT_ESCAPE("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	ASSERT_ESCAPE("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	ASSERT_ESCAPE("nul\0byte", "\"nul\\u0000byte\"");
}

Test(jsonw, valid_utf8_passes_through)
{
	ASSERT_ESCAPE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d\"");
	ASSERT_ESCAPE("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
}

Test(jsonw, invalid_utf8_becomes_replacement_characters)
{
	ASSERT_ESCAPE("a\xff" "b", "\"a\\ufffdb\"");			/* never valid */
	ASSERT_ESCAPE("\xc3", "\"\\ufffd\"");				/* truncated at end */
	ASSERT_ESCAPE("\xc3" "A", "\"\\ufffdA\"");			/* bad continuation */
	ASSERT_ESCAPE("\xc0\xaf", "\"\\ufffd\\ufffd\"");		/* overlong '/' */
	ASSERT_ESCAPE("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");	/* overlong 3-byte */
	ASSERT_ESCAPE("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate D800 */
	ASSERT_ESCAPE("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	ASSERT_ESCAPE("\x80", "\"\\ufffd\"");				/* lone continuation */
}

Test(jsonw, numbers_nan_and_structure)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	struct jsonw w;

	jsonw_init(&w, m);
	jsonw_obj_begin(&w);
	jsonw_kv_double(&w, "nan", NAN);
	jsonw_kv_double(&w, "inf", -INFINITY);
	jsonw_kv_double(&w, "third", 1.0 / 3);
	jsonw_kv_double(&w, "big", 123456789.0);
	jsonw_kv_double(&w, "int", 42.0);
	jsonw_kv_fixed(&w, "ts", 1732390000.123456, 3);
	jsonw_kv_u64(&w, "u", UINT64_MAX);
	jsonw_kv_i64(&w, "i", INT64_MIN);
	jsonw_key(&w, "a");
	jsonw_arr_begin(&w);
	jsonw_null(&w);
	jsonw_bool(&w, true);
	jsonw_str(&w, NULL);
	jsonw_arr_begin(&w);
	jsonw_arr_end(&w);
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	cr_assert_eq(jsonw_finish(&w), 0);
	fclose(m);
	cr_assert_str_eq(buf, "{\"nan\":null,\"inf\":null,\"third\":0.333333,\"big\":1.23457e+08,"
			      "\"int\":42,\"ts\":1732390000.123,\"u\":18446744073709551615,"
			      "\"i\":-9223372036854775808,\"a\":[null,true,null,[]]}");
	free(buf);
}

Test(jsonw, misuse_is_reported_by_finish)
{
	struct jsonw w;
	FILE *m;
	char *buf = NULL;
	size_t n = 0;

	m = open_memstream(&buf, &n);
	jsonw_init(&w, m);
	jsonw_obj_begin(&w);
	jsonw_u64(&w, 1);	/* value without a key */
	cr_assert_eq(jsonw_finish(&w), -EINVAL);

	jsonw_init(&w, m);
	jsonw_obj_begin(&w);
	cr_assert_eq(jsonw_finish(&w), -EINVAL);	/* unclosed */

	jsonw_init(&w, m);
	jsonw_arr_begin(&w);
	jsonw_obj_end(&w);				/* mismatched */
	cr_assert_eq(jsonw_finish(&w), -EINVAL);

	jsonw_init(&w, m);
	for (int i = 0; i < JSONW_MAX_DEPTH + 1; i++)
		jsonw_arr_begin(&w);
	cr_assert_eq(jsonw_finish(&w), -EINVAL);	/* too deep */

	jsonw_init(&w, NULL);
	cr_assert_eq(jsonw_finish(&w), -EINVAL);
	fclose(m);
	free(buf);
}
