// SPDX-License-Identifier: MIT
/*
 * sites tests: survivors rank sites, churn never does; freed and replaced
 * samples; bounded tables; the memreader liveness check.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leakd/sites/sites.h"

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

	cr_assert_eq(sites_new(0, 0, &s), 0);
	stack(leak, 4, 11);
	stack(churn, 4, 42);
	/* 100 kept objects from line 11; 300 from line 42, all of them die:
	 * 200 freed during the window, 100 found dead at the check. */
	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(sites_sample(s, 0x10000000 + 64 * i, TYPE_A, leak, 4, false), 0);
	for (uint64_t i = 0; i < 300; i++) {
		cr_assert_eq(sites_sample(s, 0x20000000 + 64 * i, TYPE_A, churn, 4, false), 0);
		if (i < 200)
			sites_freed(s, 0x20000000 + 64 * i);
		else
			gone[i - 200] = 0x20000000 + 64 * i;
	}
	d.addrs = gone;
	d.n = 100;
	cr_assert_eq(sites_check(s, alive_unless_dead, &d), 100);
	cr_assert_eq(d.calls, 200, "freed samples are not asked about");
	n = sites_ranked(s, 0, out, 8);
	cr_assert_eq(n, 1, "the churn site is not reported");
	cr_assert_eq(out[0].type, TYPE_A);
	cr_assert_eq(out[0].frames[0].line, 11);
	cr_assert_eq(out[0].nframes, 4);
	cr_assert_eq(out[0].sampled, 100);
	cr_assert_eq(out[0].surviving, 100);
	sites_free(s);
}

Test(sites, ranked_by_survivors_then_sampled_and_filtered_by_type)
{
	struct sites *s;
	struct pystack_frame a[3], b[3], c[2];
	struct sites_site out[8];
	struct dead d = { 0 };
	uint64_t addr = 0x30000000;

	cr_assert_eq(sites_new(0, 0, &s), 0);
	stack(a, 3, 10);
	stack(b, 3, 20);
	stack(c, 2, 30);
	for (int i = 0; i < 5; i++)
		sites_sample(s, addr += 64, TYPE_A, a, 3, false);
	for (int i = 0; i < 9; i++)
		sites_sample(s, addr += 64, TYPE_A, b, 3, false);
	for (int i = 0; i < 7; i++)
		sites_sample(s, addr += 64, TYPE_B, c, 2, false);
	/* Same frames, cut by the walker: a different site. */
	sites_sample(s, addr += 64, TYPE_A, a, 3, true);
	cr_assert_eq(sites_check(s, alive_unless_dead, &d), 22);
	cr_assert_eq(sites_ranked(s, 0, out, 8), 4);
	cr_assert_eq(out[0].sampled, 9);
	cr_assert_eq(out[0].frames[0].line, 20);
	cr_assert_eq(out[1].type, TYPE_B);
	cr_assert_eq(out[2].frames[0].line, 10);
	cr_assert_not(out[2].truncated);
	cr_assert(out[3].truncated);
	cr_assert_eq(sites_ranked(s, TYPE_B, out, 8), 1);
	cr_assert_eq(out[0].nframes, 2);
	cr_assert_eq(sites_ranked(s, 0, out, 2), 2, "at most cap");
	sites_free(s);
}

Test(sites, a_reused_address_belongs_to_its_latest_sample)
{
	struct sites *s;
	struct pystack_frame a[2], b[2];
	struct sites_site out[4];
	struct dead d = { 0 };

	cr_assert_eq(sites_new(0, 0, &s), 0);
	stack(a, 2, 5);
	stack(b, 2, 6);
	cr_assert_eq(sites_sample(s, 0x40000000, TYPE_A, a, 2, false), 0);
	/* Freed unseen, the block made again elsewhere: the first object is gone. */
	cr_assert_eq(sites_sample(s, 0x40000000, TYPE_A, b, 2, false), 0);
	cr_assert_eq(sites_check(s, alive_unless_dead, &d), 1);
	cr_assert_eq(sites_ranked(s, 0, out, 4), 1);
	cr_assert_eq(out[0].frames[0].line, 6);
	sites_free(s);
}

