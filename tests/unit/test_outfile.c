/* SPDX-License-Identifier: MIT */
/*
 * Tests for outfile: FILE is replaced whole at commit or left as it was, a
 * symlink to FILE stays a link, devices are written in place, and write
 * errors come back as the errno that caused them.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/output/outfile.h"

static char dir[] = "/tmp/leakd-outfile-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(outfile, .init = setup, .fini = teardown);

static char *path_in(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static char *get(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

Test(outfile, previous_content_survives_until_commit)
{
	struct outfile o;
	char *p = strdup(path_in("prev.jsonl"));

	put(p, "old\n");
	cr_assert_eq(outfile_open(p, &o), 0);
	fputs("new\n", o.f);
	fflush(o.f);
	cr_assert_str_eq(get(p), "old\n");
	cr_assert_eq(entries(), 2, "the temporary file sits next to FILE");
	cr_assert_eq(outfile_commit(&o), 0);
	cr_assert_str_eq(get(p), "new\n");
	cr_assert_eq(entries(), 1);
	free(p);
}

Test(outfile, abort_leaves_the_previous_file)
{
	struct outfile o;
	char *p = strdup(path_in("prev.jsonl"));

	put(p, "old\n");
	cr_assert_eq(outfile_open(p, &o), 0);
	fputs("partial", o.f);
	outfile_abort(&o);
	cr_assert_str_eq(get(p), "old\n");
	cr_assert_eq(entries(), 1);
	free(p);
}

Test(outfile, new_file_gets_the_mode_fopen_would_give)
{
	struct outfile o;
	struct stat st;
	char *p = strdup(path_in("new.jsonl"));
	mode_t mask = umask(022);

	cr_assert_eq(outfile_open(p, &o), 0);
	cr_assert_eq(outfile_commit(&o), 0);
	umask(mask);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	free(p);
}

Test(outfile, a_symlink_to_the_file_stays_a_link)
{
	struct outfile o;
	struct stat st;
	char *target = strdup(path_in("real.jsonl")), *link = strdup(path_in("link.jsonl"));

	put(target, "old\n");
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(outfile_open(link, &o), 0);
	fputs("new\n", o.f);
	cr_assert_eq(outfile_commit(&o), 0);
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_str_eq(get(target), "new\n");
	free(target);
	free(link);
}

Test(outfile, a_device_is_written_in_place_and_its_error_returned)
{
	struct outfile o;
	struct stat st;

	if (stat("/dev/full", &st) || !S_ISCHR(st.st_mode))
		cr_skip_test("/dev/full is not available");
	cr_assert_eq(outfile_open("/dev/full", &o), 0);
	cr_assert_null(o.tmp, "a temporary file next to a device would replace the device");
	fputs("x\n", o.f);
	cr_assert_eq(outfile_commit(&o), -ENOSPC);
	cr_assert_eq(stat("/dev/full", &st), 0);
	cr_assert(S_ISCHR(st.st_mode));
}

Test(outfile, unwritable_directory_fails_at_open)
{
	struct outfile o = { .f = (FILE *)1 };

	cr_assert_eq(outfile_open(path_in("no/such/dir/x.jsonl"), &o), -ENOENT);
	cr_assert_eq(o.f, (FILE *)1, "*out untouched on failure");
}
