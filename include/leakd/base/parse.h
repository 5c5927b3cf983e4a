/* SPDX-License-Identifier: MIT */
/* parse: values that both the command line and the config file accept. */
#ifndef LEAKD_PARSE_H
#define LEAKD_PARSE_H

#include <stdint.h>

/*
 * A share of time: "0.5%" or "0.005", in (0, 1]. Returns 0 and sets *out,
 * or -EINVAL (*out untouched).
 */
int parse_share(const char *s, double *out);

/*
 * Seconds, optionally with a unit as Prometheus writes durations: "1.5",
 * "1.5s", "500ms", "2m"; in [min, max]. Returns 0 and sets *out, or
 * -EINVAL (*out untouched): empty, leading blanks, trailing junk, not
 * finite, out of range.
 */
int parse_seconds(const char *s, double min, double max, double *out);

/*
 * Bytes: a count, optionally with a binary unit: "524288", "512k", "512KiB",
 * "1M", "1MiB", "1G"; at most max. Returns 0 and sets *out, or -EINVAL
 * (*out untouched): empty, a sign or blank, trailing junk, over max.
 */
int parse_bytes(const char *s, uint64_t max, uint64_t *out);

#endif /* LEAKD_PARSE_H */
