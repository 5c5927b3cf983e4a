// SPDX-License-Identifier: MIT
/*
 * census: walk the CPython GC generation lists from outside and count live
 * tracked objects by type (see census.h for the contract).
 *
 * Cost model: one read per list node (GC head plus the object's first 24
 * bytes, adjacent in memory, so the remote reader's block cache serves most
 * of them), one validation read per distinct type, and name reads only for
 * the types that make it into the result. Per-type accounting uses an
 * open-addressing table keyed by type address, because a census sees
 * millions of objects but only hundreds to thousands of types.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/census/census.h"
#include "leakd/base/grow.h"
#include "leakd/census/heapwalk.h"
#include "leakd/python/pyname.h"

#define CENSUS_PTR_MASK (~(uint64_t)3)		/* _gc_next/_gc_prev tag bits */
#define CENSUS_MAX_ITEMS (1ll << 24)		/* larger ob_size values are not item counts */

static int census_u64(const struct memreader *m, uint64_t addr, uint64_t *out)
{
	return memreader_read_u64(m, addr, out);
}

/* ---- locating the GC state ---- */

/*
 * A real list head g has next->prev == g and prev->next == g (tags masked);
 * an empty one points at itself both ways. Returns 1 valid, 0 not, -errno
 * only for errors that are not about this candidate (-ESRCH, -EPERM).
 */
static int census_head_valid(const struct memreader *m, uint64_t g)
{
	uint64_t link[2], back;
	uint64_t next, prev;
	int err;

	err = memreader_read(m, g, link, sizeof(link));
	if (err < 0)
		return err == -EFAULT ? 0 : err;
	next = link[0] & CENSUS_PTR_MASK;
	prev = link[1] & CENSUS_PTR_MASK;
	if (!memreader_ptr_ok(next) || !memreader_ptr_ok(prev))
		return 0;
	if (next == g || prev == g)
		return next == g && prev == g;
	err = census_u64(m, next + 8, &back);
	if (err < 0)
		return err == -EFAULT ? 0 : err;
	if ((back & CENSUS_PTR_MASK) != g)
		return 0;
	err = census_u64(m, prev, &back);
	if (err < 0)
		return err == -EFAULT ? 0 : err;
	return (back & CENSUS_PTR_MASK) == g;
}

/*
 * Scores a candidate generations offset: -errno on hard errors, 0 when a
 * threshold is absurd, else 1 + the number of heads that validate (so 1 means
 * none did). A running target rewrites the young heads all the time, so one
 * stale head must not reject the layout; at a wrong offset none validates.
 */
static int census_gens_score(const struct memreader *m, const struct pylayout *l, uint64_t gc, uint32_t off,
			     uint32_t *mask)
{
	int score = 1;

	*mask = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t g = gc + off + (uint64_t)i * l->gc_gen_stride;
		int32_t thr;
		int r = memreader_read(m, g + l->gen_threshold, &thr, sizeof(thr));

		if (r < 0)
			return r == -EFAULT ? 0 : r;
		if (thr < 0 || thr > (1 << 30))
			return 0;
		r = census_head_valid(m, g);
		if (r < 0)
			return r;
		if (r) {
			*mask |= 1u << i;
			score++;
		}
	}
	return score;
}

int census_locate(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
		  struct census_gc_loc *out)
{
	struct census_gc_loc loc = { 0 };
	uint32_t cand[2];
	int err;

	if (!m || !l || !out || !runtime_addr)
		return -EINVAL;
	if (!l->known)
		return -ENOTSUP;
	if (l->gc_in_runtime) {
		loc.gc = runtime_addr + l->interp_gc;
	} else {
		err = census_u64(m, runtime_addr + l->rt_interp_head, &loc.interp);
		if (err < 0)
			return err;
		if (loc.interp == 0)
			return -ENOENT;
		if (!memreader_ptr_ok(loc.interp))
			return -EPROTO;
		loc.gc = loc.interp + l->interp_gc;
	}
	cand[0] = l->gc_gens;
	cand[1] = l->gc_gens_alt;
	for (int i = 0; i < 2; i++) {
		uint32_t mask;

		if (i == 1 && (cand[1] == 0 || cand[1] == cand[0]))
			break;
		err = census_gens_score(m, l, loc.gc, cand[i], &mask);
		if (err < 0)
			return err;
		if (err >= 2) {
			loc.gens_off = cand[i];
			loc.valid_heads = mask;
			*out = loc;
			return 0;
		}
	}
	return -EPROTO;
}

