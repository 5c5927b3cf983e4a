// SPDX-License-Identifier: MIT
/*
 * holders tests: a fake 3.11 heap whose holders are known by construction
 * (a module global's instance attribute holding a list of instances, an
 * instance held only by a leaked reference, a cycle of two instances and
 * their dicts), and hostile variants (a parent chain through a self-loop, a
 * node limit) that must give a partial answer, never a crash; and that
 * the samples prefer the instances the previous census did not have.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#define FAKE_SIZE (4u << 20)
#include "fake_target.h"
#include "leakd/holders/holdpath.h"
#include "leakd/holders/holders.h"
#include "leakd/python/pyrefs.h"

#define GC PYLAYOUT_TPFLAGS_HAVE_GC
#define HEAP PYLAYOUT_TPFLAGS_HEAPTYPE

struct heap {
	struct fake *f;
	uint64_t t_list, t_module, t_bus, t_sub, t_node;
	uint64_t tracked[512];
	size_t ntracked;
};

static uint64_t track(struct heap *h, uint64_t t, int64_t n)
{
	uint64_t o = fake_obj(h->f, 2, t, n);

	h->tracked[h->ntracked++] = o;
	return o;
}

static uint64_t str(struct heap *h, const char *s)
{
	return fake_str(h->f, s, NULL, strlen(s));
}

/* A tracked 3.11 dict with unicode keys {k: v}. */
static uint64_t dict(struct heap *h, const char *const *keys, const uint64_t *vals, size_t n)
{
	uint64_t d = track(h, h->f->dict_type, 0), k = fake_alloc(h->f, 32 + 8 + 5 * 16);

	cr_assert_leq(n, 5);
	h->f->mem[k + 8 - FAKE_BASE] = 3;	/* 8 slots */
	h->f->mem[k + 9 - FAKE_BASE] = 3;	/* 8 index bytes */
	h->f->mem[k + 10 - FAKE_BASE] = 1;	/* unicode keys */
	fake_w64(h->f, k + 24, n);
	for (size_t i = 0; i < n; i++) {
		fake_w64(h->f, k + 40 + 16 * i, str(h, keys[i]));
		fake_w64(h->f, k + 40 + 16 * i + 8, vals[i]);
	}
	fake_w64(h->f, d + h->f->l.dict_keys, k);
	fake_w64(h->f, d + h->f->l.dict_values, 0);
	return d;
}

/* A heap type whose instances keep their __dict__ at offset 16. */
static uint64_t heap_type(struct heap *h, const char *name)
{
	uint64_t t = fake_type(h->f, name, HEAP | GC, 24, 0);

	fake_w64(h->f, t + h->f->l.tp_dictoffset, 16);
	return t;
}

static uint64_t instance(struct heap *h, uint64_t t, uint64_t d)
{
	uint64_t o = track(h, t, 0);

	fake_w64(h->f, o + 16, d);
	return o;
}

static struct heap heap_new(void)
{
	struct heap h = { 0 };
	struct fake *f = fake_new(11, 24);
	h.f = f;
	f->str_type = fake_type(f, "str", 1ull << 28, 48, 1);
	f->dict_type = fake_type(f, "dict", GC, 48, 0);
	h.t_list = fake_type(f, "list", GC, 40, 0);
	h.t_module = fake_type(f, "module", GC, 48, 0);
	h.t_bus = heap_type(&h, "Bus");
	h.t_sub = heap_type(&h, "Subscriber");
	h.t_node = heap_type(&h, "Node");
	return h;
}

/* module app: BUS = Bus(); BUS.subs = [Subscriber() x3]; an orphan Subscriber
 * held by a leaked reference; a <-> b, two Nodes in a cycle. */
