/* SPDX-License-Identifier: MIT */
/*
 * The one way leakd modules read another process's memory.
 *
 * Code that walks interpreter data structures (census, layouts, type names)
 * takes a struct memreader instead of a pid, so that unit tests can hand it a
 * byte buffer that plays the part of a target and production code can hand it
 * a cached process_vm_readv reader (remote.h). The contract is all-or-nothing:
 * a read either fills all `len` bytes and returns 0, or returns -errno and the
 * buffer content is unspecified.
 *   -EFAULT  some byte of [addr, addr+len) is not mapped in the target
 *   -ESRCH   the target is gone
 *   -EPERM   not allowed to read it
 */
#ifndef LEAKD_MEMREADER_H
#define LEAKD_MEMREADER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memreader {
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
	/* Optional: the bytes as they are now, past any cache. A reader that
	 * caches a running target serves a header read a second ago; a walker
	 * that finds it stale (a list's item array moved) asks again here. */
	int (*read_fresh)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* Optional: drop what the reader caches, for a walker that goes on
	 * reading after the target has run on (memreader_invalidate). */
	void (*invalidate)(void *ctx);
};

/*
 * Whether a value read from the target could be an address in its user
 * space, the one rule every walker applies before following a pointer:
 *  - not in the first page (NULL, and small integers misread as pointers:
 *    Linux never maps page 0, mmap_min_addr is at least 4096);
 *  - below 0x7ffffffff000, the end of x86-64 user space with 4-level page
 *    tables (the kernel keeps the last page below 2^47 unmapped as a
 *    guard; kernel addresses and non-canonical values lie above);
 *  - for memreader_ptr_ok, 8-byte aligned: every object, type object, list
 *    node and pointer array of the interpreter is at least 8-aligned, so an
 *    unaligned value is not a pointer to one. Byte data (a char * such as
 *    tp_name) takes memreader_addr_ok, which does not ask for alignment.
 */
#define MEMREADER_USER_MIN 0x1000ull
#define MEMREADER_USER_END 0x7ffffffff000ull

static inline bool memreader_addr_ok(uint64_t p)
{
	return p >= MEMREADER_USER_MIN && p < MEMREADER_USER_END;
}

static inline bool memreader_ptr_ok(uint64_t p)
{
	return memreader_addr_ok(p) && (p & 7) == 0;
}

/* Returns 0 when all `len` bytes were read, -errno otherwise. */
static inline int memreader_read(const struct memreader *m, uint64_t addr, void *buf, size_t len)
{
	if (!m || !m->read)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	return m->read(m->ctx, addr, buf, len);
}

/* As memreader_read(), past the reader's cache if it has one. */
static inline int memreader_read_fresh(const struct memreader *m, uint64_t addr, void *buf, size_t len)
{
	if (!m || !m->read_fresh)
		return memreader_read(m, addr, buf, len);
	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	return m->read_fresh(m->ctx, addr, buf, len);
}

/* Drops the reader's cache, if it has one: later reads see the target now. */
static inline void memreader_invalidate(const struct memreader *m)
{
	if (m && m->invalidate)
		m->invalidate(m->ctx);
}

/* Convenience: one little-endian pointer-sized word. */
static inline int memreader_read_u64(const struct memreader *m, uint64_t addr, uint64_t *out)
{
	uint64_t v;
	int r = memreader_read(m, addr, &v, sizeof(v));

	if (r < 0)
		return r;
	*out = v;
	return 0;
}

#endif /* LEAKD_MEMREADER_H */
