// SPDX-License-Identifier: MIT
/*
 * daemon: `leakd --daemon`, the fleet service. Finds the host's Python
 * processes by itself (a /proc scan every scan interval, filtered by the
 * config), watches each in the always-on gc mode (GC hooks shared per binary,
 * a census per period), publishes a metrics snapshot for Prometheus every
 * second, and logs to the journal when a process starts or stops leaking.
 * What holds a flagged process's leaking types is searched once per
 * holder_period (holdsched.h) and named in the journal and the metrics.
 * Tells systemd when it is ready and keeps its watchdog fed.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "leakd/base/clock.h"
#include "leakd/base/hashmap.h"
#include "leakd/app/daemon.h"
#include "leakd/process/discover.h"
#include "leakd/app/evloop.h"
#include "leakd/holders/holders.h"
#include "leakd/holders/holdsched.h"
#include "leakd/app/httpd.h"
#include "leakd/output/journal.h"
#include "leakd/output/metrics.h"
#include "leakd/process/procfilter.h"
#include "leakd/probes/probes.h"
#include "leakd/process/procmaps.h"
#include "leakd/verdict/series.h"
#include "leakd/sites/sitewin.h"
#include "leakd/base/textesc.h"
#include "leakd/app/tracee.h"
#include "leakd/verdict/agg.h"
#include "leakd/verdict/verdict.h"

#define PUBLISH_PERIOD_S 1.0
/* The verdict reruns the detector on every series of a process (objects,
 * bytes, fds, each type): once per census would cost more than the census
 * across hundreds of processes, and a leak verdict needs no faster update. */
#define EVAL_PERIOD_S 5.0
/* Per-process memory bounds: a daemon watches hundreds of processes for
 * months; series halve (keeping minima) when they reach the cap. */
#define DAEMON_SERIES_CAP 1024
#define DAEMON_TYPE_CAP 128
/* Processes that are not Python (or failed to resolve) are remembered by
 * (pid, start time) so a scan does not open their binaries again; at most
 * this many, then forgotten at once. */
#define SKIP_MAX 8192

struct watched {
	struct tracee *tr;
	struct discover_proc info;
	bool leak;			/* last verdict */
	struct verdict v;		/* last verdict, for the metrics */
	bool have_verdict;
	double last_eval;
	unsigned site_checks;		/* site window checks already in the journal */
	struct holdsched hold;		/* holder searches */
	struct holdsched_row *holders;	/* the last search's rows while flagged (malloc'd), or NULL */
	size_t nholders;
	uint64_t folds, live_cap_hits;	/* already counted in d->type_cap_hits, d->live_cap_hits */
};

struct skip_entry {
	uint64_t key;		/* skip_key() */
	uint64_t start_time;	/* confirms the key where start times pass 2^42 ticks */
};

struct daemon {
	struct leakd_opts o;		/* the settings, and the tracees' options with our bounds */
	struct evloop *loop;
	struct probes *probes;
	struct httpd *http;
	struct watched *w;
	size_t n;
	struct hashmap skip;		/* struct skip_entry */
	uint64_t cap_hits;
	uint64_t type_cap_hits;		/* censuses that folded a type into "(other)", all processes */
	uint64_t live_cap_hits;		/* allocations the live tables had no room for, all processes */
	bool ready;			/* READY=1 sent */
	size_t status_n;		/* the process count in the last STATUS= */
	/* censuses of processes no longer watched: the exported counters
	 * include them, or Prometheus would read an exit as a reset */
	uint64_t gone_census_runs;
	double gone_census_pause_s;
};

static int on_event(void *ctx, const struct leakd_event *e)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < d->n; i++)
		if ((uint32_t)d->w[i].tr->t.pid == e->pid) {
			tracee_event(d->w[i].tr, e);
			break;
		}
	return 0;
}

/* pids are below 2^22 (the kernel's PID_MAX_LIMIT), so this is one key
 * per (pid, start) while start < 2^42 clock ticks, and never 0. */
static uint64_t skip_key(pid_t pid, uint64_t start)
{
	return start << 22 ^ (uint32_t)pid;
}

static bool skipped(const struct daemon *d, pid_t pid, uint64_t start)
{
	const struct skip_entry *e = hashmap_get(&d->skip, skip_key(pid, start));

	return e && e->start_time == start;
}

static void skip_add(struct daemon *d, pid_t pid, uint64_t start)
{
	struct skip_entry *e;

	if (hashmap_count(&d->skip) >= SKIP_MAX)
		/* Forget everything: pids are reused, and rereading is only slower. */
		hashmap_clear(&d->skip);
	if (hashmap_put(&d->skip, skip_key(pid, start), (void **)&e) >= 0)
		e->start_time = start;
}

