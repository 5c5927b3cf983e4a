// SPDX-License-Identifier: MIT
/*
 * pylayout tests: the version table against the reference and DWARF values,
 * and the _Py_DebugOffsets parser on bytes taken from the real pyenv 3.13.0
 * libpython (.PyRuntime section, first 704 bytes) and on synthetic 3.14
 * blocks.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/python/pylayout.h"

static size_t load_fixture(const char *name, void *buf, size_t cap)
{
	const char *dir = getenv("LEAKD_FIXTURES");
	char path[512];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/pylayout/%s", dir ? dir : "tests/fixtures", name);
	fp = fopen(path, "rb");
	cr_assert_not_null(fp, "fixture %s", path);
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

Test(pylayout, table_311_matches_reference)
{
	struct pylayout l;

	cr_assert_eq(pylayout_for_version(3, 11, 2, &l), 0);
	cr_assert(l.known);
	cr_assert_eq(l.rt_interp_head, 40);
	cr_assert_eq(l.interp_gc, 648);
	cr_assert_not(l.gc_in_runtime);
	cr_assert_eq(l.gc_enabled, 12);
	cr_assert_eq(l.gc_gens, 24);
	cr_assert_eq(l.gc_gen_stride, 24);
	cr_assert_eq(l.gc_permanent, 104);
	cr_assert_eq(l.gc_stats, 128);
	cr_assert_eq(l.gc_collecting, 200);
	cr_assert_eq(l.gen_threshold, 16);
	cr_assert_eq(l.gen_count, 20);
	cr_assert_eq(l.gc_head_size, 16);
	cr_assert_eq(l.tp_flags, 168);
	cr_assert_eq(l.ht_qualname, 864);
	cr_assert_eq(l.ht_name, 848);
	cr_assert_eq(l.str_ascii_data, 48);
	cr_assert_eq(l.str_compact_data, 72);
	cr_assert_eq(l.preheader_flags, 1u << 4);
	cr_assert(l.dict_keys_log2);
	cr_assert_not(l.incremental);
}

Test(pylayout, table_other_versions_match_dwarf)
{
	struct pylayout l;

	cr_assert_eq(pylayout_for_version(3, 9, 18, &l), 0);
	cr_assert_eq(l.rt_interp_head, 32);
	cr_assert_eq(l.interp_gc, 616);
	cr_assert_eq(l.ht_qualname, 856);
	cr_assert_eq(l.preheader_flags, 0);
	cr_assert_not(l.dict_keys_log2);
	cr_assert_eq(l.dk_indices, 40);

	cr_assert_eq(pylayout_for_version(3, 10, 13, &l), 0);
	cr_assert_eq(l.interp_gc, 616);
	cr_assert_eq(l.ht_qualname, 864);

	cr_assert_eq(pylayout_for_version(3, 12, 1, &l), 0);
	cr_assert_eq(l.interp_gc, 112);
	cr_assert_eq(l.ht_qualname, 872);
	cr_assert_eq(l.str_ascii_data, 40);
	cr_assert_eq(l.str_compact_data, 56);
	cr_assert_eq(l.preheader_flags, (1u << 4) | (1u << 3));

	cr_assert_eq(pylayout_for_version(3, 13, 0, &l), 0);
	cr_assert_eq(l.rt_interp_head, 632);
	cr_assert_eq(l.interp_gc, 7400);
	cr_assert_eq(l.gc_gens, 24);
	cr_assert_eq(l.gc_gens_alt, 20);

	cr_assert_eq(pylayout_for_version(3, 8, 18, &l), 0);
	cr_assert(l.gc_in_runtime);
	cr_assert_eq(l.interp_gc, 344);
	cr_assert_eq(l.rt_interp_head, 32);

	cr_assert_eq(pylayout_for_version(3, 7, 16, &l), 0);
	cr_assert(l.gc_in_runtime);
	cr_assert_eq(l.interp_gc, 320);
	cr_assert_eq(l.rt_interp_head, 24);
	cr_assert_eq(l.gc_head_size, 32);
	cr_assert_eq(l.gc_gens, 32);
	cr_assert_eq(l.gc_gen_stride, 48);
	cr_assert_eq(l.gen_threshold, 32);
	cr_assert_eq(l.gc_permanent, 192);
	cr_assert_eq(l.gc_stats, 240);
	cr_assert_eq(l.gc_collecting, 312);
}

Test(pylayout, table_314_micro_decides_incremental)
{
	struct pylayout l;

	cr_assert_eq(pylayout_for_version(3, 14, 3, &l), 0);
	cr_assert(l.incremental);
	cr_assert_eq(l.gc_size, 240);
	cr_assert_eq(l.gc_stats, 120);
	cr_assert_eq(l.gc_collecting, 192);
	cr_assert_eq(l.gc_permanent, 96);
	cr_assert_eq(l.tuple_items, 32);
	cr_assert_eq(pylayout_for_version(3, 14, 10, &l), 0);
	cr_assert_not(l.incremental);
	cr_assert_eq(l.gc_size, 264);
	cr_assert_eq(l.interp_gc, 7408);
	cr_assert_eq(l.rt_interp_head, 808);
}

Test(pylayout, unknown_versions_are_not_supported_and_leave_out_alone)
{
	struct pylayout l = { .major = 42 };

	cr_assert_eq(pylayout_for_version(2, 7, 18, &l), -ENOTSUP);
	cr_assert_eq(pylayout_for_version(3, 6, 15, &l), -ENOTSUP);
	cr_assert_eq(pylayout_for_version(3, 15, 0, &l), -ENOTSUP);
	cr_assert_eq(l.major, 42);
	cr_assert_eq(pylayout_for_version(3, 11, 0, NULL), -EINVAL);
	cr_assert_eq(pylayout_for_hexversion(0x030b02f0, &l), 0);
	cr_assert_eq(l.minor, 11);
	cr_assert_eq(l.micro, 2);
}

Test(pylayout, debug_offsets_from_real_313_binary)
{
	unsigned char buf[1024];
	size_t n = load_fixture("pyruntime-3.13.0.bin", buf, sizeof(buf));
	struct pylayout l;

	cr_assert_geq(n, 584);
	cr_assert_eq(pylayout_from_debug_offsets(buf, n, &l), 0);
	cr_assert_eq(l.major, 3);
	cr_assert_eq(l.minor, 13);
	cr_assert_eq(l.micro, 0);
	cr_assert(l.known);
	cr_assert_not(l.free_threaded);
	cr_assert_eq(l.rt_interp_head, 632);
	cr_assert_eq(l.interp_gc, 7400);
	cr_assert_eq(l.gc_size, 240);
	cr_assert_eq(l.gc_collecting, 200);
	cr_assert_eq(l.tp_name, 24);
	cr_assert_eq(l.tp_flags, 168);
	cr_assert_eq(l.tuple_items, 24);
	cr_assert_eq(l.list_items, 24);
	cr_assert_eq(l.dict_keys, 32);
	cr_assert_eq(l.str_state, 32);
	cr_assert_eq(l.str_length, 16);
	cr_assert_eq(l.str_ascii_data, 40);
	cr_assert_eq(l.str_compact_data, 56);
	/* not in the block: from the table */
	cr_assert_eq(l.gc_gens, 24);
	cr_assert_eq(l.gc_gens_alt, 20);
	cr_assert_eq(l.ht_qualname, 872);
	cr_assert_not(l.incremental);
}

