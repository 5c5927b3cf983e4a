/* SPDX-License-Identifier: MIT */
/*
 * report_holders: the summary's holders (holders.h) in JSON ("holders",
 * "holders_search") and in the table (the HELD BY section). Every name
 * read from the target is escaped by the writer that prints it.
 */
#ifndef LEAKD_REPORT_HOLDERS_H
#define LEAKD_REPORT_HOLDERS_H

#include <stdio.h>

#include "leakd/holders/holders.h"
#include "leakd/base/jsonw.h"

/* Adds "holders" and "holders_search" to the open summary object. */
void report_holders_json(struct jsonw *w, const struct holders_result *r);

/* Writes the HELD BY section; returns 0 or the -errno of a failed write. */
int report_holders_table(FILE *f, const struct holders_result *r);

#endif /* LEAKD_REPORT_HOLDERS_H */