static bool watched_pid(const struct daemon *d, pid_t pid)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->w[i].tr->t.pid == pid)
			return true;
	return false;
}

static void scan(struct daemon *d)
{
	pid_t *pids, self = getpid();
	size_t n;

	if (discover_pids(d->o.proc_root, &pids, &n))
		return;
	for (size_t i = 0; i < n && !evloop_stop_pending(d->loop); i++) {
		struct discover_proc info;
		struct tracee *tr;
		int err;

		if (pids[i] == self || watched_pid(d, pids[i]))
			continue;
		if (discover_read(d->o.proc_root, pids[i], &info) || !info.exe[0])
			continue;
		if (skipped(d, info.pid, info.start_time))
			continue;
		if (!procfilter_match(&d->o.filter, info.comm, info.exe, info.unit, info.cgroup)) {
			skip_add(d, info.pid, info.start_time);
			continue;
		}
		if (d->n >= d->o.max_processes) {
			d->cap_hits++;
			continue;
		}
		err = tracee_new(&d->o, info.pid, false, &tr);
		if (err) {
			/* Not Python, gone, or unreadable: not worth a line per scan. */
			skip_add(d, info.pid, info.start_time);
			continue;
		}
		err = tracee_attach(tr, d->probes);
		if (err) {
			char comm[64];

			fprintf(stderr, "leakd: pid %d (%s): cannot attach: %s, ignoring\n", info.pid,
				textesc(comm, sizeof(comm), info.comm), strerror(-err));
			tracee_free(tr);
			skip_add(d, info.pid, info.start_time);
			continue;
		}
		/* Keep the exe label stable across a package upgrade (one series
		 * per process, not two). */
		info.exe[procmaps_undeleted_len(info.exe)] = '\0';
		d->w[d->n++] = (struct watched){ .tr = tr, .info = info };
	}
	free(pids);
}

static void log_transition(struct watched *w, const char *site)
{
	/* a leak entry names its holder once a search found one */
	const char *holder = w->v.growth.leak && w->nholders ? w->holders[0].holder : NULL;
	const struct verdict *v = &w->v;
	char types[256] = "";
	size_t off = 0;

	for (size_t i = 0; i < v->n_types && i < 3 && v->types[i].leak; i++)
		off += snprintf(types + off, sizeof(types) - off, "%s%s", i ? ", " : "", v->types[i].type);
	journal_leak_changed(&(struct journal_leak){
		.pid = w->tr->t.pid, .comm = w->info.comm, .exe = w->info.exe, .unit = w->info.unit,
		.container = w->info.container, .python = w->tr->t.py_version, .leak = v->growth.leak,
		.objects_per_s = v->growth.objects_per_s, .bytes_per_s = v->growth.bytes_per_s,
		.confidence = v->growth.confidence, .types = types, .reason = v->growth.reason, .site = site,
		.holder = holder });
}

/* The process is no longer flagged (or gone): its holders go with it. */
static void forget_holders(struct watched *w)
{
	free(w->holders);
	w->holders = NULL;
	w->nholders = 0;
	holdsched_disarm(&w->hold);
	tracee_keep_tracked(w->tr, false);
}

/* The leaking types the verdict names, strongest first: what a holder
 * search looks for. */
static size_t leaking_types(const struct watched *w, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; w->have_verdict && i < w->v.n_types && n < max; i++)
		if (w->v.types[i].leak && strcmp(w->v.types[i].type, "(other)"))
			names[n++] = w->v.types[i].type;
	return n;
}

/* The top site a site window found, if one is in the journal already. */
static const char *known_site(struct watched *w, char *buf, size_t len)
{
	buf[0] = '\0';
	if (w->tr->sw && w->site_checks)
		sitewin_top_site(w->tr->sw, buf, len);
	return buf[0] ? buf : NULL;
}

/*
 * The armed search, right after the second census that kept the tracked
 * objects (the search samples what that census added first), with the
 * process running. It runs on the loop, so it delays the other
 * processes' censuses by its own cost (docs/benchmarks.md), at most once per
 * holder_period per flagged process. A new top path is a leak entry of its
 * own, as a site window's answer is.
 */
