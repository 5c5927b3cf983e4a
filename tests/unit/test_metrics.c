/* SPDX-License-Identifier: MIT */
/*
 * Tests for metrics: fixed snapshots must render exactly the text in
 * tests/fixtures/metrics/ *.golden, unknown values must vanish rather than
 * read as 0, hostile strings must stay inside their label, and every output
 * must parse: by a small checker of the 0.0.4 grammar here, and by
 * `promtool check metrics` (parser and naming lints) when it is installed.
 *
 * To regenerate the golden files after an intended change, run with
 * LEAKD_UPDATE_GOLDEN=1 and review the diff.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "golden.h"
#include "leakd/output/metrics.h"

/* ---- helpers ---- */

static void assert_golden(const char *name, const char *got)
{
	golden_assert("metrics", name, got);
}

static char *render(const struct metrics_self *s, const struct metrics_proc *p, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	int err = metrics_render(&buf, &len, s, p, n);

	cr_assert_eq(err, 0, "metrics_render: %d", err);
	cr_assert_not_null(buf);
	cr_assert_eq(strlen(buf), len);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += n) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* ---- a checker of the text format 0.0.4 grammar ---- */

static bool name_ok(const char **pp, bool label)
{
	const char *p = *pp;

	if (!(isalpha((unsigned char)*p) || *p == '_' || (!label && *p == ':')))
		return false;
	while (isalnum((unsigned char)*p) || *p == '_' || (!label && *p == ':'))
		p++;
	*pp = p;
	return true;
}

static bool value_ok(const char *s)
{
	char *end;

	if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf"))
		return true;
	if (!*s || isspace((unsigned char)*s))
		return false;
	strtod(s, &end);
	return *end == '\0';
}

static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 0;

		if (!n)
			return false;
		for (int i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
		}
		s += n;
	}
	return true;
}

#define MAX_FAMILIES 64
#define MAX_SERIES 4096

/* Returns NULL if text is valid exposition, else a description of the first
 * problem (static). Checks: line syntax, escapes, values; TYPE once per
 * family and before its samples; a family's samples contiguous; no two
 * identical series. */
static const char *check_exposition(const char *text)
{
	static char why[512];
	char *copy, *save = NULL, *line;
	char *families[MAX_FAMILIES];
	char *series[MAX_SERIES];
	size_t nfam = 0, nser = 0;
	char current[256] = "";
	const char *bad = NULL;
	int lineno = 0;

	if (!utf8_ok((const unsigned char *)text))
		return "invalid UTF-8";
	if (*text && text[strlen(text) - 1] != '\n')
		return "no final newline";
	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line, *name;
		char fam[256], sname[256];

		lineno++;
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			bool is_type = p[2] == 'T';

			p += 7;
			name = p;
			if (!name_ok(&p, false) || *p != ' ') {
				bad = "bad name in comment";
				break;
			}
			snprintf(fam, sizeof(fam), "%.*s", (int)(p - name), name);
			p++;
			if (is_type) {
				if (strcmp(p, "gauge") && strcmp(p, "counter") && strcmp(p, "summary") &&
				    strcmp(p, "histogram") && strcmp(p, "untyped")) {
					bad = "bad type";
					break;
				}
				for (size_t i = 0; i < nfam; i++) {
					if (!strcmp(families[i], fam))
						bad = "family typed twice";
				}
				if (nfam < MAX_FAMILIES)
					families[nfam++] = strdup(fam);
				snprintf(current, sizeof(current), "%s", fam);
			}
			continue;
		}
		if (*p == '#')
			continue;
		/* sample: name[{labels}] value */
		name = p;
		if (!name_ok(&p, false)) {
			bad = "bad metric name";
			break;
		}
		snprintf(sname, sizeof(sname), "%.*s", (int)(p - name), name);
		if (strncmp(sname, current, strlen(current)) || !*current) {
			bad = "sample outside its family (or before TYPE)";
			break;
		}
		if (*p == '{') {
			p++;
			while (*p != '}') {
				if (!name_ok(&p, true) || *p++ != '=' || *p++ != '"') {
					bad = "bad label";
					break;
				}
				while (*p && *p != '"') {
					if (*p == '\\') {
						p++;
						if (*p != '\\' && *p != '"' && *p != 'n') {
							bad = "bad escape";
							break;
						}
					}
					p++;
				}
				if (bad)
					break;
				if (*p++ != '"') {
					bad = "unterminated label value";
					break;
				}
				if (*p == ',')
					p++;
				else if (*p != '}') {
					bad = "bad label separator";
					break;
				}
			}
			if (bad)
				break;
			p++;
		}
		for (size_t i = 0; i < nser; i++) {
			if (!strncmp(series[i], line, p - line) && series[i][p - line] == '\0')
				bad = "duplicate series";
		}
		if (nser < MAX_SERIES)
			series[nser++] = strndup(line, p - line);
		if (*p++ != ' ' || !value_ok(p))
			bad = "bad value";
	}
	if (bad)
		snprintf(why, sizeof(why), "line %d: %s", lineno, bad);
	for (size_t i = 0; i < nfam; i++)
		free(families[i]);
	for (size_t i = 0; i < nser; i++)
		free(series[i]);
	free(copy);
	return bad ? why : NULL;
}

