// SPDX-License-Identifier: MIT
/*
 * pyrefs_locals: the names of a code object's local slots and where a
 * suspended frame's value stack is (pyrefs.h), kept apart from the referent
 * decoders: a frame's slots are decoded there, and named here for the holder
 * paths (holdroots, holdpath). Before 3.11 the names are co_varnames, then
 * cellvars, then freevars; from 3.11 one tuple, co_localsplusnames.
 */
#include <errno.h>
#include <string.h>

#include "leakd/python/pyrefs.h"
#include "leakd/python/typetab.h"

int pyrefs_frame_names(const struct memreader *m, const struct pylayout *l, uint64_t code,
		       struct pyrefs_names *out)
{
	const uint32_t offs[3] = { l->co_localsnames, l->co_cellvars, l->co_freevars };

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 3; i++) {
		uint64_t n;
		int r;

		if (!offs[i])
			continue;
		r = memreader_read_u64(m, code + offs[i], &out->tuples[i]);
		if (!r && !memreader_ptr_ok(out->tuples[i]))
			r = -EFAULT;
		if (!r)
			r = memreader_read_u64(m, out->tuples[i] + l->ob_size, &n);
		if (!r && n > PYREFS_MAX_LOCALS)
			r = -EFAULT;
		if (r < 0)
			return r;
		out->len[i] = n;
		out->total += n;
	}
	return out->total <= PYREFS_MAX_LOCALS ? 0 : -EFAULT;
}

int pyrefs_frame_name(const struct memreader *m, const struct pylayout *l, const struct pyrefs_names *nm,
		      uint64_t i, uint64_t *str)
{
	for (int k = 0; k < 3; k++) {
		if (i < nm->len[k])
			return memreader_read_u64(m, nm->tuples[k] + l->tuple_items + 8 * i, str);
		i -= nm->len[k];
	}
	return -ENOENT;
}

int pyrefs_frame_stack(const struct memreader *m, const struct pylayout *l, uint64_t frame, uint64_t nlocals,
		       uint64_t *base, uint64_t *count)
{
	uint64_t top = 0;
	int32_t n = 0;
	int8_t state = 0;
	int r = 0;

	*base = frame + l->frame_localsplus + 8 * nlocals;	/* 3.11+: right after the locals */
	*count = 0;
	switch (l->frame_stack_kind) {
	case PYLAYOUT_STACK_TOP_PTR:
		if (l->frame_valuestack)
			r = memreader_read_u64(m, frame + l->frame_valuestack, base);
		if (!r)
			r = memreader_read_u64(m, frame + l->frame_stack, &top);
		if (r || !top)
			return r;	/* <= 3.9: NULL while the frame runs */
		if (top < *base || (top - *base) % 8)
			return -EFAULT;
		*count = (top - *base) / 8;
		break;
	case PYLAYOUT_STACK_DEPTH:
		r = memreader_read(m, frame + l->frame_state, &state, 1);
		if (r || state != -1)
			return r;	/* only a suspended 3.10 frame keeps its depth */
		r = memreader_read_u64(m, frame + l->frame_valuestack, base);
		if (!r)
			r = memreader_read(m, frame + l->frame_stack, &n, sizeof(n));
		if (r || n < 0)
			return r ? r : -EFAULT;
		*count = (uint64_t)n;
		break;
	case PYLAYOUT_STACK_TOP_INDEX:
		r = memreader_read(m, frame + l->frame_stack, &n, sizeof(n));
		if (r || n < 0 || (uint64_t)n < nlocals)
			return r ? r : -EFAULT;
		*count = (uint64_t)n - nlocals;
		break;
	default:
		return 0;
	}
	return *count > PYREFS_MAX_STACK ? -EFAULT : 0;
}
