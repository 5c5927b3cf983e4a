// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/app/cli.h"

/* cli_parse keeps pointers into argv (o->cmd): the array must outlive the
 * call, while ARGV's compound literal dies with the block of the assertion
 * macro it is written in. So parse works on a static copy. */
static int parse(struct leakd_opts *o, char *err, int argc, char **argv)
{
	static char *kept[64];

	cr_assert_lt(argc, 64);
	memcpy(kept, argv, (size_t)(argc + 1) * sizeof(*argv));
	options_defaults(o);
	return cli_parse(argc, kept, o, err, 256);
}

#define ARGV(...) ((char *[]){ "leakd", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "leakd", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) parse(o, err, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

Test(cli, pids_and_defaults)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--pid", "12", "-p", "34"), 0, "%s", err);
	cr_assert_eq(o.npids, 2);
	cr_assert_eq(o.pids[0], 12);
	cr_assert_eq(o.pids[1], 34);
	cr_assert_eq(o.mode, LEAKD_MODE_GC);
	cr_assert_eq(o.format, REPORT_FORMAT_TABLE);
	cr_assert_float_eq(o.interval_s, 5.0, 1e-9);
	cr_assert_float_eq(o.duration_s, 0.0, 1e-9);
	cr_assert_null(o.cmd);
}

Test(cli, command_after_double_dash)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--format", "json", "--duration", "2.5", "--", "python3", "-c", "pass"), 0, "%s", err);
	cr_assert_not_null(o.cmd);
	cr_assert_str_eq(o.cmd[0], "python3");
	cr_assert_str_eq(o.cmd[1], "-c");
	cr_assert_null(o.cmd[3]);
	cr_assert_eq(o.format, REPORT_FORMAT_JSON);
	cr_assert_float_eq(o.duration_s, 2.5, 1e-9);
}

Test(cli, command_options_are_not_ours)
{
	struct leakd_opts o;
	char err[256];

	/* "-p" after "--" belongs to the command. */
	cr_assert_eq(PARSE(&o, err, "--", "python3", "-p", "1"), 0, "%s", err);
	cr_assert_eq(o.npids, 0);
	cr_assert_str_eq(o.cmd[1], "-p");
}

Test(cli, mode_output_and_flags)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-m", "trace", "-o", "/tmp/x", "--fail-on-leak", "--no-freeze", "-p", "7",
			   "--ringbuf-mb", "64", "--interval", "0.5"), 0, "%s", err);
	cr_assert_eq(o.mode, LEAKD_MODE_TRACE);
	cr_assert_str_eq(o.output, "/tmp/x");
	cr_assert(o.fail_on_leak);
	cr_assert(o.no_freeze);
	cr_assert_eq(o.ringbuf_bytes, 64u << 20);
	cr_assert_float_eq(o.interval_s, 0.5, 1e-9);
}

Test(cli, site_windows)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-p", "7"), 0, "%s", err);
	cr_assert_float_eq(o.site_window_s, 10.0, 1e-9);
	cr_assert_not(o.sites_at_start);
	cr_assert_eq(PARSE(&o, err, "-p", "7", "--site-window", "2.5", "--sites"), 0, "%s", err);
	cr_assert_float_eq(o.site_window_s, 2.5, 1e-9);
	cr_assert(o.sites_at_start);
	cr_assert_eq(PARSE(&o, err, "-p", "7", "--site-window", "0"), 0, "%s", err);
	cr_assert_float_eq(o.site_window_s, 0.0, 1e-9);
	cr_assert_eq(PARSE(&o, err, "-p", "7", "--site-window", "0", "--sites"), -EINVAL);
	cr_assert(strstr(err, "--sites"), "%s", err);
	cr_assert_eq(PARSE(&o, err, "-p", "7", "--site-window", "-1"), -EINVAL);
	cr_assert(strstr(err, "--site-window"), "%s", err);
}

