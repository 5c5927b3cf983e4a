// SPDX-License-Identifier: MIT
/*
 * procfilter: the daemon's include/exclude filters on a process's comm, exe,
 * unit and cgroup (see include/leakd/process/procfilter.h).
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <string.h>

#include "leakd/process/procfilter.h"
#include "leakd/process/procmaps.h"

static bool match_glob(char *const *pats, size_t n, const char *s)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!fnmatch(pats[i], s, 0))
			return true;
	return false;
}

/* Whole components: "/system.slice" covers "/system.slice/a.service" but not
 * "/system.slice2". Stored prefixes have no trailing '/' except "/" itself. */
static bool match_prefix(char *const *pats, size_t n, const char *s)
{
	if (!s || *s != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(pats[i]);

		if (len == 1 || (!strncmp(s, pats[i], len) && (s[len] == '\0' || s[len] == '/')))
			return true;
	}
	return false;
}

bool procfilter_match(const struct procfilter *c, const char *comm, const char *exe, const char *unit,
		      const char *cgroup)
{
	char exe_buf[PROCMAPS_PATH_MAX];

	if (exe) {
		size_t len = procmaps_undeleted_len(exe);

		if (len != strlen(exe) && len < sizeof(exe_buf)) {
			memcpy(exe_buf, exe, len);
			exe_buf[len] = '\0';
			exe = exe_buf;
		}
	}
	if (c->n_include_comm && !match_glob(c->include_comm, c->n_include_comm, comm))
		return false;
	if (c->n_include_exe && !match_glob(c->include_exe, c->n_include_exe, exe))
		return false;
	if (c->n_include_unit && !match_glob(c->include_unit, c->n_include_unit, unit))
		return false;
	if (c->n_include_cgroup && !match_prefix(c->include_cgroup, c->n_include_cgroup, cgroup))
		return false;
	return !match_glob(c->exclude_comm, c->n_exclude_comm, comm) &&
	       !match_glob(c->exclude_exe, c->n_exclude_exe, exe) &&
	       !match_glob(c->exclude_unit, c->n_exclude_unit, unit) &&
	       !match_prefix(c->exclude_cgroup, c->n_exclude_cgroup, cgroup);
}
