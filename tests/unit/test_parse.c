// SPDX-License-Identifier: MIT
/*
 * Tests for parse: the values the command line and the config file share,
 * so "--census-period 500ms" and "census_period = 500ms" mean the same.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "leakd/base/parse.h"

Test(parse, seconds_with_and_without_units)
{
	double v = -1;

	cr_assert_eq(parse_seconds("1.5", 0, 100, &v), 0);
	cr_assert_float_eq(v, 1.5, 1e-12);
	cr_assert_eq(parse_seconds("2s", 0, 100, &v), 0);
	cr_assert_float_eq(v, 2, 1e-12);
	cr_assert_eq(parse_seconds("500ms", 0, 100, &v), 0);
	cr_assert_float_eq(v, 0.5, 1e-12);
	cr_assert_eq(parse_seconds("1m", 0, 100, &v), 0);
	cr_assert_float_eq(v, 60, 1e-12);
}

Test(parse, seconds_refuse_junk_and_range_leaving_out_alone)
{
	static const char *bad[] = { "", " 1", "1 ", "abc", "1h", "1sm", "nan", "inf", "1e400", "-1", "101", "0.04" };
	double v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_seconds(bad[i], 0.05, 100, &v), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(parse_seconds(NULL, 0, 1, &v), -EINVAL);
	cr_assert_float_eq(v, 42, 0, "untouched");
	cr_assert_eq(parse_seconds("50ms", 0.05, 100, &v), 0, "the minimum itself");
}

Test(parse, share_as_fraction_or_percent)
{
	double v = -1;

	cr_assert_eq(parse_share("0.5%", &v), 0);
	cr_assert_float_eq(v, 0.005, 1e-12);
	cr_assert_eq(parse_share("0.005", &v), 0);
	cr_assert_float_eq(v, 0.005, 1e-12);
	cr_assert_eq(parse_share("1", &v), 0);
	cr_assert_eq(parse_share("0", &v), -EINVAL);
	cr_assert_eq(parse_share("101%", &v), -EINVAL);
	cr_assert_eq(parse_share("5%%", &v), -EINVAL);
	cr_assert_eq(parse_share("", &v), -EINVAL);
}

Test(parse, bytes_with_binary_units)
{
	uint64_t v = 7;

	cr_assert_eq(parse_bytes("524288", 1ull << 30, &v), 0);
	cr_assert_eq(v, 524288);
	cr_assert_eq(parse_bytes("512k", 1ull << 30, &v), 0);
	cr_assert_eq(v, 512 * 1024);
	cr_assert_eq(parse_bytes("512KiB", 1ull << 30, &v), 0);
	cr_assert_eq(v, 512 * 1024);
	cr_assert_eq(parse_bytes("3M", 1ull << 30, &v), 0);
	cr_assert_eq(v, 3u << 20);
	cr_assert_eq(parse_bytes("1GiB", 1ull << 30, &v), 0);
	cr_assert_eq(v, 1u << 30);
	cr_assert_eq(parse_bytes("0", 1ull << 30, &v), 0);
	cr_assert_eq(v, 0);
}

Test(parse, bytes_refuse_junk_signs_and_range_leaving_out_alone)
{
	const char *bad[] = { "", " 1", "-1", "+1", "1.5M", "12x", "1 M", "2G", "99999999999999999999",
			      "18014398509481984k" };
	uint64_t v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_bytes(bad[i], 1ull << 30, &v), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(parse_bytes(NULL, 1ull << 30, &v), -EINVAL);
	cr_assert_eq(v, 7);
}
