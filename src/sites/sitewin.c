// SPDX-License-Identifier: MIT
/*
 * sitewin: site windows on one traced process (see sitewin.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/census/census.h"
#include "leakd/probes/allocplan.h"
#include "leakd/probes/probes.h"
#include "leakd/python/codeobj.h"
#include "leakd/python/pystack.h"
#include "leakd/sites/sitehost.h"
#include "leakd/sites/sites.h"
#include "leakd/sites/sitewin.h"
#include "leakd/process/remote.h"
#include "leakd/process/target.h"
#include "leakd/verdict/verdict.h"

/* The probes tag of the window's own allocation probes. */
#define SITEWIN_TAG 0x517e
/* Classes the --sites baseline remembers from the first census. */
#define SITEWIN_BASELINE_MAX 4096
/* The verdict runs over every type's series (a Theil-Sen slope each): at
 * most this often, not at every census (measured: at every census it took
 * enough CPU on a loaded 2-vCPU VM that the census pauses tripled and the
 * pause budget stretched the period from 8 s to 40 s). */
#define SITEWIN_VERDICT_EVERY_S 5.0
/* Below this share of its new instances seen by the probes, a class is not
 * attributable: its sites would rank a minority path. */
#define SITEWIN_MIN_SHARE 0.5

enum win_state { WIN_IDLE = 0, WIN_OPEN, WIN_CLOSED };

struct wtype {
	uint64_t addr;
	char name[REPORT_TYPE_NAME_MAX];
	bool heap;		/* a class defined in Python: windows open for it */
	bool in_window, measured;
	bool cut;		/* its window opened at the session's last census: nothing measured */
	uint64_t hits;		/* typed probe allocations of it during its window */
	uint64_t count_open, count_close;
};

struct baseline {
	uint64_t addr, objects;
	bool grew;		/* it had grown since the census before */
};

struct sitewin {
	struct sites_host h;		/* the process: its state, current */
	struct probes *p;
	double window_s, opened;
	bool at_start;
	enum win_state state;
	struct leakd_pyconf conf;
	struct allocplan typed;		/* the window's own probes */
	bool use_own;			/* the trace plan has no typed entry point: attach ours */
	bool own_ever;			/* ours were attached once: their records are ours */
	bool conf_set;
	struct codeobj_cache *codes;
	struct sites *sites;
	struct wtype types[SITEWIN_MAX_TYPES];
	size_t ntypes;
	struct baseline *base;
	size_t nbase;
	uint64_t stacks, stack_errors;
	unsigned checks;		/* survival checks done */
	double last_verdict;
	double budget_s, hour_start, spent;	/* window seconds per hour per process */
	char why[160];			/* why windows cannot run here, or "" */
	/* summary storage */
	struct sites_site ranked[SITEWIN_MAX_TYPES * SITEWIN_SITES_PER_TYPE];
	struct report_site out_sites[SITEWIN_MAX_TYPES * SITEWIN_SITES_PER_TYPE];
	struct report_frame out_frames[SITEWIN_MAX_TYPES * SITEWIN_SITES_PER_TYPE][LEAKD_MAX_PYFRAMES];
	struct report_site_coverage out_cov[SITEWIN_MAX_TYPES];
	char notes[SITEWIN_MAX_TYPES][160];
};

int sitewin_new(const struct sites_host *h, struct probes *p, double window_s, bool at_start,
		struct sitewin **out)
{
	struct sitewin *w;
	int err;

	if (!h || !p || !out || !(window_s > 0))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->h = *h;
	w->p = p;
	w->window_s = window_s;
	w->at_start = at_start;
	w->budget_s = h->window_budget_s;
	w->hour_start = -1e9;
	w->last_verdict = -1e9;
	err = pystack_conf_sampling(h->layout, h->t->runtime_addr, h->sample_bytes, &w->conf);
	if (!err)
		err = codeobj_cache__new(h->layout, 0, &w->codes);
	if (!err)
		err = sites_new(0, 0, &w->sites);
	if (err == -ENOTSUP || err == -EINVAL) {
		snprintf(w->why, sizeof(w->why), "python %s: leakd cannot walk its Python stacks",
			 h->t->py_version);
		err = 0;
	}
	if (err) {
		sitewin_free(w);
		return err;
	}
	*out = w;
	return 0;
}

