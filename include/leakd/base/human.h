/* SPDX-License-Identifier: MIT */
/*
 * human: numbers as people read them, locale-free, for the table, the verdict's
 * sentences and the journal. Pure.
 */
#ifndef LEAKD_HUMAN_H
#define LEAKD_HUMAN_H

#include <stddef.h>

/* "512 B", "1.5 KiB", "12.3 MiB", ... into buf (always NUL-terminated).
 * Returns buf, for use in printf arguments. */
const char *human_bytes(char *buf, size_t len, double bytes);

/* "41,200" (rounded to an integer, thousands separated, locale-free); "-" for
 * NaN. Returns buf. */
const char *human_count(char *buf, size_t len, double v);

/* A signed rate: "+1,910" for |v| >= 100, "+6.6" for >= 1, "+0.25" below;
 * "-" for NaN. No unit. Returns buf. */
const char *human_rate(char *buf, size_t len, double v);

#endif /* LEAKD_HUMAN_H */
