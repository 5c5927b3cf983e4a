// SPDX-License-Identifier: MIT
/*
 * pystack_check: proves the BPF Python stack walker on a live process, with
 * leakd's own modules end to end (target resolution, layout, allocation
 * probe plan, probes, pystack/codeobj symbolisation), before the user-facing
 * sites are wired into sessions.
 *
 *   pystack_check PID TYPE_ADDR COUNT TIMEOUT_S [--sites]
 *
 * Attaches the typed allocation probes (LEAKD_SITE_GC_NEW) to PID, asks for
 * stacks of objects of type TYPE_ADDR, prints "ready" once attached, then one
 * block per captured stack until COUNT stacks or TIMEOUT_S seconds:
 *   stack tid=T frames=N flags=F us=WALK
 *     FILE:LINE QUALNAME          (innermost first)
 * and a last line "summary stacks=S drops=D runs=R run_ns=NS": R runs of the
 * allocation return program took NS ns in all. With PYSTACK_STATS=1 the
 * harness enables BPF run-time statistics for its own lifetime (a file
 * descriptor, so they end with it); else R and NS are 0. TYPE_ADDR 0 asks
 * for no stacks: the same probes run without walking, for a baseline.
 * With --sites the stacks also feed a struct sites, frees seen by the
 * PyObject_GC_Del probe mark samples dead, and at the end every sample is
 * checked against the target; the ranked sites follow, one block each:
 *   site surviving=S sampled=N truncated=0|1
 *     FILE:LINE QUALNAME
 * Exits 0 when at least one stack was printed, 1 otherwise (one line on
 * stderr says why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "leakd/probes/allocplan.h"
#include "leakd/python/codeobj.h"
#include "leakd/process/elfimg.h"
#include "leakd/probes/probes.h"
#include "leakd/python/pylayout.h"
#include "leakd/python/pystack.h"
#include "leakd/process/remote.h"
#include "leakd/sites/sites.h"
#include "leakd/process/target.h"

struct ctx {
	struct codeobj_cache *codes;
	struct sites *sites;		/* --sites */
	const struct pylayout *layout;
	struct memreader m;
	struct remote *mem;
	long want, got;
	int err;
};

static struct pystack_frame frames[LEAKD_MAX_PYFRAMES];

static int on_event(void *arg, const struct leakd_event *e)
{
	struct ctx *c = arg;
	const struct leakd_stack_event *s = (const struct leakd_stack_event *)e;
	bool cut = false;
	int n;

	if (e->kind == LEAKD_EV_FREE && c->sites) {
		sites_freed(c->sites, e->addr);
		return 0;
	}
	if (e->kind != LEAKD_EV_STACK || c->got >= c->want)
		return 0;
	n = pystack_symbolize(c->codes, &c->m, s, frames, LEAKD_MAX_PYFRAMES, &cut);
	if (n < 0) {
		c->err = n;
		return 0;
	}
	printf("stack tid=%u frames=%d captured=%u flags=%u cut=%d\n", s->tid, n, s->nframes, s->flags, cut);
	for (int i = 0; i < n; i++)
		printf("  %s:%d %s\n", frames[i].filename, frames[i].line, frames[i].qualname);
	if (c->sites)
		sites_sample(c->sites, e->addr, e->aux, frames, (size_t)n, cut);
	c->got++;
	return 0;
}

static int alive(void *arg, uint64_t addr, uint64_t type)
{
	struct ctx *c = arg;

	return sites_alive(&c->m, c->layout, addr, type);
}

