// SPDX-License-Identifier: MIT
/*
 * Tests for config: defaults, every key, lists, comments and quoting, errors
 * that name file and line, command-line overrides. The include/exclude
 * filters are test_procfilter.c's. Fixture files live in tests/fixtures/config/; the shipped default
 * file systemd/leakd.conf is checked against options_defaults() so the two
 * cannot drift.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/app/config.h"

static char err[512];

static const char *fixture(const char *name)
{
	static char path[PATH_MAX];
	const char *root = getenv("LEAKD_FIXTURES");

	snprintf(path, sizeof(path), "%s/config/%s", root ? root : "tests/fixtures", name);
	return path;
}

static int parse_str(struct leakd_opts *c, const char *text)
{
	return config_parse(text, strlen(text), "test.conf", c, err, sizeof(err));
}

Test(config, defaults_are_documented_values)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_str_eq(c.listen_address, "127.0.0.1:9477");
	cr_assert_str_eq(c.telemetry_path, "/metrics");
	cr_assert_float_eq(c.census_period_s, 1.0, 1e-9);
	cr_assert_float_eq(c.max_pause_share, 0.005, 1e-12);
	cr_assert_float_eq(c.scan_interval_s, 2.0, 1e-9);
	cr_assert_eq(c.max_processes, 256);
	cr_assert_eq(c.top_types, 10);
	cr_assert_eq(c.filter.n_include_comm + c.filter.n_exclude_comm + c.filter.n_include_exe + c.filter.n_exclude_exe, 0);
	cr_assert_eq(c.filter.n_include_unit + c.filter.n_exclude_unit + c.filter.n_include_cgroup + c.filter.n_exclude_cgroup, 0);
	cr_assert_null(c.filter.include_comm);
	options_free(&c);
}

Test(config, every_key_from_a_file)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("full.conf"), &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.listen_address, "[::1]:9100");
	cr_assert_str_eq(c.telemetry_path, "/leakd/metrics");
	cr_assert_float_eq(c.census_period_s, 0.5, 1e-9);
	cr_assert_float_eq(c.scan_interval_s, 5.0, 1e-9);
	cr_assert_eq(c.max_processes, 32);
	cr_assert_eq(c.top_types, 25);
	cr_assert_eq(c.filter.n_include_comm, 2);
	cr_assert_str_eq(c.filter.include_comm[0], "python*");
	cr_assert_str_eq(c.filter.include_comm[1], "gunicorn");
	cr_assert_eq(c.filter.n_exclude_comm, 1);
	cr_assert_str_eq(c.filter.exclude_comm[0], "pip*");
	cr_assert_str_eq(c.filter.include_exe[0], "/opt/*/bin/python3*");
	cr_assert_str_eq(c.filter.exclude_exe[0], "/usr/lib/*");
	cr_assert_str_eq(c.filter.include_unit[0], "web-*.service");
	cr_assert_str_eq(c.filter.exclude_unit[0], "user@*.service");
	cr_assert_eq(c.filter.n_include_cgroup, 1);
	cr_assert_str_eq(c.filter.include_cgroup[0], "/system.slice", "trailing '/' dropped");
	cr_assert_str_eq(c.filter.exclude_cgroup[0], "/user.slice");
	options_free(&c);
}

Test(config, bom_crlf_tabs_comments_quotes_and_hash_in_value)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("crlf.conf"), &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c.census_period_s, 2.5, 1e-9);
	cr_assert_str_eq(c.listen_address, ":9477");
	cr_assert_eq(c.filter.n_include_comm, 1);
	cr_assert_str_eq(c.filter.include_comm[0], "my app");
	cr_assert_str_eq(c.filter.include_exe[0], "/srv/app#1/bin/python");
	options_free(&c);
}

/* How many settings have a config key, by the options table. */
static size_t table_keys(void)
{
	size_t n, keys = 0;
	const struct opt_setting *t = options_table(&n);

	for (size_t i = 0; i < n; i++)
		keys += t[i].key != NULL;
	return keys;
}

