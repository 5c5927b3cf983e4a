// SPDX-License-Identifier: MIT
/*
 * options: the table of every setting (include/leakd/app/options.h) and what
 * is done with it row by row: defaults, parsing one value, writing one value
 * back in the config file's syntax. The command line (cli.c) and the config
 * file (config.c) only find the row and call options_set(); a default is
 * written once, as text in its row, and parsed like any value. The two
 * documents printed from the table, --help and --print-config, are
 * options_print.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/app/listen.h"
#include "leakd/app/options.h"
#include "leakd/base/parse.h"

#define MAX_PATTERN 4096
#define COMM_MAX 15		/* TASK_COMM_LEN - 1 */
#define SECONDS_MAX 1e7		/* ~115 days: well inside a timespec and the loop's arithmetic */

#define F(field) offsetof(struct leakd_opts, field)
#define LIST(key, type, field, help) \
	{ NULL, 0, key, type, OPT_DAEMON, F(filter.field), F(filter.n_##field), 0, 0, NULL, NULL, NULL, \
	  NULL, help }

static int mode_parse(const char *s)
{
	return !strcmp(s, "gc") ? LEAKD_MODE_GC : !strcmp(s, "trace") ? LEAKD_MODE_TRACE : -EINVAL;
}

/* In the order of --help; the keys in the order of the shipped leakd.conf. */
static const struct opt_setting table[] = {
	{ "pid", 'p', NULL, OPT_PID, OPT_ADHOC, 0, 0, 1, 0x7fffffff, NULL, NULL, NULL, "PID",
	  "trace a running Python process (repeatable)" },
	{ "duration", 'd', NULL, OPT_SECONDS, OPT_ADHOC, F(duration_s), 0, 0.001, SECONDS_MAX, NULL, NULL, NULL,
	  "SECS", "stop after SECS (default: until targets exit or SIGINT/SIGTERM)" },
	{ "interval", 'i', NULL, OPT_SECONDS, OPT_ADHOC, F(interval_s), 0, 0.05, SECONDS_MAX, NULL, NULL, "5",
	  "SECS", "print a sample per process every SECS" },
	{ "mode", 'm', NULL, OPT_ENUM, OPT_ADHOC, F(mode), 0, 0, 0, "gc|trace", mode_parse, "gc", "gc|trace",
	  "gc: GC events and a census of live objects; trace: also allocation probes (costly)" },
	{ "format", 'f', NULL, OPT_ENUM, OPT_ADHOC, F(format), 0, 0, 0, "table|json", report_format_parse, "table",
	  "table|json", "output format: a table, or one JSON object per line" },
	{ "output", 'o', NULL, OPT_STRING, OPT_ADHOC, F(output), 0, 0, 0, NULL, NULL, NULL, "FILE",
	  "write records to FILE instead of stdout" },
	{ "web.listen-address", 0, "listen_address", OPT_LISTEN, OPT_DAEMON, F(listen_address), 0, 0, 0, NULL,
	  NULL, "127.0.0.1:9477", "ADDR", "metrics address, host:port, :port or [ipv6]:port" },
	{ "web.telemetry-path", 0, "telemetry_path", OPT_URL_PATH, OPT_DAEMON, F(telemetry_path), 0, 0, 0,
	  NULL, NULL, "/metrics", "PATH", "metrics path" },
	{ "census-period", 0, "census_period", OPT_SECONDS, OPT_BOTH, F(census_period_s), 0, 0.05, SECONDS_MAX,
	  NULL, NULL, "1", "SECS", "at most one census per SECS" },
	{ "max-pause-share", 0, "max_pause_share", OPT_SHARE, OPT_BOTH, F(max_pause_share), 0, 0, 1, NULL, NULL,
	  "0.5%", "P", "stop a target for censuses at most this share of its time (0.5% or 0.005)" },
	{ NULL, 0, "scan_interval", OPT_SECONDS, OPT_DAEMON, F(scan_interval_s), 0, 0.1, SECONDS_MAX, NULL, NULL,
	  "2", NULL, "how often /proc is rescanned for new Python processes" },
	{ NULL, 0, "max_processes", OPT_UINT, OPT_DAEMON, F(max_processes), 0, 1, 65536, NULL, NULL, "256", NULL,
	  "Python processes watched at once" },
	{ NULL, 0, "top_types", OPT_UINT, OPT_DAEMON, F(top_types), 0, 0, 1000, NULL, NULL, "10", NULL,
	  "types whose live counts are exported per process" },
	{ NULL, 0, "site_windows", OPT_ONOFF, OPT_DAEMON, F(site_windows), 0, 0, 0, NULL, NULL, "off", NULL,
	  "site windows on processes flagged as leaking" },
	{ NULL, 0, "site_window_budget", OPT_SECONDS, OPT_DAEMON, F(site_window_budget_s), 0, 0, 3600, NULL, NULL,
	  "60", NULL, "seconds of site windows per process per hour, at most" },
	{ NULL, 0, "holder_period", OPT_SECONDS, OPT_DAEMON, F(holder_period_s), 0, 0, SECONDS_MAX, NULL, NULL,
	  "600", NULL, "at most one holder search per leaking process per period; 0: none" },
	{ NULL, 0, "holder_keys", OPT_ENUM, OPT_DAEMON, F(holder_keys), 0, 0, 0, "shape|show", NULL, "shape", NULL,
	  "dict keys on holder paths: by their type only, or their text" },
	LIST("include_comm", OPT_LIST_COMM, include_comm, "globs on the process name"),
	LIST("exclude_comm", OPT_LIST_COMM, exclude_comm, "globs on the process name"),
	LIST("include_exe", OPT_LIST_GLOB, include_exe, "globs on the executable path"),
	LIST("exclude_exe", OPT_LIST_GLOB, exclude_exe, "globs on the executable path"),
	LIST("include_unit", OPT_LIST_GLOB, include_unit, "globs on the systemd unit"),
	LIST("exclude_unit", OPT_LIST_GLOB, exclude_unit, "globs on the systemd unit"),
	LIST("include_cgroup", OPT_LIST_CGROUP, include_cgroup, "cgroup v2 path prefixes"),
	LIST("exclude_cgroup", OPT_LIST_CGROUP, exclude_cgroup, "cgroup v2 path prefixes"),
	{ "no-freeze", 0, "no_freeze", OPT_FLAG, OPT_BOTH, F(no_freeze), 0, 0, 0, NULL, NULL, "off", NULL,
	  "do not stop the target during a census (tolerate torn lists)" },
	{ "holders", 0, NULL, OPT_FLAG, OPT_ADHOC, F(holders), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "say what holds the top types even when nothing leaks" },
	{ "graph", 0, NULL, OPT_STRING, OPT_ADHOC, F(graph_path), 0, 0, 0, NULL, NULL, NULL, "FILE",
	  "write the holders' back-reference graph (Graphviz dot)" },
	{ "site-window", 0, NULL, OPT_SECONDS, OPT_ADHOC, F(site_window_s), 0, 0, SECONDS_MAX, NULL, NULL, "10",
	  "SECS", "record for SECS the stacks allocating a growing class (0: never)" },
	{ "sites", 0, NULL, OPT_FLAG, OPT_ADHOC, F(sites_at_start), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "open site windows from the start, without waiting for the verdict" },
	{ "sample-bytes", 0, NULL, OPT_BYTES, OPT_ADHOC, F(sample_bytes), 0, 0, 1 << 30, NULL, NULL, "512k", "N",
	  "trace mode: one allocation's stack per N bytes on average (0: never)" },
	{ "summary-only", 0, NULL, OPT_FLAG, OPT_ADHOC, F(quiet_samples), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "print only the final summary per process" },
	{ "fail-on-leak", 0, NULL, OPT_FLAG, OPT_ADHOC, F(fail_on_leak), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "exit with status 3 when a leak is flagged" },
	{ "ringbuf-mb", 0, "ringbuf_mb", OPT_MIB, OPT_BOTH, F(ringbuf_bytes), 0, 1, 1024, NULL, NULL, "16", "N",
	  "BPF ring buffer size in MiB (a power of two)" },
	{ "proc-root", 0, NULL, OPT_STRING, OPT_BOTH, F(proc_root), 0, 0, 0, NULL, NULL, "/proc", "DIR", NULL },
	{ "daemon", 0, NULL, OPT_FLAG, OPT_BOTH, F(daemon), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "watch every Python process on the host (gc mode), export metrics, log leaks" },
	{ "config", 0, NULL, OPT_STRING, OPT_DAEMON, F(config_path), 0, 0, 0, NULL, NULL, NULL, "FILE",
	  "daemon configuration (default " OPTIONS_DEFAULT_CONFIG " if present)" },
	{ "print-config", 0, NULL, OPT_FLAG, OPT_DAEMON, F(print_config), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "print the settings in effect after the file and the command line, and exit" },
	{ "help", 'h', NULL, OPT_FLAG, OPT_BOTH, F(help), 0, 0, 0, NULL, NULL, NULL, NULL, "this text" },
	{ "version", 'V', NULL, OPT_FLAG, OPT_BOTH, F(version), 0, 0, 0, NULL, NULL, NULL, NULL,
	  "print the version" },
};

#define NSETTINGS (sizeof(table) / sizeof(table[0]))
_Static_assert(NSETTINGS <= OPTIONS_MAX, "the command line's getopt tables hold OPTIONS_MAX rows");

_Static_assert(sizeof(enum leakd_mode) == sizeof(int) && sizeof(enum report_format) == sizeof(int) &&
		       sizeof(enum leakd_holder_keys) == sizeof(int),
	       "OPT_ENUM fields are int-sized");

const struct opt_setting *options_table(size_t *n)
{
	*n = NSETTINGS;
	return table;
}

const struct opt_setting *options_by_flag(const char *flag)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (table[i].flag && !strcmp(table[i].flag, flag))
			return &table[i];
	return NULL;
}