static void detach_own(struct sitewin *w)
{
	if (w->use_own)
		probes_detach_tag(w->p, w->h.t->pid, SITEWIN_TAG);
}

void sitewin_free(struct sitewin *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->ntypes; i++)
		if (w->types[i].in_window)
			probes_site_type(w->p, w->h.t->pid, w->types[i].addr, false);
	if (w->state == WIN_OPEN)
		detach_own(w);
	if (w->conf_set)
		probes_set_pyconf(w->p, w->h.t->pid, NULL);
	sites_free(w->sites);
	codeobj_cache__free(w->codes);
	free(w->base);
	free(w);
}

static struct wtype *wtype_of(struct sitewin *w, uint64_t addr)
{
	for (size_t i = 0; i < w->ntypes; i++)
		if (w->types[i].addr == addr)
			return &w->types[i];
	return NULL;
}

/* A stack: symbolised now (code objects can die once the window is over)
 * and sampled. */
static void on_stack(struct sitewin *w, const struct leakd_stack_event *e)
{
	struct pystack_frame frames[LEAKD_MAX_PYFRAMES];
	/* code objects made since the last census sit where the cache holds
	 * free memory of then */
	struct memreader rd = remote_reader_uncached(w->h.mem);
	bool cut = false;
	int n;

	if (!w->sites || !wtype_of(w, e->ev.aux))
		return;
	n = pystack_symbolize(w->codes, &rd, e, frames, LEAKD_MAX_PYFRAMES, &cut);
	if (n < 0) {
		w->stack_errors++;
		return;
	}
	w->stacks++;
	sites_sample(w->sites, e->ev.addr, e->ev.aux, frames, (size_t)n, cut);
}

bool sitewin_event(struct sitewin *w, const struct leakd_event *e)
{
	bool own = !*w->h.tracing_allocs ||
		   (w->own_ever && (e->site == LEAKD_SITE_GC_NEW || e->site == LEAKD_SITE_GC_DEL));
	struct wtype *t;

	switch (e->kind) {
	case LEAKD_EV_STACK:
		on_stack(w, (const struct leakd_stack_event *)e);
		return true;
	case LEAKD_EV_ALLOC:
		if (e->site == LEAKD_SITE_GC_NEW && w->state == WIN_OPEN && (t = wtype_of(w, e->aux)) &&
		    t->in_window)
			t->hits++;
		return own;
	case LEAKD_EV_FREE:
		if (w->sites)
			sites_freed(w->sites, e->addr);
		return own;
	default:
		return false;
	}
}

/* The census c's count of the type at addr (0 when it saw none). */
static uint64_t census_count(const struct census *c, uint64_t addr)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (c->types[i].type_addr == addr)
			return c->types[i].objects;
	return 0;
}

/* Remembers a growing type (named as the census names it); heap types get
 * a window. */
static void add_type(struct sitewin *w, uint64_t addr, const char *name)
{
	struct memreader rd = remote_reader(w->h.mem);
	struct wtype *t;
	uint64_t flags;

	if (!addr || wtype_of(w, addr) || w->ntypes == SITEWIN_MAX_TYPES)
		return;
	t = &w->types[w->ntypes++];
	memset(t, 0, sizeof(*t));
	t->addr = addr;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->heap = !memreader_read_u64(&rd, addr + w->h.layout->tp_flags, &flags) &&
		  (flags & PYLAYOUT_TPFLAGS_HEAPTYPE);
}

static const struct census_type *census_type_named(const struct census *c, const char *name)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (c->types[i].type_addr && !strncmp(c->types[i].name, name, REPORT_TYPE_NAME_MAX))
			return &c->types[i];
	return NULL;
}

