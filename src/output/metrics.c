/* SPDX-License-Identifier: MIT */
/*
 * metrics: the Prometheus text exposition writer (see include/leakd/output/metrics.h).
 *
 * Responsible for the names, types, help texts and label sets of every
 * family leakd exports, spelled out once in the tables below, and for the
 * text format's rules: all samples of a family together after one HELP and
 * one TYPE line, label values escaped (backslash, double quote, newline;
 * other control characters spelled out, see textesc.h), valid UTF-8, numbers Go's parser reads back exactly. A family with no
 * sample is left out, as client_golang does, so a scrape never carries a
 * HELP line with nothing under it.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/output/metrics.h"
#include "leakd/base/textesc.h"

/* ---- values ---- */

/* Assumes the C numeric locale is in effect (the callers arrange it). */
static const char *metrics_fmt_c(char *buf, size_t len, double v)
{
	if (!buf || !len)
		return buf;
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return buf;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return buf;
	}
	/* %.17g always round-trips but prints 0.1 as 0.10000000000000001;
	 * the first precision that reads back exactly is the shortest. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

/* Switches this thread to the C numeric locale for the duration of a
 * render: a daemon that called setlocale(LC_ALL, "") in a German locale
 * would otherwise print "0,25", which Prometheus rejects. */
struct metrics_locale {
	locale_t c, prev;
};

static int metrics_locale_enter(struct metrics_locale *l)
{
	l->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (l->c == (locale_t)0)
		return -ENOMEM;
	l->prev = uselocale(l->c);
	return 0;
}

static void metrics_locale_leave(struct metrics_locale *l)
{
	uselocale(l->prev);
	freelocale(l->c);
}

const char *metrics_format_value(char *buf, size_t len, double v)
{
	struct metrics_locale l;

	if (metrics_locale_enter(&l) < 0) {
		/* no memory for a locale object: the current one will do */
		return metrics_fmt_c(buf, len, v);
	}
	metrics_fmt_c(buf, len, v);
	metrics_locale_leave(&l);
	return buf;
}

/* ---- strings ---- */

/* A label value between the quotes, in textesc's exposition style. */
static void metrics_put_label_value(FILE *f, const char *v)
{
	v = v ? v : "";
	textesc_write(f, v, strlen(v), TEXTESC_PROM);
}

/* ---- families ---- */

struct metrics_family {
	const char *name;
	const char *type;	/* "gauge", "counter", "summary" */
	const char *help;
};

/* Writes HELP and TYPE before a family's first sample only. */
struct metrics_writer {
	FILE *f;
	const struct metrics_family *fam;
	bool started;
};

static void metrics_family_begin(struct metrics_writer *w, const struct metrics_family *fam)
{
	w->fam = fam;
	w->started = false;
}

static void metrics_header(struct metrics_writer *w)
{
	if (w->started)
		return;
	fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", w->fam->name, w->fam->help, w->fam->name,
		w->fam->type);
	w->started = true;
}

static void metrics_put_value(FILE *f, double v)
{
	char num[40];

	fprintf(f, " %s\n", metrics_fmt_c(num, sizeof(num), v));
}

/* The per-process labels, in a fixed order, without the braces. */
static void metrics_put_proc_labels(FILE *f, const struct metrics_proc *p)
{
	fprintf(f, "pid=\"%" PRIu32 "\",comm=\"", p->pid);
	metrics_put_label_value(f, p->comm);
	fputs("\",exe=\"", f);
	metrics_put_label_value(f, p->exe);
	fputs("\",python=\"", f);
	metrics_put_label_value(f, p->python);
	fputs("\",unit=\"", f);
	metrics_put_label_value(f, p->unit);
	fputs("\",container=\"", f);
	metrics_put_label_value(f, p->container);
	fputc('"', f);
}

/* One per-process sample with up to two further labels ("generation";
 * "type" and "holder"); a NULL key ends them. */
static void metrics_proc_sample2(struct metrics_writer *w, const struct metrics_proc *p, const char *key1,
				 const char *val1, const char *key2, const char *val2, double v)
{
	const char *keys[2] = { key1, key1 ? key2 : NULL }, *vals[2] = { val1, val2 };

	if (isnan(v))
		return;
	metrics_header(w);
	fprintf(w->f, "%s{", w->fam->name);
	metrics_put_proc_labels(w->f, p);
	for (int i = 0; i < 2 && keys[i]; i++) {
		fprintf(w->f, ",%s=\"", keys[i]);
		metrics_put_label_value(w->f, vals[i]);
		fputc('"', w->f);
	}
	fputc('}', w->f);
	metrics_put_value(w->f, v);
}

