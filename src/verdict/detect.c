// SPDX-License-Identifier: MIT
/*
 * The growth detector: turns a time series of a live quantity into a leak /
 * not-a-leak verdict by testing whether the series' floor keeps rising.
 *
 * Why floors: a live count sampled at arbitrary moments is dominated by churn
 * (batches built and dropped, a sample caught mid-request). The minimum over
 * a time window is what survives the churn; a leak is what makes that
 * minimum climb. Why rank statistics (Mann-Kendall, Theil-Sen): they do not
 * care about the noise distribution, and one odd window cannot fake or mask
 * a trend. docs/detector.md gives the thresholds and the argument for each.
 *
 * Pure logic: no I/O, no heap, no globals. All scratch space is on the stack
 * and bounded by DETECT_MAX_WINDOWS.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "leakd/verdict/detect.h"

#define DETECT_MAX_PAIRS (DETECT_MAX_WINDOWS * (DETECT_MAX_WINDOWS - 1) / 2)

void detect_params_default(struct detect_params *p)
{
	if (!p)
		return;
	*p = (struct detect_params){
		.warmup_s = 3.0,
		.warmup_frac = 0.15,
		.min_windows = 6,
		.min_points = 15,
		.max_windows = 16,
		.min_confidence = 0.99,
		.min_rise_abs = 64.0,
		.min_rise_rel = 0.05,
		.tail_ratio = 0.35,
	};
}

const char *detect_verdict_str(enum detect_verdict v)
{
	switch (v) {
	case DETECT_TOO_FEW_POINTS:
		return "too few points after warm-up";
	case DETECT_NO_TREND:
		return "no significant trend in the floor";
	case DETECT_TOO_SMALL:
		return "floor rises, but too little";
	case DETECT_PLATEAU:
		return "floor rose, then levelled off";
	case DETECT_LEAK:
		return "floor keeps rising";
	}
	return "unknown verdict";
}

static bool nonneg_finite(double x)
{
	return isfinite(x) && x >= 0.0;
}

static bool params_valid(const struct detect_params *p)
{
	return nonneg_finite(p->warmup_s) && nonneg_finite(p->warmup_frac) && p->warmup_frac < 1.0 &&
	       p->min_windows >= 3 && p->max_windows >= p->min_windows &&
	       p->max_windows <= DETECT_MAX_WINDOWS && nonneg_finite(p->min_confidence) &&
	       p->min_confidence <= 1.0 && nonneg_finite(p->min_rise_abs) &&
	       nonneg_finite(p->min_rise_rel) && nonneg_finite(p->tail_ratio);
}

static bool point_ok(const struct detect_point *pt)
{
	return isfinite(pt->t) && isfinite(pt->v);
}

static void swap_d(double *a, double *b)
{
	double x = *a;

	*a = *b;
	*b = x;
}

/*
 * Rearranges a[0..n) so that a[k] holds the k-th smallest value and every
 * element before it is <= a[k] (Hoare quickselect, median-of-three pivot).
 * Expected O(n); n here is at most DETECT_MAX_PAIRS, so a sort would also do,
 * but selection keeps the whole detector within O(K^2).
 */
static double select_kth(double *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (lo < hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double pivot;

		if (a[mid] < a[lo])
			swap_d(&a[mid], &a[lo]);
		if (a[hi] < a[lo])
			swap_d(&a[hi], &a[lo]);
		if (a[hi] < a[mid])
			swap_d(&a[hi], &a[mid]);
		pivot = a[mid];
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				swap_d(&a[i], &a[j]);
				i++;
				j--;
			}
		}
		/* Now a[lo..j] <= pivot, a[i..hi] >= pivot, a[j+1..i-1] == pivot. */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

static double median_inplace(double *a, size_t n)
{
	size_t k = n / 2;
	double hi, lo;

	if (n == 0)
		return 0.0;
	hi = select_kth(a, n, k);
	if (n % 2)
		return hi;
	/* select_kth left the lower half in a[0..k): its maximum is the other middle. */
	lo = a[0];
	for (size_t i = 1; i < k; i++)
		if (a[i] > lo)
			lo = a[i];
	return lo + (hi - lo) / 2.0;
}

