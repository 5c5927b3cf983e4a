/* SPDX-License-Identifier: MIT */
/*
 * budget: how often a process may be stopped for a census.
 *
 * A token bucket of stop time. The process earns `share` seconds of stop
 * per second of running, up to `burst_s` seconds' worth, and each census
 * spends its pause. The next census waits the minimum period and then
 * until the bucket holds what it will likely cost: the smaller of the last
 * two pauses, so one slow pause (the machine busy elsewhere, a first read of
 * new memory) does not stretch the period and two in a row do. Over any
 * window of T seconds the process is stopped at most share * (T + burst_s):
 * the share on average, with room at the start of a session for the points
 * the detector needs. Pure: the caller passes the clock.
 */
#ifndef LEAKD_BUDGET_H
#define LEAKD_BUDGET_H

#include <stdbool.h>

#define BUDGET_BURST_S 60.0	/* a minute's worth of the share: 0.3 s at 0.5% */

struct pause_budget {
	double share, burst_s, min_period;
	double t;		/* when the bucket was last filled; 0: not yet */
	double tokens;		/* seconds of stop it holds (negative: owed) */
	double prev_pause;	/* the pause before the last one */
	double period;		/* what budget_spend() last asked for */
};

/* share in (0, 1], min_period >= 0. Returns 0, or -EINVAL for a share out
 * of range (b untouched): the default is the options table's, not this
 * layer's, so a caller with no share has to say which. */
int budget_init(struct pause_budget *b, double share, double min_period);

/* A census at `now` stopped the process for pause_s seconds; returns how
 * long after `now` the next one may start (also left in b->period). */
double budget_spend(struct pause_budget *b, double now, double pause_s);

#endif /* LEAKD_BUDGET_H */