static void search_holders(struct daemon *d, struct watched *w, double now)
{
	const char *names[HOLDERS_MAX_TYPES];
	size_t n = leaking_types(w, names, HOLDERS_MAX_TYPES), nrows = 0;
	struct holders_result *r = n ? malloc(sizeof(*r)) : NULL;
	struct holdsched_row *rows = NULL;
	double t0 = leakd_mono_now();
	char comm[64];
	int err = !n ? -ENOENT : r ? tracee_holders(w->tr, names, n, d->o.holder_keys != LEAKD_HOLDER_KEYS_SHOW, r) : -ENOMEM;

	holdsched_ran(&w->hold, now);
	tracee_keep_tracked(w->tr, false);
	textesc(comm, sizeof(comm), w->info.comm);
	if (err) {
		if (err != -ENOENT && err != -ESRCH)
			fprintf(stderr, "leakd: pid %d (%s): the holder search failed: %s\n", w->tr->t.pid, comm,
				strerror(-err));
		free(r);
		return;
	}
	fprintf(stderr, "leakd: pid %d (%s): holders of %zu leaking type%s searched in %.0f ms (%llu objects%s)\n",
		w->tr->t.pid, comm, n, n == 1 ? "" : "s", (leakd_mono_now() - t0) * 1e3, (unsigned long long)r->nodes,
		r->partial ? ", partial" : "");
	rows = malloc(HOLDSCHED_ROWS * sizeof(*rows));
	if (rows)
		nrows = holdsched_rows(r, rows, HOLDSCHED_ROWS);
	free(r);
	if (!nrows) {
		free(rows);
		return;
	}
	{
		bool changed = !w->nholders || strcmp(w->holders[0].holder, rows[0].holder);
		char site[1024];

		free(w->holders);
		w->holders = rows;
		w->nholders = nrows;
		if (changed)
			log_transition(w, known_site(w, site, sizeof(site)));
	}
}

static void evaluate(struct watched *w)
{
	struct verdict v;

	if (verdict_compute(w->tr->series, NULL, &v))
		return;
	verdict_clear(&w->v);
	w->v = v;
	w->have_verdict = true;
	if (v.growth.leak != w->leak) {
		w->leak = v.growth.leak;
		if (!w->leak)
			forget_holders(w);
		log_transition(w, NULL);
	}
	/* A site window's answer comes a window after the flag: a second leak
	 * entry, with the site. */
	if (w->leak && w->tr->sw) {
		char site[1024];
		unsigned checks = sitewin_top_site(w->tr->sw, site, sizeof(site));

		if (checks != w->site_checks && site[0]) {
			w->site_checks = checks;
			log_transition(w, site);
		}
	}
}

static void drop(struct daemon *d, size_t i)
{
	struct watched *w = &d->w[i];

	probes_unwatch(d->probes, w->tr->t.pid);
	if (w->leak) {
		/* Its leak ends with it: say so, so alerts built on the journal close. */
		snprintf(w->v.growth.reason, sizeof(w->v.growth.reason), "the process exited");
		w->v.growth.leak = false;
		log_transition(w, NULL);
	}
	forget_holders(w);
	verdict_clear(&w->v);
	d->gone_census_runs += w->tr->census_runs;
	d->gone_census_pause_s += w->tr->pause_us_sum / 1e6;
	tracee_free(w->tr);
	d->w[i] = d->w[--d->n];
}

/* One watched process's row of the metrics snapshot: its scalars, its
 * largest types (appended at types[*nt]) and, while it leaks, what holds
 * them (at holders[*nh]). */
static void publish_proc(const struct daemon *d, const struct watched *w, struct metrics_proc *p,
			 struct metrics_type_row *types, size_t *nt,
			 struct metrics_holder_row *holders, size_t *nh)
{
	const struct tracee *tr = w->tr;

