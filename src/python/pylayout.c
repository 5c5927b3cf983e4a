// SPDX-License-Identifier: MIT
/*
 * pylayout: the offsets leakd reads CPython's objects by (see pylayout.h):
 * a per-version table for 3.7-3.14 (pylayout_for_version) and, for 3.13+,
 * a parser for the `_Py_DebugOffsets` block the interpreter carries
 * (pylayout_from_debug_offsets).
 *
 * Sources: DWARF of the pyenv builds 3.7.16, 3.8.18, 3.9.18, 3.10.13, 3.11.7,
 * 3.12.1, 3.13.0 (gdb `ptype/o`, `p &((T*)0)->f`); 3.14 from the headers and
 * the debug offsets of Debian sid's 3.14.10, there being no 3.14 build with
 * DWARF to read. tests/unit/test_pylayout_dwarf.c reads most 3.8-3.13
 * offsets back with libdw from Debian's 3.11 (python3.11-dbg), a self-built
 * 3.11 and the pyenv builds present, and fails on any difference. Not
 * covered by it: 3.7 and 3.14, the alternative gc_gens_alt, the kinds and
 * flag masks, and a few offsets (co_localsnames, co_freevars, co_cellvars,
 * frame_localsplus, gen_frame, gen_frame_state).
 *
 * On 3.13+ the debug offsets win where they overlap: the parser starts from
 * the table's column for the block's version and overwrites what the block
 * carries. A census field out of range refuses the whole block; a stack
 * field out of range only leaves stack_known false. Free-threaded builds
 * are marked not known, and 3.14.0-3.14.4 (incremental collection, a
 * smaller GC state) are told apart from later 3.14s.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "leakd/python/pylayout.h"

/*
 * The table: one row per field, one column per minor version (3.7 ... 3.14),
 * so each number is written once and a field's history reads across a line.
 * SAME() marks a field that never moved. A 0 in a stack row means "none" or
 * "no walker layout" (3.7 has none: stack_known is 0 there).
 */
#define PYLAYOUT_NV (PYLAYOUT_MINOR_LAST - PYLAYOUT_MINOR_FIRST + 1)

struct pylayout_row {
	uint16_t off;			/* offsetof(struct pylayout, field) */
	uint8_t size;			/* sizeof that field: 1, 4 or 8 */
	uint64_t v[PYLAYOUT_NV];	/* its value for 3.7 ... 3.14 */
};

#define PYLAYOUT_NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define PYLAYOUT_FIELD(f) offsetof(struct pylayout, f), sizeof(((struct pylayout *)0)->f)
#define ROW(f, ...) { PYLAYOUT_FIELD(f), { __VA_ARGS__ } }
#define SAME(f, x) ROW(f, x, x, x, x, x, x, x, x)

#define V_ARRAY PYLAYOUT_VALUES_ARRAY
#define V_PREFIX PYLAYOUT_VALUES_PREFIX
#define V_SIZED PYLAYOUT_VALUES_SIZED
#define M_311 PYLAYOUT_MANAGED_311
#define M_312 PYLAYOUT_MANAGED_312
#define M_313 PYLAYOUT_MANAGED_313
#define I_BYTES PYLAYOUT_INSTR_LASTI_BYTES
#define I_UNITS PYLAYOUT_INSTR_LASTI_UNITS
#define I_PTR PYLAYOUT_INSTR_PTR
#define MD (1ull << 4)			/* Py_TPFLAGS_MANAGED_DICT */
#define MDW ((1ull << 4) | (1ull << 3))	/* ... | Py_TPFLAGS_MANAGED_WEAKREF */
#define ALL1 (~0ull)
#define S_PTR PYLAYOUT_STACK_TOP_PTR
#define S_DEPTH PYLAYOUT_STACK_DEPTH
#define S_INDEX PYLAYOUT_STACK_TOP_INDEX
#define TAG3 (~3ull)			/* 3.14: f_executable is a _PyStackRef, Py_TAG_BITS */