/* Feeds text to `promtool check metrics`; skips when promtool is absent. */
static void assert_promtool_accepts(const char *text)
{
	char tmpl[] = "/tmp/leakd-promtool-XXXXXX";
	char cmd[256];
	char *out;
	FILE *p;
	int fd, status;

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		cr_skip_test("promtool not installed (Debian package prometheus)");
	fd = mkstemp(tmpl);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics >%s 2>&1", tmpl);
	p = popen(cmd, "w");
	cr_assert_not_null(p);
	fputs(text, p);
	status = pclose(p);
	out = golden_read_all(tmpl);
	unlink(tmpl);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "promtool rejects the output:\n%s\n%s",
		  out ? out : "", text);
	free(out);
}

/* ---- fixtures ---- */

static const struct metrics_type_row web_types[] = {
	{ "__main__.Session", 41200, 2636800 },
	{ "dict", 18000, 4320000 },
	{ "list", 5000, 440000 },
	{ "(other)", 1234, NAN },
};

static struct metrics_proc web_proc(void)
{
	return (struct metrics_proc){
		.pid = 4242, .comm = "gunicorn", .exe = "/usr/bin/python3.11", .python = "3.11.2",
		.unit = "web.service", .container = "",
		.live_objects = 65434, .live_bytes = 9437184,
		.objects_growth_per_s = 12.5, .bytes_growth_per_s = 1800.25,
		.leak_suspected = true, .leak_confidence = 0.999,
		.gc_known = true, .gc_collections = { 812, 73, 4 },
		.gc_collected = 10233, .gc_uncollectable = 0,
		.open_fds = 37, .rss_bytes = 104857600,
		.census_runs = 40, .census_pause_seconds_max = 0.0042, .census_period_seconds = 1,
		.other_heap_bytes = 4194304,
		.types = web_types, .ntypes = 4,
	};
}

static struct metrics_proc worker_proc(void)
{
	/* a container process: no growth estimate yet, fds unreadable */
	return (struct metrics_proc){
		.pid = 77, .comm = "python3", .exe = "/root/.pyenv/versions/3.12.1/bin/python3.12",
		.python = "3.12.1", .unit = "",
		.container = "3f1c9e0a2b7d4c55aa01b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b",
		.live_objects = 1200, .live_bytes = 180000,
		.objects_growth_per_s = NAN, .bytes_growth_per_s = NAN,
		.leak_suspected = false, .leak_confidence = NAN,
		.gc_known = true, .gc_collections = { 3, 0, 0 },
		.open_fds = METRICS_UNKNOWN, .rss_bytes = 20971520,
		.census_runs = 1, .census_pause_seconds_max = 0.0005, .census_period_seconds = 2.5,
		.other_heap_bytes = METRICS_UNKNOWN,
	};
}