static void build(struct heap *h, size_t nsubs)
{
	uint64_t subs[8], l, arr, bus, m, a, b, da, db;
	const char *k_subs[] = { "subs" }, *k_mod[] = { "__name__", "BUS" }, *k_peer[] = { "peer" };

	cr_assert_leq(nsubs, 8);
	for (size_t i = 0; i < nsubs; i++)
		subs[i] = instance(h, h->t_sub, 0);
	l = track(h, h->t_list, (int64_t)nsubs);
	arr = fake_alloc(h->f, 8 * 8);
	for (size_t i = 0; i < nsubs; i++)
		fake_w64(h->f, arr + 8 * i, subs[i]);
	fake_w64(h->f, l + h->f->l.list_items, arr);
	fake_w64(h->f, l + h->f->l.list_items + 8, 8);
	bus = instance(h, h->t_bus, dict(h, k_subs, &l, 1));
	m = track(h, h->t_module, 0);
	fake_w64(h->f, m + h->f->l.module_dict, dict(h, k_mod, (uint64_t[]){ str(h, "app"), bus }, 2));
	instance(h, h->t_sub, 0);	/* the orphan: refcount 1, no referrer */
	a = instance(h, h->t_node, 0);
	b = instance(h, h->t_node, 0);
	da = dict(h, k_peer, &b, 1);
	db = dict(h, k_peer, &a, 1);
	fake_w64(h->f, a + 16, da);
	fake_w64(h->f, b + 16, db);
}

static struct holders_result *find_keys(struct heap *h, size_t max_nodes, bool key_shapes)
{
	struct memreader m = fake_reader(h->f);
	struct holders_query q = {
		.types = { h->t_sub, h->t_node }, .names = { "app.Subscriber", "app.Node" }, .ntypes = 2,
		.tracked = h->tracked, .ntracked = h->ntracked, .gc_enabled = true, .gc_threshold0 = 700,
		.max_nodes = max_nodes, .key_shapes = key_shapes,
	};
	struct holders_result *r = calloc(1, sizeof(*r));

	cr_assert_not_null(r);
	cr_assert_eq(holders_find(&m, &h->f->l, &q, r), 0);
	return r;
}

static struct holders_result *find(struct heap *h, size_t max_nodes)
{
	return find_keys(h, max_nodes, false);
}

static const struct holders_path *path_with(const struct holders_type *t, const char *prefix)
{
	for (size_t i = 0; i < t->npaths; i++)
		if (!strncmp(t->paths[i].text, prefix, strlen(prefix)))
			return &t->paths[i];
	return NULL;
}

Test(holders, names_globals_attributes_items_native_and_cycles)
{
	struct heap h = heap_new();
	struct holders_result *r;
	const struct holders_path *p;

	build(&h, 3);
	r = find(&h, 0);
	cr_assert_eq(r->ntypes, 2);
	cr_assert_eq(r->roots_modules, 1);
	cr_assert(!r->partial, "%s", r->partial_reason);

	/* 3 in the list, 1 orphan: every instance is sampled (fewer than the cap) */
	cr_assert_eq(r->types[0].found, 4);
	cr_assert_eq(r->types[0].sampled, 4);
	p = &r->types[0].paths[0];
	cr_assert_eq(p->reached, 3);
	cr_assert_str_eq(p->steps[0].name, "module app");
	cr_assert_eq(p->steps[0].kind, HOLDERS_MODULE);
	cr_assert_eq(p->steps[1].kind, HOLDERS_GLOBAL);
	cr_assert_str_eq(p->steps[1].name, "BUS");
	cr_assert_eq(p->steps[2].kind, HOLDERS_ATTR);
	cr_assert_str_eq(p->steps[2].name, "subs");
	cr_assert_eq(p->steps[3].kind, HOLDERS_ITEM);
	cr_assert_str_eq(p->steps[3].name, "[*]");
	cr_assert_eq(p->nsteps, 4, "the namespace dicts are not steps of their own");
	cr_assert(strstr(p->text, " .subs (list) [*] -> ") != NULL, "%s", p->text);

	p = path_with(&r->types[0], "held from C (refcount 1, 0 references found)");
	cr_assert_not_null(p);
	cr_assert_eq(p->reached, 1);
	cr_assert_eq(p->steps[0].kind, HOLDERS_NATIVE);

	/* a, b and their two dicts: one cycle of 4 that nothing else holds */
	cr_assert_eq(r->garbage, 4);
	cr_assert_eq(r->types[1].sampled, 2);
	p = path_with(&r->types[1], "unreachable reference cycle (4 objects): garbage the cyclic GC frees");
	cr_assert_not_null(p, "%s", r->types[1].paths[0].text);
	cr_assert_eq(p->reached, 2);
	free(r);
	fake_free(h.f);
}

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* A tracked list of n new Subscribers; their addresses into out. */
static uint64_t sub_list(struct heap *h, size_t n, uint64_t *out)
{
	uint64_t l = track(h, h->t_list, (int64_t)n), arr = fake_alloc(h->f, 8 * n);

	fake_w64(h->f, l + h->f->l.list_items, arr);
	fake_w64(h->f, l + h->f->l.list_items + 8, n);
	for (size_t i = 0; i < n; i++) {
		out[i] = instance(h, h->t_sub, 0);
		fake_w64(h->f, arr + 8 * i, out[i]);
	}
	return l;
}

