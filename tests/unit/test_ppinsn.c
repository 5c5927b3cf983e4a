// SPDX-License-Identifier: MIT
/*
 * Tests for ppinsn (src/probes/ppinsn.c), the probe planner's view of one
 * instruction: the kernel-emulation classifier on hand-written encodings,
 * register families, the registers an instruction writes, how control leaves
 * it and where a direct branch goes. Encodings are written out by hand; the
 * expected answers are the architecture's (and 6.18 uprobes.c's), not
 * capstone's.
 */
#include <errno.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "leakd/probes/ppinsn.h"

static bool emulated(const uint8_t *b, size_t n)
{
	return ppinsn_emulated(b, n);
}
#define EMU(...) emulated((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* ---- the kernel's emulation list ---- */

Test(ppinsn, push_reg_is_emulated)
{
	cr_expect(EMU(0x53), "push %%rbx");
	cr_expect(EMU(0x55), "push %%rbp");
	cr_expect(EMU(0x41, 0x57), "push %%r15");
	cr_expect(EMU(0x41, 0x50), "push %%r8");
}

Test(ppinsn, push_with_other_rex_or_operand_is_stepped)
{
	cr_expect_not(EMU(0x48, 0x53), "rex.W push %%rbx: kernel wants exactly 0x41");
	cr_expect_not(EMU(0x66, 0x53), "push %%bx");
	cr_expect_not(EMU(0x6a, 0x01), "push $1");
	cr_expect_not(EMU(0xff, 0x35, 0x10, 0x00, 0x00, 0x00), "push mem");
}

Test(ppinsn, direct_branches_are_emulated)
{
	cr_expect(EMU(0xeb, 0x10), "jmp rel8");
	cr_expect(EMU(0xe9, 0x00, 0x01, 0x00, 0x00), "jmp rel32");
	cr_expect(EMU(0xe8, 0x00, 0x01, 0x00, 0x00), "call rel32");
	for (uint8_t cc = 0; cc < 16; cc++) {
		cr_expect(EMU(0x70 + cc, 0x10), "jcc rel8 %#x", 0x70 + cc);
		cr_expect(EMU(0x0f, 0x80 + cc, 0x00, 0x01, 0x00, 0x00), "jcc rel32 0f %#x", 0x80 + cc);
	}
	cr_expect(EMU(0xf2, 0xe9, 0x00, 0x01, 0x00, 0x00), "bnd jmp");
}

Test(ppinsn, opsize_prefixed_branch_is_stepped)
{
	cr_expect_not(EMU(0x66, 0xe9, 0x01, 0x00), "66-prefixed jmp");
	cr_expect_not(EMU(0x66, 0xe8, 0x01, 0x00), "66-prefixed call");
	cr_expect_not(EMU(0x66, 0x0f, 0x85, 0x01, 0x00), "66-prefixed jne");
}

Test(ppinsn, x86_nops_are_emulated)
{
	cr_expect(EMU(0x90));
	cr_expect(EMU(0x66, 0x90));
	cr_expect(EMU(0x0f, 0x1f, 0x00));
	cr_expect(EMU(0x0f, 0x1f, 0x40, 0x00));
	cr_expect(EMU(0x0f, 0x1f, 0x44, 0x00, 0x00), "nopl 0x0(%%rax,%%rax,1)");
	cr_expect(EMU(0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00), "NOP6 keeps its 0x66");
	cr_expect(EMU(0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00));
	cr_expect(EMU(0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00));
	cr_expect(EMU(0xf3, 0x90), "pause: opcode 0x90, the kernel skips it like a nop");
}

Test(ppinsn, other_nop_forms_are_stepped)
{
	cr_expect_not(EMU(0x0f, 0x1f, 0x44, 0x00, 0x01), "nopl 1(%%rax,%%rax,1): not x86_nops[5]");
	cr_expect_not(EMU(0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00), "9-byte nopw");
	cr_expect_not(EMU(0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00), "cs nopw: bad prefix");
	cr_expect_not(EMU(0x41, 0x90), "xchg %%eax,%%r8d would be skipped as a nop");
}

