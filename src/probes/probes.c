// SPDX-License-Identifier: MIT
/*
 * probes: loads the BPF object, attaches uprobes/USDT, feeds the watched map,
 * drains the ring buffer, reads counters. The only file that includes the
 * generated skeleton.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "leakd/probes/probes.h"
#include "leakd.skel.h"

struct gc_binary {
	dev_t dev;
	ino_t ino;
};

struct pid_link {
	pid_t pid;
	unsigned tag;		/* who attached it: 0 the trace plan, else a caller's own */
	struct bpf_link *link;
};

struct probes {
	struct leakd_bpf *skel;
	struct ring_buffer *rb;
	probes_event_fn fn;
	void *ctx;
	struct bpf_link **links;	/* GC hooks, alive for the whole session */
	size_t nlinks, caplinks;
	struct gc_binary *gcbins;
	size_t ngcbins;
	struct pid_link *plinks;	/* allocation probes, per pid */
	size_t nplinks, capplinks;
	int ncpus;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* The caller reports failures once, with context; libbpf's own chatter
	 * is for debugging only. */
	if (!getenv("LEAKD_LIBBPF_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct probes *p = ctx;

	if (size < sizeof(struct leakd_event))
		return 0;
	if (((const struct leakd_event *)data)->kind == LEAKD_EV_STACK && size < sizeof(struct leakd_stack_event))
		return 0;
	return p->fn ? p->fn(p->ctx, data) : 0;
}

/* The initial pid namespace's inode number (PROC_PID_INIT_INO). */
#define INIT_PIDNS_INO 0xEFFFFFFCU

/* Outside the initial pid namespace the BPF programs must number tasks as
 * leakd does (see pidns_* in bpf/leakd.bpf.c). */
static void set_pidns(struct leakd_bpf *skel)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != INIT_PIDNS_INO) {
		skel->rodata->pidns_dev = st.st_dev;
		skel->rodata->pidns_ino = st.st_ino;
	}
}

int probes_new(size_t ring_bytes, probes_event_fn fn, void *ctx, struct probes **out)
{
	struct probes *p;
	int err;

	libbpf_set_print(libbpf_print);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->ctx = ctx;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		err = p->ncpus ? p->ncpus : -EINVAL;
		goto cleanup;
	}
	p->skel = leakd_bpf__open();
	if (!p->skel) {
		err = -errno;
		goto cleanup;
	}
	err = bpf_map__set_max_entries(p->skel->maps.events, ring_bytes);
	if (err)
		goto cleanup;
	set_pidns(p->skel);
	err = leakd_bpf__load(p->skel);
	if (err)
		goto cleanup;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), ringbuf_cb, p, NULL);
	if (!p->rb) {
		err = -errno;
		goto cleanup;
	}
	*out = p;
	return 0;
cleanup:
	probes_free(p);
	return err < 0 ? err : -err;
}

void probes_free(struct probes *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nplinks; i++)
		bpf_link__destroy(p->plinks[i].link);
	for (i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	ring_buffer__free(p->rb);
	leakd_bpf__destroy(p->skel);
	free(p->plinks);
	free(p->links);
	free(p->gcbins);
	free(p);
}

int probes_watch(struct probes *p, pid_t pid, unsigned flags)
{
	struct leakd_watch w = { .flags = flags };
	__u32 key = (__u32)pid;

	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.watched), &key, &w, BPF_ANY))
		return -errno;
	return 0;
}

int probes_unwatch(struct probes *p, pid_t pid)
{
	__u32 key = (__u32)pid;

	if (bpf_map_delete_elem(bpf_map__fd(p->skel->maps.watched), &key) && errno != ENOENT)
		return -errno;
	return 0;
}