/* What every entry point that reads the GC state does first: it needs an
 * out to fill, then the GC state's place. Same returns as census_locate(). */
static int census_begin(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
			const void *out, struct census_gc_loc *loc)
{
	if (!out)
		return -EINVAL;
	return census_locate(m, l, runtime_addr, loc);
}

int census_gc_state(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
		    struct pygc_state *out)
{
	struct census_gc_loc loc;
	struct pygc_state st = { 0 };
	int32_t v;
	int err;

	err = census_begin(m, l, runtime_addr, out, &loc);
	if (err < 0)
		return err;
	err = memreader_read(m, loc.gc + l->gc_enabled, &v, sizeof(v));
	if (err < 0)
		return err;
	st.enabled = v != 0;
	err = memreader_read(m, loc.gc + l->gc_collecting, &v, sizeof(v));
	if (err < 0)
		return err;
	st.collecting = v;
	for (int i = 0; i < 3; i++) {
		uint64_t g = loc.gc + loc.gens_off + (uint64_t)i * l->gc_gen_stride;
		uint64_t s[3];

		err = memreader_read(m, g + l->gen_threshold, &st.threshold[i], sizeof(int));
		if (!err)
			err = memreader_read(m, g + l->gen_count, &st.count[i], sizeof(int));
		if (!err)
			err = memreader_read(m, loc.gc + l->gc_stats + (uint64_t)i * l->gc_stats_stride, s,
					     sizeof(s));
		if (err < 0)
			return err;
		st.collections[i] = s[0];
		st.collected[i] = s[1];
		st.uncollectable[i] = s[2];
	}
	*out = st;
	return 0;
}

/* ---- the walk ---- */

/* A tracked object whose referents the reachable walk will follow. */
struct census_seed {
	uint64_t obj;
	struct typetab_entry *t;
	int64_t ob_size;
};

struct census_ctx {
	const struct memreader *m;
	const struct pylayout *l;
	struct typetab tt;
	bool reachable;				/* collect seeds for census_reach() */
	bool keep_tracked;			/* hand their addresses to the caller */
	struct census_seed *seeds;
	size_t nseeds, seeds_cap, max_seeds;
	size_t max_types;
	struct heapwalk_limits heap;
	uint64_t other_objects, other_bytes;	/* types past TYPETAB_MAX_TYPES */
	uint64_t max_steps;
	void (*visit)(void *ctx, uint64_t node, uint64_t obj, uint64_t type);
	void *visit_ctx;
	struct census res;
};

static int census_add_seed(struct census_ctx *c, uint64_t obj, struct typetab_entry *t, int64_t ob_size)
{
	int r = grow_room((void **)&c->seeds, c->nseeds, &c->seeds_cap, sizeof(*c->seeds), 4096, c->max_seeds);

	if (r < 0)
		return r;
	if (r > 0) {
		if (!c->res.partial[0])
			snprintf(c->res.partial, sizeof(c->res.partial),
				 "more tracked objects than the reachable walk follows (%zu)", c->max_seeds);
		return 0;
	}
	c->seeds[c->nseeds++] = (struct census_seed){ obj, t, ob_size };
	return 0;
}

/*
 * Walks one list. Returns 0 (done, broken or truncated: see c->res) or a
 * hard -errno.
 */
/*
 * Reads one list node into buf: its GC head and the first 24 bytes of its
 * object, or 16 when 24 would cross the end of a mapping (a 16-byte object
 * at the end of one). Returns 0 or -errno (-EFAULT: not readable).
 */
