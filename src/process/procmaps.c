// SPDX-License-Identifier: MIT
/*
 * procmaps: parse /proc/PID/maps.
 *
 * A line is "start-end perms offset major:minor inode [padding] path", the
 * numbers in hex except the inode (decimal). The kernel pads the path to a
 * column with spaces; everything after that padding is the path: it may
 * hold spaces, end in " (deleted)", or be a pseudo-name such as "[heap]".
 * Only the trailing newline is removed, and the kernel's escapes are undone:
 * it writes a newline in a path as "\012" (seq_path's octal escape), so a
 * path must be decoded before it can be compared with readlink(exe) or
 * opened. The kernel does not escape a backslash itself, so a name holding
 * a literal "\012" decodes wrongly; target.c falls back to map_files then.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/process/procmaps.h"

static int procmaps_hex(const char **p, char stop, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	for (;; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (digits >= 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits || *s != stop)
		return -EINVAL;
	*out = v;
	*p = s + 1;
	return 0;
}

static int procmaps_dec(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	*p = s;
	return 0;
}

static bool procmaps_is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/*
 * Decodes the "\ooo" escapes of src[0..len) into dst (PROCMAPS_PATH_MAX
 * bytes, NUL-terminated). Returns the decoded length; a value of
 * PROCMAPS_PATH_MAX or more means it did not fit (dst holds a prefix).
 */
static size_t procmaps_unescape(const char *src, size_t len, char *dst)
{
	size_t i = 0, o = 0;

	while (i < len) {
		char c = src[i];

		if (c == '\\' && len - i >= 4 && src[i + 1] >= '0' && src[i + 1] <= '3' &&
		    procmaps_is_octal(src[i + 2]) && procmaps_is_octal(src[i + 3])) {
			c = (char)((src[i + 1] - '0') << 6 | (src[i + 2] - '0') << 3 | (src[i + 3] - '0'));
			i += 4;
		} else
			i++;
		if (o + 1 >= PROCMAPS_PATH_MAX)
			return PROCMAPS_PATH_MAX;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return o;
}

int procmaps_parse_line(const char *line, struct procmaps_entry *out)
{
	uint64_t start, end, offset, major, minor, inode;
	const char *p = line;
	char perms[5], path[PROCMAPS_PATH_MAX];
	size_t len;
	int i;

	if (procmaps_hex(&p, '-', &start) || procmaps_hex(&p, ' ', &end) || end < start)
		return -EINVAL;
	for (i = 0; i < 4; i++, p++) {
		if (!*p || !strchr("rwxsp-", *p))
			return -EINVAL;
		perms[i] = *p;
	}
	perms[4] = '\0';
	if (*p++ != ' ')
		return -EINVAL;
	if (procmaps_hex(&p, ' ', &offset) || procmaps_hex(&p, ':', &major) ||
	    procmaps_hex(&p, ' ', &minor) || procmaps_dec(&p, &inode))
		return -EINVAL;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	/* Anonymous mappings end right after the inode (possibly with spaces). */
	if (*p && *p != ' ' && *p != '\n')
		return -EINVAL;
	while (*p == ' ')
		p++;
	len = strcspn(p, "\n");
	if (p[len] == '\n' && p[len + 1] != '\0')
		return -EINVAL;
	len = procmaps_unescape(p, len, path);
	if (len >= PROCMAPS_PATH_MAX)
		return -ENAMETOOLONG;

	out->start = start;
	out->end = end;
	out->offset = offset;
	out->dev_major = (uint32_t)major;
	out->dev_minor = (uint32_t)minor;
	out->inode = inode;
	memcpy(out->perms, perms, sizeof(perms));
	memcpy(out->path, path, len + 1);
	return 0;
}

int procmaps_read(const char *proc_root, pid_t pid, struct procmaps_entry **out, size_t *n)
{
	struct procmaps_entry *v = NULL, *tmp;
	size_t cnt = 0, cap = 0, linecap = 0;
	char path[PATH_MAX], *line = NULL;
	FILE *f = NULL;
	int err = 0;

	if (snprintf(path, sizeof(path), "%s/%d/maps", proc_root, (int)pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	for (;;) {
		errno = 0;
		if (getline(&line, &linecap, f) < 0) {
			/* A process that exits mid-read gives ESRCH or an early EOF. */
			if (errno)
				err = -errno;
			break;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				err = -ENOMEM;
				goto cleanup;
			}
			v = tmp;
		}
		err = procmaps_parse_line(line, &v[cnt]);
		if (err)
			goto cleanup;
		cnt++;
	}
cleanup:
	free(line);
	if (f)
		fclose(f);
	if (err) {
		free(v);
		return err;
	}
	if (!cnt) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = cnt;
	return 0;
}

bool procmaps_is_file(const struct procmaps_entry *e)
{
	return e->path[0] == '/';
}

size_t procmaps_undeleted_len(const char *path)
{
	static const char deleted[] = " (deleted)";
	size_t n = strlen(path), dl = sizeof(deleted) - 1;

	return n > dl && !strcmp(path + n - dl, deleted) ? n - dl : n;
}
