/* SPDX-License-Identifier: MIT */
/*
 * A fake target for unit tests: one flat region of memory at FAKE_BASE that
 * a memreader reads, with helpers that lay out a runtime, a GC state with
 * its generation lists, type objects and objects the way CPython does for
 * the layout in f->l. Reads outside the region fail with -EFAULT, like
 * unmapped memory.
 */
#ifndef LEAKD_TEST_FAKE_TARGET_H
#define LEAKD_TEST_FAKE_TARGET_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

#define FAKE_BASE 0x10000000ull
#ifndef FAKE_SIZE
#define FAKE_SIZE (1u << 20)
#endif

struct fake {
	unsigned char *mem;
	uint64_t brk;	/* next free address */
	struct pylayout l;
	uint64_t rt, interp, gc;
	uint64_t type_type;	/* `type`, its own type: every fake type's metatype */
	uint64_t str_type, dict_type;
	uint64_t t_leaky, t_dict, t_tuple;
	uint64_t last[4];	/* tail of each list while building */
};

static inline int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = ctx;

	if (addr < FAKE_BASE || addr + len > FAKE_BASE + FAKE_SIZE)
		return -EFAULT;
	memcpy(buf, f->mem + (addr - FAKE_BASE), len);
	return 0;
}

static inline uint64_t fake_alloc(struct fake *f, size_t n)
{
	uint64_t a = f->brk;

	f->brk += (n + 15) & ~(size_t)15;
	cr_assert(f->brk <= FAKE_BASE + FAKE_SIZE);
	return a;
}

static inline void fake_w64(struct fake *f, uint64_t addr, uint64_t v)
{
	memcpy(f->mem + (addr - FAKE_BASE), &v, 8);
}

static inline void fake_w32(struct fake *f, uint64_t addr, uint32_t v)
{
	memcpy(f->mem + (addr - FAKE_BASE), &v, 4);
}

static inline uint64_t fake_r64(struct fake *f, uint64_t addr)
{
	uint64_t v;

	memcpy(&v, f->mem + (addr - FAKE_BASE), 8);
	return v;
}

static inline uint64_t fake_cstr(struct fake *f, const char *s)
{
	uint64_t a = fake_alloc(f, strlen(s) + 1);

	memcpy(f->mem + (a - FAKE_BASE), s, strlen(s) + 1);
	return a;
}

/* A compact str: ASCII (kind 1) or UCS-2 (kind 2). */
static inline uint64_t fake_str(struct fake *f, const char *ascii, const uint16_t *ucs2, size_t n)
{
	const struct pylayout *l = &f->l;
	uint64_t a = fake_alloc(f, l->str_compact_data + 4 * n + 4);
	uint32_t state = 1u << 5;	/* compact */

	fake_w64(f, a, 1);
	fake_w64(f, a + l->ob_type, f->str_type);
	fake_w64(f, a + l->str_length, n);
	if (ascii) {
		state |= (1u << 6) | (1u << 2);
		memcpy(f->mem + (a + l->str_ascii_data - FAKE_BASE), ascii, n);
	} else if (ucs2) {
		state |= 2u << 2;
		memcpy(f->mem + (a + l->str_compact_data - FAKE_BASE), ucs2, 2 * n);
	}
	fake_w32(f, a + l->str_state, state);
	return a;
}

/* A 3.11+ type dict {"__qualname__": x, "__module__": module}, unicode keys. */
static inline uint64_t fake_type_dict(struct fake *f, const char *module)
{
	uint64_t d = fake_alloc(f, 48), k = fake_alloc(f, 32 + 8 + 2 * 16);
	uint64_t ent = k + 32 + 8;

	fake_w64(f, d + f->l.ob_type, f->dict_type);
	fake_w64(f, d + f->l.dict_keys, k);
	f->mem[k + 8 - FAKE_BASE] = 3;	/* log2 size */
	f->mem[k + 9 - FAKE_BASE] = 3;	/* log2 index bytes: 8 */
	f->mem[k + 10 - FAKE_BASE] = 1;	/* DICT_KEYS_UNICODE */
	fake_w64(f, k + 24, 2);
	fake_w64(f, ent, fake_str(f, "__qualname__", NULL, 12));
	fake_w64(f, ent + 8, fake_str(f, "x", NULL, 1));
	fake_w64(f, ent + 16, fake_str(f, "__module__", NULL, 10));
	fake_w64(f, ent + 24, fake_str(f, module, NULL, strlen(module)));
	return d;
}

