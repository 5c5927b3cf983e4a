// SPDX-License-Identifier: MIT
/*
 * tracee: per-process state and the census schedule's work (see tracee.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/base/clock.h"
#include "leakd/verdict/agg.h"
#include "leakd/sites/bytesamp.h"
#include "leakd/verdict/series.h"
#include "leakd/process/elfimg.h"
#include "leakd/process/freeze.h"
#include "leakd/probes/probes.h"
#include "leakd/process/procstat.h"
#include "leakd/process/remote.h"
#include "leakd/sites/sitewin.h"
#include "leakd/app/tracee.h"
#include "leakd/verdict/verdict.h"

#define TOP_TYPES_MAX 20

/* Layout: _Py_DebugOffsets where the build has it (3.13+), else the
 * version table. The debug offsets are static data in the file, so this
 * works before the interpreter has started. */
static void choose_layout(struct tracee *tr)
{
	uint8_t buf[PYLAYOUT_DEBUG_OFFSETS_MIN + 64];
	int err = -ENOTSUP;

	if (tr->t.py_major == 3 && tr->t.py_minor >= 13 && tr->t.runtime_addr &&
	    !elfimg_read(tr->img, tr->t.runtime_addr - tr->t.load_bias, buf, sizeof(buf)))
		err = pylayout_from_debug_offsets(buf, sizeof(buf), &tr->layout);
	if (err)
		err = pylayout_for_version(tr->t.py_major, tr->t.py_minor, tr->t.py_micro, &tr->layout);
	tr->layout_ok = !err && tr->layout.known && tr->t.runtime_addr;
	if (!tr->layout_ok)
		snprintf(tr->note, sizeof(tr->note),
			 "python %s: layout unknown, reporting totals only (GC events, RSS, open fds)",
			 tr->t.py_version);
}

int tracee_new(const struct leakd_opts *o, pid_t pid, bool spawned, struct tracee **out)
{
	struct tracee *tr;
	int err;

	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	tr->opts = o;
	/* ad hoc sessions answer "what holds it" at the end: keep what it needs */
	tr->keep_tracked = !o->daemon;
	tr->spawned = spawned;
	tr->pidfd = -1;
	tr->memfd = -1;
	tr->gc_gen = -1;
	err = target_resolve(o->proc_root, pid, &tr->t, &tr->img);
	if (err)
		goto cleanup;
	choose_layout(tr);
	err = remote_new(pid, REMOTE_DEFAULT_CACHE, &tr->mem);
	if (err)
		goto cleanup;
	err = agg_new(0, &tr->agg);
	if (!err)
		err = series_new(o->series_cap, o->type_cap, &tr->series);
	if (err)
		goto cleanup;
	tr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	{
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%d/mem", o->proc_root, (int)pid);
		tr->memfd = open(path, O_RDONLY | O_CLOEXEC);	/* -1: the exe check only */
		if (tr->memfd >= 0 && fstat(tr->memfd, &st) == 0) {
			tr->memfd_dev = st.st_dev;
			tr->memfd_ino = st.st_ino;
		}
	}
	tr->t0 = leakd_mono_now();
	tr->last_sample = tr->t0;
	tr->last_census = tr->t0 - 1e9;
	tr->census_due = true;
	err = budget_init(&tr->budget, o->max_pause_share, o->census_period_s);
	if (err)
		goto cleanup;
	tr->rss_bytes = procstat_rss(o->proc_root, pid);
	tr->open_fds = procstat_open_fds(o->proc_root, pid);
	*out = tr;
	return 0;
cleanup:
	tracee_free(tr);
	return err;
}

void tracee_free(struct tracee *tr)
{
	if (!tr)
		return;
	bytesamp_free(tr->bs);
	sitewin_free(tr->sw);
	if (tr->pidfd >= 0)
		close(tr->pidfd);
	if (tr->memfd >= 0)
		close(tr->memfd);
	census_free(&tr->last);
	free(tr->prev_tracked);
	livetypes_release(&tr->types);
	agg_free(tr->agg);
	series_free(tr->series);
	remote_free(tr->mem);
	elfimg_free(tr->img);
	free(tr);
}

