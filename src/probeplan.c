// SPDX-License-Identifier: MIT
/*
 * Probe planner: where to put an allocation/free uprobe inside a function so
 * that the kernel emulates the probed instruction instead of single-stepping
 * it, and how to see through the allocator stubs that tail-jump through a
 * function-pointer table or guard a devirtualized call.
 *
 * Everything here is pure logic over instruction bytes decoded with capstone
 * 4.0.2; the caller supplies the bytes and the vaddr they were read from. The
 * emulation rules mirror arch/x86/kernel/uprobes.c as of 6.18
 * (uprobe_init_insn/is_prefix_bad, branch_setup_xol_ops, push_setup_xol_ops);
 * everything not emulated costs ~15x more per hit on these VMs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "leakd/probeplan.h"

/* A function's straight-line entry prefix is a handful of instructions; the
 * bound only protects against feeding a huge buffer of straight code. */
#define PP_PREFIX_MAX 64
/* Allocator stubs and devirtualization guards sit in the first dozen or so
 * instructions; looking further only invites false matches. */
#define PP_WALK_MAX 32
#define PP_PENDING_MAX 8

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
static int pp_gpr(unsigned reg, bool *full)
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

static int pp_open(csh *h, bool att)
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
	return 0;
}

/*
 * The kernel's decision, on the exact bytes of one instruction of ilen bytes.
 * Kept on raw bytes rather than capstone's view so that it matches the
 * kernel's own decoder checks one for one.
 */
static bool pp_emulated(const uint8_t *b, size_t ilen)
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

bool probeplan_insn_emulated(const uint8_t *insn, size_t len)
{
	const uint8_t *p = insn;
	size_t left = len;
	uint64_t addr = 0;
	cs_insn *ci = NULL;
	bool ret = false;
	csh h;

	if (!insn || !len)
		return false;
	if (pp_open(&h, false))
		return false;
	ci = cs_malloc(h);
	if (ci && cs_disasm_iter(h, &p, &left, &addr, ci))
		ret = pp_emulated(insn, ci->size);
	if (ci)
		cs_free(ci, 1);
	cs_close(&h);
	return ret;
}

/* GPR families an instruction may write, sub-registers included. Capstone 4
 * lacks cs_regs_access(), so combine the implicit list with the operands'
 * access flags, counting an operand of unknown access as written. */
static uint32_t pp_writes(csh h, const cs_insn *in)
{
	const cs_detail *d = in->detail;
	const cs_x86 *x = &d->x86;
	uint32_t m = 0;
	int g;

	for (int i = 0; i < d->regs_write_count; i++) {
		g = pp_gpr(d->regs_write[i], NULL);
		if (g >= 0)
			m |= PP_BIT(g);
	}
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type != X86_OP_REG || (op->access && !(op->access & CS_AC_WRITE)))
			continue;
		g = pp_gpr(op->reg, NULL);
		if (g >= 0)
			m |= PP_BIT(g);
	}
	if (cs_insn_group(h, in, X86_GRP_CALL))
		m |= PP_CALL_CLOBBER;
	return m;
}

enum pp_flow {
	PP_FALL,	/* falls through */
	PP_CALL,	/* returns to the next instruction */
	PP_JCC,		/* direct conditional (jcc, loop, jrcxz) */
	PP_JMP,		/* direct unconditional */
	PP_JMP_IND,	/* indirect jmp: register or memory */
	PP_STOP,	/* ret, far transfers, traps: the prefix ends, nothing to follow */
};

static enum pp_flow pp_flow(csh h, const cs_insn *in)
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
	if (cs_insn_group(h, in, X86_GRP_JUMP)) {
		if (!cs_insn_group(h, in, X86_GRP_BRANCH_RELATIVE))
			return in->id == X86_INS_JMP ? PP_JMP_IND : PP_STOP;
		return in->id == X86_INS_JMP ? PP_JMP : PP_JCC;
	}
	return PP_FALL;
}

