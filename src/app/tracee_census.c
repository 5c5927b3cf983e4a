// SPDX-License-Identifier: MIT
/*
 * tracee_census: one census of one tracee (see tracee.h): when it is due
 * under the pause budget, the reader's cache sized to the heap and warmed
 * with the target running, the freeze, the GC-list walk and pymalloc's
 * arena table while it is stopped, what the lists reach after the thaw,
 * and the points it adds to the series.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/verdict/agg.h"
#include "leakd/verdict/series.h"
#include "leakd/base/clock.h"
#include "leakd/process/elfimg.h"
#include "leakd/process/freeze.h"
#include "leakd/holders/holders.h"
#include "leakd/process/procmaps.h"
#include "leakd/process/procstat.h"
#include "leakd/python/pyname.h"
#include "leakd/process/remote.h"
#include "leakd/sites/sitewin.h"
#include "leakd/app/tracee.h"

/* The block cache never grows past this (per target). */
#define TRACEE_MAX_CACHE (256u << 20)
/* Live entries whose type is looked up per census, at most. Done after the
 * thaw: ~1 us each (their headers are scattered over the heap), which would
 * triple the pause. A block freed and reused meanwhile can be mistyped, never
 * misread: its header is validated like any other. */
#define RESOLVE_PER_CENSUS 50000
/* Stops tried per census to find the collector idle (see freeze_outside_gc). */
#define TRACEE_GC_TRIES 4

/* Reads the target's anonymous writable mappings (its heap, arenas, thread
 * stacks), up to `budget` bytes, with the target running: a first read of a
 * page costs the kernel ~10x a later one here, and would otherwise land in
 * the first census's pause. Done once per cache size, so a heap that grows
 * is warmed again when the cache grows with it. */
static void warm_heap(struct tracee *tr, uint64_t budget)
{
	struct procmaps_entry *maps = NULL;
	size_t n = 0;

	tr->warmed_for = remote_cache_bytes(tr->mem);
	if (procmaps_read(tr->opts->proc_root, tr->t.pid, &maps, &n) < 0)
		return;
	for (size_t i = 0; i < n && budget; i++) {
		const struct procmaps_entry *e = &maps[i];
		uint64_t len = e->end - e->start;

		if (e->perms[0] != 'r' || e->perms[1] != 'w' || procmaps_is_file(e) ||
		    (e->path[0] && strcmp(e->path, "[heap]")))
			continue;
		if (len > budget)
			len = budget;
		if (remote_warm(tr->mem, e->start, len) < 0)
			break;
		budget -= len;
	}
	free(maps);
}

/* The symbol's runtime address, or 0. */
static uint64_t symbol_addr(const struct tracee *tr, const char *name)
{
	struct elfimg_sym sym;

	return elfimg_find_symbol(tr->img, name, &sym) ? 0 : sym.vaddr + tr->t.load_bias;
}

/* pymalloc's arenas now; looks for them the first time. */
static bool read_pymalloc(struct tracee *tr, const struct memreader *rd)
{
	int r;

	if (tr->pym_state == 0) {
		struct census_gc_loc gl;

		if (tr->layout.minor >= 12)
			r = census_locate(rd, &tr->layout, tr->t.runtime_addr, &gl) ?:
			    pymalloc_locate_interp(rd, &tr->layout, gl.interp, &tr->pym);
		else
			r = pymalloc_locate_static(rd, &tr->layout, symbol_addr(tr, "arenas"),
						   symbol_addr(tr, "maxarenas"),
						   symbol_addr(tr, "narenas_currently_allocated"), &tr->pym);
		tr->pym_state = r ? -1 : 1;
	}
	return tr->pym_state == 1 && !pymalloc_read(rd, &tr->pym, &tr->pym_now);
}

/* The block cache follows the heap the walk reads (anonymous RSS plus a
 * quarter, up to the next power of two), between REMOTE_DEFAULT_CACHE and TRACEE_MAX_CACHE: a cache
 * smaller than the heap thrashes and stretches every pause. It grows at
 * once and shrinks only below a quarter, so a sawtooth heap does not
 * reallocate it every census. */
static void fit_cache(struct tracee *tr)
{
	size_t have = remote_cache_bytes(tr->mem), want = REMOTE_DEFAULT_CACHE;

	if (tr->rss_anon > 0) {
		size_t need = (size_t)tr->rss_anon + (size_t)tr->rss_anon / 4;

		/* the cache rounds down to a power of two: ask for the one above */
		for (want = REMOTE_BLOCK_SIZE; want < need && want < TRACEE_MAX_CACHE; want *= 2)
			;
	}
	if (want < REMOTE_DEFAULT_CACHE)
		want = REMOTE_DEFAULT_CACHE;
	if (want > TRACEE_MAX_CACHE)
		want = TRACEE_MAX_CACHE;
	if (want > have || want * 4 < have)
		(void)remote_resize(tr->mem, want);	/* on -ENOMEM the old cache serves */
	if (remote_cache_bytes(tr->mem) != tr->warmed_for)
		warm_heap(tr, remote_cache_bytes(tr->mem));
}

