/* SPDX-License-Identifier: MIT */
/*
 * Tests for evloop, the one event loop of sessions and the daemon: timers
 * run at their period and in the order added, a hook ends the loop with
 * EVLOOP_DONE or an error, SIGTERM/SIGINT stop it (and are not left pending
 * to kill us once the loop is freed), and the signal mask is restored.
 * The BPF half (evloop_load_probes) needs root and runs in the integration
 * cases.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "leakd/base/clock.h"
#include "leakd/app/evloop.h"

struct rec {
	double t[64];
	int who[64];
	size_t n;
	size_t stop_after;	/* EVLOOP_DONE once this many calls in all */
	int fail_with;
	int raise_sig;		/* raised on the first call */
};

static struct rec rec;

static int hook(struct rec *r, int who, double now)
{
	if (r->n < 64) {
		r->t[r->n] = now;
		r->who[r->n] = who;
	}
	r->n++;
	if (r->raise_sig) {
		int sig = r->raise_sig;

		r->raise_sig = 0;
		kill(getpid(), sig);
	}
	if (r->fail_with && r->n >= r->stop_after)
		return r->fail_with;
	return r->stop_after && r->n >= r->stop_after ? EVLOOP_DONE : 0;
}

static int hook_a(void *ctx, double now) { return hook(ctx, 1, now); }
static int hook_b(void *ctx, double now) { return hook(ctx, 2, now); }

static bool blocked(int sig)
{
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, sig) == 1;
}

Test(evloop, timer_period_and_done)
{
	struct evloop *l;
	double t0 = leakd_mono_now();

	rec = (struct rec){ .stop_after = 5 };
	cr_assert_eq(evloop_new(&l), 0);
	cr_assert_eq(evloop_add_timer(l, 0.02, 0.02, hook_a, &rec), 0);
	cr_assert_eq(evloop_run(l), 0);
	cr_assert_eq(rec.n, 5);
	cr_assert_eq(evloop_stop_signal(l), 0);
	/* First call after first_s, then one per period (1 ms accuracy). */
	cr_assert_geq(rec.t[0] - t0, 0.019);
	for (size_t i = 1; i < rec.n; i++) {
		cr_assert_geq(rec.t[i] - rec.t[i - 1], 0.0195, "gap %zu: %f", i, rec.t[i] - rec.t[i - 1]);
		cr_assert_lt(rec.t[i] - rec.t[i - 1], 0.2, "gap %zu: %f", i, rec.t[i] - rec.t[i - 1]);
	}
	evloop_free(l);
}

Test(evloop, due_together_in_order_added)
{
	struct evloop *l;

	rec = (struct rec){ .stop_after = 6 };
	cr_assert_eq(evloop_new(&l), 0);
	/* b added first: at each shared deadline b runs before a. */
	cr_assert_eq(evloop_add_timer(l, 0.03, 0.03, hook_b, &rec), 0);
	cr_assert_eq(evloop_add_timer(l, 0.03, 0.03, hook_a, &rec), 0);
	cr_assert_eq(evloop_run(l), 0);
	cr_assert_eq(rec.who[0], 2);
	cr_assert_eq(rec.who[1], 1);
	evloop_free(l);
}

Test(evloop, hook_error_ends_the_loop_with_it)
{
	struct evloop *l;

	rec = (struct rec){ .stop_after = 2, .fail_with = -EIO };
	cr_assert_eq(evloop_new(&l), 0);
	cr_assert_eq(evloop_add_timer(l, 0, 0.01, hook_a, &rec), 0);
	cr_assert_eq(evloop_run(l), -EIO);
	cr_assert_eq(rec.n, 2);
	evloop_free(l);
}

Test(evloop, bad_timer_refused)
{
	struct evloop *l;

	cr_assert_eq(evloop_new(&l), 0);
	cr_assert_eq(evloop_add_timer(l, 0, 0, hook_a, &rec), -EINVAL);
	cr_assert_eq(evloop_add_timer(l, 0, 1, NULL, &rec), -EINVAL);
	evloop_free(l);
}

static void stops_on(int sig)
{
	struct evloop *l;

	rec = (struct rec){ .raise_sig = sig };
	cr_assert_not(blocked(sig));
	cr_assert_eq(evloop_new(&l), 0);
	cr_assert(blocked(sig), "the loop reads %d from a signalfd: it must be blocked", sig);
	cr_assert_eq(evloop_add_timer(l, 0, 0.01, hook_a, &rec), 0);
	cr_assert_eq(evloop_run(l), 0);
	cr_assert_eq(evloop_stop_signal(l), sig);
	cr_assert(evloop_stop_pending(l));
	/* One call raised it; the loop stopped on the next turn. */
	cr_assert_leq(rec.n, 2);
	/* A second one still pending must not kill us on unblocking. */
	kill(getpid(), sig);
	evloop_free(l);
	cr_assert_not(blocked(sig));
}

Test(evloop, sigterm_stops) { stops_on(SIGTERM); }
Test(evloop, sigint_stops) { stops_on(SIGINT); }

Test(evloop, stop_pending_sees_a_waiting_signal)
{
	struct evloop *l;

	cr_assert_eq(evloop_new(&l), 0);
	cr_assert_not(evloop_stop_pending(l));
	kill(getpid(), SIGTERM);
	cr_assert(evloop_stop_pending(l));
	evloop_free(l);
}