Test(config, shipped_default_file_matches_defaults_when_uncommented)
{
	/* systemd/leakd.conf shows each default as "#key = value": turn those
	 * lines into settings and they must parse to options_defaults(). */
	struct leakd_opts c, d;
	FILE *f = fopen("systemd/leakd.conf", "re");
	char line[1024], *text = NULL;
	size_t len = 0, keys = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(f, "run from the repository root");
	while (fgets(line, sizeof(line), f)) {
		bool setting = line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && strstr(line, " =");

		fputs(setting ? line + 1 : line, out);
		keys += setting;
	}
	fclose(f);
	fclose(out);
	cr_assert_eq(keys, table_keys(), "every key of the options table is documented once (found %zu)", keys);
	options_defaults(&c);
	options_defaults(&d);
	cr_assert_eq(config_parse(text, len, "leakd.conf", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.listen_address, d.listen_address);
	cr_assert_str_eq(c.telemetry_path, d.telemetry_path);
	cr_assert_float_eq(c.census_period_s, d.census_period_s, 1e-9);
	cr_assert_float_eq(c.max_pause_share, d.max_pause_share, 1e-12);
	cr_assert_float_eq(c.scan_interval_s, d.scan_interval_s, 1e-9);
	cr_assert_eq(c.max_processes, d.max_processes);
	cr_assert_eq(c.top_types, d.top_types);
	cr_assert_eq(c.site_windows, d.site_windows);
	cr_assert_float_eq(c.site_window_budget_s, d.site_window_budget_s, 1e-9);
	cr_assert_float_eq(c.holder_period_s, d.holder_period_s, 1e-9);
	cr_assert_eq(c.holder_keys, d.holder_keys);
	cr_assert_eq(c.filter.n_include_comm + c.filter.n_include_exe + c.filter.n_include_unit + c.filter.n_include_cgroup, 0);
	free(text);
	options_free(&c);
}

Test(config, site_windows_are_off_by_default_and_take_on_or_off)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_not(c.site_windows);
	cr_assert_float_eq(c.site_window_budget_s, 60, 1e-9);
	cr_assert_eq(parse_str(&c, "site_windows = on\nsite_window_budget = 2m\n"), 0, "%s", err);
	cr_assert(c.site_windows);
	cr_assert_float_eq(c.site_window_budget_s, 120, 1e-9);
	cr_assert_eq(parse_str(&c, "site_windows = off\n"), 0, "%s", err);
	cr_assert_not(c.site_windows);
	cr_assert_eq(parse_str(&c, "site_windows = maybe\n"), -EINVAL);
	cr_assert(strstr(err, "on or off"), "%s", err);
	cr_assert_eq(parse_str(&c, "site_window_budget = 3601\n"), -EINVAL);
	options_free(&c);
}

Test(config, holder_searches_every_10_minutes_keys_by_shape_by_default)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_float_eq(c.holder_period_s, 600, 1e-9);
	cr_assert_eq(c.holder_keys, LEAKD_HOLDER_KEYS_SHAPE);
	cr_assert_eq(parse_str(&c, "holder_period = 0\nholder_keys = show\n"), 0, "%s", err);
	cr_assert_float_eq(c.holder_period_s, 0, 1e-9, "0 turns the searches off");
	cr_assert_eq(c.holder_keys, LEAKD_HOLDER_KEYS_SHOW);
	cr_assert_eq(parse_str(&c, "holder_period = 1m\nholder_keys = shape\n"), 0, "%s", err);
	cr_assert_float_eq(c.holder_period_s, 60, 1e-9);
	cr_assert_eq(c.holder_keys, LEAKD_HOLDER_KEYS_SHAPE);
	cr_assert_eq(parse_str(&c, "holder_keys = yes\n"), -EINVAL);
	cr_assert(strstr(err, "shape or show"), "%s", err);
	cr_assert_eq(parse_str(&c, "holder_period = -1\n"), -EINVAL);
	options_free(&c);
}

Test(config, unknown_key_names_file_and_line)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("bad_key.conf"), &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "bad_key.conf:4: unknown key 'census_interval'"), "%s", err);
	options_free(&c);
}

Test(config, invalid_value_names_file_line_key_and_value)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("bad_value.conf"), &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "bad_value.conf:2: invalid value for census_period: 'abc' ("), "%s", err);
	options_free(&c);
}

Test(config, line_without_equals_is_an_error)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("no_equals.conf"), &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "no_equals.conf:3: expected 'key = value'"), "%s", err);
	cr_assert_eq(parse_str(&c, "= 5\n"), -EINVAL);
	cr_assert_str_eq(err, "test.conf:1: expected 'key = value'");
	cr_assert_eq(parse_str(&c, "top_types = 1\n\0garbage"), 0, "the text ends at len");
	options_free(&c);
}

