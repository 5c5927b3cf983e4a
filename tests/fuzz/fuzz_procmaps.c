/* SPDX-License-Identifier: MIT */
/* /proc/PID/maps lines: parse or refuse, never read past the line; a parsed
 * path is NUL-terminated within its buffer. */
#include <errno.h>

#include "fuzz.h"
#include "leakd/process/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size);
	struct procmaps_entry *e = malloc(sizeof(*e));
	int r;

	if (!e)
		abort();
	r = procmaps_parse_line(line, e);
	FUZZ_REQUIRE(r == 0 || r == -EINVAL || r == -ENAMETOOLONG);
	if (r == 0) {
		FUZZ_REQUIRE(memchr(e->path, '\0', sizeof(e->path)) != NULL);
		FUZZ_REQUIRE(e->start <= e->end);
		FUZZ_REQUIRE(strlen(e->perms) == 4);
	}
	free(e);
	free(line);
	return 0;
}
