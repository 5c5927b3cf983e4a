// SPDX-License-Identifier: MIT
/*
 * Tests for the probe planner (src/probes/probeplan.c): spot placement on hand-written
 * prefixes and on allocator entry points dumped from the real Debian and
 * pyenv Pythons (tests/fixtures/probeplan/README.md), and the table-dispatch
 * and devirtualization-guard detectors on those same fixtures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "leakd/probes/ppinsn.h"
#include "leakd/probes/probeplan.h"

#define N_RDI PROBEPLAN_NEED_RDI
#define N_RSI PROBEPLAN_NEED_RSI
#define N_RDX PROBEPLAN_NEED_RDX
#define N_RET PROBEPLAN_RETPROBE

struct fixture {
	uint8_t b[256];
	size_t len;
};

/* Loads tests/fixtures/probeplan/<name>.bin; len is capped by the caller. */
static void load(const char *name, struct fixture *f)
{
	const char *root = getenv("LEAKD_FIXTURES");
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/probeplan/%s.bin", root ? root : "tests/fixtures", name);
	fp = fopen(path, "rb");
	cr_assert_not_null(fp, "cannot open fixture %s", path);
	f->len = fread(f->b, 1, sizeof(f->b), fp);
	fclose(fp);
	cr_assert_eq(f->len, 256, "short fixture %s", path);
}

/* ---- placement on hand-written prefixes ---- */

static int place(const uint8_t *b, size_t n, unsigned needs, struct probeplan_spot *s)
{
	return probeplan_place(b, n, 0x1000, needs, NULL, 0, s);
}
#define PLACE(needs, s, ...) place((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), needs, s)

Test(probeplan, endbr64_is_skipped_for_the_push_after_it)
{
	struct probeplan_spot s;

	cr_assert_eq(PLACE(N_RDI | N_RET, &s, 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5), 0);
	cr_expect_eq(s.offset, 4);
	cr_expect(s.emulated);
	cr_expect_str_eq(s.insn, "pushq %rbp");
}

Test(probeplan, needed_register_written_before_rejects_the_candidate)
{
	struct probeplan_spot s;

	/* mov %al,%dil ; push %rbx ; test %rdi,%rdi ; js +16 */
	cr_expect_eq(PLACE(N_RDI, &s, 0x40, 0x88, 0xc7, 0x53, 0x48, 0x85, 0xff, 0x78, 0x10), -ENOENT,
		     "%%dil is part of %%rdi");
	cr_assert_eq(PLACE(N_RSI, &s, 0x40, 0x88, 0xc7, 0x53, 0x48, 0x85, 0xff, 0x78, 0x10), 0);
	cr_expect_eq(s.offset, 3);
	/* mov %edi,%edx ; js: %rdx written through %edx */
	cr_expect_eq(PLACE(N_RDX, &s, 0x89, 0xfa, 0x78, 0x10), -ENOENT);
	cr_assert_eq(PLACE(N_RDI | N_RSI, &s, 0x89, 0xfa, 0x78, 0x10), 0);
	cr_expect_eq(s.offset, 2);
	/* xor %edx,%edx ; div %rsi (implicit %rdx write) ; jb */
	cr_expect_eq(PLACE(N_RDX, &s, 0x31, 0xd2, 0x48, 0xf7, 0xf6, 0x72, 0x10), -ENOENT);
}

Test(probeplan, spot_may_itself_write_a_needed_register)
{
	struct probeplan_spot s;

	/* The probe fires before the instruction runs: a call at the spot
	 * clobbers the argument registers only after the probe has read them. */
	cr_assert_eq(PLACE(N_RDI | N_RSI | N_RDX, &s, 0xe8, 0x00, 0x00, 0x00, 0x00), 0);
	cr_expect_eq(s.offset, 0);
}

