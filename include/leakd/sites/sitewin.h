/* SPDX-License-Identifier: MIT */
/*
 * sitewin: site windows on one traced process, in an ad hoc session.
 *
 * When the verdict flags instances of a Python class as growing (or, with
 * --sites, from the start, when a class's count rose over two census
 * intervals in a row), a window
 * opens: the typed allocation probes (allocplan_typed) are attached to the
 * process, the classes go into the BPF "site_types" map, and every
 * allocation of them arrives with its Python stack (LEAKD_EV_STACK). The
 * window closes at the first census after --site-window seconds; at the
 * census after that, the sampled objects still alive with their type rank
 * their stacks (sites.h). A window runs once per class.
 *
 * Only heap types (classes defined in Python) get windows: builtin types
 * keep free lists that reuse addresses without passing the probed entry
 * points, so survival by address cannot be judged for them (sites.h). The
 * coverage rows say so, and for each windowed class how many of its new
 * instances (the census's count at the window's end minus at its start) the
 * probes saw: a build that inlines tp_alloc shows the class as not
 * attributable with that measured share.
 *
 * The host's window_budget_s bounds the window seconds per hour (the
 * daemon's site_window_budget); 0 leaves them unbounded (one window per
 * class anyway). What the windows read of the process (its latest census,
 * series, memory, probes plan) comes through a struct sites_host
 * (sitehost.h) that the orchestrator above fills.
 */
#ifndef LEAKD_SITEWIN_H
#define LEAKD_SITEWIN_H

#include <stdbool.h>
#include <stddef.h>

#include "leakd/abi.h"
#include "leakd/summary.h"

struct sites_host;
struct probes;
struct sitewin;

/* Growing types a process's windows look at, at most (coverage rows too). */
#define SITEWIN_MAX_TYPES 8
/* Sites kept per type for the summary. */
#define SITEWIN_SITES_PER_TYPE 8

/* For the process h describes (h is copied; what it points to must outlive
 * the windows), windows of window_s seconds through the probes p;
 * at_start: --sites. Returns 0, -EINVAL or -ENOMEM; a layout without stack
 * offsets is not an error: no window runs and the summary says why. */
int sitewin_new(const struct sites_host *h, struct probes *p, double window_s, bool at_start,
		struct sitewin **out);
/* Detaches whatever the window attached. */
void sitewin_free(struct sitewin *w);

/* One ring-buffer record of this process. Returns true when the record is
 * the window's alone (stacks; allocations and frees the window's own probes
 * reported), false when the caller must account it as well. */
bool sitewin_event(struct sitewin *w, const struct leakd_event *e);

/* After every successful census of the process: opens, closes and checks
 * windows. Errors are kept for the summary, never fatal. */
void sitewin_census(struct sitewin *w, double now);

/* The session ends: a window still open is closed, a pending check runs
 * now. Then fills out->sites and out->coverage.site_types (pointing into w,
 * valid until the next call on w). */
void sitewin_summary(struct sitewin *w, struct report_summary *out);

/* The top surviving site of an attributable type (its three innermost
 * frames, its type and counts) into buf, "" when none; raw bytes from the
 * target, for the caller to escape. Returns how many survival checks have
 * run, so a caller can tell a new answer from one it has seen. */
unsigned sitewin_top_site(struct sitewin *w, char *buf, size_t len);

#endif /* LEAKD_SITEWIN_H */