/* What the sites stage reads of this process: pointers to tr's own
 * members, so the latest census, its time and the live table stay current
 * for it. Filled once the probes are planned and attached: the byte-sample
 * interval goes to the stack walker only when allocations are traced. */
static struct sites_host sites_host_of(struct tracee *tr)
{
	return (struct sites_host){
		.t = &tr->t,
		.layout = &tr->layout,
		.mem = tr->mem,
		.img = tr->img,
		.plan = &tr->plan,
		.tracing_allocs = &tr->tracing_allocs,
		.series = tr->series,
		.last = &tr->last,
		.last_census = &tr->last_census,
		.agg = tr->agg,
		.types = &tr->types,
		.sample_bytes = tr->tracing_allocs ? tr->opts->sample_bytes : 0,
		.window_budget_s = tr->opts->site_window_budget_s,
	};
}

/* Attaches the GC hook (shared per binary) and, in trace mode, this pid's
 * allocation probes. GC hook failures degrade to timer censuses. */
int tracee_attach(struct tracee *tr, struct probes *p)
{
	struct allocplan_gc g;
	unsigned flags = LEAKD_WATCH_GC;
	int err;

	allocplan_gc(tr->img, tr->t.has_usdt_gc, tr->t.py_minor, &g);
	err = 0;
	if (g.kind == ALLOCPLAN_GC_USDT)
		err = probes_attach_gc_usdt(p, tr->t.open_path);
	else if (g.kind == ALLOCPLAN_GC_UPROBE)
		err = probes_attach_gc_uprobes(p, tr->t.open_path, g.offsets, g.gen_regs, g.n);
	if (err) {
		fprintf(stderr, "leakd: pid %d: GC hook %s not attached (%s), censuses run on the timer only\n",
			tr->t.pid, g.names[0], strerror(-err));
		g.kind = ALLOCPLAN_GC_NONE;
	}
	tr->gc_hook = g.kind;
	for (size_t i = 0; g.kind != ALLOCPLAN_GC_NONE && i < (g.kind == ALLOCPLAN_GC_USDT ? 1 : g.n); i++)
		tracee_add_probe_name(tr, g.names[i]);

	if (tr->opts->mode == LEAKD_MODE_TRACE) {
		for (size_t i = 0; i < tr->plan.n; i++) {
			err = probes_attach_alloc(p, tr->t.open_path, tr->t.pid, &tr->plan.specs[i]);
			if (err) {
				fprintf(stderr, "leakd: pid %d: failed to attach probe %s: %s\n", tr->t.pid,
					tr->plan.specs[i].name, strerror(-err));
				probes_detach_pid(p, tr->t.pid);
				return err;
			}
			tracee_add_probe_name(tr, tr->plan.specs[i].name);
		}
		tr->tracing_allocs = tr->plan.n > 0;
		if (tr->tracing_allocs) {
			struct memreader rd = remote_reader(tr->mem);

			err = livetypes_start(&tr->types, &rd, &tr->layout);
			if (err)
				return err;
			flags |= LEAKD_WATCH_ALLOCS;
		}
		if (tr->tracing_allocs && tr->opts->sample_bytes && tr->layout_ok && !tr->bs) {
			struct sites_host h = sites_host_of(tr);

			err = bytesamp_new(&h, p, tr->opts->sample_bytes, &tr->bs);
			if (err && err != -ENOTSUP)
				return err;
		}
	}
	if (tr->opts->site_window_s > 0 && tr->layout_ok && !tr->sw) {
		struct sites_host h = sites_host_of(tr);

		err = sitewin_new(&h, p, tr->opts->site_window_s, tr->opts->sites_at_start, &tr->sw);
		if (err)
			return err;
	}
	return probes_watch(p, tr->t.pid, flags);
}

