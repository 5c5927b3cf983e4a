/* SPDX-License-Identifier: MIT */
/*
 * Line tables of CPython code objects: instruction offset -> source line.
 *
 * A frame captured from outside records (code object, instruction offset);
 * the line comes from the code object's table, whose format changed twice:
 *   LINETABLE_LNOTAB     <= 3.9  co_lnotab: (address delta u8, line delta s8)
 *                                pairs; every offset has a line.
 *   LINETABLE_310        3.10    co_linetable: (range length u8, line delta s8)
 *                                pairs, line delta -128 = the range has no line.
 *   LINETABLE_LOCATIONS  3.11+   the location table: one entry per run of
 *                                code units, first byte 1CCCCLLL (code C, length
 *                                L+1 units), then varints; code 15 = no
 *                                location, 14 long form, 13 no columns, 10-12
 *                                one-line forms (line delta C-10), 0-9 short
 *                                forms (same line).
 * Offsets are in bytes from the start of co_code (3.11+: of the adaptive
 * code), whatever the version counts in: the caller converts (f_lasti is in
 * bytes on <= 3.9 and in code units on 3.10).
 *
 * The table comes from another process: every read is bounded by `len`, and
 * a truncated or malformed table is an error, never a guess.
 */
#ifndef LEAKD_LINETABLE_H
#define LEAKD_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

enum linetable_kind {
	LINETABLE_LNOTAB = 1,
	LINETABLE_310,
	LINETABLE_LOCATIONS,
};

/* The table format of CPython major.minor; 0 for a version without one we decode. */
enum linetable_kind linetable_kind_for_version(int major, int minor);

/*
 * The source line executing at byte `offset` of a code object whose first
 * line is `firstlineno`. Returns 0 and sets *line; -ENOENT when the
 * instruction has no line (3.10+ artificial instructions, or an offset past
 * the table on 3.10+); -EINVAL for an unknown kind, a NULL table with a
 * non-zero length, or a malformed table (truncated varint or entry).
 * *line is untouched on failure.
 */
int linetable_line(enum linetable_kind kind, const uint8_t *tab, size_t len,
		   int firstlineno, uint32_t offset, int *line);

#endif /* LEAKD_LINETABLE_H */
