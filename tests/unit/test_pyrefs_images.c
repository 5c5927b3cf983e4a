// SPDX-License-Identifier: MIT
/*
 * Each container decoder (pyrefs) on bytes read from real processes: the
 * census images tests/fuzz/make_census_seeds.sh writes, one per interpreter,
 * hold census_seed.py's KEEP list and everything in it, and the program's own
 * truth (NAME.truth next to NAME.expect) says the types of KEEP's items and,
 * per container, the types of what it holds. Version by version the
 * decoders must find exactly those: an instance's __dict__, 3.11/3.12
 * managed values, 3.13+ inline values and __slots__; dict keys and values,
 * set, frozenset, list, tuple and deque items.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz/memimage.h"
#include "golden.h"
#include "leakd/python/pyname.h"
#include "leakd/python/pyrefs.h"
#include "leakd/python/typetab.h"

#define MAX_REFS 64
#define MAX_LINES 64
#define NAME_MAX_LEN 128

struct img {
	struct memimage im;
	struct memreader m;
	struct pylayout l;
	struct typetab tt;
	uint64_t *lists;	/* tracked objects whose type decodes as a list */
	size_t nlists;
};

struct refs {
	struct pyrefs_sink s;
	uint8_t kind[MAX_REFS];
	uint64_t addr[MAX_REFS];
	size_t n;
};

static int refs_ref(void *ctx, uint64_t p)
{
	struct refs *r = ctx;

	if (p && r->n < MAX_REFS) {
		r->kind[r->n] = r->s.edge.kind;
		r->addr[r->n++] = p;
	}
	return 0;
}

static int refs_first(void *ctx, uint64_t addr)
{
	(void)ctx, (void)addr;
	return 0;
}

static struct typetab_entry *type_of(struct img *g, uint64_t obj, uint64_t *type)
{
	int err = 0;

	if (memreader_read_u64(&g->m, obj + g->l.ob_type, type))
		return NULL;
	return typetab_get(&g->tt, *type, &err);
}

static void type_name(struct img *g, uint64_t obj, char *buf, size_t len)
{
	uint64_t type;

	if (memreader_read_u64(&g->m, obj + g->l.ob_type, &type) || pyname_type(&g->m, &g->l, type, buf, len) <= 0)
		snprintf(buf, len, "?");
}

static void decode(struct img *g, uint64_t obj, struct refs *r)
{
	struct typetab_entry *t;
	uint64_t type;
	int64_t ob_size = 0;

	memset(r, 0, sizeof(*r));
	r->s = (struct pyrefs_sink){ .ref = refs_ref, .first = refs_first, .ctx = r };
	t = type_of(g, obj, &type);
	cr_assert(t && t->valid, "object %#llx has no type in the image", (unsigned long long)obj);
	memreader_read(&g->m, obj + g->l.ob_size, &ob_size, sizeof(ob_size));
	cr_assert_geq(pyrefs_decode(&g->m, &g->l, obj, t, ob_size, &r->s), 0);
	cr_assert_eq(r->s.rejected, 0, "a field of %#llx did not hold together", (unsigned long long)obj);
}

/* What obj holds, as the program means it: an instance's attribute values
 * (through its __dict__ when it has one), a dict's keys and values, a
 * collection's items. The objects into held (if not NULL). */
