// SPDX-License-Identifier: MIT
/*
 * linetable: the three CPython line-table formats (see linetable.h).
 *
 * Each decoder walks the table from its start, as the interpreter's own
 * PyCode_Addr2Line does: tables are short (a few bytes per line) and the
 * caller caches the result per code object, so there is no index to build.
 * The formats follow CPython's Objects/lnotab_notes.txt (3.8-3.10) and
 * Objects/locations.md (3.11+); the unit tests check them against what each
 * interpreter's co_lines()/co_positions()/dis said for real code objects.
 */
#include <errno.h>
#include <stdbool.h>

#include "leakd/python/linetable.h"

enum linetable_kind linetable_kind_for_version(int major, int minor)
{
	if (major != 3 || minor < 6)
		return 0;
	if (minor <= 9)
		return LINETABLE_LNOTAB;
	if (minor == 10)
		return LINETABLE_310;
	return LINETABLE_LOCATIONS;
}

/* <= 3.9: the line is the sum of the line deltas of every pair whose
 * cumulative address is <= offset; there is always one. */
static int lnotab_line(const uint8_t *tab, size_t len, int firstlineno, uint32_t offset, int *line)
{
	uint64_t addr = 0;
	int l = firstlineno;

	if (len % 2)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		addr += tab[i];
		if (addr > offset)
			break;
		l += (int8_t)tab[i + 1];
	}
	*line = l;
	return 0;
}

/* 3.10: each pair is its own range [start, start+length) with the running
 * line, or no line when the delta is -128 (which leaves the running line). */
static int linetable310_line(const uint8_t *tab, size_t len, int firstlineno, uint32_t offset,
			     int *line)
{
	uint64_t end = 0;
	int l = firstlineno;

	if (len % 2)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		uint64_t start = end;
		int8_t delta = (int8_t)tab[i + 1];
		bool none = delta == -128;

		end += tab[i];
		if (!none)
			l += delta;
		if (offset >= start && offset < end) {
			if (none)
				return -ENOENT;
			*line = l;
			return 0;
		}
	}
	return -ENOENT;
}

/* 3.11+ varints: 6-bit groups, least significant first, 0x40 = more follow.
 * Continuation bytes never have bit 7 set (that marks an entry start). */
static int read_varint(const uint8_t *tab, size_t len, size_t *pos, uint32_t *out)
{
	uint32_t v = 0;
	unsigned shift = 0;

	for (;;) {
		uint8_t b;

		if (*pos >= len || shift > 30)
			return -EINVAL;
		b = tab[(*pos)++];
		if (b & 0x80)
			return -EINVAL;
		v |= (uint32_t)(b & 0x3f) << shift;
		shift += 6;
		if (!(b & 0x40))
			break;
	}
	*out = v;
	return 0;
}

static int read_svarint(const uint8_t *tab, size_t len, size_t *pos, int *out)
{
	uint32_t u;
	int r = read_varint(tab, len, pos, &u);

	if (r < 0)
		return r;
	*out = (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
	return 0;
}

enum {
	LOC_ONE_LINE0 = 10,
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

static int locations_line(const uint8_t *tab, size_t len, int firstlineno, uint32_t offset,
			  int *line)
{
	uint64_t end = 0;
	size_t pos = 0;
	int l = firstlineno;

	while (pos < len) {
		uint8_t head = tab[pos++];
		unsigned code = (head >> 3) & 15;
		uint64_t start = end;
		int delta = 0, r;

		if (!(head & 0x80))
			return -EINVAL;
		end += ((uint64_t)(head & 7) + 1) * 2;
		if (code == LOC_LONG || code == LOC_NO_COLUMNS) {
			r = read_svarint(tab, len, &pos, &delta);
			if (r < 0)
				return r;
		} else if (code >= LOC_ONE_LINE0 && code < LOC_NO_COLUMNS) {
			delta = (int)code - LOC_ONE_LINE0;
		}
		l += delta;
		/* The rest of the entry (end line, columns) is not needed: skip to
		 * the next entry start, as the interpreter does. */
		while (pos < len && !(tab[pos] & 0x80))
			pos++;
		if (offset >= start && offset < end) {
			if (code == LOC_NONE)
				return -ENOENT;
			*line = l;
			return 0;
		}
	}
	return -ENOENT;
}

int linetable_line(enum linetable_kind kind, const uint8_t *tab, size_t len, int firstlineno,
		   uint32_t offset, int *line)
{
	if (!line || (!tab && len))
		return -EINVAL;
	switch (kind) {
	case LINETABLE_LNOTAB:
		return lnotab_line(tab, len, firstlineno, offset, line);
	case LINETABLE_310:
		return linetable310_line(tab, len, firstlineno, offset, line);
	case LINETABLE_LOCATIONS:
		return locations_line(tab, len, firstlineno, offset, line);
	}
	return -EINVAL;
}
