// SPDX-License-Identifier: MIT
/*
 * probe_cost: what one probe hit costs on this machine, with leakd's own BPF
 * programs, for `make bench` to compute the trace mode's floor (events x cost
 * per hit) in the same run as the slowdowns it is compared with.
 *
 * It probes two functions of its own, shaped like the allocator's entry
 * points (an allocation with an entry and a return probe, a free with an
 * entry probe), placed by the same planner leakd uses, and times calls with
 * and without the probes while the ring buffer is drained as the daemon
 * drains it. Prints one JSON object: ns per call for each case.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "leakd/abi.h"
#include "leakd/process/elfimg.h"
#include "leakd/probes/probeplan.h"
#include "leakd/probes/probes.h"

#define CALLS 2000000

static volatile uint64_t sink;

/* A push first, like CPython's allocator functions: what the planner finds. */
__attribute__((noinline)) uint64_t cost_alloc(uint64_t size)
{
	uint64_t r = size * 2654435761u;

	__asm__ volatile("" : "+r"(r) : : "rbx", "memory");
	return r | 0x1000;
}

__attribute__((noinline)) void cost_free(uint64_t p)
{
	__asm__ volatile("" : : "r"(p) : "rbx", "memory");
	sink += p;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double time_calls(int (*drain)(void *), void *ctx)
{
	double t0 = now_ns();

	for (uint64_t i = 0; i < CALLS; i++) {
		cost_free(cost_alloc(i));
		if ((i & 0x3ff) == 0 && drain)
			drain(ctx);
	}
	return (now_ns() - t0) / CALLS;
}

static uint64_t events;

static int count_event(void *ctx, const struct leakd_event *e)
{
	events++;
	return 0;
}

static int drain(void *ctx)
{
	return probes_poll(ctx, 0);
}

static int plan(struct elfimg *img, const char *fn, unsigned needs, struct probe_spec *s)
{
	struct elfimg_sym sym;
	struct probeplan_spot spot;
	uint8_t code[64];
	size_t len;
	int err;

	err = elfimg_find_symbol(img, fn, &sym);
	if (err)
		return err;
	len = sym.size && sym.size < sizeof(code) ? sym.size : sizeof(code);
	err = elfimg_read(img, sym.vaddr, code, len);
	if (err)
		return err;
	if (probeplan_place(code, len, sym.vaddr, needs, NULL, 0, &spot))
		return -ENOENT;
	snprintf(s->name, sizeof(s->name), "%s+%u", fn, spot.offset);
	s->emulated = true;
	return elfimg_vaddr_to_offset(img, sym.vaddr + spot.offset, &s->file_offset);
}

int main(void)
{
	struct probe_spec a = { .site = LEAKD_SITE_MALLOC, .reg0 = 1, .retprobe = true };
	struct probe_spec f = { .site = LEAKD_SITE_FREE, .reg0 = 1 };
	double base, with_alloc, with_both;
	struct probes *p = NULL;
	struct elfimg *img;
	char exe[4096];
	ssize_t n;
	int err;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return 1;
	exe[n] = '\0';
	if (elfimg_open(exe, &img) || plan(img, "cost_alloc", PROBEPLAN_NEED_RDI | PROBEPLAN_RETPROBE, &a) ||
	    plan(img, "cost_free", PROBEPLAN_NEED_RDI, &f)) {
		fprintf(stderr, "probe_cost: cannot plan probes on %s\n", exe);
		return 1;
	}
	err = probes_new(16u << 20, count_event, NULL, &p);
	if (err) {
		fprintf(stderr, "probe_cost: cannot load the BPF programs: %s\n", strerror(-err));
		return 1;
	}
	base = time_calls(NULL, NULL);
	base = time_calls(NULL, NULL);	/* warm */
	err = probes_attach_alloc(p, exe, getpid(), &a);
	if (!err) {
		with_alloc = time_calls(drain, p);
		err = probes_attach_alloc(p, exe, getpid(), &f);
	}
	if (err) {
		fprintf(stderr, "probe_cost: cannot attach: %s\n", strerror(-err));
		return 1;
	}
	with_both = time_calls(drain, p);
	probes_poll(p, 0);
	printf("{\"calls\":%d,\"base_ns\":%.1f,\"alloc_probe_ns\":%.1f,\"free_probe_ns\":%.1f,"
	       "\"alloc_spot\":\"%s\",\"free_spot\":\"%s\",\"events\":%llu,\"dropped\":%llu}\n",
	       CALLS, base, with_alloc - base, with_both - with_alloc, a.name, f.name,
	       (unsigned long long)events, (unsigned long long)probes_counter(p, LEAKD_CNT_DROPS));
	probes_free(p);
	elfimg_free(img);
	return 0;
}
