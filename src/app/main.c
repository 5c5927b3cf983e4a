// SPDX-License-Identifier: MIT
/*
 * leakd's entry point: the settings (defaults, then for the daemon its
 * config file, then the command line over both), then the session or the
 * daemon, whose result is the documented exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "leakd/app/cli.h"
#include "leakd/app/config.h"
#include "leakd/app/daemon.h"
#include "leakd/app/session.h"
#include "leakd/base/textesc.h"

/* The daemon's settings: the defaults, its config file, then the command
 * line again so that it wins over the file. Prints the error line. */
static int load_daemon_settings(int argc, char **argv, struct leakd_opts *o)
{
	const char *path = o->config_path;
	char err[512], line[4 * sizeof(err)];
	int r;

	if (!path && access(OPTIONS_DEFAULT_CONFIG, F_OK) == 0)
		path = OPTIONS_DEFAULT_CONFIG;
	if (!path)
		return 0;	/* the command line is already over the defaults */
	options_free(o);
	options_defaults(o);
	r = config_load(path, o, err, sizeof(err));
	if (!r)
		r = cli_parse(argc, argv, o, err, sizeof(err));
	if (r)	/* the message quotes the file's bytes */
		fprintf(stderr, "leakd: %s\n", textesc(line, sizeof(line), err));
	return r;
}

/* --help, --version, --print-config: what goes to stdout, and its status. */
static int print_and_exit(const struct leakd_opts *o)
{
	if (o->help)
		options_write_help(stdout);
	else if (o->version)
		printf("leakd %s\n", LEAKD_VERSION);
	else
		options_write_config(stdout, o);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "leakd: writing to standard output failed: %s\n", strerror(errno));
		return LEAKD_EXIT_ERROR;
	}
	return LEAKD_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct leakd_opts o;
	char err[256];
	int r, status;

	options_defaults(&o);
	r = cli_parse(argc, argv, &o, err, sizeof(err));
	if (r) {
		char line[4 * sizeof(err)];

		/* a refusal names the mode: the line says all there is to say */
		fprintf(stderr, "leakd: %s%s\n", textesc(line, sizeof(line), err),
			r == -ENOTSUP ? "" : " (see leakd --help)");
		options_free(&o);
		return LEAKD_EXIT_USAGE;
	}
	if (o.daemon && !o.help && !o.version && load_daemon_settings(argc, argv, &o)) {
		options_free(&o);
		return LEAKD_EXIT_USAGE;
	}
	if (o.help || o.version || o.print_config)
		status = print_and_exit(&o);
	else
		status = o.daemon ? daemon_run(&o) : session_run(&o);
	options_free(&o);
	return status;
}
