// SPDX-License-Identifier: MIT
/*
 * sites tests: survivors rank sites, churn never does; freed and replaced
 * samples; bounded tables; the memreader liveness check.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/sites.h"

#define TYPE_A 0x7f0000010000ull
#define TYPE_B 0x7f0000020000ull

/* A stack of n frames whose innermost line is `line` (code objects 0x1000 apart). */
static size_t stack(struct pystack_frame *f, size_t n, int line)
{
	memset(f, 0, n * sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		f[i].code = 0x7f0000100000ull + 0x1000ull * i;
		f[i].line = i ? 100 + (int)i : line;
		snprintf(f[i].qualname, sizeof(f[i].qualname), "fn%zu", i);
		snprintf(f[i].filename, sizeof(f[i].filename), "app/bus.py");
	}
	return n;
}

/* Liveness from a list of addresses that are gone. */
struct dead {
	const uint64_t *addrs;
	size_t n;
	int calls;
};

static int alive_unless_dead(void *ctx, uint64_t addr, uint64_t type)
{
	struct dead *d = ctx;

	d->calls++;
	for (size_t i = 0; i < d->n; i++)
		if (d->addrs[i] == addr)
			return 0;
	return 1;
}

Test(sites, survivors_rank_and_churn_is_never_a_site)
{
	struct sites *s;
	struct pystack_frame leak[4], churn[4];
	struct sites_site out[8];
	struct dead d = { 0 };
	uint64_t gone[300];
	size_t n;

	cr_assert_eq(sites__new(0, 0, &s), 0);
	stack(leak, 4, 11);
	stack(churn, 4, 42);
	/* 100 kept objects from line 11; 300 from line 42, all of them die:
	 * 200 freed during the window, 100 found dead at the check. */
	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(sites__sample(s, 0x10000000 + 64 * i, TYPE_A, leak, 4, false), 0);
	for (uint64_t i = 0; i < 300; i++) {
		cr_assert_eq(sites__sample(s, 0x20000000 + 64 * i, TYPE_A, churn, 4, false), 0);
		if (i < 200)
			sites__freed(s, 0x20000000 + 64 * i);
		else
			gone[i - 200] = 0x20000000 + 64 * i;
	}
	d.addrs = gone;
	d.n = 100;
	cr_assert_eq(sites__check(s, alive_unless_dead, &d), 100);
	cr_assert_eq(d.calls, 200, "freed samples are not asked about");
	n = sites__ranked(s, 0, out, 8);
	cr_assert_eq(n, 1, "the churn site is not reported");
	cr_assert_eq(out[0].type, TYPE_A);
	cr_assert_eq(out[0].frames[0].line, 11);
	cr_assert_eq(out[0].nframes, 4);
	cr_assert_eq(out[0].sampled, 100);
	cr_assert_eq(out[0].surviving, 100);
	sites__free(s);
}

Test(sites, ranked_by_survivors_then_sampled_and_filtered_by_type)
{
	struct sites *s;
	struct pystack_frame a[3], b[3], c[2];
	struct sites_site out[8];
	struct dead d = { 0 };
	uint64_t addr = 0x30000000;

	cr_assert_eq(sites__new(0, 0, &s), 0);
	stack(a, 3, 10);
	stack(b, 3, 20);
	stack(c, 2, 30);
	for (int i = 0; i < 5; i++)
		sites__sample(s, addr += 64, TYPE_A, a, 3, false);
	for (int i = 0; i < 9; i++)
		sites__sample(s, addr += 64, TYPE_A, b, 3, false);
	for (int i = 0; i < 7; i++)
		sites__sample(s, addr += 64, TYPE_B, c, 2, false);
	/* Same frames, cut by the walker: a different site. */
	sites__sample(s, addr += 64, TYPE_A, a, 3, true);
	cr_assert_eq(sites__check(s, alive_unless_dead, &d), 22);
	cr_assert_eq(sites__ranked(s, 0, out, 8), 4);
	cr_assert_eq(out[0].sampled, 9);
	cr_assert_eq(out[0].frames[0].line, 20);
	cr_assert_eq(out[1].type, TYPE_B);
	cr_assert_eq(out[2].frames[0].line, 10);
	cr_assert_not(out[2].truncated);
	cr_assert(out[3].truncated);
	cr_assert_eq(sites__ranked(s, TYPE_B, out, 8), 1);
	cr_assert_eq(out[0].nframes, 2);
	cr_assert_eq(sites__ranked(s, 0, out, 2), 2, "at most cap");
	sites__free(s);
}

