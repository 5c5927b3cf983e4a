/* SPDX-License-Identifier: MIT */
/* A cgroup path as /proc/PID/cgroup gives it: unit and container id are
 * NUL-terminated, within their buffers, and substrings of the path. */
#include "fuzz.h"
#include "leakd/discover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_cstr(data, size);
	char unit[256], container[80];

	memset(unit, 'x', sizeof(unit));
	memset(container, 'x', sizeof(container));
	discover_parse_cgroup(path, unit, sizeof(unit), container, sizeof(container));
	FUZZ_REQUIRE(memchr(unit, '\0', sizeof(unit)) && memchr(container, '\0', sizeof(container)));
	FUZZ_REQUIRE(!unit[0] || strstr(path, unit));
	free(path);
	return 0;
}
