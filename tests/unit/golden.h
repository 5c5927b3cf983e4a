/* SPDX-License-Identifier: MIT */
/*
 * Golden-file comparison for the writers' unit tests: the expected text lives
 * in tests/fixtures/<dir>/<name>; LEAKD_UPDATE_GOLDEN=1 rewrites it from the
 * output (review the diff before committing it).
 */
#ifndef LEAKD_TEST_GOLDEN_H
#define LEAKD_TEST_GOLDEN_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

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
	const char *root = getenv("LEAKD_FIXTURES");
	char path[1024];
	char *want;

	snprintf(path, sizeof(path), "%s/%s/%s", root && *root ? root : "tests/fixtures", dir, name);
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
