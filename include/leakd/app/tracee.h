/* SPDX-License-Identifier: MIT */
/*
 * tracee: one traced Python process and everything leakd learns about it.
 *
 * The orchestrator of the pipeline stages for one pid. It owns the resolved
 * target (ELF, version, _PyRuntime), the interpreter layout, a memory
 * reader, the aggregation (live table, its type names, the series), the
 * census schedule and its pause statistics, /proc readings (RSS, open
 * fds), the probes it attached, and the exit/exec watch. It owns the sites
 * stage too (site windows, byte samples) and calls down into it, handing
 * it a struct sites_host of pointers to its own members; nothing below
 * calls back up. It turns all of that into report records; the session loop
 * decides when.
 */
#ifndef LEAKD_TRACEE_H
#define LEAKD_TRACEE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "leakd/abi.h"
#include "leakd/probes/allocplan.h"
#include "leakd/census/budget.h"
#include "leakd/census/census.h"
#include "leakd/app/options.h"
#include "leakd/verdict/contrack.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/pymalloc.h"
#include "leakd/summary.h"
#include "leakd/sites/sitehost.h"
#include "leakd/process/target.h"
#include "leakd/verdict/livetypes.h"

struct agg;
struct series;
struct elfimg;
struct remote;
struct sitewin;

#define TRACEE_MAX_PROBE_NAMES (ALLOCPLAN_MAX_SPECS + ALLOCPLAN_MAX_GC)
#define TRACEE_LIVE_TYPES_MAX 20

struct tracee {
	struct target t;
	struct elfimg *img;		/* owned */
	struct pylayout layout;
	bool layout_ok;
	char note[REPORT_WARNING_MAX];	/* what limits this target's report, or "" */
	struct remote *mem;
	struct agg *agg;		/* live table: trace-mode events */
	struct series *series;		/* samples and census counts, every mode */
	const struct leakd_opts *opts;

	int pidfd;			/* readable once the process exits */
	int memfd;			/* /proc/PID/mem of the image resolved: reads 0 bytes
					 * once the process exec'd or exited */
	uint64_t memfd_dev, memfd_ino;	/* which file memfd is */
	bool spawned;			/* our child: reap it */
	bool finished;			/* exited, exec'd, or vanished */
	bool exited;
	bool runtime_ready;		/* the interpreter exists: census possible */

	double t0, t_end;		/* monotonic seconds */
	double last_census, last_sample;
	bool census_due;		/* a collection finished since the last census */
	bool freeze_denied;		/* ptrace refused: walk without freezing */

	/* census statistics */
	uint64_t census_runs, census_failures, pause_us_sum, pause_us_max, objects_walked;
	uint64_t *prev_tracked;		/* the census before last's tracked objects (keep_tracked) */
	size_t nprev_tracked;
	bool prev_sorted;
	uint64_t census_skipped_mid_gc;		/* censuses left out: the collector was running */
	struct pause_budget budget;	/* when the next census may stop the target */
	size_t warmed_for;		/* cache size the target's heap was last warmed for */
	uint64_t reach_us_sum;		/* leakd's time following referents, target running */
	uint64_t last_objects, last_bytes;
	uint64_t last_seen_by_probes;	/* of last_objects, how many the live table holds */
	struct livetypes types;		/* trace mode: the live table's type names */
	struct census last;		/* owned; types of the latest census */
	int last_census_err;

	/* GC, from the interpreter's own counters */
	struct pygc_state gc_first, gc_now;
	bool gc_ok;
	uint64_t gc_events;
	int gc_gen;			/* generation of the collection in progress, -1 unknown */

	int64_t rss_bytes, open_fds;
	int64_t rss_anon;		/* anonymous resident bytes (heap, arenas, mmaps) */
	struct pymalloc_loc pym;	/* where the allocator's arenas are, when pym_state == 1 */
	int pym_state;			/* 0 not looked for yet, 1 found, -1 not to be had */
	struct pymalloc_stats pym_now;	/* at the last census, when pym_ok */
	bool pym_ok;
	struct contrack containers;	/* the largest containers, to say which one grows */
	bool keep_tracked;		/* censuses keep the tracked addresses (holders) */