Test(config, nul_byte_in_text_is_an_error)
{
	struct leakd_opts c;
	static const char text[] = "top_types = 1\ntop\0_types = 2\n";

	options_defaults(&c);
	cr_assert_eq(config_parse(text, sizeof(text) - 1, "t", &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "t:2: NUL byte in line");
	options_free(&c);
}

Test(config, failed_parse_leaves_config_unchanged)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "include_comm = a*\n"), 0);
	cr_assert_eq(parse_str(&c, "top_types = 3\ninclude_comm = b*\ninclude_comm =\nbogus = 1\n"), -EINVAL);
	cr_assert_eq(c.top_types, 10);
	cr_assert_eq(c.filter.n_include_comm, 1);
	cr_assert_str_eq(c.filter.include_comm[0], "a*");
	options_free(&c);
}

Test(config, missing_file_is_enoent_with_path)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("does-not-exist.conf"), &c, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "does-not-exist.conf: No such file or directory"), "%s", err);
	cr_assert_eq(config_load(fixture(""), &c, err, sizeof(err)), -EISDIR, "a directory: %s", err);
	options_free(&c);
}

/* A FIFO would block the daemon's start for as long as nobody writes to it
 * (before, this test hung until its timeout). */
Test(config, a_fifo_is_refused_not_waited_on, .timeout = 10)
{
	char dir[] = "/tmp/leakd-config-XXXXXX", fifo[64];
	struct leakd_opts c;
	int ret;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/leakd.conf", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	options_defaults(&c);
	ret = config_load(fifo, &c, err, sizeof(err));
	unlink(fifo);
	rmdir(dir);
	cr_assert_eq(ret, -EINVAL, "%s", err);
	cr_assert(strstr(err, "leakd.conf: not a regular file"), "%s", err);
	if (access("/dev/null", R_OK) == 0) {
		cr_assert_eq(config_load("/dev/null", &c, err, sizeof(err)), -EINVAL);
		cr_assert(strstr(err, "/dev/null: not a regular file"), "%s", err);
	}
	options_free(&c);
}

Test(config, later_lines_override_earlier_and_lists_append)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "top_types = 3\ntop_types = 4\ninclude_unit = a.service\n"), 0, "%s", err);
	cr_assert_eq(parse_str(&c, "include_unit = b.service\n"), 0, "%s", err);
	cr_assert_eq(c.top_types, 4);
	cr_assert_eq(c.filter.n_include_unit, 2);
	cr_assert_str_eq(c.filter.include_unit[1], "b.service");
	cr_assert_eq(parse_str(&c, "include_unit =\ninclude_unit = c.service\n"), 0, "%s", err);
	cr_assert_eq(c.filter.n_include_unit, 1, "an empty value clears the list");
	cr_assert_str_eq(c.filter.include_unit[0], "c.service");
	options_free(&c);
	cr_assert_null(c.filter.include_unit);
	cr_assert_eq(c.filter.n_include_unit, 0);
	options_free(&c);	/* twice is harmless */
	options_free(NULL);
}

Test(config, later_settings_win_over_the_file)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_load(fixture("full.conf"), &c, err, sizeof(err)), 0, "%s", err);
	/* later settings win; an empty list value clears the file's list */
	cr_assert_eq(config_set(&c, "listen_address", "0.0.0.0:9477", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&c, "telemetry_path", "/m", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&c, "census_period", "3", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&c, "include_comm", "", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.listen_address, "0.0.0.0:9477");
	cr_assert_str_eq(c.telemetry_path, "/m");
	cr_assert_float_eq(c.census_period_s, 3.0, 1e-9);
	cr_assert_eq(c.filter.n_include_comm, 0);
	/* the file's key names only: no second spelling to document */
	cr_assert_eq(config_set(&c, "web.listen-address", ":1", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "nope", "1", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown key 'nope'");
	options_free(&c);
}

Test(config, durations_accept_units_and_enforce_minimum)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_set(&c, "census_period", "250ms", err, sizeof(err)), 0);
	cr_assert_float_eq(c.census_period_s, 0.25, 1e-9);
	cr_assert_eq(config_set(&c, "census_period", "1.5s", err, sizeof(err)), 0);
	cr_assert_float_eq(c.census_period_s, 1.5, 1e-9);
	cr_assert_eq(config_set(&c, "scan_interval", "1m", err, sizeof(err)), 0);
	cr_assert_float_eq(c.scan_interval_s, 60.0, 1e-9);
	cr_assert_eq(config_set(&c, "census_period", "0.05", err, sizeof(err)), 0);
	const char *bad[] = { "0.04", "0", "-1", "", "nan", "inf", "1h", "1 s", " 1", "10ms", "1e9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(config_set(&c, "census_period", bad[i], err, sizeof(err)), -EINVAL, "'%s'", bad[i]);
		cr_assert_float_eq(c.census_period_s, 0.05, 1e-9, "unchanged after '%s'", bad[i]);
	}
	cr_assert_eq(config_set(&c, "scan_interval", "0.05", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "invalid value for scan_interval: '0.05' (seconds, from 0.1 to "), "%s", err);
	options_free(&c);
}

