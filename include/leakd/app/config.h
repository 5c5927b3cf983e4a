/* SPDX-License-Identifier: MIT */
/*
 * config: the daemon's configuration file (/etc/leakd/leakd.conf) read into
 * the settings of options.h. Each key is a row of the options table, parsed
 * by options_set() as its command-line flag is; systemd/leakd.conf documents
 * every key. Not pure: config_load() reads the file; the rest is text in,
 * settings out, errors as "FILE:LINE: ..." text for the caller to print once.
 *
 * Syntax: one "key = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored ('#' elsewhere is part of the value,
 * globs and paths may hold one). Whitespace around key and value is dropped;
 * a value in double quotes keeps its spaces. Scalar keys may repeat, the last
 * one wins. List keys (include_*, exclude_*) append one pattern per line; an
 * empty value clears the list given so far.
 */
#ifndef LEAKD_CONFIG_H
#define LEAKD_CONFIG_H

#include <stddef.h>

#include "leakd/app/options.h"

/* Applies the lines of text[0..len) to *o (which holds defaults or earlier
 * settings). filename only names the source in messages. Returns 0, or
 * -EINVAL with "FILE:LINE: unknown key 'x'", "FILE:LINE: invalid value for
 * census_period: 'abc' (...)" or "FILE:LINE: expected 'key = value'" in err,
 * or -ENOMEM ("out of memory"). err is always filled on failure; *o is then
 * unchanged. */
int config_parse(const char *text, size_t len, const char *filename, struct leakd_opts *o, char *err,
		 size_t errlen);

/* Reads path and applies it as config_parse() does. Returns 0, or -errno
 * (-ENOENT, -EACCES, -EFBIG past 1 MiB, -EINVAL for anything but a regular
 * file: a FIFO is refused, never waited on, ...) with "PATH: reason" in err, or
 * config_parse()'s errors. On failure *o is unchanged. */
int config_load(const char *path, struct leakd_opts *o, char *err, size_t errlen);

/* Sets one key as a file line would (the value is used as given: no quote
 * or whitespace stripping). Returns 0, or -EINVAL with "unknown key 'x'" /
 * "invalid value for KEY: 'v' (reason)" in err, or -ENOMEM ("out of
 * memory"). On failure *o is unchanged. */
int config_set(struct leakd_opts *o, const char *key, const char *value, char *err, size_t errlen);

#endif
