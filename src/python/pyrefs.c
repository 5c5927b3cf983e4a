// SPDX-License-Identifier: MIT
/*
 * pyrefs: the referents of one object, per version (see pyrefs.h).
 *
 * Every field read here comes from the target and is checked before use:
 * counts against the allocation they index, table sizes against powers of
 * two and a ceiling, pointers against alignment and the user address range
 * (the sink checks each referent's type). An inconsistent field ends that
 * object's decoding and is counted in sink->rejected.
 */
#include <errno.h>
#include <string.h>

#include "leakd/python/pyrefs.h"

#define CHUNK_PTRS 128			/* pointers read per item-array chunk */
#define PR_DICT_RECHECK 256		/* entries from which a dict's table is checked fresh */
#define MAX_TABLE_LOG2 28		/* hash tables beyond 2^28 slots are torn */
#define DEQUE_BLOCKLEN 64
#define DEQUE_BLOCK_BYTES (8 + DEQUE_BLOCKLEN * 8 + 8)
#define DEQUE_LEFT 24			/* leftblock, rightblock, leftindex, rightindex */
#define MANAGED_DICT_AT 24		/* bytes before the object: managed dict (3.11+) */
#define MANAGED_VALUES_AT 32		/* 3.11: the values pointer */
#define NATIVE_FIELDS_MAX 512		/* bytes of a C object's fixed part scanned for references */

struct pyrefs_ctx {
	const struct memreader *m;
	const struct pylayout *l;
	struct pyrefs_sink *s;
};

/* A field that could not be read or does not hold together (-EFAULT) ends
 * this object's decoding and is counted; any other error is the caller's. */
static int pr_reject(struct pyrefs_ctx *c, int r)
{
	if (r != -EFAULT)
		return r;
	c->s->rejected++;
	return 0;
}

static inline void pr_edge(struct pyrefs_ctx *c, uint8_t kind, uint64_t key, uint64_t index)
{
	c->s->edge = (struct pyrefs_edge){ kind, key, index };
}

/* n pointers at addr, each a referent: items kind, numbered from first;
 * *done (if not NULL) counts those passed on. A failed read returns its
 * -errno raw (the caller may retry) when done is given, else rejects. */
static int pr_array_read(struct pyrefs_ctx *c, uint64_t addr, uint64_t n, uint8_t kind, uint64_t first,
			 bool fresh, uint64_t *done)
{
	uint64_t buf[CHUNK_PTRS];

	while (n) {
		size_t k = n < CHUNK_PTRS ? (size_t)n : CHUNK_PTRS;
		int r = fresh ? memreader_read_fresh(c->m, addr, buf, k * 8) : memreader_read(c->m, addr, buf, k * 8);

		if (r < 0)
			return done ? r : pr_reject(c, r);
		for (size_t i = 0; i < k; i++) {
			pr_edge(c, kind, 0, first + i);
			r = c->s->ref(c->s->ctx, buf[i]);
			if (r < 0)
				return r;
		}
		addr += k * 8;
		n -= k;
		first += k;
		if (done)
			*done += k;
	}
	return 0;
}

static int pr_array_as(struct pyrefs_ctx *c, uint64_t addr, uint64_t n, uint8_t kind, uint64_t first)
{
	return pr_array_read(c, addr, n, kind, first, false, NULL);
}

static int pr_array(struct pyrefs_ctx *c, uint64_t addr, uint64_t n)
{
	return pr_array_as(c, addr, n, PYREF_ITEM, 0);
}

/* A list's items. The target runs while leakd reads: a list that grows
 * moves its item array, and the old one can be unmapped mid-read. Then the
 * header is read again past the cache and the items from where the read
 * stopped, twice at most (measured: a 60k-item list growing 2,000 items/s,
 * read under load, lost its tail, and the holder search then named its
 * newest items "held from C"). */