int probes_set_pyconf(struct probes *p, pid_t pid, const struct leakd_pyconf *c)
{
	__u32 key = (__u32)pid;
	int fd = bpf_map__fd(p->skel->maps.pyconf);

	if (!c) {
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (bpf_map_update_elem(fd, &key, c, BPF_ANY))
		return -errno;
	return 0;
}

int probes_site_type(struct probes *p, pid_t pid, uint64_t type, bool on)
{
	struct leakd_site_type_key key = { .tgid = (__u32)pid, .type = type };
	__u32 one = 1;
	int fd = bpf_map__fd(p->skel->maps.site_types);

	if (on)
		return bpf_map_update_elem(fd, &key, &one, BPF_ANY) ? -errno : 0;
	if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

int probes_alloc_return_stats(struct probes *p, uint64_t *run_ns, uint64_t *run_cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(p->skel->progs.alloc_return), &info, &len))
		return -errno;
	*run_ns = info.run_time_ns;
	*run_cnt = info.run_cnt;
	return 0;
}

/* BPF_ENABLE_STATS or the sysctl: without either, run_time_ns stays 0. */
static bool bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int on = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	return on > 0;
}

int probes_run_stats(struct probes *p, uint64_t *run_ns, uint64_t *run_cnt)
{
	struct bpf_program *prog;
	uint64_t ns = 0, cnt = 0;

	if (!bpf_stats_enabled())
		return -ENODATA;
	bpf_object__for_each_program(prog, p->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;	/* not loaded (autoload off) */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		ns += info.run_time_ns;
		cnt += info.run_cnt;
	}
	*run_ns = ns;
	*run_cnt = cnt;
	return 0;
}

