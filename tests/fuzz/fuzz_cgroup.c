/* SPDX-License-Identifier: MIT */
/* A cgroup path as /proc/PID/cgroup gives it: the container id is
 * NUL-terminated, within its buffer, and a substring of the path. */
#include "fuzz.h"
#include "leakd/process/discover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_cstr(data, size);
	char container[80];

	memset(container, 'x', sizeof(container));
	discover_parse_container(path, container, sizeof(container));
	FUZZ_REQUIRE(memchr(container, '\0', sizeof(container)));
	FUZZ_REQUIRE(!container[0] || strstr(path, container));
	free(path);
	return 0;
}
