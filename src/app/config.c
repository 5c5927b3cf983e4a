// SPDX-License-Identifier: MIT
/*
 * config: parses the daemon's "key = value" file and command-line overrides
 * into struct leakd_config (procfilter.c applies its filters). One table
 * lists every key with its type and limits, so the file, the overrides and
 * the docs cannot drift apart.
 * No I/O besides config_load() reading the file; no logging: errors come back
 * as -errno plus one line of text naming file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/base/parse.h"
#include "leakd/app/config.h"
#include "leakd/app/httpd.h"

#define CONFIG_MAX_FILE (1u << 20)	/* a config file is a few KiB; more is a mistake */
#define CONFIG_MAX_PATTERN 4096
#define CONFIG_COMM_MAX 15		/* TASK_COMM_LEN - 1 */

enum config_kind {
	KIND_SECONDS,
	KIND_SHARE,
	KIND_UINT,
	KIND_LISTEN,
	KIND_URL_PATH,
	KIND_COMM_GLOB,
	KIND_GLOB,
	KIND_CGROUP,
	KIND_BOOL,
	KIND_KEYS,	/* holder_keys: shape or show */
};

struct config_key {
	const char *name;
	enum config_kind kind;
	size_t off;		/* the field; for lists the char ** */
	size_t count_off;	/* lists: the size_t count */
	double min, max;
};

#define SCALAR(n, k, f, lo, hi) { n, k, offsetof(struct leakd_config, f), 0, lo, hi }
#define LIST(n, k, f) { n, k, offsetof(struct leakd_config, f), offsetof(struct leakd_config, n_##f), 0, 0 }

static const struct config_key config_keys[] = {
	SCALAR("listen_address", KIND_LISTEN, listen_address, 0, 0),
	SCALAR("telemetry_path", KIND_URL_PATH, telemetry_path, 0, 0),
	SCALAR("census_period", KIND_SECONDS, census_period_s, 0.05, 1e7),
	SCALAR("max_pause_share", KIND_SHARE, max_pause_share, 0, 1),
	SCALAR("scan_interval", KIND_SECONDS, scan_interval_s, 0.1, 1e7),
	SCALAR("max_processes", KIND_UINT, max_processes, 1, 65536),
	SCALAR("top_types", KIND_UINT, top_types, 0, 1000),
	SCALAR("site_windows", KIND_BOOL, site_windows, 0, 0),
	SCALAR("site_window_budget", KIND_SECONDS, site_window_budget_s, 0, 3600),
	SCALAR("holder_period", KIND_SECONDS, holder_period_s, 0, 1e7),
	SCALAR("holder_keys", KIND_KEYS, holder_keys_show, 0, 0),
	LIST("include_comm", KIND_COMM_GLOB, include_comm),
	LIST("exclude_comm", KIND_COMM_GLOB, exclude_comm),
	LIST("include_exe", KIND_GLOB, include_exe),
	LIST("exclude_exe", KIND_GLOB, exclude_exe),
	LIST("include_unit", KIND_GLOB, include_unit),
	LIST("exclude_unit", KIND_GLOB, exclude_unit),
	LIST("include_cgroup", KIND_CGROUP, include_cgroup),
	LIST("exclude_cgroup", KIND_CGROUP, exclude_cgroup),
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct config_key *config_find(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!strcmp(key, config_keys[i].name))
			return &config_keys[i];
	return NULL;
}

void config_defaults(struct leakd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_address, sizeof(c->listen_address), "127.0.0.1:9477");
	snprintf(c->telemetry_path, sizeof(c->telemetry_path), "/metrics");
	c->census_period_s = 1.0;
	c->max_pause_share = 0.005;
	c->scan_interval_s = 2.0;
	c->max_processes = 256;
	c->top_types = 10;
	c->site_window_budget_s = 60;
	c->holder_period_s = 600;
}

static void list_clear(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

void config_free(struct leakd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		const struct config_key *k = &config_keys[i];

		if (k->count_off)
			list_clear((char ***)((char *)c + k->off), (size_t *)((char *)c + k->count_off));
	}
}

/* A deep copy, so config_parse() can work on it and leave *src untouched
 * when a line is wrong. */
