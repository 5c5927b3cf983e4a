// SPDX-License-Identifier: MIT
/*
 * evloop: the one event loop of sessions and the daemon, on sd-event (see
 * include/leakd/app/evloop.h).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "leakd/base/clock.h"
#include "leakd/app/evloop.h"

/* sd-event's default timer accuracy is 250 ms, which would coalesce a 100 ms
 * tick away: a millisecond keeps each timer where it was asked for. */
#define TIMER_ACCURACY_US 1000
/* Above every timer: a wakeup drains the ring before any hook looks. */
#define PRIO_RING SD_EVENT_PRIORITY_IMPORTANT
#define PRIO_SIGNAL (SD_EVENT_PRIORITY_IMPORTANT - 1)

struct evtimer {
	struct evloop *l;
	sd_event_source *src;
	evloop_fn fn;
	void *ctx;
	uint64_t period_us;
};

struct evloop {
	sd_event *e;
	sigset_t stop_set, old_mask;
	sd_event_source *sig[2];
	sd_event_source *ring;
	struct probes *probes;
	evloop_fn ring_fn;
	void *ring_ctx;
	struct evtimer **timers;
	size_t ntimers;
	int stop_sig;
	int err;		/* what ended the loop, if not a signal or a hook's done */
};

static uint64_t s_to_us(double s)
{
	return s > 0 ? (uint64_t)llround(s * 1e6) : 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void finish(struct evloop *l, int err)
{
	if (err && !l->err)
		l->err = err;
	sd_event_exit(l->e, 0);
}

/* Returns 0, or -errno after saying so once: a ring that cannot be read
 * leaves the run without events, it must not go on looking healthy. */
static int drain(struct evloop *l)
{
	int n;

	if (!l->probes)
		return 0;
	n = probes_poll(l->probes, 0);
	if (n < 0 && n != -EINTR) {
		fprintf(stderr, "leakd: reading the ring buffer failed: %s\n", strerror(-n));
		return n;
	}
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct evloop *l = userdata;

	l->stop_sig = (int)si->ssi_signo;
	finish(l, 0);
	return 0;
}

static int on_ring(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct evloop *l = userdata;
	int r = drain(l);

	if (!r && l->ring_fn)
		r = l->ring_fn(l->ring_ctx, leakd_mono_now());
	if (r)
		finish(l, r < 0 ? r : 0);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct evtimer *t = userdata;
	struct evloop *l = t->l;
	int r = drain(l);

	if (!r)
		r = t->fn(t->ctx, leakd_mono_now());
	if (r) {
		finish(l, r < 0 ? r : 0);
		return 0;
	}
	/* The next period counts from this run, as a hook that ran late
	 * (a long census) should not be called twice in a row to catch up. */
	r = sd_event_source_set_time(s, mono_us() + t->period_us);
	if (!r)
		r = sd_event_source_set_enabled(s, SD_EVENT_ON);
	if (r < 0)
		finish(l, r);
	return 0;
}

int evloop_new(struct evloop **out)
{
	static const int stop_sigs[2] = { SIGINT, SIGTERM };
	struct evloop *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	sigemptyset(&l->stop_set);
	for (int i = 0; i < 2; i++)
		sigaddset(&l->stop_set, stop_sigs[i]);
	/* Blocked before any thread starts (the metrics server's), so the
	 * signals reach only the loop's signalfd. */
	err = -pthread_sigmask(SIG_BLOCK, &l->stop_set, &l->old_mask);
	if (err) {
		free(l);
		return err;
	}
	signal(SIGPIPE, SIG_IGN);
	err = sd_event_new(&l->e);
	for (int i = 0; !err && i < 2; i++) {
		err = sd_event_add_signal(l->e, &l->sig[i], stop_sigs[i], on_signal, l);
		if (!err)
			err = sd_event_source_set_priority(l->sig[i], PRIO_SIGNAL);
	}
	if (err < 0) {
		evloop_free(l);
		return err;
	}
	*out = l;
	return 0;
}

void evloop_free(struct evloop *l)
{
	struct timespec zero = { 0 };

	if (!l)
		return;
	for (size_t i = 0; i < l->ntimers; i++) {
		sd_event_source_unref(l->timers[i]->src);
		free(l->timers[i]);
	}
	free(l->timers);
	sd_event_source_unref(l->ring);
	for (int i = 0; i < 2; i++)
		sd_event_source_unref(l->sig[i]);
	sd_event_unref(l->e);
	/* A second Ctrl-C still pending would kill us on unblocking, after the
	 * summaries are out but before the exit status: take it first. */
	while (sigtimedwait(&l->stop_set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
	free(l);
}

int evloop_load_probes(struct evloop *l, size_t ring_bytes, probes_event_fn fn, void *ctx,
			struct probes **out)
{
	struct probes *p;
	int err = probes_new(ring_bytes, fn, ctx, &p);

	if (err) {
		/* The privileges are those of docs/fleet.md's table and the unit. */
		fprintf(stderr, "leakd: cannot load the BPF programs: %s%s\n", strerror(-err),
			err == -EPERM ? " (run as root, or with CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, "
					"CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)" : "");
		return err;
	}
	err = sd_event_add_io(l->e, &l->ring, probes_epoll_fd(p), EPOLLIN, on_ring, l);
	if (!err)
		err = sd_event_source_set_priority(l->ring, PRIO_RING);
	if (err < 0) {
		fprintf(stderr, "leakd: cannot watch the ring buffer: %s\n", strerror(-err));
		l->ring = sd_event_source_unref(l->ring);
		probes_free(p);
		return err;
	}
	l->probes = p;
	*out = p;
	return 0;
}

int evloop_add_timer(struct evloop *l, double first_s, double period_s, evloop_fn fn, void *ctx)
{
	struct evtimer **grown, *t;
	int err;

	if (!fn || !(period_s > 0))
		return -EINVAL;
	grown = realloc(l->timers, (l->ntimers + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	l->timers = grown;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct evtimer){ .l = l, .fn = fn, .ctx = ctx, .period_us = s_to_us(period_s) };
	if (!t->period_us)
		t->period_us = 1;
	err = sd_event_add_time(l->e, &t->src, CLOCK_MONOTONIC, mono_us() + s_to_us(first_s),
				TIMER_ACCURACY_US, on_timer, t);
	/* Equal deadlines run in the order added (lower value first). */
	if (!err)
		err = sd_event_source_set_priority(t->src, (int64_t)l->ntimers);
	if (err < 0) {
		sd_event_source_unref(t->src);
		free(t);
		return err;
	}
	l->timers[l->ntimers++] = t;
	return 0;
}

void evloop_on_ring(struct evloop *l, evloop_fn fn, void *ctx)
{
	l->ring_fn = fn;
	l->ring_ctx = ctx;
}

int evloop_watchdog(struct evloop *l)
{
	int r = sd_event_set_watchdog(l->e, 1);

	return r < 0 ? r : 0;
}

int evloop_run(struct evloop *l)
{
	int r = sd_event_loop(l->e);
	int d = drain(l);

	if (r < 0 && !l->err)
		l->err = r;
	if (d && !l->err)
		l->err = d;
	return l->err;
}

int evloop_stop_signal(const struct evloop *l)
{
	return l->stop_sig;
}

bool evloop_stop_pending(const struct evloop *l)
{
	sigset_t pending;

	if (l->stop_sig)
		return true;
	if (sigpending(&pending))
		return false;
	return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
}
