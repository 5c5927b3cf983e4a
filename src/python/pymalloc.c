// SPDX-License-Identifier: MIT
/*
 * pymalloc: the small-object allocator's arenas, read from outside (see
 * pymalloc.h).
 */
#include <errno.h>
#include <string.h>

#include "leakd/python/pymalloc.h"

#define ARENA_OBJ_SIZE 48	/* struct arena_object, 3.8-3.13 */
#define ARENA_OBJ_NFREE 16	/* uint nfreepools */
#define ARENA_OBJ_NTOTAL 20	/* uint ntotalpools */
#define CHUNK 64		/* arena_objects read at once */

/* 3.12+: struct _obmalloc_state's mgmt, and what it holds. */
#define STATE_MGMT 512
#define MGMT_ARENAS 0
#define MGMT_MAXARENAS 8
#define MGMT_NARENAS 552
#define INTERP_OBMALLOC_312 3960	/* inline in PyInterpreterState */
#define INTERP_OBMALLOC_313 10800	/* a pointer in PyInterpreterState */
#define SEARCH_WINDOW 512		/* bytes either side of it searched on 3.13+ builds */

void pymalloc_geometry(const struct pylayout *l, struct pymalloc_loc *loc)
{
	bool big = l->major > 3 || l->minor >= 10;

	loc->arena_size = big ? 1u << 20 : 1u << 18;
	loc->pool_size = big ? 1u << 14 : 1u << 12;
}

/* Walks the arena_object array; -EPROTO unless its arenas in use number
 * exactly narenas. */
static int pymalloc_walk(const struct memreader *m, uint64_t arenas, uint32_t maxarenas, uint64_t narenas,
			 struct pymalloc_stats *st)
{
	uint8_t buf[CHUNK * ARENA_OBJ_SIZE];
	uint64_t in_use = 0, used = 0;

	if (maxarenas > PYMALLOC_MAX_ARENAS || narenas > maxarenas || (arenas & 7) || (maxarenas && !arenas))
		return -EPROTO;
	for (uint32_t i = 0; i < maxarenas; i += CHUNK) {
		uint32_t k = maxarenas - i < CHUNK ? maxarenas - i : CHUNK;
		int r = memreader_read(m, arenas + (uint64_t)i * ARENA_OBJ_SIZE, buf, (size_t)k * ARENA_OBJ_SIZE);

		if (r < 0)
			return r == -EFAULT ? -EPROTO : r;
		for (uint32_t j = 0; j < k; j++) {
			const uint8_t *a = buf + (size_t)j * ARENA_OBJ_SIZE;
			uint64_t address;
			uint32_t nfree, ntotal;

			memcpy(&address, a, 8);
			memcpy(&nfree, a + ARENA_OBJ_NFREE, 4);
			memcpy(&ntotal, a + ARENA_OBJ_NTOTAL, 4);
			if (!address)
				continue;	/* an unused arena_object */
			if (nfree > ntotal || ntotal > 4096)
				return -EPROTO;
			in_use++;
			used += ntotal - nfree;
		}
	}
	if (in_use != narenas)
		return -EPROTO;
	st->arenas = in_use;
	st->pools_used = used;
	return 0;
}

int pymalloc_read(const struct memreader *m, const struct pymalloc_loc *loc, struct pymalloc_stats *out)
{
	struct pymalloc_stats st = { 0 };
	uint64_t arenas, narenas;
	uint32_t maxarenas;
	int r;

	r = memreader_read_u64(m, loc->arenas, &arenas);
	if (!r)
		r = memreader_read(m, loc->maxarenas, &maxarenas, sizeof(maxarenas));
	if (!r)
		r = memreader_read_u64(m, loc->narenas, &narenas);
	if (!r)
		r = pymalloc_walk(m, arenas, maxarenas, narenas, &st);
	if (r < 0)
		return r == -EFAULT ? -EPROTO : r;
	st.arena_bytes = st.arenas * loc->arena_size;
	st.used_bytes = st.pools_used * loc->pool_size;
	*out = st;
	return 0;
}

int pymalloc_locate_static(const struct memreader *m, const struct pylayout *l, uint64_t arenas,
			   uint64_t maxarenas, uint64_t narenas, struct pymalloc_loc *out)
{
	struct pymalloc_loc loc = { .arenas = arenas, .maxarenas = maxarenas, .narenas = narenas };
	struct pymalloc_stats st;
	int r;

	if (!arenas || !maxarenas || !narenas)
		return -ENOENT;
	pymalloc_geometry(l, &loc);
	r = pymalloc_read(m, &loc, &st);
	if (r < 0)
		return r;
	*out = loc;
	return 0;
}

/* The mgmt block of an _obmalloc_state at state, if it validates. */
static int pymalloc_try_state(const struct memreader *m, const struct pylayout *l, uint64_t state,
			      struct pymalloc_loc *out)
{
	struct pymalloc_loc loc = {
		.arenas = state + STATE_MGMT + MGMT_ARENAS,
		.maxarenas = state + STATE_MGMT + MGMT_MAXARENAS,
		.narenas = state + STATE_MGMT + MGMT_NARENAS,
	};
	struct pymalloc_stats st;
	int r;

	pymalloc_geometry(l, &loc);
	r = pymalloc_read(m, &loc, &st);
	if (r < 0)
		return r;
	/* A running interpreter has at least one arena: an all-zero block
	 * would validate trivially. */
	if (!st.arenas)
		return -EPROTO;
	*out = loc;
	return 0;
}

int pymalloc_locate_interp(const struct memreader *m, const struct pylayout *l, uint64_t interp,
			   struct pymalloc_loc *out)
{
	if (l->major != 3 || l->minor < 12)
		return -ENOTSUP;
	if (l->minor == 12)
		return pymalloc_try_state(m, l, interp + INTERP_OBMALLOC_312, out);
	/* 3.13+: a pointer, whose place moves with patches to earlier fields
	 * (Debian's GC-head alignment patch, 3.14's additions): search near it. */
	for (int d = 0; d <= SEARCH_WINDOW; d += 8) {
		for (int sign = 1; sign >= -1; sign -= 2) {
			uint64_t p;
			int r;

			if (d == 0 && sign < 0)
				continue;
			r = memreader_read_u64(m, interp + INTERP_OBMALLOC_313 + sign * d, &p);
			if (r == -ESRCH || r == -EPERM)
				return r;
			if (r < 0 || !p || (p & 7) || p >= (1ull << 47))
				continue;
			r = pymalloc_try_state(m, l, p, out);
			if (r == -ESRCH || r == -EPERM)
				return r;
			if (!r)
				return 0;
		}
	}
	return -EPROTO;
}
