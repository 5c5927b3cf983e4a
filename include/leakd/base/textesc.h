/* SPDX-License-Identifier: MIT */
/*
 * textesc: the one escaper every text writer uses for strings that come from
 * a target process (comm, exe, unit, type names, reasons built from them) or
 * from a file (config errors).
 *
 * A process can name itself (prctl(PR_SET_NAME)) or its classes with any
 * bytes, and leakd, running as root, prints those names to terminals, logs
 * and scrapers. Whatever the style, the output never holds a raw C0 control
 * (U+0000-U+001F), DEL, a C1 control (U+0080-U+009F, raw or UTF-8 encoded:
 * U+009B is a CSI on many terminals) or invalid UTF-8, so a name cannot forge
 * a line nor drive a terminal. Valid printable UTF-8 passes through.
 *
 * Styles (what each escapes, and how):
 *   TEXTESC_TEXT  stderr lines, the table, the journal MESSAGE, config errors:
 *                 '\' -> "\\", newline/CR/tab -> "\n" "\r" "\t", other C0 and
 *                 DEL -> "\xHH", C1 -> "\u00HH", each byte of an invalid
 *                 UTF-8 sequence -> "\xHH" (nothing of the original is lost).
 *   TEXTESC_JSON  the body of a JSON string (RFC 8259): '"' '\' and
 *                 \b \f \n \r \t, other controls (C0, DEL, C1) -> "\u00hh",
 *                 each byte of an invalid sequence -> "\ufffd".
 *   TEXTESC_PROM  the body of a Prometheus label value: the text format only
 *                 knows the escapes \\ \" \n, so other controls are written
 *                 as a literal backslash sequence ("\\x1b", read back as the
 *                 four characters \x1b) and invalid bytes as U+FFFD; the
 *                 exposition stays parseable and valid UTF-8.
 */
#ifndef LEAKD_TEXTESC_H
#define LEAKD_TEXTESC_H

#include <stddef.h>
#include <stdio.h>

enum textesc_style {
	TEXTESC_TEXT,
	TEXTESC_JSON,
	TEXTESC_PROM,
};

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), or 0 if
 * the bytes there do not start one: overlong forms, surrogates and code
 * points above U+10FFFF are invalid (RFC 3629).
 */
size_t textesc_utf8_len(const unsigned char *s, size_t n);

/*
 * Writes the escaped form of s[0..len) (may contain NUL bytes) to f, without
 * quotes. Returns 0, or the -errno of the failed write (-EIO if stdio does
 * not say).
 */
int textesc_write(FILE *f, const char *s, size_t len, enum textesc_style style);

/*
 * Escapes the NUL-terminated s (NULL is "") into buf of size bytes (> 0),
 * always NUL-terminated; an escape that does not fit whole is left out with
 * everything after it, so truncation never splits one. Returns buf, so it
 * can be a printf argument.
 */
const char *textesc_buf(char *buf, size_t size, const char *s, enum textesc_style style);

/* textesc_buf() in TEXTESC_TEXT style: for messages meant for people. */
static inline const char *textesc(char *buf, size_t size, const char *s)
{
	return textesc_buf(buf, size, s, TEXTESC_TEXT);
}

#endif /* LEAKD_TEXTESC_H */
