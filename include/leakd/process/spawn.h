/* SPDX-License-Identifier: MIT */
/*
 * spawn: `leakd -- COMMAND`: start the command and hand it over before its
 * interpreter runs a single bytecode, so nothing it allocates escapes.
 *
 * The child execs under PTRACE_TRACEME; leakd follows its execs (wrappers such
 * as pyenv shims exec the real interpreter) and its mmap calls (ld.so maps
 * libpython after the exec), asking `ready` at each step whether the target
 * can be resolved and its probes attached. Once ready says so, the child is
 * detached and runs freely.
 */
#ifndef LEAKD_SPAWN_H
#define LEAKD_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Called with the child stopped. Return 0 when done (the child is released),
 * -ENOEXEC when the image holds no interpreter yet, -EAGAIN to be asked again
 * at the next system call (last_chance is true on the final ask), or another
 * -errno to abort (the child is killed).
 */
typedef int (*spawn_ready_fn)(void *ctx, pid_t pid, bool last_chance);

/* Returns 0 and the child's pid, or -errno: -ENOENT/-EACCES from exec,
 * -ECHILD if it exited before an interpreter appeared, -ENOEXEC if it never
 * became Python within the bounds, or what ready returned. */
int spawn_run(char **cmd, spawn_ready_fn ready, void *ctx, pid_t *pid_out);

#endif
