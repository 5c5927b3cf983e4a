// SPDX-License-Identifier: MIT
/*
 * allocplan: picks the GC hook and the allocation probe points for one build
 * (see include/leakd/probes/allocplan.h for the why).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/abi.h"
#include "leakd/probes/allocplan.h"
#include "leakd/process/elfimg.h"
#include "leakd/probes/probeplan.h"

/* Bytes decoded around a function when its size is unknown (static targets
 * behind a table) or huge: enough for the entry block and the loops that
 * could jump back into it. */
#define CODE_WINDOW 4096
#define MAX_TARGETS 1024

static unsigned reg_index(unsigned need)
{
	switch (need) {
	case PROBEPLAN_NEED_RDI: return 1;
	case PROBEPLAN_NEED_RSI: return 2;
	case PROBEPLAN_NEED_RDX: return 3;
	default: return 0;
	}
}

static unsigned reg_need(unsigned idx)
{
	return idx ? 1u << (idx - 1) : 0;
}

int allocplan_gc(const struct elfimg *img, bool has_usdt_gc, int py_minor, struct allocplan_gc *out)
{
	/* Collector functions and the register holding the generation:
	 * 3.10-3.13 gc_collect_main(tstate, gen, ...); 3.9 collect(tstate, gen, ...);
	 * 3.6/3.7 collect(gen, ...); GCC's constprop clones take unknown args. */
	static const struct { const char *name; unsigned reg; } cands[] = {
		{ "gc_collect_main", 2 },
		{ "_PyGC_Collect", 2 },
		{ "collect", 0 },
		{ "collect.constprop.0", 0 },
		{ "collect.constprop.1", 0 },
	};
	struct allocplan_gc g = { 0 };
	struct elfimg_sym sym;
	size_t i;

	if (has_usdt_gc) {
		g.kind = ALLOCPLAN_GC_USDT;
		snprintf(g.names[0], sizeof(g.names[0]), "python:gc__start/gc__done");
		*out = g;
		return 0;
	}
	for (i = 0; i < sizeof(cands) / sizeof(cands[0]) && g.n < ALLOCPLAN_MAX_GC; i++) {
		uint64_t off;

		if (elfimg_find_symbol(img, cands[i].name, &sym) || !sym.from_symtab)
			continue;
		/* _PyGC_Collect wraps gc_collect_main on 3.13: hook one of them. */
		if (!strcmp(cands[i].name, "_PyGC_Collect") && g.n)
			continue;
		if (elfimg_vaddr_to_offset(img, sym.vaddr, &off))
			continue;
		g.offsets[g.n] = off;
		g.gen_regs[g.n] = cands[i].reg;
		/* collect(): 3.8/3.9 take the GC state or tstate first, 3.6/3.7 the
		 * generation. */
		if (!strcmp(cands[i].name, "collect"))
			g.gen_regs[g.n] = py_minor >= 8 ? 2 : 1;
		snprintf(g.names[g.n], sizeof(g.names[g.n]), "%s", cands[i].name);
		g.n++;
	}
	g.kind = g.n ? ALLOCPLAN_GC_UPROBE : ALLOCPLAN_GC_NONE;
	*out = g;
	return 0;
}

