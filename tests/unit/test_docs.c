// SPDX-License-Identifier: MIT
/*
 * Docs that cannot drift: every flag of the options table is in
 * `leakd --help`, the man page and the README with the table's default; every config key is in
 * docs/fleet.md and systemd/leakd.conf with the default the options table
 * has; every metric family the exposition can emit is in docs/metrics.md,
 * and nothing documented there is never emitted. Change one side only and
 * one of these fails. Run from the repository root (make unit does).
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "leakd/app/options.h"
#include "leakd/output/metrics.h"

#define MAX_NAMES 128
#define NOT_STATED "(synopsis)"	/* named in a synopsis line, which states no defaults */

struct names {
	char name[MAX_NAMES][64];
	char deflt[MAX_NAMES][32];	/* "" when the text gives none */
	size_t n;
};

static char *slurp(const char *path)
{
	char *buf = golden_read_all(path);

	cr_assert_not_null(buf, "%s: run from the repository root", path);
	return buf;
}

static size_t names_find(const struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->name[i], name))
			return i;
	return (size_t)-1;
}

static void names_add(struct names *ns, const char *name, size_t len)
{
	char tmp[64];

	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	if (names_find(ns, tmp) != (size_t)-1 || ns->n == MAX_NAMES)
		return;
	snprintf(ns->name[ns->n++], sizeof(ns->name[0]), "%s", tmp);
}

/* The first word after "default " in [from, to): backticks, quotes and troff
 * font escapes (\fI...\fR) dropped, up to a space, ')', ',' or ';'. */
static void default_in(const char *from, const char *to, char *out, size_t len)
{
	const char *d;
	size_t k = 0;

	out[0] = '\0';
	for (d = from; d && d < to; d++)
		if (!strncmp(d, "default ", 8))
			break;
	if (!d || d >= to)
		return;
	for (d += 8; d < to && !strchr("), ;\n", *d) && k + 1 < len; d++) {
		if (d[0] == '\\' && d[1] == 'f' && d + 2 < to) {
			d += 2;
			continue;
		}
		if (*d != '`' && *d != '"')
			out[k++] = *d;
	}
	out[k] = '\0';
}

/* Long options ("--name") in text, with the default on the same line. */
static void options_in_lines(const char *text, struct names *ns, const char *dash)
{
	size_t dl = strlen(dash);

	for (const char *p = text; (p = strstr(p, dash)); ) {
		const char *s = p + dl, *e = s, *eol = strchr(p, '\n');
		size_t i;

		while (isalnum((unsigned char)*e) || *e == '.' || *e == '-' || (*e == '\\' && e[1] == '-'))
			e += *e == '\\' ? 2 : 1;
		if (e > s && isalpha((unsigned char)*s)) {
			char clean[64];
			size_t k = 0;

			for (const char *c = s; c < e && k + 1 < sizeof(clean); c++)
				if (*c != '\\')
					clean[k++] = *c;
			names_add(ns, clean, k);
			i = names_find(ns, (clean[k] = '\0', clean));
			if (i != (size_t)-1 && !ns->deflt[i][0])
				default_in(e, eol ? eol : e + strlen(e), ns->deflt[i], sizeof(ns->deflt[i]));
		}
		p = e > p + dl ? e : p + dl;
	}
}

/* The man page: each option's paragraph runs to the next .TP. */
static void options_in_man(const char *man, struct names *ns)
{
	const char *opts = strstr(man, ".SH OPTIONS"), *end = opts ? strstr(opts + 4, "\n.SH ") : NULL;

	cr_assert(opts && end, "the man page has an OPTIONS section");
	for (const char *p = opts; p < end && (p = strstr(p, "\n.TP\n")) && p < end; p += 5) {
		const char *head = p + 5, *eol = strchr(head, '\n'), *next = strstr(head, "\n.TP\n");
		struct names here = { 0 };
		char d[32];

		if (!eol || !next || next > end)
			next = end;
		char *first = strndup(head, (size_t)(eol - head));

		options_in_lines(first, &here, "\\-\\-");
		free(first);
		default_in(eol, next, d, sizeof(d));
		for (size_t i = 0; i < here.n; i++) {
			names_add(ns, here.name[i], strlen(here.name[i]));
			snprintf(ns->deflt[names_find(ns, here.name[i])], sizeof(ns->deflt[0]), "%s", d);
		}
	}
}

static char *help_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(options_write_help(f), 0);
	fclose(f);
	return text;
}

/* Every flag of the table is in the text, with the table's default where
 * the text states one; and the text documents no flag the table lacks. */
static void assert_table_options(const char *what, const struct names *got)
{
	size_t n;
	const struct opt_setting *t = options_table(&n);

	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!t[i].flag || !t[i].help)
			continue;
		j = names_find(got, t[i].flag);
		cr_assert_neq(j, (size_t)-1, "--%s is in the options table but not in %s", t[i].flag, what);
		if (t[i].def && t[i].type != OPT_STRING && got->deflt[j][0] && strcmp(got->deflt[j], NOT_STATED))
			cr_assert_str_eq(got->deflt[j], t[i].def, "--%s: default %s in the table, '%s' in %s",
					 t[i].flag, t[i].def, got->deflt[j], what);
	}
	for (size_t j = 0; j < got->n; j++) {
		const struct opt_setting *s = options_by_flag(got->name[j]);

		cr_assert(s && s->help, "%s documents --%s, which the options table lacks", what, got->name[j]);
	}
}

