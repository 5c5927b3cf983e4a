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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/clock.h"
#include "leakd/agg.h"
#include "leakd/elfimg.h"
#include "leakd/freeze.h"
#include "leakd/probes.h"
#include "leakd/procmaps.h"
#include "leakd/pyname.h"
#include "leakd/remote.h"
#include "leakd/tracee.h"
#include "leakd/verdict.h"

#define TOP_TYPES_MAX 20
/* The pause budget's burst: a minute's worth of the share (0.3 s at 0.5%). */
#define TRACEE_BURST_S 60.0
/* The block cache never grows past this (per target). */
#define TRACEE_MAX_CACHE (256u << 20)
/* Live entries whose type is looked up per census, at most. Done after the
 * thaw: ~1 us each (their headers are scattered over the heap), which would
 * triple the pause. A block freed and reused meanwhile can be mistyped, never
 * misread: its header is validated like any other. */
#define RESOLVE_PER_CENSUS 50000

static int64_t read_open_fds(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX];
	struct dirent *de;
	int64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", proc_root, pid);
	d = opendir(path);
	if (!d)
		return REPORT_UNKNOWN;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* RssAnon from /proc/PID/status: the process's anonymous resident memory,
 * where Python objects and native allocations both live. */
static int64_t read_rss_anon(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX], line[256];
	int64_t v = REPORT_UNKNOWN;
	long long kb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return REPORT_UNKNOWN;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %lld kB", &kb) == 1 && kb >= 0) {
			v = kb * 1024;
			break;
		}
	fclose(f);
	return v;
}

static int64_t read_rss(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX];
	unsigned long size, resident;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%d/statm", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return REPORT_UNKNOWN;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2)
		return REPORT_UNKNOWN;
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* Layout: _Py_DebugOffsets where the build has it (3.13+), else the
 * version table. The debug offsets are static data in the file, so this
 * works before the interpreter has started. */
static void choose_layout(struct tracee *tr)
{
	uint8_t buf[PYLAYOUT_DEBUG_OFFSETS_MIN + 64];
	int err = -ENOTSUP;

	if (tr->t.py_major == 3 && tr->t.py_minor >= 13 && tr->t.runtime_addr &&
	    !elfimg__read(tr->img, tr->t.runtime_addr - tr->t.load_bias, buf, sizeof(buf)))
		err = pylayout_from_debug_offsets(buf, sizeof(buf), &tr->layout);
	if (err)
		err = pylayout_for_version(tr->t.py_major, tr->t.py_minor, tr->t.py_micro, &tr->layout);
	tr->layout_ok = !err && tr->layout.known && tr->t.runtime_addr;
	if (!tr->layout_ok)
		snprintf(tr->note, sizeof(tr->note),
			 "python %s: layout unknown, reporting totals only (GC events, RSS, open fds)",
			 tr->t.py_version);
}

int tracee__new(const struct leakd_opts *o, pid_t pid, bool spawned, struct tracee **out)
{
	struct tracee *tr;
	int err;

	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	tr->opts = o;
	tr->spawned = spawned;
	tr->pidfd = -1;
	tr->gc_gen = -1;
	err = target_resolve(o->proc_root, pid, &tr->t, &tr->img);
	if (err)
		goto cleanup;
	choose_layout(tr);
	err = remote__new(pid, REMOTE_DEFAULT_CACHE, &tr->mem);
	if (err)
		goto cleanup;
	tr->agg = agg__new(&(struct agg_limits){ .series_cap = o->series_cap, .type_cap = o->type_cap });
	if (!tr->agg) {
		err = -errno;
		goto cleanup;
	}
	tr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	tr->t0 = leakd_mono_now();
	tr->last_sample = tr->t0;
	tr->last_census = tr->t0 - 1e9;
	tr->census_due = true;
	tr->period_s = o->census_period_s;
	tr->rss_bytes = read_rss(o->proc_root, pid);
	tr->open_fds = read_open_fds(o->proc_root, pid);
	*out = tr;
	return 0;
cleanup:
	tracee__free(tr);
	return err;
}

void tracee__free(struct tracee *tr)
{
	if (!tr)
		return;
	if (tr->pidfd >= 0)
		close(tr->pidfd);
	census_free(&tr->last);
	free(tr->types);
	agg__free(tr->agg);
	remote__free(tr->mem);
	elfimg__free(tr->img);
	free(tr);
}