static int keep_link(struct probes *p, struct bpf_link *l)
{
	if (p->nlinks == p->caplinks) {
		size_t cap = p->caplinks ? p->caplinks * 2 : 8;
		struct bpf_link **n = realloc(p->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		p->links = n;
		p->caplinks = cap;
	}
	p->links[p->nlinks++] = l;
	return 0;
}

/* 1 if this file already has its GC hooks, 0 if not (and now recorded). */
static int gc_binary_seen(struct probes *p, const char *path)
{
	struct gc_binary *n;
	struct stat st;
	size_t i;

	if (stat(path, &st))
		return -errno;
	for (i = 0; i < p->ngcbins; i++)
		if (p->gcbins[i].dev == st.st_dev && p->gcbins[i].ino == st.st_ino)
			return 1;
	n = realloc(p->gcbins, (p->ngcbins + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->gcbins = n;
	p->gcbins[p->ngcbins].dev = st.st_dev;
	p->gcbins[p->ngcbins].ino = st.st_ino;
	p->ngcbins++;
	return 0;
}

static void gc_binary_forget_last(struct probes *p)
{
	if (p->ngcbins)
		p->ngcbins--;
}

int probes_attach_gc_usdt(struct probes *p, const char *path)
{
	struct bpf_link *start, *done;
	int err = gc_binary_seen(p, path);

	if (err)
		return err < 0 ? err : 0;
	start = bpf_program__attach_usdt(p->skel->progs.gc_start_usdt, -1, path, "python", "gc__start", NULL);
	if (!start) {
		err = -errno;
		goto fail;
	}
	done = bpf_program__attach_usdt(p->skel->progs.gc_done_usdt, -1, path, "python", "gc__done", NULL);
	if (!done) {
		err = -errno;
		bpf_link__destroy(start);
		goto fail;
	}
	err = keep_link(p, start);
	if (!err)
		err = keep_link(p, done);
	else
		bpf_link__destroy(done);
	return err;
fail:
	gc_binary_forget_last(p);
	return err;
}

static struct bpf_link *attach_uprobe(struct bpf_program *prog, pid_t pid, const char *path, uint64_t off,
				      bool ret, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret, .bpf_cookie = cookie);

	return bpf_program__attach_uprobe_opts(prog, pid, path, off, &o);
}

int probes_attach_gc_uprobes(struct probes *p, const char *path, const uint64_t *offsets,
			      const unsigned *gen_regs, size_t n)
{
	size_t i;
	int err = gc_binary_seen(p, path);

	if (err)
		return err < 0 ? err : 0;
	for (i = 0; i < n; i++) {
		uint64_t cookie = LEAKD_SITE_GC_HOOK | ((uint64_t)(gen_regs[i] & 0xf) << 8);
		struct bpf_link *l;

		l = attach_uprobe(p->skel->progs.gc_start_uprobe, -1, path, offsets[i], false, cookie);
		if (!l || (err = keep_link(p, l)))
			goto fail;
		l = attach_uprobe(p->skel->progs.gc_done_uretprobe, -1, path, offsets[i], true, cookie);
		if (!l || (err = keep_link(p, l)))
			goto fail;
	}
	return 0;
fail:
	/* Links already made stay until probes_free(): harmless, and the
	 * binary counts as hooked only if everything attached. */
	if (!err)
		err = -errno;
	gc_binary_forget_last(p);
	return err;
}

static int keep_pid_link(struct probes *p, pid_t pid, unsigned tag, struct bpf_link *l)
{
	if (p->nplinks == p->capplinks) {
		size_t cap = p->capplinks ? p->capplinks * 2 : 16;
		struct pid_link *n = realloc(p->plinks, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		p->plinks = n;
		p->capplinks = cap;
	}
	p->plinks[p->nplinks].pid = pid;
	p->plinks[p->nplinks].tag = tag;
	p->plinks[p->nplinks].link = l;
	p->nplinks++;
	return 0;
}

int probes_attach_alloc(struct probes *p, const char *path, pid_t pid, const struct probe_spec *s)
{
	return probes_attach_alloc_tag(p, path, pid, s, 0);
}

int probes_attach_alloc_tag(struct probes *p, const char *path, pid_t pid, const struct probe_spec *s,
			     unsigned tag)
{
	uint64_t cookie = (s->site & 0xff) | ((uint64_t)(s->reg0 & 0xf) << 8) | ((uint64_t)(s->reg1 & 0xf) << 12);
	struct bpf_program *entry = s->retprobe ? p->skel->progs.alloc_enter : p->skel->progs.free_enter;
	struct bpf_link *l;
	int err;

	l = attach_uprobe(entry, pid, path, s->file_offset, false, cookie);
	if (!l)
		return -errno;
	err = keep_pid_link(p, pid, tag, l);
	if (err || !s->retprobe)
		return err;
	l = attach_uprobe(p->skel->progs.alloc_return, pid, path, s->file_offset, true, cookie);
	if (!l)
		return -errno;
	return keep_pid_link(p, pid, tag, l);
}

/* Drops pid's allocation probes: all of them (any_tag), or those of one tag. */
static void detach(struct probes *p, pid_t pid, bool any_tag, unsigned tag)
{
	size_t i, j = 0;

	for (i = 0; i < p->nplinks; i++) {
		if (p->plinks[i].pid == pid && (any_tag || p->plinks[i].tag == tag))
			bpf_link__destroy(p->plinks[i].link);
		else
			p->plinks[j++] = p->plinks[i];
	}
	p->nplinks = j;
}

void probes_detach_pid(struct probes *p, pid_t pid)
{
	detach(p, pid, true, 0);
}

void probes_detach_tag(struct probes *p, pid_t pid, unsigned tag)
{
	detach(p, pid, false, tag);
}

int probes_poll(struct probes *p, int timeout_ms)
{
	int n, m;

	n = ring_buffer__poll(p->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	/* Producers submit with BPF_RB_NO_WAKEUP below the watermark, so poll
	 * alone would leave those records waiting: drain explicitly. */
	m = ring_buffer__consume(p->rb);
	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
}

int probes_epoll_fd(const struct probes *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

uint64_t probes_counter(struct probes *p, enum leakd_counter c)
{
	__u64 vals[p->ncpus];
	__u32 key = c;
	uint64_t sum = 0;
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &key, vals))
		return 0;
	for (i = 0; i < p->ncpus; i++)
		sum += vals[i];
	return sum;
}
