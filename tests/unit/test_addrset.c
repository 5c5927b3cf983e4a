// SPDX-License-Identifier: MIT
/* addrset tests: membership against a reference, memory bound, bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "leakd/base/addrset.h"

Test(addrset, adds_once_and_answers_membership_across_chunks)
{
	struct addrset *s;
	/* neighbours, chunk edges, far-apart chunks, the top of the range */
	const uint64_t in[] = { 0x10000, 0x10008, 0xfffff8, 0x100000, 0x7f0000000000, 0xfffffffffff8 };

	cr_assert_eq(addrset_new(0, &s), 0);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		cr_assert_eq(addrset_add(s, in[i]), 1, "first add of %#lx", (unsigned long)in[i]);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		cr_assert_eq(addrset_add(s, in[i]), 0);
		cr_assert(addrset_has(s, in[i]));
	}
	cr_assert_not(addrset_has(s, 0x10010));
	cr_assert_not(addrset_has(s, 0x100008));
	cr_assert_not(addrset_has(s, 0x200000));
	cr_assert_eq(addrset_count(s), sizeof(in) / sizeof(in[0]));
	addrset_free(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t u = *(const uint64_t *)a, v = *(const uint64_t *)b;

	return (u > v) - (u < v);
}

Test(addrset, agrees_with_a_sorted_reference_on_random_addresses)
{
	enum { N = 200000 };
	uint64_t *ref = calloc(N, 8);
	struct addrset *s;
	uint64_t x = 88172645463325252ull, fresh = 0;

	cr_assert_eq(addrset_new(0, &s), 0);
	for (int i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* a 64 MiB window so that many collide */
		ref[i] = 0x7f0000000000ull + ((x % (64u << 20)) & ~7ull);
		int r = addrset_add(s, ref[i]);

		cr_assert(r == 0 || r == 1);
		fresh += (uint64_t)r;
	}
	/* every address added is a member, and the count is the distinct count */
	qsort(ref, N, 8, cmp_u64);
	uint64_t distinct = 0;
	for (int i = 0; i < N; i++) {
		cr_assert(addrset_has(s, ref[i]));
		distinct += i == 0 || ref[i] != ref[i - 1];
	}
	cr_assert_eq(distinct, fresh);
	cr_assert_eq(addrset_count(s), distinct);
	/* 64 chunks of 16 KiB plus the table */
	cr_assert_lt(addrset_bytes(s), 2u << 20);
	addrset_free(s);
	free(ref);
}

Test(addrset, refuses_misaligned_and_out_of_range_addresses)
{
	struct addrset *s;

	cr_assert_eq(addrset_new(0, &s), 0);
	cr_assert_eq(addrset_add(s, 0x10004), -EINVAL);
	cr_assert_eq(addrset_add(s, 1ull << 48), -EINVAL);
	cr_assert_not(addrset_has(s, 0x10004));
	addrset_free(s);
}

Test(addrset, stops_at_its_memory_bound_without_losing_members)
{
	struct addrset *s;
	int r = 0;
	uint64_t a;

	cr_assert_eq(addrset_new(256u << 10, &s), 0);	/* room for ~14 chunks */
	for (a = 0x100000; a < (1ull << 40); a += 1u << 20) {
		r = addrset_add(s, a);
		if (r < 0)
			break;
	}
	cr_assert_eq(r, -ENOSPC);
	cr_assert_leq(addrset_bytes(s), 256u << 10);
	for (uint64_t b = 0x100000; b < a; b += 1u << 20)
		cr_assert(addrset_has(s, b));
	cr_assert_not(addrset_has(s, a));
	addrset_free(s);
}
