/* SPDX-License-Identifier: MIT */
/* sizeclass: the size classes of live-allocation histograms (see sizeclass.h). */
#include "leakd/base/sizeclass.h"

unsigned sizeclass_of(uint64_t size)
{
	unsigned p;

	if (size <= 512)
		return size == 0 ? 0 : (unsigned)((size - 1) / 16);
	p = 64 - (unsigned)__builtin_clzll(size - 1);	/* ceil(log2(size)) >= 10 */
	if (p > 30)
		p = 30;		/* the 1 GiB class is open-ended */
	return 32 + (p - 10);
}

uint64_t sizeclass_bound(unsigned cls)
{
	if (cls < 32)
		return 16ull * (cls + 1);
	if (cls >= SIZECLASS_N)
		cls = SIZECLASS_N - 1;
	return 1ull << (10 + cls - 32);
}
