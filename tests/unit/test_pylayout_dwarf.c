// SPDX-License-Identifier: MIT
/*
 * The layout table (src/python/pylayout.c) checked against DWARF: for every field
 * leakd reads, the member offset (or struct size) is read with libdw from the
 * debug information of real interpreters and compared with what
 * pylayout_for_version() says for that minor version. Expected values come
 * from the binaries, never from constants typed here.
 *
 * Interpreters: Debian's /usr/bin/python3.11 through the detached debug file
 * python3.11-dbg installs (found by build-id), a self-built 3.11 (pyenv's
 * 3.11.7, else scripts/build-python.sh's build), and every other pyenv build
 * 3.8-3.13 that is present (pyenv is optional). A missing prerequisite fails
 * with one line naming it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leakd/process/elfimg.h"
#include "leakd/python/pylayout.h"

#define DEBIAN_PY "/usr/bin/python3.11"
#define DEBUG_ROOT "/usr/lib/debug/.build-id"

enum what { OFF, SIZE };

/* One field of struct pylayout and where it comes from in CPython's types:
 * a type (struct tag or typedef) and a member path ("a.b"), for minors
 * lo..hi. SIZE rows compare sizeof(type). */
struct row {
	int lo, hi;
	const char *type, *member;
	size_t field;		/* offsetof(struct pylayout, ...), a uint32_t */
	const char *name;
	enum what what;
};

