/* SPDX-License-Identifier: MIT */
/*
 * report: the JSON-lines and table writers (see include/leakd/output/report.h).
 *
 * Responsible for turning plain report structs into text: the sample
 * records, and the summary section by section, calling report_sites.c and
 * report_holders.c for theirs at fixed places. The JSON field names and
 * their order are a contract scripts depend on; they are spelled out once,
 * here, in the order the records document them. The table is for people:
 * aligned columns, human-readable sizes, and a summary block that leads with
 * the verdict, written through tablew.h's stream. Strings that come from the
 * target (comm, exe, type names) are escaped by textesc in both formats (its
 * JSON and text styles), so a hostile process name cannot forge lines or
 * drive the terminal.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "leakd/base/human.h"
#include "leakd/base/jsonw.h"
#include "leakd/output/report.h"
#include "leakd/output/report_holders.h"
#include "leakd/output/report_sites.h"
#include "leakd/output/tablew.h"

#define REPORT_TYPE_COL	32	/* width of the type column in the table */

int report_format_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "table"))
		return REPORT_FORMAT_TABLE;
	if (!strcasecmp(s, "json"))
		return REPORT_FORMAT_JSON;
	return -EINVAL;
}

/* The newline after a JSON record; with a line-buffered stream this is the
 * write that reaches the file, so its errno (ENOSPC, EPIPE) is the one to say. */