Test(sites, a_reused_address_belongs_to_its_latest_sample)
{
	struct sites *s;
	struct pystack_frame a[2], b[2];
	struct sites_site out[4];
	struct dead d = { 0 };

	cr_assert_eq(sites__new(0, 0, &s), 0);
	stack(a, 2, 5);
	stack(b, 2, 6);
	cr_assert_eq(sites__sample(s, 0x40000000, TYPE_A, a, 2, false), 0);
	/* Freed unseen, the block made again elsewhere: the first object is gone. */
	cr_assert_eq(sites__sample(s, 0x40000000, TYPE_A, b, 2, false), 0);
	cr_assert_eq(sites__check(s, alive_unless_dead, &d), 1);
	cr_assert_eq(sites__ranked(s, 0, out, 4), 1);
	cr_assert_eq(out[0].frames[0].line, 6);
	sites__free(s);
}

Test(sites, bounded_tables_drop_and_count)
{
	struct sites *s;
	struct pystack_frame f[1];
	struct sites_stats st;

	cr_assert_eq(sites__new(4, 2, &s), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(sites__sample(s, 0x1000 + 64 * i, TYPE_A, f, stack(f, 1, 1 + (i & 1)), false), 0);
	cr_assert_eq(sites__sample(s, 0x9000, TYPE_A, f, stack(f, 1, 1), false), -ENOSPC, "samples full");
	cr_assert_eq(sites__sample(s, 0x1000, TYPE_A, f, stack(f, 1, 3), false), -ENOSPC, "sites full");
	sites__stats(s, &st);
	cr_assert_eq(st.samples, 4);
	cr_assert_eq(st.dropped, 2);
	cr_assert_eq(sites__sample(s, 0x1000, TYPE_A, f, LEAKD_MAX_PYFRAMES + 1, false), -EINVAL);
	cr_assert_eq(sites__sample(s, 0, TYPE_A, f, 1, false), -EINVAL);
	sites__free(s);
	sites__free(NULL);
}

static int gone_target(void *ctx, uint64_t addr, uint64_t type)
{
	return -ESRCH;
}

Test(sites, a_vanished_target_stops_the_check)
{
	struct sites *s;
	struct pystack_frame f[1];

	cr_assert_eq(sites__new(0, 0, &s), 0);
	sites__sample(s, 0x1000, TYPE_A, f, stack(f, 1, 1), false);
	cr_assert_eq(sites__check(s, gone_target, NULL), -ESRCH);
	sites__free(s);
}

/* A 64-byte window of target memory at 0x5000. */
static uint8_t mem[64];

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	if (addr < 0x5000 || addr + len > 0x5000 + sizeof(mem))
		return -EFAULT;
	memcpy(buf, mem + (addr - 0x5000), len);
	return 0;
}

Test(sites, alive_reads_refcount_and_type)
{
	struct memreader m = { .read = mem_read };
	struct pylayout l;
	uint64_t rc = 3, type = TYPE_A, flags314 = 0x0001000000000000ull;

	cr_assert_eq(pylayout_for_version(3, 14, 10, &l), 0);
	memcpy(mem, &rc, 8);
	memcpy(mem + l.ob_type, &type, 8);
	cr_assert_eq(sites_alive(&m, &l, 0x5000, TYPE_A), 1);
	cr_assert_eq(sites_alive(&m, &l, 0x5000, TYPE_B), 0, "another type lives there now");
	memcpy(mem, &flags314, 8);	/* refcount 0, 3.14 flags in the upper half */
	cr_assert_eq(sites_alive(&m, &l, 0x5000, TYPE_A), 0);
	cr_assert_eq(sites_alive(&m, &l, 0x9000, TYPE_A), 0, "unmapped: gone");
}
