// SPDX-License-Identifier: MIT
/* grow tests: doubling from the first size, the bound, and the full answer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "leakd/base/grow.h"

Test(grow, doubles_from_first_and_stops_at_max)
{
	uint32_t *a = NULL;
	size_t cap = 0, n = 0, caps[8], ncaps = 0;
	int r;

	/* 10 elements at most, starting with 4: capacities 4, 8, 10 */
	while ((r = grow_room((void **)&a, n, &cap, sizeof(*a), 4, 10)) == 0) {
		if (!ncaps || caps[ncaps - 1] != cap)
			caps[ncaps++] = cap;
		a[n] = (uint32_t)n;
		n++;
		cr_assert_leq(n, 10);
	}
	cr_assert_eq(r, 1, "full at max");
	cr_assert_eq(n, 10);
	cr_assert_eq(cap, 10);
	cr_assert_eq(ncaps, 3);
	cr_assert_eq(caps[0], 4);
	cr_assert_eq(caps[1], 8);
	cr_assert_eq(caps[2], 10);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(a[i], i, "kept across reallocs");
	/* full stays full, and leaves the array alone */
	cr_assert_eq(grow_room((void **)&a, n, &cap, sizeof(*a), 4, 10), 1);
	cr_assert_eq(cap, 10);
	free(a);
}

Test(grow, room_left_changes_nothing)
{
	uint64_t *a = malloc(8 * sizeof(*a)), *before = a;
	size_t cap = 8;

	cr_assert_not_null(a);
	cr_assert_eq(grow_room((void **)&a, 3, &cap, sizeof(*a), 4, 100), 0);
	cr_assert_eq(a, before);
	cr_assert_eq(cap, 8);
	free(a);
}

Test(grow, zero_max_is_full_at_once)
{
	void *a = NULL;
	size_t cap = 0;

	cr_assert_eq(grow_room(&a, 0, &cap, 8, 4096, 0), 1);
	cr_assert_null(a);
	cr_assert_eq(cap, 0);
}

Test(grow, an_impossible_size_is_enomem_and_changes_nothing)
{
	void *a = NULL;
	size_t cap = 0;

	cr_assert_eq(grow_room(&a, 0, &cap, SIZE_MAX / 2, 4, 100), -ENOMEM);
	cr_assert_null(a);
	cr_assert_eq(cap, 0);
}
