/* SPDX-License-Identifier: MIT */
/*
 * jsonw: streaming JSON emitter (see include/leakd/jsonw.h).
 *
 * Responsible for the bytes of every JSON record leakd prints: separators,
 * string escaping and number formatting. Strings coming from a target process
 * (type names, comm, exe) are untrusted, so the escaper validates UTF-8
 * itself rather than trusting the input, and turns every byte of a bad
 * sequence into U+FFFD: a consumer's JSON parser must never choke on a line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "leakd/jsonw.h"

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

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there do not start one: overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629). */
static size_t jsonw_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xBF;	/* allowed range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* > U+10FFFF */
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

int jsonw_escape(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	errno = 0;
	while (i < len) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char buf[8];
		size_t run;

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				/* DEL is legal JSON but invisible and terminal-hostile */
				snprintf(buf, sizeof(buf), "\\u%04x", c);
				esc = buf;
			}
		}
		if (esc) {
			if (fputs(esc, f) == EOF)
				return jsonw_io_err(f);
			i++;
			continue;
		}
		run = jsonw_utf8_len(s + i, len - i);
		if (run == 0) {
			if (fputs("\\ufffd", f) == EOF)
				return jsonw_io_err(f);
			i++;
			continue;
		}
		if (fwrite(s + i, 1, run, f) != run)
			return jsonw_io_err(f);
		i += run;
	}
	return 0;
}

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
	err = jsonw_escape(w->f, key, strlen(key));
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
	err = jsonw_escape(w->f, s, len);
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
