/* SPDX-License-Identifier: MIT */
/*
 * Writes a census seed for fuzz_census from a real Python process: freezes
 * it, runs the census (GC state, list walk, reach) through a reader that
 * records every byte the census asks for, and writes those bytes as a
 * memimage.h image. The permanent generation's head is recorded empty
 * (next = prev = head): a program that calls gc.freeze() first leaves in
 * the young generations only what it made afterwards, so the image stays
 * small and its counts known. The image is then censused again on its own,
 * by memimage_census(), and must give the live answer; its counts by type go
 * to stdout ("COUNT TYPE" lines) for the unit test that replays it. Run by
 * tests/fuzz/make_census_seeds.sh.
 *
 * Usage: make_census_seed PID OUTFILE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/census/census.h"
#include "leakd/process/elfimg.h"
#include "leakd/process/freeze.h"
#include "leakd/python/pylayout.h"
#include "leakd/process/remote.h"
#include "leakd/process/target.h"
#include "memimage.h"

struct rec_range {
	uint64_t addr;
	uint32_t len;
	uint8_t *bytes;
};

struct recorder {
	struct memreader live;
	uint64_t perm_head;		/* reads of it answer "empty list" */
	struct rec_range *r;
	size_t n, cap;
};

static int rec_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct recorder *rec = ctx;
	int err = memreader_read(&rec->live, addr, buf, len);

	if (err)
		return err;
	for (int i = 0; i < 2; i++) {	/* the permanent head's two links */
		uint64_t link = rec->perm_head + 8u * (unsigned)i;

		if (link >= addr && link + 8 <= addr + len)
			memcpy((uint8_t *)buf + (link - addr), &rec->perm_head, 8);
	}
	if (rec->n == rec->cap) {
		size_t ncap = rec->cap ? rec->cap * 2 : 1024;
		struct rec_range *nr = realloc(rec->r, ncap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		rec->r = nr;
		rec->cap = ncap;
	}
	rec->r[rec->n].addr = addr;
	rec->r[rec->n].len = (uint32_t)len;
	rec->r[rec->n].bytes = malloc(len);
	if (!rec->r[rec->n].bytes)
		return -ENOMEM;
	memcpy(rec->r[rec->n].bytes, buf, len);
	rec->n++;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct rec_range *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Writes the recorded ranges merged into disjoint segments. */
static int write_image(const char *path, const struct target *t, struct recorder *rec)
{
	FILE *f = fopen(path, "wb");
	uint16_t micro = (uint16_t)(t->py_micro < 0 ? 0 : t->py_micro);
	uint8_t ver[2] = { (uint8_t)t->py_major, (uint8_t)t->py_minor };

	if (!f)
		return -errno;
	qsort(rec->r, rec->n, sizeof(*rec->r), range_cmp);
	fwrite("LDMI", 1, 4, f);
	fwrite(ver, 1, 2, f);
	fwrite(&micro, 2, 1, f);
	fwrite(&t->runtime_addr, 8, 1, f);
	for (size_t i = 0; i < rec->n;) {
		uint64_t start = rec->r[i].addr, end = start + rec->r[i].len;
		size_t j = i + 1;
		uint8_t *seg;
		uint32_t len;

		while (j < rec->n && rec->r[j].addr <= end) {
			if (rec->r[j].addr + rec->r[j].len > end)
				end = rec->r[j].addr + rec->r[j].len;
			j++;
		}
		len = (uint32_t)(end - start);
		seg = malloc(len);
		if (!seg) {
			fclose(f);
			return -ENOMEM;
		}
		for (size_t k = i; k < j; k++)
			memcpy(seg + (rec->r[k].addr - start), rec->r[k].bytes, rec->r[k].len);
		fwrite(&start, 8, 1, f);
		fwrite(&len, 4, 1, f);
		fwrite(seg, 1, len, f);
		free(seg);
		i = j;
	}
	if (ferror(f) | fclose(f))
		return -EIO;
	return 0;
}

static int census_of(const struct memreader *m, const struct pylayout *l, uint64_t rt, struct census *c)
{
	struct census_limits lim = { .reachable = true };

	return census_walk(m, l, rt, &lim, c) ?: census_reach(m, c);
}

int main(int argc, char **argv)
{
	struct recorder rec = { 0 };
	struct census live = { 0 };
	struct census_gc_loc loc;
	struct elfimg *img = NULL;
	struct remote *mem = NULL;
	struct freeze *fz = NULL;
	struct pylayout l;
	struct target t;
	uint8_t *file = NULL;
	long fsize;
	FILE *f;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID OUTFILE\n", argv[0]);
		return 2;
	}
	err = target_resolve("/proc", atoi(argv[1]), &t, &img) ?:
	      pylayout_for_version(t.py_major, t.py_minor, t.py_micro, &l) ?:
	      remote_new(t.pid, REMOTE_DEFAULT_CACHE, &mem);
	if (err) {
		fprintf(stderr, "make_census_seed: pid %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	rec.live = remote_reader(mem);
	err = freeze_stop(t.pid, &fz);
	if (!err)
		err = census_locate(&rec.live, &l, t.runtime_addr, &loc);
	if (!err) {
		struct memreader m = { .read = rec_read, .ctx = &rec };
		struct pygc_state gs;

		rec.perm_head = loc.gc + l.gc_permanent;
		err = census_gc_state(&m, &l, t.runtime_addr, &gs) ?: census_of(&m, &l, t.runtime_addr, &live);
	}
	freeze_thaw(fz);
	if (!err)
		err = write_image(argv[2], &t, &rec);
	if (err) {
		fprintf(stderr, "make_census_seed: pid %d (python %s): census: %s\n", t.pid, t.py_version,
			strerror(-err));
		return 1;
	}
	/* The image alone must give the same census, through what the fuzz
	 * target and the unit test run. */
	{
		char *want = NULL, *got = NULL;
		size_t wlen = 0, glen = 0;
		FILE *w = open_memstream(&want, &wlen), *g = open_memstream(&got, &glen);
		const char *violation = "";

		f = fopen(argv[2], "rb");
		if (!w || !g || !f || fseek(f, 0, SEEK_END) || (fsize = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) || !(file = malloc((size_t)fsize + 1)) ||
		    fread(file, 1, (size_t)fsize, f) != (size_t)fsize) {
			fprintf(stderr, "make_census_seed: cannot read back %s\n", argv[2]);
			return 1;
		}
		fclose(f);
		for (size_t i = 0; i < live.ntypes; i++)
			fprintf(w, "%llu %s\n", (unsigned long long)live.types[i].objects, live.types[i].name);
		err = memimage_census(file, (size_t)fsize, g, &violation);
		fclose(w);
		fclose(g);
		if (err != 1 || strcmp(want, got)) {
			fprintf(stderr, "make_census_seed: the image censuses differently (%d %s):\n%s\nvs live:\n%s",
				err, violation ? violation : "", got, want);
			return 1;
		}
		fputs(want, stdout);
		free(want);
		free(got);
	}
	fprintf(stderr, "make_census_seed: pid %d (python %s): %llu tracked, %llu reached, %zu reads, %ld bytes\n",
		t.pid, t.py_version, (unsigned long long)live.tracked_objects,
		(unsigned long long)live.untracked_objects, rec.n, fsize);
	census_free(&live);
	free(file);
	for (size_t i = 0; i < rec.n; i++)
		free(rec.r[i].bytes);
	free(rec.r);
	remote_free(mem);
	elfimg_free(img);
	return 0;
}