/*
 * Theil-Sen slope: the median of the slopes of all pairs. Robust to up to
 * ~29% of wild floors. The t[] are strictly increasing (floors come from
 * disjoint windows, in order), so no pair has a zero denominator.
 */
static double theil_sen(const double *t, const double *v, size_t m, double *scratch)
{
	size_t np = 0;

	for (size_t i = 0; i < m; i++)
		for (size_t j = i + 1; j < m; j++)
			scratch[np++] = (v[j] - v[i]) / (t[j] - t[i]);
	return median_inplace(scratch, np);
}

/* Standard normal CDF. */
static double phi(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

/*
 * One-sided Mann-Kendall: S = sum over pairs i<j of sign(v[j] - v[i]); under
 * "no trend" S is ~normal with mean 0 and the tie-corrected variance
 *   Var(S) = [m(m-1)(2m+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18
 * (t_g the size of each group of equal values). The continuity correction
 * moves S one step towards 0. Returns P(Z <= z), i.e. the confidence that the
 * floors rise: ~1 for a clear rise, 0.5 for nothing, ~0 for a clear fall.
 */
static double mann_kendall(const double *v, size_t m, double *scratch)
{
	double dm = (double)m, var, z, ties = 0.0;
	long s = 0;

	for (size_t i = 0; i < m; i++)
		for (size_t j = i + 1; j < m; j++)
			s += (v[j] > v[i]) - (v[j] < v[i]);

	/* Tie groups: insertion sort of a copy; m <= DETECT_MAX_WINDOWS. */
	memcpy(scratch, v, m * sizeof(*v));
	for (size_t i = 1; i < m; i++) {
		double x = scratch[i];
		size_t j = i;

		for (; j > 0 && scratch[j - 1] > x; j--)
			scratch[j] = scratch[j - 1];
		scratch[j] = x;
	}
	for (size_t i = 0; i < m;) {
		size_t j = i + 1;
		double g;

		while (j < m && scratch[j] == scratch[i])
			j++;
		g = (double)(j - i);
		ties += g * (g - 1.0) * (2.0 * g + 5.0);
		i = j;
	}

	var = (dm * (dm - 1.0) * (2.0 * dm + 5.0) - ties) / 18.0;
	if (var <= 0.0)
		return 0.5;
	if (s > 0)
		z = (double)(s - 1) / sqrt(var);
	else if (s < 0)
		z = (double)(s + 1) / sqrt(var);
	else
		z = 0.0;
	return phi(z);
}

/*
 * Passes 1 and 2: the warm-up cut (a share of the whole span, at least
 * warmup_s) and what is left after it. Sets r->points and, when some are
 * left, r->span_s; *cut and *ta (the first time left) for the windows.
 * Returns false when no point is left.
 */
static bool detect_after_warmup(const struct detect_point *pts, size_t n,
				const struct detect_params *p, struct detect_result *r,
				double *cut, double *ta)
{
	double t0 = INFINITY, t1 = -INFINITY, tb = -INFINITY;
	size_t nfinite = 0;

	for (size_t i = 0; i < n; i++) {
		if (!point_ok(&pts[i]))
			continue;
		nfinite++;
		t0 = fmin(t0, pts[i].t);
		t1 = fmax(t1, pts[i].t);
	}
	if (nfinite == 0)
		return false;
	*cut = t0 + fmax(p->warmup_s, p->warmup_frac * (t1 - t0));

	*ta = INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (!point_ok(&pts[i]) || pts[i].t < *cut)
			continue;
		r->points++;
		*ta = fmin(*ta, pts[i].t);
		tb = fmax(tb, pts[i].t);
	}
	if (r->points == 0)
		return false;
	r->span_s = tb - *ta;
	return true;
}

/*
 * Pass 3: k windows of equal width from ta; each window's floor (fv) and
 * where it was seen (ft), empty windows dropped (a gap in sampling says
 * nothing about the floor). Returns how many floors are left.
 */