static int config_copy(struct leakd_config *dst, const struct leakd_config *src)
{
	*dst = *src;
	/* empty every list first: a failure below frees dst, never src's strings */
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		if (!config_keys[i].count_off)
			continue;
		*(char ***)((char *)dst + config_keys[i].off) = NULL;
		*(size_t *)((char *)dst + config_keys[i].count_off) = 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		const struct config_key *k = &config_keys[i];
		char **from, ***to;
		size_t n = k->count_off ? *(const size_t *)((const char *)src + k->count_off) : 0;

		if (!n)
			continue;
		from = *(char **const *)((const char *)src + k->off);
		to = (char ***)((char *)dst + k->off);
		*to = calloc(n, sizeof(**to));
		if (!*to)
			goto fail;
		*(size_t *)((char *)dst + k->count_off) = n;
		for (size_t j = 0; j < n; j++) {
			(*to)[j] = strdup(from[j]);
			if (!(*to)[j])
				goto fail;	/* the calloc'd NULLs free fine */
		}
	}
	return 0;
fail:
	config_free(dst);
	return -ENOMEM;
}

static int parse_uint(const char *s, double min, double max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Checks a list value and returns the form stored (cgroup prefixes lose a
 * trailing '/'), or NULL with *why set. */
static char *list_value(enum config_kind kind, const char *v, const char **why)
{
	size_t len = strlen(v);
	char *s;

	if (len > CONFIG_MAX_PATTERN) {
		*why = "longer than 4096 characters";
		return NULL;
	}
	if (kind == KIND_COMM_GLOB && !has_glob_chars(v) && len > CONFIG_COMM_MAX) {
		/* the kernel truncates comm to 15 characters: this could never match */
		*why = "a comm is at most 15 characters; use a glob or include_exe";
		return NULL;
	}
	if (kind == KIND_CGROUP) {
		if (v[0] != '/') {
			*why = "a cgroup path starts with '/'";
			return NULL;
		}
		while (len > 1 && v[len - 1] == '/')
			len--;
	}
	s = strndup(v, len);
	if (!s)
		*why = NULL;	/* ENOMEM */
	return s;
}

static void set_error(char *err, size_t errlen, const char *key, const char *value, const char *why)
{
	if (why)
		snprintf(err, errlen, "invalid value for %s: '%s' (%s)", key, value, why);
	else
		snprintf(err, errlen, "invalid value for %s: '%s'", key, value);
}

int config_set(struct leakd_config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct config_key *k = config_find(key);
	void *field;	/* of the type k->kind names */
	const char *why = NULL;

	if (errlen)
		err[0] = '\0';
	if (!k) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	field = (char *)c + k->off;
	switch (k->kind) {
	case KIND_SECONDS: {
		double v;
		char range[64];

		if (parse_seconds(value, k->min, k->max, &v)) {
			snprintf(range, sizeof(range), "seconds >= %g, e.g. 2, 1.5s, 500ms, 1m", k->min);
			set_error(err, errlen, key, value, range);
			return -EINVAL;
		}
		*(double *)field = v;
		return 0;
	}
	case KIND_SHARE: {
		double v;

		if (parse_share(value, &v)) {
			set_error(err, errlen, key, value, "a share in (0, 1], e.g. 0.5% or 0.005");
			return -EINVAL;
		}
		*(double *)field = v;
		return 0;
	}
	case KIND_UINT: {
		unsigned v;
		char range[48];

		if (parse_uint(value, k->min, k->max, &v)) {
			snprintf(range, sizeof(range), "an integer %.0f-%.0f", k->min, k->max);
			set_error(err, errlen, key, value, range);
			return -EINVAL;
		}
		*(unsigned *)field = v;
		return 0;
	}
	case KIND_BOOL: {
		bool on = !strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1");

		if (!on && strcmp(value, "off") && strcmp(value, "no") && strcmp(value, "false") && strcmp(value, "0")) {
			set_error(err, errlen, key, value, "on or off");
			return -EINVAL;
		}
		*(bool *)field = on;
		return 0;
	}
	case KIND_KEYS:
		if (strcmp(value, "shape") && strcmp(value, "show")) {
			set_error(err, errlen, key, value, "shape or show");
			return -EINVAL;
		}
		*(bool *)field = !strcmp(value, "show");
		return 0;
	case KIND_LISTEN: {
		/* The server's own parser: what the config accepts, it can bind. */
		char host[HTTPD_HOST_MAX];
		uint16_t port;

		if (strlen(value) >= sizeof(c->listen_address) || httpd_parse_listen(value, host, &port)) {
			set_error(err, errlen, key, value, "host:port, :port or [ipv6]:port");
			return -EINVAL;
		}
		snprintf((char *)field, sizeof(c->listen_address), "%s", value);
		return 0;
	}
	case KIND_URL_PATH: {
		size_t len = strlen(value);

		if (value[0] != '/' || len >= sizeof(c->telemetry_path))
			why = "a path starting with '/', under 64 characters";
		for (size_t i = 0; i < len && !why; i++)
			if (!isgraph((unsigned char)value[i]) || value[i] == '?' || value[i] == '#')
				why = "no spaces, '?' or '#'";
		if (why) {
			set_error(err, errlen, key, value, why);
			return -EINVAL;
		}
		snprintf((char *)field, sizeof(c->telemetry_path), "%s", value);
		return 0;
	}
	case KIND_COMM_GLOB:
	case KIND_GLOB:
	case KIND_CGROUP: {
		char ***list = (char ***)field;
		size_t *n = (size_t *)((char *)c + k->count_off);
		char **grown, *s;

		if (!*value) {
			list_clear(list, n);
			return 0;
		}
		s = list_value(k->kind, value, &why);
		if (!s) {
			if (!why) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			set_error(err, errlen, key, value, why);
			return -EINVAL;
		}
		grown = realloc(*list, (*n + 1) * sizeof(**list));
		if (!grown) {
			free(s);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		grown[(*n)++] = s;
		*list = grown;
		return 0;
	}
	}
	return -EINVAL;
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

int config_parse(const char *text, size_t len, const char *filename, struct leakd_config *c, char *err,
		 size_t errlen)
{
	struct leakd_config tmp;
	const char *p = text, *end = text + len;
	char msg[512], *line = NULL;
	size_t lineno = 0;
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = config_copy(&tmp, c);
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
		char *s, *eq, *key, *value;

		lineno++;
		if (memchr(p, '\0', llen)) {
			snprintf(err, errlen, "%s:%zu: NUL byte in line", filename, lineno);
			ret = -EINVAL;
			goto cleanup;
		}
		free(line);
		line = strndup(p, llen);
		if (!line) {
			snprintf(err, errlen, "%s:%zu: out of memory", filename, lineno);
			ret = -ENOMEM;
			goto cleanup;
		}
		p = nl ? nl + 1 : end;
		s = trim(line);	/* also drops a CR from CRLF files */
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq || eq == s) {
			snprintf(err, errlen, "%s:%zu: expected 'key = value'", filename, lineno);
			ret = -EINVAL;
			goto cleanup;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		if (*key == '\0') {
			snprintf(err, errlen, "%s:%zu: expected 'key = value'", filename, lineno);
			ret = -EINVAL;
			goto cleanup;
		}
		{
			size_t vlen = strlen(value);

			if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
				value[vlen - 1] = '\0';
				value++;
			}
		}
		ret = config_set(&tmp, key, value, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "%s:%zu: %s", filename, lineno, msg);
			goto cleanup;
		}
	}
	config_free(c);
	*c = tmp;
	free(line);
	return 0;
cleanup:
	free(line);
	config_free(&tmp);
	return ret;
}

