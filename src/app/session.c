// SPDX-License-Identifier: MIT
/*
 * session: an ad hoc run of leakd (`leakd --pid PID...` or `leakd --
 * COMMAND`), driving the pipeline from attach to the summaries (see
 * include/leakd/app/session.h). The fleet service (--daemon) is daemon.c's;
 * both drive their targets through tracee.
 *
 * Owns: starting the targets (resolving each --pid, or starting the command
 * with spawn_run and attaching its probes in spawn_ready before it runs),
 * one line on stderr saying why a target cannot be traced, the output file
 * (opened only once the targets are up, committed or aborted at the end)
 * and its records (header, samples, summaries), the tick that notices exits
 * and runs the censuses and samples that are due, --duration, the holder
 * search and --graph for the summaries, ending a command it started, and
 * the exit status.
 * Delegates: everything about one target (resolving it, planning and
 * attaching its probes, its events, censuses, samples, verdict, summary and
 * holder search) to tracee; the loop, the signals and the ring buffer to
 * evloop; the records' format to report.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/base/clock.h"
#include "leakd/verdict/agg.h"
#include "leakd/app/evloop.h"
#include "leakd/holders/holders.h"
#include "leakd/probes/allocplan.h"
#include "leakd/output/outfile.h"
#include "leakd/probes/probes.h"
#include "leakd/python/pylayout.h"
#include "leakd/process/remote.h"
#include "leakd/output/report.h"
#include "leakd/app/session.h"
#include "leakd/process/spawn.h"
#include "leakd/process/target.h"
#include "leakd/base/textesc.h"
#include "leakd/app/tracee.h"
#include "leakd/verdict/verdict.h"

/* A spawned command still running at the end gets SIGTERM, then this long. */
#define CHILD_GRACE_S 2.0

struct session {
	const struct leakd_opts *o;
	struct outfile of;
	FILE *out;
	int write_err;		/* first failed write of a record: the run stops */
	struct evloop *loop;
	struct probes *probes;
	struct tracee *tr[LEAKD_MAX_PIDS];
	size_t n;
	/* spawn */
	struct tracee *spawning;
	char refused[24];	/* the Python version the command turned out to be */
};

/* Why a target cannot be traced, for "leakd: pid N: <this>". @version is
 * the refused Python version on -ENOTSUP ("" if not known). */
static const char *resolve_error(int err, const char *version, char *buf, size_t len)
{
	switch (err) {
	case -ESRCH:
		return "no such process";
	case -ENOEXEC:
		return "not a Python process (no CPython interpreter is mapped in it)";
	case -EACCES:
	case -EPERM:
		return "permission denied reading it (run as root, or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)";
	case -ENOTSUP:
		if (version && *version)
			snprintf(buf, len, "Python %s is not supported (" PYLAYOUT_SUPPORTED " are)", version);
		else
			snprintf(buf, len, "a CPython version leakd does not know (" PYLAYOUT_SUPPORTED " are supported)");
		return buf;
	default:
		return strerror(-err);
	}
}

/* The version target_resolve refuses in @pid, into @buf ("" if unknown).
 * Only on the error path: resolving again is cheaper than carrying it. */
static void refused_version(const struct leakd_opts *o, pid_t pid, char *buf, size_t len)
{
	struct target *t = calloc(1, sizeof(*t));

	buf[0] = '\0';
	if (t && target_resolve(o->proc_root, pid, t, NULL) == -ENOTSUP)
		snprintf(buf, len, "%s", t->py_version);
	free(t);
}

static int on_event(void *ctx, const struct leakd_event *e)
{
	struct session *s = ctx;

	for (size_t i = 0; i < s->n; i++) {
		if ((uint32_t)s->tr[i]->t.pid == e->pid) {
			tracee_event(s->tr[i], e);
			return 0;
		}
	}
	if (s->spawning && (uint32_t)s->spawning->t.pid == e->pid)
		tracee_event(s->spawning, e);
	return 0;
}

