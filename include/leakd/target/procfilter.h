/* SPDX-License-Identifier: MIT */
/*
 * procfilter: which processes the daemon watches, by the include/exclude
 * filters of its config (struct leakd_config, see config.h for their
 * semantics). Pure.
 */
#ifndef LEAKD_PROCFILTER_H
#define LEAKD_PROCFILTER_H

#include <stdbool.h>

#include "leakd/app/config.h"

/* Whether a process with these facts is watched. Any of the strings may be
 * NULL for "unknown". An exe the kernel marks " (deleted)" (upgraded under
 * the process) matches as the path it had. */
bool procfilter_match(const struct leakd_config *c, const char *comm, const char *exe, const char *unit,
		      const char *cgroup);

#endif /* LEAKD_PROCFILTER_H */
