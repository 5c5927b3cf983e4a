// SPDX-License-Identifier: MIT
/*
 * discover: enumerate processes and read the facts the daemon filters on
 * (see include/leakd/process/discover.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "leakd/process/discover.h"

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int discover_pids(const char *proc_root, pid_t **out, size_t *n)
{
	struct dirent *de;
	pid_t *v = NULL, *nv;
	size_t len = 0, cap = 0;
	DIR *d = opendir(proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || !isdigit((unsigned char)de->d_name[0]))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[len++] = (pid_t)pid;
	}
	closedir(d);
	qsort(v, len, sizeof(*v), pid_cmp);
	*out = v;
	*n = len;
	return 0;
}

/* Copies the hex id that follows prefix in s (at least 12 hex digits). */
static bool take_id(const char *s, const char *prefix, char *out, size_t len)
{
	const char *p = strstr(s, prefix);
	size_t n = 0;

	if (!p)
		return false;
	p += strlen(prefix);
	while (isxdigit((unsigned char)p[n]))
		n++;
	if (n < 12 || n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

void discover_parse_container(const char *cgroup, char *container, size_t container_len)
{
	static const char *const runtimes[] = { "docker-", "cri-containerd-", "libpod-", "crio-", "/docker/" };
	bool found = false;

	container[0] = '\0';
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]) && !found; i++)
		found = take_id(cgroup, runtimes[i], container, container_len);
}

/* The unit as systemd itself derives it from the process's cgroup, whatever
 * the hierarchy (unified, hybrid, legacy) and escaping: the same answer as
 * `systemctl status PID`. Only the live /proc is systemd's: libsystemd reads
 * /proc/PID/cgroup of this pid namespace, so another root has no unit. */
static void read_unit(const char *proc_root, pid_t pid, char *unit, size_t len)
{
	char *u = NULL;

	unit[0] = '\0';
	if (strcmp(proc_root, "/proc") || sd_pid_get_unit(pid, &u) < 0)
		return;
	if (strlen(u) < len)
		memcpy(unit, u, strlen(u) + 1);
	free(u);
}

int discover_parse_stat(const char *line, char *comm, size_t comm_len, uint64_t *start_time)
{
	const char *open = strchr(line, '('), *close = strrchr(line, ')'), *p;
	size_t clen;

	if (!comm_len)
		return -EINVAL;
	comm[0] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	if (!open || !close || close < open)
		return -EINVAL;
	clen = (size_t)(close - open - 1);
	if (clen >= comm_len)
		clen = comm_len - 1;
	memcpy(comm, open + 1, clen);
	comm[clen] = '\0';
	/* " S ppid ...": field 3 starts two bytes on, if the line goes on */
	p = close[1] ? close + 2 : NULL;
	for (int field = 3; field < 22 && p && *p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%" SCNu64, start_time) != 1)
		return -EINVAL;
	return 0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

int discover_read(const char *proc_root, pid_t pid, struct discover_proc *out)
{
	char path[PATH_MAX], buf[4096];
	struct discover_proc d = { .pid = pid };
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	err = read_small(path, buf, sizeof(buf));
	if (err < 0)
		return err;
	err = discover_parse_stat(buf, d.comm, sizeof(d.comm), &d.start_time);
	if (err < 0)
		return err;

	snprintf(path, sizeof(path), "%s/%d/exe", proc_root, pid);
	n = readlink(path, d.exe, sizeof(d.exe) - 1);
	d.exe[n > 0 ? n : 0] = '\0';

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		/* cgroup v2: the "0::" line */
		char *line = strstr(buf, "0::");

		if (line && (line == buf || line[-1] == '\n')) {
			line += 3;
			line[strcspn(line, "\n")] = '\0';
			snprintf(d.cgroup, sizeof(d.cgroup), "%s", line);
		}
	}
	discover_parse_container(d.cgroup, d.container, sizeof(d.container));
	read_unit(proc_root, pid, d.unit, sizeof(d.unit));
	*out = d;
	return 0;
}