Test(holders, samples_prefer_what_the_previous_census_did_not_have)
{
	struct heap h = heap_new();
	uint64_t old[250], young[30], older[250];
	const char *k_mod[] = { "__name__", "OLD", "NEW" };
	uint64_t l_old = sub_list(&h, 250, old), l_new = sub_list(&h, 30, young), m;
	struct memreader rd = fake_reader(h.f);
	struct holders_result *r = calloc(1, sizeof(*r));
	const struct holders_path *p;

	m = track(&h, h.t_module, 0);
	fake_w64(h.f, m + h.f->l.module_dict, dict(&h, k_mod, (uint64_t[]){ str(&h, "app"), l_old, l_new }, 3));
	memcpy(older, old, sizeof(old));
	qsort(older, 250, sizeof(*older), cmp_addr);
	struct holders_query q = {
		.types = { h.t_sub }, .names = { "app.Subscriber" }, .ntypes = 1,
		.tracked = h.tracked, .ntracked = h.ntracked, .older = older, .nolder = 250,
		.gc_enabled = true,
	};
	cr_assert_not_null(r);
	cr_assert_eq(holders_find(&rd, &h.f->l, &q, r), 0);
	cr_assert_eq(r->types[0].found, 280);
	cr_assert_eq(r->types[0].sampled, HOLDERS_SAMPLES);
	/* every new instance is sampled; the older ones fill the rest (uniform
	 * sampling would have kept about 21 of the 30) */
	p = path_with(&r->types[0], "module app . NEW (list) [*]");
	cr_assert_not_null(p);
	cr_assert_eq(p->reached, 30);
	p = path_with(&r->types[0], "module app . OLD (list) [*]");
	cr_assert_not_null(p);
	cr_assert_eq(p->reached, HOLDERS_SAMPLES - 30);
	free(r);
	fake_free(h.f);
}

/* Atoms hold nothing: a string becomes a node of the search only when its
 * type's samples take it, so a heap of strings costs the samples, not the heap. */
