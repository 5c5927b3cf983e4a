// SPDX-License-Identifier: MIT
/*
 * linetable tests: the decoder must give, for every instruction of real code
 * objects, the line the interpreter itself gave (co_positions() 3.11+,
 * co_lines() 3.10, dis.findlinestarts() before). The fixtures under
 * tests/fixtures/linetable/ were dumped by dump.py from each interpreter of
 * the matrix (regen.sh); each covers line jumps past one byte both ways,
 * EXTENDED_ARG, lines longer than 255 bytes of code and, from 3.10, instructions
 * without a line. A few hand-made tables cover malformed input.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/python/linetable.h"

#define MAX_TABLE 8192
#define MAX_UNITS 4096

struct dumped_code {
	char name[128];
	int firstlineno;
	size_t size;
	uint8_t table[MAX_TABLE];
	size_t table_len;
	int lines[MAX_UNITS];	/* INT32_MIN: no line */
	size_t nlines;
};

static const char *fixture_dir(char *buf, size_t cap)
{
	const char *dir = getenv("LEAKD_FIXTURES");

	snprintf(buf, cap, "%s/linetable", dir ? dir : "tests/fixtures");
	return buf;
}

static void parse_hex(const char *hex, struct dumped_code *c)
{
	size_t n = strlen(hex);

	cr_assert(n % 2 == 0 && n / 2 <= MAX_TABLE, "table of %s: bad hex", c->name);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		c->table[i] = (uint8_t)v;
	}
	c->table_len = n / 2;
}

static void parse_lines(char *s, struct dumped_code *c)
{
	c->nlines = 0;
	for (char *tok = strtok(s, " \n"); tok; tok = strtok(NULL, " \n")) {
		cr_assert_lt(c->nlines, MAX_UNITS);
		c->lines[c->nlines++] = strcmp(tok, "-") == 0 ? INT32_MIN : atoi(tok);
	}
}

struct file_stats {
	size_t codes, units, none_lines, big_up, big_down;
};

/* Every 2-byte unit of one dumped code object, decoded and compared. */
static void check_code(const char *file, enum linetable_kind kind, const struct dumped_code *c,
		       struct file_stats *st)
{
	int prev = c->firstlineno;

	cr_assert_eq(c->nlines, c->size / 2, "%s %s: %zu lines for %zu bytes", file, c->name,
		     c->nlines, c->size);
	for (size_t u = 0; u < c->nlines; u++) {
		int line = -1, r;

		r = linetable_line(kind, c->table, c->table_len, c->firstlineno, (uint32_t)(u * 2),
				   &line);
		if (c->lines[u] == INT32_MIN) {
			cr_assert_eq(r, -ENOENT, "%s %s offset %zu: expected no line, got r=%d line=%d",
				     file, c->name, u * 2, r, line);
			st->none_lines++;
			continue;
		}
		cr_assert_eq(r, 0, "%s %s offset %zu: r=%d, expected line %d", file, c->name, u * 2,
			     r, c->lines[u]);
		cr_assert_eq(line, c->lines[u], "%s %s offset %zu: line %d, expected %d", file,
			     c->name, u * 2, line, c->lines[u]);
		if (line - prev > 127)
			st->big_up++;
		if (line - prev < -128)
			st->big_down++;
		prev = line;
	}
	st->units += c->nlines;
	st->codes++;
}

static void check_file(const char *dir, const char *name, struct file_stats *st)
{
	static struct dumped_code c;
	static char buf[MAX_UNITS * 8 + MAX_TABLE * 2 + 64];
	char path[512];
	int major = 0, minor = 0;
	enum linetable_kind kind = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%.300s/%.200s", dir, name);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "fixture %s", path);
	memset(&c, 0, sizeof(c));
	while (fgets(buf, sizeof(buf), fp)) {
		size_t n = strlen(buf);

		cr_assert(n && buf[n - 1] == '\n', "%s: line too long", name);
		buf[n - 1] = 0;
		if (sscanf(buf, "# python %d.%d", &major, &minor) == 2) {
			kind = linetable_kind_for_version(major, minor);
			cr_assert_neq(kind, 0, "%s: no table kind for %d.%d", name, major, minor);
		} else if (strncmp(buf, "code ", 5) == 0) {
			memset(&c, 0, sizeof(c));
			snprintf(c.name, sizeof(c.name), "%.100s", buf + 5);
		} else if (sscanf(buf, "firstlineno %d", &c.firstlineno) == 1) {
		} else if (sscanf(buf, "size %zu", &c.size) == 1) {
		} else if (strncmp(buf, "table ", 6) == 0 || strcmp(buf, "table") == 0) {
			parse_hex(buf[5] ? buf + 6 : "", &c);
		} else if (strncmp(buf, "lines ", 6) == 0) {
			cr_assert_neq(kind, 0, "%s: code before the version line", name);
			parse_lines(buf + 6, &c);
			check_code(name, kind, &c, st);
		} else {
			cr_assert_fail("%s: unexpected line '%s'", name, buf);
		}
	}
	fclose(fp);
	cr_assert_gt(st->codes, 10, "%s: only %zu code objects", name, st->codes);
	/* The sample must really exercise the hard cases on every version. */
	cr_assert_gt(st->big_up, 0, "%s: no line jump over 127", name);
	cr_assert_gt(st->big_down, 0, "%s: no line jump under -128", name);
	if (kind != LINETABLE_LNOTAB)
		cr_assert_gt(st->none_lines, 0, "%s: no instruction without a line", name);
}