/* Attaches the GC hook (shared per binary) and, in trace mode, this pid's
 * allocation probes. GC hook failures degrade to timer censuses. */
int tracee__attach(struct tracee *tr, struct probes *p)
{
	struct allocplan_gc g;
	unsigned flags = LEAKD_WATCH_GC;
	int err;

	allocplan_gc(tr->img, tr->t.has_usdt_gc, tr->t.py_minor, &g);
	err = 0;
	if (g.kind == ALLOCPLAN_GC_USDT)
		err = probes__attach_gc_usdt(p, tr->t.open_path);
	else if (g.kind == ALLOCPLAN_GC_UPROBE)
		err = probes__attach_gc_uprobes(p, tr->t.open_path, g.offsets, g.gen_regs, g.n);
	if (err) {
		fprintf(stderr, "leakd: pid %d: GC hook %s not attached (%s), censuses run on the timer only\n",
			tr->t.pid, g.names[0], strerror(-err));
		g.kind = ALLOCPLAN_GC_NONE;
	}
	tr->gc_hook = g.kind;
	for (size_t i = 0; g.kind != ALLOCPLAN_GC_NONE && i < (g.kind == ALLOCPLAN_GC_USDT ? 1 : g.n); i++)
		tracee__add_probe_name(tr, g.names[i]);

	if (tr->opts->mode == LEAKD_MODE_TRACE) {
		for (size_t i = 0; i < tr->plan.n; i++) {
			err = probes__attach_alloc(p, tr->t.open_path, tr->t.pid, &tr->plan.specs[i]);
			if (err) {
				fprintf(stderr, "leakd: pid %d: failed to attach probe %s: %s\n", tr->t.pid,
					tr->plan.specs[i].name, strerror(-err));
				probes__detach_pid(p, tr->t.pid);
				return err;
			}
			tracee__add_probe_name(tr, tr->plan.specs[i].name);
		}
		tr->tracing_allocs = tr->plan.n > 0;
		if (tr->tracing_allocs) {
			tr->types = calloc(TRACEE_TYPE_SLOTS, sizeof(*tr->types));
			if (!tr->types)
				return -ENOMEM;
			flags |= LEAKD_WATCH_ALLOCS;
		}
	}
	return probes__watch(p, tr->t.pid, flags);
}

int tracee__plan_allocs(struct tracee *tr)
{
	struct memreader rd = remote__reader(tr->mem);
	int err;

	if (tr->opts->mode != LEAKD_MODE_TRACE)
		return 0;
	remote__invalidate(tr->mem);
	err = allocplan_allocs(tr->img, tr->t.load_bias, &rd, &tr->plan);
	if (err == -ENOENT) {
		snprintf(tr->note, sizeof(tr->note), "no allocation entry point found in %.180s: census only",
			 tr->t.interp_path);
		return 0;
	}
	return err;
}

void tracee__add_probe_name(struct tracee *tr, const char *name)
{
	size_t i = tr->n_probe_names;

	if (i == TRACEE_MAX_PROBE_NAMES)
		return;
	snprintf(tr->probe_name_buf[i], sizeof(tr->probe_name_buf[i]), "%s", name);
	tr->probe_names[i] = tr->probe_name_buf[i];
	tr->n_probe_names++;
}

void tracee__event(struct tracee *tr, const struct leakd_event *e)
{
	switch (e->kind) {
	case LEAKD_EV_ALLOC:
		agg__alloc(tr->agg, e->ts_ns, e->addr, e->size, e->aux);
		break;
	case LEAKD_EV_FREE:
		agg__free_addr(tr->agg, e->ts_ns, e->addr);
		break;
	case LEAKD_EV_GC_START:
		tr->gc_gen = e->gen;
		break;
	case LEAKD_EV_GC_DONE:
		tr->gc_events++;
		tr->census_due = true;
		/* The done probe does not know the generation; its start did. */
		agg__gc_done(tr->agg, e->ts_ns, tr->gc_gen, e->size);
		tr->gc_gen = -1;
		break;
	default:
		break;
	}
}

/* The live counts a sample and the detector use: the live table when the
 * probes see every allocation, else the census (exact for GC-tracked
 * objects on every build). */
static bool live_from_probes(const struct tracee *tr)
{
	return tr->tracing_allocs && tr->plan.complete;
}

