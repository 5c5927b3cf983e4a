/* SPDX-License-Identifier: MIT */
/*
 * config: the daemon's configuration file (/etc/leakd/leakd.conf) and the
 * filters that decide which processes it watches (applied by procfilter.h). Pure: text in, struct out,
 * errors as "FILE:LINE: ..." text for the caller to print once. Command-line
 * overrides go through the same config_set() as file lines, so every key has
 * one parser and one set of limits. systemd/leakd.conf documents every key.
 *
 * Syntax: one "key = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored ('#' elsewhere is part of the value,
 * globs and paths may hold one). Whitespace around key and value is dropped;
 * a value in double quotes keeps its spaces. Scalar keys may repeat, the last
 * one wins. List keys (include_*, exclude_*) append one pattern per line; an
 * empty value clears the list (so an override can replace the file's list).
 */
#ifndef LEAKD_CONFIG_H
#define LEAKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_PATH "/etc/leakd/leakd.conf"

struct leakd_config {
	char listen_address[128];	/* "127.0.0.1:9477"; "host:port", ":port", "[::1]:port" */
	char telemetry_path[64];	/* "/metrics" */
	double census_period_s;		/* 1.0: at most one census per process per period; >= 0.05 */
	double max_pause_share;		/* 0.005: a process is stopped at most this share of the time */
	double scan_interval_s;		/* 2.0: how often /proc is scanned for new Python processes */
	unsigned max_processes;		/* 256: processes watched at once (1..65536) */
	unsigned top_types;		/* 10: types exported per process, bounds cardinality (0..1000) */
	bool site_windows;		/* off: site windows on leaking processes (sitewin.h) */
	double site_window_budget_s;	/* 60: seconds of site windows per hour per process (0..3600) */
	double holder_period_s;		/* 600: at most one holder search per leaking process per period; 0: none */
	bool holder_keys_show;		/* holder_keys = show: dict keys' text in the journal and metrics (default: shape) */
	/*
	 * Filters. Per kind, a process passes if that kind has no include or it
	 * matches one of them; it is watched if it passes every kind and matches
	 * no exclude of any kind. A field that is unknown ("" or NULL: no unit,
	 * no cgroup) matches no pattern: it fails a kind with includes and is
	 * never excluded by that kind.
	 */
	char **include_comm, **exclude_comm;	/* fnmatch(3) globs on /proc/PID/comm */
	size_t n_include_comm, n_exclude_comm;
	char **include_exe, **exclude_exe;	/* globs on the exe path ('*' also matches '/') */
	size_t n_include_exe, n_exclude_exe;
	char **include_unit, **exclude_unit;	/* globs on the systemd unit ("web-*.service") */
	size_t n_include_unit, n_exclude_unit;
	char **include_cgroup, **exclude_cgroup; /* cgroup v2 path prefixes, whole components */
	size_t n_include_cgroup, n_exclude_cgroup;
};

/* Sets every key to its default; lists empty. Does not free: call it on a
 * fresh struct, or config_free() first. */
void config_defaults(struct leakd_config *c);

/* Applies the lines of text[0..len) to *c (which holds defaults or earlier
 * settings). filename only names the source in messages. Returns 0, or
 * -EINVAL with "FILE:LINE: unknown key 'x'", "FILE:LINE: invalid value for
 * census_period: 'abc' (...)" or "FILE:LINE: expected 'key = value'" in err,
 * or -ENOMEM ("out of memory"). err is always filled on failure; *c is then
 * unchanged. */
int config_parse(const char *text, size_t len, const char *filename, struct leakd_config *c, char *err,
		 size_t errlen);

/* Reads path and applies it as config_parse() does. Returns 0, or -errno
 * (-ENOENT, -EACCES, -EFBIG past 1 MiB, -EINVAL for anything but a regular
 * file: a FIFO is refused, never waited on, ...) with "PATH: reason" in err, or
 * config_parse()'s errors. On failure *c is unchanged. */
int config_load(const char *path, struct leakd_config *c, char *err, size_t errlen);

/* Sets one key as a file line would (the value is used as given: no quote
 * or whitespace stripping). Used by the parser and for command-line
 * overrides. Returns 0, or -EINVAL with "unknown key
 * 'x'" / "invalid value for KEY: 'v' (reason)" in err, or -ENOMEM ("out of
 * memory"). On failure *c is unchanged. */
int config_set(struct leakd_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Frees the lists and empties them; the scalars stay. Accepts NULL. */
void config_free(struct leakd_config *c);

/*
 * The keys the parser knows, in the order of the shipped file: name of key
 * i (NULL past the end), and the value of that key in c as the config file
 * would write it ("1", "0.5%", "127.0.0.1:9477"; "" for an empty list).
 * For the tests that keep docs/fleet.md and systemd/leakd.conf in step.
 */
const char *config_key_name(size_t i);
int config_key_value(const struct leakd_config *c, size_t i, char *buf, size_t len);

#endif
