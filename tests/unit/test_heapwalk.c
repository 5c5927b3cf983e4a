// SPDX-License-Identifier: MIT
/*
 * heapwalk/pyrefs/typetab tests: a fake 3.11 target whose tracked containers
 * hold untracked objects (tuples of atoms, str, bytes, float, int), with the
 * answer known by construction; and hostile variants of the same heap (item
 * counts past their allocation, tables of absurd size, pointers outside the
 * mapping, self-referencing untracked tuples, nesting past the walk's stack)
 * that must give a partial answer, never a crash or a hang.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#define FAKE_SIZE (8u << 20)
#include "fake_target.h"
#include "leakd/census/census.h"
#include "leakd/census/heapwalk.h"

#define GC PYLAYOUT_TPFLAGS_HAVE_GC

struct heap {
	struct fake *f;
	uint64_t t_list, t_tuple, t_dict, t_set, t_bytes, t_float, t_int;
};

static struct heap heap_new(void)
{
	struct heap h = { 0 };
	struct fake *f = fake_new(11, 24);
	f->str_type = fake_type(f, "str", 1ull << 28, 48, 1);
	f->dict_type = h.t_dict = fake_type(f, "dict", GC, 48, 0);
	h.t_list = fake_type(f, "list", GC, 40, 0);
	h.t_tuple = fake_type(f, "tuple", GC, 24, 8);
	h.t_set = fake_type(f, "set", GC, 200, 0);
	h.t_bytes = fake_type(f, "bytes", 0, 33, 1);
	h.t_float = fake_type(f, "float", 0, 24, 0);
	h.t_int = fake_type(f, "int", 0, 24, 4);
	h.f = f;
	return h;
}

/* An object the GC does not track: a GC head whose next link is 0 when the
 * type is a GC type, none otherwise. */
static uint64_t untracked(struct heap *h, uint64_t type, bool gc_type, size_t size, int64_t ob_size)
{
	uint64_t a = fake_alloc(h->f, (gc_type ? 16 : 16) + size) + 16;

	fake_w64(h->f, a, 1);
	fake_w64(h->f, a + 8, type);
	fake_w64(h->f, a + 16, (uint64_t)ob_size);
	return a;
}

static uint64_t a_float(struct heap *h)
{
	return untracked(h, h->t_float, false, 24, 0);
}

static uint64_t a_tuple(struct heap *h, const uint64_t *items, size_t n)
{
	uint64_t t = untracked(h, h->t_tuple, true, 24 + 8 * n, (int64_t)n);

	for (size_t i = 0; i < n; i++)
		fake_w64(h->f, t + 24 + 8 * i, items[i]);
	return t;
}

static uint64_t a_bytes(struct heap *h, size_t len)
{
	return untracked(h, h->t_bytes, false, 33 + len, (int64_t)len);
}

/* A tracked list holding items; allocated slots = cap. */
static uint64_t a_list(struct heap *h, const uint64_t *items, size_t n, size_t cap)
{
	uint64_t l = fake_obj(h->f, 2, h->t_list, (int64_t)n), arr = fake_alloc(h->f, 8 * cap + 8);

	for (size_t i = 0; i < n; i++)
		fake_w64(h->f, arr + 8 * i, items[i]);
	fake_w64(h->f, l + 24, arr);
	fake_w64(h->f, l + 32, cap);
	return l;
}

/* A 3.11 dict with unicode-kind keys table of 2^log2 slots. */
static uint64_t a_dict(struct heap *h, bool tracked, const uint64_t *kv, size_t n, unsigned log2)
{
	uint64_t d = tracked ? fake_obj(h->f, 2, h->t_dict, 0) : untracked(h, h->t_dict, true, 48, 0);
	uint64_t idx = 1ull << log2, usable = (2ull << log2) / 3;
	uint64_t k = fake_alloc(h->f, 32 + idx + usable * 16);

	cr_assert_leq(n, usable);
	h->f->mem[k + 8 - FAKE_BASE] = (unsigned char)log2;
	h->f->mem[k + 9 - FAKE_BASE] = (unsigned char)log2;	/* 1-byte indices */
	h->f->mem[k + 10 - FAKE_BASE] = 1;			/* unicode keys */
	fake_w64(h->f, k + 24, n);
	for (size_t i = 0; i < n; i++) {
		fake_w64(h->f, k + 32 + idx + 16 * i, kv[2 * i]);
		fake_w64(h->f, k + 32 + idx + 16 * i + 8, kv[2 * i + 1]);
	}
	fake_w64(h->f, d + 32, k);
	fake_w64(h->f, d + 40, 0);
	return d;
}

