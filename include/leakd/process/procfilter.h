/* SPDX-License-Identifier: MIT */
/*
 * procfilter: which processes the daemon watches, by include/exclude
 * filters on a process's comm, executable, systemd unit and cgroup. The
 * daemon's settings (app/options.h) embed a struct procfilter and fill it
 * from the config file. Pure.
 *
 * Per kind, a process passes if that kind has no include or it matches one
 * of them; it is watched if it passes every kind and matches no exclude of
 * any kind. A field that is unknown ("" or NULL: no unit, no cgroup)
 * matches no pattern: it fails a kind with includes and is never excluded
 * by that kind.
 */
#ifndef LEAKD_PROCFILTER_H
#define LEAKD_PROCFILTER_H

#include <stdbool.h>
#include <stddef.h>

struct procfilter {
	char **include_comm, **exclude_comm;	/* fnmatch(3) globs on /proc/PID/comm */
	size_t n_include_comm, n_exclude_comm;
	char **include_exe, **exclude_exe;	/* globs on the exe path ('*' also matches '/') */
	size_t n_include_exe, n_exclude_exe;
	char **include_unit, **exclude_unit;	/* globs on the systemd unit ("web-*.service") */
	size_t n_include_unit, n_exclude_unit;
	char **include_cgroup, **exclude_cgroup; /* cgroup v2 path prefixes, whole components */
	size_t n_include_cgroup, n_exclude_cgroup;
};

/* Whether a process with these facts is watched. Any of the strings may be
 * NULL for "unknown". An exe the kernel marks " (deleted)" (upgraded under
 * the process) matches as the path it had. */
bool procfilter_match(const struct procfilter *f, const char *comm, const char *exe, const char *unit,
		      const char *cgroup);

#endif /* LEAKD_PROCFILTER_H */
