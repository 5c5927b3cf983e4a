/* SPDX-License-Identifier: MIT */
/*
 * options: the one model of leakd's settings. struct leakd_opts holds every
 * setting of both modes (ad hoc sessions and --daemon), and one table,
 * options_table(), says for each its command-line flag, its config-file key,
 * its type, default, range, the modes it applies to and a line of help. The
 * command-line parser (cli.c), the config-file parser (config.c), --help,
 * --print-config and the docs tests all read that table, so they cannot
 * disagree. Pure: no I/O but the FILE the writers are given.
 */
#ifndef LEAKD_OPTIONS_H
#define LEAKD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "leakd/output/report.h"
#include "leakd/process/procfilter.h"

#define LEAKD_VERSION "0.1.0"
#define LEAKD_MAX_PIDS 64
#define OPTIONS_DEFAULT_CONFIG "/etc/leakd/leakd.conf"
#define OPTIONS_MAX 64		/* rows of the table at most (the parsers' fixed arrays) */

enum leakd_mode { LEAKD_MODE_GC = 0, LEAKD_MODE_TRACE = 1 };
enum leakd_holder_keys { LEAKD_HOLDER_KEYS_SHAPE = 0, LEAKD_HOLDER_KEYS_SHOW = 1 };

/* Exit statuses, documented in docs/leakd.8 and README. */
enum {
	LEAKD_EXIT_OK = 0,
	LEAKD_EXIT_ERROR = 1,
	LEAKD_EXIT_USAGE = 2,
	LEAKD_EXIT_LEAK = 3,
};

struct leakd_opts {
	/* what to trace (ad hoc) */
	pid_t pids[LEAKD_MAX_PIDS];
	size_t npids;
	char **cmd;			/* argv after "--", NULL-terminated; NULL if none */
	/* ad hoc sessions */
	double duration_s;		/* 0: until targets exit or a signal */
	double interval_s;		/* sample period */
	enum leakd_mode mode;
	enum report_format format;
	const char *output;		/* NULL: stdout */
	bool fail_on_leak;
	bool holders;			/* --holders: holders of the top types, leaking or not */
	const char *graph_path;		/* --graph FILE: the holders' graph in dot; NULL: none */
	double site_window_s;		/* how long a site window records; 0: none */
	bool sites_at_start;		/* --sites: a window at the start for the growing classes */
	uint64_t sample_bytes;		/* trace mode's mean bytes per stack sample; 0: none */
	bool quiet_samples;		/* --summary-only */
	/* both modes */
	double census_period_s;		/* at most one census per process per period */
	double max_pause_share;		/* a process is stopped at most this share of the time */
	bool no_freeze;			/* walk the GC lists without stopping the target */
	size_t ringbuf_bytes;
	const char *proc_root;		/* "/proc" unless testing */
	bool help, version;
	bool daemon;			/* --daemon: watch every Python process, export metrics */
	/* the daemon */
	bool print_config;		/* --print-config: print the effective settings and exit */
	const char *config_path;	/* --config FILE; NULL: the default file if it exists */
	char listen_address[128];	/* "host:port", ":port", "[::1]:port" */
	char telemetry_path[64];
	double scan_interval_s;		/* how often /proc is scanned for new Python processes */
	unsigned max_processes;		/* processes watched at once */
	unsigned top_types;		/* types exported per process, bounds cardinality */
	bool site_windows;		/* site windows on leaking processes (sitewin.h) */
	double site_window_budget_s;	/* seconds of site windows per hour per process; 0: no bound */
	double holder_period_s;		/* at most one holder search per leaking process per period; 0: none */
	enum leakd_holder_keys holder_keys;
	struct procfilter filter;
	/* not settings: bounds the daemon gives its tracees (series_new(); 0 = defaults) */
	size_t series_cap, type_cap;
};

