// SPDX-License-Identifier: MIT
/*
 * holdsched: when the daemon searches holders, and the rows a search leaves
 * (see holdsched.h).
 */
#include <stdio.h>
#include <string.h>

#include "leakd/holders/holdsched.h"

bool holdsched_due(const struct holdsched *s, double period, bool leak, double now)
{
	if (!leak || !(period > 0) || s->armed)
		return false;
	return !s->searched || now - s->last >= period;
}

void holdsched_arm(struct holdsched *s)
{
	s->armed = true;
}

void holdsched_ran(struct holdsched *s, double now)
{
	s->armed = false;
	s->searched = true;
	s->last = now;
}

void holdsched_disarm(struct holdsched *s)
{
	s->armed = false;
}

static bool have_row(const struct holdsched_row *rows, size_t n, const char *type, const char *holder)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].type, type) && !strcmp(rows[i].holder, holder))
			return true;
	return false;
}

size_t holdsched_rows(const struct holders_result *r, struct holdsched_row *rows, size_t max)
{
	size_t n = 0;

	if (max > HOLDSCHED_ROWS)
		max = HOLDSCHED_ROWS;
	/* one per type before a second one for any: every leaking type named */
	for (size_t rank = 0; rank < HOLDERS_PATHS && n < max; rank++)
		for (size_t t = 0; t < r->ntypes && t < HOLDERS_MAX_TYPES && n < max; t++) {
			const struct holders_type *ty = &r->types[t];

			if (rank >= ty->npaths || rank >= HOLDERS_PATHS || !ty->paths[rank].text[0] ||
			    have_row(rows, n, ty->name, ty->paths[rank].text))
				continue;
			snprintf(rows[n].type, sizeof(rows[n].type), "%s", ty->name);
			snprintf(rows[n].holder, sizeof(rows[n].holder), "%s", ty->paths[rank].text);
			n++;
		}
	return n;
}
