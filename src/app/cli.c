// SPDX-License-Identifier: MIT
/*
 * Command-line parsing for leakd. Kept free of I/O so tests can feed it any
 * argv; main() prints the error line and exits with LEAKD_EXIT_USAGE.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/parse.h"
#include "leakd/app/cli.h"

static const char usage_text[] =
	"Usage: leakd [OPTIONS] --pid PID [--pid PID ...]\n"
	"       leakd [OPTIONS] -- COMMAND [ARGS...]\n"
	"       leakd --daemon [--config FILE]\n"
	"Find memory leaks in running CPython processes from the outside.\n"
	"\n"
	"  -p, --pid PID          trace a running Python process (repeatable)\n"
	"  -d, --duration SECS    stop after SECS (default: until targets exit or SIGINT/SIGTERM)\n"
	"  -i, --interval SECS    print a sample per process every SECS (default 5)\n"
	"  -m, --mode gc|trace    gc (default): GC events and a census of live objects by type;\n"
	"                         trace: also per-allocation probes (exact lifetimes, costly)\n"
	"  -f, --format table|json   output format (default table; json = one object per line)\n"
	"  -o, --output FILE      write records to FILE instead of stdout\n"
	"      --census-period SECS  at most one census per SECS (default 1)\n"
	"      --max-pause-share P   stop the target for censuses at most P of its time on\n"
	"                         average, e.g. 0.5% or 0.005 (default 0.5%): the period\n"
	"                         stretches with the heap\n"
	"      --no-freeze        do not stop the target during a census (tolerate torn lists)\n"
	"      --holders          say what holds the top types even when nothing leaks\n"
	"                         (leaking types always get their holders)\n"
	"      --graph FILE       write the holders' back-reference graph (Graphviz dot)\n"
	"      --site-window SECS when a class's instances are flagged as growing, record for\n"
	"                         SECS the Python stacks that allocate them (default 10, 0: never)\n"
	"      --sites            open site windows from the start, for the classes that keep\n"
	"                         growing, without waiting for the verdict\n"
	"      --sample-bytes N   trace mode: record the Python stack of one allocation per N\n"
	"                         bytes on average (default 512k, 0: never)\n"
	"      --summary-only     print only the final summary per process\n"
	"      --fail-on-leak     exit with status 3 when a leak is flagged\n"
	"      --ringbuf-mb N     BPF ring buffer size in MiB (power of two, default 16)\n"
	"      --daemon           watch every Python process on the host (gc mode) and export\n"
	"                         Prometheus metrics; log leaks to the journal\n"
	"      --config FILE      daemon configuration (default /etc/leakd/leakd.conf if present)\n"
	"      --web.listen-address ADDR  metrics address, host:port (default 127.0.0.1:9477)\n"
	"      --web.telemetry-path PATH  metrics path (default /metrics)\n"
	"  -h, --help             this text\n"
	"  -V, --version          print the version\n"
	"\n"
	"Exit status: 0 no leak flagged, 3 leak flagged (with --fail-on-leak),\n"
	"1 runtime error, 2 usage error.\n";

const char *cli_usage(void)
{
	return usage_text;
}

void cli_defaults(struct leakd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_s = 5.0;
	o->census_period_s = 1.0;
	o->max_pause_share = 0.005;
	o->mode = LEAKD_MODE_GC;
	o->format = LEAKD_FORMAT_TABLE;
	o->proc_root = "/proc";
	o->ringbuf_bytes = 16u << 20;
	o->site_window_s = 10.0;
	o->sample_bytes = 512u << 10;
}

/* Longest time option: 10^7 s (~115 days), well inside what the loop's
 * double arithmetic and a timespec hold. */
#define CLI_SECONDS_MAX 1e7

/* A time option's value (parse_seconds(), as in the config file); the
 * error names the option and the range taken. */
