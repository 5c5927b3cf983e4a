/* SPDX-License-Identifier: MIT */
/*
 * Freezing a target process for a consistent census, and always thawing it.
 *
 * Every thread of the target is attached with PTRACE_SEIZE (which, unlike
 * PTRACE_ATTACH, sends no SIGSTOP the target could observe) and stopped with
 * PTRACE_INTERRUPT; thawing detaches them all. ptrace ties a tracee to the
 * tracing *thread*: call freeze_stop() and freeze_thaw() from the same
 * thread. If leakd dies in between, the kernel detaches and the target runs.
 */
#ifndef LEAKD_FREEZE_H
#define LEAKD_FREEZE_H

#include <stddef.h>
#include <sys/types.h>

struct freeze;

/*
 * Stops every thread in /proc/PID/task, re-listing until no new thread
 * appears, and waits (at most ~1 s in total) until each is in a ptrace stop.
 * Returns 0 and *out; -ESRCH the process is gone; -EPERM already traced by
 * someone else or not permitted (the caller may walk unfrozen, tolerating
 * broken links); -ETIMEDOUT a thread did not stop; -ENOMEM. On any failure
 * every thread already stopped has been resumed and *out is untouched.
 */
int freeze_stop(pid_t pid, struct freeze **out);

/*
 * Detaches from every thread (re-delivering any signal that arrived while
 * frozen) and frees f. NULL-safe. Returns 0, or the first -errno met while
 * detaching; the target is left running either way.
 */
int freeze_thaw(struct freeze *f);

/* How many threads are held. */
size_t freeze_ntasks(const struct freeze *f);

#endif /* LEAKD_FREEZE_H */
