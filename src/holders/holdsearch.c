// SPDX-License-Identifier: MIT
/*
 * holdsearch: the search core of a holder search (see holdsearch.h): the
 * nodes and the set of objects met, the roots' bookkeeping, the samples
 * drawn from the instances met, and the breadth-first expansion over the
 * pyrefs decoders. Called by holders.c (the phases), holdroots.c (adding
 * roots) and holdpath.c (reading types); it calls none of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/holders/holdsearch.h"
#include "leakd/python/pyrefs.h"

/* splitmix64: the reservoir's choices, reproducible from the query's seed */
static uint64_t hs_rand(struct holdsearch *hs)
{
	uint64_t z = (hs->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void holdsearch_partial(struct holdsearch *hs, const char *reason)
{
	if (!hs->partial)
		snprintf(hs->reason, sizeof(hs->reason), "%s", reason);
	hs->partial = true;
}

int holdsearch_init(struct holdsearch *hs, const struct memreader *m, const struct pylayout *l,
		    const struct holders_query *q)
{
	memset(hs, 0, sizeof(*hs));
	hs->m = m;
	hs->l = l;
	hs->q = q;
	hs->max = q->max_nodes ? q->max_nodes : HOLDERS_DEFAULT_MAX_NODES;
	if (hs->max >= HNODE_ROOT)
		hs->max = HNODE_ROOT - 1;
	hs->rng = q->seed;
	typetab_init(&hs->tt, m, l);
	return addrset_new(HOLDERS_SEEN_MAX_BYTES, &hs->seen);
}

void holdsearch_release(struct holdsearch *hs)
{
	typetab_release(&hs->tt);
	free(hs->nodes);
	addrset_free(hs->seen);
	free(hs->roots);
	memset(hs, 0, sizeof(*hs));
}

bool holdsearch_seen(const struct holdsearch *hs, uint64_t addr)
{
	return hs->seen && addrset_has(hs->seen, addr);
}

/* Marks addr met. Returns 1 the first time, 0 after, -ENOSPC when the set is
 * at its limit (the search is then partial). */
static int hs_meet(struct holdsearch *hs, uint64_t addr)
{
	int r = addrset_add(hs->seen, addr);

	if (r == -ENOSPC)
		holdsearch_partial(hs, "the holder search's set of met objects reached its memory limit");
	return r == -EINVAL ? 0 : r;
}

/* The array arr (capacity *cap, `first` at first) with room for element
 * n, or NULL when out of memory (arr is then still valid). */
static void *hs_reserve(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *na;

	if (n < *cap)
		return arr;
	na = realloc(arr, ncap * elem);
	if (na)
		*cap = ncap;
	return na;
}

/* Appends a node. Returns its index, -ENOSPC (full), -ENOMEM. */
static long hs_add(struct holdsearch *hs, uint64_t addr, uint32_t parent, uint8_t ekind, uint64_t key)
{
	struct hnode *nn;

	if (hs->n >= hs->max) {
		char why[96];

		snprintf(why, sizeof(why), "the holder search keeps at most %zu objects", hs->max);
		holdsearch_partial(hs, why);
		return -ENOSPC;
	}
	nn = hs_reserve(hs->nodes, &hs->cap, hs->n, sizeof(*nn), 4096);
	if (!nn)
		return -ENOMEM;
	hs->nodes = nn;
	hs->nodes[hs->n] = (struct hnode){ .addr = addr, .key = key, .parent = parent, .ekind = ekind };
	return (long)hs->n++;
}

/* Meets the object p, held by node `parent` through (ekind, key): a node
 * when it can hold others, offered to its type's samples when queried.
 * Returns 0, -ENOSPC when the search is full (partial), or a hard -errno. */
static int hs_visit(struct holdsearch *hs, uint64_t p, uint32_t parent, uint8_t ekind, uint64_t key);

int holdsearch_root(struct holdsearch *hs, uint64_t obj, uint8_t kind, const char *label)
{
	struct hroot *nr;
	size_t before = hs->n;
	int err;

	if (!memreader_ptr_ok(obj) || holdsearch_seen(hs, obj))
		return 0;
	nr = hs_reserve(hs->roots, &hs->rcap, hs->nroots, sizeof(*nr), 256);
	if (!nr)
		return -ENOMEM;
	hs->roots = nr;
	hs->roots[hs->nroots].kind = kind;
	snprintf(hs->roots[hs->nroots].label, sizeof(hs->roots[0].label), "%s", label);
	err = hs_visit(hs, obj, HNODE_ROOT, 0, hs->nroots);
	if (hs->n > before)
		hs->nroots++;	/* the root's node names it by this index */
	return err;
}

struct typetab_entry *holdsearch_type(struct holdsearch *hs, uint64_t obj, uint64_t hdr[3])
{
	struct typetab_entry *t;
	int err;

	if (!memreader_ptr_ok(obj) || memreader_read(hs->m, obj, hdr, 3 * sizeof(uint64_t)) < 0)
		return NULL;
	if (!hdr[0] || !memreader_ptr_ok(hdr[1]))
		return NULL;	/* freed since it was seen, or not an object */
	t = typetab_get(&hs->tt, hdr[1], &err);
	return t && t->valid ? t : NULL;
}

bool holdsearch_holds(const struct typetab_entry *t)
{
	switch (t->kind) {
	case PYK_LIST: case PYK_TUPLE: case PYK_DICT: case PYK_SET: case PYK_DEQUE:
	case PYK_CELL: case PYK_FUNCTION: case PYK_METHOD: case PYK_MODULE: case PYK_TYPE:
	case PYK_GEN: case PYK_FRAME:
		return true;
	case PYK_OTHER:	/* a class's instances; a C type's fields (pyrefs native_fields) */
		return (t->flags & (PYLAYOUT_TPFLAGS_HEAPTYPE | PYLAYOUT_TPFLAGS_HAVE_GC)) != 0;
	default:
		return (t->flags & PYLAYOUT_TPFLAGS_HEAPTYPE) != 0;
	}
}

int holdsearch_query_index(const struct holdsearch *hs, uint64_t type)
{
	for (size_t i = 0; i < hs->q->ntypes; i++)
		if (hs->q->types[i] == type)
			return (int)i;
	return -1;
}

static bool hs_is_older(const struct holders_query *q, uint64_t addr)
{
	size_t lo = 0, hi = q->older ? q->nolder : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->older[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < (q->older ? q->nolder : 0) && q->older[lo] == addr;
}

/* Reservoir sampling: every instance met has the same chance to be kept,
 * within its class (new since the previous census, or older). The slot the
 * n+1th candidate of `seen` takes, or -1. */
static int hs_reservoir(struct holdsearch *hs, uint32_t n, uint64_t seen)
{
	uint64_t j;

	if (n < HOLDERS_SAMPLES)
		return (int)n;
	j = hs_rand(hs) % seen;
	return j < HOLDERS_SAMPLES ? (int)j : -1;
}

/* Offers an instance of queried type qi to its samples. node: its node, or
 * -1 for an atom, which gets one (never expanded) only if a sample takes
 * it. Returns 0 or -ENOMEM. */
static int hs_sample(struct holdsearch *hs, const struct typetab_entry *t, int qi, uint64_t addr, long node,
		     uint32_t parent, uint8_t ekind, uint64_t key)
{
	/* only tracked objects can be told older: atoms all count as new */
	bool older = (t->flags & PYLAYOUT_TPFLAGS_HAVE_GC) && hs_is_older(hs->q, addr);
	uint32_t *res = older ? hs->older[qi] : hs->samples[qi];
	uint32_t *n = older ? &hs->nolder[qi] : &hs->nsamp[qi];
	uint64_t seen;
	int slot;

	hs->found[qi]++;
	seen = older ? ++hs->found_older[qi] : hs->found[qi] - hs->found_older[qi];
	slot = hs_reservoir(hs, *n, seen);
	if (slot < 0)
		return 0;
	if (node < 0 && (node = hs_add(hs, addr, parent, ekind, key)) < 0)
		return node == -ENOSPC ? 0 : (int)node;
	res[slot] = (uint32_t)node;
	if ((uint32_t)slot == *n)
		(*n)++;
	return 0;
}

void holdsearch_take_older(struct holdsearch *hs)
{
	for (size_t qi = 0; qi < hs->q->ntypes; qi++)
		for (uint32_t i = 0; i < hs->nolder[qi] && hs->nsamp[qi] < HOLDERS_SAMPLES; i++)
			hs->samples[qi][hs->nsamp[qi]++] = hs->older[qi][i];
}

static int hs_visit(struct holdsearch *hs, uint64_t p, uint32_t parent, uint8_t ekind, uint64_t key)
{
	uint64_t type;
	struct typetab_entry *t;
	long node = -1;
	int qi, err = 0;

	if (!memreader_ptr_ok(p) || holdsearch_seen(hs, p))
		return 0;
	if (memreader_read_u64(hs->m, p + hs->l->ob_type, &type) < 0 || !memreader_ptr_ok(type)) {
		hs->rejected++;
		return 0;
	}
	t = typetab_get(&hs->tt, type, &err);
	if (err < 0 && err != -EFAULT)
		return err;
	if (!t || !t->valid) {
		hs->rejected++;
		return 0;
	}
	err = hs_meet(hs, p);
	if (err <= 0)
		return err;
	if (holdsearch_holds(t) && (node = hs_add(hs, p, parent, ekind, key)) < 0)
		return (int)node;
	qi = holdsearch_query_index(hs, type);
	return qi < 0 ? 0 : hs_sample(hs, t, qi, p, node, parent, ekind, key);
}

struct hs_sink {
	struct pyrefs_sink s;
	struct holdsearch *hs;
};

/* pyrefs sink: keeps the referents wanted, with the edge that holds them */
static int hs_sink_ref(void *ctx, uint64_t p)
{
	struct hs_sink *k = ctx;

	return hs_visit(k->hs, p, k->hs->cur, k->s.edge.kind,
			k->s.edge.kind == PYREF_DICT_VALUE ? k->s.edge.key : k->s.edge.index);
}

/* Shared keys are strings: nothing to hold. */
static int hs_sink_first(void *ctx, uint64_t addr)
{
	(void)ctx, (void)addr;
	return 0;
}

int holdsearch_run(struct holdsearch *hs)
{
	struct hs_sink k = { .s = { .ref = hs_sink_ref, .first = hs_sink_first, .native_fields = true }, .hs = hs };

	k.s.ctx = &k;
	for (; hs->next < hs->n; hs->next++) {
		uint64_t hdr[3];
		struct typetab_entry *t = holdsearch_type(hs, hs->nodes[hs->next].addr, hdr);
		int64_t r;

		if (!t) {
			hs->rejected++;
			continue;
		}
		if (!holdsearch_holds(t))
			continue;	/* an atom a sample took */
		hs->cur = (uint32_t)hs->next;
		r = pyrefs_decode(hs->m, hs->l, hs->nodes[hs->next].addr, t, (int64_t)hdr[2], &k.s);
		if (r == -ENOSPC)
			continue;	/* full: what is kept is still searched for samples */
		if (r < 0 && r != -EFAULT)
			return (int)r;
	}
	hs->rejected += k.s.rejected;
	return 0;
}
