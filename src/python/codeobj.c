// SPDX-License-Identifier: MIT
/*
 * codeobj: read and cache code objects of a target (see codeobj.h).
 *
 * The cache is direct-mapped by address: a process has thousands of code
 * objects but a sampled window sees few of them, and a collision only costs
 * one re-read. Each lookup costs one header read (the remote reader's block
 * cache usually serves it); a miss adds two str reads and one bytes read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/python/codeobj.h"
#include "leakd/python/pyname.h"

#define CODEOBJ_HDR_MAX 256u	/* every identity field of every version lies below */

struct codeobj_cache {
	struct pylayout l;
	struct codeobj *slots;
	size_t mask;
	uint64_t code_type;	/* the interpreter's PyCode_Type, once seen */
	uint32_t hdr_len;
	struct codeobj_stats stats;
};

static uint64_t codeobj_hdr_u64(const uint8_t *hdr, uint32_t off)
{
	uint64_t v;

	memcpy(&v, hdr + off, sizeof(v));
	return v;
}

static int32_t codeobj_hdr_i32(const uint8_t *hdr, uint32_t off)
{
	int32_t v;

	memcpy(&v, hdr + off, sizeof(v));
	return v;
}

int codeobj_cache__new(const struct pylayout *l, size_t capacity, struct codeobj_cache **out)
{
	struct codeobj_cache *c;
	size_t n = 1;
	uint32_t end = 0;
	const uint32_t offs[] = { l ? l->ob_type : 0, l ? l->co_argcount : 0,
				  l ? l->co_firstlineno : 0, l ? l->co_filename : 0,
				  l ? l->co_name : 0, l ? l->co_qualname : 0,
				  l ? l->co_linetable : 0 };

	if (!l || !out || !l->stack_known || !linetable_kind_for_version(l->major, l->minor))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (offs[i] + 8 > end)
			end = offs[i] + 8;
	if (end > CODEOBJ_HDR_MAX)
		return -EINVAL;
	if (capacity == 0)
		capacity = CODEOBJ_DEFAULT_CAPACITY;
	if (capacity > (1u << 20))
		return -EINVAL;
	while (n < capacity)
		n <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->slots = calloc(n, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return -ENOMEM;
	}
	c->l = *l;
	c->mask = n - 1;
	c->hdr_len = end;
	*out = c;
	return 0;
}

void codeobj_cache__free(struct codeobj_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i <= c->mask; i++)
		free(c->slots[i].table);
	free(c->slots);
	free(c);
}

void codeobj_cache__stats(const struct codeobj_cache *c, struct codeobj_stats *out)
{
	if (c && out)
		*out = c->stats;
}