static const struct pylayout_row pylayout_table[] = {
	/* Never moved in 3.7-3.14 (GIL builds). */
	SAME(gc_enabled, 12),
	SAME(gc_stats_stride, 24),
	SAME(ob_type, 8),
	SAME(ob_size, 16),
	SAME(tp_name, 24),
	SAME(tp_basicsize, 32),
	SAME(tp_itemsize, 40),
	SAME(tp_flags, 168),
	SAME(tp_dict, 264),
	SAME(tp_members, 240),
	SAME(tp_base, 256),
	SAME(tp_dictoffset, 288),
	SAME(tp_weaklistoffset, 208),
	SAME(str_length, 16),
	SAME(str_state, 32),
	SAME(list_items, 24),
	SAME(list_allocated, 32),
	SAME(dict_keys, 32),
	SAME(dict_used, 16),
	SAME(dict_values, 40),
	SAME(dk_size, 8),
	SAME(set_mask, 32),
	SAME(set_table, 40),
	SAME(set_smalltable, 64),
	SAME(bytearray_alloc, 24),
	SAME(cell_ref, 16),
	SAME(method_func, 16),
	SAME(method_self, 24),
	SAME(module_dict, 16),

	/* Moved at least once. */
	/*                   3.7   3.8   3.9  3.10  3.11  3.12  3.13  3.14 */
	/* Where the GC state is: in _PyRuntime on 3.7/3.8, else in the interpreter. */
	ROW(rt_interp_head,   24,   32,   32,   32,   40,   40,  632,  808),
	ROW(interp_gc,       320,  344,  616,  616,  648,  112, 7400, 7408),
	ROW(gc_in_runtime,     1,    1,    0,    0,    0,    0,    0,    0),
	ROW(gc_gens,          32,   24,   24,   24,   24,   24,   24,   24),
	/* Debian's gchead-alignment.diff (gh-127545) moves generations[] to +20. */
	ROW(gc_gens_alt,       0,    0,    0,    0,    0,    0,   20,   20),
	ROW(gc_gen_stride,    48,   24,   24,   24,   24,   24,   24,   24),
	ROW(gen_threshold,    32,   16,   16,   16,   16,   16,   16,   16),
	ROW(gen_count,        36,   20,   20,   20,   20,   20,   20,   20),
	ROW(gc_permanent,    192,  104,  104,  104,  104,  104,  104,   96),
	ROW(gc_stats,        240,  128,  128,  128,  128,  128,  128,  120),
	ROW(gc_collecting,   312,  200,  200,  200,  200,  200,  200,  192),
	/* 3.14: sid 3.14.10; 3.14.0-3.14.4 collect incrementally (see below). */
	ROW(gc_size,         352,  240,  240,  240,  240,  240,  240,  264),
	/* 3.7: PyGC_Head is a 32-byte union (aligned like long double); prev is untagged. */
	ROW(gc_head_size,     32,   16,   16,   16,   16,   16,   16,   16),
	/* Types, strings, tuples. */
	ROW(ht_name,         832,  848,  840,  848,  848,  856,  856,  856),
	ROW(ht_qualname,     848,  864,  856,  864,  864,  872,  872,  872),
	ROW(str_ascii_data,   48,   48,   48,   48,   48,   40,   40,   40),
	ROW(str_compact_data, 72,   72,   72,   72,   72,   56,   56,   56),
	/* 3.14 caches ob_hash before ob_item. */
	ROW(tuple_items,      24,   24,   24,   24,   24,   24,   24,   32),
	/* Dicts: 3.11 packed dk_log2_size and friends into bytes. */
	ROW(dict_keys_log2,    0,    0,    0,    0,    1,    1,    1,    1),
	ROW(dk_nentries,      32,   32,   32,   32,   24,   24,   24,   24),
	ROW(dk_indices,       40,   40,   40,   40,   32,   32,   32,   32),
	ROW(int_lv_tag,        0,    0,    0,    0,    0,    1,    1,    1),
	/* 3.10 moved the common fields (globals, builtins, name...) first. */
	ROW(func_globals,     24,   24,   24,   16,   16,   16,   16,   16),
	ROW(func_defaults,    32,   32,   32,   56,   56,   56,   56,   56),
	ROW(func_kwdefaults,  40,   40,   40,   64,   64,   64,   64,   64),
	ROW(func_closure,     48,   48,   48,   72,   72,   72,   72,   72),
	ROW(func_dict,        72,   72,   72,   88,   88,   88,   88,   88),

	/*
	 * ---- Python stacks (issue 8, sites) ----
	 * Thread-state, frame and code-object offsets for the BPF stack walker
	 * and the code-object reader. 3.8-3.13 from the pyenv builds' DWARF
	 * (gdb `p &((T*)0)->f`), 3.14 from sid 3.14.10's _Py_DebugOffsets,
	 * which 3.13+ binaries carry and which then win.
	 */
	/*                      3.7   3.8   3.9  3.10  3.11  3.12  3.13  3.14 */
	ROW(stack_known,          0,    1,    1,    1,    1,    1,    1,    1),
	ROW(rt_tstate_current,    0, 1368,  568,  568,  576,    0,    0,    0),
	ROW(interp_threads_head,  0,    8,    8,    8,   16,   72, 7344, 7344),
	ROW(ts_next,              0,    8,    8,    8,    8,    8,    8,    8),
	ROW(ts_thread_id,         0,  176,  176,  176,  152,  136,  152,  152),
	ROW(ts_native_thread_id,  0,    0,    0,    0,  160,  144,  160,  160),
	ROW(ts_frame,             0,   24,   24,   24,   56,   56,   72,   72),
	/* 3.11/3.12 reach the frame through a _PyCFrame. */
	ROW(ts_frame_via_cframe,  0,    0,    0,    0,    1,    1,    0,    0),
	ROW(cframe_frame,         0,    0,    0,    0,    8,    0,    0,    0),
	ROW(frame_is_object,      0,    1,    1,    1,    0,    0,    0,    0),
	ROW(frame_code,           0,   32,   32,   32,   32,    0,    0,    0),
	ROW(frame_back,           0,   24,   24,   24,   48,    8,    8,    8),
	ROW(frame_instr,          0,  104,  104,   96,   56,   56,   56,   56),
	/* 3.11 has no shim frames: every frame on the chain runs code. */
	ROW(frame_owner,          0,    0,    0,    0,    0,   70,   70,   74),
	/* FRAME_OWNED_BY_CSTACK (3.12/3.13), _BY_INTERPRETER (3.14) */
	ROW(frame_owner_skip,     0,    0,    0,    0,    0,    3,    3,    3),
	/* <= 3.10: after f_blockstack[CO_MAXBLOCKS] */
	ROW(frame_localsplus,     0,  360,  360,  352,   72,   72,   72,   80),
	ROW(co_argcount,          0,   16,   16,   16,   56,   52,   52,   52),
	ROW(co_firstlineno,       0,   40,   40,   40,   72,   68,   68,   68),
	ROW(co_localsnames,       0,   72,   72,   72,   96,   96,   96,   96),
	ROW(co_freevars,          0,   80,   80,   80,    0,    0,    0,    0),
	ROW(co_cellvars,          0,   88,   88,   88,    0,    0,    0,    0),
	ROW(co_filename,          0,  104,  104,  104,  112,  112,  112,  112),
	ROW(co_name,              0,  112,  112,  112,  120,  120,  120,  120),
	ROW(co_qualname,          0,    0,    0,    0,  128,  128,  128,  128),
	ROW(co_linetable,         0,  120,  120,  120,  136,  136,  136,  136),
	ROW(co_code_adaptive,     0,    0,    0,    0,  184,  192,  200,  208),
	ROW(bytes_size,           0,   16,   16,   16,   16,   16,   16,   16),
	ROW(bytes_data,           0,   32,   32,   32,   32,   32,   32,   32),
	/* gi_frame (<= 3.10) / gi_iframe (3.11 still has gi_code before it),
	 * with gi_frame_state 5 bytes before it. */
	ROW(gen_frame,            0,   16,   16,   16,   80,   72,   72,   72),
	ROW(gen_frame_state,      0,    0,    0,    0,   75,   67,   67,   67),
	/* f_stacktop / f_stackdepth / stacktop / stackpointer (pyenv DWARF;
	 * 3.14: before return_offset and owner) */
	ROW(frame_stack,          0,   72,   72,   80,   64,   64,   64,   64),
	ROW(frame_valuestack,     0,   64,   64,   64,    0,    0,    0,    0),
	ROW(frame_state,          0,    0,    0,  108,    0,    0,    0,    0),

	/* Kinds and flag masks rather than offsets (see pylayout.h). */
	ROW(preheader_flags,  0,    0,    0,    0,   MD,  MDW,  MDW,  MDW),
	ROW(dict_values_kind, V_ARRAY, V_ARRAY, V_ARRAY, V_ARRAY, V_PREFIX, V_PREFIX, V_SIZED, V_SIZED),
	ROW(managed,          0,    0,    0,    0, M_311, M_312, M_313, M_313),
	ROW(frame_code_mask,  0, ALL1, ALL1, ALL1, ALL1, ALL1, ALL1, TAG3),
	ROW(frame_instr_kind, 0, I_BYTES, I_BYTES, I_UNITS, I_PTR, I_PTR, I_PTR, I_PTR),
	ROW(frame_stack_kind, 0, S_PTR, S_PTR, S_DEPTH, S_INDEX, S_INDEX, S_INDEX, S_PTR),
};