enum opt_type {
	OPT_FLAG,	/* a bool set by its flag alone; no value */
	OPT_ONOFF,	/* a bool with a value: on/off, yes/no, true/false, 1/0 */
	OPT_UINT,	/* unsigned in [min, max] */
	OPT_SECONDS,	/* double seconds in [min, max], parse_seconds() */
	OPT_SHARE,	/* double in (0, 1], parse_share(): "0.5%" or 0.005 */
	OPT_BYTES,	/* uint64_t up to max, parse_bytes(): "512k", "1M" */
	OPT_MIB,	/* size_t bytes given in MiB, a power of two in [min, max] */
	OPT_PID,	/* a pid appended to pids[] (repeatable) */
	OPT_STRING,	/* const char *, kept pointing at the argument */
	OPT_LISTEN,	/* char[] "host:port", checked by listen_parse() */
	OPT_URL_PATH,	/* char[] "/path" */
	OPT_ENUM,	/* int-sized enum: index of the value in words ("gc|trace") */
	OPT_LIST_COMM,	/* lists of patterns: comm globs (15 characters unless a glob), */
	OPT_LIST_GLOB,	/* globs, */
	OPT_LIST_CGROUP,	/* cgroup path prefixes */
};

/* The modes a setting applies to. */
enum { OPT_ADHOC = 1, OPT_DAEMON = 2, OPT_BOTH = OPT_ADHOC | OPT_DAEMON };

struct opt_setting {
	const char *flag;	/* long option without "--"; NULL: config file only */
	char short_flag;	/* 0: none */
	const char *key;	/* config file key; NULL: command line only */
	enum opt_type type;
	unsigned modes;		/* OPT_ADHOC, OPT_DAEMON or both */
	size_t off;		/* the field in struct leakd_opts */
	size_t count_off;	/* lists: the size_t count */
	double min, max;	/* range of numbers */
	const char *words;	/* OPT_ENUM: the values, '|'-separated, in enum order */
	int (*parse_word)(const char *s);	/* OPT_ENUM: value or -EINVAL; NULL: exact words */
	const char *def;	/* the default as the file and --help write it; NULL: none/off */
	const char *metavar;	/* the value's name in --help ("SECS"); NULL for OPT_FLAG */
	const char *help;	/* one line for --help; NULL: hidden (for tests) */
};

/* The table and its length. */
const struct opt_setting *options_table(size_t *n);

/* The setting with that long flag (without "--"), short flag or config key;
 * NULL if none. */
const struct opt_setting *options_by_flag(const char *flag);
const struct opt_setting *options_by_short(char c);
const struct opt_setting *options_by_key(const char *key);

/* Every setting at its default; lists empty. Does not free: call it on a
 * fresh struct, or options_free() first. */
void options_defaults(struct leakd_opts *o);

/* Sets s from the text value. Returns 0, or -EINVAL with the reason, which
 * states the accepted range ("seconds from 0.05 to 10000000, e.g. 2, 1.5s,
 * 500ms, 1m"), in why; -ENOMEM ("out of memory"). On failure *o is
 * unchanged. For a list an empty value clears it. */
int options_set(struct leakd_opts *o, const struct opt_setting *s, const char *value, char *why,
		size_t whylen);

/* s's value in o as the config file would write it ("1", "0.5%", "on");
 * a list's patterns joined by '\n'. snprintf()'s return. */
int options_value(const struct leakd_opts *o, const struct opt_setting *s, char *buf, size_t len);

/* Whether s is one of the list types (its field a char **, counted at
 * count_off). */
bool options_is_list(const struct opt_setting *s);

/* The modes as words for messages: "ad hoc sessions only", "--daemon only". */
const char *options_modes_name(unsigned modes);

/* A deep copy of src's lists into dst (the rest copied as is). -ENOMEM
 * leaves dst with empty lists. */
int options_copy(struct leakd_opts *dst, const struct leakd_opts *src);

/* Frees the lists and empties them; the rest stays. Accepts NULL. */
void options_free(struct leakd_opts *o);

/* --help, generated from the table. Returns 0 or -EIO. */
int options_write_help(FILE *f);

/* --print-config: every setting that has a config key, one "key = value"
 * line each in the file's syntax (a list: one line per pattern, or "key ="
 * when empty). Returns 0 or -EIO. */
int options_write_config(FILE *f, const struct leakd_opts *o);

#endif /* LEAKD_OPTIONS_H */
