/* SPDX-License-Identifier: MIT */
/*
 * evloop: the one event loop of a session (--pid, -- CMD) and of the daemon,
 * on sd-event.
 *
 * SIGINT and SIGTERM are blocked and read as event sources (a stop request,
 * not an interruption in the middle of a census); the BPF ring buffer's epoll
 * fd is an I/O source that drains it; everything else (the census check,
 * samples, scans, verdicts, publishing, --duration) is a timer calling a hook
 * of the caller. sd-event's watchdog support keeps systemd's WatchdogSec fed
 * while the loop turns. Session and daemon differ only in their hooks: how
 * they find targets and where they report.
 *
 * Producers submit ring-buffer records with BPF_RB_NO_WAKEUP below a
 * watermark, so the fd alone would leave those waiting: every timer hook runs
 * after a drain, and callers keep a short periodic timer (EVLOOP_TICK_S).
 */
#ifndef LEAKD_EVLOOP_H
#define LEAKD_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>

#include "leakd/probes/probes.h"

/* The shortest period the callers use: bounds how late a census, sample or
 * exit is noticed, and how long records below the wakeup watermark wait. */
#define EVLOOP_TICK_S 0.1

struct evloop;

/* A timer's hook, called with the monotonic time (leakd_mono_now()'s clock).
 * Returns 0 to go on, EVLOOP_DONE to end the loop normally, or -errno to end
 * it with that error (evloop_run() returns it). */
#define EVLOOP_DONE 1
typedef int (*evloop_fn)(void *ctx, double now);

/* A loop with SIGINT and SIGTERM blocked (restored by evloop_free()) and
 * SIGPIPE ignored. Returns 0 or -errno. */
int evloop_new(struct evloop **out);
void evloop_free(struct evloop *l);

/* Loads the BPF side (probes_new()) and drains its ring buffer whenever it
 * wakes the loop. On failure prints the one message leakd has for it (with
 * the privileges needed on -EPERM) and returns -errno. */
int evloop_load_probes(struct evloop *l, size_t ring_bytes, probes_event_fn fn, void *ctx,
			struct probes **out);

/* Calls fn every period_s seconds, the first time after first_s (0: on the
 * first turn of the loop). Timers due together run in the order they were
 * added. Returns 0 or -errno. */
int evloop_add_timer(struct evloop *l, double first_s, double period_s, evloop_fn fn, void *ctx);

/* Also calls fn right after each ring-buffer wakeup's drain: GC-done
 * records force a wakeup so that a census follows them at once, not at the
 * next tick. One such hook; a later call replaces it. */
void evloop_on_ring(struct evloop *l, evloop_fn fn, void *ctx);

/* Pings systemd's watchdog (when WATCHDOG_USEC asks for it) as long as the
 * loop turns. Returns 0 or -errno. */
int evloop_watchdog(struct evloop *l);

/* Runs until a stop signal, a hook's EVLOOP_DONE, or an error. Drains the
 * ring buffer once more before returning. Returns 0 or the -errno that ended
 * it (a hook's, or a failed ring-buffer read, already reported). */
int evloop_run(struct evloop *l);

/* The signal that stopped the loop, 0 if none. */
int evloop_stop_signal(const struct evloop *l);

/* A stop signal waits: lets a long step (a /proc scan) end early. */
bool evloop_stop_pending(const struct evloop *l);

#endif /* LEAKD_EVLOOP_H */
