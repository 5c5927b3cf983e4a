/* SPDX-License-Identifier: MIT */
/*
 * holdquery: the query and the result of a holder search, plain data (see
 * holders.h for the search). The module's entry points (holders.h) and its
 * helpers (holdsearch.h, holdroots.h, holdpath.h) all read these, and the
 * outputs write the result; keeping them apart from holders.h lets the
 * helpers use them without including the module that calls them.
 */
#ifndef LEAKD_HOLDQUERY_H
#define LEAKD_HOLDQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif /* LEAKD_HOLDQUERY_H */