int tracee_plan_allocs(struct tracee *tr)
{
	struct memreader rd = remote_reader(tr->mem);
	int err;

	if (tr->opts->mode != LEAKD_MODE_TRACE)
		return 0;
	remote_invalidate(tr->mem);
	err = allocplan_allocs(tr->img, tr->t.load_bias, &rd, &tr->plan);
	if (err == -ENOENT) {
		snprintf(tr->note, sizeof(tr->note), "no allocation entry point found in %.180s: census only",
			 tr->t.interp_path);
		return 0;
	}
	return err;
}

void tracee_add_probe_name(struct tracee *tr, const char *name)
{
	size_t i = tr->n_probe_names;

	if (i == TRACEE_MAX_PROBE_NAMES)
		return;
	snprintf(tr->probe_name_buf[i], sizeof(tr->probe_name_buf[i]), "%s", name);
	tr->probe_names[i] = tr->probe_name_buf[i];
	tr->n_probe_names++;
}

void tracee_event(struct tracee *tr, const struct leakd_event *e)
{
	if (tr->bs && bytesamp_event(tr->bs, e))
		return;
	if (tr->sw && sitewin_event(tr->sw, e))
		return;
	switch (e->kind) {
	case LEAKD_EV_ALLOC:
		agg_alloc(tr->agg, e->ts_ns, e->addr, e->size, e->aux);
		break;
	case LEAKD_EV_FREE:
		agg_free_addr(tr->agg, e->ts_ns, e->addr);
		break;
	case LEAKD_EV_GC_START:
		tr->gc_gen = e->gen;
		break;
	case LEAKD_EV_GC_DONE:
		tr->gc_events++;
		tr->census_due = true;
		/* The done probe does not know the generation; its start did. */
		agg_gc_done(tr->agg, e->ts_ns, tr->gc_gen, e->size);
		tr->gc_gen = -1;
		break;
	default:
		break;
	}
}

/* The live counts a sample and the detector use: the live table when the
 * probes see every allocation, else the census (exact for GC-tracked
 * objects on every build). */
bool tracee_live_from_probes(const struct tracee *tr)
{
	return tr->tracing_allocs && tr->plan.complete;
}

/* tr->memfd keeps the mm it was opened on: once the process execs or exits
 * that mm has no users left and a read returns 0 bytes, while a live one
 * answers the byte (or -EIO for an unmapped page). Any other file would
 * answer 0 bytes that far in too: the descriptor must still be the one
 * opened. */
bool tracee_image_replaced(const struct tracee *tr)
{
	struct stat st;
	uint8_t b;

	return tr->memfd >= 0 && tr->t.runtime_addr &&
	       pread(tr->memfd, &b, 1, (off_t)tr->t.runtime_addr) == 0 && fstat(tr->memfd, &st) == 0 &&
	       st.st_dev == tr->memfd_dev && st.st_ino == tr->memfd_ino;
}

