// SPDX-License-Identifier: MIT
/* budget: the pause budget's token bucket (see budget.h). */
#include <errno.h>

#include "leakd/census/budget.h"

int budget_init(struct pause_budget *b, double share, double min_period)
{
	if (!(share > 0 && share <= 1))
		return -EINVAL;
	*b = (struct pause_budget){
		.share = share,
		.burst_s = BUDGET_BURST_S,
		.min_period = min_period > 0 ? min_period : 0,
	};
	b->period = b->min_period;
	return 0;
}

double budget_spend(struct pause_budget *b, double now, double pause_s)
{
	double cap = b->share * b->burst_s;
	double est = b->prev_pause > 0 && b->prev_pause < pause_s ? b->prev_pause : pause_s;
	double wait;

	if (b->t == 0) {
		b->tokens = cap;	/* a session starts with the burst */
		b->t = now;
	}
	if (now > b->t)
		b->tokens += b->share * (now - b->t);
	if (b->tokens > cap)
		b->tokens = cap;
	b->tokens -= pause_s;
	b->t = now;
	b->prev_pause = pause_s;
	wait = b->tokens < est ? (est - b->tokens) / b->share : 0;
	b->period = wait > b->min_period ? wait : b->min_period;
	return b->period;
}
