/* SPDX-License-Identifier: MIT */
/*
 * The census over a target's memory, which the target controls: the input
 * is a sparse memory image (memimage.h) whose header names the Python
 * version, hence the layout, and _PyRuntime's address. The GC state is
 * located and read, the generation lists walked, and what they reach
 * followed, as tracee_census does on a live process; memimage_census()
 * says which properties must hold whatever the bytes. The seeds
 * (tests/fuzz/corpus/census/) are images read from real processes, one
 * per interpreter and layout, by tests/fuzz/make_census_seeds.sh.
 */
#include "fuzz.h"
#include "memimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *violation = NULL;

	if (memimage_census(data, size, NULL, &violation) < 0) {
		fprintf(stderr, "fuzz_census: property failed: %s\n", violation);
		abort();
	}
	return 0;
}
