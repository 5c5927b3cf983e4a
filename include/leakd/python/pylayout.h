/* SPDX-License-Identifier: MIT */
/*
 * Everything about a CPython build that leakd reads from outside, as data.
 *
 * The census (census.h) and type naming never hard-code an offset: they take
 * a struct pylayout, filled either from a per-version table (3.7-3.14; the
 * 3.8-3.13 entries are compared with the DWARF of Debian's 3.11, a self-built
 * 3.11 and the pyenv builds by tests/unit/test_pylayout_dwarf.c) or, on 3.13+,
 * from the `_Py_DebugOffsets` block the interpreter keeps at _PyRuntime+0.
 * Offsets that are known to differ between builds of one minor version carry
 * an alternative (gc_gens_alt) which the census validates before use.
 */
#ifndef LEAKD_PYLAYOUT_H
#define LEAKD_PYLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tp_flags bits that are the same in every supported version. */
#define PYLAYOUT_TPFLAGS_IMMUTABLETYPE (1ull << 8)	/* 3.10+ */
#define PYLAYOUT_TPFLAGS_HEAPTYPE (1ull << 9)
#define PYLAYOUT_TPFLAGS_READY (1ull << 12)
#define PYLAYOUT_TPFLAGS_HAVE_GC (1ull << 14)
#define PYLAYOUT_TPFLAGS_INLINE_VALUES (1ull << 2)	/* 3.13+ */
#define PYLAYOUT_TPFLAGS_MANAGED_DICT (1ull << 4)	/* 3.11+ */

/* The CPython 3 minors the table covers: what leakd supports, and says it
 * supports when it refuses another version. */
#define PYLAYOUT_MINOR_FIRST 7
#define PYLAYOUT_MINOR_LAST 14
#define PYLAYOUT_SUPPORTED "3.7-3.14"

/* Size of the _Py_DebugOffsets prefix pylayout_from_debug_offsets() needs. */
#define PYLAYOUT_DEBUG_OFFSETS_MIN 664

struct pylayout {
	int major, minor, micro;	/* micro is -1 when unknown */
	bool known;			/* false: "layout unknown, totals only" */
	bool free_threaded;		/* 3.13t/3.14t: object header differs; known is false */

	/* Where the GC state is. */
	uint32_t rt_interp_head;	/* interpreters.head in _PyRuntime */
	uint32_t interp_gc;		/* GC state in PyInterpreterState, or in _PyRuntime if gc_in_runtime */
	bool gc_in_runtime;		/* 3.7/3.8 */

	/* struct _gc_runtime_state */
	uint32_t gc_enabled;		/* int */
	uint32_t gc_gens;		/* generations[0] */
	uint32_t gc_gens_alt;		/* second candidate for gc_gens (Debian 3.13: 20), 0 = none */
	uint32_t gc_gen_stride;		/* sizeof(struct gc_generation) */
	uint32_t gc_permanent;		/* permanent_generation */
	uint32_t gc_stats;		/* generation_stats[0] */
	uint32_t gc_stats_stride;	/* {collections, collected, uncollectable}, 3 x 8 */
	uint32_t gc_collecting;		/* int */
	uint32_t gc_size;		/* sizeof(struct _gc_runtime_state) */
	uint32_t gen_threshold, gen_count;	/* ints within a generation */
	bool incremental;		/* 3.14.0-3.14.4: young/old[2]/..., counts are increments */

	/* PyGC_Head and objects */
	uint32_t gc_head_size;		/* 16; 32 in 3.7 (a long double union) */
	uint64_t preheader_flags;	/* tp_flags bits that put 16 more bytes before the GC head */
	uint32_t ob_type, ob_size;

	/* PyTypeObject / PyHeapTypeObject */
	uint32_t tp_name, tp_basicsize, tp_itemsize, tp_flags, tp_dict;
	uint32_t ht_name, ht_qualname;

	/* PyUnicodeObject: state bitfield, length, character data */
	uint32_t str_length, str_state;
	uint32_t str_ascii_data;	/* compact ASCII: sizeof(PyASCIIObject) */
	uint32_t str_compact_data;	/* compact non-ASCII: sizeof(PyCompactUnicodeObject) */