const struct opt_setting *options_by_short(char c)
{
	for (size_t i = 0; c && i < NSETTINGS; i++)
		if (table[i].short_flag == c)
			return &table[i];
	return NULL;
}

const struct opt_setting *options_by_key(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (table[i].key && !strcmp(table[i].key, key))
			return &table[i];
	return NULL;
}

const char *options_modes_name(unsigned modes)
{
	return modes == OPT_ADHOC ? "ad hoc sessions only" : modes == OPT_DAEMON ? "--daemon only" : "both modes";
}

bool options_is_list(const struct opt_setting *s)
{
	return s->type == OPT_LIST_COMM || s->type == OPT_LIST_GLOB || s->type == OPT_LIST_CGROUP;
}

static void *field_of(struct leakd_opts *o, const struct opt_setting *s)
{
	return (char *)o + s->off;
}

static const void *cfield_of(const struct leakd_opts *o, const struct opt_setting *s)
{
	return (const char *)o + s->off;
}

static void list_clear(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

void options_free(struct leakd_opts *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < NSETTINGS; i++)
		if (options_is_list(&table[i]))
			list_clear(field_of(o, &table[i]), (size_t *)((char *)o + table[i].count_off));
}

void options_defaults(struct leakd_opts *o)
{
	char why[160];

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < NSETTINGS; i++)
		if (table[i].def && options_set(o, &table[i], table[i].def, why, sizeof(why)))
			abort();	/* a default the table's own parser refuses: caught by every test */
}