#define F(f) offsetof(struct pylayout, f), #f
static const struct row rows[] = {
	{ 8, 13, "PyObject", "ob_type", F(ob_type), OFF },
	{ 8, 13, "PyVarObject", "ob_size", F(ob_size), OFF },
	{ 8, 13, "_typeobject", "tp_name", F(tp_name), OFF },
	{ 8, 13, "_typeobject", "tp_basicsize", F(tp_basicsize), OFF },
	{ 8, 13, "_typeobject", "tp_itemsize", F(tp_itemsize), OFF },
	{ 8, 13, "_typeobject", "tp_flags", F(tp_flags), OFF },
	{ 8, 13, "_typeobject", "tp_dict", F(tp_dict), OFF },
	{ 8, 13, "_typeobject", "tp_members", F(tp_members), OFF },
	{ 8, 13, "_typeobject", "tp_base", F(tp_base), OFF },
	{ 8, 13, "_typeobject", "tp_dictoffset", F(tp_dictoffset), OFF },
	{ 8, 13, "_typeobject", "tp_weaklistoffset", F(tp_weaklistoffset), OFF },
	{ 8, 13, "_heaptypeobject", "ht_name", F(ht_name), OFF },
	{ 8, 13, "_heaptypeobject", "ht_qualname", F(ht_qualname), OFF },
	{ 8, 13, "PyASCIIObject", "length", F(str_length), OFF },
	{ 8, 13, "PyASCIIObject", "state", F(str_state), OFF },
	{ 8, 13, "PyASCIIObject", NULL, F(str_ascii_data), SIZE },
	{ 8, 13, "PyCompactUnicodeObject", NULL, F(str_compact_data), SIZE },
	{ 8, 13, "PyTupleObject", "ob_item", F(tuple_items), OFF },
	{ 8, 13, "PyListObject", "ob_item", F(list_items), OFF },
	{ 8, 13, "PyListObject", "allocated", F(list_allocated), OFF },
	{ 8, 13, "PyDictObject", "ma_keys", F(dict_keys), OFF },
	{ 8, 13, "PyDictObject", "ma_used", F(dict_used), OFF },
	{ 8, 13, "PyDictObject", "ma_values", F(dict_values), OFF },
	{ 8, 10, "_dictkeysobject", "dk_size", F(dk_size), OFF },
	{ 11, 13, "_dictkeysobject", "dk_log2_size", F(dk_size), OFF },
	{ 8, 13, "_dictkeysobject", "dk_nentries", F(dk_nentries), OFF },
	{ 8, 13, "_dictkeysobject", "dk_indices", F(dk_indices), OFF },
	{ 8, 13, "PySetObject", "mask", F(set_mask), OFF },
	{ 8, 13, "PySetObject", "table", F(set_table), OFF },
	{ 8, 13, "PySetObject", "smalltable", F(set_smalltable), OFF },
	{ 8, 13, "PyByteArrayObject", "ob_alloc", F(bytearray_alloc), OFF },
	{ 8, 13, "PyCellObject", "ob_ref", F(cell_ref), OFF },
	{ 8, 13, "PyFunctionObject", "func_globals", F(func_globals), OFF },
	{ 8, 13, "PyFunctionObject", "func_defaults", F(func_defaults), OFF },
	{ 8, 13, "PyFunctionObject", "func_kwdefaults", F(func_kwdefaults), OFF },
	{ 8, 13, "PyFunctionObject", "func_closure", F(func_closure), OFF },
	{ 8, 13, "PyFunctionObject", "func_dict", F(func_dict), OFF },
	{ 8, 13, "PyMethodObject", "im_func", F(method_func), OFF },
	{ 8, 13, "PyMethodObject", "im_self", F(method_self), OFF },
	{ 8, 13, "PyModuleObject", "md_dict", F(module_dict), OFF },
	{ 8, 13, "PyBytesObject", "ob_base.ob_size", F(bytes_size), OFF },
	{ 8, 13, "PyBytesObject", "ob_sval", F(bytes_data), OFF },
	/* the collector */
	{ 8, 13, "PyGC_Head", NULL, F(gc_head_size), SIZE },
	{ 8, 13, "_gc_runtime_state", "enabled", F(gc_enabled), OFF },
	{ 8, 13, "_gc_runtime_state", "generations", F(gc_gens), OFF },
	{ 8, 13, "_gc_runtime_state", "permanent_generation", F(gc_permanent), OFF },
	{ 8, 13, "_gc_runtime_state", "generation_stats", F(gc_stats), OFF },
	{ 8, 13, "_gc_runtime_state", "collecting", F(gc_collecting), OFF },
	{ 8, 13, "_gc_runtime_state", NULL, F(gc_size), SIZE },
	{ 8, 13, "gc_generation", NULL, F(gc_gen_stride), SIZE },
	{ 8, 13, "gc_generation", "threshold", F(gen_threshold), OFF },
	{ 8, 13, "gc_generation", "count", F(gen_count), OFF },
	{ 8, 13, "gc_generation_stats", NULL, F(gc_stats_stride), SIZE },
	{ 8, 8, "pyruntimestate", "gc", F(interp_gc), OFF },
	{ 9, 13, "_is", "gc", F(interp_gc), OFF },
	{ 8, 13, "pyruntimestate", "interpreters.head", F(rt_interp_head), OFF },
	/* stacks: thread states, frames, code */
	{ 8, 11, "pyruntimestate", "gilstate.tstate_current", F(rt_tstate_current), OFF },
	{ 8, 10, "_is", "tstate_head", F(interp_threads_head), OFF },
	{ 11, 13, "_is", "threads.head", F(interp_threads_head), OFF },
	{ 8, 13, "_ts", "next", F(ts_next), OFF },
	{ 8, 13, "_ts", "thread_id", F(ts_thread_id), OFF },
	{ 11, 13, "_ts", "native_thread_id", F(ts_native_thread_id), OFF },
	{ 8, 10, "_ts", "frame", F(ts_frame), OFF },
	{ 11, 12, "_ts", "cframe", F(ts_frame), OFF },
	{ 13, 13, "_ts", "current_frame", F(ts_frame), OFF },
	{ 11, 12, "_PyCFrame", "current_frame", F(cframe_frame), OFF },
	{ 8, 10, "_frame", "f_code", F(frame_code), OFF },
	{ 8, 10, "_frame", "f_back", F(frame_back), OFF },
	{ 8, 10, "_frame", "f_lasti", F(frame_instr), OFF },
	{ 11, 12, "_PyInterpreterFrame", "f_code", F(frame_code), OFF },
	{ 13, 13, "_PyInterpreterFrame", "f_executable", F(frame_code), OFF },
	{ 11, 13, "_PyInterpreterFrame", "previous", F(frame_back), OFF },
	{ 11, 12, "_PyInterpreterFrame", "prev_instr", F(frame_instr), OFF },
	{ 13, 13, "_PyInterpreterFrame", "instr_ptr", F(frame_instr), OFF },
	{ 12, 13, "_PyInterpreterFrame", "owner", F(frame_owner), OFF },
	{ 8, 9, "_frame", "f_stacktop", F(frame_stack), OFF },
	{ 10, 10, "_frame", "f_stackdepth", F(frame_stack), OFF },
	{ 8, 10, "_frame", "f_valuestack", F(frame_valuestack), OFF },
	{ 10, 10, "_frame", "f_state", F(frame_state), OFF },
	{ 11, 13, "_PyInterpreterFrame", "stacktop", F(frame_stack), OFF },
	{ 8, 13, "PyCodeObject", "co_argcount", F(co_argcount), OFF },
	{ 8, 13, "PyCodeObject", "co_firstlineno", F(co_firstlineno), OFF },
	{ 8, 13, "PyCodeObject", "co_filename", F(co_filename), OFF },
	{ 8, 13, "PyCodeObject", "co_name", F(co_name), OFF },
	{ 11, 13, "PyCodeObject", "co_qualname", F(co_qualname), OFF },
	{ 8, 9, "PyCodeObject", "co_lnotab", F(co_linetable), OFF },
	{ 10, 13, "PyCodeObject", "co_linetable", F(co_linetable), OFF },
	{ 11, 13, "PyCodeObject", "co_code_adaptive", F(co_code_adaptive), OFF },
};
#undef F

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The complete definitions of the types the rows name, one pass over the
 * CUs' top-level DIEs (libpython's DWARF is tens of MB). */
