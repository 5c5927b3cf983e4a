// SPDX-License-Identifier: MIT
/*
 * discover: enumerate processes and read the facts the daemon filters on
 * (see include/leakd/discover.h).
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

#include "leakd/discover.h"

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

void discover_parse_cgroup(const char *cgroup, char *unit, size_t unit_len, char *container, size_t container_len)
{
	static const char *const runtimes[] = { "docker-", "cri-containerd-", "libpod-", "crio-", "/docker/" };
	const char *comp = cgroup, *next;
	bool in_container = false;

	unit[0] = container[0] = '\0';
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]) && !in_container; i++)
		in_container = take_id(cgroup, runtimes[i], container, container_len);
	/* Walk the components; the innermost unit wins, except the container's
	 * own scope (its name is the container id, not a unit people know). */
	while (comp && *comp) {
		size_t clen;

		while (*comp == '/')
			comp++;
		next = strchr(comp, '/');
		clen = next ? (size_t)(next - comp) : strlen(comp);
		if (clen > 8 && clen < unit_len &&
		    (!strncmp(comp + clen - 8, ".service", 8) ||
		     (!strncmp(comp + clen - 6, ".scope", 6) && !(in_container && memmem(comp, clen, container, strlen(container)))))) {
			memcpy(unit, comp, clen);
			unit[clen] = '\0';
		}
		comp = next;
	}
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
	char path[PATH_MAX], buf[4096], *p;
	struct discover_proc d = { .pid = pid };
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	err = read_small(path, buf, sizeof(buf));
	if (err < 0)
		return err;
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	{
		char *open = strchr(buf, '(');
		size_t clen = open && open < p ? (size_t)(p - open - 1) : 0;

		if (clen >= sizeof(d.comm))
			clen = sizeof(d.comm) - 1;
		if (open)
			memcpy(d.comm, open + 1, clen);
		d.comm[clen] = '\0';
	}
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%" SCNu64, &d.start_time) != 1)
		return -EINVAL;

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
	discover_parse_cgroup(d.cgroup, d.unit, sizeof(d.unit), d.container, sizeof(d.container));
	*out = d;
	return 0;
}
