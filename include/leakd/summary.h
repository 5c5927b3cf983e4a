/* SPDX-License-Identifier: MIT */
/*
 * summary: what every stage of the pipeline fills and every writer reads.
 *
 * The data model between the stages (census, verdict, holders, sites) and
 * the outputs (report, metrics, journal): one struct report_sample per
 * process per interval and one struct report_summary per process at the end
 * of a session. Plain data: no functions, nothing allocated here. Like abi.h
 * (the BPF/user contract) it sits at the root of include/leakd/ and every
 * layer may include it (docs/architecture.md).
 *
 * Unknown values: signed counters (rss, fds) use REPORT_UNKNOWN (-1), doubles
 * use NaN, strings are empty; JSON prints them as null, the table as "-".
 */
#ifndef LEAKD_SUMMARY_H
#define LEAKD_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct holders_result;	/* holders/holders.h: the holder search's result */

#define REPORT_UNKNOWN		(-1)
#define REPORT_COMM_MAX		32	/* /proc/PID/comm is at most 16 */
#define REPORT_PATH_MAX		4096
#define REPORT_PYVER_MAX	32
#define REPORT_TYPE_NAME_MAX	128	/* longer tp_names are truncated */
#define REPORT_REASON_MAX	512
#define REPORT_WARNING_MAX	256

/* Where a sample's live counts come from. */
enum report_source {
	REPORT_SOURCE_CENSUS = 0,	/* walk of the GC lists (always-on tier) */
	REPORT_SOURCE_PROBES,		/* live table fed by alloc/free probes */
};

enum report_mode {
	REPORT_MODE_GC = 0,		/* census + GC hooks only */
	REPORT_MODE_TRACE,		/* per-allocation probes too */
};

/* One size class of the live-allocation histogram. size is the class's upper
 * bound in bytes (16 holds 1..16, 1024 holds 513..1024); the last class,
 * 1 GiB, also holds everything larger. */
struct report_size_row {
	uint64_t size;
	uint64_t live_objects;
	uint64_t live_bytes;
};

/* One type of the census, with its growth as judged by the verdict. */
struct report_type_row {
	char type[REPORT_TYPE_NAME_MAX];	/* "dict", "__main__.Item", "(other)" */
	uint64_t live_objects;			/* at the last census */
	uint64_t live_bytes;			/* at the last census, 0 if unknown */
	double growth_per_s;			/* Theil-Sen slope of the floors, NaN if unknown */
	double bytes_per_s;			/* the same for its live bytes, NaN if unknown */
	bool leak;				/* its objects or its bytes keep growing */
	bool has_generations;			/* the GC tracks its instances */
	uint64_t generations[4];		/* of them, on generation 0-2's and the permanent list */
};

/* The summary's "growth" object; verdict_compute() fills it. */
struct report_growth {
	bool leak;
	double bytes_per_s;
	double objects_per_s;
	double confidence;			/* 0..1 */
	char reason[REPORT_REASON_MAX];		/* one actionable sentence */
};

struct report_sample {
	double ts;			/* unix seconds */
	uint32_t pid;
	uint64_t live_objects;
	uint64_t live_bytes;
	uint64_t allocs;
	uint64_t frees;
	int64_t rss_bytes;		/* REPORT_UNKNOWN if unknown */
	int64_t open_fds;		/* REPORT_UNKNOWN if unknown */
	uint64_t gc_collections;	/* all generations, since attach */
	enum report_source source;
};

struct report_gc {
	uint64_t collections[3];	/* per generation */
	uint64_t collected;
	uint64_t uncollectable;
};

/* One frame of an allocating Python stack. */
struct report_frame {
	const char *file;
	int line;			/* 0: no line for that instruction */
	const char *function;		/* qualname */
};

/* Where surviving instances of a growing type were allocated (a site
 * window's ranking, see sites.h). */
