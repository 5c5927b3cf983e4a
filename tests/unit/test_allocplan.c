// SPDX-License-Identifier: MIT
/*
 * allocplan on the real interpreters of this machine: the probe set it picks
 * for an LTO build (Debian python3.11) and a self-built one (pyenv 3.11),
 * with a memory reader that serves the file's own bytes as the process would
 * see them at load bias 0 (GNU ld writes RELATIVE addends into .data, so the
 * allocator table slots hold the link-time function addresses).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "leakd/abi.h"
#include "leakd/probes/allocplan.h"
#include "leakd/process/elfimg.h"

#define DEBIAN_PY "/usr/bin/python3.11"
#define PYENV_LIB311 "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
#define PYENV_LIB39 "/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0"

static int file_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return elfimg_read(ctx, addr, buf, len);
}

static struct elfimg *open_or_skip(const char *path)
{
	struct elfimg *img;
	int err;

	if (access(path, R_OK))
		cr_skip_test("%s is not installed here", path);
	err = elfimg_open(path, &img);
	cr_assert_eq(err, 0, "%s: %s", path, strerror(-err));
	return img;
}

static const struct probe_spec *find_spec(const struct allocplan *p, const char *prefix)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strncmp(p->specs[i].name, prefix, strlen(prefix)))
			return &p->specs[i];
	return NULL;
}

Test(allocplan, debian_lto_build_uses_usdt_and_out_of_line_entry_points)
{
	struct elfimg *img = open_or_skip(DEBIAN_PY);
	struct memreader m = { .read = file_read, .ctx = img };
	struct allocplan_gc g;
	struct allocplan p;
	const struct probe_spec *s;

	cr_assert_eq(allocplan_gc(img, elfimg_has_usdt(img, "python", "gc__start"), 11, &g), 0);
	cr_assert_eq(g.kind, ALLOCPLAN_GC_USDT);

	cr_assert_eq(allocplan_allocs(img, 0, &m, &p), 0);
	cr_assert(p.lto);
	cr_assert_not(p.complete);
	s = find_spec(&p, "_PyObject_GC_New+");
	cr_assert_not_null(s);
	cr_assert_eq(s->site, LEAKD_SITE_GC_NEW);
	cr_assert(s->retprobe);
	cr_assert(s->emulated);
	cr_assert_eq(s->reg0, 1);
	s = find_spec(&p, "PyObject_GC_Del+");
	cr_assert_not_null(s);
	cr_assert_eq(s->site, LEAKD_SITE_GC_DEL);
	cr_assert_not(s->retprobe);
	cr_assert(s->emulated, "%s", s->name);
	s = find_spec(&p, "PyObject_Free+");
	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "PyObject_Free+20");
	cr_assert(s->emulated);
	elfimg_free(img);
}

Test(allocplan, pyenv_build_follows_the_allocator_table_once_for_both_families)
{
	struct elfimg *img = open_or_skip(PYENV_LIB311);
	struct memreader m = { .read = file_read, .ctx = img };
	struct allocplan_gc g;
	struct allocplan p;
	struct elfimg_sym impl;
	const struct probe_spec *s;
	uint64_t off;

	cr_assert_eq(allocplan_gc(img, false, 11, &g), 0);
	cr_assert_eq(g.kind, ALLOCPLAN_GC_UPROBE);
	cr_assert_eq(g.n, 1);
	cr_assert_str_eq(g.names[0], "gc_collect_main");
	cr_assert_eq(g.gen_regs[0], 2);

	cr_assert_eq(allocplan_allocs(img, 0, &m, &p), 0);
	cr_assert_not(p.lto);
	cr_assert(p.complete);
	cr_assert_eq(p.unresolved, 0);
	/* PyMem_* share the PyObject_* implementation: four probes, not eight. */
	cr_assert_eq(p.n, 4, "planned %zu probes", p.n);
	cr_assert_eq(p.single_stepped, 0);
	s = find_spec(&p, "PyObject_Malloc>");
	cr_assert_not_null(s);
	/* The table target takes (ctx, size): the size is in %rsi. */
	cr_assert_eq(s->reg0, 2);
	cr_assert(s->retprobe);
	cr_assert_eq(elfimg_find_symbol(img, "_PyObject_Malloc", &impl), 0);
	cr_assert_eq(elfimg_vaddr_to_offset(img, impl.vaddr, &off), 0);
	cr_assert(s->file_offset >= off && s->file_offset < off + 16, "probe outside _PyObject_Malloc");
	s = find_spec(&p, "PyObject_Free>");
	cr_assert_not_null(s);
	cr_assert_eq(s->site, LEAKD_SITE_FREE);
	cr_assert_eq(s->reg0, 2);
	cr_assert(s->emulated);
	elfimg_free(img);
}

static int zero_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	memset(buf, 0, len);
	return 0;
}

Test(allocplan, unrelocated_tables_are_counted_and_planned_on_the_stubs)
{
	/* What ld.so leaves right after mapping libpython: slots still zero. */
	struct elfimg *img = open_or_skip(PYENV_LIB311);
	struct memreader m = { .read = zero_read };
	struct allocplan p;

	cr_assert_eq(allocplan_allocs(img, 0x7f0000000000ull, &m, &p), 0);
	cr_assert_gt(p.unresolved, 0);
	cr_assert_not_null(find_spec(&p, "PyObject_Malloc+"));
	elfimg_free(img);
}

Test(allocplan, python39_collect_takes_the_generation_second)
{
	struct elfimg *img = open_or_skip(PYENV_LIB39);
	struct allocplan_gc g;

	cr_assert_eq(allocplan_gc(img, false, 9, &g), 0);
	cr_assert_eq(g.kind, ALLOCPLAN_GC_UPROBE);
	cr_assert_str_eq(g.names[0], "collect");
	cr_assert_eq(g.gen_regs[0], 2);
	elfimg_free(img);
}

/* Sites: the typed entry points and the GC free are planned on LTO and
 * self-built Pythons alike, and only those; for classes only (site
 * windows), C code's own entry points are left out. */
static void check_typed(const char *path)
{
	struct elfimg *img = open_or_skip(path);

	for (int classes_only = 0; classes_only < 2; classes_only++) {
		struct allocplan p;
		const struct probe_spec *s;
		size_t typed = 0;

		cr_assert_eq(allocplan_typed(img, classes_only, &p), 0, "%s", path);
		cr_assert_eq(p.n, classes_only ? 2 : 4, "%s: %zu probes", path, p.n);
		for (size_t i = 0; i < p.n; i++) {
			cr_assert_eq(p.specs[i].reg0, 1, "type or object in rdi");
			if (p.specs[i].site != LEAKD_SITE_GC_NEW)
				continue;
			cr_assert(p.specs[i].retprobe);
			typed++;
		}
		cr_assert_eq(typed, classes_only ? 1 : 3);
		cr_assert_eq(find_spec(&p, "_PyObject_GC_New+") == NULL, classes_only);
		s = find_spec(&p, "PyObject_GC_Del+");
		cr_assert_not_null(s);
		cr_assert_eq(s->site, LEAKD_SITE_GC_DEL);
		cr_assert_not(s->retprobe);
		s = find_spec(&p, "PyType_GenericAlloc+");
		cr_assert_not_null(s);
		cr_assert_eq(s->reg1, 2, "nitems in rsi");
	}
	elfimg_free(img);
}

Test(allocplan, typed_entry_points_on_every_build_debian)
{
	check_typed(DEBIAN_PY);
}

Test(allocplan, typed_entry_points_on_every_build_pyenv)
{
	check_typed(PYENV_LIB311);
}