Test(pylayout, debug_offsets_rejects_bad_input)
{
	unsigned char buf[1024];
	size_t n = load_fixture("pyruntime-3.13.0.bin", buf, sizeof(buf));
	struct pylayout l = { .major = 42 };

	cr_assert_eq(pylayout_from_debug_offsets(buf, 500, &l), -EINVAL, "shorter than the 3.13 block");
	buf[0] = 'X';
	cr_assert_eq(pylayout_from_debug_offsets(buf, n, &l), -ENOENT);
	buf[0] = 'x';
	buf[80] = 0, buf[81] = 0;	/* interp.gc = 0 */
	cr_assert_eq(pylayout_from_debug_offsets(buf, n, &l), -EINVAL);
	cr_assert_eq(l.major, 42);
}

/* A 3.14 block with the values the reference read from sid 3.14.10. */
static void make_314(unsigned char *b, uint64_t version, uint64_t gcsize)
{
	static const struct { size_t at; uint64_t v; } f[] = {
		{ 40, 0x328 }, { 88, 0x1cf0 }, { 424, 24 }, { 440, 168 }, { 456, 32 }, { 480, 24 },
		{ 536, 32 }, { 624, 32 }, { 632, 16 }, { 640, 40 }, { 656, 0xc0 },
	};

	memset(b, 0, PYLAYOUT_DEBUG_OFFSETS_MIN);
	memcpy(b, "xdebugpy", 8);
	memcpy(b + 8, &version, 8);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		memcpy(b + f[i].at, &f[i].v, 8);
	memcpy(b + 648, &gcsize, 8);
}

Test(pylayout, debug_offsets_314_gc_size_decides_incremental)
{
	unsigned char b[PYLAYOUT_DEBUG_OFFSETS_MIN];
	struct pylayout l;

	make_314(b, 0x030e0af0, 0x108);
	cr_assert_eq(pylayout_from_debug_offsets(b, sizeof(b), &l), 0);
	cr_assert_eq(l.minor, 14);
	cr_assert_eq(l.micro, 10);
	cr_assert_eq(l.rt_interp_head, 808);
	cr_assert_eq(l.interp_gc, 7408);
	cr_assert_eq(l.gc_collecting, 192);
	cr_assert_eq(l.tuple_items, 32);
	cr_assert_not(l.incremental);

	make_314(b, 0x030e02f0, 240);
	cr_assert_eq(pylayout_from_debug_offsets(b, sizeof(b), &l), 0);
	cr_assert(l.incremental);

	cr_assert_eq(pylayout_from_debug_offsets(b, 600, &l), -EINVAL, "3.14 needs the whole block");
}

