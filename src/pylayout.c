// SPDX-License-Identifier: MIT
/*
 * pylayout: per-version CPython offsets as data, and the 3.13+ parser for
 * `_Py_DebugOffsets` (see pylayout.h).
 *
 * Sources: DWARF of the pyenv builds 3.7.16, 3.8.18, 3.9.18, 3.10.13, 3.11.7,
 * 3.12.1, 3.13.0 (gdb `ptype/o`, `p &((T*)0)->f`); Debian 3.11.2 was
 * checked with a live census; 3.14 comes from the reference notes (sid
 * 3.14.10 headers and debug offsets) since no 3.14 binary is on this machine.
 * The table only holds what cannot be read from the target; on 3.13+ the
 * debug offsets win where they overlap.
 */
#include <errno.h>
#include <string.h>

#include "leakd/pylayout.h"

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
	if (major != 3 || minor < 7 || minor > 14)
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
	*out = l;
	return 0;
}