/* One per-process sample; extra is a further label ("generation") or NULL. */
static void metrics_proc_sample(struct metrics_writer *w, const struct metrics_proc *p,
				const char *extra_key, const char *extra_val, double v)
{
	metrics_proc_sample2(w, p, extra_key, extra_val, NULL, NULL, v);
}

static double metrics_signed(int64_t v)
{
	return v < 0 ? NAN : (double)v;
}

/* Per-process families that are one number per process. */
struct metrics_proc_family {
	struct metrics_family fam;
	double (*get)(const struct metrics_proc *p);	/* NaN -> no sample */
};

static double get_live_objects(const struct metrics_proc *p) { return p->live_objects; }
static double get_live_bytes(const struct metrics_proc *p) { return p->live_bytes; }
static double get_objects_growth(const struct metrics_proc *p) { return p->objects_growth_per_s; }
static double get_bytes_growth(const struct metrics_proc *p) { return p->bytes_growth_per_s; }
static double get_leak_suspected(const struct metrics_proc *p) { return p->leak_suspected ? 1 : 0; }
static double get_leak_confidence(const struct metrics_proc *p) { return p->leak_confidence; }
static double get_gc_collected(const struct metrics_proc *p)
{
	return p->gc_known ? (double)p->gc_collected : NAN;
}
static double get_gc_uncollectable(const struct metrics_proc *p)
{
	return p->gc_known ? (double)p->gc_uncollectable : NAN;
}
static double get_open_fds(const struct metrics_proc *p) { return metrics_signed(p->open_fds); }
static double get_rss(const struct metrics_proc *p) { return metrics_signed(p->rss_bytes); }
static double get_census_runs(const struct metrics_proc *p) { return (double)p->census_runs; }
static double get_pause_max(const struct metrics_proc *p) { return p->census_pause_seconds_max; }
static double get_other_heap(const struct metrics_proc *p) { return metrics_signed(p->other_heap_bytes); }
static double get_census_period(const struct metrics_proc *p) { return p->census_period_seconds; }

static const struct metrics_proc_family metrics_proc_families_a[] = {
	{ { "leakd_live_objects", "gauge",
	    "Live objects in the process at the last census: GC-tracked ones and all they reach." },
	  get_live_objects },
	{ { "leakd_live_bytes", "gauge",
	    "Bytes of the live objects at the last census, item arrays and hash tables included." },
	  get_live_bytes },
	{ { "leakd_live_objects_growth_per_second", "gauge",
	    "Growth rate of the floor of live objects (Theil-Sen slope), objects per second." },
	  get_objects_growth },
	{ { "leakd_live_bytes_growth_per_second", "gauge",
	    "Growth rate of the floor of live bytes (Theil-Sen slope), bytes per second." },
	  get_bytes_growth },
	{ { "leakd_leak_suspected", "gauge",
	    "1 if leakd flags the process as leaking (a floor keeps rising), else 0." },
	  get_leak_suspected },
	{ { "leakd_leak_confidence", "gauge",
	    "Confidence of the strongest growth signal, 0 to 1 (one-sided Mann-Kendall)." },
	  get_leak_confidence },
};

/* leakd_gc_collections_total{generation} goes between these two groups. */
static const struct metrics_family metrics_gc_collections = {
	"leakd_gc_collections_total", "counter",
	"Collections the interpreter's cyclic GC ran, by generation.",
};

static const struct metrics_proc_family metrics_proc_families_b[] = {
	{ { "leakd_gc_collected_objects_total", "counter",
	    "Objects the interpreter's cyclic GC freed." }, get_gc_collected },
	{ { "leakd_gc_uncollectable_objects_total", "counter",
	    "Objects the interpreter's cyclic GC found unreachable but could not free." },
	  get_gc_uncollectable },
	{ { "leakd_open_fds", "gauge", "Open file descriptors of the process." }, get_open_fds },
	{ { "leakd_resident_memory_bytes", "gauge", "Resident set size of the process in bytes." },
	  get_rss },
	{ { "leakd_other_heap_bytes", "gauge",
	    "Anonymous resident memory not explained by the live objects: native allocations, "
	    "allocator retention." }, get_other_heap },
	{ { "leakd_census_runs_total", "counter",
	    "Censuses (walks of the GC lists) run on the process." }, get_census_runs },
	{ { "leakd_census_pause_seconds_max", "gauge",
	    "Longest time the process was stopped for one census, in seconds." }, get_pause_max },
	{ { "leakd_census_period_seconds", "gauge",
	    "Census period the pause budget chose for the process, in seconds." }, get_census_period },
};