Test(pylayout, debug_offsets_free_threaded_is_unknown_layout)
{
	unsigned char b[PYLAYOUT_DEBUG_OFFSETS_MIN];
	struct pylayout l;
	uint64_t one = 1;

	make_314(b, 0x030e0af0, 0x108);
	memcpy(b + 16, &one, 8);
	cr_assert_eq(pylayout_from_debug_offsets(b, sizeof(b), &l), 0);
	cr_assert(l.free_threaded);
	cr_assert_not(l.known);
}

/*
 * Stack fields (sites): the table must agree with what the real 3.13/3.14
 * binaries publish in _Py_DebugOffsets (pyenv 3.13.0, trixie 3.13.5, sid
 * 3.14.10, first 704 bytes of their .PyRuntime section).
 */
static void check_stack_block(const char *fixture)
{
	unsigned char buf[1024];
	size_t n = load_fixture(fixture, buf, sizeof(buf));
	struct pylayout d, t;

	cr_assert_eq(pylayout_from_debug_offsets(buf, n, &d), 0, "%s", fixture);
	cr_assert(d.stack_known, "%s: stack part rejected", fixture);
	cr_assert_eq(pylayout_for_version(d.major, d.minor, d.micro, &t), 0);
#define SAME(f) cr_assert_eq(d.f, t.f, "%s: " #f " block %u table %u", fixture, (unsigned)d.f, (unsigned)t.f)
	SAME(interp_threads_head);
	SAME(ts_next);
	SAME(ts_frame);
	SAME(ts_thread_id);
	SAME(ts_native_thread_id);
	SAME(frame_back);
	SAME(frame_code);
	SAME(frame_instr);
	SAME(frame_owner);
	SAME(co_filename);
	SAME(co_name);
	SAME(co_qualname);
	SAME(co_linetable);
	SAME(co_firstlineno);
	SAME(co_argcount);
	SAME(co_code_adaptive);
	SAME(bytes_size);
	SAME(bytes_data);
#undef SAME
	cr_assert_not(d.ts_frame_via_cframe);
	cr_assert_eq(d.frame_instr_kind, PYLAYOUT_INSTR_PTR);
}

Test(pylayout, stack_table_matches_debug_offsets_313_314)
{
	struct pylayout l;

	check_stack_block("pyruntime-3.13.0.bin");
	check_stack_block("pyruntime-3.13.5.bin");
	check_stack_block("pyruntime-3.14.10.bin");
	cr_assert_eq(pylayout_for_version(3, 14, 10, &l), 0);
	cr_assert_eq(l.frame_code_mask, ~3ull, "3.14 f_executable is a tagged stack ref");
	cr_assert_eq(pylayout_for_version(3, 13, 0, &l), 0);
	cr_assert_eq(l.frame_code_mask, ~0ull);
}

Test(pylayout, stack_block_out_of_range_keeps_the_census_layout)
{
	unsigned char b[PYLAYOUT_DEBUG_OFFSETS_MIN];
	struct pylayout l;

	make_314(b, 0x030e0af0, 0x108);	/* census fields only: stack part all zero */
	cr_assert_eq(pylayout_from_debug_offsets(b, sizeof(b), &l), 0);
	cr_assert(l.known);
	cr_assert_not(l.stack_known);
}

Test(pylayout, stack_per_version_shapes)
{
	struct pylayout l;

	cr_assert_eq(pylayout_for_version(3, 7, 16, &l), 0);
	cr_assert_not(l.stack_known, "3.7 has no walker layout");
	for (int minor = 8; minor <= 14; minor++) {
		cr_assert_eq(pylayout_for_version(3, minor, 0, &l), 0);
		cr_assert(l.stack_known, "3.%d", minor);
		cr_assert_eq(l.frame_is_object, minor <= 10, "3.%d", minor);
		cr_assert_eq(l.rt_tstate_current != 0, minor <= 11, "3.%d: GIL holder in _PyRuntime", minor);
		cr_assert_eq(l.ts_native_thread_id != 0, minor >= 11, "3.%d", minor);
		cr_assert_eq(l.ts_frame_via_cframe, minor == 11 || minor == 12, "3.%d", minor);
		cr_assert_eq(l.co_qualname != 0, minor >= 11, "3.%d", minor);
		cr_assert_eq(l.co_code_adaptive != 0, minor >= 11, "3.%d", minor);
		cr_assert_eq(l.frame_owner != 0, minor >= 12, "3.%d", minor);
	}
	cr_assert_eq(pylayout_for_version(3, 9, 0, &l), 0);
	cr_assert_eq(l.frame_instr_kind, PYLAYOUT_INSTR_LASTI_BYTES);
	cr_assert_eq(pylayout_for_version(3, 10, 0, &l), 0);
	cr_assert_eq(l.frame_instr_kind, PYLAYOUT_INSTR_LASTI_UNITS);
}
