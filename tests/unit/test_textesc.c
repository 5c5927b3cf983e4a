/* SPDX-License-Identifier: MIT */
/*
 * Tests for textesc, the escaper every text writer shares: each style keeps
 * printable UTF-8, and no style ever lets a C0, DEL, C1 (raw or UTF-8
 * encoded) or invalid byte through. Also the stderr line of the daemon's
 * leak events, which a hostile process name once forged.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leakd/output/journal.h"
#include "leakd/base/textesc.h"

static char *esc_write(const char *s, size_t len, enum textesc_style style)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);

	cr_assert_not_null(m);
	cr_assert_eq(textesc_write(m, s, len, style), 0);
	fclose(m);
	return buf;
}

#define ASSERT_ESC(style, in, want)                                          \
	do {                                                                 \
		char *_g = esc_write((in), sizeof(in) - 1, (style));         \
		cr_assert_str_eq(_g, (want), "got \"%s\"", _g);              \
		free(_g);                                                    \
	} while (0)

/* No byte of s is a control character or starts an invalid sequence. */
static void assert_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t run = textesc_utf8_len(p + i, n - i);

		cr_assert(run, "invalid UTF-8 at %zu in \"%s\"", i, s);
		cr_assert(p[i] >= 0x20 && p[i] != 0x7f, "control byte 0x%02x at %zu", p[i], i);
		cr_assert(!(run == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f), "C1 control at %zu", i);
		i += run;
	}
}

Test(textesc, text_style_spells_out_controls_and_keeps_the_bytes)
{
	ASSERT_ESC(TEXTESC_TEXT, "plain caf\xc3\xa9 \xf0\x9f\x90\x8d \"q\"", "plain caf\xc3\xa9 \xf0\x9f\x90\x8d \"q\"");
	ASSERT_ESC(TEXTESC_TEXT, "a\nb\rc\td\\e", "a\\nb\\rc\\td\\\\e");
	ASSERT_ESC(TEXTESC_TEXT, "\x1b]0;x\x07\x7f", "\\x1b]0;x\\x07\\x7f");
	ASSERT_ESC(TEXTESC_TEXT, "nul\0byte", "nul\\x00byte");
	/* C1 as UTF-8 (U+009B is CSI) and raw, then invalid sequences */
	ASSERT_ESC(TEXTESC_TEXT, "\xc2\x9b" "31m\xc2\x80", "\\u009b31m\\u0080");
	ASSERT_ESC(TEXTESC_TEXT, "\x9b\xff\xc3", "\\x9b\\xff\\xc3");
	ASSERT_ESC(TEXTESC_TEXT, "\xed\xa0\x80", "\\xed\\xa0\\x80");	/* lone surrogate */
	ASSERT_ESC(TEXTESC_TEXT, "\xc2\xa0", "\xc2\xa0");		/* U+00A0 is printable */
}

Test(textesc, json_style)
{
	ASSERT_ESC(TEXTESC_JSON, "a\"b\\c/d", "a\\\"b\\\\c/d");
	ASSERT_ESC(TEXTESC_JSON, "\n\r\t\b\f\x01\x7f", "\\n\\r\\t\\b\\f\\u0001\\u007f");
	ASSERT_ESC(TEXTESC_JSON, "\xc2\x9b\xc2\x85", "\\u009b\\u0085");
	ASSERT_ESC(TEXTESC_JSON, "\x9b\xc0\xaf", "\\ufffd\\ufffd\\ufffd");
}

Test(textesc, prometheus_style_uses_only_the_three_legal_escapes)
{
	ASSERT_ESC(TEXTESC_PROM, "a\"b\\c\nd", "a\\\"b\\\\c\\nd");
	/* other controls become a literal backslash sequence */
	ASSERT_ESC(TEXTESC_PROM, "\x1b[2J\t\r", "\\\\x1b[2J\\\\x09\\\\x0d");
	ASSERT_ESC(TEXTESC_PROM, "\xc2\x9b", "\\\\u009b");
	ASSERT_ESC(TEXTESC_PROM, "\xff", "\xef\xbf\xbd");
}

Test(textesc, every_byte_value_comes_out_clean_in_every_style)
{
	enum textesc_style styles[] = { TEXTESC_TEXT, TEXTESC_JSON, TEXTESC_PROM };
	char in[3];

	/* every one- and two-byte input: covers C0, DEL, raw C1, every lead
	 * byte with every follower, so encoded C1 too */
	for (size_t st = 0; st < 3; st++)
		for (int a = 0; a < 256; a++)
			for (int b = 0; b < 256; b++) {
				char *g;

				in[0] = (char)a;
				in[1] = (char)b;
				g = esc_write(in, 2, styles[st]);
				assert_clean(g);
				free(g);
			}
}

Test(textesc, buffer_form_truncates_between_escapes)
{
	char buf[8];

	cr_assert_str_eq(textesc(buf, sizeof(buf), "ab\x1b" "cd"), "ab\\x1bc");
	cr_assert_str_eq(textesc(buf, 6, "ab\x1b" "cd"), "ab");	/* "\x1b" does not fit whole */
	cr_assert_str_eq(textesc(buf, sizeof(buf), NULL), "");
	cr_assert_str_eq(textesc_buf(buf, sizeof(buf), "\"\n", TEXTESC_JSON), "\\\"\\n");
}

Test(textesc, utf8_length)
{
	cr_assert_eq(textesc_utf8_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	cr_assert_eq(textesc_utf8_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	cr_assert_eq(textesc_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	cr_assert_eq(textesc_utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	cr_assert_eq(textesc_utf8_len((const unsigned char *)"\xc1\xbf", 2), 0);
}

/* Runs journal_leak_changed with stderr captured; returns what it printed. */
static char *journal_stderr(const struct journal_leak *e)
{
	char path[] = "/tmp/leakd-textesc-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf = calloc(1, 65536);
	ssize_t n;

	cr_assert(fd >= 0 && saved >= 0 && buf);
	unlink(path);
	unsetenv("JOURNAL_STREAM");
	fflush(stderr);
	dup2(fd, 2);
	journal_leak_changed(e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, 65535, 0);
	close(fd);
	cr_assert(n > 0);
	return buf;
}

Test(textesc, a_process_name_cannot_forge_a_daemon_log_line)
{
	char *out = journal_stderr(&(struct journal_leak){
		.pid = 4242, .comm = "x\nleakd: pid 1", .exe = "/usr/bin/python3",
		.unit = "web\x1b[2J.service", .leak = true,
		.reason = "type A\nleakd: pid 1 (systemd, unit init.scope) no longer leaks: \xc2\x9b" "0m" });

	/* one line, ending in the one newline */
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "%s", out);
	out[strlen(out) - 1] = '\0';
	assert_clean(out);
	cr_assert_str_eq(out, "leakd: pid 4242 (x\\nleakd: pid 1, unit web\\x1b[2J.service) is leaking: "
			      "type A\\nleakd: pid 1 (systemd, unit init.scope) no longer leaks: \\u009b0m");
	free(out);
}
