/* SPDX-License-Identifier: MIT */
/*
 * textesc: escaping of untrusted strings for every text output (see
 * include/leakd/base/textesc.h for the rules of each style).
 *
 * One routine, textesc_unit(), decides what a single character or invalid
 * byte becomes; the stream and buffer entry points only differ in where the
 * pieces go, so the JSON, exposition, table and log writers cannot drift
 * apart in what they let through.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/base/textesc.h"

size_t textesc_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned lo = 0x80, hi = 0xBF;	/* allowed range of the second byte */
	size_t len;

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
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

#define TEXTESC_UNIT_MAX 8	/* longest piece: "\\u009b" + NUL */

/*
 * The output for the character (or invalid byte) at s[0..n): sets *piece to
 * a static string or to out (which it fills), returns how many input bytes
 * it covers.
 */
static size_t textesc_unit(const unsigned char *s, size_t n, enum textesc_style style,
			   char out[TEXTESC_UNIT_MAX], const char **piece)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = textesc_utf8_len(s, n);
	unsigned cp;

	if (run == 0) {
		if (style == TEXTESC_TEXT) {
			snprintf(out, TEXTESC_UNIT_MAX, "\\x%c%c", hex[s[0] >> 4], hex[s[0] & 15]);
			*piece = out;
		} else
			*piece = style == TEXTESC_JSON ? "\\ufffd" : "\xef\xbf\xbd";
		return 1;
	}
	cp = run == 1 ? s[0] : run == 2 ? (unsigned)(s[0] & 0x1F) << 6 | (s[1] & 0x3F) : 0x100;
	if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F)) {
		*piece = NULL;	/* printable: the caller copies s[0..run) */
		if (cp == '\\')
			*piece = "\\\\";
		else if (cp == '"' && style != TEXTESC_TEXT)
			*piece = "\\\"";
		return run;
	}
	/* A control character, C0, DEL or C1. */
	switch (cp) {
	case '\n': *piece = "\\n"; return run;
	case '\r': if (style != TEXTESC_PROM) { *piece = "\\r"; return run; } break;
	case '\t': if (style != TEXTESC_PROM) { *piece = "\\t"; return run; } break;
	case '\b': if (style == TEXTESC_JSON) { *piece = "\\b"; return run; } break;
	case '\f': if (style == TEXTESC_JSON) { *piece = "\\f"; return run; } break;
	}
	{
		size_t o = 0;

		if (style == TEXTESC_PROM)
			out[o++] = '\\';	/* a literal backslash in the value */
		out[o++] = '\\';
		if (style == TEXTESC_JSON || cp >= 0x80) {
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
		} else
			out[o++] = 'x';
		out[o++] = hex[cp >> 4];
		out[o++] = hex[cp & 15];
		out[o] = '\0';
	}
	*piece = out;
	return run;
}

int textesc_write(FILE *f, const char *str, size_t len, enum textesc_style style)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	errno = 0;
	while (i < len) {
		char out[TEXTESC_UNIT_MAX];
		const char *piece;
		size_t run = textesc_unit(s + i, len - i, style, out, &piece);

		if (piece ? fputs(piece, f) == EOF : fwrite(s + i, 1, run, f) != run)
			return errno ? -errno : -EIO;
		i += run;
	}
	return 0;
}

const char *textesc_buf(char *buf, size_t size, const char *str, enum textesc_style style)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s), i = 0, o = 0;

	if (!buf || !size)
		return buf;
	while (i < len) {
		char out[TEXTESC_UNIT_MAX];
		const char *piece;
		size_t run = textesc_unit(s + i, len - i, style, out, &piece);
		size_t plen = piece ? strlen(piece) : run;

		if (o + plen >= size)
			break;
		memcpy(buf + o, piece ? piece : (const char *)s + i, plen);
		o += plen;
		i += run;
	}
	buf[o] = '\0';
	return buf;
}