static int json_end_line(FILE *f, int err)
{
	if (err)
		return err;
	errno = 0;
	if (fputc('\n', f) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

static const char *report_source_str(enum report_source s)
{
	return s == REPORT_SOURCE_PROBES ? "probes" : "census";
}

static const char *report_mode_str(enum report_mode m)
{
	return m == REPORT_MODE_TRACE ? "trace" : "gc";
}

/* ---- JSON ---- */

static void json_str_or_null(struct jsonw *w, const char *key, const char *s)
{
	if (s && *s)
		jsonw_kv_str(w, key, s);
	else
		jsonw_kv_null(w, key);
}

static void json_i64_or_null(struct jsonw *w, const char *key, int64_t v)
{
	if (v < 0)
		jsonw_kv_null(w, key);
	else
		jsonw_kv_i64(w, key, v);
}

/* A type row's name as a C string (the row's may fill its array, unterminated). */
static const char *type_row_name(char t[REPORT_TYPE_NAME_MAX + 1], const struct report_type_row *r)
{
	memcpy(t, r->type, sizeof(r->type));
	t[sizeof(r->type)] = '\0';
	return t;
}

/* Opens a type row of "top_types" or "live_types": its name and live
 * counts, the part both lists share; the caller adds the rest and closes. */
static void json_type_row_begin(struct jsonw *w, const struct report_type_row *r)
{
	jsonw_obj_begin(w);
	jsonw_key(w, "type");
	jsonw_strn(w, r->type, strnlen(r->type, sizeof(r->type)));
	jsonw_kv_u64(w, "live_objects", r->live_objects);
	jsonw_kv_u64(w, "live_bytes", r->live_bytes);
}

static int json_sample(FILE *f, const struct report_sample *s)
{
	struct jsonw w;

	jsonw_init(&w, f);
	jsonw_obj_begin(&w);
	jsonw_kv_str(&w, "kind", "sample");
	jsonw_kv_fixed(&w, "ts", s->ts, 3);
	jsonw_kv_u64(&w, "pid", s->pid);
	jsonw_kv_u64(&w, "live_objects", s->live_objects);
	jsonw_kv_u64(&w, "live_bytes", s->live_bytes);
	jsonw_kv_u64(&w, "allocs", s->allocs);
	jsonw_kv_u64(&w, "frees", s->frees);
	json_i64_or_null(&w, "rss_bytes", s->rss_bytes);
	json_i64_or_null(&w, "open_fds", s->open_fds);
	jsonw_kv_u64(&w, "gc_collections", s->gc_collections);
	jsonw_kv_str(&w, "source", report_source_str(s->source));
	jsonw_obj_end(&w);
	return json_end_line(f, jsonw_finish(&w));
}

static void json_str_list(struct jsonw *w, const char *key, const char *const *v, size_t n)
{
	jsonw_key(w, key);
	jsonw_arr_begin(w);
	for (size_t i = 0; v && i < n; i++)
		jsonw_str(w, v[i]);
	jsonw_arr_end(w);
}

/* The summary's identity and totals, the fields it opens with. */
static void json_head(struct jsonw *w, const struct report_summary *s)
{
	jsonw_kv_str(w, "kind", "summary");
	jsonw_kv_u64(w, "pid", s->pid);
	json_str_or_null(w, "comm", s->comm);
	json_str_or_null(w, "exe", s->exe);
	json_str_or_null(w, "python", s->python);
	jsonw_kv_double(w, "duration_s", s->duration_s);
	jsonw_kv_bool(w, "exited", s->exited);
	jsonw_kv_u64(w, "allocs", s->allocs);
	jsonw_kv_u64(w, "frees", s->frees);
	jsonw_kv_u64(w, "live_objects", s->live_objects);
	jsonw_kv_u64(w, "live_bytes", s->live_bytes);
	jsonw_kv_u64(w, "dropped_events", s->dropped_events);
}

static void json_gc(struct jsonw *w, const struct report_gc *gc)
{
	jsonw_key(w, "gc");
	jsonw_obj_begin(w);
	jsonw_key(w, "collections");
	jsonw_arr_begin(w);
	for (int g = 0; g < 3; g++)
		jsonw_u64(w, gc->collections[g]);
	jsonw_arr_end(w);
	jsonw_kv_u64(w, "collected", gc->collected);
	jsonw_kv_u64(w, "uncollectable", gc->uncollectable);
	jsonw_obj_end(w);
}

/* The verdict. */
static void json_growth(struct jsonw *w, const struct report_growth *g)
{
	jsonw_key(w, "growth");
	jsonw_obj_begin(w);
	jsonw_kv_bool(w, "leak", g->leak);
	jsonw_kv_double(w, "bytes_per_s", g->bytes_per_s);
	jsonw_kv_double(w, "objects_per_s", g->objects_per_s);
	jsonw_kv_double(w, "confidence", g->confidence);
	jsonw_kv_str(w, "reason", g->reason);
	jsonw_obj_end(w);
}

static void json_size_classes(struct jsonw *w, const struct report_summary *s)
{
	jsonw_key(w, "size_classes");
	jsonw_arr_begin(w);
	for (size_t i = 0; s->size_classes && i < s->n_size_classes; i++) {
		const struct report_size_row *r = &s->size_classes[i];

		jsonw_obj_begin(w);
		jsonw_kv_u64(w, "size", r->size);
		jsonw_kv_u64(w, "live_objects", r->live_objects);
		jsonw_kv_u64(w, "live_bytes", r->live_bytes);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

static void json_top_types(struct jsonw *w, const struct report_summary *s)
{
	jsonw_key(w, "top_types");
	jsonw_arr_begin(w);
	for (size_t i = 0; s->top_types && i < s->n_top_types; i++) {
		const struct report_type_row *r = &s->top_types[i];

		json_type_row_begin(w, r);
		jsonw_kv_double(w, "growth_per_s", r->growth_per_s);
		jsonw_kv_double(w, "bytes_per_s", r->bytes_per_s);
		jsonw_kv_bool(w, "leak", r->leak);
		jsonw_key(w, "generations");
		if (r->has_generations) {
			jsonw_arr_begin(w);
			for (int g = 0; g < 4; g++)
				jsonw_u64(w, r->generations[g]);
			jsonw_arr_end(w);
		} else {
			jsonw_null(w);
		}
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

/* Trace mode's live table by type, each row with the sites its bytes were
 * sampled at. */
static void json_live_types(struct jsonw *w, const struct report_summary *s)
{
	jsonw_key(w, "live_types");
	jsonw_arr_begin(w);
	for (size_t i = 0; s->live_types && i < s->n_live_types; i++) {
		const struct report_type_row *r = &s->live_types[i];
		char t[REPORT_TYPE_NAME_MAX + 1];

		json_type_row_begin(w, r);
		report_live_sites_json(w, s, type_row_name(t, r));
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

static void json_coverage(struct jsonw *w, const struct report_coverage *c)
{
	jsonw_key(w, "coverage");
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "mode", report_mode_str(c->mode));
	json_str_list(w, "signals", c->signals, c->n_signals);
	json_str_list(w, "probes", c->probes, c->n_probes);
	jsonw_kv_double(w, "tracked_seen_by_probes", c->tracked_seen_by_probes);
	json_str_or_null(w, "warning", c->warning);
	report_sites_json_coverage(w, c);
	jsonw_obj_end(w);
}

static void json_census(struct jsonw *w, const struct report_census *c)
{
	jsonw_key(w, "census");
	jsonw_obj_begin(w);
	jsonw_kv_u64(w, "runs", c->runs);
	jsonw_kv_u64(w, "pause_us_max", c->pause_us_max);
	jsonw_kv_u64(w, "pause_us_mean", c->pause_us_mean);
	jsonw_kv_u64(w, "objects_walked", c->objects_walked);
	jsonw_kv_u64(w, "skipped_mid_gc", c->skipped_mid_gc);
	jsonw_kv_bool(w, "reachable", c->reachable);
	jsonw_kv_u64(w, "reach_us_mean", c->reach_us_mean);
	jsonw_kv_u64(w, "untracked_objects", c->untracked_objects);
	jsonw_kv_double(w, "period_s", c->period_s);
	jsonw_kv_double(w, "pause_share", c->pause_share);
	json_str_or_null(w, "partial", c->partial);
	jsonw_obj_end(w);
}

static void json_memory(struct jsonw *w, const struct report_memory *m)
{
	jsonw_key(w, "memory");
	jsonw_obj_begin(w);
	json_i64_or_null(w, "python_objects", m->python_objects);
	json_i64_or_null(w, "pymalloc_arenas", m->pymalloc_arenas);
	json_i64_or_null(w, "pymalloc_used", m->pymalloc_used);
	json_i64_or_null(w, "other_heap", m->other_heap);
	json_i64_or_null(w, "rss", m->rss);
	jsonw_obj_end(w);
}

/* The summary record, its sections in their contract order. */
static int json_summary(FILE *f, const struct report_summary *s)
{
	struct jsonw w;

	jsonw_init(&w, f);
	jsonw_obj_begin(&w);
	json_head(&w, s);
	json_gc(&w, &s->gc);
	json_growth(&w, &s->growth);
	json_size_classes(&w, s);
	json_top_types(&w, s);
	json_live_types(&w, s);
	json_i64_or_null(&w, "open_fds", s->open_fds);
	json_i64_or_null(&w, "rss_bytes", s->rss_bytes);
	json_coverage(&w, &s->coverage);
	json_census(&w, &s->census);
	json_memory(&w, &s->memory);
	report_holders_json(&w, s->holders);
	report_sites_json(&w, s);
	jsonw_obj_end(&w);
	return json_end_line(f, jsonw_finish(&w));
}

/* ---- table ---- */

#define TABLE_SAMPLE_FMT "%-8s %7s %12s %11s %12s %12s %6s %11s  %s\n"

static int table_header(FILE *f)
{
	struct tablew o = { .f = f };

	tablew_printf(&o, TABLE_SAMPLE_FMT, "TIME", "PID", "LIVE_OBJS", "LIVE_BYTES",
		   "ALLOCS", "FREES", "FDS", "RSS", "SOURCE");
	return tablew_end(&o);
}

static int table_sample(FILE *f, const struct report_sample *s)
{
	struct tablew o = { .f = f };
	char tbuf[16] = "-", pid[16], lo[32], lb[32], al[32], fr[32], fds[32], rss[32];
	time_t t = (time_t)s->ts;
	struct tm tm;

	if (isfinite(s->ts) && localtime_r(&t, &tm))
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	snprintf(pid, sizeof(pid), "%u", s->pid);
	human_count(lo, sizeof(lo), (double)s->live_objects);
	human_bytes(lb, sizeof(lb), (double)s->live_bytes);
	human_count(al, sizeof(al), (double)s->allocs);
	human_count(fr, sizeof(fr), (double)s->frees);
	human_count(fds, sizeof(fds), s->open_fds < 0 ? NAN : (double)s->open_fds);
	human_bytes(rss, sizeof(rss), s->rss_bytes < 0 ? NAN : (double)s->rss_bytes);
	tablew_printf(&o, TABLE_SAMPLE_FMT, tbuf, pid, lo, lb, al, fr, fds, rss,
		   report_source_str(s->source));
	return tablew_end(&o);
}

static void table_list(struct tablew *o, const char *const *v, size_t n)
{
	char buf[1024];

	if (!v || !n) {
		tablew_printf(o, "-");
		return;
	}
	for (size_t i = 0; i < n; i++)
		tablew_printf(o, "%s%s", i ? ", " : "", tablew_printable(buf, sizeof(buf), v[i]));
}

/* The title, the executable, the verdict and the growth behind it. */
static void table_verdict(struct tablew *o, const struct report_summary *s)
{
	/* room for the escapes: a control byte takes 4 characters, "\xHH" */
	char comm[4 * REPORT_COMM_MAX], exe[4 * REPORT_PATH_MAX], py[4 * REPORT_PYVER_MAX];
	char reason[4 * REPORT_REASON_MAX];
	char a[32], b[32];

	tablew_printable(comm, sizeof(comm), s->comm);
	tablew_printable(exe, sizeof(exe), s->exe);
	tablew_printable(py, sizeof(py), s->python);
	tablew_printable(reason, sizeof(reason), s->growth.reason);
	if (isfinite(s->duration_s))
		snprintf(a, sizeof(a), "%.1f s", s->duration_s);
	else
		snprintf(a, sizeof(a), "- s");
	tablew_printf(o, "== pid %u (%s) python %s, %s%s ==\n", s->pid, comm, py, a, s->exited ? ", exited" : "");
	tablew_printf(o, "  exe: %s\n", exe);
	tablew_printf(o, "  %s: %s\n", s->growth.leak ? "LEAK SUSPECTED" : "no leak", reason);
	human_bytes(b + 1, sizeof(b) - 1, s->growth.bytes_per_s);
	b[0] = '+';
	tablew_printf(o, "  growth: objects %s/s, bytes %s/s, confidence %.2f\n",
		      human_rate(a, sizeof(a), s->growth.objects_per_s),
		      s->growth.bytes_per_s > 0 ? b : b + 1,
		      isfinite(s->growth.confidence) ? s->growth.confidence : 0.0);
}

/* The live totals, the process's fds and RSS, and the collector's counts. */
static void table_counts(struct tablew *o, const struct report_summary *s)
{
	char a[32], b[32], c[32], d[32];

	tablew_printf(o, "  live: %s objects, %s; allocs %s, frees %s, dropped events %llu\n",
		      human_count(a, sizeof(a), (double)s->live_objects),
		      human_bytes(b, sizeof(b), (double)s->live_bytes),
		      human_count(c, sizeof(c), (double)s->allocs),
		      human_count(d, sizeof(d), (double)s->frees),
		      (unsigned long long)s->dropped_events);
	tablew_printf(o, "  process: %s open fds, rss %s\n",
		      human_count(a, sizeof(a), s->open_fds < 0 ? NAN : (double)s->open_fds),
		      human_bytes(b, sizeof(b), s->rss_bytes < 0 ? NAN : (double)s->rss_bytes));
	tablew_printf(o, "  gc: collections %llu/%llu/%llu (gen0/1/2), collected %s, uncollectable %s\n",
		      (unsigned long long)s->gc.collections[0], (unsigned long long)s->gc.collections[1],
		      (unsigned long long)s->gc.collections[2],
		      human_count(a, sizeof(a), (double)s->gc.collected),
		      human_count(b, sizeof(b), (double)s->gc.uncollectable));
}

static void table_coverage(struct tablew *o, const struct report_coverage *c)
{
	char warn[4 * REPORT_WARNING_MAX];

	tablew_printf(o, "  coverage: %s mode; signals: ", report_mode_str(c->mode));
	table_list(o, c->signals, c->n_signals);
	tablew_printf(o, "; probes: ");
	table_list(o, c->probes, c->n_probes);
	if (isfinite(c->tracked_seen_by_probes))
		tablew_printf(o, "; probes saw %.1f%% of live tracked objects", 100.0 * c->tracked_seen_by_probes);
	tablew_printf(o, "\n");
	if (c->warning[0])
		tablew_printf(o, "  warning: %s\n", tablew_printable(warn, sizeof(warn), c->warning));
}

/* The census line: its runs and pauses, the reach after the thaw, what it skipped. */
static void table_census(struct tablew *o, const struct report_census *c)
{
	char warn[4 * REPORT_WARNING_MAX];
	char a[32], b[32];

	tablew_printf(o, "  census: %llu runs, pause max %llu us, mean %llu us, %s objects walked",
		      (unsigned long long)c->runs, (unsigned long long)c->pause_us_max,
		      (unsigned long long)c->pause_us_mean, human_count(a, sizeof(a), (double)c->objects_walked));
	if (c->runs)
		tablew_printf(o, ", stopped %.2f%% of the time, period %.1f s", 100.0 * c->pause_share, c->period_s);
	if (c->reachable)
		tablew_printf(o, "; %s untracked objects reached in %llu us after the thaw",
			      human_count(b, sizeof(b), (double)c->untracked_objects),
			      (unsigned long long)c->reach_us_mean);
	if (c->skipped_mid_gc)
		tablew_printf(o, "; %llu skipped (the collector was running)", (unsigned long long)c->skipped_mid_gc);
	tablew_printf(o, "\n");
	if (c->partial[0])
		tablew_printf(o, "  partial census: %s\n", tablew_printable(warn, sizeof(warn), c->partial));
}

/* Where the memory is (nothing when no census measured it). */
static void table_memory(struct tablew *o, const struct report_memory *m)
{
	char a[32], b[32], c[32];

	if (m->python_objects < 0)
		return;
	tablew_printf(o, "  memory: python objects %s, other heap %s, rss %s",
		      human_bytes(a, sizeof(a), (double)m->python_objects),
		      human_bytes(b, sizeof(b), m->other_heap < 0 ? NAN : (double)m->other_heap),
		      human_bytes(c, sizeof(c), m->rss < 0 ? NAN : (double)m->rss));
	if (m->pymalloc_arenas >= 0)
		tablew_printf(o, "; pymalloc arenas %s, %s of pools in use",
			      human_bytes(a, sizeof(a), (double)m->pymalloc_arenas),
			      human_bytes(b, sizeof(b), (double)m->pymalloc_used));
	tablew_printf(o, "\n");
}

static void table_top_types(struct tablew *o, const struct report_summary *s)
{
	char name[4 * REPORT_TYPE_NAME_MAX], t[REPORT_TYPE_NAME_MAX + 1];
	char a[32], b[32], c[32], d[32];

	if (!s->top_types || !s->n_top_types)
		return;
	tablew_printf(o, "  %-*s %12s %10s %10s %10s\n", REPORT_TYPE_COL, "TYPE", "LIVE", "GROWTH/S", "BYTES",
		      "BYTES/S");
	for (size_t i = 0; i < s->n_top_types; i++) {
		const struct report_type_row *r = &s->top_types[i];

		tablew_printf(o, "  %-*s %12s %10s %10s %10s%s\n", REPORT_TYPE_COL,
			      tablew_printable(name, sizeof(name), type_row_name(t, r)),
			      human_count(a, sizeof(a), (double)r->live_objects),
			      human_rate(b, sizeof(b), r->growth_per_s),
			      human_bytes(c, sizeof(c), (double)r->live_bytes),
			      human_bytes(d, sizeof(d), r->bytes_per_s),
			      r->leak ? "  LEAK" : "");
	}
}

/* Trace mode's live table by type, then where those bytes were made. */
static void table_live_types(struct tablew *o, const struct report_summary *s)
{
	char name[4 * REPORT_TYPE_NAME_MAX], t[REPORT_TYPE_NAME_MAX + 1];
	char a[32], b[32];

	if (!s->live_types || !s->n_live_types)
		return;
	tablew_printf(o, "  %-*s %12s %12s\n", REPORT_TYPE_COL, "LIVE ALLOCATIONS BY TYPE", "LIVE", "BYTES");
	for (size_t i = 0; i < s->n_live_types; i++) {
		const struct report_type_row *r = &s->live_types[i];

		tablew_printf(o, "  %-*s %12s %12s\n", REPORT_TYPE_COL,
			      tablew_printable(name, sizeof(name), type_row_name(t, r)),
			      human_count(a, sizeof(a), (double)r->live_objects),
			      human_bytes(b, sizeof(b), (double)r->live_bytes));
	}
	if (!o->err)
		o->err = report_live_sites_table(o->f, s);
}

static void table_size_classes(struct tablew *o, const struct report_summary *s)
{
	char a[32], b[32], c[32];

	if (!s->size_classes || !s->n_size_classes)
		return;
	tablew_printf(o, "  %-12s %12s %12s\n", "SIZE<=", "LIVE", "BYTES");
	for (size_t i = 0; i < s->n_size_classes; i++) {
		const struct report_size_row *r = &s->size_classes[i];

		tablew_printf(o, "  %-12s %12s %12s\n", human_bytes(a, sizeof(a), (double)r->size),
			      human_count(b, sizeof(b), (double)r->live_objects),
			      human_bytes(c, sizeof(c), (double)r->live_bytes));
	}
}

/* The summary block: the verdict first, then what it rests on, the types,
 * the sites and the holders. */
static int table_summary(FILE *f, const struct report_summary *s)
{
	struct tablew o = { .f = f };

	table_verdict(&o, s);
	table_counts(&o, s);
	table_coverage(&o, &s->coverage);
	table_census(&o, &s->census);
	table_memory(&o, &s->memory);
	table_top_types(&o, s);
	if (!o.err)
		o.err = report_sites_table(f, s);
	table_live_types(&o, s);
	table_size_classes(&o, s);
	if (!o.err)
		o.err = report_holders_table(f, s->holders);
	return tablew_end(&o);
}

/* ---- entry points ---- */

int report_write_header(FILE *f, enum report_format fmt)
{
	if (!f)
		return -EINVAL;
	switch (fmt) {
	case REPORT_FORMAT_TABLE:
		return table_header(f);
	case REPORT_FORMAT_JSON:
		return 0;
	}
	return -EINVAL;
}

int report_write_sample(FILE *f, enum report_format fmt, const struct report_sample *s)
{
	if (!f || !s)
		return -EINVAL;
	switch (fmt) {
	case REPORT_FORMAT_TABLE:
		return table_sample(f, s);
	case REPORT_FORMAT_JSON:
		return json_sample(f, s);
	}
	return -EINVAL;
}

int report_write_summary(FILE *f, enum report_format fmt, const struct report_summary *s)
{
	if (!f || !s)
		return -EINVAL;
	switch (fmt) {
	case REPORT_FORMAT_TABLE:
		return table_summary(f, s);
	case REPORT_FORMAT_JSON:
		return json_summary(f, s);
	}
	return -EINVAL;
}
