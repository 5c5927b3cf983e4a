// SPDX-License-Identifier: MIT
/*
 * livetypes: a raw block of the live table is typed only by a header whose
 * type is a real, already trusted type object and whose offset matches that
 * type's pre-header; the names come from the target.
 */
#include <criterion/criterion.h>

#include "fake_target.h"
#include "leakd/verdict/agg.h"
#include "leakd/verdict/livetypes.h"

struct fixture {
	struct fake *f;
	struct memreader rd;
	struct livetypes lt;
	uint64_t gc_type, plain_type;
};

static void setup(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->f = fake_new(11, 24);
	x->rd = fake_reader(x->f);
	x->gc_type = fake_type(x->f, "Subscriber", PYLAYOUT_TPFLAGS_HAVE_GC, 48, 0);
	x->plain_type = fake_type(x->f, "float", 0, 24, 0);
	cr_assert_eq(livetypes_start(&x->lt, &x->rd, &x->f->l), 0);
}

static void teardown(struct fixture *x)
{
	livetypes_release(&x->lt);
	fake_free(x->f);
}

/* A block whose object of type t starts off bytes in. */
static uint64_t block_with(struct fixture *x, uint64_t t, uint64_t off)
{
	uint64_t b = fake_alloc(x->f, 128);

	fake_w64(x->f, b + off, 1);			/* ob_refcnt */
	fake_w64(x->f, b + off + 8, t);			/* ob_type */
	return b;
}

Test(livetypes, types_a_block_once_its_metatype_is_known)
{
	struct fixture x;
	uint64_t gc_off, b;

	setup(&x);
	gc_off = x.f->l.gc_head_size;
	b = block_with(&x, x.gc_type, gc_off);
	/* nothing vouches for the type's own type yet: not trusted */
	cr_expect_eq(livetypes_resolve_block(&x.lt, b, 128), 0);
	cr_expect_str_eq(livetypes_name(&x.lt, x.f->type_type), "type");
	cr_expect_eq(livetypes_resolve_block(&x.lt, b, 128), x.gc_type);
	cr_expect_str_eq(livetypes_name(&x.lt, x.gc_type), "Subscriber");
	teardown(&x);
}

Test(livetypes, rejects_a_header_at_the_wrong_offset_for_its_type)
{
	struct fixture x;

	setup(&x);
	livetypes_name(&x.lt, x.f->type_type);
	/* a GC type's object sits after its GC head, not at the block's start */
	cr_expect_eq(livetypes_resolve_block(&x.lt, block_with(&x, x.gc_type, 0), 128), 0);
	/* a plain type's object sits at the block's start */
	cr_expect_eq(livetypes_resolve_block(&x.lt, block_with(&x, x.plain_type, 16), 128), 0);
	cr_expect_eq(livetypes_resolve_block(&x.lt, block_with(&x, x.plain_type, 0), 128), x.plain_type);
	teardown(&x);
}

Test(livetypes, names_buffers_and_nothing_else_it_cannot_read)
{
	struct fixture x;

	setup(&x);
	cr_expect_str_eq(livetypes_name(&x.lt, AGG_TYPE_BUFFER), "(buffer)");
	cr_expect_null(livetypes_name(&x.lt, 0));
	cr_expect_null(livetypes_name(&x.lt, 0xdead0000));	/* unmapped */
	cr_expect_null(livetypes_name(&x.lt, fake_alloc(x.f, 64)));	/* zeroes: not a type */
	teardown(&x);
}

Test(livetypes, a_cache_not_started_names_only_buffers)
{
	struct livetypes lt = { 0 };

	cr_expect_str_eq(livetypes_name(&lt, AGG_TYPE_BUFFER), "(buffer)");
	cr_expect_null(livetypes_name(&lt, 0x10000040));
	cr_expect_eq(livetypes_resolve_block(&lt, 0x10000040, 64), 0);
	livetypes_release(&lt);
	livetypes_release(NULL);
}
