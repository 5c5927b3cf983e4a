/* SPDX-License-Identifier: MIT */
/*
 * metrics: a snapshot of the daemon's state in, Prometheus text exposition
 * format 0.0.4 out.
 *
 * The daemon copies what it knows about each watched process and about
 * itself into these plain structs; metrics_render() turns them into the
 * text /metrics serves. Nothing here reads /proc, allocates beyond the
 * output buffer, or keeps state between calls, so tests compare the text
 * against golden files. Names follow node_exporter's conventions (prefix
 * leakd_, base units, _total on counters); docs/metrics.md is the reference.
 *
 * Unknown values are omitted, not exported as 0: doubles use NaN, signed
 * counters METRICS_UNKNOWN (-1), the GC families gc_known = false. Label
 * sets are fixed per family: a process with no systemd unit or container
 * still carries unit="" and container="". Strings may hold any bytes (comm
 * and type names come from the target): they are escaped, and invalid UTF-8
 * is replaced by U+FFFD, so one odd process cannot fail a whole scrape.
 */
#ifndef LEAKD_METRICS_H
#define LEAKD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_UNKNOWN		(-1)
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* One row of a process's top-K types (already bounded by the caller: each
 * row is one series). Rows with the same name are summed. */
struct metrics_type_row {
	const char *type;		/* "dict", "__main__.Item", "(other)" */
	double live_objects;		/* NaN -> omitted */
	double live_bytes;		/* NaN -> omitted */
};

/* One path of what holds a leaking type (holdsched.h's rows, already
 * bounded by the caller): one leakd_leak_holder_info series. */
struct metrics_holder_row {
	const char *type;
	const char *holder;		/* "module m . X (list) [*] -> m.C" */
};

/* One watched process. Strings are borrowed; NULL counts as "". */
struct metrics_proc {
	uint32_t pid;
	const char *comm;
	const char *exe;
	const char *python;		/* "3.11.2" */
	const char *unit;		/* systemd unit, "" if none */
	const char *container;		/* container id, "" if none */

	double live_objects;		/* at the last census; NaN -> omitted */
	double live_bytes;
	double objects_growth_per_s;	/* slope of the floors; NaN -> omitted */
	double bytes_growth_per_s;
	bool leak_suspected;
	double leak_confidence;		/* 0..1; NaN -> omitted */

	bool gc_known;			/* false: the three GC families are omitted */
	uint64_t gc_collections[3];	/* per generation, the interpreter's totals */
	uint64_t gc_collected;
	uint64_t gc_uncollectable;

	int64_t open_fds;		/* METRICS_UNKNOWN -> omitted */
	int64_t rss_bytes;		/* METRICS_UNKNOWN -> omitted */
	int64_t other_heap_bytes;	/* anonymous RSS minus live bytes; METRICS_UNKNOWN -> omitted */

	uint64_t census_runs;
	double census_pause_seconds_max;	/* NaN -> omitted */
	double census_period_seconds;		/* NaN -> omitted */

	const struct metrics_type_row *types;	/* not owned */
	size_t ntypes;
	const struct metrics_holder_row *holders;	/* not owned; none unless flagged */
	size_t nholders;
};

/* leakd itself. Counters are totals since the daemon started, processes
 * that have exited included. */
struct metrics_self {
	const char *version;			/* leakd_build_info{version}; NULL -> "unknown" */
	uint64_t attached_processes;		/* watched now */
	uint64_t events_total;			/* ring-buffer records consumed */
	uint64_t dropped_events_total;		/* records lost for lack of ring-buffer space */
	uint64_t census_total;			/* censuses run */
	double census_pause_seconds_sum;	/* time targets were stopped for them */
	uint64_t processes_cap_hits_total;	/* processes left unwatched: cap on processes */
	uint64_t types_cap_hits_total;		/* types folded into "(other)": cap on types */
	uint64_t live_entries_cap_hits_total;	/* allocations not tracked: cap on live entries */
	double bpf_run_time_seconds_total;	/* NaN (kernel.bpf_stats_enabled off) -> omitted */
	double bpf_runs_total;			/* NaN -> omitted */
};

/*
 * Renders the snapshot into a heap buffer (*buf, NUL-terminated, *len bytes
 * without the NUL; the caller frees it). Families without samples are left
 * out entirely. Numbers are printed locale-independently, in the shortest
 * form that reads back exactly.
 * Returns 0, -EINVAL (NULL self or out-parameters, NULL procs with n > 0,
 * NULL types with ntypes > 0, NULL holders with nholders > 0) or -ENOMEM; out-parameters are untouched on
 * failure.
 */
int metrics_render(char **buf, size_t *len, const struct metrics_self *self,
		   const struct metrics_proc *procs, size_t n);

/* A sample value as the exposition format writes it: "12", "0.25", "1e+21",
 * "+Inf", "-Inf", "NaN"; shortest form that strtod() reads back exactly,
 * whatever the current locale. Always NUL-terminated; returns buf. */
const char *metrics_format_value(char *buf, size_t len, double v);

#endif /* LEAKD_METRICS_H */
