// SPDX-License-Identifier: MIT
/*
 * The census over memory images read from real processes (one per
 * interpreter, NAME.img in tests/fuzz/corpus/census/, written with their
 * expected counts in tests/fixtures/census_images/NAME.expect by
 * tests/fuzz/make_census_seeds.sh),
 * and over every input fuzz_census ever crashed on (kept next to them, with
 * no .expect): the same memimage_census() the fuzz target runs.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/memimage.h"
#include "golden.h"

static int census_file(const char *path, char **counts, const char **violation)
{
	char *data = golden_read_all(path);
	size_t dlen = 0, clen = 0;
	FILE *m = open_memstream(counts, &clen);
	FILE *f = fopen(path, "rb");
	int r;

	cr_assert(data && m && f, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	dlen = (size_t)ftell(f);
	fclose(f);
	r = memimage_census((const uint8_t *)data, dlen, m, violation);
	fclose(m);
	free(data);
	return r;
}

Test(census_images, each_real_image_gives_the_census_of_its_process_and_every_input_holds)
{
	char dir[1024], path[2048], expect[2048];
	struct dirent *de;
	int images = 0, expected = 0;
	DIR *d;

	d = golden_census_images(dir, sizeof(dir));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		const char *violation = NULL;
		char *counts = NULL;
		FILE *e;
		int r;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = census_file(path, &counts, &violation);
		cr_expect_geq(r, 0, "%s: %s", de->d_name, violation ? violation : "");
		images++;
		/* a real image: exactly the counts its live process gave */
		snprintf(expect, sizeof(expect), "%s/census_images/%.*s.expect", golden_root(),
			 (int)(n > 4 ? n - 4 : n), de->d_name);
		e = n > 4 && !strcmp(de->d_name + n - 4, ".img") ? fopen(expect, "r") : NULL;
		if (e) {
			fclose(e);
			cr_expect_eq(r, 1, "%s: not censused", de->d_name);
			golden_assert("census_images", strrchr(expect, '/') + 1, counts);
			expected++;
		}
		free(counts);
	}
	closedir(d);
	cr_assert_gt(expected, 0, "no image in %s has an .expect", dir);
	cr_log_info("%d images, %d with expected counts", images, expected);
}
