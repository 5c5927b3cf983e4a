/* SPDX-License-Identifier: MIT */
/*
 * verdict: turns a process's series into the summary's "growth" object.
 *
 * Runs the detector on the process's live objects, live bytes and open fds,
 * and on each census type's object count; a process leaks if any of them
 * does. Produces the numbers for the report (rates, confidence), the per-type
 * rows sorted leaking-first then by growth, and ONE sentence a person can act
 * on: what grew, from what to what, how fast, over how long, and which types.
 */
#ifndef LEAKD_VERDICT_H
#define LEAKD_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "leakd/verdict/detect.h"
#include "leakd/summary.h"

struct series;

/* Detector outcome for one signal, with the raw ends for the reason. */
struct verdict_signal {
	struct detect_result r;
	size_t n_points;		/* finite points fed to the detector */
	double first, last;		/* first and last finite raw values, NaN if none */
};

struct verdict {
	struct report_growth growth;	/* leak, bytes_per_s, objects_per_s, confidence, reason */
	struct verdict_signal objects;
	struct verdict_signal bytes;
	struct verdict_signal fds;
	struct verdict_signal native;	/* memory outside Python objects */
	struct report_type_row *types;	/* heap, owned: leaking first (classes before the builtins
					 * their instances are made of), then growth desc */
	size_t n_types;
	size_t n_leaking_types;
};

/*
 * p may be NULL for detect_params_default(). Returns 0, or -EINVAL / -ENOMEM
 * (out untouched). On success the caller owns out->types: release with
 * verdict_clear().
 */
int verdict_compute(const struct series *ser, const struct detect_params *p, struct verdict *out);

/* A container the census saw in two censuses, to say which one grows. */
struct verdict_container {
	const char *type;		/* its type's name */
	double items_per_s;		/* len() growth between the two */
	const char *held[3];		/* what it holds most, NULL-terminated early */
};

/*
 * Appends "; growing containers: list (1 object) +2,000 items/s, holding
 * str, tuple" to the reason of a leaking verdict for up to 3 of the n
 * containers (those that grow, fastest first). No-op when nothing leaks.
 */
void verdict_add_containers(struct verdict *v, const struct verdict_container *c, size_t n);

/* Frees out->types and zeroes the struct; accepts NULL. */
void verdict_clear(struct verdict *v);

#endif /* LEAKD_VERDICT_H */