static struct metrics_self self_fixture(void)
{
	return (struct metrics_self){
		.version = "0.1.0", .attached_processes = 2,
		.events_total = 123456, .dropped_events_total = 7,
		.census_total = 41, .census_pause_seconds_sum = 0.125,
		.processes_cap_hits_total = 0, .types_cap_hits_total = 3, .live_entries_cap_hits_total = 0,
		.bpf_run_time_seconds_total = 0.75, .bpf_runs_total = 1000000,
	};
}

/* ---- golden ---- */

Test(metrics, two_processes_match_golden)
{
	struct metrics_proc p[2] = { web_proc(), worker_proc() };
	struct metrics_self s = self_fixture();
	char *out = render(&s, p, 2);

	assert_golden("two_processes.golden", out);
	free(out);
}

Test(metrics, no_processes_exports_only_leakd_itself)
{
	struct metrics_self s = self_fixture();
	char *out;

	s.attached_processes = 0;
	s.bpf_run_time_seconds_total = NAN;
	s.bpf_runs_total = NAN;
	out = render(&s, NULL, 0);
	assert_golden("no_processes.golden", out);
	cr_assert_null(strstr(out, "leakd_live_objects"), "empty family has a header:\n%s", out);
	cr_assert_null(strstr(out, "bpf_run"), "unknown BPF run time exported:\n%s", out);
	cr_assert(has_line(out, "leakd_attached_processes 0"), "%s", out);
	free(out);
}

/* ---- the grammar, locally and by promtool ---- */

Test(metrics, golden_output_parses)
{
	struct metrics_proc p[2] = { web_proc(), worker_proc() };
	struct metrics_self s = self_fixture();
	char *out = render(&s, p, 2);
	const char *why = check_exposition(out);

	cr_assert_null(why, "%s\n%s", why, out);
	free(out);
}

Test(metrics, checker_rejects_broken_text)
{
	/* the checker must be able to fail, or the tests above prove nothing */
	cr_assert_not_null(check_exposition("# TYPE a gauge\na{x=\"1} 1\n"));
	cr_assert_not_null(check_exposition("# TYPE a gauge\na 1,5\n"));
	cr_assert_not_null(check_exposition("# TYPE a gauge\na{x=\"\\t\"} 1\n"));
	cr_assert_not_null(check_exposition("# TYPE a gauge\na 1\na 2\n"));
	cr_assert_not_null(check_exposition("# TYPE a gauge\n# TYPE b gauge\na 1\n"));
	cr_assert_not_null(check_exposition("# TYPE a gauge\na{x=\"\xff\"} 1\n"));
	cr_assert_null(check_exposition("# TYPE a gauge\na{x=\"\\\"\\n\\\\\"} -Inf\n"));
}

Test(metrics, promtool_accepts_golden_output)
{
	struct metrics_proc p[2] = { web_proc(), worker_proc() };
	struct metrics_self s = self_fixture();
	char *out = render(&s, p, 2);

	assert_promtool_accepts(out);
	free(out);
}

/* ---- strings ---- */

Test(metrics, label_values_are_escaped)
{
	static const struct metrics_type_row types[] = { { "evil\"} 1\nleakd_x 2", 5, 500 } };
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *out;
	const char *why;

	p.comm = "a\"b\\c\nd";
	p.exe = "/opt/my app/py\\thon";
	p.types = types;
	p.ntypes = 1;
	out = render(&s, &p, 1);
	cr_assert(has_line(out, "leakd_open_fds{pid=\"4242\",comm=\"a\\\"b\\\\c\\nd\","
				"exe=\"/opt/my app/py\\\\thon\",python=\"3.11.2\",unit=\"web.service\","
				"container=\"\"} 37"), "%s", out);
	cr_assert(has_line(out, "leakd_type_live_objects{pid=\"4242\",comm=\"a\\\"b\\\\c\\nd\","
				"exe=\"/opt/my app/py\\\\thon\",python=\"3.11.2\",unit=\"web.service\","
				"container=\"\",type=\"evil\\\"} 1\\nleakd_x 2\"} 5"), "%s", out);
	cr_assert_null(strstr(out, "\nleakd_x"), "a type name forged a line:\n%s", out);
	why = check_exposition(out);
	cr_assert_null(why, "%s\n%s", why, out);
	assert_promtool_accepts(out);
	free(out);
}

