/* SPDX-License-Identifier: MIT */
/*
 * holdsearch: the state and core of one holder search (holders.h): the
 * nodes, the set of objects met, the roots, the samples, and the
 * breadth-first expansion (holdsearch.c). The one header between the
 * holders module and its helpers: holders.c drives the search through it,
 * holdroots.c adds roots and holdpath.c reads types through it. holdsearch.c
 * calls nothing of holders.c, holdroots.c or holdpath.c.
 *
 * Each object the search keeps is a node: its address, its first parent
 * and how that parent holds it (a pyrefs edge), 24 bytes. Atoms (str, int,
 * bytes...) have no referents: one becomes a node only when a queried
 * type's sample takes it, so the node count follows the containers and
 * instances, not the whole heap. Which objects the search has met is a
 * sparse bitmap over the target's heap (addrset.h), not a hash of nodes: a
 * lookup per referent is the search's hottest step.
 */
#ifndef LEAKD_HOLDSEARCH_H
#define LEAKD_HOLDSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/base/addrset.h"
#include "leakd/holders/holdquery.h"
#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/typetab.h"

#define HNODE_ROOT UINT32_MAX	/* parent of a root node; its key is the root's index */

struct hnode {
	uint64_t addr;
	uint64_t key;		/* edge key object, or index (see enum pyrefs_edge_kind) */
	uint32_t parent;	/* node index, or HNODE_ROOT */
	uint8_t ekind;		/* enum pyrefs_edge_kind; 0 for a root */
};

struct hroot {
	uint8_t kind;			/* HOLDERS_MODULE, _LOCAL, _NATIVE, _CYCLE */
	char label[HOLDERS_NAME_MAX];	/* raw text */
};

struct holdsearch {
	const struct memreader *m;
	const struct pylayout *l;
	const struct holders_query *q;
	struct typetab tt;
	struct hnode *nodes;
	size_t n, cap, max;
	struct addrset *seen;	/* every valid object met, kept or not */
	struct hroot *roots;
	size_t nroots, rcap;
	size_t next;		/* BFS cursor: nodes before it are expanded */
	uint32_t cur;		/* node being expanded */
	uint32_t samples[HOLDERS_MAX_TYPES][HOLDERS_SAMPLES];
	uint32_t nsamp[HOLDERS_MAX_TYPES];
	uint64_t found[HOLDERS_MAX_TYPES];
	/* instances the previous census already had: sampled apart, used only
	 * to fill what the newer ones leave (holdsearch_take_older) */
	uint32_t older[HOLDERS_MAX_TYPES][HOLDERS_SAMPLES];
	uint32_t nolder[HOLDERS_MAX_TYPES];
	uint64_t found_older[HOLDERS_MAX_TYPES];
	uint64_t aux_bytes;	/* the unreached objects' sort (holdroots.c) */
	uint64_t rng;
	uint64_t rejected;
	uint64_t garbage;
	bool partial;
	char reason[96];
};

int holdsearch_init(struct holdsearch *hs, const struct memreader *m, const struct pylayout *l,
		    const struct holders_query *q);
void holdsearch_release(struct holdsearch *hs);

/* Whether the search has met the object at addr. */
bool holdsearch_seen(const struct holdsearch *hs, uint64_t addr);

/* Adds obj as a root (unless the search already holds it). Returns 0,
 * -ENOSPC when the search is full (partial set), or -ENOMEM. */
int holdsearch_root(struct holdsearch *hs, uint64_t obj, uint8_t kind, const char *label);

/* Expands every node not yet expanded, breadth first. Returns 0 (possibly
 * partial) or a hard -errno from the reader. */
int holdsearch_run(struct holdsearch *hs);

/* The valid type entry of the object at obj (reading its header into
 * hdr[3]: refcount, type, size), or NULL. */
struct typetab_entry *holdsearch_type(struct holdsearch *hs, uint64_t obj, uint64_t hdr[3]);

/* Whether an object of type t can hold others (so the search keeps it). */
bool holdsearch_holds(const struct typetab_entry *t);

/* Index of t among the queried types, or -1. */
int holdsearch_query_index(const struct holdsearch *hs, uint64_t type);

/* Marks the search partial with a reason (the first one wins). */
void holdsearch_partial(struct holdsearch *hs, const char *reason);

/* Fills each type's samples that the newer instances left free with the
 * older ones (call once, after the last holdsearch_run). */
void holdsearch_take_older(struct holdsearch *hs);

#endif /* LEAKD_HOLDSEARCH_H */
