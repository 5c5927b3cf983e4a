// SPDX-License-Identifier: MIT
/*
 * holders: one holder search from the outside (see holders.h): the order
 * of its phases (module roots, thread roots, search, the roots of what none
 * of them reached, search again, name the paths) and the result's measures,
 * then the public helpers on a result (kind names, the dot graph). The
 * phases are holdroots.c (roots), holdsearch.c (the search core) and
 * holdpath.c (naming), run in turn from here; they never call this file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/clock.h"
#include "leakd/base/textesc.h"
#include "leakd/holders/holdpath.h"
#include "leakd/holders/holdroots.h"
#include "leakd/holders/holdsearch.h"

int holders_find(const struct memreader *m, const struct pylayout *l, const struct holders_query *q,
		 struct holders_result *out)
{
	struct holdsearch *hs;
	double t0 = 1e3 * leakd_mono_now();
	int err;

	if (!m || !l || !q || !out || !q->ntypes || q->ntypes > HOLDERS_MAX_TYPES || !l->known)
		return -EINVAL;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	holdsearch_init(hs, m, l, q);
	/* Modules first: a global is a better name than a local for the same list. */
	err = holdroots_modules(hs, &out->roots_modules);
	if (!err)
		err = holdroots_threads(hs, &out->roots_locals);
	if (!err)
		err = holdsearch_run(hs);
	if (!err)
		err = holdroots_unreached(hs, &out->roots_native);
	if (!err)
		err = holdsearch_run(hs);
	if (!err) {
		holdsearch_take_older(hs);
		/* The paths are named from the target as it is now: a dict key made
		 * after its block was cached reads as garbage there (measured: most
		 * of a leaking dict's keys named "[<?>]" in daemon_holders). */
		memreader_invalidate(m);
		err = holdpath_collect(hs, out);
	}
	if (!err) {
		out->nodes = hs->n;
		out->garbage = hs->garbage;
		out->rejected = hs->rejected;
		out->partial = hs->partial;
		snprintf(out->partial_reason, sizeof(out->partial_reason), "%s", hs->reason);
		out->walk_ms = 1e3 * leakd_mono_now() - t0;
		/* the peak: the sort of unreached objects lives beside the nodes */
		out->bytes = hs->cap * sizeof(*hs->nodes) + addrset_bytes(hs->seen) +
			     hs->rcap * sizeof(*hs->roots) + hs->aux_bytes + sizeof(*hs);
	}
	holdsearch_release(hs);
	free(hs);
	return err;
}

static const char *const kind_names[] = {
	[HOLDERS_MODULE] = "module", [HOLDERS_LOCAL] = "local", [HOLDERS_NATIVE] = "native",
	[HOLDERS_CYCLE] = "cycle", [HOLDERS_GLOBAL] = "global", [HOLDERS_CLASS_ATTR] = "class_attr",
	[HOLDERS_ATTR] = "attr", [HOLDERS_KEY] = "key", [HOLDERS_KEY_OBJECT] = "key",
	[HOLDERS_ITEM] = "item", [HOLDERS_CELL] = "cell",
};

const char *holders_kind_name(uint8_t kind)
{
	return kind < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[kind] ? kind_names[kind] : "?";
}

static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	textesc_write(f, s, strlen(s), TEXTESC_JSON);
	fputc('"', f);
}

/* Whether the pair was written already (seen holds n pairs); records it if not. */
static bool dot_seen(uint64_t (*seen)[2], size_t *n, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i][0] == a && seen[i][1] == b)
			return true;
	seen[*n][0] = a, seen[*n][1] = b;
	(*n)++;
	return false;
}

int holders_write_dot(FILE *f, const struct holders_result *r)
{
	/* every node and edge once: chains share their holders */
	size_t cap = 2 * HOLDERS_MAX_TYPES * HOLDERS_CHAINS * HOLDERS_STEPS, n = 0;
	uint64_t (*seen)[2] = malloc(cap * sizeof(*seen));

	if (!seen)
		return -ENOMEM;
	fprintf(f, "digraph holders {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
	for (size_t t = 0; t < r->ntypes; t++) {
		const struct holders_type *ty = &r->types[t];

		for (size_t c = 0; c < ty->nchains; c++) {
			const struct holders_path *p = &ty->chains[c];

			for (size_t i = 0; i < p->nsteps; i++) {
				const struct holders_step *st = &p->steps[i];
				char label[2 * HOLDERS_NAME_MAX + 8];

				if (!dot_seen(seen, &n, st->addr, 0)) {
					if (i == 0)
						snprintf(label, sizeof(label), "%s\n(%s)", st->name, st->via_type);
					else
						snprintf(label, sizeof(label), "%s", st->via_type);
					fprintf(f, "  o%llx [label=", (unsigned long long)st->addr);
					dot_str(f, label);
					fprintf(f, "%s];\n", i + 1 == p->nsteps ? ", style=filled, fillcolor=\"#f4cccc\"" :
							      i == 0 ? ", style=filled, fillcolor=\"#d9ead3\"" : "");
				}
				if (i == 0 || dot_seen(seen, &n, p->steps[i - 1].addr, st->addr))
					continue;
				fprintf(f, "  o%llx -> o%llx [label=", (unsigned long long)p->steps[i - 1].addr,
					(unsigned long long)st->addr);
				dot_str(f, st->name);
				fprintf(f, "%s];\n", i == 1 && p->cut ? ", style=dashed" : "");
			}
		}
	}
	free(seen);
	fprintf(f, "}\n");
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
