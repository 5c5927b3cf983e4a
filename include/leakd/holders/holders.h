/* SPDX-License-Identifier: MIT */
/*
 * holders: what keeps the instances of a type alive, read from outside.
 *
 * objgraph's find_backref_chain() answers "what holds this object" from
 * inside the process; leakd answers it from the heap it already knows how to
 * read. A breadth-first search from the roots a person can find in their
 * code (module globals, the locals of every thread's frames) over the same
 * referent decoders the heap walk uses (pyrefs.h) keeps, for every object it
 * reaches, the first parent and how it was held. Instances of the queried
 * types are sampled as the search meets them, those the previous census did
 * not have first (the newest are the leak; old ones may be a legitimate
 * long-lived set), uniformly within each kind, and each sample's parent
 * chain is its path from a root.
 *
 * The tracked objects no root reaches are then sorted the way the cyclic
 * GC does it (update_refs/subtract_refs): an object whose reference count
 * exceeds the references found among them is held from C (an extension,
 * the interpreter, or a leaked reference) and becomes a root of its own;
 * what remains is garbage kept only by reference cycles, reported with the
 * size of its cycle and whether the collector is enabled.
 *
 * The search runs while the target runs: an object freed or reused on the
 * way is rejected by its type check, and limits (nodes, steps) end the
 * search with `partial` set, never with a crash or unbounded memory.
 *
 * Who calls what: the functions declared here (holders.c) are the module's
 * entry points, for the layers above. holders.c runs the phases: the roots
 * (holdroots.h), the search core (holdsearch.h) and the naming of paths
 * (holdpath.h). holdroots.c and holdpath.c call only holdsearch.c and lower
 * layers, holdsearch.c only lower layers; none calls back into holders.c.
 * The query and the result are plain data in holdquery.h, which every
 * one of them reads (holdsearch.h embeds the query, holdpath fills the
 * result) without including this header.
 */
#ifndef LEAKD_HOLDERS_H
#define LEAKD_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "leakd/holders/holdquery.h"
#include "leakd/python/pylayout.h"
#include "leakd/process/memreader.h"

/*
 * Searches the holders of q's types in the target read through m. Returns
 * 0 (possibly partial), -EINVAL (bad query), -ENOMEM, or -ESRCH/-EPERM when
 * the target is gone or cannot be read. out is owned by the caller (large:
 * allocate it).
 */
int holders_find(const struct memreader *m, const struct pylayout *l, const struct holders_query *q,
		 struct holders_result *out);

/* The JSON name of a kind ("module", "attr", ...). */
const char *holders_kind_name(uint8_t kind);

/*
 * Writes the back-reference graph of the result's sample chains in
 * Graphviz dot format: one node per object (shared holders once), edges
 * from holder to held labelled with the step. Every label is escaped.
 * Returns 0 or -errno of the write.
 */
int holders_write_dot(FILE *f, const struct holders_result *r);

#endif /* LEAKD_HOLDERS_H */