/* FNV-1a over the identity fields: what changes when the address is reused. */
static uint64_t codeobj_sum(const struct codeobj_cache *c, const uint8_t *hdr)
{
	const struct pylayout *l = &c->l;
	uint64_t words[7] = {
		codeobj_hdr_u64(hdr, l->ob_type),
		(uint64_t)(uint32_t)codeobj_hdr_i32(hdr, l->co_argcount),
		(uint64_t)(uint32_t)codeobj_hdr_i32(hdr, l->co_firstlineno),
		codeobj_hdr_u64(hdr, l->co_filename),
		codeobj_hdr_u64(hdr, l->co_name),
		l->co_qualname ? codeobj_hdr_u64(hdr, l->co_qualname) : 0,
		codeobj_hdr_u64(hdr, l->co_linetable),
	};
	uint64_t h = 0xcbf29ce484222325ull;
	const uint8_t *p = (const uint8_t *)words;

	for (size_t i = 0; i < sizeof(words); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Is `type` the interpreter's code type? Decided once by its tp_name. */
static int codeobj_type_ok(struct codeobj_cache *c, const struct memreader *m, uint64_t type)
{
	uint64_t name;
	char buf[5];
	int err;

	if (!memreader_ptr_ok(type))
		return -EINVAL;
	if (c->code_type)
		return type == c->code_type ? 0 : -ENOTSUP;
	err = memreader_read_u64(m, type + c->l.tp_name, &name);
	if (err < 0)
		return err;
	if (!memreader_addr_ok(name))
		return -EINVAL;
	err = memreader_read(m, name, buf, sizeof(buf));
	if (err < 0)
		return err;
	if (memcmp(buf, "code", 5) != 0)
		return -ENOTSUP;
	c->code_type = type;
	return 0;
}

/* The bytes object at addr, copied into a new buffer of at most CODEOBJ_TABLE_MAX. */
static int codeobj_read_bytes(const struct codeobj_cache *c, const struct memreader *m, uint64_t addr,
			      uint8_t **out, size_t *len)
{
	uint64_t size;
	uint8_t *buf;
	int err;

	if (!memreader_ptr_ok(addr))
		return -EINVAL;
	err = memreader_read_u64(m, addr + c->l.bytes_size, &size);
	if (err < 0)
		return err;
	if (size > CODEOBJ_TABLE_MAX)
		return -EINVAL;
	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	err = memreader_read(m, addr + c->l.bytes_data, buf, size);
	if (err < 0) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = size;
	return 0;
}

/* Reads everything about the code object whose header is hdr into *co. */
static int codeobj_fill(const struct codeobj_cache *c, const struct memreader *m, uint64_t addr,
			const uint8_t *hdr, struct codeobj *co)
{
	const struct pylayout *l = &c->l;
	uint64_t qual = l->co_qualname ? codeobj_hdr_u64(hdr, l->co_qualname) : codeobj_hdr_u64(hdr, l->co_name);
	int n, err;

	memset(co, 0, sizeof(*co));
	co->addr = addr;
	co->firstlineno = codeobj_hdr_i32(hdr, l->co_firstlineno);
	if (co->firstlineno < 0)
		return -EINVAL;
	co->kind = linetable_kind_for_version(l->major, l->minor);
	n = pyname_str(m, l, qual, co->qualname, sizeof(co->qualname));
	if (n < 0)
		return n;
	n = pyname_str(m, l, codeobj_hdr_u64(hdr, l->co_filename), co->filename, sizeof(co->filename));
	if (n < 0)
		return n;
	err = codeobj_read_bytes(c, m, codeobj_hdr_u64(hdr, l->co_linetable), &co->table, &co->table_len);
	if (err < 0)
		return err;
	co->sum = codeobj_sum(c, hdr);
	return 0;
}

int codeobj_cache__get(struct codeobj_cache *c, const struct memreader *m, uint64_t addr,
		       const struct codeobj **out)
{
	uint8_t hdr[CODEOBJ_HDR_MAX];
	struct codeobj fresh, *slot;
	uint64_t sum;
	int err;

	if (!c || !m || !out)
		return -EINVAL;
	if (!memreader_ptr_ok(addr))
		return -EINVAL;
	err = memreader_read(m, addr, hdr, c->hdr_len);
	if (err < 0)
		return err;
	err = codeobj_type_ok(c, m, codeobj_hdr_u64(hdr, c->l.ob_type));
	if (err < 0)
		return err;
	sum = codeobj_sum(c, hdr);
	slot = &c->slots[(addr >> 4) * 0x9e3779b97f4a7c15ull >> 32 & c->mask];
	if (slot->addr == addr && slot->sum == sum) {
		c->stats.hits++;
		*out = slot;
		return 0;
	}
	if (slot->addr == addr)
		c->stats.reused++;
	c->stats.misses++;
	err = codeobj_fill(c, m, addr, hdr, &fresh);
	if (err < 0) {
		free(fresh.table);
		return err;
	}
	free(slot->table);
	*slot = fresh;
	*out = slot;
	return 0;
}

int codeobj_line(const struct codeobj *co, uint32_t offset, int *line)
{
	if (!co)
		return -EINVAL;
	return linetable_line(co->kind, co->table, co->table_len, co->firstlineno, offset, line);
}