Test(probeplan, call_clobbers_arguments_and_stack_for_later_spots)
{
	struct probeplan_spot s;
	/* call *%rax ; push %rbx */
	static const uint8_t code[] = { 0xff, 0xd0, 0x53 };

	cr_assert_eq(place(code, sizeof(code), 0, &s), 0);
	cr_expect_eq(s.offset, 2, "an indirect call does not end the prefix");
	cr_expect_eq(place(code, sizeof(code), N_RDI, &s), -ENOENT);
	cr_expect_eq(place(code, sizeof(code), N_RET, &s), -ENOENT);
}

Test(probeplan, retprobe_after_stack_change_is_rejected)
{
	struct probeplan_spot s;

	/* push $1 (stepped, moves %rsp) ; test %rdi,%rdi ; js */
	cr_assert_eq(PLACE(N_RDI, &s, 0x6a, 0x01, 0x48, 0x85, 0xff, 0x78, 0x10), 0);
	cr_expect_eq(s.offset, 5);
	cr_expect_eq(PLACE(N_RDI | N_RET, &s, 0x6a, 0x01, 0x48, 0x85, 0xff, 0x78, 0x10), -ENOENT);
	/* pop %rbx ; js */
	cr_expect_eq(PLACE(N_RET, &s, 0x5b, 0x78, 0x10), -ENOENT);
	/* sub $8,%rsp ; test ; js */
	cr_expect_eq(PLACE(N_RET, &s, 0x48, 0x83, 0xec, 0x08, 0x48, 0x85, 0xff, 0x78, 0x10), -ENOENT);
}

Test(probeplan, retprobe_on_the_first_push_is_fine)
{
	struct probeplan_spot s;

	cr_assert_eq(PLACE(N_RDI | N_RET, &s, 0x41, 0x57, 0x41, 0x56), 0);
	cr_expect_eq(s.offset, 0);
	cr_expect_str_eq(s.insn, "pushq %r15");
}

Test(probeplan, prefix_ends_at_the_first_branch)
{
	struct probeplan_spot s;

	/* mov ; ret ; push: the push is not on every path */
	cr_expect_eq(PLACE(0, &s, 0x48, 0x89, 0xf8, 0xc3, 0x53), -ENOENT);
	/* jmp *%rax ; push */
	cr_expect_eq(PLACE(0, &s, 0xff, 0xe0, 0x53), -ENOENT);
	/* a stepped jcc form (jrcxz) still ends it */
	cr_expect_eq(PLACE(0, &s, 0xe3, 0x10, 0x53), -ENOENT);
}

Test(probeplan, loop_back_into_the_prefix_rejects)
{
	struct probeplan_spot s;

	/* dec %rax ; test %rax,%rax (+3) ; jne +3 (+6) */
	cr_expect_eq(PLACE(0, &s, 0x48, 0xff, 0xc8, 0x48, 0x85, 0xc0, 0x75, 0xfb), -ENOENT);
	/* ... and a branch back to the entry itself is just another call */
	cr_assert_eq(PLACE(0, &s, 0x48, 0xff, 0xc8, 0x48, 0x85, 0xc0, 0x75, 0xf8), 0);
	cr_expect_eq(s.offset, 6);
}

Test(probeplan, out_is_untouched_on_failure)
{
	struct probeplan_spot s;

	memset(&s, 0xa5, sizeof(s));
	cr_assert_eq(PLACE(0, &s, 0x48, 0x89, 0xf8, 0xc3), -ENOENT);
	for (size_t i = 0; i < sizeof(s); i++)
		cr_expect_eq(((uint8_t *)&s)[i], 0xa5);
}

Test(probeplan, null_arguments_are_einval)
{
	struct probeplan_spot s;
	struct probeplan_dispatch d;
	uint64_t a, b;
	size_t n;

	cr_expect_eq(probeplan_place(NULL, 4, 0, 0, NULL, 0, &s), -EINVAL);
	cr_expect_eq(probeplan_place((const uint8_t[]){ 0x53 }, 1, 0, 0, NULL, 0, NULL), -EINVAL);
	cr_expect_eq(probeplan_place((const uint8_t[]){ 0x53 }, 1, 0, 0, NULL, 2, &s), -EINVAL);
	cr_expect_eq(probeplan_branch_targets(NULL, 4, 0, 0, 1, &a, 1, &n), -EINVAL);
	cr_expect_eq(probeplan_table_dispatch(NULL, 4, 0, &d), -EINVAL);
	cr_expect_eq(probeplan_hidden_impl((const uint8_t[]){ 0x53 }, 1, 0, &a, NULL), -EINVAL);
	cr_expect_eq(probeplan_hidden_impl((const uint8_t[]){ 0x53 }, 1, 0, NULL, &b), -EINVAL);
}

