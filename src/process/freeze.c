// SPDX-License-Identifier: MIT
/*
 * freeze: hold every thread of a process in a ptrace stop (see freeze.h).
 *
 * Why ptrace rather than SIGSTOP or the cgroup freezer: SIGSTOP is visible to
 * the target's parent (a shell or supervisor sees it "stopped") and a
 * SIGCONT from anyone undoes it; the cgroup freezer would freeze whole
 * services. PTRACE_SEIZE+INTERRUPT is per thread, invisible to the target
 * and undone by the kernel if we die.
 *
 * Signals that arrive while a thread is held are reported to us as
 * signal-delivery stops; they are kept and handed back at detach, so the
 * target loses nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/process/freeze.h"

#define FREEZE_TIMEOUT_NS 1000000000ll
#define FREEZE_MAX_ROUNDS 16	/* re-listing rounds while threads keep appearing */

struct freeze_task {
	pid_t tid;
	bool stopped;	/* reported a stop to waitpid */
	bool gone;	/* exited while we held it */
	int sig;	/* signal to re-deliver at detach */
};

struct freeze {
	pid_t pid;
	struct freeze_task *t;
	size_t n, cap;
	int nice_before;	/* this thread's nice value before the freeze */
	bool reniced;
};

/*
 * While a target is held, the thread holding it is what keeps it stopped:
 * on a busy machine, every time slice it waits for is pause the target
 * pays. It runs at FREEZE_NICE for that window (root may raise priority;
 * failing to is harmless) and returns to its own priority at the thaw.
 */
#define FREEZE_NICE -10

static void freeze_renice(struct freeze *f)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	errno = 0;
	f->nice_before = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno || f->nice_before <= FREEZE_NICE)
		return;
	f->reniced = setpriority(PRIO_PROCESS, (id_t)tid, FREEZE_NICE) == 0;
}

static void freeze_unrenice(struct freeze *f)
{
	if (f->reniced)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), f->nice_before);
}

static long long freeze_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

size_t freeze_ntasks(const struct freeze *f)
{
	return f ? f->n : 0;
}

static bool freeze_has(const struct freeze *f, pid_t tid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].tid == tid)
			return true;
	return false;
}

/* Interprets one waitpid status for task t. */
static void freeze_note(struct freeze_task *t, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->gone = true;
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	t->stopped = true;
	/* A plain signal-delivery stop: keep the signal for detach. A group stop
	 * or PTRACE_EVENT_STOP carries the event in the high bits. */
	if ((status >> 16) == 0)
		t->sig = WSTOPSIG(status);
}

/* Waits until every seized task is stopped or gone, or the deadline passes. */
static int freeze_wait_all(struct freeze *f, long long deadline)
{
	for (;;) {
		bool pending = false;

		for (size_t i = 0; i < f->n; i++) {
			struct freeze_task *t = &f->t[i];
			int status;
			pid_t r;

			if (t->stopped || t->gone)
				continue;
			r = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (r == t->tid)
				freeze_note(t, status);
			else if (r < 0 && errno == ECHILD)
				t->gone = true;
			if (!t->stopped && !t->gone)
				pending = true;
		}
		if (!pending)
			return 0;
		if (freeze_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(50);
	}
}

/* Seizes and interrupts every task not yet held. Returns how many were new. */
static int freeze_seize_new(struct freeze *f)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int added = 0, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)f->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || freeze_has(f, tid))
			continue;
		if (f->n == f->cap) {
			size_t ncap = f->cap ? f->cap * 2 : 16;
			struct freeze_task *nt = realloc(f->t, ncap * sizeof(*nt));

			if (!nt) {
				err = -ENOMEM;
				goto cleanup;
			}
			f->t = nt;
			f->cap = ncap;
		}
		if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
			if (errno == ESRCH)
				continue;	/* the thread just exited */
			err = -errno;
			goto cleanup;
		}
		f->t[f->n++] = (struct freeze_task){ .tid = tid };
		added++;
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH) {
			err = -errno;
			goto cleanup;
		}
	}
cleanup:
	closedir(d);
	return err < 0 ? err : added;
}

int freeze_stop(pid_t pid, struct freeze **out)
{
	struct freeze *f;
	long long deadline = freeze_now_ns() + FREEZE_TIMEOUT_NS;
	int err = 0, round;

	if (pid <= 0 || !out)
		return -EINVAL;
	if (pid == getpid())
		return -EDEADLK;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pid = pid;
	freeze_renice(f);

	/* Threads we have not stopped yet may create more: list until stable. */
	for (round = 0; round < FREEZE_MAX_ROUNDS; round++) {
		err = freeze_seize_new(f);
		if (err < 0)
			goto cleanup;
		if (err == 0 && round > 0)
			break;
		err = freeze_wait_all(f, deadline);
		if (err < 0)
			goto cleanup;
	}
	if (round == FREEZE_MAX_ROUNDS) {
		err = -EAGAIN;
		goto cleanup;
	}
	if (f->n == 0) {
		err = -ESRCH;
		goto cleanup;
	}
	{
		bool any = false;

		for (size_t i = 0; i < f->n; i++)
			any |= !f->t[i].gone;
		if (!any) {
			err = -ESRCH;
			goto cleanup;
		}
	}
	*out = f;
	return 0;
cleanup:
	freeze_thaw(f);
	return err;
}

int freeze_thaw(struct freeze *f)
{
	int first = 0;

	if (!f)
		return 0;
	for (size_t i = 0; i < f->n; i++) {
		struct freeze_task *t = &f->t[i];

		if (t->gone)
			continue;
		if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig) == 0)
			continue;
		if (errno != ESRCH) {
			if (!first)
				first = -errno;
			continue;
		}
		/*
		 * ESRCH: gone, or not in a stop yet (the INTERRUPT is still on
		 * its way). Wait for the stop, briefly, then detach.
		 */
		for (int tries = 0; tries < 20000; tries++) {
			int status;
			pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);

			if (r < 0)
				break;	/* not ours any more: nothing to undo */
			if (r == t->tid) {
				freeze_note(t, status);
				if (t->gone)
					break;
				if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig) < 0 && !first)
					first = -errno;
				break;
			}
			usleep(50);
		}
	}
	freeze_unrenice(f);
	free(f->t);
	free(f);
	return first;
}
