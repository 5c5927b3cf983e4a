// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/discover.h"

static const char *proc_root(void)
{
	static char path[4096];
	const char *fx = getenv("LEAKD_FIXTURES");

	snprintf(path, sizeof(path), "%s/discover/proc", fx ? fx : "tests/fixtures");
	return path;
}

Test(discover, pids_are_the_numeric_entries_sorted)
{
	pid_t *pids;
	size_t n;

	cr_assert_eq(discover_pids(proc_root(), &pids, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(pids[0], 77);
	cr_assert_eq(pids[1], 4321);
	free(pids);
	cr_assert_eq(discover_pids("/nonexistent/proc", &pids, &n), -ENOENT);
}

Test(discover, reads_comm_with_spaces_start_time_exe_and_unit)
{
	struct discover_proc d;

	cr_assert_eq(discover_read(proc_root(), 4321, &d), 0);
	cr_assert_str_eq(d.comm, "gunicorn: work");
	cr_assert_eq(d.start_time, 987654);
	cr_assert_str_eq(d.exe, "/usr/bin/python3.11");
	cr_assert_str_eq(d.cgroup, "/system.slice/web-api.service");
	cr_assert_str_eq(d.unit, "web-api.service");
	cr_assert_str_eq(d.container, "");
	cr_assert_eq(discover_read(proc_root(), 99999, &d), -ESRCH);
}

Test(discover, container_scope_is_an_id_not_a_unit)
{
	struct discover_proc d;

	cr_assert_eq(discover_read(proc_root(), 77, &d), 0);
	cr_assert_str_eq(d.container, "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(d.unit, "");
	cr_assert_str_eq(d.exe, "");	/* no exe link in the fixture: like a kernel thread */
}

Test(discover, cgroup_paths_of_common_runtimes)
{
	char unit[256], ctr[80];

	discover_parse_cgroup("/system.slice/docker-aabbccddeeff00112233.scope", unit, sizeof(unit), ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "aabbccddeeff00112233");
	cr_assert_str_eq(unit, "");
	discover_parse_cgroup("/machine.slice/libpod-1234567890abcdef.scope/container", unit, sizeof(unit), ctr,
			      sizeof(ctr));
	cr_assert_str_eq(ctr, "1234567890abcdef");
	discover_parse_cgroup("/user.slice/user-0.slice/session-3.scope", unit, sizeof(unit), ctr, sizeof(ctr));
	cr_assert_str_eq(unit, "session-3.scope");
	cr_assert_str_eq(ctr, "");
	discover_parse_cgroup("/system.slice/app.service/worker", unit, sizeof(unit), ctr, sizeof(ctr));
	cr_assert_str_eq(unit, "app.service");
	discover_parse_cgroup("", unit, sizeof(unit), ctr, sizeof(ctr));
	cr_assert_str_eq(unit, "");
	cr_assert_str_eq(ctr, "");
	discover_parse_cgroup("/docker/0123456789abcdef0123", unit, sizeof(unit), ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "0123456789abcdef0123");
}