struct types {
	const char *name[NROWS];
	Dwarf_Die die[NROWS];
	bool found[NROWS];
	size_t n;
};

/* Through typedefs and qualifiers to the struct (or union) itself. */
static bool peel(Dwarf_Die *d)
{
	for (int i = 0; i < 16; i++) {
		Dwarf_Attribute a;
		int tag = dwarf_tag(d);

		if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type)
			return !dwarf_hasattr(d, DW_AT_declaration);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
			return false;
		if (!dwarf_attr_integrate(d, DW_AT_type, &a) || !dwarf_formref_die(&a, d))
			return false;
	}
	return false;
}

static void collect(Dwarf *dw, struct types *t)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				int tag = dwarf_tag(&d);
				const char *name;

				if (tag != DW_TAG_structure_type && tag != DW_TAG_typedef)
					continue;
				name = dwarf_diename(&d);
				if (!name)
					continue;
				for (size_t i = 0; i < t->n; i++) {
					Dwarf_Die s = d;

					if (t->found[i] || strcmp(name, t->name[i]) || !peel(&s))
						continue;
					t->die[i] = s;
					t->found[i] = true;
				}
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
}

static const Dwarf_Die *type_die(struct types *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], name))
			return t->found[i] ? &t->die[i] : NULL;
	return NULL;
}

/* Offset of member @name in struct @s, looking into anonymous members too. */
static bool member(const Dwarf_Die *s, const char *name, size_t len, Dwarf_Word *off, Dwarf_Die *type)
{
	Dwarf_Die m, in = *s;

	if (dwarf_child(&in, &m) != 0)
		return false;
	do {
		const char *mn = dwarf_diename(&m);
		Dwarf_Attribute a;
		Dwarf_Word here = 0;
		Dwarf_Die mt;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (dwarf_attr_integrate(&m, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &here))
			return false;
		if (!dwarf_attr_integrate(&m, DW_AT_type, &a) || !dwarf_formref_die(&a, &mt))
			continue;
		if (mn && strlen(mn) == len && !strncmp(mn, name, len)) {
			*off = here;
			*type = mt;
			return true;
		}
		if (!mn && peel(&mt)) {
			Dwarf_Word sub;

			if (member(&mt, name, len, &sub, type)) {
				*off = here + sub;
				return true;
			}
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

/* Offset of the member path "a.b.c" in @s. */
static bool member_path(const Dwarf_Die *s, const char *path, Dwarf_Word *off)
{
	Dwarf_Die cur = *s, type;
	Dwarf_Word total = 0;

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		Dwarf_Word o;

		if (!member(&cur, path, len, &o, &type))
			return false;
		total += o;
		if (!dot)
			break;
		if (!peel(&type))
			return false;
		cur = type;
		path = dot + 1;
	}
	*off = total;
	return true;
}

/* Compares every row that applies to @minor with the DWARF of @path.
 * Returns how many rows were compared; a mismatch or a missing type fails. */
static size_t check_file(const char *path, int minor)
{
	struct types t = { 0 };
	struct pylayout l;
	size_t checked = 0;
	Dwarf *dw;
	int fd;

	cr_assert_eq(pylayout_for_version(3, minor, -1, &l), 0, "no table for 3.%d", minor);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "cannot open %s: %s", path, strerror(errno));
	dw = dwarf_begin(fd, DWARF_C_READ);
	cr_assert_not_null(dw, "%s has no DWARF (%s)", path, dwarf_errmsg(-1));
	for (size_t i = 0; i < NROWS; i++) {
		bool dup = false;

		for (size_t k = 0; k < t.n; k++)
			dup |= !strcmp(t.name[k], rows[i].type);
		if (!dup)
			t.name[t.n++] = rows[i].type;
	}
	collect(dw, &t);
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		const Dwarf_Die *s;
		uint32_t have;
		Dwarf_Word want;

		if (minor < r->lo || minor > r->hi)
			continue;
		s = type_die(&t, r->type);
		cr_expect_not_null(s, "%s (3.%d): no definition of %s in its DWARF", path, minor, r->type);
		if (!s)
			continue;
		if (r->what == SIZE) {
			Dwarf_Die d = *s;
			int sz = dwarf_bytesize(&d);

			cr_expect_gt(sz, 0, "%s: no size for %s", path, r->type);
			want = (Dwarf_Word)sz;
		} else if (!member_path(s, r->member, &want)) {
			cr_expect_fail("%s (3.%d): %s has no member %s", path, minor, r->type, r->member);
			continue;
		}
		memcpy(&have, (const char *)&l + r->field, sizeof(have));
		cr_expect_eq(have, want, "%s (3.%d): pylayout.%s is %u, DWARF %s%s%s%s says %llu", path, minor,
			     r->name, have, r->what == SIZE ? "sizeof " : "", r->type, r->member ? "." : "",
			     r->member ? r->member : "", (unsigned long long)want);
		checked++;
	}
	dwarf_end(dw);
	close(fd);
	return checked;
}

