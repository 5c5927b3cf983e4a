// SPDX-License-Identifier: MIT
/*
 * config: parses the daemon's "key = value" file into the settings of
 * options.h; each key's row in the options table parses its value, as for
 * the command line. No I/O besides config_load() reading the file; no
 * logging: errors come back as -errno plus one line of text naming file and
 * line.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/app/config.h"

#define CONFIG_MAX_FILE (1u << 20)	/* a config file is a few KiB; more is a mistake */

int config_set(struct leakd_opts *o, const char *key, const char *value, char *err, size_t errlen)
{
	const struct opt_setting *s = options_by_key(key);
	char why[160];
	int r;

	if (errlen)
		err[0] = '\0';
	if (!s) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	r = options_set(o, s, value, why, sizeof(why));
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	else if (r)
		snprintf(err, errlen, "invalid value for %s: '%s' (%s)", key, value, why);
	return r;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Applies one line (a NUL-terminated copy the function may cut up): a
 * comment or blank line does nothing; "key = value" sets key. On failure,
 * the reason without "FILE:LINE: " in msg. */
static int config_line(struct leakd_opts *o, char *line, char *msg, size_t msglen)
{
	char *s = trim(line);	/* also drops a CR from CRLF files */
	char *eq, *key, *value;
	size_t vlen;

	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq || eq == s) {
		snprintf(msg, msglen, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (*key == '\0') {
		snprintf(msg, msglen, "expected 'key = value'");
		return -EINVAL;
	}
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	return config_set(o, key, value, msg, msglen);
}

int config_parse(const char *text, size_t len, const char *filename, struct leakd_opts *c, char *err,
		 size_t errlen)
{
	struct leakd_opts tmp;
	const char *p = text, *end = text + len;
	char msg[512], *line = NULL;
	size_t lineno = 0;
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = options_copy(&tmp, c);
	if (ret) {
		snprintf(err, errlen, "%s: out of memory", filename);
		return ret;
	}
	/* editors on some systems write a BOM */
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = (nl ? nl : end) - p;
		bool nul = memchr(p, '\0', llen) != NULL;

		lineno++;
		free(line);
		line = nul ? NULL : strndup(p, llen);
		p = nl ? nl + 1 : end;
		if (!line) {
			ret = nul ? -EINVAL : -ENOMEM;
			snprintf(msg, sizeof(msg), "%s", nul ? "NUL byte in line" : "out of memory");
		} else {
			ret = config_line(&tmp, line, msg, sizeof(msg));
		}
		if (ret) {
			snprintf(err, errlen, "%s:%zu: %s", filename, lineno, msg);
			goto cleanup;
		}
	}
	options_free(c);
	*c = tmp;
	free(line);
	return 0;
cleanup:
	free(line);
	options_free(&tmp);
	return ret;
}

int config_load(const char *path, struct leakd_opts *c, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	/* and a FIFO, a device or a directory is no config file */
	ret = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, ret == -EINVAL ? "not a regular file" : strerror(-ret));
		close(fd);
		return ret;
	}
	/* one byte past the limit tells "too big" from "exactly the limit" */
	buf = malloc(CONFIG_MAX_FILE + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto cleanup;
	}
	while (len <= CONFIG_MAX_FILE) {
		n = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_FILE) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: larger than %u KiB, not a config file", path, CONFIG_MAX_FILE >> 10);
		goto cleanup;
	}
	ret = config_parse(buf, len, path, c, err, errlen);
cleanup:
	free(buf);
	close(fd);
	return ret;
}