/* The survival check and the ranked sites. */
static int report_sites(struct ctx *c)
{
	static struct sites_site ranked[16];
	long survivors;
	size_t n;

	remote_invalidate(c->mem);
	survivors = sites_check(c->sites, alive, c);
	if (survivors < 0)
		return (int)survivors;
	n = sites_ranked(c->sites, 0, ranked, 16);
	for (size_t i = 0; i < n; i++) {
		printf("site surviving=%" PRIu64 " sampled=%" PRIu64 " truncated=%d\n", ranked[i].surviving,
		       ranked[i].sampled, ranked[i].truncated);
		for (size_t j = 0; j < ranked[i].nframes; j++)
			printf("    %s:%d %s\n", ranked[i].frames[j].filename, ranked[i].frames[j].line,
			       ranked[i].frames[j].qualname);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int layout_of(const struct target *t, struct elfimg *img, struct pylayout *l)
{
	uint8_t buf[PYLAYOUT_DEBUG_OFFSETS_MIN + 64];

	if (t->py_minor >= 13 && t->runtime_addr &&
	    !elfimg_read(img, t->runtime_addr - t->load_bias, buf, sizeof(buf)) &&
	    !pylayout_from_debug_offsets(buf, sizeof(buf), l))
		return 0;
	return pylayout_for_version(t->py_major, t->py_minor, t->py_micro, l);
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	struct target t;
	struct elfimg *img = NULL;
	struct pylayout l;
	struct leakd_pyconf conf;
	struct allocplan plan;
	struct probes *p = NULL;
	uint64_t type;
	double deadline;
	pid_t pid;
	int err, attached = 0, stats_fd = -1;
	uint64_t run_ns = 0, run_cnt = 0;

	if (argc < 5 || argc > 6 || (argc == 6 && strcmp(argv[5], "--sites"))) {
		fprintf(stderr, "usage: %s PID TYPE_ADDR COUNT TIMEOUT_S [--sites]\n", argv[0]);
		return 2;
	}
	pid = atoi(argv[1]);
	type = strtoull(argv[2], NULL, 0);
	c.want = atol(argv[3]);
	deadline = now_s() + atof(argv[4]);

	err = target_resolve("/proc", pid, &t, &img);
	if (err) {
		fprintf(stderr, "pystack_check: pid %d: %s\n", pid, strerror(-err));
		return 1;
	}
	err = layout_of(&t, img, &l);
	if (!err)
		err = pystack_conf(&l, t.runtime_addr, &conf);
	if (!err)
		err = codeobj_cache__new(&l, 0, &c.codes);
	if (!err && argc == 6)
		err = sites_new(0, 0, &c.sites);
	c.layout = &l;
	if (err) {
		fprintf(stderr, "pystack_check: python %s: no stack layout: %s\n", t.py_version, strerror(-err));
		return 1;
	}
	err = remote_new(pid, REMOTE_DEFAULT_CACHE, &c.mem);
	if (err)
		return 1;
	c.m = remote_reader(c.mem);
	err = allocplan_typed(img, false, &plan);	/* any type: dicts too, which C code makes */
	if (!err)
		err = probes_new(16u << 20, on_event, &c, &p);
	if (!err)
		err = probes_set_pyconf(p, pid, &conf);
	if (!err && type)
		err = probes_site_type(p, pid, type, true);
	if (!err && getenv("PYSTACK_STATS"))
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	for (size_t i = 0; !err && i < plan.n; i++) {
		err = probes_attach_alloc(p, t.open_path, pid, &plan.specs[i]);
		if (!err) {
			fprintf(stderr, "pystack_check: probe %s\n", plan.specs[i].name);
			attached++;
		}
	}
	if (err || !attached) {
		fprintf(stderr, "pystack_check: cannot attach typed allocation probes: %s\n",
			err ? strerror(-err) : "none in the plan");
		return 1;
	}
	printf("ready python=%s probes=%d\n", t.py_version, attached);
	fflush(stdout);
	while ((c.got < c.want || !type) && now_s() < deadline) {
		err = probes_poll(p, 100);
		if (err < 0 && err != -EINTR)
			break;
		fflush(stdout);
	}
	probes_alloc_return_stats(p, &run_ns, &run_cnt);
	if (c.sites && c.got) {
		err = report_sites(&c);
		if (err)
			fprintf(stderr, "pystack_check: survival check: %s\n", strerror(-err));
	}
	printf("summary stacks=%ld drops=%" PRIu64 " runs=%" PRIu64 " run_ns=%" PRIu64 "\n", c.got,
	       probes_counter(p, LEAKD_CNT_DROPS), run_cnt, run_ns);
	if (stats_fd >= 0)
		close(stats_fd);
	probes_free(p);
	remote_free(c.mem);
	codeobj_cache__free(c.codes);
	sites_free(c.sites);
	elfimg_free(img);
	if (!c.got)
		fprintf(stderr, "pystack_check: no stack captured (%s)\n", c.err ? strerror(-c.err) : "timeout");
	return c.got || !type ? 0 : 1;
}
