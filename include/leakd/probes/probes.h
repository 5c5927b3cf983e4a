/* SPDX-License-Identifier: MIT */
/*
 * probes: the BPF side's lifecycle as seen from user space.
 *
 * Loads bpf/leakd.bpf.c (through its skeleton), attaches it where the probe
 * plan says, keeps the "watched" map in step with the session's targets,
 * drains the ring buffer into a callback and reads the per-CPU counters.
 *
 * GC hooks are attached once per binary for every process (pid -1): one
 * attachment serves all processes that run that interpreter, and the watched
 * map decides which of them emit. Allocation probes trap on every call, so
 * they are attached per pid and only for targets traced in trace mode.
 */
#ifndef LEAKD_PROBES_H
#define LEAKD_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "leakd/abi.h"

struct probes;

/* One allocation-side probe point, as planned by allocplan. */
struct probe_spec {
	char name[64];		/* "PyObject_Malloc+6": for reports and errors */
	uint64_t file_offset;	/* uprobe offset into the file */
	unsigned site;		/* enum leakd_probe_site */
	unsigned reg0, reg1;	/* argument registers (1 = rdi, 2 = rsi, 3 = rdx; 0 = none) */
	bool retprobe;		/* the allocation half: alloc_enter + alloc_return */
	bool emulated;		/* the kernel emulates the probed instruction (cheap) */
};

typedef int (*probes_event_fn)(void *ctx, const struct leakd_event *e);

/* Opens and loads the BPF object with a ring of ring_bytes (a power of two).
 * Returns 0, or -errno (-EPERM without CAP_BPF/CAP_PERFMON or root). */
int probes_new(size_t ring_bytes, probes_event_fn fn, void *ctx, struct probes **out);
void probes_free(struct probes *p);

int probes_watch(struct probes *p, pid_t pid, unsigned flags);
int probes_unwatch(struct probes *p, pid_t pid);

/* GC hooks on the binary at path (a path leakd can open). Attaching the same
 * file (same device and inode) twice is a no-op returning 0. */
int probes_attach_gc_usdt(struct probes *p, const char *path);
/* Builds without USDT: entry and return probes on each collector function
 * (offsets[i]), gen_regs[i] the register holding the generation (0: unknown). */
int probes_attach_gc_uprobes(struct probes *p, const char *path, const uint64_t *offsets,
			      const unsigned *gen_regs, size_t n);

/* One allocation probe in one process. */
int probes_attach_alloc(struct probes *p, const char *path, pid_t pid, const struct probe_spec *s);
/* The same with a tag (non-zero) that probes_detach_tag() drops alone:
 * a site window's probes come and go under a trace plan's. */
int probes_attach_alloc_tag(struct probes *p, const char *path, pid_t pid, const struct probe_spec *s,
			     unsigned tag);
/* Drops every allocation probe attached for pid. */
void probes_detach_pid(struct probes *p, pid_t pid);
/* Drops pid's allocation probes of that tag. */
void probes_detach_tag(struct probes *p, pid_t pid, unsigned tag);

/* Sites: how the stack walker reads pid's frames (NULL: forget pid), and
 * which types' allocations in pid get a stack (LEAKD_MAX_SITE_TYPES in all;
 * -E2BIG beyond). Stacks arrive as LEAKD_EV_STACK records, each a struct
 * leakd_stack_event, through the same callback. */
int probes_set_pyconf(struct probes *p, pid_t pid, const struct leakd_pyconf *c);
int probes_site_type(struct probes *p, pid_t pid, uint64_t type, bool on);

/* Time the kernel spent in the allocation return program and its runs, for
 * measuring the stack walk's cost; zero unless BPF run-time statistics are
 * enabled (bpf_enable_stats(BPF_STATS_RUN_TIME) or kernel.bpf_stats_enabled). */
int probes_alloc_return_stats(struct probes *p, uint64_t *run_ns, uint64_t *run_cnt);

/* The same over every program of leakd's BPF object, for the daemon's
 * leakd_bpf_* metrics. -ENODATA while kernel.bpf_stats_enabled is off (the
 * kernel then counts nothing: a zero would read as "no cost"). */
int probes_run_stats(struct probes *p, uint64_t *run_ns, uint64_t *run_cnt);

/* Waits up to timeout_ms for a wakeup, then drains everything pending (the
 * producer does not wake us per event). Returns events handled or -errno. */
int probes_poll(struct probes *p, int timeout_ms);

/* The ring buffer's epoll fd: readable when the producers wake us (an event
 * loop's I/O source; probes_poll(p, 0) then drains). */
int probes_epoll_fd(const struct probes *p);

/* Sum over CPUs of one enum leakd_counter. */
uint64_t probes_counter(struct probes *p, enum leakd_counter c);

#endif