int options_copy(struct leakd_opts *dst, const struct leakd_opts *src)
{
	*dst = *src;
	/* empty every list first: a failure below frees dst, never src's strings */
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (!options_is_list(&table[i]))
			continue;
		*(char ***)field_of(dst, &table[i]) = NULL;
		*(size_t *)((char *)dst + table[i].count_off) = 0;
	}
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct opt_setting *s = &table[i];
		size_t n = options_is_list(s) ? *(const size_t *)((const char *)src + s->count_off) : 0;
		char **from = n ? *(char **const *)cfield_of(src, s) : NULL;
		char ***to = field_of(dst, s);

		if (!n)
			continue;
		*to = calloc(n, sizeof(**to));
		if (!*to)
			goto fail;
		*(size_t *)((char *)dst + s->count_off) = n;
		for (size_t j = 0; j < n; j++) {
			(*to)[j] = strdup(from[j]);
			if (!(*to)[j])
				goto fail;	/* the calloc'd NULLs free fine */
		}
	}
	return 0;
fail:
	options_free(dst);
	return -ENOMEM;
}

static int parse_uint(const char *s, double min, double max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The numeric types: the value, or -EINVAL with the range in why. */
static int set_number(struct leakd_opts *o, const struct opt_setting *s, const char *v, char *why, size_t len)
{
	void *field = field_of(o, s);
	unsigned long n;
	uint64_t bytes;
	double d;

	switch (s->type) {
	case OPT_SECONDS:
		if (parse_seconds(v, s->min, s->max, &d))
			break;
		*(double *)field = d;
		return 0;
	case OPT_SHARE:
		if (parse_share(v, &d))
			break;
		*(double *)field = d;
		return 0;
	case OPT_UINT:
		if (parse_uint(v, s->min, s->max, &n))
			break;
		*(unsigned *)field = (unsigned)n;
		return 0;
	case OPT_BYTES:
		if (parse_bytes(v, (uint64_t)s->max, &bytes))
			break;
		*(uint64_t *)field = bytes;
		return 0;
	case OPT_MIB:
		if (parse_uint(v, s->min, s->max, &n) || (n & (n - 1)))
			break;
		*(size_t *)field = (size_t)n << 20;
		return 0;
	case OPT_PID:
		if (parse_uint(v, s->min, s->max, &n))
			break;
		if (o->npids == LEAKD_MAX_PIDS) {
			snprintf(why, len, "at most %d of them", LEAKD_MAX_PIDS);
			return -EINVAL;
		}
		o->pids[o->npids++] = (pid_t)n;
		return 0;
	default:
		return -EINVAL;
	}
	switch (s->type) {
	case OPT_SECONDS:
		snprintf(why, len, "seconds, from %g to %.0f; e.g. 2, 1.5s, 500ms, 1m", s->min, s->max);
		break;
	case OPT_SHARE:
		snprintf(why, len, "a share in (0, 1], e.g. 0.5%% or 0.005");
		break;
	case OPT_BYTES:
		snprintf(why, len, "bytes, e.g. 512k or 1M, at most %.0fM", s->max / (1 << 20));
		break;
	case OPT_MIB:
		snprintf(why, len, "a power of two, %.0f-%.0f", s->min, s->max);
		break;
	case OPT_PID:
		snprintf(why, len, "a process id");
		break;
	default:
		snprintf(why, len, "an integer %.0f-%.0f", s->min, s->max);
	}
	return -EINVAL;
}

/* The index of v among s->words ("gc|trace"), or -EINVAL. */
static int word_index(const struct opt_setting *s, const char *v)
{
	const char *w = s->words;
	int i = 0;

	if (s->parse_word)
		return s->parse_word(v);
	for (size_t vl = strlen(v); *w; i++) {
		size_t wl = strcspn(w, "|");

		if (wl == vl && !strncmp(w, v, wl))
			return i;
		w += wl + (w[wl] == '|');
	}
	return -EINVAL;
}

/* "gc|trace" as "gc or trace". */
static void words_or(const char *words, char *out, size_t len)
{
	size_t k = 0;

	for (const char *w = words; *w && k + 5 < len; w++) {
		if (*w == '|') {
			memcpy(out + k, " or ", 4);
			k += 4;
		} else {
			out[k++] = *w;
		}
	}
	if (len)
		out[k < len ? k : len - 1] = '\0';
}

/* The types whose values are words: on/off, one of the enum's words. */
static int set_word(struct leakd_opts *o, const struct opt_setting *s, const char *v, char *why, size_t len)
{
	static const char *const on[] = { "on", "yes", "true", "1" }, *const off[] = { "off", "no", "false", "0" };
	int i;

	/* A flag on the command line has no value: it sets the setting; in the
	 * config file (a flag with a key) it takes on/off like OPT_ONOFF. */
	if (s->type == OPT_FLAG && (!v || !*v)) {
		*(bool *)field_of(o, s) = true;
		return 0;
	}
	if (s->type == OPT_ONOFF || s->type == OPT_FLAG) {
		for (i = 0; i < 4; i++)
			if (!strcmp(v, on[i]) || !strcmp(v, off[i])) {
				*(bool *)field_of(o, s) = !strcmp(v, on[i]);
				return 0;
			}
		snprintf(why, len, "on or off");
		return -EINVAL;
	}
	i = word_index(s, v);
	if (i < 0) {
		words_or(s->words, why, len);
		return -EINVAL;
	}
	*(int *)field_of(o, s) = i;
	return 0;
}

/* Strings: kept as given (a path), or checked into their array. */
static int set_text(struct leakd_opts *o, const struct opt_setting *s, const char *v, char *why, size_t len)
{
	char host[LISTEN_HOST_MAX];
	uint16_t port;
	size_t vl = strlen(v);

	switch (s->type) {
	case OPT_STRING:
		*(const char **)field_of(o, s) = v;
		return 0;
	case OPT_LISTEN:
		/* The server's own parser: what is accepted here, it can bind. */
		if (vl >= sizeof(o->listen_address) || listen_parse(v, host, &port)) {
			snprintf(why, len, "host:port, :port or [ipv6]:port");
			return -EINVAL;
		}
		break;
	case OPT_URL_PATH:
		if (v[0] != '/' || vl >= sizeof(o->telemetry_path)) {
			snprintf(why, len, "a path starting with '/', under 64 characters");
			return -EINVAL;
		}
		for (size_t i = 0; i < vl; i++)
			if (!isgraph((unsigned char)v[i]) || v[i] == '?' || v[i] == '#') {
				snprintf(why, len, "no spaces, '?' or '#'");
				return -EINVAL;
			}
		break;
	default:
		return -EINVAL;
	}
	memcpy(field_of(o, s), v, vl + 1);
	return 0;
}

/* Checks a list value and returns the form stored (cgroup prefixes lose a
 * trailing '/'), or NULL with *why_text set (NULL: out of memory). */
static char *list_value(enum opt_type type, const char *v, const char **why_text)
{
	size_t len = strlen(v);
	char *s;

	*why_text = NULL;
	if (len > MAX_PATTERN) {
		*why_text = "longer than 4096 characters";
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20) {
			/* --print-config writes one pattern a line */
			*why_text = "a control character";
			return NULL;
		}
	if (type == OPT_LIST_COMM && !strpbrk(v, "*?[") && len > COMM_MAX) {
		/* the kernel truncates comm to 15 characters: this could never match */
		*why_text = "a comm is at most 15 characters; use a glob or include_exe";
		return NULL;
	}
	if (type == OPT_LIST_CGROUP) {
		if (v[0] != '/') {
			*why_text = "a cgroup path starts with '/'";
			return NULL;
		}
		while (len > 1 && v[len - 1] == '/')
			len--;
	}
	s = strndup(v, len);
	return s;
}

/* A list appends one pattern; an empty value clears it. */
static int set_list(struct leakd_opts *o, const struct opt_setting *s, const char *v, char *why, size_t len)
{
	char ***list = field_of(o, s);
	size_t *n = (size_t *)((char *)o + s->count_off);
	const char *why_text;
	char **grown, *p;

	if (!*v) {
		list_clear(list, n);
		return 0;
	}
	p = list_value(s->type, v, &why_text);
	if (!p) {
		snprintf(why, len, "%s", why_text ? why_text : "out of memory");
		return why_text ? -EINVAL : -ENOMEM;
	}
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown) {
		free(p);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	grown[(*n)++] = p;
	*list = grown;
	return 0;
}

int options_set(struct leakd_opts *o, const struct opt_setting *s, const char *value, char *why,
		size_t whylen)
{
	if (whylen)
		why[0] = '\0';
	switch (s->type) {
	case OPT_FLAG:
	case OPT_ONOFF:
	case OPT_ENUM:
		return set_word(o, s, value, why, whylen);
	case OPT_STRING:
	case OPT_LISTEN:
	case OPT_URL_PATH:
		return set_text(o, s, value, why, whylen);
	case OPT_LIST_COMM:
	case OPT_LIST_GLOB:
	case OPT_LIST_CGROUP:
		return set_list(o, s, value, why, whylen);
	default:
		return set_number(o, s, value, why, whylen);
	}
}

/* A list's patterns, one a line. */
static int list_join(char *const *list, size_t n, char *buf, size_t len)
{
	size_t k = 0;

	if (len)
		buf[0] = '\0';
	for (size_t j = 0; j < n; j++)
		k += (size_t)snprintf(k < len ? buf + k : NULL, k < len ? len - k : 0, "%s%s", j ? "\n" : "", list[j]);
	return (int)k;
}

int options_value(const struct leakd_opts *o, const struct opt_setting *s, char *buf, size_t len)
{
	const void *field = cfield_of(o, s);
	const char *w;
	int i;

	switch (s->type) {
	case OPT_SECONDS:
		return snprintf(buf, len, "%g", *(const double *)field);
	case OPT_SHARE:
		return snprintf(buf, len, "%g%%", *(const double *)field * 100);
	case OPT_UINT:
		return snprintf(buf, len, "%u", *(const unsigned *)field);
	case OPT_BYTES:
		return snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
	case OPT_MIB:
		return snprintf(buf, len, "%zu", *(const size_t *)field >> 20);
	case OPT_FLAG:
	case OPT_ONOFF:
		return snprintf(buf, len, "%s", *(const bool *)field ? "on" : "off");
	case OPT_ENUM:
		for (w = s->words, i = *(const int *)field; i > 0 && strchr(w, '|'); i--)
			w = strchr(w, '|') + 1;
		return snprintf(buf, len, "%.*s", (int)strcspn(w, "|"), w);
	case OPT_STRING:
		return snprintf(buf, len, "%s", *(const char *const *)field ? *(const char *const *)field : "");
	case OPT_LISTEN:
	case OPT_URL_PATH:
		return snprintf(buf, len, "%s", (const char *)field);
	case OPT_PID:
		return snprintf(buf, len, "%zu", o->npids);
	default:	/* lists */
		return list_join(*(char *const *const *)field, *(const size_t *)((const char *)o + s->count_off),
				 buf, len);
	}
}
