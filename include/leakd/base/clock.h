/* SPDX-License-Identifier: MIT */
/*
 * clock: the clocks leakd reads. Monotonic seconds for every schedule and
 * series (immune to clock changes); Unix seconds only for the "ts" of
 * records people and scripts read; the calling thread's CPU time for what a
 * census costs (the pause budget); a short sleep.
 */
#ifndef LEAKD_CLOCK_H
#define LEAKD_CLOCK_H

#include <errno.h>
#include <time.h>

static inline double leakd_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double leakd_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double leakd_thread_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps s seconds (s < 1), resumed across signals. */
static inline void leakd_sleep(double s)
{
	struct timespec ts = { 0, (long)(s * 1e9) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

#endif