Test(metrics, holder_info_is_one_series_per_row_with_type_and_holder_escaped)
{
	static const struct metrics_holder_row holders[] = {
		{ "__main__.Subscriber", "module __main__ . BUS (__main__.Bus) .subs (list) [*] -> __main__.Subscriber" },
		{ "bytes", "module __main__ . CACHE (dict) [<str>] -> bytes" },
		{ "bytes", "module \"x\"\n . Y (dict) ['a\\b'] -> bytes" },
	};
	struct metrics_proc p = web_proc(), q = worker_proc();
	struct metrics_self s = self_fixture();
	char *out;
	const char *why, *at;
	size_t series = 0;

	p.holders = holders;
	p.nholders = 3;
	out = render(&s, (struct metrics_proc[]){ p, q }, 2);
	cr_assert(has_line(out, "leakd_leak_holder_info{pid=\"4242\",comm=\"gunicorn\",exe=\"/usr/bin/python3.11\","
				"python=\"3.11.2\",unit=\"web.service\",container=\"\",type=\"bytes\","
				"holder=\"module __main__ . CACHE (dict) [<str>] -> bytes\"} 1"), "%s", out);
	cr_assert(has_line(out, "leakd_leak_holder_info{pid=\"4242\",comm=\"gunicorn\",exe=\"/usr/bin/python3.11\","
				"python=\"3.11.2\",unit=\"web.service\",container=\"\",type=\"bytes\","
				"holder=\"module \\\"x\\\"\\n . Y (dict) ['a\\\\b'] -> bytes\"} 1"), "%s", out);
	for (at = out; (at = strstr(at, "\nleakd_leak_holder_info{")); at++)
		series++;
	cr_assert_eq(series, 3, "one series per row, none for the process without rows:\n%s", out);
	why = check_exposition(out);
	cr_assert_null(why, "%s\n%s", why, out);
	assert_promtool_accepts(out);
	free(out);
	p.holders = NULL;
	cr_assert_eq(metrics_render(&out, &(size_t){ 0 }, &s, &p, 1), -EINVAL, "rows counted but not given");
}

Test(metrics, invalid_utf8_is_replaced)
{
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *out;

	/* stray continuation, overlong '/', surrogate, truncated 3-byte, and a valid e-acute */
	p.comm = "x\x80y\xc0\xafz\xed\xa0\x80w\xe2\x82" "caf\xc3\xa9";
	p.ntypes = 0;
	out = render(&s, &p, 1);
	cr_assert_not_null(strstr(out, "comm=\"x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz"
				       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdw\xef\xbf\xbd\xef\xbf\xbd"
				       "caf\xc3\xa9\""), "%s", out);
	cr_assert_null(check_exposition(out), "%s", out);
	assert_promtool_accepts(out);
	free(out);
}

Test(metrics, null_strings_are_empty_labels)
{
	struct metrics_proc p = { .pid = 9, .live_objects = 1, .live_bytes = NAN,
				  .objects_growth_per_s = NAN, .bytes_growth_per_s = NAN,
				  .leak_confidence = NAN, .open_fds = -1, .rss_bytes = -1,
				  .census_pause_seconds_max = NAN };
	struct metrics_self s = { .version = NULL, .bpf_run_time_seconds_total = NAN, .bpf_runs_total = NAN };
	char *out = render(&s, &p, 1);

	cr_assert(has_line(out, "leakd_live_objects{pid=\"9\",comm=\"\",exe=\"\",python=\"\",unit=\"\","
				"container=\"\"} 1"), "%s", out);
	cr_assert(has_line(out, "leakd_build_info{version=\"unknown\"} 1"), "%s", out);
	cr_assert_null(check_exposition(out), "%s", out);
	free(out);
}

