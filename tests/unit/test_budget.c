// SPDX-License-Identifier: MIT
/* budget tests: a simulated session of censuses at the periods the bucket
 * asks for, with pauses of a given shape. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "leakd/census/budget.h"

/* Runs a session of `secs` seconds where census i stops the process for
 * pause(i); returns the share of the time stopped and the census count. */
static double simulate(double share, double min_period, double secs, double (*pause)(int), int *runs)
{
	struct pause_budget b;
	double t = 1, stopped = 0;
	int n = 0;

	budget_init(&b, share, min_period);
	while (t < secs) {
		double p = pause(n++);

		stopped += p;
		t += p + budget_spend(&b, t, p);
	}
	*runs = n;
	return stopped / secs;
}

static double small(int i) { (void)i; return 0.002; }
static double large(int i) { (void)i; return 0.2; }
static double spiky(int i) { return i % 10 == 5 ? 0.08 : 0.003; }

Test(budget, a_small_heap_is_counted_every_period)
{
	int runs;
	double s = simulate(0.005, 1.0, 600, small, &runs);

	cr_assert_geq(runs, 590);
	cr_assert_lt(s, 0.005);
}

Test(budget, a_large_heap_is_counted_less_often_never_skipped_and_stays_in_budget)
{
	int runs;
	double s = simulate(0.005, 1.0, 3600, large, &runs);

	/* 0.2 s pauses at 0.5%: one per 40 s once the burst is spent */
	cr_assert_geq(runs, 3600 / 40);
	cr_assert_leq(runs, 3600 / 40 + 3);
	cr_assert_leq(s, 0.005 * (3600 + BUDGET_BURST_S) / 3600 + 1e-9);
}

Test(budget, one_slow_pause_does_not_stretch_the_period_two_in_a_row_do)
{
	struct pause_budget b;
	double period;
	int runs;

	/* (the assertion macros evaluate their arguments more than once) */
	budget_init(&b, 0.005, 1.0);
	budget_spend(&b, 10, 0.003);
	/* most of the burst is spent; a slow pause still fits */
	b.tokens = 0.1;
	period = budget_spend(&b, 11, 0.08);
	cr_assert_float_eq(period, 1.0, 1e-9, "one slow pause: the smaller of the two counts");
	period = budget_spend(&b, 12, 0.08);
	cr_assert_gt(period, 20, "two in a row stretch the period");
	/* a pause the bucket cannot cover is paid back before the next census */
	budget_init(&b, 0.005, 1.0);
	budget_spend(&b, 10, 0.003);
	period = budget_spend(&b, 11, 0.8);
	cr_assert_float_eq(period, (0.003 - (0.3 - 0.8)) / 0.005, 1e-6);	/* refilled to the cap first */
	cr_assert_lt(simulate(0.005, 1.0, 3600, spiky, &runs), 0.005 * (3600 + BUDGET_BURST_S) / 3600);
	/* what the budget affords at a mean pause of 10.7 ms: one census per 2.1 s */
	cr_assert_gt(runs, 3600 * 0.005 / 0.0107 * 0.95);
}

Test(budget, a_share_out_of_range_is_refused)
{
	struct pause_budget b = { .share = 0.25 };

	cr_assert_eq(budget_init(&b, 0, 1.0), -EINVAL);
	cr_assert_eq(budget_init(&b, 2.0, 0.5), -EINVAL);
	cr_assert_eq(budget_init(&b, NAN, 0.5), -EINVAL);
	cr_assert_float_eq(b.share, 0.25, 1e-12, "a refused init leaves the budget as it was");
	cr_assert_eq(budget_init(&b, 1.0, 0.5), 0);
	cr_assert_float_eq(b.period, 0.5, 1e-12);
}
