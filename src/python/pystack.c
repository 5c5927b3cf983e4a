// SPDX-License-Identifier: MIT
/*
 * pystack: pylayout -> walker configuration, captured frames -> source lines
 * (see pystack.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/python/pystack.h"

int pystack_conf(const struct pylayout *l, uint64_t runtime, struct leakd_pyconf *out)
{
	struct leakd_pyconf c;
	const uint32_t small[] = {
		l ? l->ts_next : 0, l ? l->ts_native_thread_id : 0, l ? l->ts_frame : 0,
		l ? l->cframe_frame : 0, l ? l->frame_code : 0, l ? l->frame_back : 0,
		l ? l->frame_instr : 0, l ? l->frame_owner : 0, l ? l->co_code_adaptive : 0,
	};

	if (!l || !out || !runtime)
		return -EINVAL;
	if (!l->known || !l->stack_known)
		return -ENOTSUP;
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++)
		if (small[i] > UINT16_MAX)
			return -EINVAL;
	/* The thread list needs native thread ids (3.11+); older versions have
	 * the GIL holder in _PyRuntime instead. */
	if (!l->rt_tstate_current && !l->ts_native_thread_id)
		return -ENOTSUP;
	memset(&c, 0, sizeof(c));
	c.runtime = runtime;
	c.code_mask = l->frame_code_mask;
	c.rt_tstate_current = l->rt_tstate_current;
	c.rt_interp_head = l->rt_interp_head;
	c.interp_threads_head = l->interp_threads_head;
	c.ts_next = (uint16_t)l->ts_next;
	c.ts_native_thread_id = (uint16_t)l->ts_native_thread_id;
	c.ts_frame = (uint16_t)l->ts_frame;
	c.cframe_frame = (uint16_t)l->cframe_frame;
	c.frame_code = (uint16_t)l->frame_code;
	c.frame_back = (uint16_t)l->frame_back;
	c.frame_instr = (uint16_t)l->frame_instr;
	c.frame_owner = (uint16_t)l->frame_owner;
	c.co_code_adaptive = (uint16_t)l->co_code_adaptive;
	c.flags = l->ts_frame_via_cframe ? LEAKD_PYCONF_VIA_CFRAME : 0;
	c.owner_skip = l->frame_owner_skip;
	switch (l->frame_instr_kind) {
	case PYLAYOUT_INSTR_LASTI_BYTES: c.instr_kind = LEAKD_INSTR_LASTI_BYTES; break;
	case PYLAYOUT_INSTR_LASTI_UNITS: c.instr_kind = LEAKD_INSTR_LASTI_UNITS; break;
	case PYLAYOUT_INSTR_PTR: c.instr_kind = LEAKD_INSTR_PTR; break;
	default: return -EINVAL;
	}
	*out = c;
	return 0;
}

int pystack_conf_sampling(const struct pylayout *l, uint64_t runtime, uint64_t sample_bytes,
			  struct leakd_pyconf *out)
{
	int err = pystack_conf(l, runtime, out);

	if (!err)
		out->sample_bytes = sample_bytes;
	return err;
}

int pystack_symbolize(struct codeobj_cache *c, const struct memreader *m,
		      const struct leakd_stack_event *e, struct pystack_frame *out, size_t cap, bool *cut)
{
	size_t n = 0, nframes;
	bool ended = e && (e->flags & (LEAKD_STACK_TRUNCATED | LEAKD_STACK_BAD_READ));

	if (!c || !m || !e || (!out && cap))
		return -EINVAL;
	nframes = e->nframes < LEAKD_MAX_PYFRAMES ? e->nframes : LEAKD_MAX_PYFRAMES;
	for (size_t i = 0; i < nframes && n < cap; i++) {
		const struct leakd_pyframe *f = &e->frames[i];
		const struct codeobj *co;
		struct pystack_frame *o = &out[n];
		int err, line = 0;

		err = codeobj_cache__get(c, m, f->code, &co);
		if (err == -ESRCH || err == -EPERM)
			return err;
		if (err == -ENOTSUP)
			continue;	/* not code: a frame that runs none (3.13+ Py_None) */
		if (err < 0) {
			ended = true;
			break;
		}
		o->code = f->code;
		snprintf(o->qualname, sizeof(o->qualname), "%s", co->qualname);
		snprintf(o->filename, sizeof(o->filename), "%s", co->filename);
		if (f->offset == LEAKD_PYFRAME_NO_OFFSET || codeobj_line(co, f->offset, &line) < 0)
			line = f->offset == LEAKD_PYFRAME_NO_OFFSET ? co->firstlineno : 0;
		o->line = line;
		n++;
	}
	if (n == cap && n < nframes)
		ended = true;
	if (cut)
		*cut = ended;
	return (int)n;
}
