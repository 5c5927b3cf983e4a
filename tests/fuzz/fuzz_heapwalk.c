/* SPDX-License-Identifier: MIT */
/*
 * The heap walk over a target's memory, which the target controls: the
 * input is a memory image mapped at IMAGE_BASE (the first byte picks the
 * layout: 3.8, 3.11, 3.12 or 3.13), the object at IMAGE_BASE + 64 is handed
 * to the walk as a tracked object of the type its header names. Whatever
 * the bytes, the walk ends (bounded by its limits), never reads outside the
 * image except through the reader (which refuses), and counts no more
 * objects than it was allowed. tests/fuzz/make_heap_seed.py writes the seed:
 * a real-looking 3.11 heap (a list of tuples of str and float, a dict, a
 * self-referencing tuple).
 */
#include <errno.h>

#include "fuzz.h"
#include "leakd/census/heapwalk.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/typetab.h"

#define IMAGE_BASE FUZZ_IMAGE_BASE
#define MAX_OBJECTS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int minors[] = { 8, 11, 12, 13 };
	struct fuzz_image im = { data, size };
	struct memreader m = { .read = fuzz_image_read, .ctx = &im };
	struct heapwalk_limits lim = { .max_objects = MAX_OBJECTS, .max_stack = 64, .max_set_bytes = 1u << 20 };
	struct heapwalk_stats st;
	struct pylayout l;
	struct typetab tt;
	struct heapwalk *hw;
	struct typetab_entry *t;
	uint64_t hdr[3];
	int err;

	if (size < 64 + sizeof(hdr))
		return 0;
	FUZZ_REQUIRE(pylayout_for_version(3, minors[data[0] & 3], 0, &l) == 0);
	typetab_init(&tt, &m, &l);
	FUZZ_REQUIRE(heapwalk_new(&m, &l, &tt, &lim, &hw) == 0);
	memcpy(hdr, data + 64, sizeof(hdr));
	t = typetab_get(&tt, hdr[1], &err);
	FUZZ_REQUIRE(err == 0 || err == -ENOMEM);
	if (t && t->valid) {
		int64_t extra = heapwalk_visit(hw, IMAGE_BASE + 64, t, (int64_t)hdr[2]);

		/* the image cannot make the reader fail in any other way */
		FUZZ_REQUIRE(extra >= 0 || extra == -ENOMEM);
	}
	heapwalk_stats(hw, &st);
	FUZZ_REQUIRE(st.objects <= MAX_OBJECTS);
	heapwalk_free(hw);
	typetab_release(&tt);
	return 0;
}
