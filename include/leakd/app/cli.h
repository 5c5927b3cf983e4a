/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing: argv in, struct leakd_opts (options.h) out, driven
 * by the options table. Pure (no I/O but the error text it fills in), so
 * every flag and every usage error is unit-tested.
 */
#ifndef LEAKD_CLI_H
#define LEAKD_CLI_H

#include <stddef.h>

#include "leakd/app/options.h"

/* Parses argv (argv[0] is the program name) over the settings already in o
 * (defaults, or the config file's). Returns 0; -EINVAL with a one-line
 * reason in err (no trailing newline) for a bad option or value; -ENOTSUP
 * with "--format does not apply to --daemon (ad hoc sessions only)" for an
 * option of the other mode; -ENOMEM. argv must outlive opts: opts->cmd and
 * string settings point into it. */
int cli_parse(int argc, char **argv, struct leakd_opts *o, char *err, size_t errlen);

#endif
