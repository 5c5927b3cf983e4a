/* SPDX-License-Identifier: MIT */
/*
 * Golden-file comparison for the writers' unit tests: the expected text lives
 * in tests/fixtures/<dir>/<name>; LEAKD_UPDATE_GOLDEN=1 rewrites it from the
 * output (review the diff before committing it).
 */
#ifndef LEAKD_TEST_GOLDEN_H
#define LEAKD_TEST_GOLDEN_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

/* The fixtures' root: LEAKD_FIXTURES, else tests/fixtures (from the repository). */
static inline const char *golden_root(void)
{
	const char *root = getenv("LEAKD_FIXTURES");

	return root && *root ? root : "tests/fixtures";
}

/* The real-process census images (tests/fuzz/make_census_seeds.sh), opened;
 * their directory into dir. */
static inline DIR *golden_census_images(char *dir, size_t len)
{
	DIR *d;

	snprintf(dir, len, "%s/../fuzz/corpus/census", golden_root());
	d = opendir(dir);
	cr_assert(d, "no %s", dir);
	return d;
}

static inline char *golden_read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static inline void golden_assert(const char *dir, const char *name, const char *got)
{
	char path[1024];
	char *want;

	snprintf(path, sizeof(path), "%s/%s/%s", golden_root(), dir, name);
	if (getenv("LEAKD_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		cr_assert_not_null(f, "cannot write %s", path);
		fputs(got, f);
		fclose(f);
	}
	want = golden_read_all(path);
	cr_assert_not_null(want, "missing golden file %s", path);
	cr_assert_str_eq(got, want, "%s differs:\n--- got ---\n%s--- want ---\n%s", name, got, want);
	free(want);
}

#endif
