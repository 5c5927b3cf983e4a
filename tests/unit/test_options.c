// SPDX-License-Identifier: MIT
/*
 * Tests for the options table: each type parses through options_set() with
 * one clear message naming the range, a default round-trips, the command
 * line wins over the config file, and --print-config writes every key.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/app/cli.h"
#include "leakd/app/config.h"
#include "leakd/app/options.h"

static char why[256];

static int set(struct leakd_opts *o, const char *key, const char *v)
{
	const struct opt_setting *s = options_by_key(key);

	if (!s)
		s = options_by_flag(key);
	cr_assert_not_null(s, "%s is in the table", key);
	return options_set(o, s, v, why, sizeof(why));
}

static char *print_config(const struct leakd_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(options_write_config(f, o), 0);
	fclose(f);
	return text;
}

Test(options, each_type_parses_and_states_its_range)
{
	struct leakd_opts o;

	options_defaults(&o);
	cr_assert_eq(set(&o, "census_period", "500ms"), 0);
	cr_assert_float_eq(o.census_period_s, 0.5, 1e-9);
	cr_assert_eq(set(&o, "census_period", "0.01"), -EINVAL);
	cr_assert_str_eq(why, "seconds, from 0.05 to 10000000; e.g. 2, 1.5s, 500ms, 1m");
	cr_assert_float_eq(o.census_period_s, 0.5, 1e-9, "unchanged");
	cr_assert_eq(set(&o, "max_pause_share", "2%"), 0);
	cr_assert_float_eq(o.max_pause_share, 0.02, 1e-12);
	cr_assert_eq(set(&o, "max_pause_share", "150%"), -EINVAL);
	cr_assert_str_eq(why, "a share in (0, 1], e.g. 0.5% or 0.005");
	cr_assert_eq(set(&o, "top_types", "1000"), 0);
	cr_assert_eq(set(&o, "top_types", "1001"), -EINVAL);
	cr_assert_str_eq(why, "an integer 0-1000");
	cr_assert_eq(set(&o, "site_windows", "yes"), 0);
	cr_assert(o.site_windows);
	cr_assert_eq(set(&o, "site_windows", "maybe"), -EINVAL);
	cr_assert_str_eq(why, "on or off");
	cr_assert_eq(set(&o, "holder_keys", "show"), 0);
	cr_assert_eq(o.holder_keys, LEAKD_HOLDER_KEYS_SHOW);
	cr_assert_eq(set(&o, "holder_keys", "all"), -EINVAL);
	cr_assert_str_eq(why, "shape or show");
	cr_assert_eq(set(&o, "mode", "trace"), 0);
	cr_assert_eq(o.mode, LEAKD_MODE_TRACE);
	cr_assert_eq(set(&o, "sample-bytes", "1M"), 0);
	cr_assert_eq(o.sample_bytes, 1u << 20);
	cr_assert_eq(set(&o, "sample-bytes", "2G"), -EINVAL);
	cr_assert_str_eq(why, "bytes, e.g. 512k or 1M, at most 1024M");
	cr_assert_eq(set(&o, "ringbuf-mb", "3"), -EINVAL);
	cr_assert_str_eq(why, "a power of two, 1-1024");
	cr_assert_eq(set(&o, "listen_address", "nohost"), -EINVAL);
	cr_assert_str_eq(why, "host:port, :port or [ipv6]:port");
	cr_assert_eq(set(&o, "include_cgroup", "/a/"), 0);
	cr_assert_str_eq(o.filter.include_cgroup[0], "/a");
	cr_assert_eq(set(&o, "include_comm", "a\nb"), -EINVAL, "one pattern a line in --print-config");
	options_free(&o);
}

Test(options, every_default_written_back_is_its_table_text)
{
	struct leakd_opts o;
	size_t n;
	const struct opt_setting *t = options_table(&n);
	char buf[128];

	options_defaults(&o);
	for (size_t i = 0; i < n; i++) {
		if (!t[i].def || t[i].type == OPT_BYTES)
			continue;
		options_value(&o, &t[i], buf, sizeof(buf));
		cr_assert_str_eq(buf, t[i].def, "%s", t[i].flag ? t[i].flag : t[i].key);
	}
	cr_assert_float_eq(o.max_pause_share, 0.005, 1e-12);
	cr_assert_eq(o.sample_bytes, 512u << 10);
}

/* What main() does for the daemon: the file over the defaults, then the
 * command line over the file. */
static int daemon_settings(struct leakd_opts *o, const char *file, int argc, char **argv, char *err)
{
	options_defaults(o);
	cr_assert_eq(config_parse(file, strlen(file), "t.conf", o, err, 256), 0, "%s", err);
	return cli_parse(argc, argv, o, err, 256);
}

Test(options, the_command_line_wins_over_the_file)
{
	static char *argv[] = { "leakd", "--daemon", "--census-period", "7", "--max-pause-share", "2%",
				"--web.listen-address", ":1234", NULL };
	struct leakd_opts o;
	char err[256], *text;

	cr_assert_eq(daemon_settings(&o, "census_period = 3\nmax_pause_share = 1%\ntop_types = 4\n"
				     "include_comm = py*\n", 8, argv, err), 0, "%s", err);
	text = print_config(&o);
	cr_assert(strstr(text, "\ncensus_period = 7\n"), "%s", text);
	cr_assert(strstr(text, "\nmax_pause_share = 2%\n"), "%s", text);
	cr_assert(strstr(text, "listen_address = :1234\n"), "%s", text);
	cr_assert(strstr(text, "\ntop_types = 4\n"), "the file's own setting stays: %s", text);
	cr_assert(strstr(text, "\ninclude_comm = py*\n"), "%s", text);
	free(text);
	options_free(&o);
}

Test(options, print_config_has_every_key_and_reads_back)
{
	struct leakd_opts o, back;
	size_t n, keys = 0;
	const struct opt_setting *t = options_table(&n);
	char err[256], *text, *again;

	options_defaults(&o);
	cr_assert_eq(set(&o, "exclude_unit", " spaced "), 0);
	cr_assert_eq(set(&o, "exclude_unit", "user@*.service"), 0);
	text = print_config(&o);
	for (size_t i = 0; i < n; i++) {
		char want[96];

		if (!t[i].key)
			continue;
		keys++;
		snprintf(want, sizeof(want), "%s =", t[i].key);
		cr_assert(strstr(text, want), "%s is not in --print-config:\n%s", t[i].key, text);
	}
	cr_assert_geq(keys, 19);
	cr_assert(strstr(text, "exclude_unit = \" spaced \"\nexclude_unit = user@*.service\n"), "%s", text);
	/* the output is a config file that gives the same settings */
	options_defaults(&back);
	cr_assert_eq(config_parse(text, strlen(text), "printed", &back, err, sizeof(err)), 0, "%s", err);
	again = print_config(&back);
	cr_assert_str_eq(again, text);
	free(again);
	free(text);
	options_free(&back);
	options_free(&o);
}
