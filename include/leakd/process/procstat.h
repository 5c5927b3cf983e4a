/* SPDX-License-Identifier: MIT */
/*
 * procstat: what /proc says about a process's memory and descriptors.
 * Every reader returns REPORT_UNKNOWN when the file cannot be read or parsed
 * (the process is gone, or hidden by its namespace).
 */
#ifndef LEAKD_PROCSTAT_H
#define LEAKD_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

/* Entries in /proc/PID/fd. */
int64_t procstat_open_fds(const char *proc_root, pid_t pid);
/* Resident set size from /proc/PID/statm, bytes. */
int64_t procstat_rss(const char *proc_root, pid_t pid);
/* RssAnon from /proc/PID/status, bytes: anonymous resident memory, where
 * Python objects and native allocations both live. */
int64_t procstat_rss_anon(const char *proc_root, pid_t pid);

#endif /* LEAKD_PROCSTAT_H */