static const struct metrics_family metrics_type_family = {
	"leakd_type_live_objects", "gauge",
	"Live objects of one type at the last census (top types only).",
};

static const struct metrics_family metrics_type_bytes_family = {
	"leakd_type_live_bytes", "gauge",
	"Bytes of the live objects of one type at the last census (top types only).",
};

static const struct metrics_family metrics_holder_family = {
	"leakd_leak_holder_info", "gauge",
	"What holds a leaking type's instances: a path from a root, 1 per path (at most 5 per process).",
};

static void metrics_proc_family(struct metrics_writer *w, const struct metrics_proc_family *pf,
				const struct metrics_proc *procs, size_t n)
{
	metrics_family_begin(w, &pf->fam);
	for (size_t i = 0; i < n; i++)
		metrics_proc_sample(w, &procs[i], NULL, NULL, pf->get(&procs[i]));
}

/* Type rows, duplicates summed into the first: two names truncated to the
 * same prefix must not become two identical series, which Prometheus would
 * reject. Top-K is small, so the quadratic scan costs nothing. */
static void metrics_types(struct metrics_writer *w, const struct metrics_proc *p, bool bytes)
{
	for (size_t i = 0; i < p->ntypes; i++) {
		const char *name = p->types[i].type ? p->types[i].type : "";
		double sum = NAN;
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(p->types[j].type ? p->types[j].type : "", name);
		if (seen)
			continue;
		for (size_t j = i; j < p->ntypes; j++) {
			double v = bytes ? p->types[j].live_bytes : p->types[j].live_objects;

			if (isnan(v) || strcmp(p->types[j].type ? p->types[j].type : "", name))
				continue;
			sum = isnan(sum) ? v : sum + v;
		}
		metrics_proc_sample(w, p, "type", name, sum);
	}
}

/* leakd's own families: no labels, or one fixed label. */
static void metrics_self_sample(struct metrics_writer *w, const struct metrics_family *fam,
				const char *suffix, const char *key, const char *val, double v)
{
	if (isnan(v))
		return;
	if (w->fam != fam)
		metrics_family_begin(w, fam);
	metrics_header(w);
	fprintf(w->f, "%s%s", fam->name, suffix ? suffix : "");
	if (key) {
		fprintf(w->f, "{%s=\"", key);
		metrics_put_label_value(w->f, val);
		fputs("\"}", w->f);
	}
	metrics_put_value(w->f, v);
}

static const struct metrics_family metrics_self_families[] = {
#define F_BUILD		0
	{ "leakd_build_info", "gauge", "A metric with a constant 1 value labeled by the leakd version." },
#define F_ATTACHED	1
	{ "leakd_attached_processes", "gauge", "Python processes leakd watches now." },
#define F_EVENTS	2
	{ "leakd_events_total", "counter", "Ring-buffer records leakd consumed." },
#define F_DROPPED	3
	{ "leakd_dropped_events_total", "counter",
	  "Ring-buffer records lost for lack of space (raise --ringbuf-mb)." },
#define F_PAUSE		4
	{ "leakd_census_pause_seconds", "summary",
	  "Time targets were stopped for censuses, all processes, in seconds." },
#define F_CAPS		5
	{ "leakd_cap_hits_total", "counter",
	  "Times a bound on leakd's memory was hit (processes, types, live entries)." },
#define F_BPF_TIME	6
	{ "leakd_bpf_run_time_seconds_total", "counter",
	  "Time spent in leakd's BPF programs, in seconds (needs kernel.bpf_stats_enabled=1)." },
#define F_BPF_RUNS	7
	{ "leakd_bpf_runs_total", "counter",
	  "Runs of leakd's BPF programs (needs kernel.bpf_stats_enabled=1)." },
};

