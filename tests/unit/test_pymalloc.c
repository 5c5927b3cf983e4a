// SPDX-License-Identifier: MIT
/*
 * pymalloc tests: an arena_object table laid out in a fake target, found
 * from symbols (<=3.11), inline in the interpreter (3.12) or behind a
 * pointer searched near its 3.13 place, and rejected when its counts do not
 * hold together.
 */
#include <criterion/criterion.h>

#include "fake_target.h"
#include "leakd/python/pymalloc.h"

/* maxarenas arena_objects, the first `used` of them mapped, each with
 * ntotal pools of which nfree are free. Returns the array's address. */
static uint64_t arena_table(struct fake *f, uint32_t maxarenas, uint32_t used, uint32_t ntotal, uint32_t nfree)
{
	uint64_t a = fake_alloc(f, 48 * maxarenas);

	for (uint32_t i = 0; i < used; i++) {
		fake_w64(f, a + 48 * i, 0x7f0000000000ull + ((uint64_t)i << 20));
		fake_w32(f, a + 48 * i + 16, nfree);
		fake_w32(f, a + 48 * i + 20, ntotal);
	}
	return a;
}

static struct fake *fake_plain(int minor)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->mem = calloc(1, FAKE_SIZE);
	f->brk = FAKE_BASE + 64;
	cr_assert_eq(pylayout_for_version(3, minor, 0, &f->l), 0);
	return f;
}

Test(pymalloc, static_symbols_give_arenas_and_used_pools)
{
	struct fake *f = fake_plain(11);
	struct memreader m = fake_reader(f);
	uint64_t vars = fake_alloc(f, 64), table = arena_table(f, 16, 5, 64, 24);
	struct pymalloc_loc loc;
	struct pymalloc_stats st;

	fake_w64(f, vars, table);		/* arenas */
	fake_w32(f, vars + 8, 16);		/* maxarenas */
	fake_w64(f, vars + 16, 5);		/* narenas_currently_allocated */
	cr_assert_eq(pymalloc_locate_static(&m, &f->l, vars, vars + 8, vars + 16, &loc), 0);
	cr_assert_eq(pymalloc_read(&m, &loc, &st), 0);
	cr_assert_eq(st.arenas, 5);
	cr_assert_eq(st.arena_bytes, 5u << 20);
	cr_assert_eq(st.pools_used, 5 * 40);
	cr_assert_eq(st.used_bytes, 5 * 40 * 16384);
	/* a missing symbol (a stripped build) is not guessed */
	cr_assert_eq(pymalloc_locate_static(&m, &f->l, vars, 0, vars + 16, &loc), -ENOENT);
	/* counts that disagree are a torn or wrong table */
	fake_w64(f, vars + 16, 6);
	cr_assert_eq(pymalloc_read(&m, &loc, &st), -EPROTO);
	fake_w64(f, vars + 16, 5);
	fake_w32(f, table + 20, 8);	/* nfreepools > ntotalpools */
	cr_assert_eq(pymalloc_read(&m, &loc, &st), -EPROTO);
	fake_free(f);
}

Test(pymalloc, the_313_state_pointer_is_found_near_its_place_and_validated)
{
	struct fake *f = fake_plain(13);
	struct memreader m = fake_reader(f);
	uint64_t interp = fake_alloc(f, 16384), state = fake_alloc(f, 2048), table = arena_table(f, 8, 3, 64, 0);
	struct pymalloc_loc loc;
	struct pymalloc_stats st;

	fake_w64(f, state + 512, table);
	fake_w32(f, state + 512 + 8, 8);
	fake_w64(f, state + 512 + 552, 3);
	/* a decoy pointer at the 3.13 place, to memory that does not validate;
	 * the real one 16 bytes further (a patched build's shift) */
	fake_w64(f, interp + 10800, interp);
	fake_w64(f, interp + 10816, state);
	cr_assert_eq(pymalloc_locate_interp(&m, &f->l, interp, &loc), 0);
	cr_assert_eq(pymalloc_read(&m, &loc, &st), 0);
	cr_assert_eq(st.arenas, 3);
	cr_assert_eq(st.pools_used, 3 * 64);
	/* nothing that validates: no answer rather than a wrong one */
	fake_w64(f, interp + 10816, 0);
	cr_assert_eq(pymalloc_locate_interp(&m, &f->l, interp, &loc), -EPROTO);
	fake_free(f);
}

Test(pymalloc, older_versions_and_huge_tables_are_refused)
{
	struct fake *f = fake_plain(11);
	struct memreader m = fake_reader(f);
	uint64_t vars = fake_alloc(f, 64);
	struct pymalloc_loc loc;

	cr_assert_eq(pymalloc_locate_interp(&m, &f->l, vars, &loc), -ENOTSUP);
	fake_w64(f, vars, vars + 32);
	fake_w32(f, vars + 8, PYMALLOC_MAX_ARENAS + 1);
	fake_w64(f, vars + 16, 1);
	cr_assert_eq(pymalloc_locate_static(&m, &f->l, vars, vars + 8, vars + 16, &loc), -EPROTO);
	pymalloc_geometry(&f->l, &loc);
	cr_assert_eq(loc.arena_size, 1u << 20);
	f->l.minor = 9;
	pymalloc_geometry(&f->l, &loc);
	cr_assert_eq(loc.arena_size, 256u << 10);
	cr_assert_eq(loc.pool_size, 4096);
	fake_free(f);
}
