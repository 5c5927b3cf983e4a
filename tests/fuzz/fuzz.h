/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets in tests/fuzz/ (make fuzz): each file is
 * one parser of input a target process or a file controls, driven with
 * arbitrary bytes under ASan+UBSan. A property that must hold whatever the
 * input aborts, so libFuzzer keeps the input as a crash.
 */
#ifndef LEAKD_FUZZ_H
#define LEAKD_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_REQUIRE(cond)                                                           \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                    \
			abort();                                                     \
		}                                                                    \
	} while (0)

/* data as a NUL-terminated string (stops at an embedded NUL); free() it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A target's memory as the fuzzer's bytes, mapped at FUZZ_IMAGE_BASE: a
 * memreader callback that refuses anything outside them. */
#define FUZZ_IMAGE_BASE 0x10000000ull

struct fuzz_image {
	const uint8_t *data;
	size_t size;
};

static inline int fuzz_image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct fuzz_image *im = ctx;

	if (addr < FUZZ_IMAGE_BASE || addr - FUZZ_IMAGE_BASE > im->size || len > im->size - (addr - FUZZ_IMAGE_BASE))
		return -14;	/* -EFAULT */
	memcpy(buf, im->data + (addr - FUZZ_IMAGE_BASE), len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
