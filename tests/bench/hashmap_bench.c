// SPDX-License-Identifier: MIT
/*
 * hashmap_bench: what base/hashmap costs on trace mode's hot path, against
 * the table agg kept before it (copied here as the baseline) and uthash.
 *
 * The pattern is agg's live table: 16-aligned addresses scattered over a
 * heap, an entry of address + four 64-bit fields. Four phases, each timed
 * alone: insert N addresses into an empty table (it grows), look each up in
 * another order, delete them in a third order, then churn: N alloc/free
 * pairs around a steady live set of N/4 (what a Python process does between
 * collections). Each table runs ROUNDS times, interleaved with the others;
 * prints the best ns per operation of each phase (CPU time, so a busy
 * machine's descheduling does not count), one line per table.
 *
 *   build/hashmap_bench [N [TABLE]]   N (a power of two) defaults to 4194304;
 *                                     TABLE (a name it prints) runs one alone
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "leakd/base/hashmap.h"

struct entry {
	uint64_t addr;
	uint64_t size, birth_ns, birth_epoch, type;
};

static double now_ns(void)
{
	struct timespec ts;

	/* CPU time of this thread: on a shared machine, time spent descheduled
	 * would otherwise swamp the differences measured */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The i-th of 2^26 distinct 16-aligned addresses in a scrambled order:
 * multiplying by an odd number and xoring in the high bits are each a
 * permutation mod 2^26, so no two i collide, and the result looks random
 * (a plain i * odd would be a lattice, which no hash spreads well). */
static uint64_t addr_at(uint64_t i, uint64_t mult)
{
	const uint64_t m = (1ull << 26) - 1;
	uint64_t x = (i * mult) & m;

	x ^= x >> 13;
	x = (x * 0x2c1b3c6dull) & m;
	x ^= x >> 11;
	x = (x * 0x297a2d39ull) & m;
	x ^= x >> 14;
	return 0x7f3a00000000ull + (x << 4);
}

#define ADDR_MULT 0x2545f491

/* The i-th of 0..n-1 in another order (n a power of two: an odd multiplier
 * permutes them), so lookups and deletes visit the inserted addresses, each
 * once, in an order unlike the insertion's. */
static uint64_t reorder(uint64_t i, uint64_t n, uint64_t mult)
{
	return (i * mult) & (n - 1);
}

/* ---- agg's table before base/hashmap, as it was ---- */

struct old {
	struct entry *slots;
	size_t n_slots, count;
};