static void metrics_render_self(struct metrics_writer *w, const struct metrics_self *s)
{
	const struct metrics_family *fa = metrics_self_families;

	metrics_self_sample(w, &fa[F_BUILD], NULL, "version", s->version ? s->version : "unknown", 1);
	metrics_self_sample(w, &fa[F_ATTACHED], NULL, NULL, NULL, (double)s->attached_processes);
	metrics_self_sample(w, &fa[F_EVENTS], NULL, NULL, NULL, (double)s->events_total);
	metrics_self_sample(w, &fa[F_DROPPED], NULL, NULL, NULL, (double)s->dropped_events_total);
	/* A summary with no quantiles: _sum and _count give the mean pause
	 * over any range with rate(); the per-process _max gauge the worst. */
	metrics_self_sample(w, &fa[F_PAUSE], "_sum", NULL, NULL,
			    isnan(s->census_pause_seconds_sum) ? 0 : s->census_pause_seconds_sum);
	metrics_self_sample(w, &fa[F_PAUSE], "_count", NULL, NULL, (double)s->census_total);
	metrics_self_sample(w, &fa[F_CAPS], NULL, "cap", "processes", (double)s->processes_cap_hits_total);
	metrics_self_sample(w, &fa[F_CAPS], NULL, "cap", "types", (double)s->types_cap_hits_total);
	metrics_self_sample(w, &fa[F_CAPS], NULL, "cap", "live_entries",
			    (double)s->live_entries_cap_hits_total);
	metrics_self_sample(w, &fa[F_BPF_TIME], NULL, NULL, NULL, s->bpf_run_time_seconds_total);
	metrics_self_sample(w, &fa[F_BPF_RUNS], NULL, NULL, NULL, s->bpf_runs_total);
}

static void metrics_render_procs(struct metrics_writer *w, const struct metrics_proc *procs, size_t n)
{
	static const char *const gen[3] = { "0", "1", "2" };
	const size_t na = sizeof(metrics_proc_families_a) / sizeof(metrics_proc_families_a[0]);
	const size_t nb = sizeof(metrics_proc_families_b) / sizeof(metrics_proc_families_b[0]);

	for (size_t k = 0; k < na; k++)
		metrics_proc_family(w, &metrics_proc_families_a[k], procs, n);

	metrics_family_begin(w, &metrics_gc_collections);
	for (size_t i = 0; i < n; i++) {
		if (!procs[i].gc_known)
			continue;
		for (int g = 0; g < 3; g++)
			metrics_proc_sample(w, &procs[i], "generation", gen[g],
					    (double)procs[i].gc_collections[g]);
	}

	for (size_t k = 0; k < nb; k++)
		metrics_proc_family(w, &metrics_proc_families_b[k], procs, n);

	metrics_family_begin(w, &metrics_type_family);
	for (size_t i = 0; i < n; i++)
		metrics_types(w, &procs[i], false);
	metrics_family_begin(w, &metrics_type_bytes_family);
	for (size_t i = 0; i < n; i++)
		metrics_types(w, &procs[i], true);
	/* the caller's rows are distinct and bounded (holdsched_rows()) */
	metrics_family_begin(w, &metrics_holder_family);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < procs[i].nholders; k++)
			metrics_proc_sample2(w, &procs[i], "type", procs[i].holders[k].type, "holder",
					     procs[i].holders[k].holder, 1);
}

int metrics_render(char **buf, size_t *len, const struct metrics_self *self,
		   const struct metrics_proc *procs, size_t n)
{
	struct metrics_writer w = { 0 };
	struct metrics_locale loc;
	char *out = NULL;
	size_t outlen = 0;
	int err;

	if (!buf || !len || !self || (!procs && n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((!procs[i].types && procs[i].ntypes) || (!procs[i].holders && procs[i].nholders))
			return -EINVAL;
	}

	err = metrics_locale_enter(&loc);
	if (err < 0)
		return err;
	w.f = open_memstream(&out, &outlen);
	if (!w.f) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* Processes first, leakd's own families after, as exporters put
	 * their process_* and build_info families last. */
	metrics_render_procs(&w, procs, n);
	metrics_render_self(&w, self);
	/* open_memstream's only failure is running out of memory */
	err = ferror(w.f) ? -ENOMEM : 0;
	if (fclose(w.f) != 0 && !err)
		err = -ENOMEM;
	if (err < 0)
		goto cleanup;
	*buf = out;
	*len = outlen;
	out = NULL;
cleanup:
	free(out);
	metrics_locale_leave(&loc);
	return err;
}