/* The type object at t, named and checked once per target. NULL when the
 * cache is full or t is not a type. */
static bool type_known(const struct tracee *tr, uint64_t t)
{
	size_t mask = TRACEE_TYPE_SLOTS - 1, h;

	for (h = (t >> 4) * 0x9e3779b97f4a7c15ull >> 52 & mask; tr->types[h].addr; h = (h + 1) & mask)
		if (tr->types[h].addr == t)
			return true;
	return false;
}

static const struct tracee_type *type_lookup(struct tracee *tr, uint64_t t)
{
	struct memreader rd = remote__reader(tr->mem);
	size_t mask = TRACEE_TYPE_SLOTS - 1, h;
	struct tracee_type e = { .addr = t };
	uint64_t flags;

	for (h = (t >> 4) * 0x9e3779b97f4a7c15ull >> 52 & mask; tr->types[h].addr; h = (h + 1) & mask)
		if (tr->types[h].addr == t)
			return &tr->types[h];
	/* Cheap rejection first: a type's own type is a known type (or itself,
	 * for `type`); random words read from a buffer rarely pass. */
	if (memreader_read_u64(&rd, t + 8, &flags) || (flags != t && !type_known(tr, flags)))
		return NULL;
	/* Only real types are cached: candidates read from buffers are mostly
	 * garbage, and remembering them would crowd the real ones out. */
	if (pyname_type(&rd, &tr->layout, t, e.name, sizeof(e.name)) <= 0 ||
	    memreader_read_u64(&rd, t + tr->layout.tp_flags, &flags))
		return NULL;
	e.valid = true;
	e.presize = (flags & PYLAYOUT_TPFLAGS_HAVE_GC ? tr->layout.gc_head_size : 0) +
		    (flags & tr->layout.preheader_flags ? 16 : 0);
	if (tr->ntypes >= TRACEE_TYPE_SLOTS / 2)
		return NULL;
	tr->types[h] = e;
	tr->ntypes++;
	return &tr->types[h];
}

/* What object a live block holds: the allocator returns the block, and the
 * object starts after its pre-header (0, 16 or 32 bytes), so try each and
 * keep the one whose type agrees with that pre-header size. */
static uint64_t resolve_block_type(void *ctx, uint64_t addr, uint64_t size)
{
	struct tracee *tr = ctx;
	struct memreader rd = remote__reader(tr->mem);

	for (uint64_t off = 0; off <= 32; off += 16) {
		const struct tracee_type *ty;
		uint64_t hdr[2];

		if (size < off + sizeof(hdr) || memreader_read(&rd, addr + off, hdr, sizeof(hdr)))
			break;
		/* ob_refcnt of a live object: positive, and not a pointer */
		if (!hdr[0] || hdr[0] >> 40 || (hdr[1] & 7) || hdr[1] < 4096)
			continue;
		ty = type_lookup(tr, hdr[1]);
		if (ty && ty->presize == off)
			return hdr[1];
	}
	return 0;
}

/* Reads the target's anonymous writable mappings (its heap, arenas, thread
 * stacks), up to `budget` bytes, with the target running: a first read of a
 * page costs the kernel ~10x a later one here, and would otherwise land in
 * the first census's pause. Done once per cache size, so a heap that grows
 * is warmed again when the cache grows with it. */
static void warm_heap(struct tracee *tr, uint64_t budget)
{
	struct procmaps_entry *maps = NULL;
	size_t n = 0;

	tr->warmed_for = remote__cache_bytes(tr->mem);
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
		if (remote__warm(tr->mem, e->start, len) < 0)
			break;
		budget -= len;
	}
	free(maps);
}

/* The symbol's runtime address, or 0. */
static uint64_t symbol_addr(const struct tracee *tr, const char *name)
{
	struct elfimg_sym sym;

	return elfimg__find_symbol(tr->img, name, &sym) ? 0 : sym.vaddr + tr->t.load_bias;
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
	size_t have = remote__cache_bytes(tr->mem), want = REMOTE_DEFAULT_CACHE;

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
		(void)remote__resize(tr->mem, want);	/* on -ENOMEM the old cache serves */
	if (remote__cache_bytes(tr->mem) != tr->warmed_for)
		warm_heap(tr, remote__cache_bytes(tr->mem));
}