/* Target of a direct (relative) branch or call. */
static bool pp_rel_target(csh h, const cs_insn *in, uint64_t *t)
{
	const cs_x86 *x = &in->detail->x86;

	if (!cs_insn_group(h, in, X86_GRP_BRANCH_RELATIVE) || x->op_count < 1 ||
	    x->operands[0].type != X86_OP_IMM)
		return false;
	*t = (uint64_t)x->operands[0].imm;
	return true;
}

int probeplan_place(const uint8_t *code, size_t len, uint64_t vaddr, unsigned needs,
		    const uint64_t *forbidden, size_t nforbidden, struct probeplan_spot *out)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = vaddr, limit = UINT64_MAX, t;
	uint32_t written = 0, guard = 0;
	cs_insn *in = NULL;
	int ret;
	csh h;

	if (!code || !out || (nforbidden && !forbidden))
		return -EINVAL;
	/* A branch landing at offset k > 0 lets execution reach every later
	 * instruction without passing the entry: spots must stay below k. */
	for (size_t i = 0; i < nforbidden; i++)
		if (forbidden[i] > vaddr && forbidden[i] - vaddr < limit)
			limit = forbidden[i] - vaddr;
	if (needs & PROBEPLAN_NEED_RDI)
		guard |= PP_BIT(PP_RDI);
	if (needs & PROBEPLAN_NEED_RSI)
		guard |= PP_BIT(PP_RSI);
	if (needs & PROBEPLAN_NEED_RDX)
		guard |= PP_BIT(PP_RDX);
	if (needs & PROBEPLAN_RETPROBE)
		guard |= PP_BIT(PP_RSP);

	ret = pp_open(&h, true);
	if (ret)
		return ret;
	in = cs_malloc(h);
	if (!in) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = -ENOENT;
	for (int n = 0; n < PP_PREFIX_MAX && cs_disasm_iter(h, &p, &left, &addr, in); n++) {
		uint64_t off = in->address - vaddr;
		enum pp_flow flow = pp_flow(h, in);

		/* The prefix's own branches count too (a loop back into it). */
		if (pp_rel_target(h, in, &t) && t > vaddr && t - vaddr < limit)
			limit = t - vaddr;
		if (off >= limit)
			break;
		if (!(written & guard) && pp_emulated(code + off, in->size)) {
			out->offset = (uint32_t)off;
			out->emulated = true;
			/* Bounded to fit: an overlong operand text is cut, it is only for logs. */
			snprintf(out->insn, sizeof(out->insn), "%.15s%s%.46s", in->mnemonic,
				 in->op_str[0] ? " " : "", in->op_str);
			ret = 0;
			goto cleanup;
		}
		written |= pp_writes(h, in);
		if (flow != PP_FALL && flow != PP_CALL)
			break;
	}
cleanup:
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return ret;
}

int probeplan_branch_targets(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t lo, uint64_t hi,
			     uint64_t *out, size_t max, size_t *n)
{
	const uint8_t *p = code;
	size_t left = len, cnt = 0;
	uint64_t addr = vaddr, t;
	cs_insn *in = NULL;
	int ret;
	csh h;

	if (!code || !n || (max && !out))
		return -EINVAL;
	ret = pp_open(&h, false);
	if (ret)
		return ret;
	in = cs_malloc(h);
	if (!in) {
		ret = -ENOMEM;
		goto cleanup;
	}
	while (left > 0) {
		size_t lo_i = 0, hi_i;

		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			/* Not code (or capstone does not know it): resync on the next byte. */
			p++;
			left--;
			addr++;
			continue;
		}
		if (!pp_rel_target(h, in, &t) || t < lo || t >= hi)
			continue;
		/* Sorted insert without duplicates: bodies hold at most a few hundred. */
		hi_i = cnt;
		while (lo_i < hi_i) {
			size_t mid = lo_i + (hi_i - lo_i) / 2;

			if (out[mid] < t)
				lo_i = mid + 1;
			else
				hi_i = mid;
		}
		if (lo_i < cnt && out[lo_i] == t)
			continue;
		if (cnt == max) {
			ret = -ENOSPC;
			goto cleanup;
		}
		memmove(out + lo_i + 1, out + lo_i, (cnt - lo_i) * sizeof(*out));
		out[lo_i] = t;
		cnt++;
	}
	*n = cnt;
	ret = 0;
