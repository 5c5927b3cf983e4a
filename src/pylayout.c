// SPDX-License-Identifier: MIT
/*
 * pylayout: per-version CPython offsets as data, and the 3.13+ parser for
 * `_Py_DebugOffsets` (see pylayout.h).
 *
 * Sources: DWARF of the pyenv builds 3.7.16, 3.8.18, 3.9.18, 3.10.13, 3.11.7,
 * 3.12.1, 3.13.0 (gdb `ptype/o`, `p &((T*)0)->f`); 3.14 comes from the
 * reference notes (sid 3.14.10 headers and debug offsets) since no 3.14
 * binary is on this machine. tests/unit/test_pylayout_dwarf.c reads the
 * 3.8-3.13 offsets back with libdw from Debian's 3.11 (python3.11-dbg), the
 * self-built 3.11 and the pyenv builds, and fails on any difference; 3.7 and
 * 3.14, and the alternatives (gc_gens_alt), are not covered by it.
 * The table only holds what cannot be read from the target; on 3.13+ the
 * debug offsets win where they overlap.
 */
#include <errno.h>
#include <string.h>

#include "leakd/pylayout.h"

static void pylayout_stack(struct pylayout *l);
static int pylayout_stack_from_debug(const unsigned char *p, size_t len, struct pylayout *l);

/* The fields every version 3.7-3.14 (GIL builds) shares. */
static void pylayout_common(struct pylayout *l)
{
	memset(l, 0, sizeof(*l));
	l->micro = -1;
	l->known = true;
	l->gc_enabled = 12;
	l->gc_gens = 24;
	l->gc_gen_stride = 24;
	l->gc_permanent = 104;
	l->gc_stats = 128;
	l->gc_stats_stride = 24;
	l->gc_collecting = 200;
	l->gc_size = 240;
	l->gen_threshold = 16;
	l->gen_count = 20;
	l->gc_head_size = 16;
	l->ob_type = 8;
	l->ob_size = 16;
	l->tp_name = 24;
	l->tp_basicsize = 32;
	l->tp_itemsize = 40;
	l->tp_flags = 168;
	l->tp_dict = 264;
	l->str_length = 16;
	l->str_state = 32;
	l->str_ascii_data = 48;
	l->str_compact_data = 72;
	l->tuple_items = 24;
	l->list_items = 24;
	l->dict_keys = 32;
	l->dict_keys_log2 = false;
	l->dk_size = 8;
	l->dk_nentries = 32;
	l->dk_indices = 40;
	l->list_allocated = 32;
	l->dict_used = 16;
	l->dict_values = 40;
	l->dict_values_kind = PYLAYOUT_VALUES_ARRAY;
	l->set_mask = 32;
	l->set_table = 40;
	l->set_smalltable = 64;
	l->bytearray_alloc = 24;
	l->cell_ref = 16;
	/* 3.10 moved the common fields (globals, builtins, name...) first. */
	l->func_globals = 16;
	l->func_defaults = 56;
	l->func_kwdefaults = 64;
	l->func_closure = 72;
	l->func_dict = 88;
	l->method_func = 16;
	l->method_self = 24;
	l->module_dict = 16;
	l->tp_members = 240;
	l->tp_base = 256;
	l->tp_dictoffset = 288;
	l->managed = PYLAYOUT_MANAGED_NONE;
}

static void pylayout_func38(struct pylayout *l)
{
	l->func_globals = 24;
	l->func_defaults = 32;
	l->func_kwdefaults = 40;
	l->func_closure = 48;
	l->func_dict = 72;
}

static void pylayout_dict311(struct pylayout *l)
{
	l->dict_keys_log2 = true;
	l->dict_values_kind = l->minor >= 13 ? PYLAYOUT_VALUES_SIZED : PYLAYOUT_VALUES_PREFIX;
	l->managed = l->minor >= 13 ? PYLAYOUT_MANAGED_313 :
		     l->minor == 12 ? PYLAYOUT_MANAGED_312 : PYLAYOUT_MANAGED_311;
	l->int_lv_tag = l->minor >= 12;
	l->dk_size = 8;
	l->dk_nentries = 24;
	l->dk_indices = 32;
}