static const struct census_type *row(const struct census *c, const char *name)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (!strcmp(c->types[i].name, name))
			return &c->types[i];
	return NULL;
}

static void walk(struct heap *h, const struct census_limits *lim_in, struct census *c)
{
	struct memreader m = fake_reader(h->f);
	struct census_limits lim = lim_in ? *lim_in : (struct census_limits){ 0 };

	lim.reachable = true;
	cr_assert_eq(census_walk(&m, &h->f->l, h->f->rt, &lim, c), 0);
	cr_assert_not_null(c->pending);
	cr_assert_eq(census_reach(&m, c), 0);
	cr_assert_null(c->pending);
	cr_assert(c->reachable);
}

Test(heapwalk, counts_each_untracked_object_once_with_its_real_size)
{
	struct heap h = heap_new();
	enum { N = 100 };
	uint64_t tuples[N + 1], shared = fake_str(h.f, "shared-name", NULL, 11), kv[2 * 10];
	struct census c;
	const struct census_type *r;

	/* a list of N (float, shared str, own str) tuples, plus one tuple that
	 * holds itself: cycles among untracked objects must not loop */
	for (int i = 0; i < N; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "value-%08d", i);
		uint64_t items[3] = { a_float(&h), shared, fake_str(h.f, s, NULL, (size_t)n) };

		tuples[i] = a_tuple(&h, items, 3);
	}
	tuples[N] = a_tuple(&h, (uint64_t[]){ 0, 0 }, 2);
	fake_w64(h.f, tuples[N] + 24, tuples[N]);
	fake_w64(h.f, tuples[N] + 32, tuples[N]);
	a_list(&h, tuples, N + 1, 128);
	/* a tracked dict str -> bytes(1000) x 10 */
	for (int i = 0; i < 10; i++) {
		char s[16];
		int n = snprintf(s, sizeof(s), "k%d", i);

		kv[2 * i] = fake_str(h.f, s, NULL, (size_t)n);
		kv[2 * i + 1] = a_bytes(&h, 1000);
	}
	a_dict(&h, true, kv, 10, 4);

	walk(&h, NULL, &c);
	r = row(&c, "tuple");
	cr_assert_not_null(r);
	cr_assert_eq(r->objects, N + 1);
	cr_assert_eq(r->bytes, N * (16 + 24 + 24) + (16 + 24 + 16));
	r = row(&c, "float");
	cr_assert_eq(r->objects, N);
	cr_assert_eq(r->bytes, N * 24);
	r = row(&c, "bytes");
	cr_assert_eq(r->objects, 10);
	cr_assert_eq(r->bytes, 10 * (33 + 1000));
	/* N own strings, the shared one once, 10 keys; ASCII: 48 + len + 1 */
	r = row(&c, "str");
	cr_assert_eq(r->objects, N + 1 + 10);
	cr_assert_eq(r->bytes, N * (48 + 14 + 1) + (48 + 11 + 1) + 10 * (48 + 2 + 1));
	/* the list owns 128 slots; the dict its keys table */
	r = row(&c, "list");
	cr_assert_eq(r->bytes, 16 + 40 + 128 * 8);
	r = row(&c, "dict");
	cr_assert_eq(r->bytes, 16 + 48 + 32 + 16 + 10 * 16);
	cr_assert_eq(c.untracked_objects, (N + 1) + N + (N + 1 + 10) + 10);
	cr_assert_eq(c.objects, c.tracked_objects + c.untracked_objects);
	cr_assert_eq(c.rejected, 0);
	cr_assert_str_empty(c.partial);
	/* the list is the largest container, and holds tuples */
	cr_assert_geq(c.ncontainers, 1);
	cr_assert_eq(c.containers[0].type, h.t_list);
	cr_assert_eq(c.containers[0].items, N + 1);
	cr_assert_eq(c.containers[0].held_type[0], h.t_tuple);
	census_free(&c);
	fake_free(h.f);
}

