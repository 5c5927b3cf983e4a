/* SPDX-License-Identifier: MIT */
/* The escaping writers with a validator: in every style the output is valid
 * UTF-8 with no C0, DEL or C1 control; a JSON string body uses only JSON's
 * escapes, an exposition label value only \\ \" \n; the buffer form is
 * NUL-terminated within its size and a prefix of the stream form. */
#include "fuzz.h"
#include "leakd/base/textesc.h"

static void check(const char *out, size_t n, enum textesc_style style)
{
	const unsigned char *s = (const unsigned char *)out;

	for (size_t i = 0; i < n;) {
		size_t run = textesc_utf8_len(s + i, n - i);

		FUZZ_REQUIRE(run > 0);
		FUZZ_REQUIRE(s[i] >= 0x20 && s[i] != 0x7f);
		FUZZ_REQUIRE(!(run == 2 && s[i] == 0xc2 && s[i + 1] <= 0x9f));
		if (s[i] == '\\' && style != TEXTESC_TEXT) {
			FUZZ_REQUIRE(i + 1 < n);
			if (style == TEXTESC_JSON)
				FUZZ_REQUIRE(strchr("\"\\/bfnrtu", s[i + 1]) != NULL);
			else
				FUZZ_REQUIRE(strchr("\\\"n", s[i + 1]) != NULL);
			i += 2;
			continue;
		}
		if (style == TEXTESC_JSON || style == TEXTESC_PROM)
			FUZZ_REQUIRE(s[i] != '"');
		i += run;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum textesc_style styles[] = { TEXTESC_TEXT, TEXTESC_JSON, TEXTESC_PROM };

	for (size_t k = 0; k < 3; k++) {
		char *out = NULL, *cstr, small[24];
		size_t n = 0;
		FILE *m = open_memstream(&out, &n);

		if (!m)
			abort();
		FUZZ_REQUIRE(textesc_write(m, (const char *)data, size, styles[k]) == 0);
		fclose(m);
		check(out, n, styles[k]);
		/* the buffer form stops at the first NUL: compare with that prefix */
		cstr = fuzz_cstr(data, size);
		textesc_buf(small, sizeof(small), cstr, styles[k]);
		FUZZ_REQUIRE(strlen(small) < sizeof(small));
		FUZZ_REQUIRE(strncmp(out, small, strlen(small)) == 0);
		free(cstr);
		free(out);
	}
	return 0;
}