	p->pid = (uint32_t)tr->t.pid;
	p->comm = w->info.comm;
	p->exe = w->info.exe;
	p->unit = w->info.unit;
	p->container = w->info.container;
	p->python = tr->t.py_version;
	p->live_objects = tr->census_runs ? (double)tr->last_objects : NAN;
	p->live_bytes = tr->census_runs ? (double)tr->last_bytes : NAN;
	p->objects_growth_per_s = w->have_verdict ? w->v.growth.objects_per_s : NAN;
	p->bytes_growth_per_s = w->have_verdict ? w->v.growth.bytes_per_s : NAN;
	p->leak_suspected = w->leak;
	p->leak_confidence = w->have_verdict ? w->v.growth.confidence : NAN;
	p->gc_known = tr->gc_ok;
	if (tr->gc_ok) {
		for (int g = 0; g < 3; g++) {
			p->gc_collections[g] = tr->gc_now.collections[g];
			p->gc_collected += tr->gc_now.collected[g];
			p->gc_uncollectable += tr->gc_now.uncollectable[g];
		}
	}
	p->open_fds = tr->open_fds;
	p->rss_bytes = tr->rss_bytes;
	p->census_runs = tr->census_runs;
	p->census_pause_seconds_max = tr->census_runs ? tr->pause_us_max / 1e6 : NAN;
	p->census_period_seconds = tr->census_runs ? tr->budget.period : NAN;
	p->other_heap_bytes = tr->census_runs && tr->rss_anon >= 0 && tr->last.reachable ?
		tr->rss_anon - (int64_t)tr->last_bytes : METRICS_UNKNOWN;
	p->types = &types[*nt];
	for (size_t k = 0; w->have_verdict && k < w->v.n_types && k < d->o.top_types; k++) {
		types[*nt].type = w->v.types[k].type;
		types[*nt].live_objects = (double)w->v.types[k].live_objects;
		types[*nt].live_bytes = (double)w->v.types[k].live_bytes;
		(*nt)++;
		p->ntypes++;
	}
	p->holders = &holders[*nh];
	for (size_t k = 0; w->leak && k < w->nholders; k++) {
		holders[*nh].type = w->holders[k].type;
		holders[*nh].holder = w->holders[k].holder;
		(*nh)++;
		p->nholders++;
	}
}

/* leakd's own counters, past the census totals the caller summed. */
static void publish_self(const struct daemon *d, struct metrics_self *self)
{
	uint64_t run_ns = 0, run_cnt = 0;
	bool run_known;

	self->version = LEAKD_VERSION;
	self->attached_processes = d->n;
	run_known = !probes_run_stats(d->probes, &run_ns, &run_cnt);
	self->bpf_run_time_seconds_total = run_known ? run_ns / 1e9 : NAN;
	self->bpf_runs_total = run_known ? (double)run_cnt : NAN;
	self->events_total = probes_counter(d->probes, LEAKD_CNT_EVENTS);
	self->dropped_events_total = probes_counter(d->probes, LEAKD_CNT_DROPS);
	self->processes_cap_hits_total = d->cap_hits;
	self->types_cap_hits_total = d->type_cap_hits;
	self->live_entries_cap_hits_total = d->live_cap_hits;
}

static void publish(struct daemon *d)
{
	struct metrics_proc *mp = calloc(d->n ? d->n : 1, sizeof(*mp));
	struct metrics_type_row *types = calloc(d->n * d->o.top_types + 1, sizeof(*types));
	struct metrics_holder_row *holders = calloc(d->n * HOLDSCHED_ROWS + 1, sizeof(*holders));
	struct metrics_self self = { .census_total = d->gone_census_runs,
				     .census_pause_seconds_sum = d->gone_census_pause_s };
	char *buf = NULL;
	size_t len = 0, nt = 0, nh = 0;

	if (!mp || !types || !holders)
		goto out;
	for (size_t i = 0; i < d->n; i++) {
		const struct tracee *tr = d->w[i].tr;

		publish_proc(d, &d->w[i], &mp[i], types, &nt, holders, &nh);
		self.census_total += tr->census_runs;
		self.census_pause_seconds_sum += tr->pause_us_sum / 1e6;
	}
	publish_self(d, &self);
	if (!metrics_render(&buf, &len, &self, mp, d->n))
		httpd_publish(d->http, buf, len);
out:
	free(buf);
	free(holders);
	free(types);
	free(mp);
}

/* systemd's view of us: the count of processes watched, when it changes. */
static void notify_status(struct daemon *d)
{
	if (d->status_n == d->n)
		return;
	d->status_n = d->n;
	sd_notifyf(0, "STATUS=watching %zu Python processes", d->n);
}

static int on_scan(void *ctx, double now)
{
	struct daemon *d = ctx;

	scan(d);
	if (!d->ready) {
		/* A scrape right after start-up gets data, not a 503. */
		publish(d);
		/* Probes for every process found at start are attached. */
		sd_notifyf(0, "READY=1\nSTATUS=watching %zu Python processes", d->n);
		d->status_n = d->n;
		d->ready = true;
	}
	return 0;
}

/* The per-census hook: @w's census ran; its verdict follows every
 * EVAL_PERIOD_S, and an armed holder search the second census that kept
 * the tracked objects. */
