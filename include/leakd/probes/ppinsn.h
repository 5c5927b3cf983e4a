/* SPDX-License-Identifier: MIT */
/*
 * ppinsn: the probe planner's view of one x86-64 instruction (capstone 4.0.2
 * decodes it): which general-purpose registers it may write, how control
 * leaves it, where a direct branch goes, and whether the kernel emulates it
 * under a uprobe (cheap) or single-steps it out of line (~15x the cost).
 * Pure; the data-flow walk over whole entry prefixes is in probeplan.c.
 */
#ifndef LEAKD_PPINSN_H
#define LEAKD_PPINSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capstone/capstone.h>

/* General-purpose register families, in hardware encoding order. */
enum {
	PP_RAX, PP_RCX, PP_RDX, PP_RBX, PP_RSP, PP_RBP, PP_RSI, PP_RDI,
	PP_R8, PP_R9, PP_R10, PP_R11, PP_R12, PP_R13, PP_R14, PP_R15,
	PP_NGPR,
};

#define PP_BIT(r) (1u << (r))
/* SysV: what a call may clobber, plus %rsp which the call itself moves. */
#define PP_CALL_CLOBBER                                                                        \
	(PP_BIT(PP_RAX) | PP_BIT(PP_RCX) | PP_BIT(PP_RDX) | PP_BIT(PP_RSI) | PP_BIT(PP_RDI) |  \
	 PP_BIT(PP_R8) | PP_BIT(PP_R9) | PP_BIT(PP_R10) | PP_BIT(PP_R11) | PP_BIT(PP_RSP))

enum ppinsn_flow {
	PP_FALL,	/* falls through */
	PP_CALL,	/* returns to the next instruction */
	PP_JCC,		/* direct conditional (jcc, loop, jrcxz) */
	PP_JMP,		/* direct unconditional */
	PP_JMP_IND,	/* indirect jmp: register or memory */
	PP_STOP,	/* ret, far transfers, traps: the prefix ends, nothing to follow */
};

/* Family (PP_RAX..PP_R15) of a capstone GPR name of any width, or -1;
 * *full (may be NULL) says it is the 64-bit name. */
int ppinsn_gpr(unsigned reg, bool *full);

/* A 64-bit capstone handle with details on (AT&T syntax if att) and one
 * instruction to decode into. Returns 0, -ENOMEM or -ENOTSUP (nothing to
 * close then); release both with ppinsn_close(). */
int ppinsn_open(csh *h, bool att, cs_insn **in);
void ppinsn_close(csh *h, cs_insn *in);

/* The kernel's decision on the exact bytes of one instruction of ilen
 * bytes (ilen from the decoder). */
bool ppinsn_emulated_bytes(const uint8_t *b, size_t ilen);

/*
 * Whether the kernel (6.18 arch/x86/kernel/uprobes.c) emulates the single
 * instruction at insn[0] instead of single-stepping it: jmp rel8/rel32,
 * call rel32, the 16 jcc forms in both encodings (none with a 0x66 prefix),
 * the exact x86_nops[] encodings of 1-8 bytes and prefixed 0x90, push %reg
 * and push %r8-%r15 (41 50-57). len is how many bytes are readable (it may
 * exceed the instruction). Instructions the kernel refuses to probe at all
 * (lock/es/cs/ss/ds prefixes) and REX.B 0x90 (xchg %eax,%r8d, which 6.18
 * would wrongly skip as a nop) return false.
 */
bool ppinsn_emulated(const uint8_t *insn, size_t len);

/* PP_BIT()s of the GPR families in may write, sub-registers included; a
 * call adds PP_CALL_CLOBBER. */
uint32_t ppinsn_writes(csh h, const cs_insn *in);

enum ppinsn_flow ppinsn_flow(csh h, const cs_insn *in);

/* Target of a direct (relative) branch or call into *t; false otherwise. */
bool ppinsn_rel_target(csh h, const cs_insn *in, uint64_t *t);

#endif /* LEAKD_PPINSN_H */
