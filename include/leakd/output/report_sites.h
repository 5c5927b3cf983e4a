/* SPDX-License-Identifier: MIT */
/*
 * report_sites: the summary's sites and site coverage, in both formats.
 *
 * Kept apart from report.c so that the sections other features add to the
 * summary stay in their own files; report.c calls these at fixed places.
 * Every string is from the target (type names, file names, qualnames) and
 * is escaped on the way out.
 */
#ifndef LEAKD_REPORT_SITES_H
#define LEAKD_REPORT_SITES_H

#include <stdio.h>

#include "leakd/base/jsonw.h"
#include "leakd/sites/sites.h"
#include "leakd/summary.h"

/* Frames of one site the table prints (the innermost ones). */
#define REPORT_SITES_TABLE_FRAMES 5
/* Sites per type the table prints. */
#define REPORT_SITES_TABLE_PER_TYPE 3

/* "sites": [{"type","file","line","function","stack":[...],"truncated","sampled","surviving"}...] */
void report_sites_json(struct jsonw *w, const struct report_summary *s);

/* A live_types row's "sites" (trace mode's byte samples of that type):
 * [{"file","line","function","stack":[...],"truncated","samples","live_bytes","live_objects"}...] */
void report_live_sites_json(struct jsonw *w, const struct report_summary *s, const char *type);

/* The table's LIVE BYTES MADE AT section (nothing without byte samples).
 * Returns 0 or the -errno of a failed write. */
int report_live_sites_table(FILE *f, const struct report_summary *s);

/* The coverage object's "site_types": [{"type","attributable","share","probe_hits","new_instances","note"}...] */
void report_sites_json_coverage(struct jsonw *w, const struct report_coverage *c);

/* The table's "site coverage:" line and MADE AT section (nothing when no
 * window ran). Returns 0 or the -errno of a failed write. */
int report_sites_table(FILE *f, const struct report_summary *s);

#endif /* LEAKD_REPORT_SITES_H */