/* Stops the target (unless told not to, or someone else traces it) at a
 * moment its collector is not running, and reads the GC state (*gerr: its
 * error). A collection in progress has moved objects off the generation
 * lists onto a list on the collecting thread's stack: a walk then misses
 * them, or breaks on a half-moved link, and the census counts a fraction of
 * the heap. So the target runs on a little and is stopped again; -EBUSY when
 * it is collecting at every try (a gc.collect() loop), -ESRCH when it is gone. */
static int freeze_outside_gc(struct tracee *tr, const struct memreader *rd, struct freeze **fz,
			     struct pygc_state *gs, int *gerr, double *t1, double *cpu1)
{
	for (int try = 0;; try++) {
		/* the pause counted is the last stop: between tries the target
		 * runs, and a busy try stops it only to read the flag */
		*t1 = leakd_mono_now();
		*cpu1 = leakd_thread_cpu_now();
		if (!tr->opts->no_freeze && !tr->freeze_denied) {
			int err = freeze_stop(tr->t.pid, fz);

			if (err == -ESRCH)
				return err;
			if (err) {
				/* Someone else traces it (a debugger, strace): walk
				 * live and tolerate torn links rather than fight over it. */
				tr->freeze_denied = true;
				snprintf(tr->note, sizeof(tr->note),
					 "could not freeze the target for the census (%s): lists walked live, counts may be torn",
					 strerror(-err));
			}
		}
		remote_invalidate(tr->mem);
		*gerr = census_gc_state(rd, &tr->layout, tr->t.runtime_addr, gs);
		if (*gerr || !gs->collecting || !*fz)
			return 0;
		freeze_thaw(*fz);
		*fz = NULL;
		if (try == TRACEE_GC_TRIES - 1)
			return -EBUSY;
		/* 1, 2, 4 ms: a young collection takes tens of microseconds,
		 * a full one of a million objects a few hundred milliseconds */
		leakd_sleep(0.001 * (1 << try));
	}
}

static int name_type(void *ctx, uint64_t type, char *buf, size_t len)
{
	struct tracee *tr = ctx;
	struct memreader rd = remote_reader(tr->mem);

	return pyname_type(&rd, &tr->layout, type, buf, len);
}

bool tracee_census_due(const struct tracee *tr, double now)
{
	double since = now - tr->last_census, period = tr->budget.period;

	return (tr->census_due && since >= period * 0.9) || since >= period * 1.1;
}

/* Census visitor in trace mode: did a probe record this object's birth?
 * The live table is keyed by what the probed function returned: the block
 * (GC head first, or 16 bytes of pre-header before it), or the object itself
 * for _PyObject_GC_New and friends. */
static void match_probes(void *ctx, uint64_t node, uint64_t obj, uint64_t type)
{
	struct tracee *tr = ctx;

	if (agg_set_type(tr->agg, node, type) || agg_set_type(tr->agg, node - 16, type) ||
	    agg_set_type(tr->agg, obj, type))
		tr->last_seen_by_probes++;
}

/* Each type's counts, and how many of them have settled past the young
 * generations (young instances are mostly traffic). */
static void add_type_counts(struct tracee *tr, double now, const struct census *c)
{
	const char *names[c->ntypes];
	uint64_t objs[c->ntypes], bytes[c->ntypes], settled[c->ntypes];
	/* the young generations: 0 and 1, or the incremental collector's
	 * one young list (3.14.0-3.14.4: its old spaces sit where
	 * generations 1 and 2 are) */
	bool one_young = tr->layout.incremental;

	for (size_t i = 0; i < c->ntypes; i++) {
		const uint64_t *g = c->types[i].gens;

		names[i] = c->types[i].name;
		objs[i] = c->types[i].objects;
		bytes[i] = c->types[i].bytes;
		settled[i] = objs[i] - (g[0] + (one_young ? 0 : g[1]));
	}
	series_add_type_counts(tr->series, now, names, objs, bytes, settled, c->ntypes);
}

/* RSS, anonymous RSS and open fds, read at every census. */
static void read_proc(struct tracee *tr)
{
	tr->rss_bytes = procstat_rss(tr->opts->proc_root, tr->t.pid);
	tr->rss_anon = procstat_rss_anon(tr->opts->proc_root, tr->t.pid);
	tr->open_fds = procstat_open_fds(tr->opts->proc_root, tr->t.pid);
}