static int pr_list(struct pyrefs_ctx *c, uint64_t obj, uint64_t n, uint64_t *bytes)
{
	const struct pylayout *l = c->l;
	uint64_t la[2], done = 0;	/* ob_item, allocated; items passed on */
	bool sized = false;
	int r = 0;

	for (int attempt = 0; attempt < 3; attempt++) {
		bool fresh = attempt > 0;

		r = fresh ? memreader_read_fresh(c->m, obj + l->list_items, la, sizeof(la)) :
			    memreader_read(c->m, obj + l->list_items, la, sizeof(la));
		if (!r && fresh) {
			int64_t size;

			r = memreader_read_fresh(c->m, obj + l->ob_size, &size, sizeof(size));
			if (!r && pyrefs_items(size) < n)
				n = pyrefs_items(size);	/* it shrank meanwhile */
		}
		if (!r && (la[1] > (uint64_t)PYREFS_MAX_ITEMS || n > la[1]))
			r = -EFAULT;
		if (r == -EFAULT)
			continue;	/* a stale header: ask again */
		if (r < 0)
			break;
		if (!sized) {
			*bytes = la[1] * 8;
			c->s->items = n;
			sized = true;
		}
		if (done >= n)
			return 0;
		r = pr_array_read(c, la[0] + done * 8, n - done, PYREF_ITEM, done, fresh, &done);
		if (r != -EFAULT)
			return r;
	}
	return pr_reject(c, r);
}

/* The referent in the pointer field at addr, held as kind/index. */
static int pr_at(struct pyrefs_ctx *c, uint64_t addr, uint8_t kind, uint64_t index)
{
	uint64_t p;
	int r = memreader_read_u64(c->m, addr, &p);

	if (r < 0)
		return pr_reject(c, r);
	pr_edge(c, kind, 0, index);
	return c->s->ref(c->s->ctx, p);
}

/*
 * Dict values that live apart from the keys: <=3.10 a plain array of
 * `slots`; 3.11/3.12 an array whose byte prefix holds the insertion order;
 * 3.13+ a header {capacity, size, embedded, valid}. Adds their own size to
 * *bytes unless they are embedded in an instance (counted with it).
 */
