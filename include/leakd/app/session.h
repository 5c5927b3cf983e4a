/* SPDX-License-Identifier: MIT */
/*
 * session: one run of leakd over its targets, from attach to the summaries.
 *
 * Resolves the --pid targets (or starts the command), loads and attaches the
 * BPF side, then loops: drain the ring buffer into each tracee, run a census
 * after a collection (at most one per census period, and on a timer when the
 * GC is quiet or disabled), print samples every interval, watch for exits,
 * execs, --duration and signals. Ends with one summary per target.
 */
#ifndef LEAKD_SESSION_H
#define LEAKD_SESSION_H

#include <stdio.h>

#include "leakd/app/options.h"

/* Runs the whole session, writing to o->output (see outfile.h), opened once
 * the targets are resolved, or to stdout. Returns the process exit status
 * (LEAKD_EXIT_*); runtime errors have been reported on stderr as one line
 * each. A failed write of a record ends the run with LEAKD_EXIT_ERROR. */
int session_run(const struct leakd_opts *o);

#endif