/* Stores v in the field at offset off of *l, as wide (size) as that field is. */
static void pylayout_set(struct pylayout *l, uint16_t off, uint8_t size, uint64_t v)
{
	unsigned char *p = (unsigned char *)l + off;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

int pylayout_for_version(int major, int minor, int micro, struct pylayout *out)
{
	struct pylayout l;

	if (!out)
		return -EINVAL;
	if (major != 3 || minor < PYLAYOUT_MINOR_FIRST || minor > PYLAYOUT_MINOR_LAST)
		return -ENOTSUP;

	memset(&l, 0, sizeof(l));
	for (size_t i = 0; i < PYLAYOUT_NROWS(pylayout_table); i++) {
		const struct pylayout_row *r = &pylayout_table[i];

		pylayout_set(&l, r->off, r->size, r->v[minor - PYLAYOUT_MINOR_FIRST]);
	}
	l.known = true;
	l.major = major;
	l.minor = minor;
	l.micro = micro;
	/* 3.14.0-3.14.4 share the offsets but collect incrementally, and their
	 * GC state is smaller. */
	if (minor == 14 && micro >= 0 && micro <= 4) {
		l.incremental = true;
		l.gc_size = 240;
	}
	*out = l;
	return 0;
}

int pylayout_for_hexversion(uint64_t hexversion, struct pylayout *out)
{
	int major = (int)((hexversion >> 24) & 0xff);
	int minor = (int)((hexversion >> 16) & 0xff);
	int micro = (int)((hexversion >> 8) & 0xff);

	return pylayout_for_version(major, minor, micro, out);
}

static uint64_t pylayout_u64(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/*
 * Where fields sit inside _Py_DebugOffsets, for 3.13 and 3.14. 3.13 is from
 * the pyenv 3.13.0 DWARF; 3.14 adds threads_main (so interp.gc moves to 88),
 * code_object_generation/tlbc_generation, frame stackpointer/tlbc_index,
 * co_tlbc and a set_object block, which puts gc.size at 648 (as in sid
 * 3.14.10's block, whose stack part matches the 3.14 headers field by
 * field). Every value is a field position in a struct well
 * under 64 KiB, or, for the thread list, inside the interpreter state.
 */
struct pylayout_dbgrow {
	uint16_t off;		/* offsetof(struct pylayout, field) */
	uint8_t size;		/* sizeof that field */
	bool zero_ok;		/* the first field of its struct: 0 is a value */
	uint16_t at[2];		/* its position in the 3.13 and in the 3.14 block */
	uint32_t max;		/* a value at or above this is out of range */
};

#define DBG(f, a313, a314) { PYLAYOUT_FIELD(f), false, { a313, a314 }, 1u << 16 }
#define DBG0(f, a313, a314) { PYLAYOUT_FIELD(f), true, { a313, a314 }, 1u << 16 }

/* What the census needs; any value out of range fails the whole block. */
static const struct pylayout_dbgrow pylayout_dbg_census[] = {
	DBG(rt_interp_head,       40,  40),
	DBG(interp_gc,            80,  88),
	DBG(tp_name,             376, 424),
	DBG(tp_flags,            392, 440),
	DBG(tuple_items,         408, 456),
	DBG(list_items,          432, 480),
	DBG(dict_keys,           456, 536),
	DBG(str_state,           544, 624),
	DBG(str_length,          552, 632),
	DBG(str_ascii_data,      560, 640),	/* sizeof(PyASCIIObject) */
	DBG(gc_size,             568, 648),
	DBG(gc_collecting,       576, 656),
};

_Static_assert(PYLAYOUT_DEBUG_OFFSETS_MIN == 656 + 8, "3.14 block ends after gc.collecting");

/* What the stack walker needs; out of range only leaves stack_known false. */
static const struct pylayout_dbgrow pylayout_dbg_stack[] = {
	{ PYLAYOUT_FIELD(interp_threads_head), false, { 72, 72 }, 1u << 20 },
	DBG0(ts_next,            168, 192),
	DBG(ts_frame,            184, 208),
	DBG(ts_thread_id,        192, 216),
	DBG(ts_native_thread_id, 200, 224),
	DBG0(frame_back,         232, 256),
	DBG0(frame_code,         240, 264),
	DBG(frame_instr,         248, 272),
	DBG(frame_localsplus,    256, 280),
	DBG(frame_owner,         264, 288),
	DBG(co_filename,         280, 320),
	DBG(co_name,             288, 328),
	DBG(co_qualname,         296, 336),
	DBG(co_linetable,        304, 344),
	DBG(co_firstlineno,      312, 352),
	DBG(co_argcount,         320, 360),
	DBG(co_localsnames,      328, 368),
	DBG(co_code_adaptive,    344, 384),
	DBG(bytes_size,          520, 600),
	DBG(bytes_data,          528, 608),
};

/*
 * Copies the rows' values for this block (minor 13 or 14) into *l. Returns
 * 0, or -EINVAL if the block is too short for a row or a value is out of
 * range; *l may then be half written, so callers pass a copy.
 */
static int pylayout_take(const unsigned char *p, size_t len, const struct pylayout_dbgrow *rows,
			 size_t n, struct pylayout *l)
{
	int k = l->minor == 13 ? 0 : 1;

	for (size_t i = 0; i < n; i++) {
		const struct pylayout_dbgrow *r = &rows[i];
		uint64_t v;

		if (len < (size_t)r->at[k] + 8)
			return -EINVAL;
		v = pylayout_u64(p, r->at[k]);
		if ((v == 0 && !r->zero_ok) || v >= r->max)
			return -EINVAL;
		pylayout_set(l, r->off, r->size, v);
	}
	return 0;
}

int pylayout_from_debug_offsets(const void *buf, size_t len, struct pylayout *out)
{
	const unsigned char *p = buf;
	struct pylayout l, s;
	int err;

	if (!buf || !out || len < 48)
		return -EINVAL;
	if (memcmp(p, "xdebugpy", 8) != 0)
		return -ENOENT;
	err = pylayout_for_hexversion(pylayout_u64(p, 8), &l);
	if (err < 0)
		return err;
	if (l.minor != 13 && l.minor != 14)
		return -ENOTSUP;	/* 3.7-3.12 have no debug offsets */

	l.free_threaded = pylayout_u64(p, 16) != 0;
	if (l.free_threaded)
		l.known = false;	/* ob_tid/ob_ref_local header: not handled */
	err = pylayout_take(p, len, pylayout_dbg_census, PYLAYOUT_NROWS(pylayout_dbg_census), &l);
	if (err < 0)
		return err;
	if (l.gc_collecting >= l.gc_size || l.gc_size > 4096)
		return -EINVAL;
	/*
	 * These never moved in GIL builds; if they read otherwise, the block
	 * is not laid out as assumed for this version and nothing else in it
	 * can be trusted either.
	 */
	if (!l.free_threaded && (l.tp_name != 24 || l.tp_flags != 168 || l.str_state != 32))
		return -EINVAL;
	/* Compact non-ASCII data follows utf8_length + utf8 (16 bytes). */
	l.str_compact_data = l.str_ascii_data + 16;
	if (l.minor == 14)
		l.incremental = l.gc_size == 240;

	/* The stack fields: a short or out-of-range stack part leaves
	 * stack_known false rather than failing the whole layout, since the
	 * census does not need them. */
	l.stack_known = false;
	s = l;
	if (!l.free_threaded &&
	    pylayout_take(p, len, pylayout_dbg_stack, PYLAYOUT_NROWS(pylayout_dbg_stack), &s) == 0) {
		l = s;
		l.stack_known = true;
	}
	*out = l;
	return 0;
}