Test(holders, atoms_are_kept_only_when_a_sample_takes_them)
{
	enum { N = 3000 };
	struct heap h = heap_new();
	const char *k_mod[] = { "__name__", "NAMES" };
	uint64_t l = track(&h, h.t_list, N), arr = fake_alloc(h.f, 8 * N), m;
	struct memreader rd = fake_reader(h.f);
	struct holders_result *r0 = calloc(1, sizeof(*r0)), *r1 = calloc(1, sizeof(*r1));
	const struct holders_path *p;

	fake_w64(h.f, l + h.f->l.list_items, arr);
	fake_w64(h.f, l + h.f->l.list_items + 8, N);
	for (int i = 0; i < N; i++) {
		char name[24];

		snprintf(name, sizeof(name), "user-%d", i);
		fake_w64(h.f, arr + 8 * (uint64_t)i, str(&h, name));
	}
	m = track(&h, h.t_module, 0);
	fake_w64(h.f, m + h.f->l.module_dict, dict(&h, k_mod, (uint64_t[]){ str(&h, "app"), l }, 2));
	struct holders_query q = {
		.types = { h.t_sub }, .names = { "app.Subscriber" }, .ntypes = 1,
		.tracked = h.tracked, .ntracked = h.ntracked, .gc_enabled = true,
	};
	cr_assert(r0 && r1);
	cr_assert_eq(holders_find(&rd, &h.f->l, &q, r0), 0);
	q.types[0] = h.f->str_type;
	q.names[0] = "str";
	cr_assert_eq(holders_find(&rd, &h.f->l, &q, r1), 0);
	cr_assert(!r1->partial, "%s", r1->partial_reason);
	/* the list's strings, and the module dict's keys and its __name__ */
	cr_assert_eq(r1->types[0].found, N + 3);
	cr_assert_eq(r1->types[0].sampled, HOLDERS_SAMPLES);
	p = path_with(&r1->types[0], "module app . NAMES (list) [*] -> str");
	cr_assert_not_null(p, "%s", r1->types[0].paths[0].text);
	cr_assert_geq(p->reached, HOLDERS_SAMPLES - 3);
	/* a node per sample taken (some are replaced on the way), not per string */
	cr_assert_geq(r1->nodes, r0->nodes + HOLDERS_SAMPLES);
	cr_assert_lt(r1->nodes, r0->nodes + N / 2, "%llu nodes", (unsigned long long)r1->nodes);
	cr_assert_gt(r1->bytes, 0);
	free(r0);
	free(r1);
	fake_free(h.f);
}

/* A suspended 3.11 coroutine (not on a GC list: the search does not walk
 * them) whose frame has one local, name = local, and a value stack of
 * `depth` words holding `stack`. */
static uint64_t coroutine(struct heap *h, uint64_t t_coro, uint64_t t_tuple, const char *name, uint64_t local,
			  uint64_t stack, int32_t depth)
{
	struct fake *f = h->f;
	const struct pylayout *l = &f->l;
	uint64_t o = fake_alloc(f, 256), fr = o + l->gen_frame, names = fake_alloc(f, 64), code = fake_alloc(f, 256);

	fake_w64(f, o, 1);
	fake_w64(f, o + l->ob_type, t_coro);
	fake_w64(f, names, 1);
	fake_w64(f, names + l->ob_type, t_tuple);
	fake_w64(f, names + l->ob_size, 1);
	fake_w64(f, names + l->tuple_items, str(h, name));
	fake_w64(f, code + l->co_localsnames, names);
	f->mem[o + l->gen_frame_state - FAKE_BASE] = 0xff;	/* -1: suspended */
	fake_w64(f, fr + l->frame_code, code);
	fake_w32(f, fr + l->frame_stack, (uint32_t)(1 + depth));	/* an index past the locals */
	fake_w64(f, fr + l->frame_localsplus, local);
	fake_w64(f, fr + l->frame_localsplus + 8, stack);
	h->tracked[h->ntracked++] = o;
	return o;
}

/* async def outer(): await inner(Subscriber()): only outer's value stack
 * holds inner; a torn stack top loses that edge, never the locals. */