static inline uint64_t fake_type(struct fake *f, const char *name, uint64_t flags, uint64_t basic, uint64_t item)
{
	const struct pylayout *l = &f->l;
	uint64_t t = fake_alloc(f, 1024);

	if (!f->type_type) {
		f->type_type = t;
		t = fake_alloc(f, 1024);
		fake_w64(f, f->type_type, 1);
		fake_w64(f, f->type_type + l->ob_type, f->type_type);
		fake_w64(f, f->type_type + l->tp_basicsize, 920);
		fake_w64(f, f->type_type + l->tp_flags, PYLAYOUT_TPFLAGS_READY | PYLAYOUT_TPFLAGS_HAVE_GC);
		fake_w64(f, f->type_type + l->tp_name, fake_cstr(f, "type"));
	}
	fake_w64(f, t, 1);
	fake_w64(f, t + l->ob_type, f->type_type);
	fake_w64(f, t + l->tp_basicsize, basic);
	fake_w64(f, t + l->tp_itemsize, item);
	fake_w64(f, t + l->tp_flags, flags | PYLAYOUT_TPFLAGS_READY);
	fake_w64(f, t + l->tp_name, fake_cstr(f, name));
	return t;
}

static inline uint64_t fake_head(struct fake *f, int gen)
{
	if (gen == 3)
		return f->gc + f->l.gc_permanent;
	return f->gc + f->l.gc_gens + (uint64_t)gen * f->l.gc_gen_stride;
}

/* Appends one object of type t (ob_size n) to list gen; returns the object. */
static inline uint64_t fake_obj(struct fake *f, int gen, uint64_t t, int64_t n)
{
	uint64_t node = fake_alloc(f, 16 + 64), head = fake_head(f, gen);
	uint64_t tail = f->last[gen];

	fake_w64(f, node, head | 0);		/* next: back to the head */
	fake_w64(f, node + 8, tail | 1);	/* prev, with a FINALIZED tag bit */
	fake_w64(f, tail, node);
	fake_w64(f, head + 8, node);
	fake_w64(f, node + 16, 1);
	fake_w64(f, node + 16 + 8, t);
	fake_w64(f, node + 16 + 16, (uint64_t)n);
	f->last[gen] = node;
	return node + 16;
}

static inline void fake_init_gc(struct fake *f, int minor, uint32_t gens_off)
{
	struct pylayout *l = &f->l;

	cr_assert_eq(pylayout_for_version(3, minor, 0, l), 0);
	l->gc_gens = gens_off;	/* as found; the real layout is restored by the caller */
	f->rt = fake_alloc(f, 4096);
	f->interp = fake_alloc(f, 8192);
	f->gc = f->interp + l->interp_gc;
	fake_w64(f, f->rt + l->rt_interp_head, f->interp);
	for (int g = 0; g < 4; g++) {
		uint64_t h = fake_head(f, g);

		fake_w64(f, h, h);
		fake_w64(f, h + 8, h);
		f->last[g] = h;
	}
	for (int g = 0; g < 3; g++) {
		uint64_t h = fake_head(f, g);

		fake_w32(f, h + l->gen_threshold, g == 0 ? 700 : 10);
		fake_w32(f, h + l->gen_count, (uint32_t)(g + 3));
	}
	fake_w32(f, f->gc + l->gc_enabled, 1);
	fake_w32(f, f->gc + l->gc_collecting, 0);
	for (int g = 0; g < 3; g++) {
		fake_w64(f, f->gc + l->gc_stats + 24 * g, 100 + g);
		fake_w64(f, f->gc + l->gc_stats + 24 * g + 8, 200 + g);
		fake_w64(f, f->gc + l->gc_stats + 24 * g + 16, g);
	}
}

/* A zeroed image with the GC state of 3.minor (generations at gens_off). */
static inline struct fake *fake_new(int minor, uint32_t gens_off)
{
	struct fake *f = calloc(1, sizeof(*f));

	cr_assert_not_null(f);
	f->mem = calloc(1, FAKE_SIZE);
	cr_assert_not_null(f->mem);
	f->brk = FAKE_BASE + 64;
	fake_init_gc(f, minor, gens_off);
	return f;
}

static inline void fake_free(struct fake *f)
{
	if (!f)
		return;
	free(f->mem);
	free(f);
}

static inline struct memreader fake_reader(struct fake *f)
{
	return (struct memreader){ .read = fake_read, .ctx = f };
}

#endif /* LEAKD_TEST_FAKE_TARGET_H */
