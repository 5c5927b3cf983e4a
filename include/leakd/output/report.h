/* SPDX-License-Identifier: MIT */
/*
 * report: plain data in (summary.h), text out.
 *
 * These writers turn the samples and summaries of summary.h into either
 * JSON lines (one object per line, a contract scripts rely on: field names
 * must not change) or an aligned table for people.
 * Nothing here allocates, reads /proc or knows about BPF; every writer takes
 * a FILE* so tests compare the output against golden files.
 */
#ifndef LEAKD_REPORT_H
#define LEAKD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "leakd/holders/holders.h"
#include "leakd/summary.h"

enum report_format {
	REPORT_FORMAT_TABLE = 0,
	REPORT_FORMAT_JSON,
};

/*
 * Each writer returns 0, -EINVAL for a bad format or NULL record, or the
 * -errno of a failed write (-EIO when stdio does not say).
 */

/* Column header for the table format; writes nothing for JSON. */
int report_write_header(FILE *f, enum report_format fmt);
int report_write_sample(FILE *f, enum report_format fmt, const struct report_sample *s);
int report_write_summary(FILE *f, enum report_format fmt, const struct report_summary *s);

/* Parses "table" / "json"; returns the format or -EINVAL. */
int report_format_parse(const char *s);

#endif /* LEAKD_REPORT_H */