/*
 * The pause budget, a token bucket: the target earns `share` seconds of
 * stop per second of running, up to TRACEE_BURST_S seconds' worth, and each
 * census spends its pause. The next census waits --census-period, and then
 * until the bucket holds what it will likely cost: the smaller of the last
 * two pauses, so that one slow pause (the machine busy elsewhere) does not
 * stretch the period and two in a row do. Over any window of T seconds the
 * target is stopped at most share * (T + TRACEE_BURST_S): 0.5% on average,
 * with room at the start of a session for the points the detector needs.
 */
static void schedule_next(struct tracee *tr, double now, double pause_us)
{
	double share = tr->opts->max_pause_share > 0 ? tr->opts->max_pause_share : 0.005;
	double cap = share * TRACEE_BURST_S, p = pause_us / 1e6;
	double est = tr->prev_pause_us > 0 && tr->prev_pause_us < pause_us ? tr->prev_pause_us / 1e6 : p;
	double wait;

	if (!tr->budget_t) {
		tr->budget_tokens = cap;
		tr->budget_t = now;
	}
	tr->budget_tokens += share * (now - tr->budget_t);
	if (tr->budget_tokens > cap)
		tr->budget_tokens = cap;
	tr->budget_tokens -= p;
	tr->budget_t = now;
	tr->prev_pause_us = pause_us;
	wait = tr->budget_tokens < est ? (est - tr->budget_tokens) / share : 0;
	tr->period_s = wait > tr->opts->census_period_s ? wait : tr->opts->census_period_s;
}

/* Matches this census's largest containers with those seen before (by
 * address and type: a freed and reused address would change one or both). */
static void track_containers(struct tracee *tr, const struct memreader *rd, const struct census *c, double now)
{
	for (size_t i = 0; i < tr->ncontainers; i++)
		tr->containers[i].seen_now = false;
	for (size_t i = 0; i < c->ncontainers; i++) {
		const struct heapwalk_container *hc = &c->containers[i];
		struct tracee_container *tc = NULL;

		for (size_t j = 0; j < tr->ncontainers && !tc; j++)
			if (tr->containers[j].addr == hc->addr && tr->containers[j].type == hc->type)
				tc = &tr->containers[j];
		if (!tc) {
			/* a new one replaces one that is gone, or takes a free slot */
			for (size_t j = 0; j < tr->ncontainers && !tc; j++)
				if (tr->containers[j].t1 < now)
					tc = &tr->containers[j];
			if (!tc && tr->ncontainers < sizeof(tr->containers) / sizeof(tr->containers[0]))
				tc = &tr->containers[tr->ncontainers++];
			if (!tc)
				continue;
			memset(tc, 0, sizeof(*tc));
			tc->addr = hc->addr;
			tc->type = hc->type;
			tc->t0 = now;
			tc->items0 = hc->items;
			if (pyname_type(rd, &tr->layout, hc->type, tc->name, sizeof(tc->name)) <= 0)
				snprintf(tc->name, sizeof(tc->name), "(container)");
			for (int k = 0; k < 3 && hc->held_type[k]; k++)
				if (pyname_type(rd, &tr->layout, hc->held_type[k], tc->held[k], sizeof(tc->held[k])) <= 0)
					tc->held[k][0] = '\0';
		}
		tc->t1 = now;
		tc->items1 = hc->items;
		tc->seen_now = true;
	}
}

/* Appends the containers that grew between two censuses to a leak's reason. */
static void reason_containers(const struct tracee *tr, struct verdict *v)
{
	struct verdict_container vc[2 * CENSUS_CONTAINERS];
	size_t n = 0;

	for (size_t i = 0; i < tr->ncontainers; i++) {
		const struct tracee_container *tc = &tr->containers[i];

		if (!tc->seen_now || tc->t1 - tc->t0 < 1.0 || tc->items1 <= tc->items0)
			continue;
		vc[n] = (struct verdict_container){ .type = tc->name,
			.items_per_s = (double)(tc->items1 - tc->items0) / (tc->t1 - tc->t0) };
		for (int k = 0, h = 0; k < 3; k++)
			if (tc->held[k][0])
				vc[n].held[h++] = tc->held[k];
		n++;
	}
	verdict_add_containers(v, vc, n);
}

bool tracee__census_due(const struct tracee *tr, double now)
{
	double since = now - tr->last_census, period = tr->period_s;

	return (tr->census_due && since >= period * 0.9) || since >= period * 1.1;
}