/* The types the verdict flags as leaking. */
static void flagged_types(struct sitewin *w)
{
	struct verdict v;

	if (verdict_compute(w->h.series, NULL, &v))
		return;
	for (size_t i = 0; i < v.n_types; i++) {
		const struct census_type *ct;

		if (!v.types[i].leak || !(ct = census_type_named(w->h.last, v.types[i].type)))
			continue;
		add_type(w, ct->type_addr, ct->name);
	}
	verdict_clear(&v);
}

static int base_cmp(const void *a, const void *b)
{
	const struct baseline *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const struct baseline *base_of(const struct sitewin *w, uint64_t addr)
{
	struct baseline key = { .addr = addr };

	return w->nbase ? bsearch(&key, w->base, w->nbase, sizeof(*w->base), base_cmp) : NULL;
}

/* This census becomes the next one's baseline; grew: its count rose since
 * the last one. */
static void take_baseline(struct sitewin *w)
{
	const struct census *c = w->h.last;
	struct baseline *next = calloc(SITEWIN_BASELINE_MAX, sizeof(*next));
	size_t n = 0;

	for (size_t i = 0; next && i < c->ntypes && n < SITEWIN_BASELINE_MAX; i++) {
		const struct baseline *b = base_of(w, c->types[i].type_addr);

		if (c->types[i].type_addr)
			next[n++] = (struct baseline){ c->types[i].type_addr, c->types[i].objects,
						       b && c->types[i].objects > b->objects };
	}
	qsort(next, n, sizeof(*next), base_cmp);
	free(w->base);
	w->base = next;
	w->nbase = n;
}

/* --sites: the classes whose counts rose over the last two census
 * intervals, fastest first (twice, so that a burst at import time, such as
 * an enum's members, is not taken for growth). Every census between windows
 * looks again, so a class that only starts growing after a long import (whose
 * own classes may take the first window) gets its window too. */
static void growing_types(struct sitewin *w)
{
	const struct census *c = w->h.last;
	size_t order[SITEWIN_MAX_TYPES], n = 0;
	uint64_t growth[SITEWIN_MAX_TYPES];
	struct memreader rd = remote_reader(w->h.mem);

	for (size_t i = 0; w->base && i < c->ntypes; i++) {
		const struct baseline *b = base_of(w, c->types[i].type_addr);
		uint64_t g, flags;
		size_t j;

		if (!b || !b->grew || c->types[i].objects <= b->objects)
			continue;
		/* only classes: builtins would take slots they cannot use */
		if (memreader_read_u64(&rd, c->types[i].type_addr + w->h.layout->tp_flags, &flags) ||
		    !(flags & PYLAYOUT_TPFLAGS_HEAPTYPE))
			continue;
		g = c->types[i].objects - b->objects;
		/* insertion into the top list, largest growth first */
		for (j = n; j > 0 && growth[j - 1] < g; j--) {
			if (j < SITEWIN_MAX_TYPES) {
				growth[j] = growth[j - 1];
				order[j] = order[j - 1];
			}
		}
		if (j < SITEWIN_MAX_TYPES) {
			growth[j] = g;
			order[j] = i;
			if (n < SITEWIN_MAX_TYPES)
				n++;
		}
	}
	for (size_t k = 0; k < n; k++)
		add_type(w, c->types[order[k]].type_addr, c->types[order[k]].name);
	take_baseline(w);
}

/* Attaches what a window needs; "" in why on success. */
static int attach(struct sitewin *w)
{
	const struct sites_host *h = &w->h;
	int err = 0;

	if (!w->conf_set) {
		err = probes_set_pyconf(w->p, h->t->pid, &w->conf);
		if (err)
			return err;
		w->conf_set = true;
		/* Trace mode on a build whose plan has the typed entry points
		 * already (LTO): they report the types; attach nothing more. */
		w->use_own = true;
		for (size_t i = 0; *h->tracing_allocs && i < h->plan->n; i++)
			if (h->plan->specs[i].site == LEAKD_SITE_GC_NEW)
				w->use_own = false;
		if (w->use_own && allocplan_typed(h->img, true, &w->typed)) {
			snprintf(w->why, sizeof(w->why), "no typed allocation entry point in %.120s",
				 h->t->interp_path);
			return -ENOENT;
		}
	}
	for (size_t i = 0; w->use_own && i < w->typed.n; i++) {
		err = probes_attach_alloc_tag(w->p, h->t->open_path, h->t->pid, &w->typed.specs[i], SITEWIN_TAG);
		if (err) {
			snprintf(w->why, sizeof(w->why), "attaching %s failed: %s", w->typed.specs[i].name,
				 strerror(-err));
			probes_detach_tag(w->p, h->t->pid, SITEWIN_TAG);
			return err;
		}
	}
	w->own_ever |= w->use_own;
	return 0;
}

static void open_window(struct sitewin *w, double now)
{
	size_t pending = 0;

	for (size_t i = 0; i < w->ntypes; i++)
		pending += w->types[i].heap && !w->types[i].measured && !w->types[i].in_window;
	if (!pending)
		return;
	if (w->budget_s > 0) {
		if (now - w->hour_start >= 3600) {
			w->hour_start = now;
			w->spent = 0;
		}
		if (w->spent + w->window_s > w->budget_s)
			return;	/* the next hour's budget will do */
	}
	if (attach(w))
		return;
	for (size_t i = 0; i < w->ntypes; i++) {
		struct wtype *t = &w->types[i];

		if (!t->heap || t->measured || t->in_window)
			continue;
		if (probes_site_type(w->p, w->h.t->pid, t->addr, true))
			continue;
		t->in_window = true;
		t->hits = 0;
		t->count_open = census_count(w->h.last, t->addr);
	}
	w->opened = now;
	w->state = WIN_OPEN;
}

static void close_window(struct sitewin *w, double now)
{
	w->spent += now - w->opened;
	for (size_t i = 0; i < w->ntypes; i++) {
		struct wtype *t = &w->types[i];

		if (!t->in_window)
			continue;
		probes_site_type(w->p, w->h.t->pid, t->addr, false);
		t->in_window = false;
		t->measured = true;
		t->count_close = census_count(w->h.last, t->addr);
	}
	detach_own(w);
	w->state = WIN_CLOSED;
}

static int alive(void *ctx, uint64_t addr, uint64_t type)
{
	const struct sites_host *h = ctx;
	struct memreader rd = remote_reader(h->mem);

	return sites_alive(&rd, h->layout, addr, type);
}

static void check(struct sitewin *w)
{
	remote_invalidate(w->h.mem);
	sites_check(w->sites, alive, &w->h);
	w->checks++;
	w->state = WIN_IDLE;
}

void sitewin_census(struct sitewin *w, double now)
{
	if (!w || w->why[0])
		return;
	switch (w->state) {
	case WIN_OPEN:
		if (now - w->opened >= w->window_s)
			close_window(w, now);
		return;
	case WIN_CLOSED:
		check(w);
		return;
	case WIN_IDLE:
		break;
	}
	if (w->ntypes == SITEWIN_MAX_TYPES)
		return;
	if (w->at_start)
		growing_types(w);
	if (now - w->last_verdict >= SITEWIN_VERDICT_EVERY_S) {
		w->last_verdict = now;
		flagged_types(w);
	}
	open_window(w, now);
}

/* Whether t's sites can be named, with the measured share (NaN unknown)
 * and, when not, why into note. */
static bool attributable(const struct sitewin *w, const struct wtype *t, double *share, char *note, size_t len)
{
	int64_t fresh = t->measured ? (int64_t)t->count_close - (int64_t)t->count_open : -1;

	*share = NAN;
	note[0] = '\0';
	if (!t->heap) {
		snprintf(note, len, "a builtin type: its free lists reuse objects without the probed entry "
			 "points, so survival cannot be judged");
		return false;
	}
	if (w->why[0]) {
		snprintf(note, len, "%s", w->why);
		return false;
	}
	if (!t->measured) {
		snprintf(note, len, t->cut ? "flagged at the session's end: its site window had no time to run"
				   : "its site window did not run (not yet, or over the hourly budget)");
		return false;
	}
	if (fresh <= 0) {
		if (!t->hits)
			snprintf(note, len, "neither the probes nor the census saw new instances during its window");
		return t->hits > 0;
	}
	/* churned instances are hits the census never counts: at most 1 */
	*share = t->hits >= (uint64_t)fresh ? 1.0 : (double)t->hits / (double)fresh;
	if (*share >= SITEWIN_MIN_SHARE)
		return true;
	snprintf(note, len, "the typed allocation probes saw %.1f%% of its new instances: this build "
		 "allocates it inline (tp_alloc inlined)", 100.0 * *share);
	return false;
}

/* A coverage row for w->types[i] into w->out_cov[i]. */
static void coverage_row(struct sitewin *w, size_t i)
{
	const struct wtype *t = &w->types[i];
	struct report_site_coverage *c = &w->out_cov[i];

	memset(c, 0, sizeof(*c));
	c->type = t->name;
	c->probe_hits = t->hits;
	c->new_instances = t->measured ? (int64_t)t->count_close - (int64_t)t->count_open : -1;
	c->attributable = attributable(w, t, &c->share, w->notes[i], sizeof(w->notes[i]));
	c->note = w->notes[i][0] ? w->notes[i] : NULL;
}

unsigned sitewin_top_site(struct sitewin *w, char *buf, size_t len)
{
	struct sites_site best = { 0 }, one;
	const char *type = NULL;
	size_t off = 0;

	if (!w || !buf || !len)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; w->sites && i < w->ntypes; i++) {
		double share;
		char note[160];

		if (!attributable(w, &w->types[i], &share, note, sizeof(note)) ||
		    !sites_ranked(w->sites, w->types[i].addr, &one, 1) || one.surviving <= best.surviving)
			continue;
		best = one;
		type = w->types[i].name;
	}
	for (size_t f = 0; type && f < best.nframes && f < 3 && off < len; f++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%d in %s()", f ? " <- " : "",
					best.frames[f].filename, best.frames[f].line, best.frames[f].qualname);
	if (type && off < len)
		snprintf(buf + off, len - off, "%s (%s, surviving %llu of %llu sampled)",
			 best.nframes > 3 || best.truncated ? " <- ..." : "", type,
			 (unsigned long long)best.surviving, (unsigned long long)best.sampled);
	return w->checks;
}

