// SPDX-License-Identifier: MIT
/*
 * Tests for procfilter: the daemon's include/exclude filters, parsed from
 * config text as the daemon does, applied to comm, exe, unit and cgroup.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "leakd/app/config.h"
#include "leakd/process/procfilter.h"
#include "leakd/process/procmaps.h"

static char err[512];

static int parse_str(struct leakd_opts *c, const char *text)
{
	return config_parse(text, strlen(text), "test.conf", c, err, sizeof(err));
}

Test(procfilter, no_filters_match_everything)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert(procfilter_match(&c.filter, "python3", "/usr/bin/python3.11", "web.service", "/system.slice/web.service"));
	cr_assert(procfilter_match(&c.filter, NULL, NULL, NULL, NULL));
	options_free(&c);
}

Test(procfilter, comm_globs_include_and_exclude)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "include_comm = python*\ninclude_comm = gunicorn\nexclude_comm = python*-dbg\n"), 0);
	cr_assert(procfilter_match(&c.filter, "python3.11", NULL, NULL, NULL));
	cr_assert(procfilter_match(&c.filter, "gunicorn", NULL, NULL, NULL));
	cr_assert_not(procfilter_match(&c.filter, "gunicorn2", NULL, NULL, NULL), "no glob, exact");
	cr_assert_not(procfilter_match(&c.filter, "uwsgi", NULL, NULL, NULL));
	cr_assert_not(procfilter_match(&c.filter, "python3.11-dbg", NULL, NULL, NULL), "exclude beats include");
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, NULL, NULL), "unknown comm fails an include");
	options_free(&c);
}

Test(procfilter, exclude_alone_keeps_the_rest)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "exclude_unit = user@*.service\nexclude_cgroup = /user.slice\n"), 0);
	cr_assert(procfilter_match(&c.filter, "python3", "/usr/bin/python3", "web.service", "/system.slice/web.service"));
	cr_assert_not(procfilter_match(&c.filter, "python3", "/usr/bin/python3", "user@0.service",
				   "/user.slice/user-0.slice/user@0.service/app.slice"));
	cr_assert_not(procfilter_match(&c.filter, "python3", NULL, "", "/user.slice/user-0.slice/session-3.scope"));
	cr_assert(procfilter_match(&c.filter, "python3", NULL, NULL, NULL), "unknown unit/cgroup is never excluded");
	options_free(&c);
}

Test(procfilter, exe_glob_crosses_slashes_and_ignores_deleted)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "include_exe = /opt/*/python3*\ninclude_exe = /usr/bin/python3.11\n"), 0);
	cr_assert(procfilter_match(&c.filter, "x", "/opt/app/venv/bin/python3.12", NULL, NULL));
	cr_assert(procfilter_match(&c.filter, "x", "/usr/bin/python3.11", NULL, NULL));
	cr_assert(procfilter_match(&c.filter, "x", "/usr/bin/python3.11 (deleted)", NULL, NULL), "upgraded under it");
	cr_assert_not(procfilter_match(&c.filter, "x", "/usr/bin/python3.12", NULL, NULL));
	cr_assert_not(procfilter_match(&c.filter, "x", "", NULL, NULL));
	options_free(&c);
}

Test(procfilter, unit_globs)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "include_unit = web-*.service\nexclude_unit = web-canary.service\n"), 0);
	cr_assert(procfilter_match(&c.filter, NULL, NULL, "web-api.service", NULL));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, "web-canary.service", NULL));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, "worker.service", NULL));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, "", NULL), "no unit fails an include");
	options_free(&c);
}

Test(procfilter, cgroup_prefix_is_by_whole_component)
{
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "include_cgroup = /system.slice/\nexclude_cgroup = /system.slice/cron.service\n"), 0);
	cr_assert(procfilter_match(&c.filter, NULL, NULL, NULL, "/system.slice"));
	cr_assert(procfilter_match(&c.filter, NULL, NULL, NULL, "/system.slice/web.service"));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, NULL, "/system.slice2/web.service"));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, NULL, "/system.slice/cron.service"));
	cr_assert(procfilter_match(&c.filter, NULL, NULL, NULL, "/system.slice/cron.service2"));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, NULL, "/user.slice/x.scope"));
	cr_assert_not(procfilter_match(&c.filter, NULL, NULL, NULL, ""));
	cr_assert_eq(parse_str(&c, "include_cgroup =\ninclude_cgroup = /\n"), 0);
	cr_assert(procfilter_match(&c.filter, NULL, NULL, NULL, "/user.slice/x.scope"), "'/' covers every cgroup");
	options_free(&c);
}

Test(procfilter, kinds_combine_with_and)
{
	/* includes of different kinds all have to hold: "python in a web unit" */
	struct leakd_opts c;

	options_defaults(&c);
	cr_assert_eq(parse_str(&c, "include_comm = python*\ninclude_unit = web-*.service\n"), 0);
	cr_assert(procfilter_match(&c.filter, "python3", NULL, "web-a.service", NULL));
	cr_assert_not(procfilter_match(&c.filter, "python3", NULL, "batch.service", NULL));
	cr_assert_not(procfilter_match(&c.filter, "uwsgi", NULL, "web-a.service", NULL));
	options_free(&c);
}

Test(procfilter, undeleted_len_strips_only_a_real_suffix)
{
	cr_assert_eq(procmaps_undeleted_len("/usr/bin/python3.11 (deleted)"), strlen("/usr/bin/python3.11"));
	cr_assert_eq(procmaps_undeleted_len("/usr/bin/python3.11"), strlen("/usr/bin/python3.11"));
	cr_assert_eq(procmaps_undeleted_len(" (deleted)"), strlen(" (deleted)"), "nothing but the suffix");
	cr_assert_eq(procmaps_undeleted_len("/x (deleted) "), strlen("/x (deleted) "), "not at the end");
	cr_assert_eq(procmaps_undeleted_len(""), 0);
}