static int pr_values(struct pyrefs_ctx *c, uint64_t v, uint64_t slots, uint64_t *bytes)
{
	const struct pylayout *l = c->l;

	if (!memreader_ptr_ok(v))
		return 0;
	if (l->dict_values_kind == PYLAYOUT_VALUES_ARRAY) {
		*bytes += slots * 8;
		return pr_array_as(c, v, slots, PYREF_VALUES_SLOT, 0);
	}
	if (l->dict_values_kind == PYLAYOUT_VALUES_PREFIX) {
		uint8_t pre[256];
		uint8_t ps = 0;
		int r = memreader_read(c->m, v - 1, &ps, 1);

		if (!r && ps < 2)
			r = -EFAULT;	/* the prefix holds its own size and the count at least */
		if (!r)
			r = memreader_read(c->m, v - ps, pre, ps);
		if (!r && pre[ps - 2] > ps - 2)
			r = -EFAULT;	/* more values than the order array has room for */
		if (r < 0)
			return pr_reject(c, r);
		*bytes += ps + slots * 8;
		/* order[i] at v - 3 - i: the slot of the i-th inserted value */
		for (int i = 0; i < pre[ps - 2]; i++) {
			r = pr_at(c, v + 8ull * pre[ps - 3 - i], PYREF_VALUES_SLOT, pre[ps - 3 - i]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	uint8_t hdr[4];
	int r = memreader_read(c->m, v, hdr, sizeof(hdr));

	if (r < 0)
		return pr_reject(c, r);
	if (!hdr[2])	/* not embedded: a separate block with its order array */
		*bytes += 8 + hdr[0] * 9ull;
	return hdr[3] || !hdr[2] ? pr_array_as(c, v + 8, hdr[0], PYREF_VALUES_SLOT, 0) : 0;
}

/* Where a dict keys table keeps its entries, as read from the target. */
struct pr_keys {
	uint64_t size, nentries, entries;	/* slots, entries used, first entry */
	uint64_t esize, koff, voff;		/* entry size, key and value offsets in it */
	bool shared;				/* 3.11+ DICT_KEYS_SPLIT */
};

static int pr_keys_read(const struct memreader *m, const struct pylayout *l, uint64_t keys, struct pr_keys *k)
{
	int r = memreader_ptr_ok(keys) ? 0 : -EFAULT;

	*k = (struct pr_keys){ .size = 1, .esize = 24, .koff = 8, .voff = 16 };
	if (!r && l->dict_keys_log2) {
		uint8_t h[3] = { 0 };

		r = memreader_read(m, keys + l->dk_size, h, sizeof(h));
		if (!r && (h[0] > MAX_TABLE_LOG2 || h[1] > MAX_TABLE_LOG2 + 3))
			r = -EFAULT;
		k->size = 1ull << (h[0] & 63);
		k->esize = h[2] == 0 ? 24 : 16;	/* DICT_KEYS_GENERAL: {hash, key, value} */
		k->koff = h[2] == 0 ? 8 : 0;
		k->voff = k->koff + 8;
		k->entries = keys + l->dk_indices + (1ull << (h[1] & 63));
		k->shared = h[2] == 2;
	} else if (!r) {
		r = memreader_read_u64(m, keys + l->dk_size, &k->size);
		if (!r && (!k->size || k->size > (1ull << MAX_TABLE_LOG2) || (k->size & (k->size - 1))))
			r = -EFAULT;
		k->entries = keys + l->dk_indices +
			     k->size * (k->size <= 0xff ? 1 : k->size <= 0xffff ? 2 : k->size <= 0xffffffffull ? 4 : 8);
	}
	if (!r)
		r = memreader_read_u64(m, keys + l->dk_nentries, &k->nentries);
	if (!r && k->nentries > (k->size << 1) / 3)
		r = -EFAULT;
	return r;
}

int pyrefs_keys_slot(const struct memreader *m, const struct pylayout *l, uint64_t keys, uint64_t slot,
		     uint64_t *key)
{
	struct pr_keys k;
	int r = pr_keys_read(m, l, keys, &k);

	if (r < 0)
		return r;
	if (slot >= k.nentries)
		return -ENOENT;
	return memreader_read_u64(m, k.entries + slot * k.esize + k.koff, key);
}

int pyrefs_dict_get(const struct memreader *m, const struct pylayout *l, uint64_t dict,
		    int (*match)(void *ctx, uint64_t key), void *ctx, uint64_t *val)
{
	uint64_t keys, values;
	struct pr_keys k;
	int r = memreader_read_u64(m, dict + l->dict_keys, &keys);

	if (!r)
		r = memreader_read_u64(m, dict + l->dict_values, &values);
	if (!r)
		r = pr_keys_read(m, l, keys, &k);
	if (!r && (k.shared || values))
		r = -ENOTSUP;	/* split: instance dicts, not the namespaces looked up here */
	if (!r && k.nentries > PYREFS_DICT_SCAN_MAX)
		r = -E2BIG;
	for (uint64_t i = 0; !r && i < k.nentries; i++) {
		uint64_t e[3], *key, *v;

		r = memreader_read(m, k.entries + i * k.esize, e, k.esize);
		key = &e[k.koff / 8], v = &e[k.voff / 8];
		if (r || !*v || !memreader_ptr_ok(*key))
			continue;
		r = match(ctx, *key);
		if (r > 0) {
			*val = *v;
			return 0;
		}
	}
	return r < 0 ? r : -ENOENT;
}

static int pr_dict(struct pyrefs_ctx *c, uint64_t obj, uint64_t *bytes)
{
	const struct pylayout *l = c->l;
	uint64_t keys = 0, values = 0, nentries, usable, entries, esize, koff, voff;
	uint64_t tab_bytes;
	struct pr_keys k;
	bool split;
	int r;

	r = memreader_read_u64(c->m, obj + l->dict_keys, &keys);
	if (!r)
		r = memreader_read_u64(c->m, obj + l->dict_values, &values);
	if (!r)
		r = pr_keys_read(c->m, l, keys, &k);
	if (!r && k.nentries >= PR_DICT_RECHECK) {
		/* A dict that grows while leakd reads it gets a new keys table
		 * and frees the old one, whose entries then fill with other data
		 * (measured: under load, 15 of 200 sampled values of a 3,000-entry
		 * dict came with a key leakd could not read). One read past the
		 * cache says which table
		 * is current; small dicts are not worth the system call. */
		uint64_t now = keys;

		r = memreader_read_fresh(c->m, obj + l->dict_keys, &now, sizeof(now));
		if (!r && now != keys) {
			keys = now;
			r = memreader_read_fresh(c->m, obj + l->dict_values, &values, sizeof(values));
			if (!r)
				r = pr_keys_read(c->m, l, keys, &k);
		}
	}
	if (r < 0)
		return pr_reject(c, r);
	nentries = k.nentries, entries = k.entries, esize = k.esize, koff = k.koff, voff = k.voff;
	usable = (k.size << 1) / 3;
	split = k.shared || values;
	c->s->items = nentries;
	tab_bytes = entries - keys + usable * esize;

	/* Shared keys (split tables) are counted, and their keys followed,
	 * once per walk, not once per instance. */
	r = split ? c->s->first(c->s->ctx, keys & ~7ull) : 1;
	if (r < 0)
		return r;
	if (r > 0) {
		*bytes += tab_bytes;
		for (uint64_t i = 0; i < nentries;) {
			uint64_t e[CHUNK_PTRS];
			size_t per = CHUNK_PTRS * 8 / esize, n = nentries - i < per ? (size_t)(nentries - i) : per;

			r = memreader_read(c->m, entries + i * esize, e, n * esize);
			if (r == -EFAULT) {
				c->s->rejected++;
				break;
			}
			if (r < 0)
				return r;
			for (size_t j = 0; j < n; j++) {
				const uint64_t *ent = e + j * (esize / 8);

				/* a deleted entry has no value (and a dummy key) */
				if (!split && !ent[voff / 8])
					continue;
				pr_edge(c, PYREF_DICT_KEY, 0, i + j);
				r = c->s->ref(c->s->ctx, ent[koff / 8]);
				if (!r && !split) {
					pr_edge(c, PYREF_DICT_VALUE, ent[koff / 8], i + j);
					r = c->s->ref(c->s->ctx, ent[voff / 8]);
				}
				if (r < 0)
					return r;
			}
			i += n;
		}
	}
	return split ? pr_values(c, values, nentries, bytes) : 0;
}

static int pr_set(struct pyrefs_ctx *c, uint64_t obj, uint64_t *bytes)
{
	const struct pylayout *l = c->l;
	uint64_t mask, table;
	int r = memreader_read_u64(c->m, obj + l->set_mask, &mask);

	if (!r)
		r = memreader_read_u64(c->m, obj + l->set_table, &table);
	if (!r && (mask >= (1ull << MAX_TABLE_LOG2) || ((mask + 1) & mask) || !memreader_ptr_ok(table)))
		r = -EFAULT;
	if (r < 0)
		return pr_reject(c, r);
	if (table != obj + l->set_smalltable)
		*bytes += (mask + 1) * 16;
	for (uint64_t i = 0; i <= mask;) {
		uint64_t e[CHUNK_PTRS];
		size_t k = mask + 1 - i < CHUNK_PTRS / 2 ? (size_t)(mask + 1 - i) : CHUNK_PTRS / 2;

		r = memreader_read(c->m, table + i * 16, e, k * 16);
		if (r < 0)
			return pr_reject(c, r);
		for (size_t j = 0; j < k; j++) {
			/* {key, hash}: empty slots have no key, dummies hash -1 */
			if (!e[2 * j] || e[2 * j + 1] == ~0ull)
				continue;
			c->s->items++;
			pr_edge(c, PYREF_SET_MEMBER, 0, i + j);
			r = c->s->ref(c->s->ctx, e[2 * j]);
			if (r < 0)
				return r;
		}
		i += k;
	}
	return 0;
}

static int pr_deque(struct pyrefs_ctx *c, uint64_t obj, uint64_t n, uint64_t *bytes)
{
	int64_t d[4];	/* leftblock, rightblock, leftindex, rightindex */
	uint64_t b, left, nblocks = 0;
	int r = memreader_read(c->m, obj + DEQUE_LEFT, d, sizeof(d));

	if (r < 0)
		return pr_reject(c, r);
	b = (uint64_t)d[0];
	left = (uint64_t)d[2];
	while (n && memreader_ptr_ok(b) && nblocks <= n / DEQUE_BLOCKLEN + 2 && left < DEQUE_BLOCKLEN) {
		uint64_t last = b == (uint64_t)d[1] ? (uint64_t)d[3] : DEQUE_BLOCKLEN - 1, k;

		if (last < left || last >= DEQUE_BLOCKLEN)
			break;
		k = last - left + 1 < n ? last - left + 1 : n;
		r = pr_array_as(c, b + 8 + left * 8, k, PYREF_ITEM, 0);
		if (r < 0)
			return r;
		n -= k;
		nblocks++;
		left = 0;
		if (memreader_read_u64(c->m, b + 8 + DEQUE_BLOCKLEN * 8, &b))
			break;
	}
	*bytes += (nblocks ? nblocks : 1) * DEQUE_BLOCK_BYTES;
	return 0;
}

/* __dict__, managed dict or inline values, and __slots__ of an instance of
 * a heap type. */
static int pr_instance(struct pyrefs_ctx *c, uint64_t obj, const struct typetab_entry *t, int64_t ob_size,
		       uint64_t *bytes)
{
	const struct pylayout *l = c->l;
	uint64_t p;
	int r = 0;

	if (l->managed != PYLAYOUT_MANAGED_NONE && (t->flags & PYLAYOUT_TPFLAGS_MANAGED_DICT)) {
		r = memreader_read_u64(c->m, obj - MANAGED_DICT_AT, &p);
		if (r < 0)
			return pr_reject(c, r);
		if (l->managed == PYLAYOUT_MANAGED_311) {
			uint64_t v;

			r = memreader_read_u64(c->m, obj - MANAGED_VALUES_AT, &v);
			if (!r && v)
				r = pr_values(c, v, 0, bytes);
		} else if (l->managed == PYLAYOUT_MANAGED_312 && (p & 1)) {
			r = pr_values(c, p + 1, 0, bytes);	/* tagged: values - 1 */
			p = 0;
		} else if (l->managed == PYLAYOUT_MANAGED_313 && !p && (t->flags & PYLAYOUT_TPFLAGS_INLINE_VALUES)) {
			r = pr_values(c, obj + t->basicsize, 0, bytes);
		}
		if (!r && p) {
			pr_edge(c, PYREF_INST_DICT, 0, 0);
			r = c->s->ref(c->s->ctx, p);
		}
	} else if (t->dictoffset > 0 && (uint64_t)t->dictoffset + 8 <= t->basicsize) {
		r = pr_at(c, obj + (uint64_t)t->dictoffset, PYREF_INST_DICT, 0);
	} else if (t->dictoffset < 0 && t->dictoffset > -(1 << 20)) {
		/* counted from the end of a variable-size object */
		uint64_t size = (t->basicsize + pyrefs_items(ob_size) * t->itemsize + 7) & ~7ull;

		r = pr_at(c, obj + size + (uint64_t)t->dictoffset, PYREF_INST_DICT, 0);
	}
	for (unsigned i = 0; !r && i < t->nslots; i++)
		r = pr_at(c, obj + t->slot_off[i], PYREF_SLOT, t->slot_off[i]);
	return r < 0 ? pr_reject(c, r) : 0;
}

/* The fields of an object of a C type no decoder knows, as pointers: every
 * non-zero word after the header but the __slots__ words the instance
 * decoder passes with their names; the word at tp_dictoffset is the
 * instance's __dict__ (passed by the instance decoder for heap types). */
static int pr_native_fields(struct pyrefs_ctx *c, uint64_t obj, const struct typetab_entry *t)
{
	uint64_t words[NATIVE_FIELDS_MAX / 8];
	uint64_t size = t->basicsize < NATIVE_FIELDS_MAX ? t->basicsize & ~7ull : NATIVE_FIELDS_MAX;
	int r = size > 16 ? memreader_read(c->m, obj + 16, words, size - 16) : 0;

	if (r < 0)
		return pr_reject(c, r);
	for (uint64_t off = 16; off < size; off += 8) {
		bool dict = t->dictoffset == (int64_t)off, named = dict && (t->flags & PYLAYOUT_TPFLAGS_HEAPTYPE);

		named |= t->weaklistoffset == (int64_t)off;	/* the weakrefs to it are not held by it */
		for (unsigned i = 0; !named && i < t->nslots; i++)
			named = t->slot_off[i] == off;
		if (named || !words[off / 8 - 2])
			continue;
		pr_edge(c, dict ? PYREF_INST_DICT : PYREF_NATIVE_FIELD, 0, dict ? 0 : off);
		r = c->s->ref(c->s->ctx, words[off / 8 - 2]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The locals of the frame at frame (as many as its code names), then what
 * its value stack holds while it is suspended: an awaited coroutine, a for
 * loop's iterator. */
static int pr_frame_locals(struct pyrefs_ctx *c, uint64_t frame)
{
	const struct pylayout *l = c->l;
	struct pyrefs_names nm;
	uint64_t code, base = 0, depth = 0;
	int r = memreader_read_u64(c->m, frame + l->frame_code, &code);

	if (!r)
		r = pyrefs_frame_names(c->m, l, code & l->frame_code_mask, &nm);
	if (!r && pyrefs_frame_stack(c->m, l, frame, nm.total, &base, &depth) < 0)
		depth = 0;	/* a torn top: the locals still count */
	for (uint64_t i = 0; !r && i < nm.total + depth; i++) {
		bool local = i < nm.total;
		uint64_t v;

		r = memreader_read_u64(c->m, local ? frame + l->frame_localsplus + 8 * i : base + 8 * (i - nm.total),
				       &v);
		if (r)
			break;
		pr_edge(c, local ? PYREF_FRAME_LOCAL : PYREF_FRAME_STACK, 0, local ? i : i - nm.total);
		r = c->s->ref(c->s->ctx, v & l->frame_code_mask);	/* 3.14: tagged references */
	}
	return r < 0 ? pr_reject(c, r) : 0;
}

/* A generator's or coroutine's frame, while it can still run. */
static int pr_gen(struct pyrefs_ctx *c, uint64_t obj)
{
	const struct pylayout *l = c->l;
	int8_t state;
	int r;

	if (!l->gen_frame || !l->frame_localsplus)
		return 0;
	if (l->frame_is_object)
		return pr_at(c, obj + l->gen_frame, PYREF_GEN_FRAME, 0);
	r = memreader_read(c->m, obj + l->gen_frame_state, &state, 1);
	if (r < 0)
		return pr_reject(c, r);
	/* created or suspended; a finished frame's slots are stale */
	return state < 0 ? pr_frame_locals(c, obj + l->gen_frame) : 0;
}

int64_t pyrefs_decode(const struct memreader *m, const struct pylayout *l, uint64_t obj,
		      const struct typetab_entry *t, int64_t ob_size, struct pyrefs_sink *s)
{
	struct pyrefs_ctx cc = { .m = m, .l = l, .s = s }, *c = &cc;
	uint64_t bytes = 0, n = pyrefs_items(ob_size), p;
	int r = 0;

	s->items = 0;
	switch (t->kind) {
	case PYK_LIST:
		r = pr_list(c, obj, n, &bytes);
		break;
	case PYK_TUPLE:
		c->s->items = n;
		r = pr_array(c, obj + l->tuple_items, n);
		break;
	case PYK_DICT:
		r = pr_dict(c, obj, &bytes);
		break;
	case PYK_SET:
		r = pr_set(c, obj, &bytes);
		break;
	case PYK_DEQUE:
		c->s->items = n;
		r = pr_deque(c, obj, n, &bytes);
		break;
	case PYK_CELL:
		r = pr_at(c, obj + l->cell_ref, PYREF_CELL, 0);
		break;
	case PYK_FUNCTION: {
		/* in enum pyrefs_func_field order */
		const uint32_t f[] = { l->func_globals, l->func_defaults, l->func_kwdefaults, l->func_closure,
				       l->func_dict };

		for (size_t i = 0; !r && i < sizeof(f) / sizeof(f[0]); i++)
			r = pr_at(c, obj + f[i], PYREF_FUNC_FIELD, i);
		break;
	}
	case PYK_METHOD:
		r = pr_at(c, obj + l->method_func, PYREF_METHOD_FUNC, 0);
		if (!r)
			r = pr_at(c, obj + l->method_self, PYREF_METHOD_SELF, 0);
		break;
	case PYK_MODULE:
		r = pr_at(c, obj + l->module_dict, PYREF_MODULE_DICT, 0);
		break;
	case PYK_GEN:
		r = pr_gen(c, obj);
		break;
	case PYK_FRAME:
		/* <= 3.10 only: 3.11+ frame objects point to frames kept elsewhere */
		if (l->frame_is_object && l->frame_localsplus)
			r = pr_frame_locals(c, obj);
		break;
	case PYK_TYPE:
		/* a class: its attributes live in tp_dict */
		r = memreader_read_u64(c->m, obj + l->tp_flags, &p);
		if (!r && (p & PYLAYOUT_TPFLAGS_HEAPTYPE))
			r = pr_at(c, obj + l->tp_dict, PYREF_TYPE_DICT, 0);
		break;
	case PYK_OTHER:
		if (s->native_fields && (t->flags & PYLAYOUT_TPFLAGS_HAVE_GC))
			r = pr_native_fields(c, obj, t);
		break;
	default:
		break;
	}
	if (r < 0)
		r = pr_reject(c, r);
	if (!r && (t->flags & PYLAYOUT_TPFLAGS_HEAPTYPE))
		r = pr_instance(c, obj, t, ob_size, &bytes);
	return r < 0 ? r : (int64_t)bytes;
}
