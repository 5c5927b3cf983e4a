/* SPDX-License-Identifier: MIT */
/*
 * sitehost: what the sites stage reads of the process it samples.
 *
 * The site windows (sitewin) and the byte samples (bytesamp) run inside the
 * per-process orchestrator (app/tracee), which sits above them. Rather than
 * reaching up into it, they are handed this: pointers to the pieces of the
 * process's state they read, all of lower-layer types. The orchestrator
 * fills it with pointers to its own members, so what they point to stays
 * current (the latest census, its time, whether allocations are traced)
 * and must outlive the sitewin/bytesamp given it.
 */
#ifndef LEAKD_SITEHOST_H
#define LEAKD_SITEHOST_H

#include <stdbool.h>
#include <stdint.h>

struct target;
struct pylayout;
struct remote;
struct elfimg;
struct allocplan;
struct census;
struct series;
struct agg;
struct livetypes;

struct sites_host {
	const struct target *t;		/* pid, version, interpreter paths, _PyRuntime */
	const struct pylayout *layout;
	struct remote *mem;		/* the target's memory */
	const struct elfimg *img;	/* the interpreter's image: its typed entry points */
	const struct allocplan *plan;	/* trace mode's allocation probes */
	const bool *tracing_allocs;	/* trace mode's allocation probes are attached */
	const struct series *series;	/* census counts, for the verdict */
	const struct census *last;	/* the latest census */
	const double *last_census;	/* when it ran (monotonic seconds) */
	const struct agg *agg;		/* the live table: the byte samples' types */
	struct livetypes *types;	/* names of the live table's types */
	uint64_t sample_bytes;		/* trace mode's byte-sample interval; 0: none */
	double window_budget_s;		/* site window seconds per hour; 0: unbounded */
};

#endif /* LEAKD_SITEHOST_H */