int pylayout_for_version(int major, int minor, int micro, struct pylayout *out)
{
	struct pylayout l;

	if (!out)
		return -EINVAL;
	if (major != 3 || minor < PYLAYOUT_MINOR_FIRST || minor > PYLAYOUT_MINOR_LAST)
		return -ENOTSUP;

	pylayout_common(&l);
	l.major = major;
	l.minor = minor;
	l.micro = micro;

	switch (minor) {
	case 7:
		/* PyGC_Head is a 32-byte union (aligned like long double); prev is untagged. */
		l.rt_interp_head = 24;
		l.interp_gc = 320;
		l.gc_in_runtime = true;
		l.gc_gens = 32;
		l.gc_gen_stride = 48;
		l.gen_threshold = 32;
		l.gen_count = 36;
		l.gc_permanent = 192;
		l.gc_stats = 240;
		l.gc_collecting = 312;
		l.gc_size = 352;
		l.gc_head_size = 32;
		l.ht_qualname = 848;
		pylayout_func38(&l);
		break;
	case 8:
		l.rt_interp_head = 32;
		l.interp_gc = 344;
		l.gc_in_runtime = true;
		l.ht_qualname = 864;
		pylayout_func38(&l);
		break;
	case 9:
		l.rt_interp_head = 32;
		l.interp_gc = 616;
		l.ht_qualname = 856;
		pylayout_func38(&l);
		break;
	case 10:
		l.rt_interp_head = 32;
		l.interp_gc = 616;
		l.ht_qualname = 864;
		break;
	case 11:
		l.rt_interp_head = 40;
		l.interp_gc = 648;
		l.ht_qualname = 864;
		l.preheader_flags = 1ull << 4;			/* MANAGED_DICT */
		pylayout_dict311(&l);
		break;
	case 12:
		l.rt_interp_head = 40;
		l.interp_gc = 112;
		l.ht_qualname = 872;
		l.preheader_flags = (1ull << 4) | (1ull << 3);	/* MANAGED_DICT|MANAGED_WEAKREF */
		l.str_ascii_data = 40;
		l.str_compact_data = 56;
		pylayout_dict311(&l);
		break;
	case 13:
		l.rt_interp_head = 632;
		l.interp_gc = 7400;
		/* Debian's gchead-alignment.diff (gh-127545) moves generations[] to +20. */
		l.gc_gens_alt = 20;
		l.ht_qualname = 872;
		l.preheader_flags = (1ull << 4) | (1ull << 3);
		l.str_ascii_data = 40;
		l.str_compact_data = 56;
		pylayout_dict311(&l);
		break;
	case 14:
		/* sid 3.14.10; 3.14.0-3.14.4 share the offsets but collect incrementally. */
		l.rt_interp_head = 808;
		l.interp_gc = 7408;
		l.gc_gens_alt = 20;
		l.gc_permanent = 96;
		l.gc_stats = 120;
		l.gc_collecting = 192;
		l.incremental = micro >= 0 && micro <= 4;
		l.gc_size = l.incremental ? 240 : 264;
		l.ht_qualname = 872;
		l.preheader_flags = (1ull << 4) | (1ull << 3);
		l.str_ascii_data = 40;
		l.str_compact_data = 56;
		l.tuple_items = 32;	/* ob_hash cache added before ob_item */
		pylayout_dict311(&l);
		break;
	}
	l.ht_name = l.ht_qualname - 16;
	pylayout_stack(&l);
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
 * Field positions inside _Py_DebugOffsets. 3.13 is from the pyenv 3.13.0
 * DWARF; 3.14 adds threads_main (so interp.gc moves to 88),
 * code_object_generation/tlbc_generation, frame stackpointer/tlbc_index,
 * co_tlbc and a set_object block, which puts gc.size at 648 (matches the
 * reference's reading of sid 3.14.10).
 */
struct pylayout_dbgpos {
	size_t interp_gc, tp_name, tp_flags, tuple_items, list_items, dict_keys;
	size_t str_state, str_length, str_ascii_size, gc_size, gc_collecting, end;
};

static const struct pylayout_dbgpos pylayout_dbg313 = {
	.interp_gc = 80, .tp_name = 376, .tp_flags = 392, .tuple_items = 408,
	.list_items = 432, .dict_keys = 456, .str_state = 544, .str_length = 552,
	.str_ascii_size = 560, .gc_size = 568, .gc_collecting = 576, .end = 584,
};

static const struct pylayout_dbgpos pylayout_dbg314 = {
	.interp_gc = 88, .tp_name = 424, .tp_flags = 440, .tuple_items = 456,
	.list_items = 480, .dict_keys = 536, .str_state = 624, .str_length = 632,
	.str_ascii_size = 640, .gc_size = 648, .gc_collecting = 656, .end = 664,
};

_Static_assert(PYLAYOUT_DEBUG_OFFSETS_MIN == 664, "3.14 block end");

int pylayout_from_debug_offsets(const void *buf, size_t len, struct pylayout *out)
{
	const unsigned char *p = buf;
	const struct pylayout_dbgpos *pos;
	struct pylayout l;
	uint64_t version, v;
	int err;

	if (!buf || !out || len < 48)
		return -EINVAL;
	if (memcmp(p, "xdebugpy", 8) != 0)
		return -ENOENT;
	version = pylayout_u64(p, 8);
	err = pylayout_for_hexversion(version, &l);
	if (err < 0)
		return err;
	if (l.minor == 13)
		pos = &pylayout_dbg313;
	else if (l.minor == 14)
		pos = &pylayout_dbg314;
	else
		return -ENOTSUP;	/* 3.7-3.12 have no debug offsets */
	if (len < pos->end)
		return -EINVAL;

	l.free_threaded = pylayout_u64(p, 16) != 0;
	if (l.free_threaded)
		l.known = false;	/* ob_tid/ob_ref_local header: not handled */

	/* Every offset is a field position in a struct well under 64 KiB. */
#define TAKE(field, at)                       \
	do {                                  \
		v = pylayout_u64(p, (at));    \
		if (v == 0 || v >= 65536)     \
			return -EINVAL;       \
		l.field = (uint32_t)v;        \
	} while (0)
	TAKE(rt_interp_head, 40);
	TAKE(interp_gc, pos->interp_gc);
	TAKE(tp_name, pos->tp_name);
	TAKE(tp_flags, pos->tp_flags);
	TAKE(tuple_items, pos->tuple_items);
	TAKE(list_items, pos->list_items);
	TAKE(dict_keys, pos->dict_keys);
	TAKE(str_state, pos->str_state);
	TAKE(str_length, pos->str_length);
	TAKE(str_ascii_data, pos->str_ascii_size);
	TAKE(gc_size, pos->gc_size);
	TAKE(gc_collecting, pos->gc_collecting);
#undef TAKE
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
	err = pylayout_stack_from_debug(p, len, &l);
	if (err < 0)
		return err;
	*out = l;
	return 0;
}

/*
 * ---- Python stacks (issue 8, sites) ----
 * Thread-state, frame and code-object offsets for the BPF stack walker and
 * the code-object reader. 3.8-3.13 from the pyenv builds' DWARF (gdb
 * `p &((T*)0)->f`), 3.14 from sid 3.14.10's _Py_DebugOffsets, which 3.13+
 * binaries carry and which then win (pylayout_stack_from_debug).
 */
static void pylayout_stack(struct pylayout *l)
{
	int minor = l->minor;

	if (l->major != 3 || minor < 8 || minor > 14)
		return;
	l->stack_known = true;
	l->ts_next = 8;
	l->frame_code_mask = ~0ull;
	l->bytes_size = 16;
	l->bytes_data = 32;
	if (minor <= 10) {
		l->rt_tstate_current = minor == 8 ? 1368 : 568;
		l->interp_threads_head = 8;
		l->ts_thread_id = 176;
		l->ts_frame = 24;
		l->frame_is_object = true;
		l->frame_code = 32;
		l->frame_back = 24;
		l->frame_instr = minor == 10 ? 96 : 104;
		l->frame_instr_kind = minor == 10 ? PYLAYOUT_INSTR_LASTI_UNITS : PYLAYOUT_INSTR_LASTI_BYTES;
		l->co_argcount = 16;
		l->co_firstlineno = 40;
		l->co_filename = 104;
		l->co_name = 112;
		l->co_linetable = 120;
		/* after f_blockstack[CO_MAXBLOCKS] */
		l->frame_localsplus = minor == 10 ? 352 : 360;
		l->co_localsnames = 72;
		l->co_freevars = 80;
		l->co_cellvars = 88;
		l->gen_frame = 16;	/* gi_frame */
		return;
	}
	l->frame_instr_kind = PYLAYOUT_INSTR_PTR;
	l->frame_instr = 56;
	l->frame_localsplus = minor == 14 ? 80 : 72;
	l->co_localsnames = 96;
	/* gi_iframe (3.11 still has gi_code before it); gi_frame_state just before */
	l->gen_frame = minor == 11 ? 80 : 72;
	l->gen_frame_state = l->gen_frame - 5;
	l->co_filename = 112;
	l->co_name = 120;
	l->co_qualname = 128;
	l->co_linetable = 136;
	if (minor == 11) {
		l->rt_tstate_current = 576;
		l->interp_threads_head = 16;
		l->ts_thread_id = 152;
		l->ts_native_thread_id = 160;
		l->ts_frame = 56;
		l->ts_frame_via_cframe = true;
		l->cframe_frame = 8;
		l->frame_code = 32;
		l->frame_back = 48;
		l->co_argcount = 56;
		l->co_firstlineno = 72;
		l->co_code_adaptive = 184;
		return;	/* 3.11 has no shim frames: every frame on the chain runs code */
	}
	l->frame_code = 0;
	l->frame_back = 8;
	l->frame_owner = 70;
	l->frame_owner_skip = 3;	/* FRAME_OWNED_BY_CSTACK (3.12/3.13), _BY_INTERPRETER (3.14) */
	l->co_argcount = 52;
	l->co_firstlineno = 68;
	l->ts_thread_id = 152;
	l->ts_native_thread_id = 160;
	l->ts_frame = 72;
	l->interp_threads_head = 7344;
	if (minor == 12) {
		l->interp_threads_head = 72;
		l->ts_thread_id = 136;
		l->ts_native_thread_id = 144;
		l->ts_frame = 56;
		l->ts_frame_via_cframe = true;
		l->cframe_frame = 0;
		l->co_code_adaptive = 192;
	} else if (minor == 13) {
		l->co_code_adaptive = 200;
	} else {
		l->co_code_adaptive = 208;
		l->frame_owner = 74;
		l->frame_code_mask = ~3ull;	/* Py_TAG_BITS */
	}
}

/* Where the stack-related fields sit inside _Py_DebugOffsets (3.13: pyenv
 * 3.13.0 DWARF; 3.14: read from sid 3.14.10's block, whose values match
 * the 3.14 headers field by field). */
struct pylayout_dbgstack {
	size_t threads_head, ts_next, ts_frame, ts_thread_id, ts_native_thread_id;
	size_t frame_back, frame_code, frame_instr, frame_owner, frame_localsplus;
	size_t co_localsnames, co_filename, co_name, co_qualname, co_linetable, co_firstlineno, co_argcount;
	size_t co_code_adaptive, bytes_size, bytes_data;
};

static const struct pylayout_dbgstack pylayout_dbgstack313 = {
	.threads_head = 72, .ts_next = 168, .ts_frame = 184, .ts_thread_id = 192,
	.ts_native_thread_id = 200, .frame_back = 232, .frame_code = 240, .frame_instr = 248,
	.frame_owner = 264, .frame_localsplus = 256, .co_localsnames = 328, .co_filename = 280, .co_name = 288, .co_qualname = 296,
	.co_linetable = 304, .co_firstlineno = 312, .co_argcount = 320, .co_code_adaptive = 344,
	.bytes_size = 520, .bytes_data = 528,
};

static const struct pylayout_dbgstack pylayout_dbgstack314 = {
	.threads_head = 72, .ts_next = 192, .ts_frame = 208, .ts_thread_id = 216,
	.ts_native_thread_id = 224, .frame_back = 256, .frame_code = 264, .frame_instr = 272,
	.frame_owner = 288, .frame_localsplus = 280, .co_localsnames = 368, .co_filename = 320, .co_name = 328, .co_qualname = 336,
	.co_linetable = 344, .co_firstlineno = 352, .co_argcount = 360, .co_code_adaptive = 384,
	.bytes_size = 600, .bytes_data = 608,
};

/* Overrides l's stack fields from the block. A block whose stack part is
 * short or out of range leaves stack_known false rather than failing the
 * whole layout: the census does not need these fields. Returns 0. */
static int pylayout_stack_from_debug(const unsigned char *p, size_t len, struct pylayout *l)
{
	const struct pylayout_dbgstack *pos = l->minor == 13 ? &pylayout_dbgstack313 : &pylayout_dbgstack314;
	struct pylayout s = *l;
	uint64_t v;

	if (l->minor != 13 && l->minor != 14)
		return 0;
	l->stack_known = false;
	if (l->free_threaded || len < pos->bytes_data + 8)
		return 0;
	/* frame_back, frame_code and ts_next may be 0 (first fields); the rest not. */
#define STACK_TAKE(field, zero_ok)                                    \
	do {                                                          \
		v = pylayout_u64(p, pos->field);                      \
		if ((!(zero_ok) && v == 0) || v >= 65536)             \
			return 0;                                     \
		s.field = (uint32_t)v;                                \
	} while (0)
	STACK_TAKE(ts_next, true);
	STACK_TAKE(ts_frame, false);
	STACK_TAKE(ts_thread_id, false);
	STACK_TAKE(ts_native_thread_id, false);
	STACK_TAKE(frame_back, true);
	STACK_TAKE(frame_code, true);
	STACK_TAKE(frame_instr, false);
	STACK_TAKE(frame_owner, false);
	STACK_TAKE(frame_localsplus, false);
	STACK_TAKE(co_localsnames, false);
	STACK_TAKE(co_filename, false);
	STACK_TAKE(co_name, false);
	STACK_TAKE(co_qualname, false);
	STACK_TAKE(co_linetable, false);
	STACK_TAKE(co_firstlineno, false);
	STACK_TAKE(co_argcount, false);
	STACK_TAKE(co_code_adaptive, false);
	STACK_TAKE(bytes_size, false);
	STACK_TAKE(bytes_data, false);
#undef STACK_TAKE
	v = pylayout_u64(p, pos->threads_head);
	if (v == 0 || v >= (1u << 20))
		return 0;
	s.interp_threads_head = (uint32_t)v;
	s.stack_known = true;
	*l = s;
	return 0;
}