Test(config, counts_are_bounded_integers)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_set(&c, "top_types", "0", err, sizeof(err)), 0);
	cr_assert_eq(c.top_types, 0);
	cr_assert_eq(config_set(&c, "max_processes", "65536", err, sizeof(err)), 0);
	cr_assert_eq(c.max_processes, 65536);
	cr_assert_eq(config_set(&c, "max_processes", "0", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "invalid value for max_processes: '0' (an integer 1-65536)");
	cr_assert_eq(config_set(&c, "top_types", "1001", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "top_types", "-1", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "top_types", "12x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "max_processes", "99999999999999999999", err, sizeof(err)), -EINVAL);
	cr_assert_eq(c.top_types, 0);
	cr_assert_eq(c.max_processes, 65536);
	options_free(&c);
}

Test(config, listen_address_forms)
{
	struct leakd_opts c;
	const char *good[] = { "127.0.0.1:9477", ":9477", "[::1]:9477", "[::]:1", "localhost:65535",
			       "[fe80::1%eth0]:9477", "my-host.example.com:80" };
	const char *bad[] = { "9477", "127.0.0.1", "127.0.0.1:", "::1:9477", "[::1]9477", "[]:9477",
			      "host:65536", "host:12a", "ho st:80", "[::1:9477", "host:+80", "" };

	options_defaults(&c);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(config_set(&c, "listen_address", good[i], err, sizeof(err)), 0, "'%s': %s", good[i], err);
		cr_assert_str_eq(c.listen_address, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(config_set(&c, "listen_address", bad[i], err, sizeof(err)), -EINVAL, "'%s'", bad[i]);
	cr_assert_str_eq(c.listen_address, "my-host.example.com:80");
	cr_assert(strstr(err, "(host:port, :port or [ipv6]:port)"), "%s", err);
	options_free(&c);
}

Test(config, telemetry_path_must_be_a_plain_path)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_set(&c, "telemetry_path", "/x/metrics", err, sizeof(err)), 0);
	cr_assert_eq(config_set(&c, "telemetry_path", "metrics", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "telemetry_path", "/a b", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "telemetry_path", "/m?x=1", err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_set(&c, "telemetry_path",
				"/0123456789012345678901234567890123456789012345678901234567890123", err,
				sizeof(err)), -EINVAL);
	cr_assert_str_eq(c.telemetry_path, "/x/metrics");
	options_free(&c);
}

Test(config, comm_pattern_longer_than_comm_is_rejected)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_set(&c, "include_comm", "gunicorn-worker-1", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "a comm is at most 15 characters"), "%s", err);
	cr_assert_eq(config_set(&c, "include_comm", "gunicorn-worker-*", err, sizeof(err)), 0, "a glob may be longer");
	cr_assert_eq(config_set(&c, "include_comm", "123456789012345", err, sizeof(err)), 0);
	cr_assert_eq(c.filter.n_include_comm, 2);
	options_free(&c);
}

Test(config, cgroup_prefix_must_be_absolute)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(config_set(&c, "include_cgroup", "system.slice", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "starts with '/'"), "%s", err);
	cr_assert_eq(config_set(&c, "include_cgroup", "///", err, sizeof(err)), 0);
	cr_assert_str_eq(c.filter.include_cgroup[0], "/");
	options_free(&c);
}

Test(config, a_flag_with_a_key_takes_on_or_off_in_the_file)
{
	/* --no-freeze and --ringbuf-mb have keys, so a service sets them in its file */
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_not(c.no_freeze);
	cr_assert_eq(parse_str(&c, "no_freeze = on\nringbuf_mb = 32\n"), 0, "%s", err);
	cr_assert(c.no_freeze);
	cr_assert_eq(c.ringbuf_bytes, (size_t)32 << 20);
	cr_assert_eq(parse_str(&c, "no_freeze = off\n"), 0, "%s", err);
	cr_assert_not(c.no_freeze);
	cr_assert_neq(parse_str(&c, "no_freeze = maybe\n"), 0);
	cr_assert_not_null(strstr(err, "no_freeze"), "the error names the key: %s", err);
	cr_assert_neq(parse_str(&c, "ringbuf_mb = 24\n"), 0, "not a power of two");
	options_free(&c);
}
