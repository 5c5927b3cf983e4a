/* SPDX-License-Identifier: MIT */
/*
 * pymalloc: how much memory the interpreter's small-object allocator holds,
 * read from outside.
 *
 * The question it answers: when memory outside the live objects grows, is it
 * pymalloc keeping arenas (freed objects whose pools are not returned) or
 * something else (native code)? pymalloc's bookkeeping says how many arenas
 * it has mapped and, per arena, how many of its pools are free: the
 * arena_object array.
 *
 * Where that array is depends on the version: static globals in obmalloc.c
 * up to 3.11 (found through .symtab, so stripped distribution builds do not
 * say), part of PyInterpreterState in 3.12, behind a pointer in it from 3.13
 * (offsets from the pyenv 3.12.1/3.13.0 headers; the pointer's position is
 * searched near the 3.13 value and accepted only when what it points at
 * holds together). Every candidate is validated: the count of arenas
 * pymalloc says it has must equal the arena_objects in use in the array.
 */
#ifndef LEAKD_PYMALLOC_H
#define LEAKD_PYMALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

#define PYMALLOC_MAX_ARENAS (1u << 22)	/* 4 TiB of 1 MiB arenas: larger counts are torn */

/* Where the allocator's arena bookkeeping is in one process. */
struct pymalloc_loc {
	uint64_t arenas;	/* address of `struct arena_object *arenas` */
	uint64_t maxarenas;	/* address of `uint maxarenas` */
	uint64_t narenas;	/* address of `size_t narenas_currently_allocated` */
	uint32_t arena_size, pool_size;
};

struct pymalloc_stats {
	uint64_t arenas;	/* arenas mapped */
	uint64_t arena_bytes;	/* arenas * arena size */
	uint64_t pools_used;	/* pools holding at least one block */
	uint64_t used_bytes;	/* pools_used * pool size: an upper bound on the blocks' bytes */
};

/* Geometry by version: 1 MiB arenas and 16 KiB pools from 3.10, 256 KiB and 4 KiB before. */
void pymalloc_geometry(const struct pylayout *l, struct pymalloc_loc *loc);

/*
 * From .symtab symbols (<=3.11): the runtime addresses of `arenas`,
 * `maxarenas` and `narenas_currently_allocated` (0 for one not found).
 * Returns 0 if the three are known and validate, -ENOENT if a symbol is
 * missing, -EPROTO if they do not validate, or a reader error.
 */
int pymalloc_locate_static(const struct memreader *m, const struct pylayout *l, uint64_t arenas,
			   uint64_t maxarenas, uint64_t narenas, struct pymalloc_loc *out);

/*
 * 3.12+: from the main interpreter (interp, as census_locate() finds it).
 * Returns 0, -ENOTSUP (another version), -EPROTO (no candidate validates),
 * or a reader error.
 */
int pymalloc_locate_interp(const struct memreader *m, const struct pylayout *l, uint64_t interp,
			   struct pymalloc_loc *out);

/* Reads the counts now. Returns 0, -EPROTO (torn or not what it was), or a
 * reader error. */
int pymalloc_read(const struct memreader *m, const struct pymalloc_loc *loc, struct pymalloc_stats *out);

#endif /* LEAKD_PYMALLOC_H */