/* Without a layout there is no census: the series still carries fds and
 * RSS (totals only). */
static void add_totals_point(struct tracee *tr, double now)
{
	struct series_point pt = {
		.t = now, .objects = NAN, .bytes = NAN,
		.fds = tr->open_fds >= 0 ? (double)tr->open_fds : NAN,
		.rss = tr->rss_bytes >= 0 ? (double)tr->rss_bytes : NAN, .native = NAN,
	};

	series_add_point(tr->series, &pt);
}

/* How long the target stood, from the stop counted (freeze_outside_gc's
 * t1, cpu1), and what that cost: us, wall microseconds; cpu_s, leakd's own
 * CPU seconds, which the pause budget is charged. */
struct pause {
	double t1, cpu1;
	double us, cpu_s;
};

/* The walk while the target stands still: the GC lists (matching the
 * probes' births in trace mode) and pymalloc's arena table, which is small
 * and changes under us; then the thaw, and the pause measured. Returns 0 or
 * census_walk()'s errors. */
static int walk_stopped(struct tracee *tr, const struct memreader *rd, struct freeze *fz, struct census *c,
			struct pause *ps)
{
	struct census_limits lim = { .reachable = true, .keep_tracked = tr->keep_tracked };
	int err;

	if (tr->tracing_allocs) {
		lim.visit = match_probes;
		lim.visit_ctx = tr;
		tr->last_seen_by_probes = 0;
	}
	err = census_walk(rd, &tr->layout, tr->t.runtime_addr, &lim, c);
	tr->pym_ok = !err && read_pymalloc(tr, rd);
	freeze_thaw(fz);
	ps->us = (leakd_mono_now() - ps->t1) * 1e6;
	/* What the stop cost: leakd's own CPU while the target was stopped. On a
	 * machine with a free core that is the pause; on an oversubscribed one
	 * the pause also waits for a CPU, which the target would have waited for
	 * too, and charging that wait stretched the period past a minute after
	 * one slow pause (measured at load 6-9 on 2 cores). */
	ps->cpu_s = leakd_thread_cpu_now() - ps->cpu1;
	if (ps->cpu_s > ps->us / 1e6 || ps->cpu_s < 0)
		ps->cpu_s = ps->us / 1e6;
	return err;
}

/* With the target running again: what the tracked objects reach (the walk
 * always asks for it), a check that the program image is still the one
 * read, and the live table's untyped blocks. Returns 0, census_reach()'s
 * errors, or -ESRCH (c freed) when the process exec'd or exited meanwhile. */
static int after_thaw(struct tracee *tr, const struct memreader *rd, struct census *c)
{
	double t2 = leakd_mono_now();
	int err = census_reach(rd, c);

	tr->reach_us_sum += (uint64_t)((leakd_mono_now() - t2) * 1e6);
	/* An exec (or exit) during the census: what was read after it came
	 * from another program, or nothing. The caller's exit check ends it. */
	if (!err && tracee_image_replaced(tr)) {
		census_free(c);
		err = -ESRCH;
	}
	/* Blocks the census cannot see (str, int, buffers) get their type from
	 * their own header, read as it is now: the cache holds pages the reach
	 * walk read while the target ran on, and a block allocated in one of
	 * them since would read as a buffer for good. */
	if (!err && livetypes_started(&tr->types)) {
		remote_invalidate(tr->mem);
		agg_resolve_types(tr->agg, livetypes_resolve_block, &tr->types, RESOLVE_PER_CENSUS);
	}
	return err;
}

/* A census that completed: its statistics, and it becomes the last one
 * (whose tracked objects the holder search samples first). */
static void keep_census(struct tracee *tr, double now, struct census *c, const struct pause *ps)
{
	tr->runtime_ready = true;
	tr->census_runs++;
	budget_spend(&tr->budget, now, ps->cpu_s);
	tr->pause_us_sum += (uint64_t)ps->us;
	if ((uint64_t)ps->us > tr->pause_us_max)
		tr->pause_us_max = (uint64_t)ps->us;
	tr->objects_walked += c->steps;
	tr->last_objects = c->objects;
	tr->last_bytes = c->bytes;
	/* what the holder search samples first is what this census adds */
	free(tr->prev_tracked);
	tr->prev_tracked = tr->last.tracked;
	tr->nprev_tracked = tr->last.ntracked;
	tr->prev_sorted = false;
	tr->last.tracked = NULL;
	census_free(&tr->last);
	tr->last = *c;
}

/* The census's points: totals (from the live table when the probes see
 * every allocation), the growing containers, and the per-type counts. */