static int census_read_node(const struct census_ctx *c, uint64_t node, unsigned char *buf,
			    size_t size)
{
	const uint32_t hs = c->l->gc_head_size;
	int err = memreader_read(c->m, node, buf, hs + 24);

	if (err == -EFAULT) {
		memset(buf, 0, size);
		err = memreader_read(c->m, node, buf, hs + 16);
	}
	return err;
}

/*
 * Counts the object at node against its type t: its size from the type's
 * basic and item sizes, and a seed for the reachability walk when one is
 * asked for. Sets *bytes. Returns 0 or -errno.
 */
static int census_count_typed(struct census_ctx *c, uint64_t node, const unsigned char *buf,
			      struct typetab_entry *t, int gen, uint64_t *bytes)
{
	const struct pylayout *l = c->l;
	const uint32_t hs = l->gc_head_size;
	int64_t raw_size, obsize = 0;
	int err;

	memcpy(&raw_size, buf + hs + l->ob_size, 8);
	/* |ob_size| (ints keep the sign there). Some types set
	 * tp_itemsize without an ob_size field (3.11+ generators
	 * keep a code pointer there): a count no real object
	 * reaches means "no item count". */
	if (t->itemsize)
		obsize = raw_size > CENSUS_MAX_ITEMS || raw_size < -CENSUS_MAX_ITEMS ? 0 :
			 raw_size < 0 ? -raw_size : raw_size;
	*bytes = hs + t->basicsize + t->itemsize * (uint64_t)obsize;
	if (t->flags & l->preheader_flags)
		*bytes += 16;
	if (c->reachable) {
		err = census_add_seed(c, node + hs, t, raw_size);
		if (err < 0)
			return err;
	}
	t->objects++;
	t->bytes += *bytes;
	t->gens[gen]++;
	return 0;
}

/* The census totals for one tracked object, and the caller's visit. */
static void census_count_tracked(struct census_ctx *c, uint64_t node, uint64_t type,
				 uint64_t bytes, int gen)
{
	c->res.tracked_objects++;
	c->res.tracked_bytes += bytes;
	c->res.size_objects[sizeclass_of(bytes)]++;
	c->res.size_bytes[sizeclass_of(bytes)] += bytes;
	c->res.gen_objects[gen]++;
	if (c->visit)
		c->visit(c->visit_ctx, node, node + c->l->gc_head_size, type);
}

static int census_walk_list(struct census_ctx *c, uint64_t head, int gen)
{
	const struct pylayout *l = c->l;
	const uint32_t hs = l->gc_head_size;
	uint64_t prev = head, node, first;
	int err;

	err = census_u64(c->m, head, &first);
	if (err < 0)
		return err == -EFAULT ? (c->res.broken_links++, 0) : err;
	node = first & CENSUS_PTR_MASK;

	while (node != head) {
		unsigned char buf[32 + 24];
		uint64_t nnext, nprev, type, bytes;
		struct typetab_entry *t;

		if (c->res.steps >= c->max_steps) {
			c->res.truncated = true;
			return 0;
		}
		c->res.steps++;
		if (!memreader_ptr_ok(node))
			goto broken;
		err = census_read_node(c, node, buf, sizeof(buf));
		if (err == -EFAULT)
			goto broken;
		if (err < 0)
			return err;
		memcpy(&nnext, buf, 8);
		memcpy(&nprev, buf + 8, 8);
		if ((nprev & CENSUS_PTR_MASK) != prev)
			goto broken;
		memcpy(&type, buf + hs + l->ob_type, 8);
		t = typetab_get(&c->tt, type, &err);
		if (err < 0)
			return err;
		if (t && (!t->valid || !(t->flags & PYLAYOUT_TPFLAGS_HAVE_GC)))
			goto broken;
		if (!t) {
			/* type table full: count it, unsized */
			c->other_objects++;
			c->other_bytes += hs;
			bytes = hs;
		} else {
			err = census_count_typed(c, node, buf, t, gen, &bytes);
			if (err < 0)
				return err;
		}
		census_count_tracked(c, node, type, bytes, gen);
		prev = node;
		node = nnext & CENSUS_PTR_MASK;
	}
	return 0;
broken:
	c->res.broken_links++;
	return 0;
}

