/* SPDX-License-Identifier: MIT */
/*
 * typetab: the type objects one census meets, each read, validated and
 * classified once, with the per-type counts of that census.
 *
 * A census sees millions of objects but hundreds to thousands of types, so
 * everything the walk needs to know about a type (sizes, flags, which
 * builtin container it is or derives from, where its instances keep
 * __dict__ and __slots__) is read the first time the type is met and kept in
 * an open-addressing table keyed by the type's address. A pointer that is
 * not a ready type object with sane sizes whose metatype chain ends at
 * `type` is remembered as invalid, so garbage is rejected once and cheaply.
 */
#ifndef LEAKD_TYPETAB_H
#define LEAKD_TYPETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

#define TYPETAB_MAX_TYPES (1u << 20)	/* distinct types; beyond: the caller's "(other)" */
#define TYPETAB_BLOCK 1024
#define TYPETAB_MAX_SLOTS 8		/* __slots__ object members followed per type */

/* What an object is, for the walk: the builtin its type is or derives from. */
enum pykind {
	PYK_OTHER = 0,
	PYK_LIST, PYK_TUPLE, PYK_DICT, PYK_SET,
	PYK_STR, PYK_BYTES, PYK_BYTEARRAY, PYK_INT, PYK_FLOAT,
	PYK_CELL, PYK_FUNCTION, PYK_METHOD, PYK_DEQUE, PYK_MODULE, PYK_TYPE,
	PYK_GEN,	/* generator, coroutine, async generator: a suspended frame's locals */
	PYK_FRAME,	/* <= 3.10 frame object (a generator's frame) */
	PYK_WEAKREF,	/* weakref.ref and its proxies: they hold nothing */
};

struct typetab_entry {
	uint64_t addr;			/* 0: empty slot */
	uint64_t objects, bytes;	/* counted by this census */
	uint64_t gens[4];		/* of objects, on generation 0-2's and the permanent list */
	uint64_t basicsize, itemsize, flags;
	int64_t dictoffset;		/* tp_dictoffset (-1 for managed dicts on 3.11+) */
	int64_t weaklistoffset;		/* tp_weaklistoffset: a list of weakrefs, not held */
	uint16_t slot_off[TYPETAB_MAX_SLOTS];	/* __slots__ object members, from the base chain */
	uint8_t nslots;
	uint8_t kind;			/* enum pykind */
	bool valid;			/* a ready type with sane sizes */
};

struct typetab {
	const struct memreader *m;
	const struct pylayout *l;
	struct typetab_entry **tab;	/* open addressing by address */
	size_t cap, used;
	struct typetab_entry **blocks;	/* the entries, TYPETAB_BLOCK a block: they never move */
	size_t nblocks;
};

/* Iterates over every entry, in the order they were added. */
#define typetab_foreach(tt, e) \
	for (size_t _i = 0; _i < (tt)->used && ((e) = &(tt)->blocks[_i / TYPETAB_BLOCK][_i % TYPETAB_BLOCK]); _i++)

/* Binds an empty table to a reader and a layout. */
void typetab_init(struct typetab *tt, const struct memreader *m, const struct pylayout *l);
void typetab_release(struct typetab *tt);

/*
 * The entry of the type at addr, read and classified if new; the pointer
 * stays valid until typetab_release(). Returns NULL
 * with *err == 0 when the table is full (count the object as "other"), NULL
 * with *err < 0 on -ENOMEM or a reader error that is not about this pointer
 * (-ESRCH, -EPERM). An invalid type yields an entry with valid == false.
 */
struct typetab_entry *typetab_get(struct typetab *tt, uint64_t addr, int *err);

/* The name of the __slots__ member at offset off of instances of type (its
 * own or a base's), into buf. Returns 0 or -ENOENT. */
int typetab_slot_name(const struct memreader *m, const struct pylayout *l, uint64_t type, uint64_t off,
		      char *buf, size_t len);

#endif /* LEAKD_TYPETAB_H */
