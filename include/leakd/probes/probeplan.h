/* SPDX-License-Identifier: MIT */
/*
 * Probe planner: decides, from a function's instruction bytes alone, where a
 * uprobe should sit so that the kernel emulates the probed instruction
 * (~0.7 us per hit on the project's VMs) instead of single-stepping it out
 * of line (~10 us), and recognises the two allocator shapes that hide the
 * real work behind a function pointer: a tail-jump stub through the
 * allocator table, and LTO's speculative devirtualization guard.
 *
 * Pure logic over byte buffers (capstone decodes them): no ELF, no /proc, no
 * logging. The caller reads the bytes from the binary, passes the vaddr they
 * were read from, logs once on failure, and re-checks the bytes per build-id.
 * All functions are reentrant; each call opens its own capstone handle.
 */
#ifndef LEAKD_PROBEPLAN_H
#define LEAKD_PROBEPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the probe on a spot needs to be true when it fires. */
enum {
	PROBEPLAN_NEED_RDI = 1u << 0,	/* entry value of %rdi (1st argument) still in %rdi */
	PROBEPLAN_NEED_RSI = 1u << 1,	/* entry value of %rsi (2nd argument) still in %rsi */
	PROBEPLAN_NEED_RDX = 1u << 2,	/* entry value of %rdx (3rd argument) still in %rdx */
	PROBEPLAN_RETPROBE = 1u << 3,	/* a uretprobe sits on the same spot: the kernel hijacks
					   *(%rsp), so %rsp must still equal its entry value */
};

struct probeplan_spot {
	uint32_t offset;	/* bytes from the function start; starts an instruction */
	bool emulated;		/* always true for a spot returned by probeplan_place() */
	char insn[64];		/* AT&T text for logs, e.g. "js 0x1af1f8" */
};

/*
 * Finds the first spot in the function's straight-line prefix (from code[0]
 * up to and including the first jmp/jcc/ret/indirect branch; direct and
 * indirect calls do not end the prefix but clobber the caller-saved
 * registers and %rsp) that:
 *   - is emulated (ppinsn_emulated());
 *   - has none of the NEED_* registers written by an earlier instruction,
 *     sub-registers included (%edi, %di, %dil, ...);
 *   - with PROBEPLAN_RETPROBE, has no earlier instruction writing %rsp
 *     (push, pop, sub, add, and, call, leave, ...);
 *   - has no direct branch target t with vaddr < t <= vaddr + offset, neither
 *     in forbidden[] (vaddrs found elsewhere: probeplan_branch_targets() over
 *     the whole function and its ".cold" part) nor among the branches of the
 *     prefix itself, so every call of the function passes it exactly once.
 * code holds the function's bytes as mapped at vaddr; len may cover only a
 * prefix of it. Returns 0 and fills *out, -ENOENT when there is no such spot
 * (the caller falls back to offset 0, single-stepped), -EINVAL on NULL
 * arguments, -ENOMEM if capstone cannot be opened. *out is untouched on
 * failure.
 */
int probeplan_place(const uint8_t *code, size_t len, uint64_t vaddr, unsigned needs,
		    const uint64_t *forbidden, size_t nforbidden, struct probeplan_spot *out);

/*
 * Collects the targets of direct branches (jmp/jcc/call/loop/jrcxz rel) in
 * code[] (mapped at vaddr) that land in [lo, hi), sorted ascending without
 * duplicates, into out[0..max). The sweep is linear and resynchronises byte by
 * byte after undecodable bytes, so data mixed into code can only add spurious
 * targets, which makes probeplan_place() more cautious, never less.
 * Returns 0 and sets *n, -ENOSPC if more than max distinct targets exist (out
 * then holds an unspecified subset, *n is untouched), -EINVAL, -ENOMEM.
 */
int probeplan_branch_targets(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t lo, uint64_t hi,
			     uint64_t *out, size_t max, size_t *n);

/*
 * A stub that tail-jumps through an allocator table, e.g. pyenv 3.11
 * PyObject_Free:
 *   mov %rdi,%rsi ; mov _PyObject(%rip),%rdi ; jmp *_PyObject+0x20(%rip)
 * or through a register loaded from the table (mov slot(%rip),%rax ... jmp
 * *%rax), or, pyenv 3.12+, through a pointer fetched from the GOT:
 *   mov _PyRuntime@GOTPCREL(%rip),%rax ; ... ; jmp *0xb8(%rax)
 * Forward conditional branches inside code[0..len) are followed and their
 * register states merged (Calloc's overflow check); paths leaving the buffer
 * (return NULL) are ignored. Pass the function's own size as len.
 *   slot_ptr_vaddr == 0: the function-pointer slot is at slot_vaddr.
 *   slot_ptr_vaddr != 0: the slot is at *(uint64_t *)slot_ptr_vaddr +
 *     slot_vaddr (slot_ptr_vaddr is typically the GOT entry of _PyRuntime,
 *     slot_vaddr then the offset of e.g. allocators.standard.obj.malloc).
 *   arg0_reg / arg1_reg: where the caller's 1st / 2nd argument (entry %rdi /
 *     %rsi) lives when the target is entered, as PROBEPLAN_NEED_RDI/RSI/RDX,
 *     or 0 if it is in none of them.
 * Returns 0 and fills *out, -ENOENT if the prefix is not such a stub,
 * -EINVAL, -ENOMEM. *out is untouched on failure.
 */
struct probeplan_dispatch {
	uint64_t slot_vaddr;
	uint64_t slot_ptr_vaddr;
	unsigned arg0_reg;
	unsigned arg1_reg;
};
int probeplan_table_dispatch(const uint8_t *code, size_t len, uint64_t vaddr, struct probeplan_dispatch *out);

/*
 * LTO speculative devirtualization (Debian python3.11 PyObject_Malloc):
 *   mov obj.malloc(%rip),%rax ; ... ; cmp $_PyObject_Malloc,%rax ; jne indirect
 * The first compare, within the first 32 reachable instructions, of a value
 * loaded from a fixed address (rip-relative or absolute) against a nonzero
 * constant (an immediate, or a register set by lea/mov $imm) gives the slot
 * (*slot_vaddr) and the hidden static implementation (*impl_vaddr). Guards
 * inlined into other entry points are found as well (Debian 3.11
 * _PyObject_GC_New and PyType_GenericAlloc start with PyObject_Malloc's,
 * PyObject_GC_Del with PyObject_Free's), which can serve as a cross-check.
 * Returns 0, -ENOENT if there is no such guard, -EINVAL, -ENOMEM.
 * Out-parameters are untouched on failure.
 */
int probeplan_hidden_impl(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t *slot_vaddr,
			  uint64_t *impl_vaddr);

#endif /* LEAKD_PROBEPLAN_H */