Test(ppinsn, everything_else_is_stepped)
{
	cr_expect_not(EMU(0xf3, 0x0f, 0x1e, 0xfa), "endbr64");
	cr_expect_not(EMU(0xc3), "ret");
	cr_expect_not(EMU(0xff, 0xe0), "jmp *%%rax");
	cr_expect_not(EMU(0xff, 0x25, 0x10, 0x00, 0x00, 0x00), "jmp *0x10(%%rip)");
	cr_expect_not(EMU(0x48, 0x89, 0xfe), "mov %%rdi,%%rsi");
	cr_expect_not(EMU(0x48, 0x85, 0xff), "test %%rdi,%%rdi");
	cr_expect_not(EMU(0x48, 0x83, 0xec, 0x08), "sub $8,%%rsp");
	cr_expect_not(EMU(0x5b), "pop %%rbx");
}

Test(ppinsn, lock_and_segment_prefixes_are_refused)
{
	cr_expect_not(EMU(0xf0, 0x48, 0x01, 0x07), "lock add");
	cr_expect_not(EMU(0x3e, 0x74, 0x10), "ds-hinted je");
	cr_expect_not(EMU(0x2e, 0x74, 0x10), "cs-hinted je");
	cr_expect_not(EMU(0x3e, 0xff, 0xe0), "notrack jmp *%%rax");
}

Test(ppinsn, truncated_or_empty_input_is_not_emulated)
{
	cr_expect_not(EMU(0xe9, 0x00), "jmp rel32 cut short");
	cr_expect_not(ppinsn_emulated(NULL, 4));
	cr_expect_not(ppinsn_emulated((const uint8_t[]){ 0x53 }, 0));
}

Test(ppinsn, classifier_reads_only_the_first_instruction)
{
	cr_expect(EMU(0x53, 0x48, 0x89, 0xfe), "push followed by mov");
	cr_expect_not(EMU(0x48, 0x89, 0xfe, 0x53), "mov followed by push");
}

/* ---- one decoded instruction ---- */

struct dec {
	csh h;
	cs_insn *in;
};

static void decode(struct dec *d, const uint8_t *b, size_t n, uint64_t addr)
{
	const uint8_t *p = b;
	size_t left = n;

	cr_assert_eq(ppinsn_open(&d->h, false, &d->in), 0);
	cr_assert(cs_disasm_iter(d->h, &p, &left, &addr, d->in), "undecodable test encoding");
	cr_assert_eq(d->in->size, n, "the encoding is one instruction");
}

static void undecode(struct dec *d)
{
	ppinsn_close(&d->h, d->in);
}
#define DEC(d, addr, ...) decode(d, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), addr)

Test(ppinsn, gpr_families_of_every_width)
{
	bool full;

	cr_expect_eq(ppinsn_gpr(X86_REG_RDI, &full), PP_RDI);
	cr_expect(full);
	cr_expect_eq(ppinsn_gpr(X86_REG_EDI, &full), PP_RDI);
	cr_expect_not(full);
	cr_expect_eq(ppinsn_gpr(X86_REG_DIL, &full), PP_RDI);
	cr_expect_eq(ppinsn_gpr(X86_REG_AH, &full), PP_RAX);
	cr_expect_eq(ppinsn_gpr(X86_REG_R8, &full), PP_R8);
	cr_expect(full);
	cr_expect_eq(ppinsn_gpr(X86_REG_R15D, &full), PP_R15);
	cr_expect_not(full);
	cr_expect_eq(ppinsn_gpr(X86_REG_R11W, NULL), PP_R11);
	cr_expect_eq(ppinsn_gpr(X86_REG_R9B, NULL), PP_R9);
	cr_expect_eq(ppinsn_gpr(X86_REG_RIP, &full), -1);
	cr_expect_eq(ppinsn_gpr(X86_REG_XMM0, NULL), -1);
}

