/* SPDX-License-Identifier: MIT */
/*
 * daemon: `leakd --daemon`, the always-on fleet service (see src/app/daemon.c).
 */
#ifndef LEAKD_DAEMON_H
#define LEAKD_DAEMON_H

#include "leakd/app/options.h"

/* Runs until SIGTERM/SIGINT. Returns LEAKD_EXIT_OK, LEAKD_EXIT_USAGE for a
 * bad config (one line naming file and line), LEAKD_EXIT_ERROR when BPF or
 * the metrics listener cannot be set up. */
int daemon_run(const struct leakd_opts *o);

#endif