static bool exe_changed(struct tracee *tr)
{
	char path[PATH_MAX], exe[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/exe", tr->opts->proc_root, tr->t.pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return false;	/* gone: the exit check reports it */
	exe[n] = '\0';
	return strcmp(exe, tr->t.exe) != 0;
}

/* Whether the process has exited (and, for our own child, reaps it). */
static bool process_gone(struct tracee *tr)
{
	struct pollfd pfd = { .fd = tr->pidfd, .events = POLLIN };
	int st;

	if (tr->spawned && waitpid(tr->t.pid, &st, WNOHANG) == tr->t.pid)
		return true;
	if (tr->pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(tr->t.pid, 0) && errno == ESRCH;
}

bool tracee_check_alive(struct tracee *tr, double now)
{
	if (tr->finished)
		return true;
	if (process_gone(tr)) {
		tr->finished = tr->exited = true;
		tr->t_end = now;
		return true;
	}
	if (exe_changed(tr) || tracee_image_replaced(tr)) {
		/* A new program image: the interpreter we resolved is gone. An
		 * exit also empties the old address space: look again. */
		tr->finished = tr->exited = true;
		tr->t_end = now;
		if (!process_gone(tr))
			snprintf(tr->note, sizeof(tr->note),
				 "the process exec'd a new program image; its session ended there");
		return true;
	}
	return false;
}

void tracee_sample(struct tracee *tr, double now, struct report_sample *out)
{
	struct agg_stats st;
	uint64_t coll = 0;

	agg_stats(tr->agg, &st);
	memset(out, 0, sizeof(*out));
	out->ts = leakd_wall_now();
	out->pid = (uint32_t)tr->t.pid;
	out->source = tracee_live_from_probes(tr) ? REPORT_SOURCE_PROBES : REPORT_SOURCE_CENSUS;
	out->live_objects = tracee_live_from_probes(tr) ? st.live_objects : tr->last_objects;
	out->live_bytes = tracee_live_from_probes(tr) ? st.live_bytes : tr->last_bytes;
	out->allocs = st.allocs;
	out->frees = st.frees + st.frees_unmatched;
	out->rss_bytes = tr->rss_bytes;
	out->open_fds = tr->open_fds;
	if (tr->gc_ok)
		for (int g = 0; g < 3; g++)
			coll += tr->gc_now.collections[g] - tr->gc_first.collections[g];
	if (!tr->gc_ok)	/* no layout to read the interpreter's counters: count the hook's events */
		coll = st.gc_collections[0] + st.gc_collections[1] + st.gc_collections[2];
	out->gc_collections = coll;
	tr->last_sample = now;
}

static void live_types_rows(struct tracee *tr, struct report_type_row *rows, struct report_summary *out)
{
	struct agg_type_total tot[TRACEE_LIVE_TYPES_MAX];
	size_t n = agg_live_by_type(tr->agg, tot, TRACEE_LIVE_TYPES_MAX);

	for (size_t i = 0; i < n; i++) {
		const char *name = livetypes_name(&tr->types, tot[i].type);

		memset(&rows[i], 0, sizeof(rows[i]));
		snprintf(rows[i].type, sizeof(rows[i].type), "%s", name ? name : "(not yet typed)");
		rows[i].live_objects = tot[i].objects;
		rows[i].live_bytes = tot[i].bytes;
		rows[i].growth_per_s = NAN;
	}
	out->live_types = rows;
	out->n_live_types = n;
}

/* Who the process is, how long it was watched, and its totals. */
static void summary_process(const struct tracee *tr, double now, uint64_t dropped, const struct agg_stats *st,
			    struct report_summary *out)
{
	out->pid = (uint32_t)tr->t.pid;
	snprintf(out->comm, sizeof(out->comm), "%s", tr->t.comm);
	snprintf(out->exe, sizeof(out->exe), "%s", tr->t.exe);
	snprintf(out->python, sizeof(out->python), "%s", tr->t.py_version);
	out->duration_s = (tr->finished ? tr->t_end : now) - tr->t0;
	out->exited = tr->exited;
	out->allocs = st->allocs;
	out->frees = st->frees + st->frees_unmatched;
	out->live_objects = tracee_live_from_probes(tr) ? st->live_objects : tr->last_objects;
	out->live_bytes = tracee_live_from_probes(tr) ? st->live_bytes : tr->last_bytes;
	out->dropped_events = dropped;
	out->open_fds = tr->open_fds;
	out->rss_bytes = tr->rss_bytes;
}

/* The collector's work: from the interpreter's own counters when they
 * could be read, else from the GC hook alone. */
static void summary_gc(const struct tracee *tr, const struct agg_stats *st, struct report_summary *out)
{
	if (tr->gc_ok) {
		for (int g = 0; g < 3; g++) {
			out->gc.collections[g] = tr->gc_now.collections[g];
			out->gc.collected += tr->gc_now.collected[g];
			out->gc.uncollectable += tr->gc_now.uncollectable[g];
		}
	} else {
		/* From the GC hook alone: collections since attach, and what the
		 * collector reported freeing (collected plus uncollectable). */
		for (int g = 0; g < 3; g++)
			out->gc.collections[g] = st->gc_collections[g];
		out->gc.collected = st->gc_collected;
	}
}

/* The verdict's types, each with its generations from the last census. */
static void summary_top_types(const struct tracee *tr, struct verdict *v, struct report_summary *out)
{
	out->growth = v->growth;
	out->top_types = v->types;
	out->n_top_types = v->n_types < TOP_TYPES_MAX ? v->n_types : TOP_TYPES_MAX;
	/* Old instances that keep growing are the leak; young ones are traffic. */
	for (size_t i = 0; i < out->n_top_types; i++)
		for (size_t j = 0; j < tr->last.ntypes; j++)
			if (!strcmp(tr->last.types[j].name, v->types[i].type)) {
				const uint64_t *g = tr->last.types[j].gens;

				v->types[i].has_generations = g[0] + g[1] + g[2] + g[3] > 0;
				memcpy(v->types[i].generations, g, sizeof(v->types[i].generations));
				break;
			}
}

/* Live objects by size class: from the live table when the probes see
 * every allocation, else from the census, which measured every tracked
 * object's shallow size. */
static void summary_sizes(const struct tracee *tr, struct report_size_row *sizes, size_t max_sizes,
			  struct report_summary *out)
{
	out->size_classes = sizes;
	if (tracee_live_from_probes(tr)) {
		out->n_size_classes = agg_size_classes(tr->agg, sizes, max_sizes);
		return;
	}
	for (unsigned c = 0; c < SIZECLASS_N && out->n_size_classes < max_sizes; c++) {
		if (!tr->last.size_objects[c])
			continue;
		sizes[out->n_size_classes++] = (struct report_size_row){
			.size = sizeclass_bound(c),
			.live_objects = tr->last.size_objects[c],
			.live_bytes = tr->last.size_bytes[c],
		};
	}
}

/* coverage.signals: what this report was made from. */
static void summary_signals(struct tracee *tr, struct report_summary *out)
{
	const char **signals = tr->signals;
	size_t ns = 0;

	if (tr->gc_hook == ALLOCPLAN_GC_USDT)
		signals[ns++] = "gc-usdt";
	else if (tr->gc_hook == ALLOCPLAN_GC_UPROBE)
		signals[ns++] = "gc-uprobe";
	if (tr->census_runs)
		signals[ns++] = "gc-census";
	if (tr->gc_ok)
		signals[ns++] = "gc-stats";
	if (tr->tracing_allocs)
		signals[ns++] = "alloc-probes";
	if (tr->pym_ok)
		signals[ns++] = "pymalloc";
	if (tr->sw)
		signals[ns++] = "alloc-sites";
	if (tr->bs)
		signals[ns++] = "byte-samples";
	if (tr->open_fds >= 0)
		signals[ns++] = "open-fds";
	if (tr->rss_bytes >= 0)
		signals[ns++] = "rss";
	out->coverage.signals = signals;
	out->coverage.n_signals = ns;
}

/* coverage.warning: the one thing that limits this report most, or "". */
static void summary_warning(const struct tracee *tr, struct report_summary *out)
{
	char *w = out->coverage.warning;
	size_t len = sizeof(out->coverage.warning);

	if (tr->note[0])
		snprintf(w, len, "%s", tr->note);
	else if (tr->tracing_allocs && !tr->plan.complete)
		snprintf(w, len, "LTO build: pymalloc is inlined into its callers, so allocation probes see only "
			 "out-of-line calls; live objects come from the GC census");
	else if (tr->plan.single_stepped)
		snprintf(w, len, "%zu allocation probe(s) sit on single-stepped instructions (~10 us per hit)",
			 tr->plan.single_stepped);
	else if (!tr->census_runs && tr->layout_ok)
		snprintf(w, len, "no census completed (%s)", tr->last_census_err == -EBUSY ?
			 "the collector was running at every try" : tr->last_census_err ?
			 strerror(-tr->last_census_err) : "the interpreter was not initialised yet");
	else if (tr->census_skipped_mid_gc > tr->census_runs)
		snprintf(w, len,
			 "%llu of %llu censuses were skipped: the collector was running at every try, so few counts",
			 (unsigned long long)tr->census_skipped_mid_gc,
			 (unsigned long long)(tr->census_skipped_mid_gc + tr->census_runs));
}

/* The census schedule's statistics and the memory it accounts for. */
static void summary_census(const struct tracee *tr, struct report_summary *out)
{
	out->census.runs = tr->census_runs;
	out->census.pause_us_max = tr->pause_us_max;
	out->census.pause_us_mean = tr->census_runs ? tr->pause_us_sum / tr->census_runs : 0;
	out->census.objects_walked = tr->objects_walked;
	out->census.skipped_mid_gc = tr->census_skipped_mid_gc;
	out->census.reachable = tr->last.reachable;
	out->census.reach_us_mean = tr->census_runs ? tr->reach_us_sum / tr->census_runs : 0;
	out->census.untracked_objects = tr->last.untracked_objects;
	out->census.period_s = tr->budget.period;
	out->census.pause_share = out->duration_s > 0 ? tr->pause_us_sum / 1e6 / out->duration_s : 0;
	snprintf(out->census.partial, sizeof(out->census.partial), "%s", tr->last.partial);
	out->memory.python_objects = tr->census_runs ? (int64_t)tr->last.bytes : REPORT_UNKNOWN;
	out->memory.pymalloc_arenas = tr->pym_ok ? (int64_t)tr->pym_now.arena_bytes : REPORT_UNKNOWN;
	out->memory.pymalloc_used = tr->pym_ok ? (int64_t)tr->pym_now.used_bytes : REPORT_UNKNOWN;
	out->memory.other_heap = tr->census_runs && tr->rss_anon >= 0 ?
		tr->rss_anon - (int64_t)tr->last.bytes : REPORT_UNKNOWN;
	out->memory.rss = tr->rss_bytes;
}

int tracee_summary(struct tracee *tr, double now, uint64_t dropped, struct verdict *v,
		    struct report_size_row *sizes, size_t max_sizes,
		    struct report_type_row live_types[TRACEE_LIVE_TYPES_MAX], struct report_summary *out)
{
	struct verdict_container vc[CONTRACK_SLOTS];
	struct agg_stats st;
	int err;

	memset(out, 0, sizeof(*out));
	err = verdict_compute(tr->series, NULL, v);
	if (err)
		return err;
	verdict_add_containers(v, vc, contrack_growing(&tr->containers, vc, CONTRACK_SLOTS));
	agg_stats(tr->agg, &st);
	summary_process(tr, now, dropped, &st, out);
	summary_gc(tr, &st, out);
	summary_top_types(tr, v, out);
	summary_sizes(tr, sizes, max_sizes, out);
	if (tr->tracing_allocs) {
		live_types_rows(tr, live_types, out);
		bytesamp_summary(tr->bs, out);
	}
	out->coverage.mode = tr->tracing_allocs ? REPORT_MODE_TRACE : REPORT_MODE_GC;
	summary_signals(tr, out);
	out->coverage.probes = tr->probe_names;
	out->coverage.n_probes = tr->n_probe_names;
	out->coverage.tracked_seen_by_probes = tr->tracing_allocs && tr->last_objects ?
		(double)tr->last_seen_by_probes / (double)tr->last_objects : NAN;
	summary_warning(tr, out);
	summary_census(tr, out);
	sitewin_summary(tr->sw, out);
	return 0;
}
