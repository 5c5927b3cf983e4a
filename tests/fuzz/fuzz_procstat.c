/* SPDX-License-Identifier: MIT */
/* A /proc/PID/stat line, whose comm the process names: comm is NUL-terminated
 * within its buffer and, when the line parses, is the text between its
 * first '(' and last ')' (cut to the buffer). */
#include "fuzz.h"
#include "leakd/process/discover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size);
	char comm[17];
	uint64_t start = 0;

	memset(comm, 'x', sizeof(comm));
	if (discover_parse_stat(line, comm, sizeof(comm), &start) == 0) {
		const char *open = strchr(line, '(');

		FUZZ_REQUIRE(open && strncmp(open + 1, comm, strlen(comm)) == 0);
	}
	FUZZ_REQUIRE(memchr(comm, '\0', sizeof(comm)));
	free(line);
	return 0;
}
