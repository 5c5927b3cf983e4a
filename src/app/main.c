// SPDX-License-Identifier: MIT
/*
 * leakd's entry point: parse the command line, run the session or the
 * daemon, whose result is the documented exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/app/cli.h"
#include "leakd/app/daemon.h"
#include "leakd/app/session.h"
#include "leakd/base/textesc.h"

int main(int argc, char **argv)
{
	struct leakd_opts o;
	char err[256];

	cli_defaults(&o);
	if (cli_parse(argc, argv, &o, err, sizeof(err))) {
		char line[4 * sizeof(err)];

		fprintf(stderr, "leakd: %s (see leakd --help)\n", textesc(line, sizeof(line), err));
		return LEAKD_EXIT_USAGE;
	}
	if (o.help || o.version) {
		if (o.help)
			fputs(cli_usage(), stdout);
		else
			printf("leakd %s\n", LEAKD_VERSION);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			fprintf(stderr, "leakd: writing to standard output failed: %s\n", strerror(errno));
			return LEAKD_EXIT_ERROR;
		}
		return LEAKD_EXIT_OK;
	}
	if (o.daemon)
		return daemon_run(&o);
	return session_run(&o);
}