cleanup:
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return ret;
}

/*
 * A tiny forward data-flow over the first instructions, enough to follow what
 * allocator stubs do with their arguments and table slots. Values: the entry
 * value of an argument register, 8 bytes loaded from a fixed address (a table
 * slot), 8 bytes loaded at an offset from a pointer that was itself loaded
 * from a fixed address (pyenv 3.12+ reach _PyRuntime through the GOT), or a
 * constant (an immediate or a rip-relative lea).
 */
enum { PPV_UNKNOWN = 0, PPV_ARG, PPV_LOAD, PPV_CONST };

struct pp_val {
	uint8_t kind;
	uint8_t arg;	/* PPV_ARG: argument index */
	uint64_t x;	/* PPV_LOAD: address (or offset, see via); PPV_CONST: value */
	uint64_t via;	/* PPV_LOAD: 0, or the address of the pointer x is relative to */
};

struct pp_state {
	bool live;
	struct pp_val r[PP_NGPR];
};

static void pp_state_entry(struct pp_state *s)
{
	static const int args[] = { PP_RDI, PP_RSI, PP_RDX, PP_RCX, PP_R8, PP_R9 };

	memset(s, 0, sizeof(*s));
	s->live = true;
	for (int i = 0; i < 6; i++) {
		s->r[args[i]].kind = PPV_ARG;
		s->r[args[i]].arg = (uint8_t)i;
	}
}

static bool pp_val_eq(const struct pp_val *a, const struct pp_val *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == PPV_ARG)
		return a->arg == b->arg;
	if (a->kind == PPV_LOAD || a->kind == PPV_CONST)
		return a->x == b->x && a->via == b->via;
	return true;
}

/* Join of two paths: what differs becomes unknown. */
static void pp_state_merge(struct pp_state *dst, const struct pp_state *src)
{
	if (!src->live)
		return;
	if (!dst->live) {
		*dst = *src;
		return;
	}
	for (int i = 0; i < PP_NGPR; i++)
		if (!pp_val_eq(&dst->r[i], &src->r[i]))
			memset(&dst->r[i], 0, sizeof(dst->r[i]));
}

/*
 * The 8 bytes a memory operand reads, as a PPV_LOAD, when its address does
 * not depend on anything unknown: rip-relative or absolute, or a base register
 * holding a constant or a pointer loaded from a fixed address. No index.
 */
static bool pp_mem_load(const struct pp_state *s, const cs_insn *in, const cs_x86_op *op, struct pp_val *v)
{
	struct pp_val r = { .kind = PPV_LOAD };
	const struct pp_val *b;
	bool full;
	int g;

	if (op->type != X86_OP_MEM || op->mem.index != X86_REG_INVALID || op->mem.segment != X86_REG_INVALID)
		return false;
	if (op->mem.base == X86_REG_RIP) {
		r.x = in->address + in->size + (uint64_t)op->mem.disp;
	} else if (op->mem.base == X86_REG_INVALID) {
		r.x = (uint64_t)op->mem.disp;
	} else {
		g = pp_gpr(op->mem.base, &full);
		if (g < 0 || !full)
			return false;
		b = &s->r[g];
		if (b->kind == PPV_CONST) {
			r.x = b->x + (uint64_t)op->mem.disp;
		} else if (b->kind == PPV_LOAD && !b->via) {
			r.via = b->x;
			r.x = (uint64_t)op->mem.disp;
		} else {
			return false;
		}
	}
	*v = r;
	return true;
}

