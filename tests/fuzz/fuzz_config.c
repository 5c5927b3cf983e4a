/* SPDX-License-Identifier: MIT */
/* The config file: any bytes parse or fail with a message, and the filters
 * it sets can be matched. */
#include "fuzz.h"
#include "leakd/app/config.h"
#include "leakd/process/procfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct leakd_opts c;
	char err[512];
	int r;

	options_defaults(&c);
	r = config_parse((const char *)data, size, "fuzz.conf", &c, err, sizeof(err));
	FUZZ_REQUIRE(r <= 0);
	if (r < 0)
		FUZZ_REQUIRE(err[0] && memchr(err, '\0', sizeof(err)));
	else
		(void)procfilter_match(&c.filter, "python3", "/usr/bin/python3.11", "web.service",
				   "/system.slice/web.service");
	options_free(&c);
	return 0;
}