	/* probes */
	enum allocplan_gc_kind gc_hook;
	struct allocplan plan;
	bool tracing_allocs;
	const char *signals[11];		/* the summary's coverage.signals */
	const char *probe_names[TRACEE_MAX_PROBE_NAMES];
	char probe_name_buf[TRACEE_MAX_PROBE_NAMES][64];
	size_t n_probe_names;

	struct sitewin *sw;		/* site windows (--site-window), or NULL */
	struct bytesamp *bs;		/* trace mode's byte samples (--sample-bytes), or NULL */
};

/* Resolves pid and prepares everything but the probes. Returns 0, or the
 * target_resolve() errors (-ESRCH, -ENOEXEC, -EACCES/-EPERM, -ENOTSUP),
 * -ENOMEM. */
int tracee_new(const struct leakd_opts *o, pid_t pid, bool spawned, struct tracee **out);
void tracee_free(struct tracee *tr);

struct probes;

/* Trace mode: plans this build's allocation probes (into tr->plan), reading
 * the live allocator tables. Returns 0 (an empty plan is noted, not an
 * error) or -errno. */
int tracee_plan_allocs(struct tracee *tr);

/* Attaches the GC hook (shared per binary: failures degrade to timer
 * censuses, with one line on stderr), the planned allocation probes for this
 * pid, and watches it; prepares its site windows (--site-window; they open
 * after censuses). Returns 0 or -errno. */
int tracee_attach(struct tracee *tr, struct probes *p);

/* Feeds one ring-buffer record for this pid. */
void tracee_event(struct tracee *tr, const struct leakd_event *e);

/* Whether a census is due: at the first collection after 0.9 census
 * periods (the lists are freshly merged, counts sit at their floor), else on
 * the timer at 1.1 periods, so the detector gets about one point per period
 * whether the GC runs often, rarely or not at all. The period is
 * --census-period, stretched so that the pauses stay within
 * --max-pause-share of the time on average (a token bucket with a minute's
 * worth of burst): a heap ten times larger is counted ten times less often,
 * never skipped. */
bool tracee_census_due(const struct tracee *tr, double now);

/* Runs a census now (freezing the target unless told not to) and appends a
 * point to the series. Returns 0, or -errno (the target may be gone). */
int tracee_census(struct tracee *tr, double now);

/* Checks exit and exec (of another program or of the same one); returns true
 * once the tracee is finished. */
bool tracee_check_alive(struct tracee *tr, double now);

/* Whether the address space resolved at the start is gone: the process
 * exec'd or exited. Catches an exec of the same interpreter (a service
 * re-exec'ing itself), which leaves /proc/PID/exe as it was while every
 * address leakd resolved is stale. False when it cannot tell. */
bool tracee_image_replaced(const struct tracee *tr);

void tracee_sample(struct tracee *tr, double now, struct report_sample *out);

/* Fills out; strings and arrays point into tr or into the given buffers and
 * stay valid until the next tracee_ call. */
struct verdict;
int tracee_summary(struct tracee *tr, double now, uint64_t dropped, struct verdict *v,
		    struct report_size_row *sizes, size_t max_sizes,
		    struct report_type_row live_types[TRACEE_LIVE_TYPES_MAX], struct report_summary *out);

/* Whether the live counts come from the probes (they see every allocation)
 * rather than the census. */
bool tracee_live_from_probes(const struct tracee *tr);

/*
 * Searches what holds the instances of the named types (holders.h) in the
 * heap of the last census, which must have kept its tracked objects
 * (keep_tracked). Names the census does not know are ignored. Returns 0,
 * -ENOENT (no such type, or no census with tracked objects), or
 * holders_find()'s errors. key_shapes: dict keys by their type only
 * (holders_query).
 */
struct holders_result;
int tracee_holders(struct tracee *tr, const char *const *names, size_t n, bool key_shapes,
		    struct holders_result *out);

/* Whether the next censuses keep the tracked objects' addresses for
 * tracee_holders(); off also frees those the last two censuses kept. */
void tracee_keep_tracked(struct tracee *tr, bool on);

/* Records the probe names this tracee is covered by (for the summary). */
void tracee_add_probe_name(struct tracee *tr, const char *name);

#endif