/* Value of a 64-bit register or immediate operand (capstone Intel order). */
static struct pp_val pp_operand(const struct pp_state *s, const cs_x86_op *op)
{
	struct pp_val v = { 0 };
	bool full;
	int g;

	if (op->type == X86_OP_IMM) {
		v.kind = PPV_CONST;
		v.x = (uint64_t)op->imm;
	} else if (op->type == X86_OP_REG) {
		g = pp_gpr(op->reg, &full);
		if (g >= 0 && full)
			v = s->r[g];
	}
	return v;
}

static void pp_state_step(csh h, struct pp_state *s, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *dst = &x->operands[0], *src = &x->operands[1];
	struct pp_val v = { 0 };
	uint32_t w = pp_writes(h, in);
	bool full = false, known = false;
	int g = -1;

	if (x->op_count == 2 && dst->type == X86_OP_REG)
		g = pp_gpr(dst->reg, &full);
	if (g >= 0 && (in->id == X86_INS_MOV || in->id == X86_INS_MOVABS)) {
		if (src->type == X86_OP_IMM && (full || dst->size == 4)) {
			/* A 32-bit write zero-extends. */
			v.kind = PPV_CONST;
			v.x = full ? (uint64_t)src->imm : (uint32_t)src->imm;
			known = true;
		} else if (full && src->type == X86_OP_REG) {
			v = pp_operand(s, src);
			known = true;
		} else if (full && src->size == 8 && pp_mem_load(s, in, src, &v)) {
			known = true;
		}
	} else if (g >= 0 && full && in->id == X86_INS_LEA && pp_mem_load(s, in, src, &v) && !v.via) {
		/* lea computes the address pp_mem_load() would read from. */
		v.kind = PPV_CONST;
		known = true;
	}
	for (int i = 0; i < PP_NGPR; i++)
		if (w & PP_BIT(i))
			memset(&s->r[i], 0, sizeof(s->r[i]));
	if (known)
		s->r[g] = v;
}

/* A forward branch's state, waiting for the walk to reach its target. */
struct pp_pending {
	uint64_t target;
	struct pp_state st;
};

/* Called on each reachable instruction with the state before it: returns 1
 * when done (result stored in ctx), 0 to go on, or a negative errno. */
typedef int (*pp_visit_fn)(csh h, const cs_insn *in, enum pp_flow flow, const struct pp_state *s, void *ctx);

static int pp_walk(const uint8_t *code, size_t len, uint64_t vaddr, pp_visit_fn visit, void *ctx)
{
	struct pp_pending pend[PP_PENDING_MAX];
	const uint8_t *p = code;
	size_t left = len, npend = 0;
	uint64_t addr = vaddr, t;
	struct pp_state cur;
	cs_insn *in = NULL;
	int ret;
	csh h;

	ret = pp_open(&h, false);
	if (ret)
		return ret;
	in = cs_malloc(h);
	if (!in) {
		ret = -ENOMEM;
		goto cleanup;
	}
	pp_state_entry(&cur);
	ret = -ENOENT;
	for (int n = 0; n < PP_WALK_MAX && cs_disasm_iter(h, &p, &left, &addr, in); n++) {
		enum pp_flow flow;
		int r;

		for (size_t i = 0; i < npend;) {
			if (pend[i].target == in->address) {
				pp_state_merge(&cur, &pend[i].st);
				pend[i] = pend[--npend];
				continue;
			}
			/* Jumped into the middle of an instruction: not a stub we understand. */
			if (pend[i].target < in->address)
				goto cleanup;
			i++;
		}
		if (!cur.live) {
			if (!npend)
				break;
			continue;	/* padding or code reached only from elsewhere */
		}
		flow = pp_flow(h, in);
		r = visit(h, in, flow, &cur, ctx);
		if (r) {
			ret = r > 0 ? 0 : r;
			goto cleanup;
		}
		switch (flow) {
		case PP_FALL:
		case PP_CALL:
			pp_state_step(h, &cur, in);
			break;
		case PP_JCC:
		case PP_JMP:
			if (!pp_rel_target(h, in, &t))
				goto cleanup;
			if (t > in->address && t < vaddr + len) {
				if (npend == PP_PENDING_MAX)
					goto cleanup;
				pend[npend].target = t;
				pend[npend].st = cur;
				npend++;
			} else if (t >= vaddr && t <= in->address) {
				goto cleanup;	/* a loop: stubs have none */
			}
			/* Otherwise the path leaves the buffer (error return, cold part). */
			if (flow == PP_JMP)
				cur.live = false;
			break;
		case PP_JMP_IND:
		case PP_STOP:
			cur.live = false;
			break;
		}
	}
cleanup:
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return ret;
}

