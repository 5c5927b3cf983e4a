/* SPDX-License-Identifier: MIT */
/* human: numbers as people read them in the table and in verdicts (see human.h). */
#include <math.h>
#include <stdio.h>

#include "leakd/base/human.h"

const char *human_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = fabs(bytes);
	size_t u = 0;

	if (!buf || !len)
		return buf;
	if (!isfinite(bytes)) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (v < 1024) {
		snprintf(buf, len, "%.0f B", bytes);
		return buf;
	}
	v /= 1024;
	/* switch unit before "1024.0 KiB" would be printed */
	while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%s%.1f %s", bytes < 0 ? "-" : "", v, units[u]);
	return buf;
}

/* Thousands-separated digits of an unsigned integer into buf. */
static void group_digits(char *buf, size_t len, unsigned long long n)
{
	char digits[32], out[48];
	int nd = snprintf(digits, sizeof(digits), "%llu", n);
	int k = 0;

	for (int i = 0; i < nd; i++) {
		if (i && (nd - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
	snprintf(buf, len, "%s", out);
}

const char *human_count(char *buf, size_t len, double v)
{
	char d[48];

	if (!buf || !len)
		return buf;
	if (!isfinite(v) || fabs(v) >= 1e19) {
		snprintf(buf, len, "-");
		return buf;
	}
	group_digits(d, sizeof(d), (unsigned long long)llround(fabs(v)));
	snprintf(buf, len, "%s%s", v < 0 && llround(fabs(v)) ? "-" : "", d);
	return buf;
}

const char *human_rate(char *buf, size_t len, double v)
{
	char d[48];
	double a = fabs(v);
	const char *sign = v < 0 ? "-" : "+";

	if (!buf || !len)
		return buf;
	if (!isfinite(v) || a >= 1e19) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (a >= 99.5) {
		group_digits(d, sizeof(d), (unsigned long long)llround(a));
		snprintf(buf, len, "%s%s", sign, d);
	} else if (a >= 0.995) {
		snprintf(buf, len, "%s%.1f", sign, a);
	} else if (a == 0) {
		snprintf(buf, len, "0");
	} else {
		snprintf(buf, len, "%s%.2f", sign, a);
	}
	return buf;
}
