// SPDX-License-Identifier: MIT
/*
 * Command-line parsing for leakd: getopt_long over the options table
 * (options.c), which also parses each value; here only what is no single
 * setting's business: the command after "--", which mode an option belongs
 * to, and the combinations that make no session. Kept free of I/O so tests
 * can feed it any argv; main() prints the error line and exits with
 * LEAKD_EXIT_USAGE.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "leakd/app/cli.h"

#define LONG_BASE 0x100		/* getopt's val for table row i: LONG_BASE + i */

struct getopt_spec {
	struct option longopts[OPTIONS_MAX + 1];
	char shortopts[3 + 3 * OPTIONS_MAX];
};

/* getopt_long's view of the table: '+' stops at the command, ':' reports a
 * missing value as ':'. */
static void getopt_spec_build(struct getopt_spec *g)
{
	size_t n, k = 0, sk = 0;
	const struct opt_setting *t = options_table(&n);

	g->shortopts[sk++] = '+';
	g->shortopts[sk++] = ':';
	for (size_t i = 0; i < n; i++) {
		int arg = t[i].type == OPT_FLAG ? no_argument : required_argument;

		if (!t[i].flag)
			continue;
		g->longopts[k++] = (struct option){ t[i].flag, arg, NULL, LONG_BASE + (int)i };
		if (t[i].short_flag) {
			g->shortopts[sk++] = t[i].short_flag;
			if (arg == required_argument)
				g->shortopts[sk++] = ':';
		}
	}
	g->longopts[k] = (struct option){ 0 };
	g->shortopts[sk] = '\0';
}

/* Names the option as it was typed: "--pid" needs a value, not "-p". */
static void cli_option_error(int c, int argc, char **argv, char *err, size_t errlen)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	const char *what = c == ':' ? "needs a value" : "is unknown";

	if (!strncmp(arg, "--", 2))
		snprintf(err, errlen, "option '%.*s' %s", (int)strcspn(arg, "="), arg, what);
	else
		snprintf(err, errlen, "option '-%c' %s", optopt ? optopt : '?', what);
}

/* The row getopt returned c for, or NULL for an error. */
static const struct opt_setting *row_of(int c)
{
	size_t n;
	const struct opt_setting *t = options_table(&n);

	if (c >= LONG_BASE && (size_t)(c - LONG_BASE) < n)
		return &t[c - LONG_BASE];
	return c > 0 && c < LONG_BASE && c != ':' && c != '?' ? options_by_short((char)c) : NULL;
}

/* The first option given that the mode does not take (table order). */
static int check_modes(const struct leakd_opts *o, const bool *given, char *err, size_t errlen)
{
	size_t n;
	const struct opt_setting *t = options_table(&n);
	unsigned mode = o->daemon ? OPT_DAEMON : OPT_ADHOC;

	for (size_t i = 0; i < n; i++) {
		if (!given[i] || (t[i].modes & mode))
			continue;
		snprintf(err, errlen, "--%s does not apply to %s (%s)", t[i].flag,
			 o->daemon ? "--daemon" : "ad hoc sessions", options_modes_name(t[i].modes));
		return -ENOTSUP;
	}
	return 0;
}

/* What to trace: pids or a command, one of them, in an ad hoc session. */
static int check_targets(const struct leakd_opts *o, char *err, size_t errlen)
{
	if (o->daemon) {
		if (o->npids || o->cmd) {
			snprintf(err, errlen, "--daemon finds its processes itself: no --pid or command");
			return -EINVAL;
		}
		return 0;
	}
	if (!o->npids && !o->cmd) {
		snprintf(err, errlen, "nothing to trace: give --pid PID or -- COMMAND");
		return -EINVAL;
	}
	if (o->sites_at_start && o->site_window_s <= 0) {
		snprintf(err, errlen, "--sites needs a site window: --site-window 0 disables them");
		return -EINVAL;
	}
	if (o->npids && o->cmd) {
		snprintf(err, errlen, "give either --pid or a command, not both");
		return -EINVAL;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct leakd_opts *o, char *err, size_t errlen)
{
	struct getopt_spec g;
	bool given[OPTIONS_MAX] = { false };
	size_t n;
	const struct opt_setting *t = options_table(&n);
	int c, r;

	err[0] = '\0';
	getopt_spec_build(&g);
	optind = 0;	/* full reset: tests call us repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		const struct opt_setting *s = row_of(c);
		char why[160];

		if (!s) {
			cli_option_error(c, argc, argv, err, errlen);
			return -EINVAL;
		}
		r = options_set(o, s, optarg ? optarg : "", why, sizeof(why));
		if (r) {
			if (r == -ENOMEM)
				snprintf(err, errlen, "%s", why);
			else
				snprintf(err, errlen, "invalid --%s '%s' (%s)", s->flag, optarg, why);
			return r;
		}
		given[s - t] = true;
		if (o->help || o->version)
			return 0;
	}
	if (optind < argc) {
		/* getopt_long with '+' stops at the first non-option; "--" is consumed. */
		if (strcmp(argv[optind - 1], "--") != 0) {
			snprintf(err, errlen, "unexpected argument '%s' (a command goes after --)", argv[optind]);
			return -EINVAL;
		}
		o->cmd = &argv[optind];
	}
	r = check_modes(o, given, err, errlen);
	return r ? r : check_targets(o, err, errlen);
}