Test(linetable, decodes_every_dumped_interpreter)
{
	char dir[512];
	struct dirent *de;
	DIR *d;
	int files = 0;
	bool seen[15] = { false };

	fixture_dir(dir, sizeof(dir));
	d = opendir(dir);
	cr_assert_not_null(d, "fixture dir %s", dir);
	while ((de = readdir(d))) {
		struct file_stats st = { 0 };
		const char *dash = strchr(de->d_name, '-');
		size_t n = strlen(de->d_name);
		int major, minor;

		if (n < 4 || strcmp(de->d_name + n - 4, ".txt") || !dash)
			continue;
		check_file(dir, de->d_name, &st);
		if (sscanf(dash + 1, "%d.%d", &major, &minor) == 2 && minor >= 0 && minor < 15)
			seen[minor] = true;
		files++;
	}
	closedir(d);
	/* 3.8 through 3.14 each have at least one dump. */
	for (int m = 8; m <= 14; m++)
		cr_assert(seen[m], "no line-table fixture for 3.%d", m);
	cr_assert_geq(files, 7);
}

Test(linetable, kind_per_version)
{
	cr_assert_eq(linetable_kind_for_version(3, 8), LINETABLE_LNOTAB);
	cr_assert_eq(linetable_kind_for_version(3, 9), LINETABLE_LNOTAB);
	cr_assert_eq(linetable_kind_for_version(3, 10), LINETABLE_310);
	cr_assert_eq(linetable_kind_for_version(3, 11), LINETABLE_LOCATIONS);
	cr_assert_eq(linetable_kind_for_version(3, 14), LINETABLE_LOCATIONS);
	cr_assert_eq(linetable_kind_for_version(2, 7), 0);
}

Test(linetable, lnotab_past_the_end_keeps_the_last_line)
{
	/* +4 bytes +1 line, +4 bytes -2 lines (s8 0xfe) */
	const uint8_t tab[] = { 4, 1, 4, 0xfe };
	int line = 0;

	cr_assert_eq(linetable_line(LINETABLE_LNOTAB, tab, sizeof(tab), 10, 0, &line), 0);
	cr_assert_eq(line, 10);
	cr_assert_eq(linetable_line(LINETABLE_LNOTAB, tab, sizeof(tab), 10, 6, &line), 0);
	cr_assert_eq(line, 11);
	cr_assert_eq(linetable_line(LINETABLE_LNOTAB, tab, sizeof(tab), 10, 100, &line), 0);
	cr_assert_eq(line, 9);
}

Test(linetable, past_the_table_has_no_line_on_310_and_later)
{
	const uint8_t t310[] = { 6, 1 };
	const uint8_t t311[] = { 0x80 | (11 << 3) | 2, 1, 5 };	/* one-line form, +1, 3 units */
	int line = 0;

	cr_assert_eq(linetable_line(LINETABLE_310, t310, sizeof(t310), 1, 4, &line), 0);
	cr_assert_eq(line, 2);
	cr_assert_eq(linetable_line(LINETABLE_310, t310, sizeof(t310), 1, 6, &line), -ENOENT);
	cr_assert_eq(linetable_line(LINETABLE_LOCATIONS, t311, sizeof(t311), 1, 4, &line), 0);
	cr_assert_eq(line, 2);
	cr_assert_eq(linetable_line(LINETABLE_LOCATIONS, t311, sizeof(t311), 1, 6, &line), -ENOENT);
}

Test(linetable, malformed_tables_are_errors)
{
	/* long form whose line varint never ends */
	const uint8_t trunc[] = { 0x80 | (14 << 3), 0x41, 0x41 };
	/* first byte without the entry-start bit */
	const uint8_t nostart[] = { 0x10, 0x00 };
	/* varint longer than 32 bits */
	const uint8_t huge[] = { 0x80 | (13 << 3), 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f };
	const uint8_t odd[] = { 2, 1, 2 };
	int line = 42;

	cr_assert_eq(linetable_line(LINETABLE_LOCATIONS, trunc, sizeof(trunc), 1, 0, &line), -EINVAL);
	cr_assert_eq(linetable_line(LINETABLE_LOCATIONS, nostart, sizeof(nostart), 1, 0, &line),
		     -EINVAL);
	cr_assert_eq(linetable_line(LINETABLE_LOCATIONS, huge, sizeof(huge), 1, 0, &line), -EINVAL);
	cr_assert_eq(linetable_line(LINETABLE_310, odd, sizeof(odd), 1, 0, &line), -EINVAL);
	cr_assert_eq(linetable_line(LINETABLE_LNOTAB, odd, sizeof(odd), 1, 0, &line), -EINVAL);
	cr_assert_eq(linetable_line(LINETABLE_LNOTAB, NULL, 4, 1, 0, &line), -EINVAL);
	cr_assert_eq(linetable_line(0, odd, 2, 1, 0, &line), -EINVAL);
	cr_assert_eq(line, 42, "line untouched on failure");
}

Test(linetable, empty_tables)
{
	int line = 0;

	cr_assert_eq(linetable_line(LINETABLE_LNOTAB, NULL, 0, 7, 10, &line), 0);
	cr_assert_eq(line, 7);
	cr_assert_eq(linetable_line(LINETABLE_LOCATIONS, NULL, 0, 7, 0, &line), -ENOENT);
}
