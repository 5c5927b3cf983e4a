/* SPDX-License-Identifier: MIT */
/*
 * tablew: the table writer's stream and the cells its sections share.
 *
 * The table (report.h's REPORT_FORMAT_TABLE) is written in sections: the
 * summary's own in report.c, the sites' in report_sites.c. They write
 * through a tablew, which keeps the first error of its writes, and print
 * names from the target through the one escaping cell here, so a hostile
 * name cannot drive the terminal. The section writers call tablew; tablew
 * calls none of them.
 */
#ifndef LEAKD_TABLEW_H
#define LEAKD_TABLEW_H

#include <stddef.h>
#include <stdio.h>

/* A table writer's stream and the first error of its writes: once a write
 * fails, the rest are skipped and err says why (-errno, -EIO if unknown). */
struct tablew {
	FILE *f;
	int err;
};

__attribute__((format(printf, 2, 3)))
void tablew_printf(struct tablew *o, const char *fmt, ...);

/* Writes s escaped for a terminal (textesc), "-" when NULL or empty. */
void tablew_esc(struct tablew *o, const char *s);

/* s escaped for a terminal into buf (textesc), "-" when NULL or empty;
 * returns buf. For a cell printed inside a format. */
const char *tablew_printable(char *buf, size_t len, const char *s);

/* The first error of o's writes, else -EIO if the stream has one, else 0. */
int tablew_end(const struct tablew *o);

#endif /* LEAKD_TABLEW_H */
