// SPDX-License-Identifier: MIT
/*
 * ppinsn: what one x86-64 instruction does, for the probe planner (see
 * include/leakd/probes/ppinsn.h). The emulation rules mirror
 * arch/x86/kernel/uprobes.c as of 6.18 (uprobe_init_insn/is_prefix_bad,
 * branch_setup_xol_ops, push_setup_xol_ops).
 */
#include <errno.h>
#include <string.h>

#include <capstone/capstone.h>

#include "leakd/probes/ppinsn.h"

/* Kernel x86_nops[len] for 64-bit (arch/x86/include/asm/nops.h, BYTES_NOP1..8). */
static const uint8_t pp_nops[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

/* Family of a GPR name (any width), or -1; *full says it is the 64-bit name. */
int ppinsn_gpr(unsigned reg, bool *full)
{
	static const struct {
		unsigned short r64, r32, r16, r8, r8h;
	} names[8] = {
		[PP_RAX] = { X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
		[PP_RCX] = { X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
		[PP_RDX] = { X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
		[PP_RBX] = { X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
		[PP_RSP] = { X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_SPL },
		[PP_RBP] = { X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_BPL },
		[PP_RSI] = { X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL },
		[PP_RDI] = { X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL },
	};
	bool dummy;

	if (!full)
		full = &dummy;
	*full = false;
	for (int i = 0; i < 8; i++) {
		if (reg == names[i].r64) {
			*full = true;
			return i;
		}
		if (reg == names[i].r32 || reg == names[i].r16 || reg == names[i].r8 || reg == names[i].r8h)
			return i;
	}
	if (reg >= X86_REG_R8 && reg <= X86_REG_R15) {
		*full = true;
		return PP_R8 + (int)(reg - X86_REG_R8);
	}
	if (reg >= X86_REG_R8D && reg <= X86_REG_R15D)
		return PP_R8 + (int)(reg - X86_REG_R8D);
	if (reg >= X86_REG_R8W && reg <= X86_REG_R15W)
		return PP_R8 + (int)(reg - X86_REG_R8W);
	if (reg >= X86_REG_R8B && reg <= X86_REG_R15B)
		return PP_R8 + (int)(reg - X86_REG_R8B);
	return -1;
}

int ppinsn_open(csh *h, bool att, cs_insn **in)
{
	cs_err err = cs_open(CS_ARCH_X86, CS_MODE_64, h);

	if (err != CS_ERR_OK)
		return err == CS_ERR_MEM ? -ENOMEM : -ENOTSUP;
	err = cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	if (err == CS_ERR_OK && att)
		err = cs_option(*h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
	if (err != CS_ERR_OK) {
		cs_close(h);
		return -ENOTSUP;
	}
	*in = cs_malloc(*h);
	if (!*in) {
		cs_close(h);
		return -ENOMEM;
	}
	return 0;
}

void ppinsn_close(csh *h, cs_insn *in)
{
	cs_free(in, 1);
	cs_close(h);
}

/*
 * The kernel's decision, on the exact bytes of one instruction of ilen bytes.
 * Kept on raw bytes rather than capstone's view so that it matches the
 * kernel's own decoder checks one for one.
 */
bool ppinsn_emulated_bytes(const uint8_t *b, size_t ilen)
{
	size_t i = 0;
	bool opsize = false;
	uint8_t rex = 0, op;

	for (; i < ilen; i++) {
		switch (b[i]) {
		case 0xf0: /* lock */
		case 0x26: /* es */
		case 0x2e: /* cs */
		case 0x36: /* ss */
		case 0x3e: /* ds */
			/* is_prefix_bad(): the probe cannot even be registered. */
			return false;
		case 0x66:
			opsize = true;
			continue;
		case 0x67:
		case 0xf2:
		case 0xf3:
		case 0x64:
		case 0x65:
			continue;
		}
		break;
	}
	/* Checked before the branch cases, so the 0x66 of NOP2/NOP6 is fine. */
	if (ilen >= 1 && ilen <= 8 && memcmp(b, pp_nops[ilen], ilen) == 0)
		return true;
	if (i < ilen && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= ilen)
		return false;
	op = b[i];

	if (op == 0x90)
		/* 6.18 emulates any prefixed 0x90 as a nop, but with REX.B it is
		 * xchg %eax,%r8d and skipping it would corrupt the program. */
		return !(rex & 0x01);
	if (op >= 0x50 && op <= 0x57)
		/* push_setup_xol_ops(): one byte, or exactly REX 0x41 + opcode. */
		return ilen == 1 || (ilen == 2 && b[0] == 0x41);
	if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f))
		return !opsize;
	if (op == 0x0f && i + 1 < ilen && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f)
		return !opsize;
	return false;
}

bool ppinsn_emulated(const uint8_t *insn, size_t len)
{
	const uint8_t *p = insn;
	size_t left = len;
	uint64_t addr = 0;
	cs_insn *ci = NULL;
	bool ret = false;
	csh h;

	if (!insn || !len)
		return false;
	if (ppinsn_open(&h, false, &ci))
		return false;
	if (cs_disasm_iter(h, &p, &left, &addr, ci))
		ret = ppinsn_emulated_bytes(insn, ci->size);
	ppinsn_close(&h, ci);
	return ret;
}

/* GPR families an instruction may write, sub-registers included. Capstone 4
 * lacks cs_regs_access(), so combine the implicit list with the operands'
 * access flags, counting an operand of unknown access as written. */
uint32_t ppinsn_writes(csh h, const cs_insn *in)
{
	const cs_detail *d = in->detail;
	const cs_x86 *x = &d->x86;
	uint32_t m = 0;
	int g;

	for (int i = 0; i < d->regs_write_count; i++) {
		g = ppinsn_gpr(d->regs_write[i], NULL);
		if (g >= 0)
			m |= PP_BIT(g);
	}
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type != X86_OP_REG || (op->access && !(op->access & CS_AC_WRITE)))
			continue;
		g = ppinsn_gpr(op->reg, NULL);
		if (g >= 0)
			m |= PP_BIT(g);
	}
	if (cs_insn_group(h, in, X86_GRP_CALL))
		m |= PP_CALL_CLOBBER;
	return m;
}


enum ppinsn_flow ppinsn_flow(csh h, const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_UD2:
	case X86_INS_UD0:
	case X86_INS_HLT:
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
	case X86_INS_LJMP:
	case X86_INS_LCALL:
		return PP_STOP;
	}
	if (cs_insn_group(h, in, X86_GRP_RET) || cs_insn_group(h, in, X86_GRP_IRET) ||
	    cs_insn_group(h, in, X86_GRP_INT))
		return PP_STOP;
	if (cs_insn_group(h, in, X86_GRP_CALL))
		return PP_CALL;
	/* Capstone 4 puts loop/loope/loopne in no jump group (jrcxz it does):
	 * without this they would read as straight-line code. */
	if (in->id == X86_INS_LOOP || in->id == X86_INS_LOOPE || in->id == X86_INS_LOOPNE)
		return PP_JCC;
	if (cs_insn_group(h, in, X86_GRP_JUMP)) {
		if (!cs_insn_group(h, in, X86_GRP_BRANCH_RELATIVE))
			return in->id == X86_INS_JMP ? PP_JMP_IND : PP_STOP;
		return in->id == X86_INS_JMP ? PP_JMP : PP_JCC;
	}
	return PP_FALL;
}

/* Target of a direct (relative) branch or call. */
bool ppinsn_rel_target(csh h, const cs_insn *in, uint64_t *t)
{
	const cs_x86 *x = &in->detail->x86;

	if (!cs_insn_group(h, in, X86_GRP_BRANCH_RELATIVE) || x->op_count < 1 ||
	    x->operands[0].type != X86_OP_IMM)
		return false;
	*t = (uint64_t)x->operands[0].imm;
	return true;
}