static void add_points(struct tracee *tr, double now, const struct census *c)
{
	struct agg_stats st;
	struct series_point pt;

	agg_stats(tr->agg, &st);
	pt.t = now;
	pt.objects = tracee_live_from_probes(tr) ? (double)st.live_objects : (double)c->objects;
	pt.bytes = tracee_live_from_probes(tr) ? (double)st.live_bytes : (double)c->bytes;
	pt.fds = tr->open_fds >= 0 ? (double)tr->open_fds : NAN;
	pt.rss = tr->rss_bytes >= 0 ? (double)tr->rss_bytes : NAN;
	pt.native = tr->rss_anon >= 0 && c->reachable ? (double)tr->rss_anon - (double)c->bytes : NAN;
	series_add_point(tr->series, &pt);
	contrack_update(&tr->containers, c->containers, c->ncontainers, now, name_type, tr);
	if (c->ntypes)
		add_type_counts(tr, now, c);
}

int tracee_census(struct tracee *tr, double now)
{
	struct memreader rd = remote_reader(tr->mem);
	uint64_t seen_before = tr->last_seen_by_probes;
	struct freeze *fz = NULL;
	struct pygc_state gs;
	struct pause ps;
	struct census c;
	int err, gerr;

	tr->last_census = now;
	tr->census_due = false;
	read_proc(tr);
	if (!tr->layout_ok) {
		add_totals_point(tr, now);
		return -ENOTSUP;
	}
	fit_cache(tr);
	err = freeze_outside_gc(tr, &rd, &fz, &gs, &gerr, &ps.t1, &ps.cpu1);
	if (err == -EBUSY) {
		/* No point: a count taken mid-collection is a false dip. */
		tr->census_skipped_mid_gc++;
		tr->last_census_err = err;
	}
	if (err)
		return err;
	err = walk_stopped(tr, &rd, fz, &c, &ps);
	if (!err)
		err = after_thaw(tr, &rd, &c);
	if (!gerr) {
		if (!tr->gc_ok)
			tr->gc_first = gs;
		tr->gc_now = gs;
		tr->gc_ok = true;
	}
	if (err) {
		tr->last_seen_by_probes = seen_before;
		tr->census_failures++;
		tr->last_census_err = err;
		return err;
	}
	keep_census(tr, now, &c, &ps);
	add_points(tr, now, &c);
	sitewin_census(tr->sw, now);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void tracee_keep_tracked(struct tracee *tr, bool on)
{
	tr->keep_tracked = on;
	if (!on) {
		/* 8 bytes per tracked object, twice: not kept past the search */
		free(tr->last.tracked);
		tr->last.tracked = NULL;
		tr->last.ntracked = 0;
		free(tr->prev_tracked);
		tr->prev_tracked = NULL;
		tr->nprev_tracked = 0;
		tr->prev_sorted = false;
	}
}

int tracee_holders(struct tracee *tr, const char *const *names, size_t n, bool key_shapes,
		    struct holders_result *out)
{
	struct memreader rd = remote_reader(tr->mem);
	struct holders_query q = { 0 };

	if (!tr->last.tracked || !tr->layout_ok)
		return -ENOENT;
	for (size_t i = 0; i < n && q.ntypes < HOLDERS_MAX_TYPES; i++)
		for (size_t j = 0; j < tr->last.ntypes; j++)
			if (tr->last.types[j].type_addr && !strcmp(tr->last.types[j].name, names[i])) {
				q.types[q.ntypes] = tr->last.types[j].type_addr;
				q.names[q.ntypes++] = tr->last.types[j].name;
				break;
			}
	if (!q.ntypes)
		return -ENOENT;
	q.tracked = tr->last.tracked;
	q.ntracked = tr->last.ntracked;
	if (tr->prev_tracked && !tr->prev_sorted) {
		/* sorted only when a search needs it, not at every census */
		qsort(tr->prev_tracked, tr->nprev_tracked, sizeof(*tr->prev_tracked), cmp_u64);
		tr->prev_sorted = true;
	}
	q.older = tr->prev_tracked;
	q.nolder = tr->nprev_tracked;
	q.runtime = tr->t.runtime_addr;
	q.gc_enabled = !tr->gc_ok || tr->gc_now.enabled;
	q.gc_threshold0 = tr->gc_ok ? tr->gc_now.threshold[0] : 0;
	q.seed = (uint64_t)tr->t.pid * 0x9e3779b97f4a7c15ull;
	q.key_shapes = key_shapes;
	/* the census's cache may hold pages of a heap that has moved on */
	remote_invalidate(tr->mem);
	return holders_find(&rd, &tr->layout, &q, out);
}
