// SPDX-License-Identifier: MIT
/*
 * leakd's entry point: parse the command line, open the output, run the
 * session, map the outcome to the documented exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/cli.h"
#include "leakd/daemon.h"
#include "leakd/session.h"
#include "leakd/textesc.h"


int main(int argc, char **argv)
{
	struct leakd_opts o;
	char err[256];
	FILE *out = stdout;
	int status;

	cli_defaults(&o);
	if (cli_parse(argc, argv, &o, err, sizeof(err))) {
		char line[4 * sizeof(err)];

		fprintf(stderr, "leakd: %s (see leakd --help)\n", textesc(line, sizeof(line), err));
		return LEAKD_EXIT_USAGE;
	}
	if (o.help) {
		fputs(cli_usage(), stdout);
		return LEAKD_EXIT_OK;
	}
	if (o.version) {
		printf("leakd %s\n", LEAKD_VERSION);
		return LEAKD_EXIT_OK;
	}
	if (o.daemon)
		return daemon_run(&o);
	if (o.output) {
		out = fopen(o.output, "we");
		if (!out) {
			fprintf(stderr, "leakd: cannot open output file '%s': %s\n", o.output, strerror(errno));
			return LEAKD_EXIT_ERROR;
		}
	}
	/* Records go out as they are made: a pipe to jq or a tail -f sees
	 * samples live, and a killed leakd loses at most a partial line. */
	setvbuf(out, NULL, _IOLBF, 0);
	status = session_run(&o, out);
	if (out != stdout && fclose(out) == EOF && status == LEAKD_EXIT_OK) {
		fprintf(stderr, "leakd: writing '%s' failed: %s\n", o.output, strerror(errno));
		status = LEAKD_EXIT_ERROR;
	}
	return status;
}
