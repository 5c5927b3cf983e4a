// SPDX-License-Identifier: MIT
/*
 * options_print: the two documents printed from the options table (see
 * options.h): --help, grouped by the modes a setting applies to, and
 * --print-config, every keyed setting in effect in the config file's own
 * syntax, so its output can be read back as a file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "leakd/app/options.h"

/* One --help line: "  -p, --pid PID   help (default 5)". */
static void help_line(FILE *f, const struct opt_setting *s)
{
	char head[64];

	if (s->short_flag)
		snprintf(head, sizeof(head), "  -%c, --%s%s%s", s->short_flag, s->flag, s->metavar ? " " : "",
			 s->metavar ? s->metavar : "");
	else
		snprintf(head, sizeof(head), "      --%s%s%s", s->flag, s->metavar ? " " : "",
			 s->metavar ? s->metavar : "");
	fprintf(f, "%-32s %s", head, s->help);
	if (s->def && s->type != OPT_STRING)
		fprintf(f, " (default %s)", s->def);
	fputc('\n', f);
}

int options_write_help(FILE *f)
{
	static const struct {
		unsigned modes;
		const char *title;
	} groups[] = { { OPT_ADHOC, "Ad hoc sessions" }, { OPT_BOTH, "Both modes" }, { OPT_DAEMON, "--daemon" } };
	size_t n;
	const struct opt_setting *t = options_table(&n);

	fputs("Usage: leakd [OPTIONS] --pid PID [--pid PID ...]\n"
	      "       leakd [OPTIONS] -- COMMAND [ARGS...]\n"
	      "       leakd --daemon [--config FILE] [OPTIONS]\n"
	      "Find memory leaks in running CPython processes from the outside.\n",
	      f);
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		fprintf(f, "\n%s:\n", groups[g].title);
		for (size_t i = 0; i < n; i++)
			if (t[i].flag && t[i].help && t[i].modes == groups[g].modes)
				help_line(f, &t[i]);
	}
	fputs("\nThe other daemon settings are keys of its configuration file (leakd --daemon --print-config\n"
	      "lists them); a setting on the command line overrides the file. An option of the other mode\n"
	      "is refused.\n"
	      "\n"
	      "Exit status: 0 no leak flagged, 3 leak flagged (with --fail-on-leak),\n"
	      "1 runtime error, 2 usage error.\n",
	      f);
	return ferror(f) ? -EIO : 0;
}

/* "key = value", quoted when the file's parser would otherwise trim or
 * unquote it. */
static void config_line(FILE *f, const char *key, const char *v)
{
	size_t n = strlen(v);
	bool quote = n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]) || v[0] == '"');

	fprintf(f, "%s =%s%s%s%s\n", key, n ? " " : "", quote ? "\"" : "", v, quote ? "\"" : "");
}

int options_write_config(FILE *f, const struct leakd_opts *o)
{
	char buf[256];
	size_t nt;
	const struct opt_setting *t = options_table(&nt);

	for (size_t i = 0; i < nt; i++) {
		const struct opt_setting *s = &t[i];

		if (!s->key)
			continue;
		if (!options_is_list(s)) {
			options_value(o, s, buf, sizeof(buf));
			config_line(f, s->key, buf);
			continue;
		}
		size_t n = *(const size_t *)((const char *)o + s->count_off);
		char *const *list = *(char *const *const *)((const char *)o + s->off);

		if (!n)
			config_line(f, s->key, "");
		for (size_t j = 0; j < n; j++)
			config_line(f, s->key, list[j]);
	}
	return ferror(f) ? -EIO : 0;
}