	/* Containers */
	uint32_t tuple_items, list_items;

	/* PyDictObject / PyDictKeysObject, for __module__ in a heap type's dict */
	uint32_t dict_keys;		/* ma_keys */
	bool dict_keys_log2;		/* 3.11+: dk_log2_size/dk_log2_index_bytes/dk_kind bytes */
	uint32_t dk_size;		/* dk_size (<=3.10, Py_ssize_t) or dk_log2_size (3.11+, u8) */
	uint32_t dk_nentries;
	uint32_t dk_indices;		/* start of the index array */

	/*
	 * What the reachable-heap walk (heapwalk.h) follows. Checked with
	 * offsetof() against the pyenv 3.8-3.13 headers; 3.14 shares the 3.13
	 * values for every field here (its additions sit after them).
	 */
	uint32_t list_allocated;	/* PyListObject.allocated */
	uint32_t dict_used, dict_values;	/* ma_used, ma_values */
	enum pylayout_values {
		PYLAYOUT_VALUES_ARRAY,	/* <=3.10: PyObject *values[dk_nentries] */
		PYLAYOUT_VALUES_PREFIX,	/* 3.11/3.12: size at [-2], insertion order below it */
		PYLAYOUT_VALUES_SIZED,	/* 3.13+: {capacity, size, embedded, valid} then values */
	} dict_values_kind;
	uint32_t set_mask, set_table, set_smalltable;	/* PySetObject; entries {key, hash} */
	uint32_t bytearray_alloc;	/* ob_alloc: the separately allocated buffer */
	uint32_t cell_ref;
	uint32_t func_globals, func_defaults, func_kwdefaults, func_closure, func_dict;
	uint32_t method_func, method_self;
	uint32_t module_dict;
	uint32_t tp_members, tp_base, tp_dictoffset, tp_weaklistoffset;
	enum pylayout_managed {
		PYLAYOUT_MANAGED_NONE,	/* <=3.10: __dict__ at tp_dictoffset */
		PYLAYOUT_MANAGED_311,	/* dict at obj-24, values at obj-32 */
		PYLAYOUT_MANAGED_312,	/* obj-24: a dict, or values tagged with bit 0 */
		PYLAYOUT_MANAGED_313,	/* dict at obj-24; INLINE_VALUES after tp_basicsize */
	} managed;
	bool int_lv_tag;		/* 3.12+: digit count is lv_tag >> 3, not |ob_size| */