/* ---- unknown values ---- */

Test(metrics, unknown_values_are_omitted_not_zero)
{
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *out;

	p.live_bytes = NAN;
	p.objects_growth_per_s = NAN;
	p.open_fds = METRICS_UNKNOWN;
	p.rss_bytes = METRICS_UNKNOWN;
	p.gc_known = false;
	out = render(&s, &p, 1);
	cr_assert_null(strstr(out, "leakd_live_bytes{"), "%s", out);
	cr_assert_null(strstr(out, "leakd_live_bytes "), "%s", out);
	cr_assert_null(strstr(out, "leakd_live_objects_growth_per_second"), "%s", out);
	cr_assert_null(strstr(out, "leakd_open_fds"), "%s", out);
	cr_assert_null(strstr(out, "leakd_resident_memory_bytes"), "%s", out);
	cr_assert_null(strstr(out, "leakd_gc_"), "%s", out);
	/* the rest is still there */
	cr_assert_not_null(strstr(out, "leakd_live_bytes_growth_per_second{"), "%s", out);
	cr_assert_not_null(strstr(out, "leakd_live_objects{"), "%s", out);
	cr_assert_null(check_exposition(out), "%s", out);
	free(out);
}

Test(metrics, nan_in_one_process_keeps_the_other_sample)
{
	struct metrics_proc p[2] = { web_proc(), worker_proc() };
	struct metrics_self s = self_fixture();
	char *out = render(&s, p, 2);

	/* worker has no growth estimate: the family holds web's sample only */
	cr_assert_not_null(strstr(out, "leakd_live_objects_growth_per_second{pid=\"4242\""), "%s", out);
	cr_assert_null(strstr(out, "leakd_live_objects_growth_per_second{pid=\"77\""), "%s", out);
	cr_assert_null(strstr(out, "leakd_open_fds{pid=\"77\""), "%s", out);
	cr_assert_null(strstr(out, "leakd_leak_confidence{pid=\"77\""), "%s", out);
	/* known zeros are exported */
	cr_assert_not_null(strstr(out, "leakd_leak_suspected{pid=\"77\""), "%s", out);
	cr_assert_not_null(strstr(out, "leakd_gc_uncollectable_objects_total{pid=\"77\""), "%s", out);
	free(out);
}

Test(metrics, leak_suspected_is_zero_or_one)
{
	struct metrics_proc p[2] = { web_proc(), worker_proc() };
	struct metrics_self s = self_fixture();
	char *out = render(&s, p, 2);

	cr_assert_not_null(strstr(out, "leakd_leak_suspected{pid=\"4242\",comm=\"gunicorn\","
				       "exe=\"/usr/bin/python3.11\",python=\"3.11.2\",unit=\"web.service\","
				       "container=\"\"} 1\n"), "%s", out);
	cr_assert_not_null(strstr(out, "container=\"3f1c9e0a2b7d4c55aa01b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b\"} 0\n"
				       "# HELP leakd_leak_confidence"), "%s", out);
	free(out);
}

/* ---- types ---- */

Test(metrics, duplicate_type_names_are_summed)
{
	static const struct metrics_type_row types[] = {
		{ "app.VeryLongName", 10, 100 }, { "dict", 3, 30 }, { "app.VeryLongName", 5, 50 }, { "x", NAN, NAN },
	};
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *out;

	p.types = types;
	p.ntypes = 4;
	out = render(&s, &p, 1);
	cr_assert_not_null(strstr(out, ",type=\"app.VeryLongName\"} 15\n"), "%s", out);
	cr_assert_not_null(strstr(out, ",type=\"app.VeryLongName\"} 150\n"), "%s", out);
	cr_assert_not_null(strstr(out, ",type=\"dict\"} 3\n"), "%s", out);
	cr_assert_null(strstr(out, ",type=\"x\"}"), "%s", out);
	cr_assert_null(check_exposition(out), "%s", out);
	free(out);
}

/* ---- numbers ---- */

