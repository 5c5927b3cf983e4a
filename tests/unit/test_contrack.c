// SPDX-License-Identifier: MIT
/* contrack tests: containers matched across censuses by address and type. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "leakd/verdict/contrack.h"

static int namer(void *ctx, uint64_t type, char *buf, size_t len)
{
	(void)ctx;
	return type == 0xdead ? -1 : snprintf(buf, len, "type%llx", (unsigned long long)type);
}

static struct heapwalk_container box(uint64_t addr, uint64_t type, uint64_t items, uint64_t held)
{
	return (struct heapwalk_container){ .addr = addr, .type = type, .items = items,
					    .held_type = { held }, .held_count = { items } };
}

Test(contrack, a_list_that_keeps_growing_is_named_with_its_rate_and_what_it_holds)
{
	static struct contrack ct;
	struct heapwalk_container c[2];
	struct verdict_container g[4];

	c[0] = box(0x1000, 0xa, 1000, 0xb);
	c[1] = box(0x2000, 0xc, 500, 0xb);
	contrack_update(&ct, c, 2, 10.0, namer, NULL);
	cr_assert_eq(contrack_growing(&ct, g, 4), 0, "one census says nothing");
	c[0].items = 21000;	/* +1,000 items/s over 20 s */
	c[1].items = 500;	/* a plateau */
	contrack_update(&ct, c, 2, 30.0, namer, NULL);
	cr_assert_eq(contrack_growing(&ct, g, 4), 1);
	cr_assert_str_eq(g[0].type, "typea");
	cr_assert_float_eq(g[0].items_per_s, 1000, 1e-9);
	cr_assert_str_eq(g[0].held[0], "typeb");
	cr_assert_null(g[0].held[1]);
}

Test(contrack, a_reused_address_starts_over_and_unnamed_types_say_so)
{
	static struct contrack ct;
	struct heapwalk_container c[1] = { box(0x1000, 0xa, 100, 0) };
	struct verdict_container g[2];

	contrack_update(&ct, c, 1, 1.0, namer, NULL);
	c[0] = box(0x1000, 0xdead, 5000, 0);	/* freed, and a dict now lives there */
	contrack_update(&ct, c, 1, 2.0, namer, NULL);
	cr_assert_eq(contrack_growing(&ct, g, 2), 0, "not the same container");
	c[0].items = 6000;
	contrack_update(&ct, c, 1, 4.0, namer, NULL);
	cr_assert_eq(contrack_growing(&ct, g, 2), 1);
	cr_assert_str_eq(g[0].type, "(container)");
	cr_assert_float_eq(g[0].items_per_s, 500, 1e-9);
}

Test(contrack, slots_are_bounded_and_recycled)
{
	static struct contrack ct;
	struct heapwalk_container c[HEAPWALK_TOP_CONTAINERS];

	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < HEAPWALK_TOP_CONTAINERS; i++)
			c[i] = box(0x10000 * (uint64_t)(round * 100 + i + 1), 0xa, 100, 0);
		contrack_update(&ct, c, HEAPWALK_TOP_CONTAINERS, round, namer, NULL);
		cr_assert_leq(ct.n, CONTRACK_SLOTS);
	}
	size_t now = 0;
	for (size_t i = 0; i < ct.n; i++)
		now += ct.e[i].seen_now;
	cr_assert_eq(now, HEAPWALK_TOP_CONTAINERS, "every container of the latest census has a slot");
}
