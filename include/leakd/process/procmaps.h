/* SPDX-License-Identifier: MIT */
/*
 * procmaps: /proc/PID/maps as an array of entries.
 *
 * The line parser is pure so it can be tested on literal strings; the reader
 * takes the proc root as a parameter so tests can point it at a fixture tree
 * (and a daemon in a container at the host's /proc).
 */
#ifndef LEAKD_PROCMAPS_H
#define LEAKD_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCMAPS_PATH_MAX 4096

struct procmaps_entry {
	uint64_t start, end, offset;
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	char perms[5];			/* "r-xp" */
	char path[PROCMAPS_PATH_MAX];	/* "" for anonymous; "[heap]"; the file's name
					 * with the kernel's "\012" escapes decoded,
					 * spaces and a trailing " (deleted)" kept */
};

/*
 * The length of a path the kernel printed (a maps line, an exe link) without
 * the " (deleted)" it appends once the file is unlinked: a package upgrade
 * leaves it on every running interpreter, which is still that program.
 * strlen(path) if there is none (or the path is nothing but the suffix).
 */
size_t procmaps_undeleted_len(const char *path);

/*
 * Parses one line of a maps file (a trailing newline is allowed). Returns 0 and
 * fills @out, or -EINVAL if the line is not a maps line (@out untouched), or
 * -ENAMETOOLONG if the path does not fit.
 */
int procmaps_parse_line(const char *line, struct procmaps_entry *out);

/*
 * Reads <proc_root>/<pid>/maps. On success returns 0, *out is a malloc'd array
 * of *n entries (free() it; NULL when *n is 0, e.g. a zombie). Errors: -ESRCH
 * if the process does not exist, -EACCES/-EPERM, -EINVAL on a malformed line,
 * -ENOMEM.
 */
int procmaps_read(const char *proc_root, pid_t pid, struct procmaps_entry **out, size_t *n);

/* True if @e maps a file (its path is absolute), not anon/[heap]/[vdso]. */
bool procmaps_is_file(const struct procmaps_entry *e);

#endif /* LEAKD_PROCMAPS_H */