/* Census visitor in trace mode: did a probe record this object's birth?
 * The live table is keyed by what the probed function returned: the block
 * (GC head first, or 16 bytes of pre-header before it), or the object itself
 * for _PyObject_GC_New and friends. */
static void match_probes(void *ctx, uint64_t node, uint64_t obj, uint64_t type)
{
	struct tracee *tr = ctx;

	if (agg__set_type(tr->agg, node, type) || agg__set_type(tr->agg, node - 16, type) ||
	    agg__set_type(tr->agg, obj, type))
		tr->last_seen_by_probes++;
}

int tracee__census(struct tracee *tr, double now)
{
	struct memreader rd = remote__reader(tr->mem);
	struct freeze *fz = NULL;
	struct pygc_state gs;
	struct census c;
	struct agg_stats st;
	struct agg_point pt;
	double t1, pause_us;
	int err, gerr;

	tr->last_census = now;
	tr->census_due = false;
	tr->rss_bytes = read_rss(tr->opts->proc_root, tr->t.pid);
	tr->rss_anon = read_rss_anon(tr->opts->proc_root, tr->t.pid);
	tr->open_fds = read_open_fds(tr->opts->proc_root, tr->t.pid);
	if (!tr->layout_ok) {
		/* Totals only: the series still carries fds and RSS. */
		pt = (struct agg_point){ .t = now, .objects = NAN, .bytes = NAN,
					 .fds = tr->open_fds >= 0 ? (double)tr->open_fds : NAN,
					 .rss = tr->rss_bytes >= 0 ? (double)tr->rss_bytes : NAN, .native = NAN };
		agg__add_point(tr->agg, &pt);
		return -ENOTSUP;
	}

	fit_cache(tr);
	t1 = leakd_mono_now();
	if (!tr->opts->no_freeze && !tr->freeze_denied) {
		err = freeze__stop(tr->t.pid, &fz);
		if (err == -ESRCH)
			return err;
		if (err) {
			/* Someone else traces it (a debugger, strace): walk live and
			 * tolerate torn links rather than fight over it. */
			tr->freeze_denied = true;
			snprintf(tr->note, sizeof(tr->note),
				 "could not freeze the target for the census (%s): lists walked live, counts may be torn",
				 strerror(-err));
		}
	}
	remote__invalidate(tr->mem);
	gerr = census_gc_state(&rd, &tr->layout, tr->t.runtime_addr, &gs);
	struct census_limits lim = { .reachable = true };
	uint64_t seen_before = tr->last_seen_by_probes;

	if (tr->tracing_allocs) {
		lim.visit = match_probes;
		lim.visit_ctx = tr;
		tr->last_seen_by_probes = 0;
	}
	err = census_walk(&rd, &tr->layout, tr->t.runtime_addr, &lim, &c);
	/* the allocator's arena table is small and changes under us: read it
	 * while the target is still stopped */
	tr->pym_ok = !err && read_pymalloc(tr, &rd);
	freeze__thaw(fz);
	pause_us = (leakd_mono_now() - t1) * 1e6;
	if (!err && lim.reachable) {
		/* what the tracked objects reach, with the target running again */
		double t2 = leakd_mono_now();

		err = census_reach(&rd, &c);
		tr->reach_us_sum += (uint64_t)((leakd_mono_now() - t2) * 1e6);
	}
	/* Blocks the census cannot see (str, int, buffers) get their type from
	 * their own header. */
	if (!err && tr->types)
		agg__resolve_types(tr->agg, resolve_block_type, tr, RESOLVE_PER_CENSUS);

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
	tr->runtime_ready = true;
	tr->census_runs++;
	schedule_next(tr, now, pause_us);
	tr->pause_us_sum += (uint64_t)pause_us;
	if ((uint64_t)pause_us > tr->pause_us_max)
		tr->pause_us_max = (uint64_t)pause_us;
	tr->objects_walked += c.steps;
	tr->last_objects = c.objects;
	tr->last_bytes = c.bytes;
	census_free(&tr->last);
	tr->last = c;

	agg__stats(tr->agg, &st);
	pt.t = now;
	pt.objects = live_from_probes(tr) ? (double)st.live_objects : (double)c.objects;
	pt.bytes = live_from_probes(tr) ? (double)st.live_bytes : (double)c.bytes;
	pt.fds = tr->open_fds >= 0 ? (double)tr->open_fds : NAN;
	pt.rss = tr->rss_bytes >= 0 ? (double)tr->rss_bytes : NAN;
	pt.native = tr->rss_anon >= 0 && c.reachable ? (double)tr->rss_anon - (double)c.bytes : NAN;
	agg__add_point(tr->agg, &pt);
	track_containers(tr, &rd, &c, now);

	if (c.ntypes) {
		const char *names[c.ntypes];
		uint64_t objs[c.ntypes], bytes[c.ntypes];

		for (size_t i = 0; i < c.ntypes; i++) {
			names[i] = c.types[i].name;
			objs[i] = c.types[i].objects;
			bytes[i] = c.types[i].bytes;
		}
		agg__add_type_counts(tr->agg, now, names, objs, bytes, c.ntypes);
	}
	return 0;
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

bool tracee__check_alive(struct tracee *tr, double now)
{
	struct pollfd pfd = { .fd = tr->pidfd, .events = POLLIN };
	bool gone = false;
	int st;

	if (tr->finished)
		return true;
	if (tr->spawned && waitpid(tr->t.pid, &st, WNOHANG) == tr->t.pid)
		gone = true;
	else if (tr->pidfd >= 0)
		gone = poll(&pfd, 1, 0) > 0;
	else
		gone = kill(tr->t.pid, 0) && errno == ESRCH;
	if (gone) {
		tr->finished = tr->exited = true;
		tr->t_end = now;
		return true;
	}
	if (exe_changed(tr)) {
		/* A new program image: the interpreter we resolved is gone. */
		tr->finished = tr->exited = true;
		tr->t_end = now;
		snprintf(tr->note, sizeof(tr->note), "the process exec'd another program; its session ended there");
		return true;
	}
	return false;
}

void tracee__sample(struct tracee *tr, double now, struct report_sample *out)
{
	struct agg_stats st;
	uint64_t coll = 0;

	agg__stats(tr->agg, &st);
	memset(out, 0, sizeof(*out));
	out->ts = leakd_wall_now();
	out->pid = (uint32_t)tr->t.pid;
	out->source = live_from_probes(tr) ? REPORT_SOURCE_PROBES : REPORT_SOURCE_CENSUS;
	out->live_objects = live_from_probes(tr) ? st.live_objects : tr->last_objects;
	out->live_bytes = live_from_probes(tr) ? st.live_bytes : tr->last_bytes;
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
	size_t n = agg__live_by_type(tr->agg, tot, TRACEE_LIVE_TYPES_MAX);

	for (size_t i = 0; i < n; i++) {
		const struct tracee_type *ty = tot[i].type > AGG_TYPE_BUFFER && tr->types ?
			type_lookup(tr, tot[i].type) : NULL;

		memset(&rows[i], 0, sizeof(rows[i]));
		if (ty)
			snprintf(rows[i].type, sizeof(rows[i].type), "%s", ty->name);
		else if (tot[i].type == AGG_TYPE_BUFFER)
			snprintf(rows[i].type, sizeof(rows[i].type), "(buffer)");
		else
			snprintf(rows[i].type, sizeof(rows[i].type), "(not yet typed)");
		rows[i].live_objects = tot[i].objects;
		rows[i].live_bytes = tot[i].bytes;
		rows[i].growth_per_s = NAN;
	}
	out->live_types = rows;
	out->n_live_types = n;
}

int tracee__summary(struct tracee *tr, double now, uint64_t dropped, struct verdict *v,
		    struct report_size_row *sizes, size_t max_sizes,
		    struct report_type_row live_types[TRACEE_LIVE_TYPES_MAX], struct report_summary *out)
{
	const char **signals = tr->signals;
	struct agg_stats st;
	size_t ns = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = verdict_compute(tr->agg, NULL, v);
	if (err)
		return err;
	reason_containers(tr, v);
	agg__stats(tr->agg, &st);
	out->pid = (uint32_t)tr->t.pid;
	snprintf(out->comm, sizeof(out->comm), "%s", tr->t.comm);
	snprintf(out->exe, sizeof(out->exe), "%s", tr->t.exe);
	snprintf(out->python, sizeof(out->python), "%s", tr->t.py_version);
	out->duration_s = (tr->finished ? tr->t_end : now) - tr->t0;
	out->exited = tr->exited;
	out->allocs = st.allocs;
	out->frees = st.frees + st.frees_unmatched;
	out->live_objects = live_from_probes(tr) ? st.live_objects : tr->last_objects;
	out->live_bytes = live_from_probes(tr) ? st.live_bytes : tr->last_bytes;
	out->dropped_events = dropped;
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
			out->gc.collections[g] = st.gc_collections[g];
		out->gc.collected = st.gc_collected;
	}
	out->growth = v->growth;
	out->top_types = v->types;
	out->n_top_types = v->n_types < TOP_TYPES_MAX ? v->n_types : TOP_TYPES_MAX;
	out->size_classes = sizes;
	if (live_from_probes(tr)) {
		out->n_size_classes = agg__size_classes(tr->agg, sizes, max_sizes);
	} else {
		/* The census measured every tracked object's shallow size. */
		for (unsigned c = 0; c < AGG_N_SIZE_CLASSES && out->n_size_classes < max_sizes; c++) {
			if (!tr->last.size_objects[c])
				continue;
			sizes[out->n_size_classes++] = (struct report_size_row){
				.size = agg_size_class_bound(c),
				.live_objects = tr->last.size_objects[c],
				.live_bytes = tr->last.size_bytes[c],
			};
		}
	}
	if (tr->tracing_allocs)
		live_types_rows(tr, live_types, out);
	out->open_fds = tr->open_fds;
	out->rss_bytes = tr->rss_bytes;

	out->coverage.mode = tr->tracing_allocs ? REPORT_MODE_TRACE : REPORT_MODE_GC;
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
	if (tr->open_fds >= 0)
		signals[ns++] = "open-fds";
	if (tr->rss_bytes >= 0)
		signals[ns++] = "rss";
	out->coverage.signals = signals;
	out->coverage.n_signals = ns;
	out->coverage.probes = tr->probe_names;
	out->coverage.n_probes = tr->n_probe_names;
	out->coverage.tracked_seen_by_probes = tr->tracing_allocs && tr->last_objects ?
		(double)tr->last_seen_by_probes / (double)tr->last_objects : NAN;
	if (tr->note[0])
		snprintf(out->coverage.warning, sizeof(out->coverage.warning), "%s", tr->note);
	else if (tr->tracing_allocs && !tr->plan.complete)
		snprintf(out->coverage.warning, sizeof(out->coverage.warning),
			 "LTO build: pymalloc is inlined into its callers, so allocation probes see only out-of-line "
			 "calls; live objects come from the GC census");
	else if (tr->plan.single_stepped)
		snprintf(out->coverage.warning, sizeof(out->coverage.warning),
			 "%zu allocation probe(s) sit on single-stepped instructions (~10 us per hit)",
			 tr->plan.single_stepped);
	else if (!tr->census_runs && tr->layout_ok)
		snprintf(out->coverage.warning, sizeof(out->coverage.warning),
			 "no census completed (%s)", tr->last_census_err ? strerror(-tr->last_census_err) :
			 "the interpreter was not initialised yet");
	out->census.runs = tr->census_runs;
	out->census.pause_us_max = tr->pause_us_max;
	out->census.pause_us_mean = tr->census_runs ? tr->pause_us_sum / tr->census_runs : 0;
	out->census.objects_walked = tr->objects_walked;
	out->census.reachable = tr->last.reachable;
	out->census.reach_us_mean = tr->census_runs ? tr->reach_us_sum / tr->census_runs : 0;
	out->census.untracked_objects = tr->last.untracked_objects;
	out->census.period_s = tr->period_s;
	out->census.pause_share = out->duration_s > 0 ? tr->pause_us_sum / 1e6 / out->duration_s : 0;
	snprintf(out->census.partial, sizeof(out->census.partial), "%s", tr->last.partial);
	out->memory.python_objects = tr->census_runs ? (int64_t)tr->last.bytes : REPORT_UNKNOWN;
	out->memory.pymalloc_arenas = tr->pym_ok ? (int64_t)tr->pym_now.arena_bytes : REPORT_UNKNOWN;
	out->memory.pymalloc_used = tr->pym_ok ? (int64_t)tr->pym_now.used_bytes : REPORT_UNKNOWN;
	out->memory.other_heap = tr->census_runs && tr->rss_anon >= 0 ?
		tr->rss_anon - (int64_t)tr->last.bytes : REPORT_UNKNOWN;
	out->memory.rss = tr->rss_bytes;
	return 0;
}
