// SPDX-License-Identifier: MIT
/*
 * holdsched tests: the daemon's holder schedule (due, not due, armed, period
 * 0) and the rows a search leaves for the journal and the metrics.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "leakd/holders/holdsched.h"

Test(holdsched, a_flagged_process_is_due_once_per_period)
{
	struct holdsched s = { 0 };

	cr_assert_not(holdsched_due(&s, 600, false, 10), "not flagged: no search");
	cr_assert(holdsched_due(&s, 600, true, 10), "flagged, never searched: due");
	holdsched_arm(&s);
	cr_assert_not(holdsched_due(&s, 600, true, 11), "armed: not twice");
	holdsched_ran(&s, 12);
	cr_assert_not(holdsched_due(&s, 600, true, 13));
	cr_assert_not(holdsched_due(&s, 600, true, 611.9), "within the period");
	cr_assert(holdsched_due(&s, 600, true, 612), "a period after the last search");
	cr_assert_not(holdsched_due(&s, 600, false, 612), "no longer flagged");
}

Test(holdsched, period_0_never_searches)
{
	struct holdsched s = { 0 };

	cr_assert_not(holdsched_due(&s, 0, true, 0));
	cr_assert_not(holdsched_due(&s, 0, true, 1e9));
}

Test(holdsched, disarm_lets_a_later_flag_arm_again)
{
	struct holdsched s = { 0 };

	holdsched_arm(&s);
	holdsched_disarm(&s);
	cr_assert(holdsched_due(&s, 600, true, 5), "the armed search never ran");
}

static void path(struct holders_type *t, const char *text, uint32_t reached)
{
	snprintf(t->paths[t->npaths].text, sizeof(t->paths[0].text), "%s", text);
	t->paths[t->npaths++].reached = reached;
}

Test(holdsched, rows_name_every_type_first_then_further_paths_at_most_5)
{
	struct holders_result *r = calloc(1, sizeof(*r));
	struct holdsched_row rows[HOLDSCHED_ROWS + 2];
	size_t n;

	cr_assert_not_null(r);
	r->ntypes = 3;
	snprintf(r->types[0].name, sizeof(r->types[0].name), "__main__.Subscriber");
	path(&r->types[0], "module __main__ . BUS (__main__.Bus) .subs (list) [*] -> __main__.Subscriber", 150);
	path(&r->types[0], "module __main__ . OLD (list) [*] -> __main__.Subscriber", 40);
	path(&r->types[0], "held from C (refcount 1, 0 references found) -> __main__.Subscriber", 10);
	path(&r->types[0], "module __main__ . X (list) [*] -> __main__.Subscriber", 1);
	snprintf(r->types[1].name, sizeof(r->types[1].name), "dict");
	/* the search found none of this type: no row */
	snprintf(r->types[2].name, sizeof(r->types[2].name), "bytes");
	path(&r->types[2], "module __main__ . CACHE (dict) [<str>] -> bytes", 200);
	path(&r->types[2], "module __main__ . CACHE2 (dict) [<str>] -> bytes", 3);

	n = holdsched_rows(r, rows, sizeof(rows) / sizeof(rows[0]));
	cr_assert_eq(n, HOLDSCHED_ROWS);
	cr_assert_str_eq(rows[0].type, "__main__.Subscriber");
	cr_assert_str_eq(rows[0].holder, r->types[0].paths[0].text, "row 0 is the journal's holder");
	cr_assert_str_eq(rows[1].type, "bytes", "every type's top path before any second path");
	cr_assert_str_eq(rows[1].holder, r->types[2].paths[0].text);
	cr_assert_str_eq(rows[2].holder, r->types[0].paths[1].text);
	cr_assert_str_eq(rows[3].holder, r->types[2].paths[1].text);
	cr_assert_str_eq(rows[4].holder, r->types[0].paths[2].text);

	n = holdsched_rows(r, rows, 1);
	cr_assert_eq(n, 1);
	r->ntypes = 0;
	cr_assert_eq(holdsched_rows(r, rows, HOLDSCHED_ROWS), 0, "an empty search leaves no row");
	free(r);
}

Test(holdsched, rows_skip_a_type_without_paths_for_the_journal)
{
	struct holders_result *r = calloc(1, sizeof(*r));
	struct holdsched_row rows[HOLDSCHED_ROWS];

	cr_assert_not_null(r);
	r->ntypes = 2;
	snprintf(r->types[0].name, sizeof(r->types[0].name), "__main__.Gone");
	snprintf(r->types[1].name, sizeof(r->types[1].name), "__main__.Item");
	path(&r->types[1], "module m . ITEMS (list) [*] -> __main__.Item", 5);
	path(&r->types[1], "module m . ITEMS (list) [*] -> __main__.Item", 5);	/* the same text twice */
	cr_assert_eq(holdsched_rows(r, rows, HOLDSCHED_ROWS), 1);
	cr_assert_str_eq(rows[0].type, "__main__.Item");
	free(r);
}
