/* SPDX-License-Identifier: MIT */
/*
 * jsonw: streaming JSON emitter (see include/leakd/base/jsonw.h).
 *
 * Responsible for the bytes of every JSON record leakd prints: separators,
 * string escaping and number formatting. Strings coming from a target process
 * (type names, comm, exe) are untrusted: they go through textesc's JSON
 * style, which validates UTF-8 rather than trusting the input and turns
 * every byte of a bad sequence into U+FFFD, so a consumer's JSON parser
 * never chokes on a line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leakd/base/jsonw.h"
#include "leakd/base/textesc.h"

static void jsonw_fail(struct jsonw *w, int err)
{
	if (!w->err)
		w->err = err;
}

static int jsonw_io_err(FILE *f)
{
	(void)f;
	return errno ? -errno : -EIO;
}

static void jsonw_puts(struct jsonw *w, const char *s)
{
	if (w->err)
		return;
	errno = 0;
	if (fputs(s, w->f) == EOF)
		jsonw_fail(w, jsonw_io_err(w->f));
}

/* Called before every value: writes the ',' that separates it from its
 * predecessor in an array, and checks that a key precedes it in an object. */
static bool jsonw_before_value(struct jsonw *w)
{
	if (w->err)
		return false;
	if (w->depth > 0 && w->kind[w->depth] == '{') {
		if (!w->after_key) {
			jsonw_fail(w, -EINVAL);
			return false;
		}
		w->after_key = false;
		return true;
	}
	if (w->depth == 0 && w->need_comma[0]) {
		/* a second top-level value would not be one document */
		jsonw_fail(w, -EINVAL);
		return false;
	}
	if (w->need_comma[w->depth])
		jsonw_puts(w, ",");
	w->need_comma[w->depth] = true;
	return !w->err;
}

void jsonw_init(struct jsonw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	if (!f)
		w->err = -EINVAL;
}

static void jsonw_open(struct jsonw *w, char kind)
{
	if (!jsonw_before_value(w))
		return;
	if (w->depth >= JSONW_MAX_DEPTH) {
		jsonw_fail(w, -EINVAL);
		return;
	}
	w->depth++;
	w->kind[w->depth] = kind;
	w->need_comma[w->depth] = false;
	jsonw_puts(w, kind == '{' ? "{" : "[");
}

static void jsonw_close(struct jsonw *w, char kind)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->kind[w->depth] != kind || w->after_key) {
		jsonw_fail(w, -EINVAL);
		return;
	}
	w->depth--;
	jsonw_puts(w, kind == '{' ? "}" : "]");
}

void jsonw_obj_begin(struct jsonw *w) { jsonw_open(w, '{'); }
void jsonw_obj_end(struct jsonw *w) { jsonw_close(w, '{'); }
void jsonw_arr_begin(struct jsonw *w) { jsonw_open(w, '['); }
void jsonw_arr_end(struct jsonw *w) { jsonw_close(w, '['); }

void jsonw_key(struct jsonw *w, const char *key)
{
	int err;

	if (w->err)
		return;
	if (w->depth == 0 || w->kind[w->depth] != '{' || w->after_key || !key) {
		jsonw_fail(w, -EINVAL);
		return;
	}
	if (w->need_comma[w->depth])
		jsonw_puts(w, ",");
	w->need_comma[w->depth] = true;
	jsonw_puts(w, "\"");
	if (w->err)
		return;
	err = textesc_write(w->f, key, strlen(key), TEXTESC_JSON);
	if (err) {
		jsonw_fail(w, err);
		return;
	}
	jsonw_puts(w, "\":");
	w->after_key = true;
}

void jsonw_strn(struct jsonw *w, const char *s, size_t len)
{
	int err;

	if (!s) {
		jsonw_null(w);
		return;
	}
	if (!jsonw_before_value(w))
		return;
	jsonw_puts(w, "\"");
	if (w->err)
		return;
	err = textesc_write(w->f, s, len, TEXTESC_JSON);
	if (err) {
		jsonw_fail(w, err);
		return;
	}
	jsonw_puts(w, "\"");
}

void jsonw_str(struct jsonw *w, const char *s)
{
	jsonw_strn(w, s, s ? strlen(s) : 0);
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	char buf[32];

	if (!jsonw_before_value(w))
		return;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	jsonw_puts(w, buf);
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	char buf[32];

	if (!jsonw_before_value(w))
		return;
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	jsonw_puts(w, buf);
}

void jsonw_double(struct jsonw *w, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		jsonw_null(w);
		return;
	}
	if (!jsonw_before_value(w))
		return;
	if (v == 0)
		v = 0;	/* "-0" is valid JSON but surprises every reader */
	snprintf(buf, sizeof(buf), "%.6g", v);
	/* a locale with a decimal comma would break the number */
	for (char *p = buf; *p; p++)
		if (*p == ',')
			*p = '.';
	jsonw_puts(w, buf);
}

void jsonw_fixed(struct jsonw *w, double v, int decimals)
{
	char buf[64];

	if (!isfinite(v) || fabs(v) >= 1e18) {
		/* %f of a huge value would need hundreds of digits */
		jsonw_double(w, v);
		return;
	}
	if (!jsonw_before_value(w))
		return;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (v == 0)
		v = 0;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	for (char *p = buf; *p; p++)
		if (*p == ',')
			*p = '.';
	jsonw_puts(w, buf);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	if (!jsonw_before_value(w))
		return;
	jsonw_puts(w, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w)
{
	if (!jsonw_before_value(w))
		return;
	jsonw_puts(w, "null");
}

void jsonw_kv_str(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_str(w, s);
}

void jsonw_kv_u64(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_u64(w, v);
}

void jsonw_kv_i64(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_i64(w, v);
}

void jsonw_kv_double(struct jsonw *w, const char *key, double v)
{
	jsonw_key(w, key);
	jsonw_double(w, v);
}

void jsonw_kv_fixed(struct jsonw *w, const char *key, double v, int decimals)
{
	jsonw_key(w, key);
	jsonw_fixed(w, v, decimals);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void jsonw_kv_null(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_null(w);
}

int jsonw_finish(struct jsonw *w)
{
	if (w->err)
		return w->err;
	if (w->depth != 0 || w->after_key)
		return -EINVAL;
	return 0;
}