static size_t old_hash(uint64_t addr, size_t mask)
{
	return (size_t)(((addr >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static struct entry *old_find(const struct old *a, uint64_t addr)
{
	size_t mask = a->n_slots - 1, i;

	if (!a->n_slots)
		return NULL;
	for (i = old_hash(addr, mask);; i = (i + 1) & mask) {
		if (a->slots[i].addr == addr)
			return &a->slots[i];
		if (a->slots[i].addr == 0)
			return NULL;
	}
}

static void old_place(struct entry *slots, size_t n, const struct entry *e)
{
	size_t mask = n - 1, i;

	for (i = old_hash(e->addr, mask); slots[i].addr; i = (i + 1) & mask)
		;
	slots[i] = *e;
}

static void old_insert(struct old *a, const struct entry *e)
{
	if (old_find(a, e->addr))
		return;
	if (!a->n_slots || (a->count + 1) * 4 > a->n_slots * 3) {
		size_t want = a->n_slots ? a->n_slots * 2 : 1024;
		struct entry *ns = calloc(want, sizeof(*ns));

		if (!ns)
			abort();
		for (size_t i = 0; i < a->n_slots; i++)
			if (a->slots[i].addr)
				old_place(ns, want, &a->slots[i]);
		free(a->slots);
		a->slots = ns;
		a->n_slots = want;
	}
	old_place(a->slots, a->n_slots, e);
	a->count++;
}

static void old_delete(struct old *a, uint64_t addr)
{
	struct entry *e = old_find(a, addr);
	size_t mask = a->n_slots - 1, i, j, home;

	if (!e)
		return;
	i = (size_t)(e - a->slots);
	for (j = (i + 1) & mask; a->slots[j].addr; j = (j + 1) & mask) {
		home = old_hash(a->slots[j].addr, mask);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			a->slots[i] = a->slots[j];
			i = j;
		}
	}
	a->slots[i].addr = 0;
	a->count--;
}

/* ---- uthash, entries from a preallocated pool (no malloc per entry) ---- */

struct uentry {
	struct entry e;
	UT_hash_handle hh;
};

struct uth {
	struct uentry *head, *pool, *free_list;
	size_t used;
};

static void uth_insert(struct uth *u, const struct entry *e)
{
	struct uentry *x;

	HASH_FIND(hh, u->head, &e->addr, sizeof(e->addr), x);
	if (x)
		return;
	if (u->free_list) {
		x = u->free_list;
		u->free_list = (struct uentry *)x->hh.next;
	} else {
		x = &u->pool[u->used++];
	}
	x->e = *e;
	HASH_ADD(hh, u->head, e.addr, sizeof(x->e.addr), x);
}

static struct entry *uth_find(struct uth *u, uint64_t addr)
{
	struct uentry *x;

	HASH_FIND(hh, u->head, &addr, sizeof(addr), x);
	return x ? &x->e : NULL;
}

static void uth_delete(struct uth *u, uint64_t addr)
{
	struct uentry *x;

	HASH_FIND(hh, u->head, &addr, sizeof(addr), x);
	if (!x)
		return;
	HASH_DEL(u->head, x);
	x->hh.next = u->free_list;
	u->free_list = x;
}

/* ---- the phases, once per table ---- */

enum kind { OLD, MAP, UTH };

struct tables {
	struct old old;
	struct hashmap map;
	struct uth uth;
};

static void ins(struct tables *t, enum kind k, uint64_t addr, uint64_t i)
{
	struct entry e = { .addr = addr, .size = 32 + (i & 255), .birth_ns = i, .birth_epoch = i >> 10 };
	void *slot;

	switch (k) {
	case OLD: old_insert(&t->old, &e); break;
	case MAP:
		if (hashmap_put(&t->map, addr, &slot) == 1)
			memcpy(slot, &e, sizeof(e));
		break;
	case UTH: uth_insert(&t->uth, &e); break;
	}
}

static struct entry *get(struct tables *t, enum kind k, uint64_t addr)
{
	switch (k) {
	case OLD: return old_find(&t->old, addr);
	case MAP: return hashmap_get(&t->map, addr);
	default: return uth_find(&t->uth, addr);
	}
}

static void del(struct tables *t, enum kind k, uint64_t addr)
{
	switch (k) {
	case OLD: old_delete(&t->old, addr); break;
	case MAP: hashmap_del(&t->map, addr); break;
	case UTH: uth_delete(&t->uth, addr); break;
	}
}

#define ROUNDS 3

struct result {
	double ins, get, del, churn;
};

static void keep_best(double *best, double v)
{
	if (*best == 0 || v < *best)
		*best = v;
}

static void run(enum kind k, uint64_t n, struct result *best)
{
	struct tables t = { 0 };
	uint64_t sum = 0, live = n / 4;
	double t0, ins_ns, get_ns, del_ns, churn_ns;

	hashmap_init(&t.map, sizeof(struct entry), 0);
	t.uth.pool = calloc(n + live, sizeof(*t.uth.pool));
	if (!t.uth.pool)
		abort();

	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++)
		ins(&t, k, addr_at(i, ADDR_MULT), i);
	ins_ns = (now_ns() - t0) / n;

	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		struct entry *e = get(&t, k, addr_at(reorder(i, n, 0x9e3779b1), ADDR_MULT));

		sum += e ? e->size : 1;
	}
	get_ns = (now_ns() - t0) / n;

	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++)
		del(&t, k, addr_at(reorder(i, n, 0x5bd1e995), ADDR_MULT));
	del_ns = (now_ns() - t0) / n;

	/* churn: a live set of n/4; each step frees the oldest and allocates
	 * one address not live (the heap reuses addresses: i + live wraps
	 * around the address space of 2^26) */
	for (uint64_t i = 0; i < live; i++)
		ins(&t, k, addr_at(i, ADDR_MULT), i);
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		del(&t, k, addr_at(i, ADDR_MULT));
		ins(&t, k, addr_at(i + live, ADDR_MULT), i);
	}
	churn_ns = (now_ns() - t0) / n;

	keep_best(&best->ins, ins_ns);
	keep_best(&best->get, get_ns);
	keep_best(&best->del, del_ns);
	keep_best(&best->churn, churn_ns);
	if (sum == 42)
		puts("");	/* keeps the lookups from being optimised away */
	free(t.old.slots);
	hashmap_fini(&t.map);
	HASH_CLEAR(hh, t.uth.head);
	free(t.uth.pool);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : (1u << 22);

	if (!n || n > (1u << 25) || (n & (n - 1))) {
		fprintf(stderr, "usage: hashmap_bench [N: a power of two <= 2^25]\n");
		return 2;
	}
	static const char *const names[] = { "agg-old-table", "hashmap", "uthash-pooled" };
	struct result best[3] = { 0 };

	for (int r = 0; r < ROUNDS; r++)
		for (int k = OLD; k <= UTH; k++)
			if (argc < 3 || !strcmp(argv[2], names[k]))
				run((enum kind)k, n, &best[k]);
	printf("N=%llu, best of %d, CPU ns per operation\n", (unsigned long long)n, ROUNDS);
	for (int k = OLD; k <= UTH; k++)
		printf("%-16s insert %7.1f  lookup %7.1f  delete %7.1f  churn(free+alloc) %7.1f\n",
		       names[k], best[k].ins, best[k].get, best[k].del, best[k].churn);
	return 0;
}