Test(heapwalk, untracked_dicts_and_sets_of_ints_are_descended)
{
	struct heap h = heap_new();
	uint64_t inner_kv[2 * 4], inner, set, table;
	struct census c;

	for (int i = 0; i < 4; i++) {
		inner_kv[2 * i] = untracked(&h, h.t_int, false, 28, 1);
		inner_kv[2 * i + 1] = untracked(&h, h.t_int, false, 28, 1);
	}
	inner = a_dict(&h, false, inner_kv, 4, 3);
	a_list(&h, &inner, 1, 4);
	/* a tracked set of 5 ints in a 16-slot table, one dummy (hash -1) */
	set = fake_obj(h.f, 2, h.t_set, 0);
	fake_alloc(h.f, 64);	/* the table is not the set's own smalltable */
	table = fake_alloc(h.f, 16 * 16);
	for (int i = 0; i < 6; i++) {
		fake_w64(h.f, table + 16 * (2 * i), untracked(&h, h.t_int, false, 28, 1));
		fake_w64(h.f, table + 16 * (2 * i) + 8, i == 5 ? ~0ull : (uint64_t)i);
	}
	fake_w64(h.f, set + 32, 15);
	fake_w64(h.f, set + 40, table);
	walk(&h, NULL, &c);
	cr_assert_eq(row(&c, "int")->objects, 8 + 5);
	cr_assert_eq(row(&c, "int")->bytes, 13 * (24 + 4));
	cr_assert_eq(row(&c, "dict")->objects, 1);
	cr_assert_eq(row(&c, "set")->bytes, 16 + 200 + 16 * 16, "%lu", (unsigned long)row(&c, "set")->bytes);
	census_free(&c);
	fake_free(h.f);
}

Test(heapwalk, hostile_fields_are_rejected_not_followed)
{
	struct heap h = heap_new();
	uint64_t items[2] = { a_float(&h), a_float(&h) }, d, l;
	struct census c;

	/* more items than allocated; an item array outside the mapping; a
	 * pointer into nowhere; a keys table claiming 2^60 slots */
	a_list(&h, items, 2, 1);
	l = a_list(&h, items, 2, 2);
	fake_w64(h.f, l + 24, 0x7f0000000000ull);
	a_list(&h, (uint64_t[]){ 0x5000000000ull, 0x10000008ull }, 2, 2);
	d = a_dict(&h, true, NULL, 0, 3);
	h.f->mem[fake_r64(h.f, d + 32) + 8 - FAKE_BASE] = 60;
	walk(&h, NULL, &c);
	cr_assert_null(row(&c, "float"));
	cr_assert_geq(c.rejected, 4);
	cr_assert_eq(c.untracked_objects, 0);
	census_free(&c);
	fake_free(h.f);
}

Test(heapwalk, limits_give_a_partial_answer_with_its_reason)
{
	struct heap h = heap_new();
	uint64_t t = a_float(&h), items[64];
	struct census c;
	struct census_limits lim = { .heap = { .max_stack = 8 } };

	/* 200 tuples nested inside each other are walked with a stack of one
	 * (a chain never widens it) ... */
	for (int i = 0; i < 200; i++)
		t = a_tuple(&h, &t, 1);
	a_list(&h, &t, 1, 1);
	walk(&h, &lim, &c);
	cr_assert_eq(row(&c, "tuple")->objects, 200);
	cr_assert_str_empty(c.partial);
	census_free(&c);
	/* ... but a list of 64 untracked containers waiting at once is wider */
	for (int i = 0; i < 64; i++)
		items[i] = a_tuple(&h, &t, 1);
	a_list(&h, items, 64, 64);
	walk(&h, &lim, &c);
	cr_assert_str_eq(c.partial, "untracked containers nested deeper than the walk's stack");
	census_free(&c);

	for (int i = 0; i < 64; i++)
		items[i] = a_float(&h);
	a_list(&h, items, 64, 64);
	lim = (struct census_limits){ .heap = { .max_objects = 10 } };
	walk(&h, &lim, &c);
	cr_assert_eq(c.untracked_objects, 10);
	cr_assert_str_eq(c.partial, "more untracked objects than the walk's limit");
	census_free(&c);
	fake_free(h.f);
}

