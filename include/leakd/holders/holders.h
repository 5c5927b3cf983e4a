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
 * The types below are read by all of them (holdsearch.h embeds the query,
 * holdpath fills the result).
 */
#ifndef LEAKD_HOLDERS_H
#define LEAKD_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "leakd/target/memreader.h"
#include "leakd/python/pylayout.h"

#define HOLDERS_MAX_TYPES 12		/* types queried in one search */
#define HOLDERS_SAMPLES 200		/* instances sampled per type */
#define HOLDERS_PATHS 5			/* distinct paths kept per type */
#define HOLDERS_CHAINS 12		/* sample chains per type kept for the graph */
#define HOLDERS_STEPS 16		/* steps of a path kept (the innermost) */
#define HOLDERS_NAME_MAX 160
#define HOLDERS_TEXT_MAX 640
/* The search's memory, at most: 24 bytes per node (containers and
 * instances), and the bitmap of objects met (1/64 of the heap span it covers). */
#define HOLDERS_DEFAULT_MAX_NODES (2u << 20)
#define HOLDERS_SEEN_MAX_BYTES (16u << 20)
#define HOLDERS_TOP_TYPES HOLDERS_MAX_TYPES	/* --holders: the top types searched, leaking or not */

/* How one step of a path is held (JSON "kind"). */
enum holders_kind {
	HOLDERS_MODULE,		/* root: a module */
	HOLDERS_LOCAL,		/* root: a local variable of a running frame */
	HOLDERS_NATIVE,		/* root: held from C */
	HOLDERS_CYCLE,		/* root: garbage kept by a reference cycle */
	HOLDERS_GLOBAL,		/* a module global */
	HOLDERS_CLASS_ATTR,	/* a class attribute */
	HOLDERS_ATTR,		/* an instance attribute (__dict__, managed, __slots__) or a field */
	HOLDERS_KEY,		/* a dict value, under its key */
	HOLDERS_KEY_OBJECT,	/* a dict key itself */
	HOLDERS_ITEM,		/* a list/tuple/deque item, or a set member */
	HOLDERS_CELL,		/* a closure cell's contents */
};

struct holders_step {
	uint8_t kind;			/* enum holders_kind */
	char name[HOLDERS_NAME_MAX];	/* root label, attribute, key pattern, "[*]"... (raw: escape to print) */
	char via_type[HOLDERS_NAME_MAX];	/* the type of the object this step reaches */
	uint64_t addr;			/* that object */
};

struct holders_path {
	struct holders_step steps[HOLDERS_STEPS];	/* from the root to the sample */
	size_t nsteps;
	bool cut;			/* steps between the root and steps[1] were left out */
	char text[HOLDERS_TEXT_MAX];	/* one line: "module m . X (T) .a (list) [*] -> m.C" */
	uint32_t reached;		/* samples held this way */
};

struct holders_type {
	uint64_t type_addr;
	char name[HOLDERS_NAME_MAX];
	uint64_t found;			/* instances the search met */
	uint32_t sampled;
	struct holders_path paths[HOLDERS_PATHS];	/* most samples first */
	size_t npaths;
	struct holders_path chains[HOLDERS_CHAINS];	/* raw sample chains, for the graph */
	size_t nchains;
};

struct holders_result {
	struct holders_type types[HOLDERS_MAX_TYPES];
	size_t ntypes;
	uint64_t nodes;			/* objects the search kept */
	uint64_t roots_modules, roots_locals, roots_native;
	uint64_t garbage;		/* tracked objects only cycles keep */
	uint64_t rejected;		/* referents that were not valid objects */
	double walk_ms;
	uint64_t bytes;			/* the search's own memory at its peak */
	bool partial;
	char partial_reason[96];
};

struct holders_query {
	uint64_t types[HOLDERS_MAX_TYPES];	/* type object addresses */
	const char *names[HOLDERS_MAX_TYPES];	/* their names, as the census gave them */
	size_t ntypes;
	const uint64_t *tracked;	/* the GC's tracked objects (census.h keep_tracked) */
	size_t ntracked;
	/* The previous census's tracked objects, sorted; NULL: none. Samples
	 * prefer instances not among them: the newest, which are the leak. */
	const uint64_t *older;
	size_t nolder;
	uint64_t runtime;		/* _PyRuntime: threads for the frame roots; 0 = none */
	bool gc_enabled;		/* the collector's state, for the cycle roots' label */
	int gc_threshold0;
	size_t max_nodes;		/* 0: HOLDERS_DEFAULT_MAX_NODES */
	uint64_t seed;			/* sampling; any value */
	bool key_shapes;		/* name dict keys by their type only ("[<str>]"), not their text */
};

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