Test(cli, usage_errors_name_the_problem)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--pid", "abc"), -EINVAL);
	cr_assert_str_eq(err, "invalid --pid 'abc' (a process id)");
	cr_assert_eq(PARSE(&o, err, "--pid", "0"), -EINVAL);
	cr_assert_eq(PARSE(&o, err, "--mode", "fast", "-p", "1"), -EINVAL);
	cr_assert(strstr(err, "--mode"), "%s", err);
	cr_assert_eq(PARSE(&o, err, "--format", "xml", "-p", "1"), -EINVAL);
	cr_assert_eq(PARSE(&o, err, "--duration", "-1", "-p", "1"), -EINVAL);
	cr_assert_eq(PARSE(&o, err, "--interval", "nan", "-p", "1"), -EINVAL);
	cr_assert_eq(PARSE(&o, err, "--ringbuf-mb", "3", "-p", "1"), -EINVAL);
	cr_assert_eq(PARSE(&o, err, "--bogus"), -EINVAL);
	cr_assert(strstr(err, "--bogus"), "%s", err);
	cr_assert_eq(PARSE(&o, err, "python3"), -EINVAL);
	cr_assert(strstr(err, "after --"), "%s", err);
	cr_assert_eq(PARSE(&o, err, "--pid", "1", "--", "python3"), -EINVAL);
	cr_assert_eq(PARSE(&o, err, "--interval"), -EINVAL);
}

Test(cli, a_missing_value_names_the_option_as_typed)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--pid"), -EINVAL);
	cr_assert_str_eq(err, "option '--pid' needs a value");
	cr_assert_eq(PARSE(&o, err, "-p"), -EINVAL);
	cr_assert_str_eq(err, "option '-p' needs a value");
	cr_assert_eq(PARSE(&o, err, "-p", "1", "--duration"), -EINVAL);
	cr_assert_str_eq(err, "option '--duration' needs a value");
	cr_assert_eq(PARSE(&o, err, "--bogus=1", "-p", "1"), -EINVAL);
	cr_assert_str_eq(err, "option '--bogus' is unknown");
	cr_assert_eq(PARSE(&o, err, "-x", "-p", "1"), -EINVAL);
	cr_assert_str_eq(err, "option '-x' is unknown");
}

Test(cli, a_time_out_of_range_states_the_range)
{
	struct leakd_opts o;
	char err[256], max[32];

	cr_assert_eq(PARSE(&o, err, "--duration", "1e12", "-p", "1"), -EINVAL);
	cr_assert(strstr(err, "invalid --duration '1e12' (seconds, from 0.001 to "), "%s", err);
	/* the upper bound it states is the one it applies */
	cr_assert(sscanf(strstr(err, " to ") + 4, "%31[0-9]", max) == 1, "%s", err);
	cr_assert_eq(PARSE(&o, err, "--duration", max, "-p", "1"), 0, "%s", err);
	cr_assert_float_eq(o.duration_s, strtod(max, NULL), 1e-9);
	cr_assert_eq(PARSE(&o, err, "--interval", "0.01", "-p", "1"), -EINVAL);
	cr_assert(strstr(err, "invalid --interval '0.01' (seconds, from 0.05 to "), "%s", err);
	cr_assert_eq(PARSE(&o, err, "--census-period", "1e300", "-p", "1"), -EINVAL);
	cr_assert(strstr(err, "--census-period"), "%s", err);
}

Test(cli, times_take_the_config_files_units)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--duration", "2m", "--interval", "500ms", "--census-period", "1.5s",
			   "-p", "1"), 0, "%s", err);
	cr_assert_float_eq(o.duration_s, 120, 1e-9);
	cr_assert_float_eq(o.interval_s, 0.5, 1e-9);
	cr_assert_float_eq(o.census_period_s, 1.5, 1e-9);
	cr_assert_eq(PARSE(&o, err, "--duration", "2h", "-p", "1"), -EINVAL);
	cr_assert(strstr(err, "invalid --duration '2h'"), "%s", err);
}

Test(cli, nothing_to_trace_is_a_usage_error)
{
	struct leakd_opts o;
	char err[256];
	char *argv[] = { "leakd", NULL };

	cr_assert_eq(parse(&o, err, 1, argv), -EINVAL);
	cr_assert(strstr(err, "nothing to trace"), "%s", err);
}

Test(cli, help_short_circuits)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--help"), 0);
	cr_assert(o.help);
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		cr_assert_eq(options_write_help(f), 0);
		fclose(f);
		cr_assert(strstr(text, "--fail-on-leak"));
		free(text);
	}
}

