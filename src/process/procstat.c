// SPDX-License-Identifier: MIT
/* procstat: a process's memory and descriptors from /proc (see procstat.h). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "leakd/process/procstat.h"
#include "leakd/summary.h"

int64_t procstat_open_fds(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX];
	struct dirent *de;
	int64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", proc_root, pid);
	d = opendir(path);
	if (!d)
		return REPORT_UNKNOWN;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int64_t procstat_rss_anon(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX], line[256];
	int64_t v = REPORT_UNKNOWN;
	long long kb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return REPORT_UNKNOWN;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %lld kB", &kb) == 1 && kb >= 0) {
			v = kb * 1024;
			break;
		}
	fclose(f);
	return v;
}

int64_t procstat_rss(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX];
	unsigned long size, resident;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%d/statm", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return REPORT_UNKNOWN;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2)
		return REPORT_UNKNOWN;
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

