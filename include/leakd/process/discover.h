/* SPDX-License-Identifier: MIT */
/*
 * discover: which processes exist, and what the daemon's filters need to
 * know about them (comm, exe, systemd unit, cgroup, container id), read from
 * a /proc root given as a parameter so tests run on fixture trees.
 * Whether a process is Python is target_resolve()'s answer, not ours.
 */
#ifndef LEAKD_DISCOVER_H
#define LEAKD_DISCOVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct discover_proc {
	pid_t pid;
	uint64_t start_time;	/* field 22 of /proc/PID/stat: with pid, identifies the process */
	char comm[17];
	char exe[4096];		/* "" for kernel threads */
	char cgroup[1024];	/* the unified (v2) cgroup path, "" if unknown */
	char unit[256];		/* systemd unit owning it, as sd_pid_get_unit(3) says
				 * ("web.service", "user@1000.service"), "" if none */
	char container[80];	/* container id from the cgroup path, "" if none */
};

/* All numeric entries of proc_root, ascending. Returns 0 (caller frees
 * *out) or -errno. */
int discover_pids(const char *proc_root, pid_t **out, size_t *n);

/* Fills *out for pid. The unit is systemd's answer, read only when
 * proc_root is "/proc" (libsystemd has no other root). Returns 0, -ESRCH if
 * it is gone, -errno. */
int discover_read(const char *proc_root, pid_t pid, struct discover_proc *out);

/*
 * Parses a /proc/PID/stat line, which the process's name makes hostile: comm
 * is what lies between the first '(' and the last ')' (spaces and
 * parentheses included), cut to comm_len - 1 bytes and NUL-terminated;
 * *start_time is field 22. Pure. Returns 0, or -EINVAL when the line is not
 * one (comm is then "" or what was found).
 */
int discover_parse_stat(const char *line, char *comm, size_t comm_len, uint64_t *start_time);

/* From a cgroup path: a container id (docker-<id>.scope,
 * cri-containerd-<id>.scope, libpod-<id>.scope, crio-<id>.scope, /docker/<id>),
 * which systemd knows nothing of. Pure. Empty string when there is none. */
void discover_parse_container(const char *cgroup, char *container, size_t container_len);

#endif