static int census_cmp(const void *a, const void *b)
{
	const struct census_type *x = a, *y = b;

	if (x->objects != y->objects)
		return x->objects < y->objects ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return (x->type_addr > y->type_addr) - (x->type_addr < y->type_addr);
}

/* Builds the sorted, named, folded type array from the table. */
static int census_finish(struct census_ctx *c, size_t max_types)
{
	struct census_type *v;
	struct pyname_cache nc = { 0 };
	size_t n = 0, keep;
	uint64_t oo = c->other_objects, ob = c->other_bytes;

	struct typetab_entry *t;

	v = calloc(c->tt.used + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	typetab_foreach(&c->tt, t) {
		if (!t->valid || !t->objects)
			continue;
		v[n].type_addr = t->addr;
		v[n].objects = t->objects;
		v[n].bytes = t->bytes;
		memcpy(v[n].gens, t->gens, sizeof(v[n].gens));
		n++;
	}
	qsort(v, n, sizeof(*v), census_cmp);
	keep = n;
	if (n + (oo ? 1 : 0) > max_types) {
		keep = max_types > 1 ? max_types - 1 : 0;
		for (size_t i = keep; i < n; i++) {
			oo += v[i].objects;
			ob += v[i].bytes;
		}
	}
	for (size_t i = 0; i < keep; i++) {
		int r = pyname_type_cached(c->m, c->l, v[i].type_addr, v[i].name, sizeof(v[i].name), &nc);

		if (r == -ESRCH || r == -EPERM) {
			free(v);
			return r;
		}
		if (r <= 0)
			snprintf(v[i].name, sizeof(v[i].name), "<type 0x%llx>", (unsigned long long)v[i].type_addr);
	}
	if (oo) {
		memset(&v[keep], 0, sizeof(v[keep]));
		snprintf(v[keep].name, sizeof(v[keep].name), "(other)");
		v[keep].objects = oo;
		v[keep].bytes = ob;
		keep++;
		qsort(v, keep, sizeof(*v), census_cmp);
	}
	c->res.types = v;
	c->res.ntypes = keep;
	return 0;
}

static void census_ctx_free(struct census_ctx *c)
{
	if (!c)
		return;
	typetab_release(&c->tt);
	free(c->seeds);
	free(c->res.types);
	free(c);
}

/* Totals, the partial reason, and the sorted, named types: *out. */
static int census_complete(struct census_ctx *c, struct census *out)
{
	int err;

	if (!c->res.partial[0] && c->res.truncated)
		snprintf(c->res.partial, sizeof(c->res.partial), "more tracked objects than the walk's %llu steps",
			 (unsigned long long)c->max_steps);
	else if (!c->res.partial[0] && c->res.broken_links)
		snprintf(c->res.partial, sizeof(c->res.partial), "%d GC list(s) broken mid-walk (torn or hostile heap)",
			 c->res.broken_links);
	c->res.objects = c->res.tracked_objects + c->res.untracked_objects;
	c->res.bytes = c->res.tracked_bytes + c->res.untracked_bytes;
	err = census_finish(c, c->max_types);
	if (err < 0)
		return err;
	*out = c->res;
	c->res.types = NULL;
	return 0;
}

int census_walk(const struct memreader *m, const struct pylayout *l, uint64_t runtime_addr,
		const struct census_limits *lim, struct census *out)
{
	struct census_ctx *c;
	struct census_gc_loc loc;
	int err;

	err = census_begin(m, l, runtime_addr, out, &loc);
	if (err < 0)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	c->l = l;
	c->max_steps = lim && lim->max_steps ? lim->max_steps : CENSUS_DEFAULT_MAX_STEPS;
	c->max_types = lim && lim->max_types ? lim->max_types : CENSUS_DEFAULT_MAX_TYPES;
	c->max_seeds = lim && lim->max_seeds ? lim->max_seeds : CENSUS_DEFAULT_MAX_SEEDS;
	typetab_init(&c->tt, m, l);
	if (lim) {
		c->visit = lim->visit;
		c->visit_ctx = lim->visit_ctx;
		c->heap = lim->heap;
	}
	/* 3.7's 32-byte GC head has no "tracked" link to tell untracked
	 * objects by; it gets the list census only. */
	c->reachable = lim && lim->reachable && l->gc_head_size == 16;
	c->keep_tracked = c->reachable && lim->keep_tracked;

	for (int g = 0; g < 4 && !c->res.truncated; g++) {
		uint64_t head;

		if (g < 3) {
			head = loc.gc + loc.gens_off + (uint64_t)g * l->gc_gen_stride;
		} else {
			/* permanent generation: only if its head validates (gc.freeze() users) */
			head = loc.gc + l->gc_permanent;
			err = census_head_valid(m, head);
			if (err < 0)
				goto cleanup;
			if (err == 0)
				break;
		}
		err = census_walk_list(c, head, g);
		if (err < 0)
			goto cleanup;
	}
	if (c->reachable) {
		/* census_reach() follows the seeds and completes the census */
		memset(out, 0, sizeof(*out));
		out->pending = c;
		return 0;
	}
	err = census_complete(c, out);
cleanup:
	census_ctx_free(c);
	return err;
}

int census_reach(const struct memreader *m, struct census *inout)
{
	struct census_ctx *c;
	struct heapwalk *hw = NULL;
	struct heapwalk_stats hs;
	struct census res;
	int err = 0;

	if (!inout || !inout->pending)
		return -EINVAL;
	c = inout->pending;
	inout->pending = NULL;
	c->m = m;
	c->tt.m = m;
	err = heapwalk_new(m, c->l, &c->tt, &c->heap, &hw);
	for (size_t i = 0; !err && i < c->nseeds; i++) {
		const struct census_seed *sd = &c->seeds[i];
		uint64_t hdr[3];	/* ob_refcnt, ob_type, ob_size as they are now */
		int64_t extra;

		/* The target may have run since the list walk: an object freed
		 * or reused as another type is not decoded as what it was. */
		err = memreader_read(m, sd->obj, hdr, sizeof(hdr));
		if (err == -EFAULT || (!err && (!hdr[0] || hdr[1] != sd->t->addr))) {
			err = 0;
			continue;
		}
		if (err < 0)
			break;
		extra = heapwalk_visit(hw, sd->obj, sd->t, (int64_t)hdr[2]);

		if (extra < 0) {
			err = (int)extra;
			break;
		}
		/* what a tracked object owns (item array, tables) is its size too */
		sd->t->bytes += (uint64_t)extra;
		c->res.tracked_bytes += (uint64_t)extra;
	}
	if (err < 0)
		goto cleanup;
	heapwalk_stats(hw, &hs);
	c->res.reachable = true;
	c->res.untracked_objects = hs.objects;
	c->res.untracked_bytes = hs.bytes;
	c->res.refs = hs.refs;
	c->res.rejected = hs.rejected;
	c->res.set_bytes = hs.set_bytes;
	if (hs.partial && !c->res.partial[0])
		snprintf(c->res.partial, sizeof(c->res.partial), "%s", hs.partial_reason);
	c->res.ncontainers = heapwalk_containers(hw, c->res.containers, CENSUS_CONTAINERS);
	err = census_complete(c, &res);
	if (!err && c->keep_tracked) {
		/* the seeds become the address list, in place */
		uint64_t *addrs = (uint64_t *)c->seeds;

		for (size_t i = 0; i < c->nseeds; i++)
			addrs[i] = c->seeds[i].obj;
		res.tracked = addrs;
		res.ntracked = c->nseeds;
		c->seeds = NULL;
		c->nseeds = c->seeds_cap = 0;
	}
	if (!err)
		*inout = res;
cleanup:
	heapwalk_free(hw);
	census_ctx_free(c);
	return err;
}

void census_free(struct census *c)
{
	if (!c)
		return;
	census_ctx_free(c->pending);
	free(c->types);
	free(c->tracked);
	memset(c, 0, sizeof(*c));
}