int config_load(const char *path, struct leakd_config *c, char *err, size_t errlen)
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

const char *config_key_name(size_t i)
{
	return i < sizeof(config_keys) / sizeof(config_keys[0]) ? config_keys[i].name : NULL;
}

int config_key_value(const struct leakd_config *c, size_t i, char *buf, size_t len)
{
	const struct config_key *k;
	const char *field;

	if (!config_key_name(i) || !buf || !len)
		return -EINVAL;
	k = &config_keys[i];
	field = (const char *)c + k->off;
	switch (k->kind) {
	case KIND_SECONDS:
		return snprintf(buf, len, "%g", *(const double *)field);
	case KIND_SHARE:
		return snprintf(buf, len, "%g%%", *(const double *)field * 100);
	case KIND_UINT:
		return snprintf(buf, len, "%u", *(const unsigned *)field);
	case KIND_BOOL:
		return snprintf(buf, len, "%s", *(const bool *)field ? "on" : "off");
	case KIND_KEYS:
		return snprintf(buf, len, "%s", *(const bool *)field ? "show" : "shape");
	case KIND_LISTEN:
	case KIND_URL_PATH:
		return snprintf(buf, len, "%s", field);
	default:	/* lists */
		return snprintf(buf, len, "%s", *(const size_t *)((const char *)c + k->count_off) ?
				"(list)" : "");
	}
}