Test(holders, an_awaited_coroutine_is_held_by_the_awaiting_frames_value_stack)
{
	for (int torn = 0; torn < 2; torn++) {
		struct heap h = heap_new();
		uint64_t t_coro = fake_type(h.f, "coroutine", GC, 256, 0), t_tuple = fake_type(h.f, "tuple", GC, 24, 8);
		uint64_t sub = instance(&h, h.t_sub, 0), inner, outer, m;
		const char *k_mod[] = { "__name__", "TASK" };
		struct holders_result *r;
		const struct holders_path *p;

		inner = coroutine(&h, t_coro, t_tuple, "pending", sub, 0, 0);
		outer = coroutine(&h, t_coro, t_tuple, "req", 0, inner, torn ? PYREFS_MAX_STACK + 1 : 1);
		m = track(&h, h.t_module, 0);
		fake_w64(h.f, m + h.f->l.module_dict, dict(&h, k_mod, (uint64_t[]){ str(&h, "app"), outer }, 2));
		r = find(&h, 0);
		cr_assert_eq(r->types[0].found, 1);
		p = &r->types[0].paths[0];
		if (!torn) {
			cr_assert_str_eq(p->text, "module app . TASK (coroutine) <value stack> (coroutine) local pending "
						  "-> Subscriber");
			cr_assert_eq(p->steps[2].kind, HOLDERS_LOCAL);
		} else {
			/* inner's one reference is not found: held from C, as before */
			cr_assert(!strncmp(p->text, "held from C (refcount 1, 0 references found)", 44), "%s", p->text);
		}
		free(r);
		fake_free(h.f);
	}
}

/* A reader that serves a snapshot (a cache filled before the target ran
 * on) until it is told to drop it. */
struct stale_reader {
	struct fake *live, snap;
	bool dropped;
};

static int stale_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct stale_reader *s = ctx;

	return fake_read(s->dropped ? s->live : &s->snap, addr, buf, len);
}

static void stale_drop(void *ctx)
{
	((struct stale_reader *)ctx)->dropped = true;
}

/* A dict key made after its block was cached: the search reaches the value
 * through the dict, and the path is named from the target as it is now. */
Test(holders, a_key_made_after_the_cache_filled_is_named_from_the_target)
{
	struct heap h = heap_new();
	const char *k_mod[] = { "__name__", "SESSIONS" }, *k_sess[] = { "SECRET-abc" };
	uint64_t sub = instance(&h, h.t_sub, 0), sessions = dict(&h, k_sess, &sub, 1), key, m;
	struct stale_reader sr = { .live = h.f };
	struct memreader rd = { .read = stale_read, .ctx = &sr, .invalidate = stale_drop };
	struct holders_result *r = calloc(1, sizeof(*r));

	m = track(&h, h.t_module, 0);
	fake_w64(h.f, m + h.f->l.module_dict, dict(&h, k_mod, (uint64_t[]){ str(&h, "app"), sessions }, 2));
	sr.snap = *h.f;
	sr.snap.mem = malloc(FAKE_SIZE);
	cr_assert(r && sr.snap.mem);
	memcpy(sr.snap.mem, h.f->mem, FAKE_SIZE);
	/* in the cached copy the key's block is still free */
	key = fake_r64(h.f, fake_r64(h.f, sessions + h.f->l.dict_keys) + 40);	/* entry 0's key */
	memset(sr.snap.mem + (key - FAKE_BASE), 0, 24);

	struct holders_query q = {
		.types = { h.t_sub }, .names = { "app.Subscriber" }, .ntypes = 1,
		.tracked = h.tracked, .ntracked = h.ntracked, .gc_enabled = true,
	};
	cr_assert_eq(holders_find(&rd, &h.f->l, &q, r), 0);
	cr_assert(sr.dropped, "the reader's cache was not dropped before the paths were named");
	cr_assert_eq(r->types[0].found, 1);
	cr_assert_str_eq(r->types[0].paths[0].text, "module app . SESSIONS (dict) ['SECRET-abc'] -> Subscriber");
	free(sr.snap.mem);
	free(r);
	fake_free(h.f);
}

Test(holders, a_full_search_is_partial_and_says_why)
{
	struct heap h = heap_new();
	struct holders_result *r;

	build(&h, 8);
	r = find(&h, 4);
	cr_assert(r->partial);
	cr_assert(strstr(r->partial_reason, "at most 4 objects") != NULL, "%s", r->partial_reason);
	cr_assert_leq(r->nodes, 4);
	free(r);
	fake_free(h.f);
}

