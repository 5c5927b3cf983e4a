/* SPDX-License-Identifier: MIT */
/*
 * The holder search over a target's memory, which the target controls: the
 * input is a memory image mapped at IMAGE_BASE (the first byte picks the
 * layout: 3.8, 3.11, 3.12 or 3.13). Words 1-7 are the GC's tracked objects
 * (with IMAGE_BASE + 64 as the first), word 1 is also _PyRuntime (the thread
 * roots), and the types queried are those of the first two tracked objects.
 * Whatever the bytes, the search ends, never reads outside the image except
 * through the reader (which refuses), keeps no more objects than allowed,
 * and names every path it reports. Seeds: the heap walk's (make_heap_seed.py).
 */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "leakd/holders/holders.h"
#include "leakd/python/pylayout.h"

#define IMAGE_BASE FUZZ_IMAGE_BASE
#define MAX_NODES 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int minors[] = { 8, 11, 12, 13 };
	static struct holders_result r;
	struct fuzz_image im = { data, size };
	struct memreader m = { .read = fuzz_image_read, .ctx = &im };
	struct holders_query q = { .max_nodes = MAX_NODES, .gc_enabled = true, .seed = 1 };
	uint64_t tracked[8] = { IMAGE_BASE + 64 }, w;
	struct pylayout l;
	int err;

	if (size < 96)
		return 0;
	FUZZ_REQUIRE(pylayout_for_version(3, minors[data[0] & 3], 0, &l) == 0);
	for (int i = 1; i < 8; i++) {
		memcpy(&w, data + 8 * i, 8);
		tracked[i] = w;
	}
	q.tracked = tracked;
	q.ntracked = 8;
	q.runtime = tracked[1];
	memcpy(&q.types[0], data + 64 + l.ob_type, 8);
	if (tracked[1] >= IMAGE_BASE && tracked[1] - IMAGE_BASE + 16 <= size)
		memcpy(&q.types[1], data + (tracked[1] - IMAGE_BASE) + l.ob_type, 8);
	q.names[0] = "a";
	q.names[1] = "b";
	q.ntypes = 2;
	err = holders_find(&m, &l, &q, &r);
	FUZZ_REQUIRE(err == 0 || err == -ENOMEM);
	if (err)
		return 0;
	FUZZ_REQUIRE(r.nodes <= MAX_NODES);
	for (size_t t = 0; t < r.ntypes; t++) {
		FUZZ_REQUIRE(r.types[t].sampled <= HOLDERS_SAMPLES && r.types[t].npaths <= HOLDERS_PATHS);
		for (size_t p = 0; p < r.types[t].npaths; p++) {
			FUZZ_REQUIRE(r.types[t].paths[p].nsteps >= 1 && r.types[t].paths[p].nsteps <= HOLDERS_STEPS);
			FUZZ_REQUIRE(memchr(r.types[t].paths[p].text, 0, HOLDERS_TEXT_MAX) != NULL);
		}
	}
	return 0;
}
