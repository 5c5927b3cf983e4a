// SPDX-License-Identifier: MIT
/*
 * report_sites: the sites and site coverage sections (see report_sites.h),
 * written through tablew.h's stream in the table; it calls nothing of
 * report.c.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "leakd/base/human.h"
#include "leakd/output/report_sites.h"
#include "leakd/output/tablew.h"

static void json_frame(struct jsonw *w, const struct report_frame *f)
{
	jsonw_kv_str(w, "file", f->file ? f->file : "");
	jsonw_kv_i64(w, "line", f->line);
	jsonw_kv_str(w, "function", f->function ? f->function : "");
}

/* The allocating line itself, then the whole stack (it included). */
static void json_stack(struct jsonw *w, const struct report_site *st)
{
	static const struct report_frame none = { "", 0, "" };

	json_frame(w, st->n_frames ? &st->frames[0] : &none);
	jsonw_key(w, "stack");
	jsonw_arr_begin(w);
	for (size_t j = 0; j < st->n_frames; j++) {
		jsonw_obj_begin(w);
		json_frame(w, &st->frames[j]);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_kv_bool(w, "truncated", st->truncated);
}

void report_sites_json(struct jsonw *w, const struct report_summary *s)
{
	jsonw_key(w, "sites");
	jsonw_arr_begin(w);
	for (size_t i = 0; s->sites && i < s->n_sites; i++) {
		const struct report_site *st = &s->sites[i];

		jsonw_obj_begin(w);
		jsonw_kv_str(w, "type", st->type ? st->type : "");
		json_stack(w, st);
		jsonw_kv_u64(w, "sampled", st->sampled);
		jsonw_kv_u64(w, "surviving", st->surviving);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

void report_live_sites_json(struct jsonw *w, const struct report_summary *s, const char *type)
{
	jsonw_key(w, "sites");
	jsonw_arr_begin(w);
	for (size_t i = 0; s->live_sites && i < s->n_live_sites; i++) {
		const struct report_site *st = &s->live_sites[i];

		if (!st->type || strcmp(st->type, type))
			continue;
		jsonw_obj_begin(w);
		json_stack(w, st);
		jsonw_kv_u64(w, "samples", st->surviving);
		jsonw_kv_u64(w, "live_bytes", (uint64_t)llround(st->live_bytes));
		jsonw_kv_u64(w, "live_objects", (uint64_t)llround(st->live_objects));
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

void report_sites_json_coverage(struct jsonw *w, const struct report_coverage *c)
{
	jsonw_key(w, "site_types");
	jsonw_arr_begin(w);
	for (size_t i = 0; c->site_types && i < c->n_site_types; i++) {
		const struct report_site_coverage *t = &c->site_types[i];

		jsonw_obj_begin(w);
		jsonw_kv_str(w, "type", t->type ? t->type : "");
		jsonw_kv_bool(w, "attributable", t->attributable);
		jsonw_kv_double(w, "share", t->share);
		jsonw_kv_u64(w, "probe_hits", t->probe_hits);
		if (t->new_instances < 0)
			jsonw_kv_null(w, "new_instances");
		else
			jsonw_kv_i64(w, "new_instances", t->new_instances);
		jsonw_kv_str(w, "note", t->note);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

/* ---- table ---- */

static void put_frame(struct tablew *o, const struct report_frame *f)
{
	tablew_esc(o, f->file);
	tablew_printf(o, ":%d in ", f->line);
	tablew_esc(o, f->function);
	tablew_printf(o, "()");
}

static void table_coverage(struct tablew *o, const struct report_coverage *c)
{
	tablew_printf(o, "  site coverage:");
	for (size_t i = 0; i < c->n_site_types; i++) {
		const struct report_site_coverage *t = &c->site_types[i];

		tablew_printf(o, "%s ", i ? ";" : "");
		tablew_esc(o, t->type);
		tablew_printf(o, " %s", t->attributable ? "attributable" : "not attributable");
		if (isfinite(t->share))
			tablew_printf(o, " (probes saw %.1f%% of %lld new instances)", 100.0 * t->share,
			    (long long)t->new_instances);
		if (t->note && *t->note) {
			tablew_printf(o, ": ");
			tablew_esc(o, t->note);
		}
	}
	tablew_printf(o, "\n");
}

/* Whether sites[0..i) already holds REPORT_SITES_TABLE_PER_TYPE sites of type. */
static bool type_full(const struct report_site *sites, size_t i, const char *type)
{
	size_t n = 0;

	for (size_t j = 0; j < i; j++)
		n += sites[j].type && type && !strcmp(sites[j].type, type);
	return n >= REPORT_SITES_TABLE_PER_TYPE;
}

/* "FRAME  <- FRAME ...  <- ..." for the innermost REPORT_SITES_TABLE_FRAMES. */
static void table_stack(struct tablew *o, const struct report_site *st)
{
	size_t n = st->n_frames < REPORT_SITES_TABLE_FRAMES ? st->n_frames : REPORT_SITES_TABLE_FRAMES;

	for (size_t j = 0; j < n; j++) {
		if (j)
			tablew_printf(o, "  <- ");
		put_frame(o, &st->frames[j]);
	}
	if (!n)
		tablew_printf(o, "(no Python frame)");
	if (n < st->n_frames || st->truncated)
		tablew_printf(o, "  <- ...");
}

int report_live_sites_table(FILE *f, const struct report_summary *s)
{
	struct tablew o = { .f = f };
	char b[32], c[32];

	if (!s->live_sites || !s->n_live_sites)
		return 0;
	tablew_printf(&o, "  LIVE BYTES MADE AT (estimated from byte samples; innermost frame first)\n");
	for (size_t i = 0; i < s->n_live_sites; i++) {
		const struct report_site *st = &s->live_sites[i];

		if (type_full(s->live_sites, i, st->type))
			continue;
		tablew_printf(&o, "  ");
		tablew_esc(&o, st->type);
		tablew_printf(&o, "  ~%s in ~%s objects made at ", human_bytes(b, sizeof(b), st->live_bytes),
				  human_count(c, sizeof(c), st->live_objects));
		table_stack(&o, st);
		tablew_printf(&o, "  (%llu sample%s)\n", (unsigned long long)st->surviving,
				  st->surviving == 1 ? "" : "s");
	}
	return o.err;
}

int report_sites_table(FILE *f, const struct report_summary *s)
{
	struct tablew o = { .f = f };

	if (s->coverage.site_types && s->coverage.n_site_types)
		table_coverage(&o, &s->coverage);
	if (!s->sites || !s->n_sites)
		return o.err;
	tablew_printf(&o, "  MADE AT (surviving of sampled allocations; innermost frame first)\n");
	for (size_t i = 0; i < s->n_sites; i++) {
		const struct report_site *st = &s->sites[i];

		if (type_full(s->sites, i, st->type))
			continue;
		tablew_printf(&o, "  ");
		tablew_esc(&o, st->type);
		tablew_printf(&o, "  made at ");
		table_stack(&o, st);
		tablew_printf(&o, "  (sampled %llu, surviving %llu)\n", (unsigned long long)st->sampled,
		    (unsigned long long)st->surviving);
	}
	return o.err;
}