struct report_site {
	const char *type;
	const struct report_frame *frames;	/* innermost first: frames[0] is the allocating line */
	size_t n_frames;
	bool truncated;				/* the stack had more frames than were walked */
	uint64_t sampled;			/* allocations sampled at this stack */
	uint64_t surviving;			/* of those, alive at the check */
	double live_bytes, live_objects;	/* byte samples: what the live ones stand for */
};

/* Whether this build's typed allocation probes see a growing type's
 * allocations, as measured in a site window. */
struct report_site_coverage {
	const char *type;
	bool attributable;		/* sites can be named for it */
	double share;			/* probe hits / new instances the census counted, NaN unknown */
	uint64_t probe_hits;		/* allocations the probes saw during the window */
	int64_t new_instances;		/* census count at the window's end minus at its start; -1 unknown */
	const char *note;		/* why not attributable, or NULL */
};

struct report_coverage {
	enum report_mode mode;
	const char *const *signals;	/* "gc-usdt", "gc-census", "gc-stats", "alloc-probes", ... */
	size_t n_signals;
	const char *const *probes;	/* "PyObject_Malloc+6", ... */
	size_t n_probes;
	double tracked_seen_by_probes;	/* share of live GC-tracked objects whose allocation a probe recorded; NaN -> null */
	char warning[REPORT_WARNING_MAX];	/* empty -> null */
	const struct report_site_coverage *site_types;	/* growing types a site window looked at */
	size_t n_site_types;
};

struct report_census {
	uint64_t runs;
	uint64_t pause_us_max;
	uint64_t pause_us_mean;
	uint64_t objects_walked;
	uint64_t skipped_mid_gc;	/* censuses left out: the collector ran at every try */
	bool reachable;			/* the walk followed referents beyond the GC's lists */
	uint64_t reach_us_mean;		/* leakd's time following them, target running */
	uint64_t untracked_objects;	/* of the last census: objects the GC does not track */
	double period_s;		/* the census period the pause budget chose, last */
	double pause_share;		/* time the target spent stopped, share of the session */
	char partial[96];		/* why the last census is incomplete, or "" */
};

/* Where the process's memory is, at the last census; REPORT_UNKNOWN if unknown. */
struct report_memory {
	int64_t python_objects;		/* bytes of every object the census counted */
	int64_t pymalloc_arenas;	/* bytes of arenas pymalloc has mapped */
	int64_t pymalloc_used;		/* bytes of its pools that hold blocks (an upper bound) */
	int64_t other_heap;		/* anonymous resident memory not explained by them */
	int64_t rss;
};

struct report_summary {
	uint32_t pid;
	char comm[REPORT_COMM_MAX];
	char exe[REPORT_PATH_MAX];
	char python[REPORT_PYVER_MAX];	/* "3.11.2"; empty -> null */
	double duration_s;
	bool exited;
	uint64_t allocs;
	uint64_t frees;
	uint64_t live_objects;
	uint64_t live_bytes;
	uint64_t dropped_events;
	struct report_gc gc;
	struct report_growth growth;
	const struct report_size_row *size_classes;	/* ascending size, not owned */
	size_t n_size_classes;
	const struct report_type_row *top_types;	/* as the writer should print them, not owned */
	size_t n_top_types;
	/* trace mode: the probes' live allocations by type, largest bytes first
	 * (growth_per_s and leak unused); not owned */
	const struct report_type_row *live_types;
	size_t n_live_types;
	int64_t open_fds;		/* REPORT_UNKNOWN if unknown */
	int64_t rss_bytes;		/* REPORT_UNKNOWN if unknown */
	struct report_coverage coverage;
	struct report_census census;
	struct report_memory memory;
	const struct holders_result *holders;	/* NULL: not searched; not owned */
	/* Site windows: most surviving first, grouped by type in order of first
	 * appearance; not owned. */
	const struct report_site *sites;
	size_t n_sites;
	/* Trace mode's byte samples: live bytes by allocating stack, largest
	 * first, grouped by type in the order of live_types; not owned. */
	const struct report_site *live_sites;
	size_t n_live_sites;
};

#endif /* LEAKD_SUMMARY_H */
