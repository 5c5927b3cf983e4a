// SPDX-License-Identifier: MIT
/*
 * remote: process_vm_readv with a direct-mapped block cache (see remote.h).
 *
 * Each slot holds one 64 KiB block, the generation it was filled in (so that
 * invalidation is O(1)) and a bitmap of which of its pages were readable.
 * A read is served from the cache when every page it touches is valid,
 * answered -EFAULT without a syscall when one of them is known to be
 * unmapped, and otherwise the block is (re)fetched. Reads bigger than the
 * whole cache bypass it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "leakd/process/remote.h"

#define REMOTE_PAGE 4096u
#define REMOTE_PAGES_PER_BLOCK (REMOTE_BLOCK_SIZE / REMOTE_PAGE)

_Static_assert(REMOTE_PAGES_PER_BLOCK <= 32, "page bitmap is 32 bits");

struct remote_slot {
	uint64_t base;		/* block address (aligned to REMOTE_BLOCK_SIZE) */
	uint64_t gen;		/* valid iff == remote.gen */
	uint32_t readable;	/* bit i: page i was read */
};

struct remote {
	pid_t pid;
	size_t nslots;		/* power of two, or 0 (no cache) */
	struct remote_slot *slots;
	uint8_t *data;		/* nslots * REMOTE_BLOCK_SIZE */
	uint64_t gen;
	struct remote_stats st;
};

/* Blocks in a cache of at most cache_bytes: a power of two, or 0. */
static size_t remote_slots_for(size_t cache_bytes)
{
	size_t n = 0;

	if (cache_bytes >= REMOTE_BLOCK_SIZE) {
		n = 1;
		while (n * 2 * REMOTE_BLOCK_SIZE <= cache_bytes)
			n *= 2;
	}
	return n;
}

int remote_resize(struct remote *r, size_t cache_bytes)
{
	size_t n = remote_slots_for(cache_bytes);
	struct remote_slot *slots = NULL;
	uint8_t *data = NULL;

	if (!r)
		return -EINVAL;
	if (n == r->nslots)
		return 0;
	if (n) {
		slots = calloc(n, sizeof(*slots));
		data = malloc(n * REMOTE_BLOCK_SIZE);
		if (!slots || !data) {
			free(slots);
			free(data);
			return -ENOMEM;
		}
		/* Fault the pages in now: the first walk runs with the target
		 * stopped, and must not pay for leakd's own page faults. A
		 * volatile store per page: malloc+memset(0) is turned into a
		 * calloc that touches nothing. */
		for (size_t off = 0; off < n * REMOTE_BLOCK_SIZE; off += REMOTE_PAGE)
			((volatile uint8_t *)data)[off] = 1;
	}
	free(r->slots);
	free(r->data);
	r->slots = slots;
	r->data = data;
	r->nslots = n;
	r->gen++;
	return 0;
}

size_t remote_cache_bytes(const struct remote *r)
{
	return r ? r->nslots * REMOTE_BLOCK_SIZE : 0;
}

