// SPDX-License-Identifier: MIT
/*
 * typetab: per-census table of validated, classified type objects (see
 * typetab.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/python/typetab.h"

#define MAX_BASE_HOPS 32	/* tp_base chain; real hierarchies are a few deep */
#define MAX_META_HOPS 4		/* metatype chain to the `type` fixed point */
#define MAX_MEMBERS 64		/* PyMemberDef entries read per type */
#define MEMBER_SIZE 40		/* sizeof(PyMemberDef) */
#define T_OBJECT 6
#define T_OBJECT_EX 16

/* Builtins whose instances the heap walk decodes, by tp_name. Only static
 * types are matched by name: a heap type's tp_name is whatever its class
 * statement said. */
static const struct {
	const char *name;
	enum pykind kind;
} typetab_builtins[] = {
	{ "list", PYK_LIST }, { "tuple", PYK_TUPLE }, { "dict", PYK_DICT },
	{ "set", PYK_SET }, { "frozenset", PYK_SET }, { "str", PYK_STR },
	{ "bytes", PYK_BYTES }, { "bytearray", PYK_BYTEARRAY }, { "int", PYK_INT },
	{ "bool", PYK_INT }, { "float", PYK_FLOAT }, { "cell", PYK_CELL },
	{ "function", PYK_FUNCTION }, { "method", PYK_METHOD },
	{ "collections.deque", PYK_DEQUE }, { "module", PYK_MODULE }, { "type", PYK_TYPE },
	{ "generator", PYK_GEN }, { "coroutine", PYK_GEN }, { "async_generator", PYK_GEN },
	{ "frame", PYK_FRAME },
};

void typetab_init(struct typetab *tt, const struct memreader *m, const struct pylayout *l)
{
	memset(tt, 0, sizeof(*tt));
	tt->m = m;
	tt->l = l;
}

void typetab_release(struct typetab *tt)
{
	for (size_t i = 0; i < tt->nblocks; i++)
		free(tt->blocks[i]);
	free(tt->blocks);
	free(tt->tab);
	memset(tt, 0, sizeof(*tt));
}

static size_t typetab_hash(uint64_t a)
{
	a >>= 3;
	a *= 0x9e3779b97f4a7c15ull;
	return (size_t)(a >> 20);
}

static int typetab_grow(struct typetab *tt)
{
	size_t ncap = tt->cap ? tt->cap * 2 : 1024;
	struct typetab_entry **nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < tt->cap; i++) {
		size_t j;

		if (!tt->tab[i])
			continue;
		for (j = typetab_hash(tt->tab[i]->addr) & (ncap - 1); nt[j]; j = (j + 1) & (ncap - 1))
			;
		nt[j] = tt->tab[i];
	}
	free(tt->tab);
	tt->tab = nt;
	tt->cap = ncap;
	return 0;
}

/* A zeroed entry from the block allocator: entries never move, so callers
 * may hold a pointer across later lookups. */
static struct typetab_entry *typetab_new_entry(struct typetab *tt)
{
	if (tt->used % TYPETAB_BLOCK == 0) {
		struct typetab_entry **nb, *b;

		nb = realloc(tt->blocks, (tt->nblocks + 1) * sizeof(*nb));
		if (!nb)
			return NULL;
		tt->blocks = nb;
		b = calloc(TYPETAB_BLOCK, sizeof(*b));
		if (!b)
			return NULL;
		tt->blocks[tt->nblocks++] = b;
	}
	return &tt->blocks[tt->used / TYPETAB_BLOCK][tt->used % TYPETAB_BLOCK];
}

/* A reader error that says nothing about the pointer being read. */
static bool typetab_hard(int r)
{
	return r < 0 && r != -EFAULT;
}

/* Short tp_name of a static type, for the builtin match; "" if unreadable.
 * A C string has no alignment, and may end just before an unmapped page. */
static void typetab_static_name(const struct typetab *tt, uint64_t type, char *buf, size_t len)
{
	uint64_t p = 0;

	memset(buf, 0, len);
	if (memreader_read_u64(tt->m, type + tt->l->tp_name, &p) || !memreader_addr_ok(p))
		return;
	for (size_t want = len - 1; want >= 4; want /= 2)
		if (!memreader_read(tt->m, p, buf, want))
			break;
	buf[len - 1] = '\0';
}

/* Member i of the PyMemberDef array at mem: 1 with its name pointer, type
 * and offset, 0 at the end of the array or when unreadable. */
static int typetab_member(const struct memreader *m, uint64_t mem, int i, uint64_t *name, int32_t *mtype,
			  uint64_t *off)
{
	unsigned char md[MEMBER_SIZE];

	if (i >= MAX_MEMBERS || memreader_read(m, mem + (uint64_t)i * MEMBER_SIZE, md, sizeof(md)))
		return 0;
	memcpy(name, md, 8);
	memcpy(mtype, md + 8, 4);
	memcpy(off, md + 16, 8);
	return *name != 0;
}

/* __slots__ object members declared by the heap type at type. */
static void typetab_members(const struct typetab *tt, uint64_t type, struct typetab_entry *e)
{
	uint64_t mem, name, off;
	int32_t mtype;

	if (memreader_read_u64(tt->m, type + tt->l->tp_members, &mem) || !memreader_ptr_ok(mem))
		return;
	for (int i = 0; e->nslots < TYPETAB_MAX_SLOTS && typetab_member(tt->m, mem, i, &name, &mtype, &off); i++)
		if ((mtype == T_OBJECT || mtype == T_OBJECT_EX) && off >= 16 && off + 8 <= e->basicsize &&
		    !(off & 7))
			e->slot_off[e->nslots++] = (uint16_t)off;
}