/* Where the entry value of argument `arg` is now, as a PROBEPLAN_NEED_* bit. */
static unsigned pp_arg_home(const struct pp_state *s, unsigned arg)
{
	static const struct {
		int gpr;
		unsigned need;
	} homes[] = {
		{ PP_RDI, PROBEPLAN_NEED_RDI },
		{ PP_RSI, PROBEPLAN_NEED_RSI },
		{ PP_RDX, PROBEPLAN_NEED_RDX },
	};

	for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++)
		if (s->r[homes[i].gpr].kind == PPV_ARG && s->r[homes[i].gpr].arg == arg)
			return homes[i].need;
	return 0;
}

static int pp_dispatch_visit(csh h, const cs_insn *in, enum pp_flow flow, const struct pp_state *s, void *ctx)
{
	struct probeplan_dispatch *d = ctx;
	const cs_x86_op *op = &in->detail->x86.operands[0];
	struct pp_val v;

	if (flow != PP_JMP_IND)
		return 0;
	if (op->type == X86_OP_REG)
		v = pp_operand(s, op);
	else if (!pp_mem_load(s, in, op, &v))
		return -ENOENT;
	if (v.kind != PPV_LOAD)
		return -ENOENT;
	d->slot_vaddr = v.x;
	d->slot_ptr_vaddr = v.via;
	d->arg0_reg = pp_arg_home(s, 0);
	d->arg1_reg = pp_arg_home(s, 1);
	return 1;
}

int probeplan_table_dispatch(const uint8_t *code, size_t len, uint64_t vaddr, struct probeplan_dispatch *out)
{
	struct probeplan_dispatch d = { 0 };
	int ret;

	if (!code || !out)
		return -EINVAL;
	ret = pp_walk(code, len, vaddr, pp_dispatch_visit, &d);
	if (ret)
		return ret;
	*out = d;
	return 0;
}

struct pp_guard {
	uint64_t slot, impl;
};

static int pp_guard_visit(csh h, const cs_insn *in, enum pp_flow flow, const struct pp_state *s, void *ctx)
{
	const cs_x86 *x = &in->detail->x86;
	struct pp_guard *g = ctx;
	struct pp_val a, b;

	if (in->id != X86_INS_CMP || x->op_count != 2)
		return 0;
	a = pp_operand(s, &x->operands[0]);
	b = pp_operand(s, &x->operands[1]);
	if (a.kind == PPV_CONST && b.kind == PPV_LOAD) {
		struct pp_val tmp = a;

		a = b;
		b = tmp;
	}
	/* A zero constant is a NULL check of the slot, not a devirtualization
	 * guard; a slot behind a pointer has no static address to report. */
	if (a.kind != PPV_LOAD || a.via || b.kind != PPV_CONST || !b.x)
		return 0;
	g->slot = a.x;
	g->impl = b.x;
	return 1;
}

int probeplan_hidden_impl(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t *slot_vaddr,
			  uint64_t *impl_vaddr)
{
	struct pp_guard g = { 0 };
	int ret;

	if (!code || !slot_vaddr || !impl_vaddr)
		return -EINVAL;
	ret = pp_walk(code, len, vaddr, pp_guard_visit, &g);
	if (ret)
		return ret;
	*slot_vaddr = g.slot;
	*impl_vaddr = g.impl;
	return 0;
}