Test(heapwalk, the_most_negative_size_field_is_no_item_count)
{
	/* found by fuzz_heapwalk: -INT64_MIN cannot be negated (UBSan) */
	struct heap h = heap_new();
	uint64_t t = a_tuple(&h, (uint64_t[]){ a_float(&h) }, 1);
	struct census c;

	fake_w64(h.f, t + 16, 0x8000000000000000ull);	/* an untracked one, reached */
	a_list(&h, &t, 1, 1);
	fake_obj(h.f, 2, h.t_tuple, INT64_MIN);		/* and a tracked one */
	walk(&h, NULL, &c);
	cr_assert_eq(row(&c, "tuple")->bytes, (16 + 24) + (16 + 24), "sized without items");
	cr_assert_null(row(&c, "float"), "no items followed");
	census_free(&c);
	fake_free(h.f);
}

Test(heapwalk, objects_freed_after_the_list_walk_are_not_decoded)
{
	/* census_reach runs with the target resumed: a tracked list that died
	 * (refcount 0) or whose memory became another type is skipped. */
	struct heap h = heap_new();
	uint64_t items[1] = { a_float(&h) };
	uint64_t l = a_list(&h, items, 1, 1);
	struct memreader m = fake_reader(h.f);
	struct census_limits lim = { .reachable = true };
	struct census c;

	cr_assert_eq(census_walk(&m, &h.f->l, h.f->rt, &lim, &c), 0);
	fake_w64(h.f, l + 8, h.t_tuple);	/* reused as a tuple meanwhile */
	cr_assert_eq(census_reach(&m, &c), 0);
	cr_assert_null(row(&c, "float"));
	cr_assert_eq(c.tracked_objects, 1);
	census_free(&c);
	fake_free(h.f);
}

Test(heapwalk, a_pending_census_is_released_by_census_free)
{
	struct heap h = heap_new();
	struct memreader m = fake_reader(h.f);
	struct census_limits lim = { .reachable = true };
	struct census c;

	a_list(&h, NULL, 0, 0);
	cr_assert_eq(census_walk(&m, &h.f->l, h.f->rt, &lim, &c), 0);
	cr_assert_not_null(c.pending);
	census_free(&c);	/* nothing leaks under ASan */
	cr_assert_null(c.pending);
	cr_assert_eq(census_reach(&m, &c), -EINVAL);
	fake_free(h.f);
}

/* A cached reader that still serves a list's old header: its item array
 * has moved (the list grew while leakd read) and the old one is unmapped. */
struct stale {
	struct fake *f;
	uint64_t list;
};

static int stale_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct stale *s = ctx;
	struct memreader m = fake_reader(s->f);
	int r = memreader_read(&m, addr, buf, len);

	if (!r && addr <= s->list + 24 && addr + len >= s->list + 32) {
		uint64_t gone = 0x6000000000ull;	/* unmapped */

		memcpy((uint8_t *)buf + (s->list + 24 - addr), &gone, 8);
	}
	return r;
}

static int fresh_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct memreader m = fake_reader(((struct stale *)ctx)->f);

	return memreader_read(&m, addr, buf, len);
}

Test(heapwalk, a_list_whose_items_moved_is_read_again_past_the_cache)
{
	for (int with_fresh = 0; with_fresh < 2; with_fresh++) {
		struct heap h = heap_new();
		uint64_t items[300];
		struct census c;
		struct census_limits lim = { .reachable = true };
		struct stale st = { .f = h.f };
		struct memreader m = fake_reader(h.f);
		struct memreader cached = { .read = stale_read, .ctx = &st,
					    .read_fresh = with_fresh ? fresh_read : NULL };
		const struct census_type *t;

		for (size_t i = 0; i < 300; i++)
			items[i] = a_float(&h);
		st.list = a_list(&h, items, 300, 320);
		cr_assert_eq(census_walk(&m, &h.f->l, h.f->rt, &lim, &c), 0);
		cr_assert_eq(census_reach(&cached, &c), 0);
		t = row(&c, "float");
		if (with_fresh)
			cr_assert(t && t->objects == 300, "floats %llu", t ? (unsigned long long)t->objects : 0ull);
		else	/* the cached header alone: the items are lost, and counted as rejected */
			cr_assert(!t && c.rejected >= 1, "floats %llu", t ? (unsigned long long)t->objects : 0ull);
		census_free(&c);
		fake_free(h.f);
	}
}