Test(docs, every_option_in_help_man_page_and_readme_with_the_same_default)
{
	static struct names help, man, readme;
	char *m = slurp("docs/leakd.8"), *r = slurp("README.md");
	const char *table = strstr(r, "| option | meaning |"), *fleet = strstr(r, "`leakd --daemon");

	char *h = help_text();

	options_in_lines(h, &help, "--");
	cr_assert_geq(help.n, 15, "the parser found the options in --help");
	assert_table_options("leakd --help", &help);
	options_in_man(m, &man);
	assert_table_options("docs/leakd.8", &man);
	/* README: the options table, and the daemon's synopsis line */
	cr_assert(table && fleet, "README has its options table and the daemon's synopsis");
	{
		char *part = strndup(table, (size_t)(strstr(table, "\n\n") - table));
		char *line = strndup(fleet, (size_t)(strchr(fleet, '\n') - fleet));

		struct names synopsis = { 0 };

		options_in_lines(part, &readme, "--");
		options_in_lines(line, &synopsis, "--");
		for (size_t i = 0; i < synopsis.n; i++)
			if (names_find(&readme, synopsis.name[i]) == (size_t)-1) {
				names_add(&readme, synopsis.name[i], strlen(synopsis.name[i]));
				strcpy(readme.deflt[readme.n - 1], NOT_STATED);
			}
		names_add(&readme, "help", 4);		/* the README says "--help" nowhere: */
		names_add(&readme, "version", 7);	/* these two are for people at a terminal */
		free(part);
		free(line);
	}
	assert_table_options("README.md", &readme);
	free(h);
	free(m);
	free(r);
}

Test(docs, every_config_key_in_fleet_md_and_leakd_conf_with_its_default)
{
	struct leakd_opts o;
	char *fleet = slurp("docs/fleet.md"), *conf = slurp("systemd/leakd.conf");
	size_t n, keys = 0;
	const struct opt_setting *t = options_table(&n);

	options_defaults(&o);
	for (size_t i = 0; i < n; i++) {
		const char *k = t[i].key, *val = t[i].def ? t[i].def : "";
		char row[96], line[192], got[128];

		if (!k)
			continue;
		keys++;
		/* the table's default text is what the defaults hold, written back */
		cr_assert_gt(options_value(&o, &t[i], got, sizeof(got)), -1);
		cr_assert_str_eq(got, val, "%s: default '%s' in the table, '%s' once parsed", k, val, got);
		snprintf(row, sizeof(row), "| `%s`", k);
		const char *r = strstr(fleet, row);

		/* lists share a row: "| `include_comm`, `exclude_comm` |" */
		if (!r) {
			snprintf(row, sizeof(row), "`%s` |", k);
			r = strstr(fleet, row);
		}
		cr_assert_not_null(r, "config key %s is not in docs/fleet.md's table", k);
		if (val[0]) {
			char want[160];

			snprintf(want, sizeof(want), "| `%s` |", val);
			const char *eol = strchr(r, '\n');
			const char *hit = strstr(r, want);

			cr_assert(hit && hit < eol, "docs/fleet.md gives %s another default than %s", k, val);
			snprintf(line, sizeof(line), "\n#%s = %s\n", k, val);
			cr_assert_not_null(strstr(conf, line), "systemd/leakd.conf lacks \"#%s = %s\"", k, val);
		} else {
			snprintf(line, sizeof(line), "\n#%s =", k);
			cr_assert_not_null(strstr(conf, line), "systemd/leakd.conf does not show %s", k);
		}
	}
	cr_assert_geq(keys, 10);
	options_free(&o);
	free(fleet);
	free(conf);
}

Test(docs, every_metric_emitted_is_documented_and_every_documented_one_emitted)
{
	/* one process with every optional value known, so every family renders */
	static const struct metrics_type_row types[] = { { "dict", 10, 1000 } };
	static const struct metrics_holder_row holders[] = { { "dict", "module m . X (list) [*] -> dict" } };
	struct metrics_proc p = {
		.pid = 1, .comm = "p", .exe = "/usr/bin/python3", .python = "3.11.2", .unit = "", .container = "",
		.live_objects = 1, .live_bytes = 1, .objects_growth_per_s = 1, .bytes_growth_per_s = 1,
		.leak_suspected = true, .leak_confidence = 1, .gc_known = true, .open_fds = 3, .rss_bytes = 1,
		.other_heap_bytes = 1, .census_runs = 1, .census_pause_seconds_max = 0.001,
		.census_period_seconds = 1, .types = types, .ntypes = 1, .holders = holders, .nholders = 1,
	};
	struct metrics_self s = { .version = "x", .bpf_run_time_seconds_total = 1, .bpf_runs_total = 1 };
	char *out = NULL, *doc = slurp("docs/metrics.md");
	size_t len = 0, emitted = 0;

	cr_assert_eq(metrics_render(&out, &len, &s, &p, 1), 0);
	for (const char *t = out; (t = strstr(t, "# TYPE ")); t++) {
		char name[96], row[112];

		cr_assert_eq(sscanf(t, "# TYPE %95s", name), 1);
		snprintf(row, sizeof(row), "| `%s` |", name);
		cr_assert_not_null(strstr(doc, row), "%s is emitted but not in docs/metrics.md's tables", name);
		emitted++;
	}
	for (const char *d = doc; (d = strstr(d, "\n| `leakd_")); d++) {
		char name[96], type[112];

		cr_assert_eq(sscanf(d, "\n| `%95[a-z_]`", name), 1);
		snprintf(type, sizeof(type), "# TYPE %s ", name);
		cr_assert_not_null(strstr(out, type), "docs/metrics.md documents %s, which is never emitted", name);
	}
	cr_assert_geq(emitted, 20);
	free(out);
	free(doc);
}
