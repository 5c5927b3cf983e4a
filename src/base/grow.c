// SPDX-License-Identifier: MIT
/*
 * grow: the bounded doubling of an array (see grow.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "leakd/base/grow.h"

int grow_room(void **buf, size_t n, size_t *cap, size_t esz, size_t first, size_t max)
{
	size_t ncap;
	void *nb;

	if (n < *cap)
		return 0;
	if (*cap >= max)
		return 1;
	ncap = *cap ? *cap * 2 : first;
	if (ncap > max)
		ncap = max;
	if (ncap <= n)
		return 1;
	if (esz && ncap > SIZE_MAX / esz)
		return -ENOMEM;
	nb = realloc(*buf, ncap * esz);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}
