// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-login.h>
#include <unistd.h>

#include "leakd/process/discover.h"

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

/* The unit is systemd's answer (sd_pid_get_unit), which only the live /proc
 * has: a fixture tree's cgroup file names a unit, but no unit is made up
 * from it by hand. tests/integration/systemd_nspawn.sh checks the live one. */
Test(discover, reads_comm_with_spaces_start_time_exe_and_cgroup)
{
	struct discover_proc d;

	cr_assert_eq(discover_read(proc_root(), 4321, &d), 0);
	cr_assert_str_eq(d.comm, "gunicorn: work");
	cr_assert_eq(d.start_time, 987654);
	cr_assert_str_eq(d.exe, "/usr/bin/python3.11");
	cr_assert_str_eq(d.cgroup, "/system.slice/web-api.service");
	cr_assert_str_eq(d.unit, "");
	cr_assert_str_eq(d.container, "");
	cr_assert_eq(discover_read(proc_root(), 99999, &d), -ESRCH);
}

Test(discover, container_scope_gives_an_id)
{
	struct discover_proc d;

	cr_assert_eq(discover_read(proc_root(), 77, &d), 0);
	cr_assert_str_eq(d.container, "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(d.exe, "");	/* no exe link in the fixture: like a kernel thread */
}

Test(discover, cgroup_paths_of_common_runtimes)
{
	char ctr[80];

	discover_parse_container("/system.slice/docker-aabbccddeeff00112233.scope", ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "aabbccddeeff00112233");
	discover_parse_container("/machine.slice/libpod-1234567890abcdef.scope/container", ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "1234567890abcdef");
	discover_parse_container("/user.slice/user-0.slice/session-3.scope", ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "");
	discover_parse_container("", ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "");
	discover_parse_container("/docker/0123456789abcdef0123", ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "0123456789abcdef0123");
	/* Too short to be an id, or too long for the buffer: none. */
	discover_parse_container("/system.slice/docker-abc.scope", ctr, sizeof(ctr));
	cr_assert_str_eq(ctr, "");
}

/* On the live /proc the unit is exactly libsystemd's answer for the pid (or
 * none where systemd does not manage this machine). */
Test(discover, live_unit_is_systemds)
{
	struct discover_proc d;
	char *u = NULL;

	cr_assert_eq(discover_read("/proc", getpid(), &d), 0);
	if (sd_pid_get_unit(getpid(), &u) >= 0)
		cr_assert_str_eq(d.unit, u);
	else
		cr_assert_str_eq(d.unit, "");
	free(u);
}

/* The stat line's comm is the process's own choice: parentheses, spaces, a
 * newline; a line cut after it has no field 22 (found by reading, now
 * fuzzed by fuzz_procstat). */
Test(discover, stat_line_comm_is_between_the_first_and_last_parenthesis)
{
	char comm[17];
	uint64_t start = 0;

	cr_assert_eq(discover_parse_stat("7 (a) b\n(c) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 123456 1",
					 comm, sizeof(comm), &start), 0);
	cr_assert_str_eq(comm, "a) b\n(c");
	cr_assert_eq(start, 123456);
	cr_assert_eq(discover_parse_stat("7 (0123456789abcdefXYZ) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 1",
					 comm, sizeof(comm), &start), 0);
	cr_assert_str_eq(comm, "0123456789abcdef");	/* cut to the buffer */
	cr_assert_eq(discover_parse_stat("7 (x)", comm, sizeof(comm), &start), -EINVAL);
	cr_assert_eq(discover_parse_stat("7 (x) S 1 2", comm, sizeof(comm), &start), -EINVAL);
	cr_assert_eq(discover_parse_stat("7 x) (y", comm, sizeof(comm), &start), -EINVAL);
	cr_assert_eq(discover_parse_stat("", comm, sizeof(comm), &start), -EINVAL);
}