Test(metrics, values_are_shortest_exact_and_locale_free)
{
	char b[40];

	cr_assert_str_eq(metrics_format_value(b, sizeof(b), 0), "0");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), 12345), "12345");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), 0.1), "0.1");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), 1.0 / 3), "0.3333333333333333");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), 1e21), "1e+21");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), 9007199254740992.0), "9007199254740992");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), -2.5), "-2.5");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), INFINITY), "+Inf");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), -INFINITY), "-Inf");
	cr_assert_str_eq(metrics_format_value(b, sizeof(b), NAN), "NaN");
	/* a comma-decimal locale must not leak into the output */
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
		struct metrics_proc p = web_proc();
		struct metrics_self s = self_fixture();
		char *out;

		cr_assert_str_eq(metrics_format_value(b, sizeof(b), 0.25), "0.25");
		out = render(&s, &p, 1);
		setlocale(LC_NUMERIC, "C");
		cr_assert_not_null(strstr(out, "} 0.999\n"), "%s", out);
		free(out);
	}
}

Test(metrics, infinite_growth_is_exported_as_inf)
{
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *out;

	p.bytes_growth_per_s = INFINITY;
	out = render(&s, &p, 1);
	cr_assert_not_null(strstr(out, "leakd_live_bytes_growth_per_second{pid=\"4242\""), "%s", out);
	cr_assert_not_null(strstr(out, "} +Inf\n"), "%s", out);
	cr_assert_null(check_exposition(out), "%s", out);
	free(out);
}

/* ---- scale and errors ---- */

Test(metrics, many_processes_keep_families_contiguous)
{
	enum { N = 200 };
	struct metrics_proc *p = calloc(N, sizeof(*p));
	struct metrics_self s = self_fixture();
	char *out;
	const char *why;

	for (int i = 0; i < N; i++) {
		p[i] = (i % 2) ? web_proc() : worker_proc();
		p[i].pid = 1000 + i;
	}
	out = render(&s, p, N);
	why = check_exposition(out);
	cr_assert_null(why, "%s", why);
	assert_promtool_accepts(out);
	free(out);
	free(p);
}

Test(metrics, bad_arguments_leave_outputs_untouched)
{
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *buf = (char *)0x1;
	size_t len = 99;

	cr_assert_eq(metrics_render(&buf, &len, NULL, &p, 1), -EINVAL);
	cr_assert_eq(metrics_render(&buf, &len, &s, NULL, 1), -EINVAL);
	cr_assert_eq(metrics_render(NULL, &len, &s, &p, 1), -EINVAL);
	p.types = NULL;
	cr_assert_eq(metrics_render(&buf, &len, &s, &p, 1), -EINVAL);
	cr_assert_eq(buf, (char *)0x1);
	cr_assert_eq(len, 99);
}

Test(metrics, control_characters_in_labels_are_spelled_out)
{
	static const struct metrics_type_row types[] = { { "A\x1b]0;pwned\x07\xc2\x9b" "31m\x7f", 5, 500 } };
	struct metrics_proc p = web_proc();
	struct metrics_self s = self_fixture();
	char *out;
	const char *why;

	p.comm = "\x1b[2Jtab\there";
	p.types = types;
	p.ntypes = 1;
	out = render(&s, &p, 1);
	for (const unsigned char *c = (const unsigned char *)out; *c; c++)
		cr_assert(*c == '\n' || (*c >= 0x20 && *c != 0x7f), "raw control 0x%02x:\n%s", *c, out);
	cr_assert_null(strstr(out, "\xc2\x9b"), "raw U+009B:\n%s", out);
	cr_assert_not_null(strstr(out, "comm=\"\\\\x1b[2Jtab\\\\x09here\""), "%s", out);
	cr_assert_not_null(strstr(out, "type=\"A\\\\x1b]0;pwned\\\\x07\\\\u009b31m\\\\x7f\""), "%s", out);
	why = check_exposition(out);
	cr_assert_null(why, "%s\n%s", why, out);
	assert_promtool_accepts(out);
	free(out);
}
