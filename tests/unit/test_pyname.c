// SPDX-License-Identifier: MIT
/* pyname tests: str text read from a fake target (type names are covered
 * with the census, tests/unit/test_census.c). */
#include <criterion/criterion.h>

#include "leakd/python/pyname.h"

#include "fake_target.h"

Test(pyname, str_is_compares_the_targets_text)
{
	struct fake *f = fake_new(12, 24);
	struct memreader m = fake_reader(f);
	uint64_t name, tuple;

	f->str_type = fake_type(f, "str", 1ull << 28, 64, 1);
	tuple = fake_type(f, "tuple", PYLAYOUT_TPFLAGS_HAVE_GC, 24, 8);
	name = fake_str(f, "__name__", NULL, 8);

	cr_assert(pyname_str_is(&m, &f->l, name, "__name__"));
	cr_assert_not(pyname_str_is(&m, &f->l, name, "__name"));
	cr_assert_not(pyname_str_is(&m, &f->l, name, "__module__"));
	cr_assert_not(pyname_str_is(&m, &f->l, tuple, "tuple"), "a type is not a str");
	cr_assert_not(pyname_str_is(&m, &f->l, 0, ""), "NULL is not a str");
	fake_free(f);
}