static size_t holds(struct img *g, uint64_t obj, uint64_t *held)
{
	struct refs r, d;
	size_t n = 0;

	decode(g, obj, &r);
	for (size_t i = 0; i < r.n; i++) {
		if (r.kind[i] != PYREF_INST_DICT) {
			if (n < MAX_REFS)
				held[n++] = r.addr[i];
			continue;
		}
		decode(g, r.addr[i], &d);
		for (size_t k = 0; k < d.n && n < MAX_REFS; k++)
			if (d.kind[k] == PYREF_DICT_VALUE || d.kind[k] == PYREF_VALUES_SLOT)
				held[n++] = d.addr[k];
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "holds TYPE T1 T2..." with the held types sorted, as the truth writes it. */
static char *holds_line(struct img *g, uint64_t obj)
{
	uint64_t held[MAX_REFS];
	char names[MAX_REFS][NAME_MAX_LEN], *sorted[MAX_REFS], self[NAME_MAX_LEN], *line = NULL;
	size_t n = holds(g, obj, held), len = 0;
	FILE *f = open_memstream(&line, &len);

	for (size_t i = 0; i < n; i++) {
		type_name(g, held[i], names[i], sizeof(names[i]));
		sorted[i] = names[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	type_name(g, obj, self, sizeof(self));
	fprintf(f, "holds %s", self);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s", sorted[i]);
	fclose(f);
	return line;
}

static void visit(void *ctx, uint64_t node, uint64_t obj, uint64_t type)
{
	struct img *g = ctx;
	struct typetab_entry *t;
	int err = 0;

	(void)node;
	t = typetab_get(&g->tt, type, &err);
	if (t && t->valid && t->kind == PYK_LIST && g->nlists < 4096)
		g->lists[g->nlists++] = obj;
}

static bool is_container(const char *name)
{
	static const char *const kinds[] = { "tuple", "frozenset", "set", "list", "dict", "collections.deque",
					     "__main__.Seed", "__main__.Slotted" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(name, kinds[i]))
			return true;
	return false;
}

static void check_image(const char *img_path, const char *truth_path)
{
	char *data = golden_read_all(img_path), *truth = golden_read_all(truth_path), *keep_want = NULL;
	char *want[MAX_LINES], *got[MAX_LINES];
	size_t nwant = 0, ngot = 0, size;
	struct census_limits lim = { .max_steps = MEMIMAGE_MAX_STEPS, .visit = visit };
	struct census c = { 0 };
	struct img g = { 0 };
	uint64_t keep = 0;
	FILE *f = fopen(img_path, "rb");

	cr_assert(data && truth && f, "cannot read %s or %s", img_path, truth_path);
	fseek(f, 0, SEEK_END);
	size = (size_t)ftell(f);
	fclose(f);
	for (char *line = strtok(truth, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "keep ", 5))
			keep_want = line;
		else if (!strncmp(line, "holds ", 6) && nwant < MAX_LINES)
			want[nwant++] = line;
	}
	cr_assert(keep_want && nwant, "%s: no keep or holds line", truth_path);
	cr_assert_eq(memimage_parse((const uint8_t *)data, size, &g.im), 0);
	cr_assert_eq(pylayout_for_version(3, g.im.minor, g.im.micro, &g.l), 0);
	g.m = memimage_reader(&g.im);
	typetab_init(&g.tt, &g.m, &g.l);
	g.lists = calloc(4096, sizeof(*g.lists));
	lim.visit_ctx = &g;
	cr_assert_eq(census_walk(&g.m, &g.l, g.im.runtime_addr, &lim, &c), 0, "%s: no census", img_path);

	/* KEEP: the list whose items have the types the program listed */
	for (size_t i = 0; i < g.nlists && !keep; i++) {
		uint64_t held[MAX_REFS];
		size_t n = holds(&g, g.lists[i], held);
		char line[2048] = "keep", name[NAME_MAX_LEN];

		for (size_t k = 0; k < n; k++) {
			type_name(&g, held[k], name, sizeof(name));
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", name);
		}
		if (!strcmp(line, keep_want))
			keep = g.lists[i];
	}
	cr_assert(keep, "%s: no list holds %s", img_path, keep_want + 5);

	{
		uint64_t items[MAX_REFS];
		size_t n = holds(&g, keep, items);

		for (size_t i = 0; i < n && ngot < MAX_LINES; i++) {
			uint64_t held[MAX_REFS];
			size_t nh = holds(&g, items[i], held);

			got[ngot++] = holds_line(&g, items[i]);
			for (size_t k = 0; k < nh && ngot < MAX_LINES; k++) {
				char name[NAME_MAX_LEN];

				type_name(&g, held[k], name, sizeof(name));
				if (is_container(name))
					got[ngot++] = holds_line(&g, held[k]);
			}
		}
	}
	qsort(want, nwant, sizeof(*want), cmp_str);
	qsort(got, ngot, sizeof(*got), cmp_str);
	cr_assert_eq(ngot, nwant, "%s: %zu containers decoded, the program made %zu", img_path, ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		cr_assert_str_eq(got[i], want[i], "%s: decoded '%s', the program says '%s'", img_path, got[i], want[i]);
	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
	census_free(&c);
	typetab_release(&g.tt);
	memimage_free(&g.im);
	free(g.lists);
	free(data);
	free(truth);
}

Test(pyrefs_images, each_decoder_finds_what_the_real_program_holds)
{
	char dir[1024], img[2048], truth[2048], expect[2048];
	struct dirent *de;
	int checked = 0;
	DIR *d;

	d = golden_census_images(dir, sizeof(dir));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".img"))
			continue;
		snprintf(img, sizeof(img), "%s/%s", dir, de->d_name);
		snprintf(truth, sizeof(truth), "%s/census_images/%.*s.truth", golden_root(), (int)(n - 4), de->d_name);
		snprintf(expect, sizeof(expect), "%s/census_images/%.*s.expect", golden_root(), (int)(n - 4), de->d_name);
		if (access(expect, R_OK))
			continue;	/* a regression input, not a real process */
		cr_assert_eq(access(truth, R_OK), 0, "no %s (make_census_seeds.sh writes it with the image)", truth);
		check_image(img, truth);
		checked++;
	}
	closedir(d);
	cr_assert_gt(checked, 0, "no image of a real process in %s", dir);
}