int typetab_slot_name(const struct memreader *m, const struct pylayout *l, uint64_t type, uint64_t off,
		      char *buf, size_t len)
{
	for (int hop = 0; hop < MAX_BASE_HOPS && memreader_ptr_ok(type); hop++) {
		uint64_t mem, name, moff;
		int32_t mtype;

		if (!memreader_read_u64(m, type + l->tp_members, &mem) && memreader_ptr_ok(mem))
			for (int i = 0; typetab_member(m, mem, i, &name, &mtype, &moff); i++) {
				/* object members only: "__weaklistoffset__" and the like
				 * describe a field, they are not one */
				if (moff != off || (mtype != T_OBJECT && mtype != T_OBJECT_EX) ||
				    !memreader_ptr_ok(name & ~7ull))
					continue;
				memset(buf, 0, len);
				for (size_t want = len - 1; want >= 4; want /= 2)
					if (!memreader_read(m, name, buf, want))
						break;
				buf[len - 1] = '\0';
				return buf[0] ? 0 : -ENOENT;
			}
		if (memreader_read_u64(m, type + l->tp_base, &type))
			break;
	}
	return -ENOENT;
}

/* The builtin kind a type's own tp_name names, or -1. */
static int typetab_builtin_kind(const struct typetab *tt, uint64_t type)
{
	char name[24];

	typetab_static_name(tt, type, name, sizeof(name));
	/* "weakref", "weakproxy", "weakcallableproxy" up to 3.11,
	 * "weakref.ReferenceType" and "weakref.*ProxyType" from 3.12 */
	if (!strncmp(name, "weak", 4))
		return PYK_WEAKREF;
	for (size_t i = 0; i < sizeof(typetab_builtins) / sizeof(typetab_builtins[0]); i++)
		if (!strcmp(name, typetab_builtins[i].name))
			return typetab_builtins[i].kind;
	return !strcmp(name, "object") ? PYK_OTHER : -1;
}

/* Kind from the first builtin in the base chain; slots from the heap types
 * before it. A builtin is a static type, or (3.12+: collections.deque) an
 * immutable heap type built from a C spec, named with its module: a class
 * statement makes neither. */
static void typetab_classify(const struct typetab *tt, uint64_t type, struct typetab_entry *e)
{
	uint64_t t = type;

	for (int hop = 0; hop < MAX_BASE_HOPS && memreader_ptr_ok(t); hop++) {
		uint64_t flags;

		if (memreader_read_u64(tt->m, t + tt->l->tp_flags, &flags))
			return;
		if (!(flags & PYLAYOUT_TPFLAGS_HEAPTYPE) || (flags & PYLAYOUT_TPFLAGS_IMMUTABLETYPE)) {
			int kind = typetab_builtin_kind(tt, t);

			if (kind >= 0) {
				e->kind = (uint8_t)kind;
				return;
			}
		}
		if (flags & PYLAYOUT_TPFLAGS_HEAPTYPE)
			typetab_members(tt, t, e);
		if (memreader_read_u64(tt->m, t + tt->l->tp_base, &t))
			return;
	}
}

/* Reads and checks a type; returns 0 (e->valid says the outcome) or a hard
 * reader error. */
static int typetab_validate(const struct typetab *tt, uint64_t addr, struct typetab_entry *e)
{
	const struct pylayout *l = tt->l;
	uint64_t v[3], meta = addr, next;
	int r;

	if (!memreader_ptr_ok(addr))
		return 0;
	r = memreader_read(tt->m, addr + l->tp_basicsize, &v[0], 16);
	if (!r)
		r = memreader_read_u64(tt->m, addr + l->tp_flags, &v[2]);
	if (r < 0)
		return typetab_hard(r) ? r : 0;
	if (v[0] < 16 || v[0] >= (1u << 20) || v[1] >= (1u << 16) || !(v[2] & PYLAYOUT_TPFLAGS_READY))
		return 0;
	/* A type's type is a type, whose type ... reaches `type`, its own type. */
	for (int hop = 0;; hop++) {
		if (hop == MAX_META_HOPS)
			return 0;
		r = memreader_read_u64(tt->m, meta + l->ob_type, &next);
		if (r < 0)
			return typetab_hard(r) ? r : 0;
		if (next == meta)
			break;
		if (!memreader_ptr_ok(next))
			return 0;
		meta = next;
	}
	e->basicsize = v[0];
	e->itemsize = v[1];
	e->flags = v[2];
	if (memreader_read(tt->m, addr + l->tp_dictoffset, &e->dictoffset, 8))
		e->dictoffset = 0;
	if (memreader_read(tt->m, addr + l->tp_weaklistoffset, &e->weaklistoffset, 8))
		e->weaklistoffset = 0;
	typetab_classify(tt, addr, e);
	e->valid = true;
	return 0;
}

struct typetab_entry *typetab_get(struct typetab *tt, uint64_t addr, int *err)
{
	struct typetab_entry *e;
	size_t j;

	*err = 0;
	if (tt->cap) {
		for (j = typetab_hash(addr) & (tt->cap - 1); tt->tab[j]; j = (j + 1) & (tt->cap - 1))
			if (tt->tab[j]->addr == addr)
				return tt->tab[j];
	}
	if (tt->used >= TYPETAB_MAX_TYPES || !addr)
		return NULL;
	if ((tt->used + 1) * 2 > tt->cap) {
		*err = typetab_grow(tt);
		if (*err < 0)
			return NULL;
	}
	for (j = typetab_hash(addr) & (tt->cap - 1); tt->tab[j]; j = (j + 1) & (tt->cap - 1))
		;
	e = typetab_new_entry(tt);
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = typetab_validate(tt, addr, e);
	if (*err < 0) {
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	e->addr = addr;
	tt->tab[j] = e;
	tt->used++;
	return e;
}