Test(cli, daemon_mode_and_its_options)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--daemon", "--config", "/tmp/l.conf", "--web.listen-address", ":9999",
			   "--web.telemetry-path", "/m"), 0, "%s", err);
	cr_assert(o.daemon);
	cr_assert_str_eq(o.config_path, "/tmp/l.conf");
	cr_assert_str_eq(o.listen_address, ":9999");
	cr_assert_str_eq(o.telemetry_path, "/m");
	cr_assert_eq(PARSE(&o, err, "--daemon", "--pid", "1"), -ENOTSUP);
	cr_assert_str_eq(err, "--pid does not apply to --daemon (ad hoc sessions only)");
	cr_assert_eq(PARSE(&o, err, "--daemon", "--", "python3"), -EINVAL);
	cr_assert(strstr(err, "no --pid or command"), "%s", err);
	cr_assert_eq(PARSE(&o, err, "--config", "/tmp/l.conf", "--pid", "1"), -ENOTSUP);
	cr_assert_str_eq(err, "--config does not apply to ad hoc sessions (--daemon only)");
}

Test(cli, an_ad_hoc_option_with_daemon_is_refused_naming_option_and_mode)
{
	static const char *const adhoc[][2] = {
		{ "--format", "json" }, { "--duration", "5" }, { "-o", "x" }, { "--output", "x" }, { "--graph", "g.dot" },
		{ "--fail-on-leak", NULL }, { "--mode", "trace" }, { "--interval", "3" }, { "--sites", NULL },
		{ "--site-window", "5" }, { "--holders", NULL }, { "--summary-only", NULL }, { "--sample-bytes", "1M" },
	};
	struct leakd_opts o;
	char err[256], want[128];

	for (size_t i = 0; i < sizeof(adhoc) / sizeof(adhoc[0]); i++) {
		const char *name = !strcmp(adhoc[i][0], "-o") ? "--output" : adhoc[i][0];

		snprintf(want, sizeof(want), "%s does not apply to --daemon (ad hoc sessions only)", name);
		if (adhoc[i][1]) {
			cr_assert_eq(PARSE(&o, err, "--daemon", (char *)adhoc[i][0], (char *)adhoc[i][1]), -ENOTSUP, "%s", name);
			cr_assert_str_eq(err, want);
			/* the order does not matter */
			cr_assert_eq(PARSE(&o, err, (char *)adhoc[i][0], (char *)adhoc[i][1], "--daemon"), -ENOTSUP);
		} else {
			cr_assert_eq(PARSE(&o, err, "--daemon", (char *)adhoc[i][0]), -ENOTSUP, "%s", name);
		}
		cr_assert_str_eq(err, want);
	}
}

Test(cli, a_daemon_option_without_daemon_is_refused)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--print-config", "-p", "1"), -ENOTSUP);
	cr_assert_str_eq(err, "--print-config does not apply to ad hoc sessions (--daemon only)");
	cr_assert_eq(PARSE(&o, err, "-p", "1", "--web.listen-address", ":1"), -ENOTSUP);
	cr_assert_str_eq(err, "--web.listen-address does not apply to ad hoc sessions (--daemon only)");
}

Test(cli, settings_of_both_modes_are_taken_by_the_daemon)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "--daemon", "--census-period", "7", "--max-pause-share", "2%", "--no-freeze",
			   "--ringbuf-mb", "32", "--print-config"), 0, "%s", err);
	cr_assert_float_eq(o.census_period_s, 7, 1e-9);
	cr_assert_float_eq(o.max_pause_share, 0.02, 1e-12);
	cr_assert(o.no_freeze);
	cr_assert_eq(o.ringbuf_bytes, 32u << 20);
	cr_assert(o.print_config);
}

Test(cli, the_format_is_the_reports_enum)
{
	struct leakd_opts o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-f", "json", "-p", "1"), 0, "%s", err);
	cr_assert_eq(o.format, REPORT_FORMAT_JSON);
	cr_assert_eq(PARSE(&o, err, "-f", "yaml", "-p", "1"), -EINVAL);
	cr_assert_str_eq(err, "invalid --format 'yaml' (table or json)");
}
