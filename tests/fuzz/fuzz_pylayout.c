/* SPDX-License-Identifier: MIT */
/* _Py_DebugOffsets as a 3.13+ interpreter's memory holds it (a target can
 * write anything there): a layout is accepted only with sane offsets. */
#include <errno.h>

#include "fuzz.h"
#include "leakd/python/pylayout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pylayout l;
	int r;

	memset(&l, 0xa5, sizeof(l));
	r = pylayout_from_debug_offsets(data, size, &l);
	FUZZ_REQUIRE(r == 0 || r == -ENOENT || r == -ENOTSUP || r == -EINVAL);
	if (r == 0)
		FUZZ_REQUIRE(l.major == 3 && l.minor >= PYLAYOUT_MINOR_FIRST && l.minor <= PYLAYOUT_MINOR_LAST);
	return 0;
}
