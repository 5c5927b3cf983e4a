/* SPDX-License-Identifier: MIT */
/*
 * holdpath: the paths of a holder search (holders.h), named for people.
 *
 * A sample's path is its chain of first parents up to a root. Each step is
 * named from the edge that holds it: a dict's value by its key (str and
 * int keys; keys that differ only in digits collapse to a pattern such as
 * 'app.request.<n>'), a module's or an instance's dict entry as an
 * attribute, items and set members as [*], cells, closures and bound
 * methods by their field; with the query's key_shapes, keys by their type
 * only (the daemon: its output is readable by other local users). Paths are
 * grouped by their text, so ten thousand instances in one list make one path
 * "held 200 of 200 sampled".
 */
#ifndef LEAKD_HOLDPATH_H
#define LEAKD_HOLDPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "leakd/holders/holdsearch.h"

/* Fills out->types from the search's samples. Returns 0 or -ENOMEM. */
int holdpath_collect(struct holdsearch *hs, struct holders_result *out);

/* Collapses every run of digits in s to "<n>" and cuts it to len - 1
 * bytes with "..." (pure; for keys). */
void holdpath_pattern(const char *s, char *buf, size_t len);

enum holdpath_key_class { HOLDPATH_KEY_STR, HOLDPATH_KEY_INT, HOLDPATH_KEY_OTHER };

/*
 * How a dict key is named in a path (pure). Keys are the target's data
 * (request ids, user names, tokens): with shapes, only their type is shown,
 * "<str>", "<int>", "<bytes>"; without, str keys by their text (text, digit
 * runs collapsed, cut to 40 characters) in quotes, int keys as "<n>" and
 * other keys by their type name. text is only read without shapes.
 */
void holdpath_key_label(enum holdpath_key_class cls, const char *type_name, const char *text, bool shapes,
			char *buf, size_t len);

#endif /* LEAKD_HOLDPATH_H */
