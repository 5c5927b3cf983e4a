// SPDX-License-Identifier: MIT
/*
 * pystack tests: the walker configuration derived from each version's layout,
 * and how symbolisation ends a stack it cannot read. The walk itself is
 * proven on live interpreters by tests/integration/pystack.sh.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "leakd/python/pystack.h"

Test(pystack, conf_per_version)
{
	for (int minor = 8; minor <= 14; minor++) {
		struct pylayout l;
		struct leakd_pyconf c;

		cr_assert_eq(pylayout_for_version(3, minor, 0, &l), 0);
		cr_assert_eq(pystack_conf(&l, 0x7f0000001000ull, &c), 0, "3.%d", minor);
		cr_assert_eq(c.runtime, 0x7f0000001000ull);
		cr_assert_eq(c.rt_tstate_current, l.rt_tstate_current);
		cr_assert_eq(c.ts_frame, l.ts_frame);
		cr_assert_eq(c.frame_back, l.frame_back);
		cr_assert_eq(c.frame_instr, l.frame_instr);
		cr_assert_eq(c.co_code_adaptive, l.co_code_adaptive);
		cr_assert_eq(!!(c.flags & LEAKD_PYCONF_VIA_CFRAME), minor == 11 || minor == 12, "3.%d", minor);
		cr_assert_eq(c.instr_kind, minor <= 9 ? LEAKD_INSTR_LASTI_BYTES :
			     minor == 10 ? LEAKD_INSTR_LASTI_UNITS : LEAKD_INSTR_PTR, "3.%d", minor);
		cr_assert_eq(c.code_mask, minor == 14 ? ~3ull : ~0ull, "3.%d", minor);
		/* 3.12+ find the thread by its native id in the thread list. */
		if (!c.rt_tstate_current)
			cr_assert(c.ts_native_thread_id && c.interp_threads_head, "3.%d", minor);
	}
}

Test(pystack, conf_refuses_what_it_cannot_walk)
{
	struct pylayout l;
	struct leakd_pyconf c = { .runtime = 42 };

	cr_assert_eq(pylayout_for_version(3, 7, 16, &l), 0);
	cr_assert_eq(pystack_conf(&l, 0x1000, &c), -ENOTSUP);
	cr_assert_eq(pylayout_for_version(3, 11, 2, &l), 0);
	cr_assert_eq(pystack_conf(&l, 0, &c), -EINVAL);
	l.free_threaded = true;
	l.known = false;
	cr_assert_eq(pystack_conf(&l, 0x1000, &c), -ENOTSUP);
	cr_assert_eq(c.runtime, 42, "untouched on failure");
}

static int read_fault(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return -EFAULT;
}

static int read_gone(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return -ESRCH;
}

Test(pystack, unreadable_frames_end_the_stack)
{
	struct pylayout l;
	struct codeobj_cache *cache;
	struct memreader fault = { .read = read_fault }, gone = { .read = read_gone };
	static struct leakd_stack_event e;
	static struct pystack_frame out[LEAKD_MAX_PYFRAMES];

	cr_assert_eq(pylayout_for_version(3, 11, 2, &l), 0);
	cr_assert_eq(codeobj_cache__new(&l, 0, &cache), 0);
	memset(&e, 0, sizeof(e));
	e.ev.kind = LEAKD_EV_STACK;
	e.nframes = 3;
	for (int i = 0; i < 3; i++)
		e.frames[i].code = 0x7f0000100000ull + 0x1000ull * i;
	bool cut = false;

	cr_assert_eq(pystack_symbolize(cache, &fault, &e, out, LEAKD_MAX_PYFRAMES, &cut), 0);
	cr_assert(cut, "an unreadable frame ends the stack and says so");
	cr_assert_eq(pystack_symbolize(cache, &gone, &e, out, LEAKD_MAX_PYFRAMES, NULL), -ESRCH);
	e.nframes = 255;	/* corrupt count: bounded by the array, not trusted */
	cr_assert_eq(pystack_symbolize(cache, &fault, &e, out, LEAKD_MAX_PYFRAMES, NULL), 0);
	cr_assert_eq(pystack_symbolize(NULL, &fault, &e, out, 1, NULL), -EINVAL);
	codeobj_cache__free(cache);
}
