/* SPDX-License-Identifier: MIT */
/* parse: values that both the command line and the config file accept. */
#ifndef LEAKD_PARSE_H
#define LEAKD_PARSE_H

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

#endif /* LEAKD_PARSE_H */