Test(sites, bounded_tables_drop_and_count)
{
	struct sites *s;
	struct pystack_frame f[1];
	struct sites_stats st;

	cr_assert_eq(sites_new(4, 2, &s), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(sites_sample(s, 0x1000 + 64 * i, TYPE_A, f, stack(f, 1, 1 + (i & 1)), false), 0);
	cr_assert_eq(sites_sample(s, 0x9000, TYPE_A, f, stack(f, 1, 1), false), -ENOSPC, "samples full");
	cr_assert_eq(sites_sample(s, 0x1000, TYPE_A, f, stack(f, 1, 3), false), -ENOSPC, "sites full");
	sites_stats(s, &st);
	cr_assert_eq(st.samples, 4);
	cr_assert_eq(st.dropped, 2);
	cr_assert_eq(sites_sample(s, 0x1000, TYPE_A, f, LEAKD_MAX_PYFRAMES + 1, false), -EINVAL);
	cr_assert_eq(sites_sample(s, 0, TYPE_A, f, 1, false), -EINVAL);
	sites_free(s);
	sites_free(NULL);
}

static int gone_target(void *ctx, uint64_t addr, uint64_t type)
{
	return -ESRCH;
}

Test(sites, a_vanished_target_stops_the_check)
{
	struct sites *s;
	struct pystack_frame f[1];

	cr_assert_eq(sites_new(0, 0, &s), 0);
	sites_sample(s, 0x1000, TYPE_A, f, stack(f, 1, 1), false);
	cr_assert_eq(sites_check(s, gone_target, NULL), -ESRCH);
	sites_free(s);
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

/* The live blocks' types, as the live table would give them: by address range. */
static uint64_t type_by_range(void *ctx, uint64_t addr)
{
	(void)ctx;
	return addr < 0x200000000ull ? TYPE_A : addr < 0x300000000ull ? TYPE_B : 0;
}

Test(sites, byte_samples_group_by_type_and_stack_weighted_by_their_odds)
{
	struct pystack_frame f1[3], f2[3];
	struct sites_live rows[8];
	struct sites *s;
	double p = -expm1(-1000.0 / 4096.0);	/* a 1000-byte block's odds at a 4 KiB mean */
	long n;

	cr_assert_eq(sites_new(0, 0, &s), 0);
	stack(f1, 3, 11);
	stack(f2, 3, 22);
	for (uint64_t i = 0; i < 10; i++)
		cr_assert_eq(sites_sample_bytes(s, 0x100000000ull + 4096 * i, 1000, f1, 3, false), 0);
	for (uint64_t i = 0; i < 5; i++)
		cr_assert_eq(sites_sample_bytes(s, 0x200000000ull + 4096 * i, 1000, f2, 3, false), 0);
	for (uint64_t i = 0; i < 3; i++)
		sites_freed(s, 0x200000000ull + 4096 * i);
	/* untyped yet: left out; typed samples are not byte samples */
	cr_assert_eq(sites_sample_bytes(s, 0x300000000ull, 1000, f2, 3, false), 0);
	cr_assert_eq(sites_sample(s, 0x100000000ull + 4096 * 20, TYPE_A, f1, 3, false), 0);
	cr_assert_eq(sites_sample_bytes(s, 0x400000000ull, 0, f1, 3, false), -EINVAL);

	n = sites_live_by_type(s, 4096, type_by_range, NULL, rows, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(rows[0].type, TYPE_A);
	cr_assert_eq(rows[0].site->frames[0].line, 11);
	cr_assert_eq(rows[0].samples, 10);
	cr_assert_float_eq(rows[0].objects, 10 / p, 1e-6);
	cr_assert_float_eq(rows[0].bytes, 10 * 1000 / p, 1e-3);
	cr_assert_eq(rows[1].type, TYPE_B);
	cr_assert_eq(rows[1].site->frames[0].line, 22);
	cr_assert_eq(rows[1].samples, 2);
	cr_assert_eq(sites_live_by_type(s, 4096, type_by_range, NULL, rows, 1), 1);
	cr_assert_eq(sites_live_by_type(s, 0, type_by_range, NULL, rows, 8), -EINVAL);
	sites_free(s);
}

/* The sampler as the BPF program runs it: a countdown of bytes, drawn anew
 * from an exponential at each sample (here a continuous one, xorshift). */
static uint64_t rng_state = 88172645463325252ull;

static double unit_exp(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return -log(((double)(rng_state >> 11) + 0.5) / 9007199254740992.0);
}

Test(sites, byte_samples_estimate_the_live_bytes_of_each_stack)
{
	const uint64_t mean = 16 * 1024, sizes[] = { 48, 900, 4000 };
	double truth[3] = { 0 }, left = unit_exp() * mean;
	struct pystack_frame f[3][2];
	struct sites_live rows[8];
	struct sites *s;
	long n;

	cr_assert_eq(sites_new(1u << 20, 0, &s), 0);
	for (int k = 0; k < 3; k++)
		stack(f[k], 2, 10 + k);
	/* 3 stacks allocate blocks of their own size; one block in three stays */
	for (uint64_t i = 0; i < 3000000; i++) {
		int k = (int)(i % 3);
		uint64_t addr = 0x100000000ull + 32 * i;
		bool stays = (i / 3) % 3 == 0;

		left -= (double)sizes[k];
		if (left < 0) {
			left = unit_exp() * mean;
			cr_assert_eq(sites_sample_bytes(s, addr, sizes[k], f[k], 2, false), 0);
		}
		if (stays)
			truth[k] += (double)sizes[k];
		else
			sites_freed(s, addr);
	}
	n = sites_live_by_type(s, mean, type_by_range, NULL, rows, 8);
	cr_assert_eq(n, 3);
	for (long r = 0; r < n; r++) {
		int k = rows[r].site->frames[0].line - 10;

		/* ~1,000 live samples of the smallest: within 10% (3 sigma) of what stayed */
		cr_assert(fabs(rows[r].bytes - truth[k]) < 0.1 * truth[k], "stack %d: estimated %.0f, kept %.0f",
			  k, rows[r].bytes, truth[k]);
	}
	sites_free(s);
}

Test(sites, a_full_table_makes_room_from_the_samples_that_are_gone)
{
	struct pystack_frame f[2];
	struct sites_live rows[4];
	struct sites *s;

	cr_assert_eq(sites_new(8, 0, &s), 0);
	stack(f, 2, 11);
	for (uint64_t i = 0; i < 8; i++)
		cr_assert_eq(sites_sample_bytes(s, 0x100000000ull + 64 * i, 100, f, 2, false), 0);
	/* full of live samples: a new one is dropped */
	cr_assert_eq(sites_sample_bytes(s, 0x100001000ull, 100, f, 2, false), -ENOSPC);
	/* six are freed: their room takes new samples, the two live ones stay */
	for (uint64_t i = 0; i < 6; i++)
		sites_freed(s, 0x100000000ull + 64 * i);
	for (uint64_t i = 0; i < 6; i++)
		cr_assert_eq(sites_sample_bytes(s, 0x100002000ull + 64 * i, 100, f, 2, false), 0, "sample %llu",
			     (unsigned long long)i);
	cr_assert_eq(sites_sample_bytes(s, 0x100003000ull, 100, f, 2, false), -ENOSPC);
	cr_assert_eq(sites_live_by_type(s, 4096, type_by_range, NULL, rows, 4), 1);
	cr_assert_eq(rows[0].samples, 8);
	sites_free(s);
}
