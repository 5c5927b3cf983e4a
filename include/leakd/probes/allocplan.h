/* SPDX-License-Identifier: MIT */
/*
 * allocplan: which probe points to attach for one interpreter build.
 *
 * The GC hook: USDT python:gc__start/gc__done where the binary has them
 * (Debian builds), else entry+return probes on the collector function from
 * .symtab (gc_collect_main on 3.10-3.13, collect on older versions).
 *
 * Allocation probes (trace mode): on builds where the allocator entry points
 * are tail-jump stubs through CPython's allocator tables (self-built, no LTO),
 * the probe goes on the function the table points to right now, read from
 * the live process: one probe set then sees every PyObject_ and PyMem_
 * allocation, and a hook installed by tracemalloc is followed too. On LTO
 * builds (distribution packages) pymalloc is inlined into ~190 callers, so the
 * plan takes the entry points that stay out of line (GC allocations and
 * frees, out-of-line PyObject_ and PyMem_ calls) and says the live table is
 * partial. Every probe sits on the first instruction the kernel emulates
 * where the arguments are still intact (probeplan), else on the entry.
 */
#ifndef LEAKD_ALLOCPLAN_H
#define LEAKD_ALLOCPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/probes/probes.h"

struct elfimg;
struct target;

#define ALLOCPLAN_MAX_SPECS 24
#define ALLOCPLAN_MAX_GC 4

enum allocplan_gc_kind { ALLOCPLAN_GC_NONE = 0, ALLOCPLAN_GC_USDT, ALLOCPLAN_GC_UPROBE };

struct allocplan_gc {
	enum allocplan_gc_kind kind;
	uint64_t offsets[ALLOCPLAN_MAX_GC];	/* file offsets of collector functions */
	unsigned gen_regs[ALLOCPLAN_MAX_GC];	/* register with the generation, 0 unknown */
	char names[ALLOCPLAN_MAX_GC][48];
	size_t n;
};

struct allocplan {
	struct probe_spec specs[ALLOCPLAN_MAX_SPECS];
	size_t n;
	bool lto;		/* the allocator is inlined into its callers */
	bool complete;		/* the probes see every PyObject_/PyMem_ allocation */
	size_t single_stepped;	/* probes on an instruction the kernel must single-step */
	size_t unresolved;	/* table stubs whose slot held no function yet (ld.so has not
				 * relocated it): planned on the stub instead */
};

/* Returns 0 (out->kind NONE if the build offers no hook), or -errno. */
int allocplan_gc(const struct elfimg *img, bool has_usdt_gc, int py_minor, struct allocplan_gc *out);

/* m reads the live target (allocator tables); bias is its load bias.
 * Returns 0, -ENOENT when no allocation entry point was found, or -errno. */
int allocplan_allocs(const struct elfimg *img, uint64_t bias, const struct memreader *m, struct allocplan *out);

/*
 * Sites: the entry points that receive the type of the object they allocate
 * (_PyObject_GC_New, _PyObject_GC_NewVar: C code's objects, dicts, lists,
 * tuples...; PyType_GenericAlloc, every class's tp_alloc), on every build,
 * LTO or not: the stack walker filters on that type; and PyObject_GC_Del,
 * every GC object's tp_free, for the frees that tell churn from survivors.
 * classes_only: just PyType_GenericAlloc and PyObject_GC_Del, for site
 * windows, which sample classes: the other two never see a class's instance
 * and each call would trap twice for nothing. Whether tp_alloc sees every
 * instance differs per build (an LTO build may inline it): coverage
 * measures it. Returns 0, or -ENOENT when the build has none of them.
 */
int allocplan_typed(const struct elfimg *img, bool classes_only, struct allocplan *out);

#endif
