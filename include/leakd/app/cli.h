/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing: argv in, struct leakd_opts out. Pure (no I/O but the
 * error text it fills in), so every flag and every usage error is unit-tested.
 */
#ifndef LEAKD_CLI_H
#define LEAKD_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define LEAKD_VERSION "0.1.0"
#define LEAKD_MAX_PIDS 64

enum leakd_mode { LEAKD_MODE_GC = 0, LEAKD_MODE_TRACE = 1 };
enum leakd_format { LEAKD_FORMAT_TABLE = 0, LEAKD_FORMAT_JSON = 1 };

/* Exit statuses, documented in docs/leakd.8 and README. */
enum {
	LEAKD_EXIT_OK = 0,
	LEAKD_EXIT_ERROR = 1,
	LEAKD_EXIT_USAGE = 2,
	LEAKD_EXIT_LEAK = 3,
};

struct leakd_opts {
	pid_t pids[LEAKD_MAX_PIDS];
	size_t npids;
	char **cmd;			/* argv after "--", NULL-terminated; NULL if none */
	double duration_s;		/* 0: until targets exit or a signal */
	double interval_s;		/* sample period, default 5 */
	double census_period_s;		/* at most one census per period, default 1 */
	double max_pause_share;		/* the target stopped at most this share of the time (0.005) */
	enum leakd_mode mode;
	enum leakd_format format;
	const char *output;		/* NULL: stdout */
	bool fail_on_leak;
	bool no_freeze;			/* walk the GC lists without stopping the target */
	bool holders;			/* --holders: holders of the top types, leaking or not */
	const char *graph_path;		/* --graph FILE: the holders' graph in dot; NULL: none */
	double site_window_s;		/* --site-window: how long a site window records (10); 0: none */
	bool sites_at_start;		/* --sites: a window at the start for the growing classes */
	uint64_t sample_bytes;		/* --sample-bytes: trace mode's mean bytes per stack sample; 0: none */
	double site_window_budget_s;	/* windows per process per hour at most, in seconds; 0: no bound */
	bool quiet_samples;		/* only the summary */
	bool help, version;
	bool daemon;			/* --daemon: watch every Python process, export metrics */
	const char *config_path;	/* --config FILE; NULL: the default file if it exists */
	const char *listen_address;	/* --web.listen-address; NULL: from the config */
	const char *telemetry_path;	/* --web.telemetry-path; NULL: from the config */
	size_t series_cap, type_cap;	/* per-process memory bounds (series_new(); 0 = defaults) */
	const char *proc_root;		/* "/proc" unless testing */
	size_t ringbuf_bytes;
};

void cli_defaults(struct leakd_opts *o);

/* Parses argv (argv[0] is the program name). Returns 0, or -EINVAL with a
 * one-line reason in err (no trailing newline). argv must outlive opts:
 * opts->cmd points into it. */
int cli_parse(int argc, char **argv, struct leakd_opts *o, char *err, size_t errlen);

/* The --help text. */
const char *cli_usage(void);

#endif