/* The rows that apply to @minor: a check that compared fewer compared
 * nothing it should have. */
static size_t rows_for(int minor)
{
	size_t n = 0;

	for (size_t i = 0; i < NROWS; i++)
		n += minor >= rows[i].lo && minor <= rows[i].hi;
	return n;
}

Test(pylayout_dwarf, debian_311_through_python3_11_dbg)
{
	struct elfimg *img;
	const char *id;
	char path[PATH_MAX];

	cr_assert_eq(elfimg_open(DEBIAN_PY, &img), 0, "%s is missing (scripts/install-deps.sh installs python3.11)",
		     DEBIAN_PY);
	id = elfimg_build_id(img);
	cr_assert(id && strlen(id) > 2, "%s has no build-id", DEBIAN_PY);
	snprintf(path, sizeof(path), "%s/%.2s/%s.debug", DEBUG_ROOT, id, id + 2);
	elfimg_free(img);
	cr_assert_eq(access(path, R_OK), 0,
		     "no debug file for %s at %s: install python3.11-dbg (scripts/install-deps.sh test)", DEBIAN_PY,
		     path);
	cr_assert_eq(check_file(path, 11), rows_for(11));
}

/* Self-built 3.11: pyenv's 3.11.7 and scripts/build-python.sh's builds,
 * each one present; at least one (the integration matrix needs it too). */
Test(pylayout_dwarf, self_built_311)
{
	const char *root = getenv("PYENV_ROOT"), *cache = getenv("LEAKD_CPYTHON_CACHE");
	char pyenv[PATH_MAX], pattern[PATH_MAX];
	glob_t g = { 0 };
	size_t files = 0;

	snprintf(pyenv, sizeof(pyenv), "%s/versions/3.11.7/lib/libpython3.11.so.1.0", root ? root : "/root/.pyenv");
	if (!access(pyenv, R_OK)) {
		cr_expect_eq(check_file(pyenv, 11), rows_for(11), "%s", pyenv);
		files++;
	}
	snprintf(pattern, sizeof(pattern), "%s/python3.11-*/prefix/lib/libpython3.11.so.1.0",
		 cache ? cache : "/var/cache/leakd-test/cpython");
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++, files++)
			cr_expect_eq(check_file(g.gl_pathv[i], 11), rows_for(11), "%s", g.gl_pathv[i]);
	}
	globfree(&g);
	cr_assert_gt(files, 0, "no self-built CPython 3.11: neither %s nor %s (run scripts/build-python.sh)", pyenv,
		     pattern);
}

/* Every other pyenv build 3.8-3.13 present here; pyenv itself is optional. */
Test(pylayout_dwarf, pyenv_builds_3_8_to_3_13)
{
	const char *root = getenv("PYENV_ROOT");
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *e;
	size_t files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/versions", root ? root : "/root/.pyenv");
	d = opendir(dir);
	if (!d)
		cr_skip_test("pyenv is not installed here (%s)", dir);
	while ((e = readdir(d))) {
		int major, minor, micro, end = 0;

		if (sscanf(e->d_name, "%d.%d.%d%n", &major, &minor, &micro, &end) != 3 || e->d_name[end] ||
		    major != 3 || minor < 8 || minor > 13)
			continue;
		snprintf(path, sizeof(path), "%s/%s/lib/libpython3.%d.so.1.0", dir, e->d_name, minor);
		if (access(path, R_OK))
			continue;	/* a static build: not this check's */
		cr_expect_eq(check_file(path, minor), rows_for(minor), "%s", path);
		files++;
	}
	closedir(d);
	if (!files)
		cr_skip_test("no pyenv build of 3.8-3.13 with a shared libpython in %s", dir);
}