static int time_option(const char *name, const char *s, double min, double *out, char *err,
		       size_t errlen)
{
	if (parse_seconds(s, min, CLI_SECONDS_MAX, out)) {
		snprintf(err, errlen, "invalid %s '%s' (seconds, from %g to %.0f)", name, s, min,
			 CLI_SECONDS_MAX);
		return -EINVAL;
	}
	return 0;
}

/* An option that takes one of two words (--mode gc|trace, --format
 * table|json): 0 or 1 into *which, or -EINVAL with the message. */
static int one_of(const char *name, const char *s, const char *w0, const char *w1, int *which, char *err,
		  size_t errlen)
{
	if (!strcmp(s, w0) || !strcmp(s, w1)) {
		*which = !strcmp(s, w1);
		return 0;
	}
	snprintf(err, errlen, "invalid %s '%s' (%s or %s)", name, s, w0, w1);
	return -EINVAL;
}

enum {
	OPT_FAIL_ON_LEAK = 0x100,
	OPT_CENSUS_PERIOD,
	OPT_MAX_PAUSE_SHARE,
	OPT_NO_FREEZE,
	OPT_HOLDERS,
	OPT_GRAPH,
	OPT_SUMMARY_ONLY,
	OPT_RINGBUF_MB,
	OPT_PROC_ROOT,
	OPT_DAEMON,
	OPT_CONFIG,
	OPT_LISTEN,
	OPT_TELEMETRY_PATH,
	OPT_SITE_WINDOW,
	OPT_SITES,
	OPT_SAMPLE_BYTES,
};

/* Names the option as it was typed: "--pid" needs a value, not "-p". */
static void cli_option_error(int c, int argc, char **argv, char *err, size_t errlen)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	const char *what = c == ':' ? "needs a value" : "is unknown";

	if (!strncmp(arg, "--", 2))
		snprintf(err, errlen, "option '%.*s' %s", (int)strcspn(arg, "="), arg, what);
	else
		snprintf(err, errlen, "option '-%c' %s", optopt ? optopt : '?', what);
}

