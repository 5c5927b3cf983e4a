/* SPDX-License-Identifier: MIT */
/*
 * A sparse memory image of a Python process: the bytes a census read from a
 * real target (tests/fuzz/make_census_seed.c writes them), replayed through a
 * memreader, and the census over it with the properties that must hold
 * whatever the bytes: shared by the census fuzz target (fuzz_census.c) and
 * the unit test that runs the same images and every regression input
 * (test_census_images.c). Header only, no Criterion, so both can include it.
 *
 * Format, little-endian, no padding:
 *   header  "LDMI", u8 major, u8 minor, u16 micro, u64 runtime_addr  (16 bytes)
 *   then segments until the end: u64 addr, u32 len, len bytes
 * A read is answered when one segment holds all of it, else -EFAULT, like
 * unmapped memory. Parsing never trusts a length: a segment that runs past
 * the end stops the list there.
 */
#ifndef LEAKD_TEST_MEMIMAGE_H
#define LEAKD_TEST_MEMIMAGE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "leakd/census/census.h"
#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

#define MEMIMAGE_HDR 16
#define MEMIMAGE_SEG_HDR 12
#define MEMIMAGE_MAX_SEGS 65536

struct memimage_seg {
	uint64_t addr;
	uint32_t len;
	const uint8_t *bytes;	/* into the input: the image does not copy it */
};

struct memimage {
	int major, minor, micro;
	uint64_t runtime_addr;
	struct memimage_seg *seg;	/* sorted by addr */
	size_t n;
};

static inline int memimage_cmp(const void *a, const void *b)
{
	const struct memimage_seg *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Returns 0 and *im (memimage_free() it), -EINVAL not an image, -ENOMEM. */
static inline int memimage_parse(const uint8_t *data, size_t size, struct memimage *im)
{
	size_t off = MEMIMAGE_HDR, cap = 0;
	uint16_t micro;

	memset(im, 0, sizeof(*im));
	if (size < MEMIMAGE_HDR || memcmp(data, "LDMI", 4))
		return -EINVAL;
	im->major = data[4];
	im->minor = data[5];
	memcpy(&micro, data + 6, 2);
	im->micro = micro;
	memcpy(&im->runtime_addr, data + 8, 8);
	while (size - off >= MEMIMAGE_SEG_HDR && im->n < MEMIMAGE_MAX_SEGS) {
		struct memimage_seg s;

		memcpy(&s.addr, data + off, 8);
		memcpy(&s.len, data + off + 8, 4);
		off += MEMIMAGE_SEG_HDR;
		if (s.len > size - off || s.addr + s.len < s.addr)
			break;
		s.bytes = data + off;
		off += s.len;
		if (im->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct memimage_seg *ns = realloc(im->seg, ncap * sizeof(*ns));

			if (!ns) {
				free(im->seg);
				im->seg = NULL;
				return -ENOMEM;
			}
			im->seg = ns;
			cap = ncap;
		}
		im->seg[im->n++] = s;
	}
	if (im->n)
		qsort(im->seg, im->n, sizeof(*im->seg), memimage_cmp);
	return 0;
}

static inline void memimage_free(struct memimage *im)
{
	free(im->seg);
	im->seg = NULL;
	im->n = 0;
}

static inline int memimage_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct memimage *im = ctx;
	size_t lo = 0, hi = im->n;

	/* the last segment starting at or before addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (im->seg[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -EFAULT;
	{
		const struct memimage_seg *s = &im->seg[lo - 1];

		if (addr - s->addr > s->len || len > s->len - (addr - s->addr))
			return -EFAULT;
		memcpy(buf, s->bytes + (addr - s->addr), len);
	}
	return 0;
}

static inline struct memreader memimage_reader(struct memimage *im)
{
	return (struct memreader){ .read = memimage_read, .ctx = im };
}

/* What the census may answer about memory it cannot trust (census.h). */
static inline int memimage_census_error_ok(int err)
{
	return err == 0 || err == -ENOENT || err == -EPROTO || err == -EFAULT || err == -ENOMEM;
}

#define MEMIMAGE_MAX_STEPS 20000
#define MEMIMAGE_CHECK(cond)                                    \
	do {                                                    \
		if (!(cond)) {                                  \
			*violation = #cond;                     \
			goto out;                               \
		}                                               \
	} while (0)

/*
 * The census over an image as tracee_census runs it on a live process: GC
 * state, list walk (at most MEMIMAGE_MAX_STEPS nodes), reach. Writes
 * "COUNT TYPE" lines to counts (may be NULL) when the census completes.
 * Returns 1 censused (or refused with an error its contract names), 0 not
 * an image or no layout for its version, -1 a property failed: *violation
 * names it.
 */
static inline int memimage_census(const uint8_t *data, size_t size, FILE *counts, const char **violation)
{
	struct census_limits lim = {
		.max_steps = MEMIMAGE_MAX_STEPS,
		.reachable = true,
		.heap = { .max_objects = 4 * MEMIMAGE_MAX_STEPS, .max_stack = 256, .max_set_bytes = 1u << 20 },
	};
	struct census c = { 0 };
	struct memimage im;
	struct memreader m;
	struct pylayout l;
	struct pygc_state gs;
	int err, ret = -1;

	if (memimage_parse(data, size, &im))
		return 0;
	if (im.major != 3 || pylayout_for_version(3, im.minor, im.micro, &l) || !l.known) {
		memimage_free(&im);
		return 0;
	}
	m = memimage_reader(&im);
	err = census_gc_state(&m, &l, im.runtime_addr, &gs);
	MEMIMAGE_CHECK(memimage_census_error_ok(err) || (err == -EINVAL && !im.runtime_addr));
	err = census_walk(&m, &l, im.runtime_addr, &lim, &c);
	MEMIMAGE_CHECK(memimage_census_error_ok(err) || (err == -EINVAL && !im.runtime_addr));
	if (!err) {
		MEMIMAGE_CHECK(c.steps <= MEMIMAGE_MAX_STEPS);
		if (c.pending) {
			err = census_reach(&m, &c);
			MEMIMAGE_CHECK(memimage_census_error_ok(err));
		}
	}
	if (!err) {
		uint64_t by_type = 0;

		MEMIMAGE_CHECK(c.tracked_objects <= c.steps);
		MEMIMAGE_CHECK(c.objects == c.tracked_objects + c.untracked_objects);
		MEMIMAGE_CHECK(c.untracked_objects <= lim.heap.max_objects);
		for (size_t i = 0; i < c.ntypes; i++) {
			by_type += c.types[i].objects;
			if (counts)
				fprintf(counts, "%llu %s\n", (unsigned long long)c.types[i].objects, c.types[i].name);
		}
		MEMIMAGE_CHECK(by_type == c.objects);
	}
	ret = 1;
out:
	census_free(&c);
	memimage_free(&im);
	return ret;
}

#endif
