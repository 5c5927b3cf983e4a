// SPDX-License-Identifier: MIT
/*
 * tablew: the table's sticky-error stream and its escaped cells (see
 * tablew.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "leakd/base/textesc.h"
#include "leakd/output/tablew.h"

void tablew_printf(struct tablew *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->err)
		return;
	errno = 0;
	va_start(ap, fmt);
	r = vfprintf(o->f, fmt, ap);
	va_end(ap);
	if (r < 0)
		o->err = errno ? -errno : -EIO;
}

void tablew_esc(struct tablew *o, const char *s)
{
	if (!s || !*s)
		s = "-";
	if (!o->err)
		o->err = textesc_write(o->f, s, strlen(s), TEXTESC_TEXT);
}

const char *tablew_printable(char *buf, size_t len, const char *s)
{
	if (!s || !*s)
		s = "-";
	return textesc(buf, len, s);
}

int tablew_end(const struct tablew *o)
{
	if (o->err)
		return o->err;
	return ferror(o->f) ? -EIO : 0;
}