static void after_census(struct daemon *d, struct watched *w, double now)
{
	const char *names[1];
	struct agg_stats st;

	agg_stats(w->tr->agg, &st);
	d->type_cap_hits += series_folds(w->tr->series) - w->folds;
	w->folds = series_folds(w->tr->series);
	d->live_cap_hits += st.live_cap_hits - w->live_cap_hits;
	w->live_cap_hits = st.live_cap_hits;
	if (w->hold.armed && w->tr->last.tracked && w->tr->prev_tracked)
		search_holders(d, w, now);
	if (now - w->last_eval >= EVAL_PERIOD_S) {
		evaluate(w);
		w->last_eval = now;
	}
	if (holdsched_due(&w->hold, d->o.holder_period_s, w->leak && leaking_types(w, names, 1), now)) {
		holdsched_arm(&w->hold);
		tracee_keep_tracked(w->tr, true);
	}
}

/* The loop's tick: exits and due censuses of every watched process. */
static int on_tick(void *ctx, double now)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < d->n;) {
		struct tracee *tr = d->w[i].tr;

		if (tracee_check_alive(tr, now)) {
			drop(d, i);
			continue;
		}
		if (tracee_census_due(tr, now)) {
			tracee_census(tr, now);
			after_census(d, &d->w[i], now);
		}
		i++;
	}
	return 0;
}

static int on_publish(void *ctx, double now)
{
	struct daemon *d = ctx;

	publish(d);
	notify_status(d);
	return 0;
}

int daemon_run(const struct leakd_opts *o)
{
	struct daemon d = { .o = *o };
	int err, status = LEAKD_EXIT_OK;

	/* The ad hoc settings (--mode, --sites, --site-window...) were refused
	 * by cli_parse(), so the tracees run in gc mode; site windows only when
	 * asked for, 10 s each, within the hourly budget. */
	d.o.site_window_s = d.o.site_windows ? fmin(10.0, d.o.site_window_budget_s) : 0;
	d.o.series_cap = DAEMON_SERIES_CAP;
	d.o.type_cap = DAEMON_TYPE_CAP;

	d.w = calloc(d.o.max_processes ? d.o.max_processes : 1, sizeof(*d.w));
	hashmap_init(&d.skip, sizeof(struct skip_entry), SKIP_MAX);
	if (!d.w || hashmap_reserve(&d.skip, SKIP_MAX) < 0) {
		fprintf(stderr, "leakd: out of memory\n");
		status = LEAKD_EXIT_ERROR;
		goto cleanup;
	}
	/* Before the metrics server's thread starts: it inherits the blocked
	 * stop signals, which only the loop reads. */
	err = evloop_new(&d.loop);
	if (err) {
		fprintf(stderr, "leakd: cannot set up the event loop: %s\n", strerror(-err));
		status = LEAKD_EXIT_ERROR;
		goto cleanup;
	}
	err = evloop_load_probes(d.loop, o->ringbuf_bytes, on_event, &d, &d.probes);
	if (err) {
		status = LEAKD_EXIT_ERROR;
		goto cleanup;
	}
	err = httpd_start(d.o.listen_address, d.o.telemetry_path, &d.http);
	if (err) {
		fprintf(stderr, "leakd: cannot serve metrics on '%s': %s\n", d.o.listen_address, strerror(-err));
		status = LEAKD_EXIT_ERROR;
		goto cleanup;
	}
	/* Due together, they run in this order: a scan's new processes get
	 * their first look in the same turn, and a publish sees both. */
	err = evloop_add_timer(d.loop, 0, d.o.scan_interval_s, on_scan, &d);
	if (!err)
		err = evloop_add_timer(d.loop, EVLOOP_TICK_S, EVLOOP_TICK_S, on_tick, &d);
	evloop_on_ring(d.loop, on_tick, &d);
	if (!err)
		err = evloop_add_timer(d.loop, PUBLISH_PERIOD_S, PUBLISH_PERIOD_S, on_publish, &d);
	if (!err)
		err = evloop_watchdog(d.loop);
	if (err) {
		fprintf(stderr, "leakd: cannot set up the event loop: %s\n", strerror(-err));
		status = LEAKD_EXIT_ERROR;
		goto cleanup;
	}
	if (evloop_run(d.loop))
		status = LEAKD_EXIT_ERROR;
	sd_notify(0, "STOPPING=1");
cleanup:
	for (size_t i = 0; i < d.n; i++) {
		probes_unwatch(d.probes, d.w[i].tr->t.pid);
		free(d.w[i].holders);
		verdict_clear(&d.w[i].v);
		tracee_free(d.w[i].tr);
	}
	httpd_free(d.http);
	/* The loop first: its ring source watches the probes' fd. */
	evloop_free(d.loop);
	probes_free(d.probes);
	free(d.w);
	hashmap_fini(&d.skip);
	return status;
}