	/*
	 * ---- Python stacks (issue 8, sites): thread states, frames, code ----
	 * Kept together at the end of the struct. Filled from the version table
	 * (pyenv 3.8-3.13 DWARF, Debian 3.11, sid 3.14.10's
	 * debug offsets) and, on 3.13+, overridden from _Py_DebugOffsets.
	 * stack_known is false where no walker layout exists (3.7, free-threaded).
	 */
	bool stack_known;
	uint32_t rt_tstate_current;	/* _PyRuntime.gilstate.tstate_current (3.8-3.11); 0 = none */
	uint32_t interp_threads_head;	/* PyInterpreterState tstate_head / threads.head */
	uint32_t ts_next, ts_thread_id;
	uint32_t ts_native_thread_id;	/* 3.11+; 0 = none */
	uint32_t ts_frame;		/* PyThreadState field leading to the newest frame */
	bool ts_frame_via_cframe;	/* 3.11/3.12: ts_frame holds a _PyCFrame*, ... */
	uint32_t cframe_frame;		/* ... whose current_frame is at this offset */
	bool frame_is_object;		/* <= 3.10: PyFrameObject; else _PyInterpreterFrame */
	uint8_t frame_instr_kind;	/* enum pylayout_instr_kind */
	uint32_t frame_code;		/* f_code / f_executable */
	uint32_t frame_back;		/* f_back / previous */
	uint32_t frame_instr;		/* f_lasti (int) / prev_instr / instr_ptr */
	uint32_t frame_owner;		/* char owner (3.12+); 0 = not checked */
	uint8_t frame_owner_skip;	/* owner >= this is a C-stack/entry shim, not a Python frame */
	uint64_t frame_code_mask;	/* ~0; 3.14: ~3, f_executable is a tagged _PyStackRef */
	uint32_t co_argcount, co_firstlineno;	/* ints */
	uint32_t co_filename, co_name;	/* str */
	uint32_t co_qualname;		/* str, 3.11+; 0 = none (use co_name) */
	uint32_t co_linetable;		/* bytes: co_lnotab <= 3.9, co_linetable 3.10+ */
	uint32_t co_code_adaptive;	/* 3.11+: first instruction inside the code object; 0 = none */
	uint32_t bytes_size, bytes_data;	/* PyBytesObject ob_size, ob_sval */
	/* Locals of a frame, by name (holders.h: thread stacks as roots). */
	uint32_t frame_localsplus;	/* f_localsplus / localsplus[] */
	uint32_t co_localsnames;	/* tuple: co_varnames (<= 3.10) / co_localsplusnames */
	uint32_t co_cellvars, co_freevars;	/* tuples after co_varnames (<= 3.10); 0 = none */
	/* Generators and coroutines: <= 3.10 a PyFrameObject * at gen_frame; 3.11+
	 * the frame embedded at gen_frame, live while the int8 at gen_frame_state
	 * is negative (created or suspended). 0 = not known. */
	uint32_t gen_frame, gen_frame_state;
	/* A suspended frame's value stack (what it awaits or iterates): how its
	 * top is kept (frame_stack_kind) at frame_stack; <= 3.10 its base is the
	 * pointer at frame_valuestack, 3.11+ right after the locals; 3.10 holds it
	 * only while the int8 at frame_state says suspended (-1). */
	uint8_t frame_stack_kind;	/* enum pylayout_stack_kind; 0 = not known */
	uint32_t frame_stack, frame_valuestack, frame_state;
};

/* How a frame keeps the top of its value stack (frame_stack). */
enum pylayout_stack_kind {
	PYLAYOUT_STACK_TOP_PTR = 1,	/* a pointer past the top: f_stacktop (<= 3.9, NULL while running), stackpointer (3.14) */
	PYLAYOUT_STACK_DEPTH,		/* int f_stackdepth, items above f_valuestack (3.10) */
	PYLAYOUT_STACK_TOP_INDEX,	/* int stacktop, an index into localsplus (3.11-3.13) */
};

/* How a frame records its instruction (frame_instr). */
enum pylayout_instr_kind {
	PYLAYOUT_INSTR_LASTI_BYTES = 1,	/* <= 3.9: int f_lasti, bytes into co_code, -1 before the first */
	PYLAYOUT_INSTR_LASTI_UNITS,	/* 3.10: int f_lasti, 2-byte code units */
	PYLAYOUT_INSTR_PTR,		/* 3.11+: _Py_CODEUNIT *, into the code object at co_code_adaptive */
};

/*
 * Fills *out from the table for CPython major.minor (micro, or -1 if
 * unknown, only matters for 3.14: 0-4 incremental GC). Returns 0, or
 * -ENOTSUP for a version without a table entry (*out untouched), -EINVAL for
 * a NULL out.
 */
int pylayout_for_version(int major, int minor, int micro, struct pylayout *out);

/*
 * Parses the `_Py_DebugOffsets` block found at _PyRuntime+0 on 3.13+ (cookie
 * "xdebugpy"), given its first `len` bytes (at least
 * PYLAYOUT_DEBUG_OFFSETS_MIN for 3.14, 584 for 3.13). The table entry for
 * the version it names is the base; the block overrides what it describes
 * (interpreters head, interp.gc, GC collecting/size, type/tuple/str fields)
 * and decides incremental (3.14: gc.size 240) and free_threaded.
 * Returns 0; -ENOENT no cookie; -ENOTSUP version without a table entry;
 * -EINVAL too short or values out of range. *out untouched on failure.
 */
int pylayout_from_debug_offsets(const void *buf, size_t len, struct pylayout *out);

/* PY_VERSION_HEX -> the parts; returns the same codes as pylayout_for_version. */
int pylayout_for_hexversion(uint64_t hexversion, struct pylayout *out);

#endif /* LEAKD_PYLAYOUT_H */