int remote_new(pid_t pid, size_t cache_bytes, struct remote **out)
{
	struct remote *r;
	int err;

	if (pid <= 0 || !out)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->pid = pid;
	r->gen = 1;
	err = remote_resize(r, cache_bytes);
	if (err) {
		remote_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void remote_free(struct remote *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r->data);
	free(r);
}

pid_t remote_pid(const struct remote *r)
{
	return r ? r->pid : 0;
}

void remote_invalidate(struct remote *r)
{
	if (r)
		r->gen++;
}

void remote_stats(const struct remote *r, struct remote_stats *out)
{
	if (r && out)
		*out = r->st;
}

/* One syscall. Returns bytes read (may be short) or -errno. */
static ssize_t remote_sys(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec rem = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	r->st.syscalls++;
	n = process_vm_readv(r->pid, &local, 1, &rem, 1, 0);
	if (n < 0)
		return -errno;
	r->st.bytes += (uint64_t)n;
	return n;
}

static int remote_exact(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = remote_sys(r, addr, buf, len);

	if (n < 0)
		return (int)n;
	if ((size_t)n != len) {
		r->st.faults++;
		return -EFAULT;
	}
	return 0;
}

/*
 * Fill slot s with the block at base. The whole block in one call is the
 * common case; on a short or failed read, retry page by page so the
 * readable pages still get cached. -ESRCH/-EPERM are not about the block and
 * are returned as they are.
 */
static int remote_fill(struct remote *r, struct remote_slot *s, uint8_t *data, uint64_t base)
{
	ssize_t n;

	r->st.misses++;
	s->base = base;
	s->gen = r->gen;
	s->readable = 0;
	n = remote_sys(r, base, data, REMOTE_BLOCK_SIZE);
	if (n == (ssize_t)REMOTE_BLOCK_SIZE) {
		s->readable = (uint32_t)((1ull << REMOTE_PAGES_PER_BLOCK) - 1);
		return 0;
	}
	if (n < 0 && n != -EFAULT) {
		s->gen = 0;
		return (int)n;
	}
	if (n < 0)
		n = 0;
	/* A short read still delivered whole pages from the start. */
	for (unsigned i = 0; i < REMOTE_PAGES_PER_BLOCK; i++) {
		uint64_t pa = base + (uint64_t)i * REMOTE_PAGE;
		ssize_t m;

		if ((uint64_t)n >= (uint64_t)(i + 1) * REMOTE_PAGE) {
			s->readable |= 1u << i;
			continue;
		}
		m = remote_sys(r, pa, data + (size_t)i * REMOTE_PAGE, REMOTE_PAGE);
		if (m == (ssize_t)REMOTE_PAGE)
			s->readable |= 1u << i;
		else if (m < 0 && m != -EFAULT) {
			s->gen = 0;
			return (int)m;
		}
	}
	return 0;
}

int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (!r || (!buf && len))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	if (r->nslots == 0 || len > r->nslots * REMOTE_BLOCK_SIZE / 2)
		return remote_exact(r, addr, buf, len);

	while (len > 0) {
		uint64_t base = addr & ~(uint64_t)(REMOTE_BLOCK_SIZE - 1);
		size_t off = (size_t)(addr - base);
		size_t chunk = REMOTE_BLOCK_SIZE - off;
		size_t idx = (size_t)(addr / REMOTE_BLOCK_SIZE) & (r->nslots - 1);
		struct remote_slot *s = &r->slots[idx];
		uint8_t *data = r->data + idx * REMOTE_BLOCK_SIZE;
		unsigned p0, p1;
		uint32_t need;

		if (chunk > len)
			chunk = len;
		if (s->gen != r->gen || s->base != base) {
			int err = remote_fill(r, s, data, base);

			if (err < 0)
				return err;
		} else {
			r->st.hits++;
		}
		p0 = (unsigned)(off / REMOTE_PAGE);
		p1 = (unsigned)((off + chunk - 1) / REMOTE_PAGE);
		need = (uint32_t)(((1ull << (p1 + 1)) - 1) & ~((1ull << p0) - 1));
		if ((s->readable & need) != need) {
			r->st.faults++;
			return -EFAULT;
		}
		memcpy(out, data + off, chunk);
		out += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

static int remote_reader_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return remote_read(ctx, addr, buf, len);
}

static int remote_reader_fresh(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return remote_exact(ctx, addr, buf, len);
}

static void remote_reader_invalidate(void *ctx)
{
	remote_invalidate(ctx);
}

struct memreader remote_reader(struct remote *r)
{
	return (struct memreader){ .read = remote_reader_read, .ctx = r, .read_fresh = remote_reader_fresh,
				   .invalidate = remote_reader_invalidate };
}

struct memreader remote_reader_uncached(struct remote *r)
{
	return (struct memreader){ .read = remote_reader_fresh, .ctx = r, .read_fresh = remote_reader_fresh };
}

int remote_warm(struct remote *r, uint64_t addr, uint64_t len)
{
	static uint8_t sink[REMOTE_BLOCK_SIZE];

	if (!r)
		return -EINVAL;
	for (uint64_t a = addr & ~(uint64_t)(REMOTE_BLOCK_SIZE - 1); a < addr + len; a += REMOTE_BLOCK_SIZE) {
		ssize_t n = remote_sys(r, a, sink, REMOTE_BLOCK_SIZE);

		if (n == -ESRCH || n == -EPERM)
			return (int)n;
	}
	return 0;
}
