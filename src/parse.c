// SPDX-License-Identifier: MIT
/* parse: values shared by the command line and the config file (parse.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/parse.h"

int parse_share(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end == '%') {
		v /= 100.0;
		end++;
	}
	if (*end || !isfinite(v) || v <= 0 || v > 1)
		return -EINVAL;
	*out = v;
	return 0;
}
