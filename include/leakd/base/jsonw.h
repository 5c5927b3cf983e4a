/* SPDX-License-Identifier: MIT */
/*
 * jsonw: a tiny streaming JSON emitter for one-line records.
 *
 * The caller owns a struct jsonw on its stack, points it at a FILE*, and emits
 * values in document order; the writer inserts the commas and colons, so the
 * report code reads like the record it produces. Strings are escaped per
 * RFC 8259 by textesc (TEXTESC_JSON): '"', '\\' and control characters (C0,
 * DEL, C1) are escaped, valid UTF-8 passes through untouched, and each byte
 * of an invalid UTF-8 sequence becomes U+FFFD, so the output is always valid
 * UTF-8 JSON whatever a target process put in its type names or command line. Doubles are printed with at most 6
 * significant digits; NaN and infinities become null (JSON has no spelling for
 * them). Nothing is pretty-printed: one record per line is the contract.
 *
 * Errors are sticky: after the first failed write or misuse every call is a
 * no-op and jsonw_finish() reports it, so callers check once.
 */
#ifndef LEAKD_JSONW_H
#define LEAKD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
	FILE *f;
	int err;			/* 0 or the first -errno seen */
	int depth;
	bool need_comma[JSONW_MAX_DEPTH + 1];
	bool after_key;			/* a key was written, a value must follow */
	char kind[JSONW_MAX_DEPTH + 1];	/* '{' or '[' per open level */
};

void jsonw_init(struct jsonw *w, FILE *f);

void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);

/* Object member name; must be followed by exactly one value. */
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_str(struct jsonw *w, const char *s);			/* NULL -> null */
void jsonw_strn(struct jsonw *w, const char *s, size_t len);	/* may contain NUL bytes */
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_double(struct jsonw *w, double v);	/* %.6g, non-finite -> null */
/* Fixed decimals (0..9), for values where 6 significant digits are too few,
 * e.g. unix timestamps; non-finite -> null. */
void jsonw_fixed(struct jsonw *w, double v, int decimals);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* key + value shorthands */
void jsonw_kv_str(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kv_i64(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_double(struct jsonw *w, const char *key, double v);
void jsonw_kv_fixed(struct jsonw *w, const char *key, double v, int decimals);
void jsonw_kv_bool(struct jsonw *w, const char *key, bool v);
void jsonw_kv_null(struct jsonw *w, const char *key);

/*
 * Ends the document. Returns 0 if every value was written and all containers
 * were closed, -EINVAL on misuse (unbalanced containers, value without key,
 * nesting deeper than JSONW_MAX_DEPTH), or the -errno of the first failed
 * write (-EIO when stdio does not say). Does not write a newline.
 */
int jsonw_finish(struct jsonw *w);

#endif /* LEAKD_JSONW_H */