/* Plans one probe on the function at vaddr; name is for reports. */
static int plan_one(const struct elfimg *img, const char *name, uint64_t vaddr, uint64_t size,
		    unsigned site, unsigned reg0, unsigned reg1, bool retprobe, struct allocplan *out)
{
	static uint8_t code[CODE_WINDOW];
	uint64_t targets[MAX_TARGETS];
	struct probeplan_spot spot;
	struct probe_spec *s;
	size_t len, ntargets = 0;
	unsigned needs;
	char cold[96];
	struct elfimg_sym csym;

	if (out->n == ALLOCPLAN_MAX_SPECS)
		return -ENOSPC;
	len = size && size < CODE_WINDOW ? size : CODE_WINDOW;
	/* A window may run past the end of the segment: shrink until readable. */
	while (len >= 16 && elfimg_read(img, vaddr, code, len))
		len /= 2;
	if (len < 16)
		return -EFAULT;

	if (probeplan_branch_targets(code, len, vaddr, vaddr + 1, vaddr + 64, targets, MAX_TARGETS, &ntargets))
		ntargets = 0;
	snprintf(cold, sizeof(cold), "%s.cold", name);
	if (!elfimg_find_symbol(img, cold, &csym) && csym.size) {
		static uint8_t ccode[CODE_WINDOW];
		size_t clen = csym.size < CODE_WINDOW ? csym.size : CODE_WINDOW;
		size_t nc = 0;

		if (!elfimg_read(img, csym.vaddr, ccode, clen) &&
		    !probeplan_branch_targets(ccode, clen, csym.vaddr, vaddr + 1, vaddr + 64, targets + ntargets,
					      MAX_TARGETS - ntargets, &nc))
			ntargets += nc;
	}

	needs = reg_need(reg0) | reg_need(reg1) | (retprobe ? PROBEPLAN_RETPROBE : 0);
	s = &out->specs[out->n];
	memset(s, 0, sizeof(*s));
	if (probeplan_place(code, len, vaddr, needs, targets, ntargets, &spot) == 0) {
		s->emulated = true;
	} else {
		/* No safe emulated spot: the entry works, at ~10 us per hit. */
		spot.offset = 0;
		s->emulated = false;
		out->single_stepped++;
	}
	if (elfimg_vaddr_to_offset(img, vaddr + spot.offset, &s->file_offset))
		return -EFAULT;
	snprintf(s->name, sizeof(s->name), "%s+%u", name, spot.offset);
	s->site = site;
	s->reg0 = reg0;
	s->reg1 = reg1;
	s->retprobe = retprobe;
	out->n++;
	return 0;
}

struct entry_point {
	const char *name;
	unsigned site;
	bool retprobe;
	unsigned nargs;		/* arguments the probe reads: 1 or 2 */
	bool classes;		/* sees (allocates or frees) instances of classes defined in Python */
};

/* The PyObject_ and PyMem_ families: stubs through a table on self-built
 * Pythons, inlined pymalloc with a guard on LTO builds. */
static const struct entry_point table_family[] = {
	{ "PyObject_Malloc", LEAKD_SITE_MALLOC, true, 1, false },
	{ "PyObject_Calloc", LEAKD_SITE_CALLOC, true, 2, false },
	{ "PyObject_Realloc", LEAKD_SITE_REALLOC, true, 2, false },
	{ "PyObject_Free", LEAKD_SITE_FREE, false, 1, false },
	{ "PyMem_Malloc", LEAKD_SITE_MALLOC, true, 1, false },
	{ "PyMem_Calloc", LEAKD_SITE_CALLOC, true, 2, false },
	{ "PyMem_Realloc", LEAKD_SITE_REALLOC, true, 2, false },
	{ "PyMem_Free", LEAKD_SITE_FREE, false, 1, false },
};

/* Kept out of line on LTO builds because extension modules call them.
 * C code makes its objects with the first two; a class's instances come
 * from its tp_alloc, PyType_GenericAlloc, and go to PyObject_GC_Del. */
static const struct entry_point gc_family[] = {
	{ "_PyObject_GC_New", LEAKD_SITE_GC_NEW, true, 1, false },
	{ "_PyObject_GC_NewVar", LEAKD_SITE_GC_NEW, true, 2, false },
	{ "PyType_GenericAlloc", LEAKD_SITE_GC_NEW, true, 2, true },
	{ "PyObject_GC_Del", LEAKD_SITE_GC_DEL, false, 1, true },
};

/* Follows a table stub to the function its slot holds in the live process.
 * Returns 1 and plans it, 0 if fn is not a stub, or -errno. */