Test(ppinsn, writes_count_sub_registers_and_implicit_ones)
{
	struct dec d;

	DEC(&d, 0, 0x48, 0x89, 0xfe); /* mov %rdi,%rsi */
	cr_expect_eq(ppinsn_writes(d.h, d.in), PP_BIT(PP_RSI));
	undecode(&d);
	DEC(&d, 0, 0x89, 0xf8); /* mov %edi,%eax */
	cr_expect_eq(ppinsn_writes(d.h, d.in), PP_BIT(PP_RAX));
	undecode(&d);
	DEC(&d, 0, 0x53); /* push %rbx: moves %rsp only */
	cr_expect_eq(ppinsn_writes(d.h, d.in), PP_BIT(PP_RSP));
	undecode(&d);
	DEC(&d, 0, 0x48, 0x85, 0xff); /* test %rdi,%rdi: flags only */
	cr_expect_eq(ppinsn_writes(d.h, d.in), 0);
	undecode(&d);
	DEC(&d, 0, 0xe8, 0x00, 0x00, 0x00, 0x00); /* call: the SysV clobbers */
	cr_expect_eq(ppinsn_writes(d.h, d.in) & PP_CALL_CLOBBER, PP_CALL_CLOBBER);
	cr_expect_eq(ppinsn_writes(d.h, d.in) & PP_BIT(PP_RBX), 0, "callee-saved");
	undecode(&d);
}

Test(ppinsn, flow_kinds)
{
	static const struct {
		uint8_t b[8];
		size_t n;
		enum ppinsn_flow want;
		const char *what;
	} c[] = {
		{ { 0x48, 0x89, 0xfe }, 3, PP_FALL, "mov" },
		{ { 0xe8, 0, 0, 0, 0 }, 5, PP_CALL, "call rel32" },
		{ { 0xff, 0xd0 }, 2, PP_CALL, "call *%rax" },
		{ { 0x74, 0x10 }, 2, PP_JCC, "je rel8" },
		{ { 0x0f, 0x85, 0, 1, 0, 0 }, 6, PP_JCC, "jne rel32" },
		{ { 0xe2, 0x10 }, 2, PP_JCC, "loop" },
		{ { 0xe1, 0x10 }, 2, PP_JCC, "loope" },
		{ { 0xe3, 0x10 }, 2, PP_JCC, "jrcxz" },
		{ { 0xeb, 0x10 }, 2, PP_JMP, "jmp rel8" },
		{ { 0xff, 0xe0 }, 2, PP_JMP_IND, "jmp *%rax" },
		{ { 0xff, 0x25, 0x10, 0, 0, 0 }, 6, PP_JMP_IND, "jmp *0x10(%rip)" },
		{ { 0xc3 }, 1, PP_STOP, "ret" },
		{ { 0x0f, 0x0b }, 2, PP_STOP, "ud2" },
		{ { 0x0f, 0x05 }, 2, PP_STOP, "syscall" },
		{ { 0xcc }, 1, PP_STOP, "int3" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct dec d;

		decode(&d, c[i].b, c[i].n, 0x1000);
		cr_expect_eq(ppinsn_flow(d.h, d.in), c[i].want, "%s", c[i].what);
		undecode(&d);
	}
}

Test(ppinsn, rel_target_of_direct_branches_only)
{
	struct dec d;
	uint64_t t = 0;

	DEC(&d, 0x1000, 0xeb, 0x10); /* jmp .+0x12 */
	cr_expect(ppinsn_rel_target(d.h, d.in, &t));
	cr_expect_eq(t, 0x1000 + 2 + 0x10);
	undecode(&d);
	DEC(&d, 0x2000, 0xe8, 0xfb, 0xff, 0xff, 0xff); /* call .-0 (rel32 -5) */
	cr_expect(ppinsn_rel_target(d.h, d.in, &t));
	cr_expect_eq(t, 0x2000);
	undecode(&d);
	t = 7;
	DEC(&d, 0x1000, 0xff, 0xe0); /* jmp *%rax */
	cr_expect_not(ppinsn_rel_target(d.h, d.in, &t));
	cr_expect_eq(t, 7, "untouched");
	undecode(&d);
}

Test(ppinsn, emulated_bytes_agrees_with_the_decoding_classifier)
{
	static const uint8_t push_rbx[] = { 0x53 }, mov[] = { 0x48, 0x89, 0xfe };

	cr_expect_eq(ppinsn_emulated_bytes(push_rbx, 1), ppinsn_emulated(push_rbx, 1));
	cr_expect_eq(ppinsn_emulated_bytes(mov, 3), ppinsn_emulated(mov, 3));
	cr_expect(ppinsn_emulated_bytes(push_rbx, 1));
	cr_expect_not(ppinsn_emulated_bytes(mov, 3));
}