static size_t detect_floors(const struct detect_point *pts, size_t n, double cut, double ta,
			    double width, size_t k, double *ft, double *fv)
{
	bool used[DETECT_MAX_WINDOWS] = { false };
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		size_t w = 0;

		if (!point_ok(&pts[i]) || pts[i].t < cut)
			continue;
		if (width > 0.0) {
			double x = (pts[i].t - ta) / width;

			/* x is NaN only for absurd times (inf - ta overflow); keep the cast defined. */
			w = x >= (double)k ? k - 1 : x > 0.0 ? (size_t)x : 0;
		}
		/* Equal minima: keep the earliest, so input order cannot matter. */
		if (!used[w] || pts[i].v < fv[w] || (pts[i].v == fv[w] && pts[i].t < ft[w])) {
			used[w] = true;
			fv[w] = pts[i].v;
			ft[w] = pts[i].t;
		}
	}
	for (size_t w = 0; w < k; w++) {
		if (!used[w])
			continue;
		ft[m] = ft[w];
		fv[m] = fv[w];
		m++;
	}
	return m;
}

/* The rank tests on the m floors, and the verdict they give. */
static void detect_judge(const double *ft, const double *fv, size_t m,
			 const struct detect_params *p, struct detect_result *r)
{
	double scratch[DETECT_MAX_PAIRS];
	double threshold;
	size_t h;

	r->floor_first = fv[0];
	r->floor_last = fv[m - 1];
	r->confidence = mann_kendall(fv, m, scratch);
	r->slope_per_s = theil_sen(ft, fv, m, scratch);
	r->rise = r->slope_per_s * (ft[m - 1] - ft[0]);
	/*
	 * Halves for the plateau test; with an odd count the middle window is
	 * in both. The whole-series slope alone is a weak reference: once a
	 * cache is full, the flat pairs outnumber the rising ones and drag the
	 * median down to the noise, so the tail's noise slope can match it.
	 * The head's slope is not diluted that way, so the tail is compared
	 * with the larger of the two.
	 */
	h = m / 2;
	r->tail_slope_per_s = theil_sen(ft + h, fv + h, m - h, scratch);
	r->head_slope_per_s = theil_sen(ft, fv, m - h, scratch);

	threshold = fmax(p->min_rise_abs, p->min_rise_rel * fabs(r->floor_first));
	if (!(r->confidence >= p->min_confidence))
		r->verdict = DETECT_NO_TREND;
	else if (!(r->rise > 0.0 && r->rise >= threshold))
		r->verdict = DETECT_TOO_SMALL;
	else if (!(r->tail_slope_per_s >= p->tail_ratio * fmax(r->slope_per_s, r->head_slope_per_s)))
		r->verdict = DETECT_PLATEAU;
	else
		r->verdict = DETECT_LEAK;
}

int detect_growth(const struct detect_point *pts, size_t n, const struct detect_params *p,
		  struct detect_result *out)
{
	double ft[DETECT_MAX_WINDOWS], fv[DETECT_MAX_WINDOWS];
	struct detect_params defaults;
	struct detect_result r = { .verdict = DETECT_TOO_FEW_POINTS };
	double cut, ta;
	size_t k, m;

	if (!out || (!pts && n > 0))
		return -EINVAL;
	if (!p) {
		detect_params_default(&defaults);
		p = &defaults;
	}
	if (!params_valid(p))
		return -EINVAL;

	if (!detect_after_warmup(pts, n, p, &r, &cut, &ta))
		goto done;
	if (r.points < p->min_windows)
		goto done;

	/*
	 * About one window per 2.5 points: enough points per window that its
	 * minimum is a floor rather than a single sample, enough windows for
	 * the rank tests to have power.
	 */
	/* Windows of one point would judge samples, not floors. */
	if (r.points < p->min_points)
		goto done;
	k = r.points * 2 / 5;
	if (k < p->min_windows)
		k = p->min_windows;
	if (k > p->max_windows)
		k = p->max_windows;

	m = detect_floors(pts, n, cut, ta, r.span_s / (double)k, k, ft, fv);
	r.windows = m;
	if (m < p->min_windows)
		goto done;
	detect_judge(ft, fv, m, p, &r);

done:
	r.leak = r.verdict == DETECT_LEAK;
	*out = r;
	return r.leak ? 1 : 0;
}