void sitewin_summary(struct sitewin *w, struct report_summary *out)
{
	size_t n = 0;

	if (!w || !out)
		return;
	if (w->state == WIN_OPEN) {
		/* Opened by the session's last census: no census since, nothing to
		 * measure; else the window is cut at that census. */
		bool empty = *w->h.last_census <= w->opened;

		for (size_t i = 0; empty && i < w->ntypes; i++)
			w->types[i].cut |= w->types[i].in_window;
		close_window(w, *w->h.last_census);
		for (size_t i = 0; empty && i < w->ntypes; i++)
			w->types[i].measured &= !w->types[i].cut;
	}
	if (w->state == WIN_CLOSED)
		check(w);
	for (size_t i = 0; i < w->ntypes; i++) {
		size_t k;

		coverage_row(w, i);
		if (!w->sites || !w->out_cov[i].attributable)
			continue;
		k = sites_ranked(w->sites, w->types[i].addr, &w->ranked[n], SITEWIN_SITES_PER_TYPE);
		for (size_t j = n; j < n + k; j++)
			sites_report_site(&w->out_sites[j], w->out_frames[j], &w->ranked[j], w->types[i].name);
		n += k;
	}
	out->sites = w->out_sites;
	out->n_sites = n;
	out->coverage.site_types = w->out_cov;
	out->coverage.n_site_types = w->ntypes;
}
