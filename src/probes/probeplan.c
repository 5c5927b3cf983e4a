// SPDX-License-Identifier: MIT
/*
 * Probe planner: where to put an allocation/free uprobe inside a function so
 * that the kernel emulates the probed instruction instead of single-stepping
 * it, and how to see through the allocator stubs that tail-jump through a
 * function-pointer table or guard a devirtualized call.
 *
 * Everything here is pure logic over instruction bytes decoded with capstone
 * 4.0.2; the caller supplies the bytes and the vaddr they were read from.
 * What one instruction does (registers written, control flow, emulated or
 * not) is ppinsn's; this file walks entry prefixes and tracks data flow.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "leakd/probes/ppinsn.h"
#include "leakd/probes/probeplan.h"

/* A function's straight-line entry prefix is a handful of instructions; the
 * bound only protects against feeding a huge buffer of straight code. */
#define PP_PREFIX_MAX 64
/* Allocator stubs and devirtualization guards sit in the first dozen or so
 * instructions; looking further only invites false matches. */
#define PP_WALK_MAX 32
#define PP_PENDING_MAX 8


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

	ret = ppinsn_open(&h, true, &in);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (int n = 0; n < PP_PREFIX_MAX && cs_disasm_iter(h, &p, &left, &addr, in); n++) {
		uint64_t off = in->address - vaddr;
		enum ppinsn_flow flow = ppinsn_flow(h, in);

		/* The prefix's own branches count too (a loop back into it). */
		if (ppinsn_rel_target(h, in, &t) && t > vaddr && t - vaddr < limit)
			limit = t - vaddr;
		if (off >= limit)
			break;
		if (!(written & guard) && ppinsn_emulated_bytes(code + off, in->size)) {
			out->offset = (uint32_t)off;
			out->emulated = true;
			/* Bounded to fit: an overlong operand text is cut, it is only for logs. */
			snprintf(out->insn, sizeof(out->insn), "%.15s%s%.46s", in->mnemonic,
				 in->op_str[0] ? " " : "", in->op_str);
			ret = 0;
			goto cleanup;
		}
		written |= ppinsn_writes(h, in);
		if (flow != PP_FALL && flow != PP_CALL)
			break;
	}
cleanup:
	ppinsn_close(&h, in);
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
	ret = ppinsn_open(&h, false, &in);
	if (ret)
		return ret;
	while (left > 0) {
		size_t lo_i = 0, hi_i;

		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			/* Not code (or capstone does not know it): resync on the next byte. */
			p++;
			left--;
			addr++;
			continue;
		}
		if (!ppinsn_rel_target(h, in, &t) || t < lo || t >= hi)
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
	ppinsn_close(&h, in);
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
		g = ppinsn_gpr(op->mem.base, &full);
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
		g = ppinsn_gpr(op->reg, &full);
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
	uint32_t w = ppinsn_writes(h, in);
	bool full = false, known = false;
	int g = -1;

	if (x->op_count == 2 && dst->type == X86_OP_REG)
		g = ppinsn_gpr(dst->reg, &full);
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
typedef int (*pp_visit_fn)(csh h, const cs_insn *in, enum ppinsn_flow flow, const struct pp_state *s, void *ctx);

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

	ret = ppinsn_open(&h, false, &in);
	if (ret)
		return ret;
	pp_state_entry(&cur);
	ret = -ENOENT;
	for (int n = 0; n < PP_WALK_MAX && cs_disasm_iter(h, &p, &left, &addr, in); n++) {
		enum ppinsn_flow flow;
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
		flow = ppinsn_flow(h, in);
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
			if (!ppinsn_rel_target(h, in, &t))
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
	ppinsn_close(&h, in);
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

static int pp_dispatch_visit(csh h, const cs_insn *in, enum ppinsn_flow flow, const struct pp_state *s, void *ctx)
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

static int pp_guard_visit(csh h, const cs_insn *in, enum ppinsn_flow flow, const struct pp_state *s, void *ctx)
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
