/* SPDX-License-Identifier: MIT */
/* Python version detection from an interpreter's bytes and name: the
 * .rodata scan, PY_VERSION_HEX, and the file-name rule. First byte: the
 * minor the file name would give (or none). */
#include <errno.h>

#include "fuzz.h"
#include "leakd/process/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int want, minor = -1, micro = -1, major;
	uint32_t hex = 0;
	char *name;

	if (size < 1)
		return 0;
	want = data[0] < 32 ? data[0] : -1;
	if (target_version_from_rodata(data + 1, size - 1, want, &minor, &micro) == 0) {
		FUZZ_REQUIRE(minor >= 0 && minor <= 999 && micro >= 0 && micro <= 999);
		FUZZ_REQUIRE(want < 0 || minor == want);
	}
	memcpy(&hex, data, size < 4 ? size : 4);
	if (target_version_from_hex(hex, &major, &minor, &micro) == 0)
		FUZZ_REQUIRE(major == 3);
	name = fuzz_cstr(data + 1, size - 1);
	minor = target_minor_from_name(name);
	FUZZ_REQUIRE(minor == -ENOENT || (minor >= 0 && minor <= 9999));
	free(name);
	return 0;
}
