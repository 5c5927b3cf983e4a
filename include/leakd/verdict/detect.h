/* SPDX-License-Identifier: MIT */
/*
 * The growth detector: decides whether a sampled live quantity (live objects,
 * live bytes, open fds, one type's count) is leaking, i.e. whether the *floor*
 * of the series keeps rising after warm-up.
 *
 * Pure logic: no I/O, no allocation, no global state; safe to call from any
 * thread. The method and its thresholds are argued in docs/detector.md. In
 * short: drop warm-up, cut the rest into K equal time windows, take each
 * window's minimum (its floor), run a one-sided Mann-Kendall test and a
 * Theil-Sen slope on the floors, and require a big enough rise and a tail
 * that still climbs.
 */
#ifndef LEAKD_DETECT_H
#define LEAKD_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/* Upper bound on floor windows; bounds the stack used by detect_growth(). */
#define DETECT_MAX_WINDOWS 64

struct detect_point {
	double t;	/* seconds, monotonic clock; any order, duplicates allowed */
	double v;	/* the quantity at t */
};

struct detect_params {
	double warmup_s;	/* ignore points before t0 + warmup_s (default 3.0) */
	double warmup_frac;	/* and the first fraction of the span (default 0.15) */
	size_t min_windows;	/* need at least this many non-empty floor windows (default 6: five windows can never reach 0.99; >= 3) */
	size_t min_points;	/* points after warm-up needed (default 15: 6 windows of ~2.5) */
	size_t max_windows;	/* at most this many (default 16, <= DETECT_MAX_WINDOWS) */
	double min_confidence;	/* one-sided Mann-Kendall confidence needed (default 0.99) */
	double min_rise_abs;	/* floor must rise by at least this much (default 64) */
	double min_rise_rel;	/* and by this fraction of |first floor| (default 0.05) */
	double tail_ratio;	/* second-half slope must be >= tail_ratio * max(whole slope,
				   first-half slope): rejects plateaus (default 0.35) */
};

/* Fills *p with the defaults above. */
void detect_params_default(struct detect_params *p);

/* Why the detector decided what it did; checked in this order. */
enum detect_verdict {
	DETECT_TOO_FEW_POINTS,	/* fewer than min_windows non-empty windows after warm-up */
	DETECT_NO_TREND,	/* Mann-Kendall confidence below min_confidence */
	DETECT_TOO_SMALL,	/* trend is real but the rise is below the threshold */
	DETECT_PLATEAU,		/* rose, then flattened: second-half slope too low */
	DETECT_LEAK,		/* floor keeps rising */
};

struct detect_result {
	bool leak;			/* verdict == DETECT_LEAK */
	enum detect_verdict verdict;
	double slope_per_s;		/* Theil-Sen slope of the floors, units/s */
	double head_slope_per_s;	/* same, over the first half of the windows */
	double tail_slope_per_s;	/* same, over the second half of the windows */
	double confidence;		/* 0..1, one-sided Mann-Kendall (0.5 = no evidence) */
	double rise;			/* slope_per_s * time between first and last floor */
	double floor_first, floor_last;	/* first and last window floors */
	size_t windows;			/* non-empty floor windows used */
	size_t points;			/* finite points used after warm-up */
	double span_s;			/* time covered after warm-up */
};

/*
 * Decides whether pts[0..n) shows a rising floor. Points with a NaN or
 * infinite t or v are ignored. p may be NULL for the defaults.
 *
 * Returns 1 if the series leaks, 0 if not (out->verdict says why; fields that
 * could not be computed are 0), -EINVAL if out is NULL, pts is NULL with
 * n > 0, or p is out of range (min_windows < 3, max_windows < min_windows or
 * > DETECT_MAX_WINDOWS, a negative or non-finite threshold, warmup_frac
 * outside [0, 1), min_confidence above 1). *out is untouched on error.
 *
 * O(n) in points, O(K^2) in windows; uses about 17 KiB of stack.
 */
int detect_growth(const struct detect_point *pts, size_t n, const struct detect_params *p,
		  struct detect_result *out);

/* A short phrase for v, e.g. "floor keeps rising"; never NULL. */
const char *detect_verdict_str(enum detect_verdict v);

#endif /* LEAKD_DETECT_H */