Test(holders, a_list_that_holds_itself_and_torn_pointers_end_cleanly)
{
	struct heap h = heap_new();
	struct holders_result *r;
	uint64_t l, arr;
	const char *k_mod[] = { "__name__", "SELF" };

	l = track(&h, h.t_list, 4);
	arr = fake_alloc(h.f, 4 * 8);
	fake_w64(h.f, arr, l);				/* itself */
	fake_w64(h.f, arr + 8, 0xdeadbeef0);		/* outside the image */
	fake_w64(h.f, arr + 16, 0x7);			/* misaligned */
	fake_w64(h.f, arr + 24, instance(&h, h.t_sub, 0));
	fake_w64(h.f, l + h.f->l.list_items, arr);
	fake_w64(h.f, l + h.f->l.list_items + 8, 4);
	fake_w64(h.f, track(&h, h.t_module, 0) + h.f->l.module_dict,
		 dict(&h, k_mod, (uint64_t[]){ str(&h, "m"), l }, 2));
	r = find(&h, 0);
	cr_assert_eq(r->types[0].sampled, 1);
	cr_assert_eq(r->types[0].npaths, 1);
	cr_assert(!strncmp(r->types[0].paths[0].text, "module m . SELF (list) [*] -> ", 30), "%s",
		  r->types[0].paths[0].text);
	cr_assert_geq(r->rejected, 1, "the torn pointers are counted");
	free(r);
	fake_free(h.f);
}

/*
 * A C type's fields (an asyncio Task: no header describes its struct) are
 * followed word by word: an object there holds, a number does not, the
 * word at tp_dictoffset is the instance's __dict__, and the weakrefs on the
 * list at tp_weaklistoffset are not held by it, nor what they refer to.
 */
Test(holders, the_fields_of_a_c_object_hold_but_its_weakrefs_do_not)
{
	struct heap h = heap_new();
	uint64_t t_task = fake_type(h.f, "_asyncio.Task", GC, 64, 0);
	uint64_t t_weak = fake_type(h.f, "weakref.ReferenceType", GC, 40, 0);
	uint64_t task = track(&h, t_task, 0), coro = instance(&h, h.t_sub, 0), attr = instance(&h, h.t_sub, 0);
	uint64_t weakly = instance(&h, h.t_sub, 0), wr = track(&h, t_weak, 0);
	const char *k_mod[] = { "__name__", "TASK" }, *k_attr[] = { "name" };
	struct holders_result *r;
	const struct holders_path *p;

	fake_w64(h.f, t_task + h.f->l.tp_dictoffset, 48);
	fake_w64(h.f, t_task + h.f->l.tp_weaklistoffset, 24);
	fake_w64(h.f, task + 16, str(&h, "loop"));
	fake_w64(h.f, task + 24, wr);			/* the weakref list */
	fake_w64(h.f, task + 32, coro);			/* a C field */
	fake_w64(h.f, task + 40, 0x1234);		/* a number */
	fake_w64(h.f, task + 48, dict(&h, k_attr, &attr, 1));
	fake_w64(h.f, wr + 16, weakly);			/* wr_object */
	fake_w64(h.f, track(&h, h.t_module, 0) + h.f->l.module_dict,
		 dict(&h, k_mod, (uint64_t[]){ str(&h, "app"), task }, 2));
	r = find(&h, 0);
	cr_assert_eq(r->types[0].found, 3);
	p = path_with(&r->types[0], "module app . TASK (_asyncio.Task) .<C field +32> -> Subscriber");
	cr_assert_not_null(p, "%s", r->types[0].paths[0].text);
	cr_assert_eq(p->reached, 1);
	cr_assert_eq(p->steps[2].kind, HOLDERS_ATTR);
	p = path_with(&r->types[0], "module app . TASK (_asyncio.Task) .name -> Subscriber");
	cr_assert_not_null(p, "the __dict__ at tp_dictoffset names its keys");
	p = path_with(&r->types[0], "held from C (refcount 1, 0 references found) -> Subscriber");
	cr_assert_not_null(p, "only a weakref refers to it");
	cr_assert_eq(p->reached, 1);
	cr_assert_eq(r->types[0].npaths, 3);
	free(r);
	fake_free(h.f);
}