/* spawn_run's question at each step of the child's start-up. */
static int spawn_ready(void *ctx, pid_t pid, bool last_chance)
{
	struct session *s = ctx;
	int err;

	if (!s->spawning) {
		err = tracee_new(s->o, pid, true, &s->spawning);
		if (err == -ENOEXEC)
			return -ENOEXEC;
		if (err == -ENOTSUP)
			refused_version(s->o, pid, s->refused, sizeof(s->refused));
		if (err)
			return err;
	}
	err = tracee_plan_allocs(s->spawning);
	if (err)
		return err;
	/* ld.so maps libpython before relocating it: until it has, the
	 * allocator tables hold no function to follow. */
	if (s->spawning->plan.unresolved && !last_chance)
		return -EAGAIN;
	return tracee_attach(s->spawning, s->probes);
}

static int start_targets(struct session *s)
{
	const struct leakd_opts *o = s->o;
	int err;

	if (o->cmd) {
		pid_t pid;

		err = spawn_run(o->cmd, spawn_ready, s, &pid);
		if (err) {
			char cmd[4 * PATH_MAX], why[128];

			textesc(cmd, sizeof(cmd), o->cmd[0]);
			if (err == -ENOEXEC)
				fprintf(stderr, "leakd: '%s' (pid %d) did not start a Python interpreter leakd can trace within 10 s\n",
					cmd, pid);
			else if (err == -ENOENT || err == -EACCES)
				fprintf(stderr, "leakd: cannot run '%s': %s\n", cmd, strerror(-err));
			else if (err == -ECHILD)
				fprintf(stderr, "leakd: '%s' exited before a Python interpreter was loaded\n", cmd);
			else
				fprintf(stderr, "leakd: cannot trace '%s': %s\n", cmd,
					resolve_error(err, s->refused, why, sizeof(why)));
			tracee_free(s->spawning);
			s->spawning = NULL;
			return err;
		}
		s->tr[s->n++] = s->spawning;
		s->spawning = NULL;
		return 0;
	}
	for (size_t i = 0; i < o->npids; i++) {
		struct tracee *tr;

		err = tracee_new(o, o->pids[i], false, &tr);
		if (err) {
			char version[24] = "", why[128];

			if (err == -ENOTSUP)
				refused_version(o, o->pids[i], version, sizeof(version));
			fprintf(stderr, "leakd: pid %d: %s\n", o->pids[i],
				resolve_error(err, version, why, sizeof(why)));
			return err;
		}
		s->tr[s->n++] = tr;
		err = tracee_plan_allocs(tr);
		if (!err)
			err = tracee_attach(tr, s->probes);
		if (err) {
			if (err != -ENOMEM)
				fprintf(stderr, "leakd: pid %d: cannot attach probes: %s\n", o->pids[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Where the records go, as a message names it. */
static const char *out_name(const struct session *s)
{
	return s->o->output ? s->o->output : "standard output";
}

/* Keeps the first write error and says it once: a full disk or a reader
 * that went away ends the run, it does not go on losing records. */
static void check_write(struct session *s, int err)
{
	char name[4 * PATH_MAX];

	if (!err || s->write_err)
		return;
	s->write_err = err;
	fprintf(stderr, "leakd: writing the report to %s failed: %s\n",
		textesc(name, sizeof(name), out_name(s)), strerror(-err));
}

static void write_sample(struct session *s, struct tracee *tr, double now)
{
	struct report_sample rs;

	tracee_sample(tr, now, &rs);
	if (!s->o->quiet_samples && !s->write_err)
		check_write(s, report_write_sample(s->out, s->o->format, &rs));
}

/* The per-census hook: one census of @tr, now due. */
static void census_one(struct session *s, struct tracee *tr, double now)
{
	int err = tracee_census(tr, now);

	if (err == -ESRCH)
		tracee_check_alive(tr, now);
}

/* The loop's tick: one pass over the targets (exits, censuses, samples).
 * Ends the loop when no target is left running or a write failed. */
static int on_tick(void *ctx, double now)
{
	struct session *s = ctx;
	size_t running = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct tracee *tr = s->tr[i];

		if (tracee_check_alive(tr, now)) {
			probes_unwatch(s->probes, tr->t.pid);
			probes_detach_pid(s->probes, tr->t.pid);
			continue;
		}
		running++;
		if (tracee_census_due(tr, now))
			census_one(s, tr, now);
		if (now - tr->last_sample >= s->o->interval_s)
			write_sample(s, tr, now);
	}
	return !running || s->write_err ? EVLOOP_DONE : 0;
}

/* --duration's end. */
static int on_duration(void *ctx, double now)
{
	return EVLOOP_DONE;
}

static void stop_children(struct session *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct tracee *tr = s->tr[i];
		double deadline;

		if (!tr->spawned || tr->finished)
			continue;
		/* We started it for this session: end it with the session. */
		kill(tr->t.pid, SIGTERM);
		deadline = leakd_mono_now() + CHILD_GRACE_S;
		while (leakd_mono_now() < deadline && waitpid(tr->t.pid, NULL, WNOHANG) == 0)
			usleep(20000);
		if (waitpid(tr->t.pid, NULL, WNOHANG) == 0) {
			kill(tr->t.pid, SIGKILL);
			waitpid(tr->t.pid, NULL, 0);
		}
	}
}

/* The types whose holders the summary gives: the leaking ones, or with
 * --holders the top ones whatever they do. */
static size_t holder_types(const struct leakd_opts *o, const struct report_summary *sum, const char **names)
{
	size_t n = 0;

	for (size_t i = 0; sum->top_types && i < sum->n_top_types && n < HOLDERS_MAX_TYPES; i++) {
		const struct report_type_row *r = &sum->top_types[i];

		if (strcmp(r->type, "(other)") && (r->leak || (o->holders && i < HOLDERS_TOP_TYPES)))
			names[n++] = r->type;
	}
	return n;
}

/* Writes the holders' graph (--graph); one line on stderr if it fails. */
static void write_graph(const char *path, const struct holders_result *r)
{
	struct outfile of;
	char name[4 * PATH_MAX];
	int err = outfile_open(path, &of);

	if (!err) {
		err = holders_write_dot(of.f, r);
		if (err)
			outfile_abort(&of);
		else
			err = outfile_commit(&of);
	}
	if (err)
		fprintf(stderr, "leakd: writing the holders' graph to %s failed: %s\n",
			textesc(name, sizeof(name), path), strerror(-err));
}

/* Searches the holders for the summary of a live target; NULL if there is
 * nothing to search or the search failed (said on stderr). */
static struct holders_result *find_holders(const struct session *s, struct tracee *tr,
					   const struct report_summary *sum)
{
	const char *names[HOLDERS_MAX_TYPES];
	size_t n = holder_types(s->o, sum, names);
	struct holders_result *r;
	int err;

	if (!n || tr->finished)
		return NULL;
	r = malloc(sizeof(*r));
	if (!r)
		return NULL;
	/* the operator's own session: keys are shown (cut to 40 characters) */
	err = tracee_holders(tr, names, n, false, r);
	if (err) {
		if (err != -ENOENT && err != -ESRCH)
			fprintf(stderr, "leakd: pid %d: the holder search failed: %s\n", tr->t.pid, strerror(-err));
		free(r);
		return NULL;
	}
	if (s->o->graph_path)
		write_graph(s->o->graph_path, r);
	return r;
}

static bool write_summaries(struct session *s, double now)
{
	uint64_t dropped = probes_counter(s->probes, LEAKD_CNT_DROPS);
	bool any_leak = false;

	for (size_t i = 0; i < s->n; i++) {
		struct tracee *tr = s->tr[i];
		struct report_size_row sizes[SIZECLASS_N];
		struct report_type_row live_types[TRACEE_LIVE_TYPES_MAX];
		struct report_summary sum;
		struct verdict v;

		/* A last look at a live target, so the summary ends at "now". */
		if (!tr->finished && !tracee_check_alive(tr, now))
			tracee_census(tr, now);
		if (tracee_summary(tr, now, dropped, &v, sizes, SIZECLASS_N, live_types, &sum)) {
			fprintf(stderr, "leakd: pid %d: cannot build the summary: out of memory\n", tr->t.pid);
			continue;
		}
		sum.holders = find_holders(s, tr, &sum);
		if (!s->write_err)
			check_write(s, report_write_summary(s->out, s->o->format, &sum));
		any_leak |= sum.growth.leak;
		free((void *)sum.holders);
		verdict_clear(&v);
	}
	if (dropped)
		fprintf(stderr, "leakd: %llu events dropped (ring buffer full); raise --ringbuf-mb\n",
			(unsigned long long)dropped);
	return any_leak;
}

int session_run(const struct leakd_opts *settings)
{
	/* The hourly site-window budget is a daemon setting: an ad hoc
	 * session's windows are bounded by the session alone. */
	struct leakd_opts adhoc = *settings;
	const struct leakd_opts *o = &adhoc;
	struct session s = { .o = o };
	double now;
	bool any_leak;
	int err, status = LEAKD_EXIT_OK;

	adhoc.site_window_budget_s = 0;
	/* First: a Ctrl-C while the command starts ends the session cleanly. */
	err = evloop_new(&s.loop);
	if (err) {
		fprintf(stderr, "leakd: cannot set up the event loop: %s\n", strerror(-err));
		return LEAKD_EXIT_ERROR;
	}
	err = evloop_load_probes(s.loop, o->ringbuf_bytes, on_event, &s, &s.probes);
	if (err) {
		evloop_free(s.loop);
		return LEAKD_EXIT_ERROR;
	}
	err = start_targets(&s);
	if (err) {
		status = LEAKD_EXIT_ERROR;
		goto cleanup;
	}
	/* Only now: a run that could not start leaves a previous file alone. */
	err = outfile_open(o->output, &s.of);
	if (err) {
		char name[4 * PATH_MAX];

		fprintf(stderr, "leakd: cannot open output file '%s': %s\n",
			textesc(name, sizeof(name), o->output), strerror(-err));
		status = LEAKD_EXIT_ERROR;
		stop_children(&s);
		goto cleanup;
	}
	s.out = s.of.f;
	/* Records go out as they are made: a pipe to jq sees samples live, and
	 * a killed leakd loses at most a partial line. */
	setvbuf(s.out, NULL, _IOLBF, 0);
	if (!o->quiet_samples)
		check_write(&s, report_write_header(s.out, s.o->format));

	err = evloop_add_timer(s.loop, EVLOOP_TICK_S, EVLOOP_TICK_S, on_tick, &s);
	evloop_on_ring(s.loop, on_tick, &s);
	if (!err && o->duration_s > 0)
		err = evloop_add_timer(s.loop, o->duration_s, o->duration_s, on_duration, &s);
	if (err)
		fprintf(stderr, "leakd: cannot set up the event loop: %s\n", strerror(-err));
	/* The loop drains the ring once more on its way out: records the
	 * producers left below the wakeup watermark count in the summaries. */
	else if (!s.write_err)
		err = evloop_run(s.loop);
	if (err)
		status = LEAKD_EXIT_ERROR;
	now = leakd_mono_now();
	any_leak = write_summaries(&s, now);
	stop_children(&s);
	if (status == LEAKD_EXIT_OK && any_leak && o->fail_on_leak)
		status = LEAKD_EXIT_LEAK;
	if (s.write_err)
		outfile_abort(&s.of);
	else
		check_write(&s, outfile_commit(&s.of));
	if (s.write_err)
		status = LEAKD_EXIT_ERROR;
cleanup:
	for (size_t i = 0; i < s.n; i++) {
		probes_unwatch(s.probes, s.tr[i]->t.pid);
		tracee_free(s.tr[i]);
	}
	/* The loop first: its ring source watches the probes' fd. */
	evloop_free(s.loop);
	probes_free(s.probes);
	return status;
}