int cli_parse(int argc, char **argv, struct leakd_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "census-period", required_argument, NULL, OPT_CENSUS_PERIOD },
		{ "max-pause-share", required_argument, NULL, OPT_MAX_PAUSE_SHARE },
		{ "no-freeze", no_argument, NULL, OPT_NO_FREEZE },
		{ "holders", no_argument, NULL, OPT_HOLDERS },
		{ "graph", required_argument, NULL, OPT_GRAPH },
		{ "site-window", required_argument, NULL, OPT_SITE_WINDOW },
		{ "sites", no_argument, NULL, OPT_SITES },
		{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
		{ "summary-only", no_argument, NULL, OPT_SUMMARY_ONLY },
		{ "fail-on-leak", no_argument, NULL, OPT_FAIL_ON_LEAK },
		{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB },
		{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
		{ "daemon", no_argument, NULL, OPT_DAEMON },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "web.listen-address", required_argument, NULL, OPT_LISTEN },
		{ "web.telemetry-path", required_argument, NULL, OPT_TELEMETRY_PATH },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	char *end;
	long v;
	int c, which;

	err[0] = '\0';
	optind = 0;	/* full reset: tests call us repeatedly */
	opterr = 0;
	/* '+': stop at the command; ':': a missing value is ':', not '?' */
	while ((c = getopt_long(argc, argv, "+:p:d:i:m:f:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > INT_MAX) {
				snprintf(err, errlen, "invalid pid '%s'", optarg);
				return -EINVAL;
			}
			if (o->npids == LEAKD_MAX_PIDS) {
				snprintf(err, errlen, "at most %d --pid options", LEAKD_MAX_PIDS);
				return -EINVAL;
			}
			o->pids[o->npids++] = (pid_t)v;
			break;
		case 'd':
			if (time_option("--duration", optarg, 0.001, &o->duration_s, err, errlen))
				return -EINVAL;
			break;
		case 'i':
			if (time_option("--interval", optarg, 0.05, &o->interval_s, err, errlen))
				return -EINVAL;
			break;
		case OPT_CENSUS_PERIOD:
			if (time_option("--census-period", optarg, 0.05, &o->census_period_s, err, errlen))
				return -EINVAL;
			break;
		case OPT_MAX_PAUSE_SHARE:
			if (parse_share(optarg, &o->max_pause_share)) {
				snprintf(err, errlen, "invalid --max-pause-share '%s' (a share in (0, 1], e.g. 0.5%% or 0.005)",
					 optarg);
				return -EINVAL;
			}
			break;
		case 'm':
			if (one_of("--mode", optarg, "gc", "trace", &which, err, errlen))
				return -EINVAL;
			o->mode = which ? LEAKD_MODE_TRACE : LEAKD_MODE_GC;
			break;
		case 'f':
			if (one_of("--format", optarg, "table", "json", &which, err, errlen))
				return -EINVAL;
			o->format = which ? LEAKD_FORMAT_JSON : LEAKD_FORMAT_TABLE;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_NO_FREEZE:
			o->no_freeze = true;
			break;
		case OPT_HOLDERS:
			o->holders = true;
			break;
		case OPT_GRAPH:
			o->graph_path = optarg;
			break;
		case OPT_SITE_WINDOW:
			if (time_option("--site-window", optarg, 0, &o->site_window_s, err, errlen))
				return -EINVAL;
			break;
		case OPT_SITES:
			o->sites_at_start = true;
			break;
		case OPT_SAMPLE_BYTES:
			if (parse_bytes(optarg, 1ull << 30, &o->sample_bytes)) {
				snprintf(err, errlen, "invalid --sample-bytes '%s' (bytes, e.g. 512k or 1M, at most 1G)",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_SUMMARY_ONLY:
			o->quiet_samples = true;
			break;
		case OPT_FAIL_ON_LEAK:
			o->fail_on_leak = true;
			break;
		case OPT_RINGBUF_MB:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 1024 || (v & (v - 1))) {
				snprintf(err, errlen, "invalid --ringbuf-mb '%s' (a power of two, 1-1024)", optarg);
				return -EINVAL;
			}
			o->ringbuf_bytes = (size_t)v << 20;
			break;
		case OPT_PROC_ROOT:
			o->proc_root = optarg;
			break;
		case OPT_DAEMON:
			o->daemon = true;
			break;
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_LISTEN:
			o->listen_address = optarg;
			break;
		case OPT_TELEMETRY_PATH:
			o->telemetry_path = optarg;
			break;
		case 'h':
			o->help = true;
			return 0;
		case 'V':
			o->version = true;
			return 0;
		case ':':
		case '?':
		default:
			cli_option_error(c, argc, argv, err, errlen);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		/* getopt_long with '+' stops at the first non-option; "--" is consumed. */
		if (strcmp(argv[optind - 1], "--") != 0) {
			snprintf(err, errlen, "unexpected argument '%s' (a command goes after --)", argv[optind]);
			return -EINVAL;
		}
		o->cmd = &argv[optind];
	}
	if (o->daemon) {
		if (o->npids || o->cmd) {
			snprintf(err, errlen, "--daemon finds its processes itself: no --pid or command");
			return -EINVAL;
		}
		return 0;
	}
	if (o->config_path || o->listen_address || o->telemetry_path) {
		snprintf(err, errlen, "--config and --web.* options go with --daemon");
		return -EINVAL;
	}
	if (!o->npids && !o->cmd) {
		snprintf(err, errlen, "nothing to trace: give --pid PID or -- COMMAND");
		return -EINVAL;
	}
	if (o->sites_at_start && o->site_window_s <= 0) {
		snprintf(err, errlen, "--sites needs a site window: --site-window 0 disables them");
		return -EINVAL;
	}
	if (o->npids && o->cmd) {
		snprintf(err, errlen, "give either --pid or a command, not both");
		return -EINVAL;
	}
	return 0;
}
