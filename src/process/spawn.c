// SPDX-License-Identifier: MIT
/*
 * spawn: start a command under ptrace and release it once its interpreter
 * is resolved and probed (see include/leakd/process/spawn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/base/clock.h"
#include "leakd/process/spawn.h"

/* Bounds that keep a command that never becomes Python from being stepped
 * forever: system-call stops per program image, and after the interpreter is
 * found, stops spent waiting for ld.so to finish relocating it. */
#define MAX_STOPS_PER_IMAGE 200000
#define MAX_STOPS_AFTER_FOUND 4000
#define MAX_EXECS 16
/* A command that has not become Python by then (a server binary, a shell
 * script sleeping before it execs) is not one leakd can trace. */
#define START_DEADLINE_S 10.0

static void kill_and_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
}

/* Returns the stop status, -ECHILD when the child is gone, or -ETIMEDOUT
 * past the deadline (the child then still runs, traced). Stops come within
 * microseconds while ld.so and the interpreter start, so polling is cheap. */
static int wait_stop(pid_t pid, double deadline)
{
	int st, spins = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, __WALL | WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -ECHILD;
		if (leakd_mono_now() > deadline)
			return -ETIMEDOUT;
		if (++spins > 100)
			usleep(1000);
	}
	if (WIFEXITED(st) || WIFSIGNALED(st))
		return -ECHILD;
	return st;
}

static bool at_mmap_exit(pid_t pid)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return false;
	/* At syscall entry rax holds -ENOSYS; at exit, the result. */
	return regs.orig_rax == SYS_mmap && (int64_t)regs.rax != -ENOSYS;
}

/* In the forked child: arm the death signal, unblock signals, exec cmd
 * traced. On failure the errno goes up the pipe wfd. */
static _Noreturn void spawn_child(char **cmd, int wfd, pid_t parent)
{
	sigset_t none;
	int err;

	/* The command ends with leakd, even a leakd killed by SIGKILL:
	 * nothing else would stop it. The death signal is armed after
	 * fork, so a parent that died in between is caught by getppid()
	 * (it would then be the reaper's pid). It fires when the thread
	 * that forked exits: spawn_run runs on the session's only one. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto child_fail;
	if (getppid() != parent)
		_exit(127);
	/* The session's event loop blocks SIGINT and SIGTERM to read them
	 * from a signalfd; the command must get them as usual. */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL))
		goto child_fail;
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
		execvp(cmd[0], cmd);
child_fail:
	err = errno;
	(void)!write(wfd, &err, sizeof(err));
	_exit(127);
}

/* Forks and execs cmd traced, up to its first stop after the exec, with
 * the tracing options set. Returns the child's pid and sets *deadline (the
 * start deadline), or returns -errno (the child, if any, killed or gone). */
static pid_t spawn_start(char **cmd, double *deadline)
{
	int pfd[2], err = 0, st;
	ssize_t n;
	pid_t pid, parent;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		close(pfd[0]);
		spawn_child(cmd, pfd[1], parent);
	}
	close(pfd[1]);
	*deadline = leakd_mono_now() + START_DEADLINE_S;
	st = wait_stop(pid, *deadline);
	/* The exec either succeeded (pipe closed by CLOEXEC) or reported errno. */
	n = read(pfd[0], &err, sizeof(err));
	close(pfd[0]);
	if (n == (ssize_t)sizeof(err)) {
		if (st >= 0)
			kill_and_reap(pid);
		/* exec and its setup fail with an errno; 0 would read as a pid */
		return err ? -err : -ECHILD;
	}
	if (st < 0)
		return -ECHILD;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL))) {
		err = -errno;
		kill_and_reap(pid);
		return err;
	}
	return pid;
}

/*
 * Steps the stopped child from system call to system call, asking ready
 * after each exec, each mmap and (once the interpreter is found) each stop,
 * until ready says done. Returns 0 (the child stopped, still traced),
 * -ENOEXEC when the bounds ran out first (the child still runs, traced),
 * or another -errno or what ready returned (the child killed or gone).
 */
static int spawn_follow(pid_t pid, spawn_ready_fn ready, void *ctx, double deadline)
{
	int st, execs = 0, stops = 0, found_at = 0, sig = 0, r;
	bool found = false;

	r = ready(ctx, pid, false);
	while (r != 0) {
		if (r != -EAGAIN && r != -ENOEXEC) {
			kill_and_reap(pid);
			return r;
		}
		if (r == -EAGAIN && !found) {
			found = true;
			found_at = stops;
		}
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig)) {
			int err = -errno;

			kill_and_reap(pid);
			return err;
		}
		sig = 0;
		st = wait_stop(pid, deadline);
		if (st == -ETIMEDOUT)
			return -ENOEXEC;
		if (st < 0)
			return -ECHILD;
		stops++;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			if (++execs > MAX_EXECS)
				return -ENOEXEC;
			stops = 0;
			found = false;
			r = ready(ctx, pid, false);
			continue;
		}
		if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			/* A real signal for the child: deliver it on the next resume. */
			sig = WSTOPSIG(st);
			continue;
		}
		if (found) {
			bool last = stops - found_at >= MAX_STOPS_AFTER_FOUND;

			r = ready(ctx, pid, last);
			if (r == -EAGAIN && last)
				r = 0;
		} else if (at_mmap_exit(pid)) {
			r = ready(ctx, pid, false);
		} else if (stops >= MAX_STOPS_PER_IMAGE) {
			return -ENOEXEC;
		}
	}
	return 0;
}

int spawn_run(char **cmd, spawn_ready_fn ready, void *ctx, pid_t *pid_out)
{
	double deadline = 0;
	pid_t pid;
	int err;

	pid = spawn_start(cmd, &deadline);
	if (pid < 0)
		return pid;
	err = spawn_follow(pid, ready, ctx, deadline);
	if (err == -ENOEXEC) {
		/* Never became Python within the bounds. We started it only to
		 * trace it, so it does not outlive the failed attempt. */
		kill_and_reap(pid);
		*pid_out = pid;
		return -ENOEXEC;
	}
	if (err)
		return err;
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL)) {
		err = -errno;
		kill_and_reap(pid);
		return err;
	}
	*pid_out = pid;
	return 0;
}