static int plan_through_table(const struct elfimg *img, uint64_t bias, const struct memreader *m,
			      const struct entry_point *ep, const struct elfimg_sym *sym, struct allocplan *out)
{
	uint8_t code[64];
	struct probeplan_dispatch d;
	uint64_t target, tvaddr, slot;
	char name[64];
	size_t len = sym->size && sym->size < sizeof(code) ? sym->size : sizeof(code);
	unsigned r0, r1;

	if (elfimg_read(img, sym->vaddr, code, len) || probeplan_table_dispatch(code, len, sym->vaddr, &d))
		return 0;
	slot = d.slot_vaddr + bias;
	/* 3.12+: the tables live in _PyRuntime, reached through its GOT entry. */
	if (d.slot_ptr_vaddr) {
		uint64_t base;

		if (memreader_read_u64(m, d.slot_ptr_vaddr + bias, &base) || !base) {
			out->unresolved++;
			return 0;
		}
		slot = base + d.slot_vaddr;
	}
	if (memreader_read_u64(m, slot, &target) || target < bias) {
		out->unresolved++;
		return 0;
	}
	tvaddr = target - bias;
	if (elfimg_read(img, tvaddr, code, 16))
		return 0;	/* the slot points outside this binary (a C extension's hook) */
	r0 = reg_index(d.arg0_reg);
	r1 = ep->nargs > 1 ? reg_index(d.arg1_reg) : 0;
	if (!r0 || (ep->nargs > 1 && !r1))
		return 0;
	snprintf(name, sizeof(name), "%s>0x%llx", ep->name, (unsigned long long)tvaddr);
	/* The same implementation often serves both families: plan it once. */
	for (size_t i = 0; i < out->n; i++) {
		uint64_t off;

		if (!elfimg_vaddr_to_offset(img, tvaddr, &off) && out->specs[i].site == ep->site &&
		    out->specs[i].file_offset >= off && out->specs[i].file_offset < off + 64)
			return 1;
	}
	return plan_one(img, name, tvaddr, 0, ep->site, r0, r1, ep->retprobe, out) < 0 ? -EFAULT : 1;
}

/* Plans the GC family's entry points. */
static int plan_gc_family(const struct elfimg *img, bool classes_only, struct allocplan *p)
{
	struct elfimg_sym sym;
	int err;

	for (size_t i = 0; i < sizeof(gc_family) / sizeof(gc_family[0]); i++) {
		const struct entry_point *ep = &gc_family[i];

		if ((classes_only && !ep->classes) || elfimg_find_symbol(img, ep->name, &sym))
			continue;
		err = plan_one(img, ep->name, sym.vaddr, sym.size, ep->site, 1, ep->nargs > 1 ? 2 : 0,
			       ep->retprobe, p);
		if (err < 0 && err != -EFAULT)
			return err;
	}
	return 0;
}

int allocplan_typed(const struct elfimg *img, bool classes_only, struct allocplan *out)
{
	struct allocplan p = { 0 };
	int err = plan_gc_family(img, classes_only, &p);

	if (err < 0)
		return err;
	if (!p.n)
		return -ENOENT;
	*out = p;
	return 0;
}

int allocplan_allocs(const struct elfimg *img, uint64_t bias, const struct memreader *m, struct allocplan *out)
{
	struct allocplan p = { 0 };
	struct elfimg_sym sym;
	uint8_t code[512];
	uint64_t slot, impl;
	size_t i;
	int err;

	if (elfimg_find_symbol(img, "PyObject_Malloc", &sym))
		return -ENOENT;
	if (!elfimg_read(img, sym.vaddr, code, sym.size && sym.size < sizeof(code) ? sym.size : sizeof(code)) &&
	    !probeplan_hidden_impl(code, sym.size && sym.size < sizeof(code) ? sym.size : sizeof(code), sym.vaddr,
				   &slot, &impl))
		p.lto = true;

	for (i = 0; i < sizeof(table_family) / sizeof(table_family[0]); i++) {
		const struct entry_point *ep = &table_family[i];

		if (elfimg_find_symbol(img, ep->name, &sym))
			continue;
		err = plan_through_table(img, bias, m, ep, &sym, &p);
		if (err < 0)
			return err;
		if (err == 1)
			continue;
		err = plan_one(img, ep->name, sym.vaddr, sym.size, ep->site, 1, ep->nargs > 1 ? 2 : 0, ep->retprobe, &p);
		if (err < 0 && err != -EFAULT)
			return err;
	}
	if (p.lto) {
		err = plan_gc_family(img, false, &p);
		if (err < 0)
			return err;
	}
	if (!p.n)
		return -ENOENT;
	p.complete = !p.lto;
	*out = p;
	return 0;
}
