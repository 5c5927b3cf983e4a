/* SPDX-License-Identifier: MIT */
/*
 * bytesamp: trace mode's byte samples on one traced process.
 *
 * The allocation return probe walks the Python stack of one allocation per
 * --sample-bytes bytes on average (a per-thread countdown drawn from an
 * exponential, in BPF: abi.h LEAKD_STACK_BY_BYTES). Each sample is kept by
 * address (sites.h) until a free probe releases it; at the summary the
 * live ones are typed from the live table (the census types what it can),
 * grouped by (type, stack) and weighted by their odds, so live_types says
 * which Python lines allocated the bytes that are still alive, whatever
 * their type: str, bytes, buffers and class instances alike. The live
 * table, its type names and the target's memory come through a struct
 * sites_host (sitehost.h) that the orchestrator above fills.
 */
#ifndef LEAKD_BYTESAMP_H
#define LEAKD_BYTESAMP_H

#include <stdbool.h>
#include <stdint.h>

#include "leakd/abi.h"
#include "leakd/summary.h"

struct sites_host;
struct probes;
struct bytesamp;

/* Live sites kept per type in the summary, and types with sites. */
#define BYTESAMP_SITES_PER_TYPE 3
#define BYTESAMP_MAX_TYPES 20

/* Starts sampling the process h describes (trace mode, probes attached;
 * h is copied, what it points to must outlive *out) every `mean` bytes.
 * Returns 0, -ENOTSUP when leakd cannot walk this build's stacks (nothing
 * started: *out NULL), or -ENOMEM / the map update's -errno. */
int bytesamp_new(const struct sites_host *h, struct probes *p, uint64_t mean, struct bytesamp **out);
void bytesamp_free(struct bytesamp *b);

/* Takes the byte-sample stacks (true: consumed) and notes every free. */
bool bytesamp_event(struct bytesamp *b, const struct leakd_event *e);

/* out->live_sites for the types of out->live_types (already filled). */
void bytesamp_summary(struct bytesamp *b, struct report_summary *out);

#endif /* LEAKD_BYTESAMP_H */