Test(holdpath, digit_runs_collapse_to_one_pattern)
{
	char buf[64];

	holdpath_pattern("app.request.12345", buf, sizeof(buf));
	cr_assert_str_eq(buf, "app.request.<n>");
	holdpath_pattern("user42/session7", buf, sizeof(buf));
	cr_assert_str_eq(buf, "user<n>/session<n>");
	holdpath_pattern("plain", buf, sizeof(buf));
	cr_assert_str_eq(buf, "plain");
	holdpath_pattern("a-very-long-key-that-does-not-fit-at-all", buf, 16);
	cr_assert_eq(strlen(buf), 15);
	cr_assert_str_eq(buf + 12, "...");
}

Test(holdpath, key_labels_show_text_or_only_the_shape)
{
	char buf[64];

	holdpath_key_label(HOLDPATH_KEY_STR, "str", "req-12345-token", false, buf, sizeof(buf));
	cr_assert_str_eq(buf, "'req-<n>-token'");
	holdpath_key_label(HOLDPATH_KEY_STR, "str", "req-12345-token", true, buf, sizeof(buf));
	cr_assert_str_eq(buf, "<str>");
	holdpath_key_label(HOLDPATH_KEY_STR, "str", NULL, true, buf, sizeof(buf));
	cr_assert_str_eq(buf, "<str>");
	holdpath_key_label(HOLDPATH_KEY_INT, "int", NULL, false, buf, sizeof(buf));
	cr_assert_str_eq(buf, "<n>");
	holdpath_key_label(HOLDPATH_KEY_INT, "int", NULL, true, buf, sizeof(buf));
	cr_assert_str_eq(buf, "<int>");
	holdpath_key_label(HOLDPATH_KEY_OTHER, "bytes", NULL, true, buf, sizeof(buf));
	cr_assert_str_eq(buf, "<bytes>");
	holdpath_key_label(HOLDPATH_KEY_OTHER, "tuple", NULL, false, buf, sizeof(buf));
	cr_assert_str_eq(buf, "<tuple>");
	/* 41 characters of key: cut to 40 with "..." */
	holdpath_key_label(HOLDPATH_KEY_STR, "str", "abcdefghijabcdefghijabcdefghijabcdefghijX", false, buf,
			   sizeof(buf));
	cr_assert_eq(strlen(buf), 42);
	cr_assert(strstr(buf, "...'") != NULL, "%s", buf);
}

/* module app: CACHE = {"SECRET-...": Subscriber()}: the key's text is in the
 * path only when keys are shown. */
Test(holders, dict_keys_are_shown_by_shape_when_asked)
{
	static const char secret[] = "SECRET-9f3a1c";
	const char *k_mod[] = { "__name__", "CACHE" }, *k_cache[] = { secret };
	struct heap h = heap_new();
	struct holders_result *r;
	uint64_t sub, cache, m;

	sub = instance(&h, h.t_sub, 0);
	cache = dict(&h, k_cache, &sub, 1);
	m = track(&h, h.t_module, 0);
	fake_w64(h.f, m + h.f->l.module_dict, dict(&h, k_mod, (uint64_t[]){ str(&h, "app"), cache }, 2));
	for (int shapes = 0; shapes < 2; shapes++) {
		const struct holders_path *p;

		r = find_keys(&h, 0, shapes);
		cr_assert_eq(r->types[0].npaths, 1);
		p = &r->types[0].paths[0];
		cr_assert_eq(p->steps[2].kind, HOLDERS_KEY);
		if (shapes) {
			cr_assert_str_eq(p->text, "module app . CACHE (dict) [<str>] -> Subscriber");
			cr_assert_null(strstr(p->text, "SECRET"));
		} else {
			cr_assert_str_eq(p->text, "module app . CACHE (dict) ['SECRET-<n>f<n>a<n>c'] -> Subscriber");
		}
		free(r);
	}
	fake_free(h.f);
}