/* ---- placement on the real binaries ---- */

/* Inline strings: Criterion re-executes the binary for each parameter, so
 * pointers into a PIE's data would not survive the trip. */
struct place_case {
	char name[48];
	uint64_t vaddr;
	size_t len;
	unsigned needs;
	int offset;		/* -1: no emulated spot */
	char insn[32];
};

/*
 * needs: what leakd reads there. Public entry points take their arguments in
 * %rdi/%rsi; the table targets (_PyObject_*) take ctx first, so the size or
 * pointer arrives in %rsi/%rdx. Allocation functions also get a uretprobe.
 */
static struct place_case place_cases[] = {
	{ "debian311-PyObject_Malloc", 0x4fb350, 247, N_RDI | N_RET, 0, "pushq %rbx" },
	{ "debian311-PyObject_Calloc", 0x57f5c0, 48, N_RDI | N_RSI | N_RET, 3, "je 0x57f5dd" },
	{ "debian311-PyObject_Realloc", 0x561ac0, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r13" },
	{ "debian311-PyObject_Free", 0x500950, 256, N_RDI, 20, "jne 0x500b1e" },
	{ "debian311-_PyObject_GC_New", 0x4fb0a0, 256, N_RDI | N_RET, 10, "pushq %r13" },
	{ "debian311-_PyObject_GC_NewVar", 0x507300, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "debian311-PyType_GenericAlloc", 0x5081c0, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "debian311-PyObject_GC_Del", 0x50a210, 256, N_RDI, 42, "jne 0x4284aa" },
	{ "debian311-_PyObject_Malloc", 0x4fb450, 256, N_RSI | N_RET, -1, "" },
	{ "debian311-_PyObject_Calloc", 0x506400, 256, N_RSI | N_RDX | N_RET, 0, "pushq %rbp" },
	{ "debian311-_PyObject_Realloc", 0x510c00, 256, N_RSI | N_RDX | N_RET, 0, "pushq %r13" },
	{ "debian311-_PyObject_Free", 0x500fe0, 256, N_RSI, 3, "je 0x501197" },
	{ "pyenv39-PyObject_Malloc", 0x103f10, 27, N_RDI | N_RET, 6, "js 0x103f28" },
	{ "pyenv39-PyObject_Calloc", 0x103f30, 51, N_RDI | N_RSI | N_RET, 3, "je 0x103f49" },
	{ "pyenv39-PyObject_Realloc", 0x103f70, 35, N_RDI | N_RSI | N_RET, 6, "js 0x103f90" },
	{ "pyenv39-PyObject_Free", 0x103fa0, 16, N_RDI, -1, "" },
	{ "pyenv39-_PyObject_GC_New", 0x201010, 71, N_RDI | N_RET, 0, "pushq %rbp" },
	{ "pyenv39-_PyObject_GC_NewVar", 0x201060, 123, N_RDI | N_RSI | N_RET, 0, "pushq %r12" },
	{ "pyenv39-PyType_GenericAlloc", 0x114d40, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r13" },
	{ "pyenv39-PyObject_GC_Del", 0x201140, 91, N_RDI, 11, "je 0x20116e" },
	{ "pyenv39-_PyObject_Malloc", 0x104610, 164, N_RSI | N_RET, 4, "pushq %rbx" },
	{ "pyenv39-_PyObject_Calloc", 0x104520, 231, N_RSI | N_RDX | N_RET, 0, "pushq %rbp" },
	{ "pyenv39-_PyObject_Realloc", 0x1046c0, 223, N_RSI | N_RDX | N_RET, 0, "pushq %r13" },
	{ "pyenv39-_PyObject_Free", 0x103b30, 256, N_RSI, 3, "je 0x103c68" },
	{ "pyenv311-PyObject_Malloc", 0x1af1e0, 27, N_RDI | N_RET, 6, "js 0x1af1f8" },
	{ "pyenv311-PyObject_Calloc", 0x1af200, 51, N_RDI | N_RSI | N_RET, 3, "je 0x1af219" },
	{ "pyenv311-PyObject_Realloc", 0x1af240, 35, N_RDI | N_RSI | N_RET, 6, "js 0x1af260" },
	{ "pyenv311-PyObject_Free", 0x1af270, 16, N_RDI, -1, "" },
	{ "pyenv311-_PyObject_GC_New", 0x2bcc40, 184, N_RDI | N_RET, 0, "pushq %r12" },
	{ "pyenv311-_PyObject_GC_NewVar", 0x2bcd00, 254, N_RDI | N_RSI | N_RET, 0, "pushq %r13" },
	{ "pyenv311-PyType_GenericAlloc", 0x1bf080, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "pyenv311-PyObject_GC_Del", 0x2bce60, 122, N_RDI, 42, "je 0x2bcead" },
	{ "pyenv311-_PyObject_Malloc", 0x1af820, 164, N_RSI | N_RET, 4, "pushq %rbx" },
	{ "pyenv311-_PyObject_Calloc", 0x1afaa0, 231, N_RSI | N_RDX | N_RET, 0, "pushq %rbp" },
	{ "pyenv311-_PyObject_Realloc", 0x1af8d0, 256, N_RSI | N_RDX | N_RET, 0, "pushq %r13" },
	{ "pyenv311-_PyObject_Free", 0x1aede0, 256, N_RSI, 3, "je 0x1aee60" },
	{ "pyenv312-PyObject_Malloc", 0x1cf430, 35, N_RDI | N_RET, 6, "js 0x1cf450" },
	{ "pyenv312-PyObject_Calloc", 0x1cf460, 67, N_RDI | N_RSI | N_RET, 3, "je 0x1cf479" },
	{ "pyenv312-PyObject_Realloc", 0x1cf4b0, 43, N_RDI | N_RSI | N_RET, 6, "js 0x1cf4d8" },
	{ "pyenv312-PyObject_Free", 0x1cf4e0, 23, N_RDI, -1, "" },
	{ "pyenv312-_PyObject_GC_New", 0x3052f0, 189, N_RDI | N_RET, 0, "pushq %r13" },
	{ "pyenv312-_PyObject_GC_NewVar", 0x3053b0, 245, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "pyenv312-PyType_GenericAlloc", 0x1e0b10, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "pyenv312-PyObject_GC_Del", 0x305620, 148, N_RDI, 0, "pushq %rbp" },
	{ "pyenv312-_PyObject_Malloc", 0x1cfdb0, 256, N_RSI | N_RET, 0, "pushq %rbp" },
	{ "pyenv312-_PyObject_Calloc", 0x1cfc70, 256, N_RSI | N_RDX | N_RET, 0, "pushq %r13" },
	{ "pyenv312-_PyObject_Realloc", 0x1cfec0, 256, N_RSI | N_RDX | N_RET, 0, "pushq %r15" },
	{ "pyenv312-_PyObject_Free", 0x1cef80, 256, N_RSI, 3, "je 0x1cf040" },
	{ "pyenv313-PyObject_Malloc", 0x16a580, 35, N_RDI | N_RET, 6, "js 0x16a5a0" },
	{ "pyenv313-PyObject_Calloc", 0x16a5b0, 67, N_RDI | N_RSI | N_RET, 3, "je 0x16a5c9" },
	{ "pyenv313-PyObject_Realloc", 0x16a600, 43, N_RDI | N_RSI | N_RET, 6, "js 0x16a628" },
	{ "pyenv313-PyObject_Free", 0x16a630, 23, N_RDI, -1, "" },
	{ "pyenv313-_PyObject_GC_New", 0x25e510, 213, N_RDI | N_RET, 0, "pushq %r13" },
	{ "pyenv313-_PyObject_GC_NewVar", 0x25e5f0, 237, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "pyenv313-PyType_GenericAlloc", 0x17cfd0, 256, N_RDI | N_RSI | N_RET, 0, "pushq %r14" },
	{ "pyenv313-PyObject_GC_Del", 0x25e840, 148, N_RDI, 0, "pushq %rbp" },
	{ "pyenv313-_PyObject_Malloc", 0x16b660, 195, N_RSI | N_RET, 0, "pushq %rbp" },
	{ "pyenv313-_PyObject_Calloc", 0x16b560, 246, N_RSI | N_RDX | N_RET, 0, "pushq %r13" },
	{ "pyenv313-_PyObject_Realloc", 0x16b730, 256, N_RSI | N_RDX | N_RET, 0, "pushq %r15" },
	{ "pyenv313-_PyObject_Free", 0x16a010, 256, N_RSI, 3, "je 0x16a0b8" },
};

ParameterizedTestParameters(probeplan, fixture_spots)
{
	return cr_make_param_array(struct place_case, place_cases, sizeof(place_cases) / sizeof(place_cases[0]));
}

ParameterizedTest(struct place_case *c, probeplan, fixture_spots)
{
	struct fixture f;
	struct probeplan_spot s = { 0 };
	uint64_t targets[64];
	size_t n = 0;
	int ret;

	load(c->name, &f);
	cr_assert_leq(c->len, f.len);
	cr_assert_eq(probeplan_branch_targets(f.b, c->len, c->vaddr, c->vaddr, c->vaddr + c->len, targets, 64, &n), 0);
	ret = probeplan_place(f.b, c->len, c->vaddr, c->needs, targets, n, &s);
	if (c->offset < 0) {
		cr_expect_eq(ret, -ENOENT, "%s: expected no spot, got +%u %s", c->name, s.offset, s.insn);
		return;
	}
	cr_assert_eq(ret, 0, "%s: %d", c->name, ret);
	cr_expect_eq(s.offset, (uint32_t)c->offset, "%s: +%u %s", c->name, s.offset, s.insn);
	cr_expect_str_eq(s.insn, c->insn, "%s", c->name);
	cr_expect(s.emulated);
	cr_expect(ppinsn_emulated(f.b + s.offset, c->len - s.offset));
}

Test(probeplan, pyenv311_malloc_probes_the_js_at_6)
{
	struct fixture f;
	struct probeplan_spot s;

	load("pyenv311-PyObject_Malloc", &f);
	/* mov %rdi,%rsi ; test %rdi,%rdi ; js : %rdi (the size) is still intact at +6 */
	cr_assert_eq(probeplan_place(f.b, 27, 0x1af1e0, N_RDI | N_RET, NULL, 0, &s), 0);
	cr_expect_eq(s.offset, 6);
	cr_expect_str_eq(s.insn, "js 0x1af1f8");
	/* ... but the copy in %rsi was made at +0 */
	cr_expect_eq(probeplan_place(f.b, 27, 0x1af1e0, N_RSI, NULL, 0, &s), -ENOENT);
}

Test(probeplan, forbidden_target_at_or_before_the_spot_rejects)
{
	struct fixture f;
	struct probeplan_spot s;
	const uint64_t va = 0x1af1e0;

	load("pyenv311-PyObject_Malloc", &f);
	cr_expect_eq(probeplan_place(f.b, 27, va, N_RDI, (uint64_t[]){ va + 6 }, 1, &s), -ENOENT);
	cr_expect_eq(probeplan_place(f.b, 27, va, N_RDI, (uint64_t[]){ va + 0x18, va + 3 }, 2, &s), -ENOENT);
	cr_expect_eq(probeplan_place(f.b, 27, va, N_RDI, (uint64_t[]){ va + 1 }, 1, &s), -ENOENT,
		     "inside an instruction still counts");
	cr_assert_eq(probeplan_place(f.b, 27, va, N_RDI, (uint64_t[]){ va, va + 8, va - 0x100 }, 3, &s), 0);
	cr_expect_eq(s.offset, 6);
}

Test(probeplan, debian_hidden_malloc_refuses_a_retprobe_after_sub_rsp)
{
	struct fixture f;
	struct probeplan_spot s;

	load("debian311-_PyObject_Malloc", &f);
	/* lea -1(%rsi),%rax ; sub $0x18,%rsp ; cmp ; ja */
	cr_assert_eq(probeplan_place(f.b, f.len, 0x4fb450, N_RSI, NULL, 0, &s), 0);
	cr_expect_eq(s.offset, 14);
	cr_expect_str_eq(s.insn, "ja 0x4fb52e");
	cr_expect_eq(probeplan_place(f.b, f.len, 0x4fb450, N_RSI | N_RET, NULL, 0, &s), -ENOENT);
}

/* ---- branch targets ---- */

Test(probeplan, branch_targets_are_sorted_unique_and_in_range)
{
	struct fixture f;
	uint64_t t[64];
	size_t n = 0;
	const uint64_t va = 0x1aede0, len = 256;

	load("pyenv311-_PyObject_Free", &f);
	cr_assert_eq(probeplan_branch_targets(f.b, len, va, va, va + len, t, 64, &n), 0);
	cr_assert_eq(n, 5);
	cr_expect_eq(t[0], 0x1aee3b, "the loop head, from the jne at +0x90");
	cr_expect_eq(t[1], 0x1aee60, "the je at +3");
	cr_expect_eq(t[4], 0x1aee88);
	for (size_t i = 0; i < n; i++) {
		cr_expect(t[i] >= va && t[i] < va + len);
		if (i)
			cr_expect_gt(t[i], t[i - 1]);
	}
	/* A window: only targets in [lo, hi) */
	cr_assert_eq(probeplan_branch_targets(f.b, len, va, 0x1aee60, 0x1aee61, t, 64, &n), 0);
	cr_expect_eq(n, 1);
	cr_expect_eq(t[0], 0x1aee60);
}

Test(probeplan, branch_targets_report_enospc_and_keep_n)
{
	struct fixture f;
	uint64_t t[2];
	size_t n = 77;

	load("pyenv311-_PyObject_Free", &f);
	cr_expect_eq(probeplan_branch_targets(f.b, 256, 0x1aede0, 0x1aede0, 0x1aeee0, t, 2, &n), -ENOSPC);
	cr_expect_eq(n, 77);
}

Test(probeplan, branch_targets_include_calls_and_resync_after_junk)
{
	/* junk (0x06 is invalid in 64-bit mode), call +0x10, jmp -2 (to itself) */
	static const uint8_t code[] = { 0x06, 0xe8, 0x10, 0x00, 0x00, 0x00, 0xeb, 0xfe };
	uint64_t t[4];
	size_t n = 0;

	cr_assert_eq(probeplan_branch_targets(code, sizeof(code), 0x100, 0, UINT64_MAX, t, 4, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(t[0], 0x106);
	cr_expect_eq(t[1], 0x116);
}

/* ---- allocator table dispatch ---- */

Test(probeplan, pyenv311_free_is_a_table_stub_with_the_pointer_in_rsi)
{
	struct fixture f;
	struct probeplan_dispatch d;
	struct probeplan_spot s;

	load("pyenv311-PyObject_Free", &f);
	cr_expect_eq(probeplan_place(f.b, 16, 0x1af270, N_RDI, NULL, 0, &s), -ENOENT, "nothing emulated in it");
	cr_assert_eq(probeplan_table_dispatch(f.b, 16, 0x1af270, &d), 0);
	cr_expect_eq(d.slot_vaddr, 0x45c280, "_PyObject.free (_PyObject at 0x45c260)");
	cr_expect_eq(d.slot_ptr_vaddr, 0);
	cr_expect_eq(d.arg0_reg, PROBEPLAN_NEED_RSI);
	cr_expect_eq(d.arg1_reg, 0);
}

Test(probeplan, pyenv39_malloc_dispatch_follows_the_js)
{
	struct fixture f;
	struct probeplan_dispatch d;

	load("pyenv39-PyObject_Malloc", &f);
	cr_assert_eq(probeplan_table_dispatch(f.b, 27, 0x103f10, &d), 0);
	cr_expect_eq(d.slot_vaddr, 0x36b828, "_PyObject.malloc (_PyObject at 0x36b820)");
	cr_expect_eq(d.arg0_reg, PROBEPLAN_NEED_RSI);
}

Test(probeplan, debian_calloc_dispatch_merges_the_overflow_check)
{
	struct fixture f;
	struct probeplan_dispatch d;

	load("debian311-PyObject_Calloc", &f);
	cr_assert_eq(probeplan_table_dispatch(f.b, 48, 0x57f5c0, &d), 0);
	cr_expect_eq(d.slot_vaddr, 0x959f50);
	cr_expect_eq(d.slot_ptr_vaddr, 0);
	cr_expect_eq(d.arg0_reg, PROBEPLAN_NEED_RSI, "nelem");
	cr_expect_eq(d.arg1_reg, PROBEPLAN_NEED_RDX, "elsize");
}

Test(probeplan, pyenv312_dispatch_goes_through_the_runtime_got_entry)
{
	struct fixture f;
	struct probeplan_dispatch d;

	/* mov _PyRuntime@GOT(%rip),%rax ; ... ; jmp *0xb8(%rax) */
	load("pyenv312-PyObject_Malloc", &f);
	cr_assert_eq(probeplan_table_dispatch(f.b, 35, 0x1cf430, &d), 0);
	cr_expect_eq(d.slot_ptr_vaddr, 0x543d00, "R_X86_64_GLOB_DAT _PyRuntime");
	cr_expect_eq(d.slot_vaddr, 0xb8, "allocators.standard.obj.malloc = _PyRuntime + 176 + 8");
	cr_expect_eq(d.arg0_reg, PROBEPLAN_NEED_RSI);
	/* Calloc loads the slot into %rax and jumps through the register. */
	load("pyenv312-PyObject_Calloc", &f);
	cr_assert_eq(probeplan_table_dispatch(f.b, 67, 0x1cf460, &d), 0);
	cr_expect_eq(d.slot_ptr_vaddr, 0x543d00);
	cr_expect_eq(d.slot_vaddr, 0xc0);
	cr_expect_eq(d.arg0_reg, PROBEPLAN_NEED_RSI);
	cr_expect_eq(d.arg1_reg, PROBEPLAN_NEED_RDX);
}

Test(probeplan, pyenv313_free_slot_is_runtime_plus_0x330)
{
	struct fixture f;
	struct probeplan_dispatch d;

	load("pyenv313-PyObject_Free", &f);
	cr_assert_eq(probeplan_table_dispatch(f.b, 23, 0x16a630, &d), 0);
	cr_expect_eq(d.slot_ptr_vaddr, 0x4eacb0);
	cr_expect_eq(d.slot_vaddr, 0x330, "obj.free = _PyRuntime + 784 + 32");
	cr_expect_eq(d.arg0_reg, PROBEPLAN_NEED_RSI);
}

Test(probeplan, real_functions_are_not_dispatch_stubs)
{
	struct fixture f;
	struct probeplan_dispatch d;

	memset(&d, 0x5a, sizeof(d));
	load("debian311-PyObject_Malloc", &f);
	cr_expect_eq(probeplan_table_dispatch(f.b, 247, 0x4fb350, &d), -ENOENT);
	load("pyenv311-_PyObject_Malloc", &f);
	cr_expect_eq(probeplan_table_dispatch(f.b, 164, 0x1af820, &d), -ENOENT);
	cr_expect_eq(d.slot_vaddr, 0x5a5a5a5a5a5a5a5aull, "untouched on failure");
	/* jmp *%rax with %rax unknown */
	cr_expect_eq(probeplan_table_dispatch((const uint8_t[]){ 0xff, 0xe0 }, 2, 0, &d), -ENOENT);
}

/* ---- LTO devirtualization guards ---- */

Test(probeplan, debian_malloc_guard_reveals_hidden_pymalloc)
{
	struct fixture f;
	uint64_t slot = 0, impl = 0;

	load("debian311-PyObject_Malloc", &f);
	cr_assert_eq(probeplan_hidden_impl(f.b, 247, 0x4fb350, &slot, &impl), 0);
	cr_expect_eq(slot, 0x959f48, "_PyObject.malloc");
	cr_expect_eq(impl, 0x4fb450, "_PyObject_Malloc");
}

Test(probeplan, debian_free_and_realloc_guards)
{
	struct fixture f;
	uint64_t slot = 0, impl = 0;

	load("debian311-PyObject_Free", &f);
	cr_assert_eq(probeplan_hidden_impl(f.b, 256, 0x500950, &slot, &impl), 0);
	cr_expect_eq(slot, 0x959f60);
	cr_expect_eq(impl, 0x500fe0);
	load("debian311-PyObject_Realloc", &f);
	cr_assert_eq(probeplan_hidden_impl(f.b, 256, 0x561ac0, &slot, &impl), 0);
	cr_expect_eq(slot, 0x959f58);
	cr_expect_eq(impl, 0x510c00);
}

Test(probeplan, inlined_guards_agree_with_the_public_ones)
{
	struct fixture f;
	uint64_t slot = 0, impl = 0;

	load("debian311-_PyObject_GC_New", &f);
	cr_assert_eq(probeplan_hidden_impl(f.b, 256, 0x4fb0a0, &slot, &impl), 0);
	cr_expect_eq(impl, 0x4fb450);
	load("debian311-PyObject_GC_Del", &f);
	cr_assert_eq(probeplan_hidden_impl(f.b, 256, 0x50a210, &slot, &impl), 0);
	cr_expect_eq(slot, 0x959f60);
	cr_expect_eq(impl, 0x500fe0);
}

Test(probeplan, no_guard_means_enoent)
{
	struct fixture f;
	uint64_t slot = 7, impl = 7;

	load("debian311-PyObject_Calloc", &f);
	cr_expect_eq(probeplan_hidden_impl(f.b, 48, 0x57f5c0, &slot, &impl), -ENOENT, "plain jmp *slot");
	load("pyenv311-PyObject_Malloc", &f);
	cr_expect_eq(probeplan_hidden_impl(f.b, 27, 0x1af1e0, &slot, &impl), -ENOENT);
	load("pyenv312-PyObject_Malloc", &f);
	cr_expect_eq(probeplan_hidden_impl(f.b, 35, 0x1cf430, &slot, &impl), -ENOENT);
	cr_expect_eq(slot, 7);
	cr_expect_eq(impl, 7);
	/* mov slot(%rip),%rax ; test %rax,%rax : a NULL check is not a guard */
	cr_expect_eq(probeplan_hidden_impl((const uint8_t[]){ 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0x48, 0x83,
							      0xf8, 0x00, 0xc3 },
					   12, 0x1000, &slot, &impl),
		     -ENOENT);
}

Test(probeplan, pie_guard_with_lea_constant_is_found)
{
	/* mov 0x100(%rip),%rax ; lea 0x200(%rip),%rdx ; cmp %rdx,%rax ; jne */
	static const uint8_t code[] = { 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x48, 0x8d, 0x15, 0x00,
					0x02, 0x00, 0x00, 0x48, 0x39, 0xd0, 0x75, 0x10 };
	uint64_t slot = 0, impl = 0;

	cr_assert_eq(probeplan_hidden_impl(code, sizeof(code), 0x1000, &slot, &impl), 0);
	cr_expect_eq(slot, 0x1007 + 0x100);
	cr_expect_eq(impl, 0x100e + 0x200);
}
