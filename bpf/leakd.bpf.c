// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * leakd's kernel side: turns uprobe/USDT hits in CPython into leakd_event
 * records (include/leakd/abi.h) in one ring buffer.
 *
 * Probes attached to a whole binary fire in every process that runs it, so
 * each program first checks the "watched" map. Allocation probes are split in
 * an entry half (remembers the request per thread) and a return half (emits
 * the block the allocator returned); a small per-thread stack keeps nested
 * calls (an allocation that triggers a collection that allocates) paired.
 *
 * Which argument register holds what differs per probe point (a public entry
 * point vs the static function behind an allocator table, where the context
 * pointer comes first), so user space passes it in the attach cookie:
 *   bits 0-7   enum leakd_probe_site
 *   bits 8-11  register index of the pointer/first operand (1..3 = rdi, rsi, rdx)
 *   bits 12-15 register index of the size/second operand (0 = none)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "leakd/abi.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* leakd's own pid namespace (st_dev and st_ino of /proc/self/ns/pid), set
 * by user space before load when it is not the initial one (leakd in a
 * container, or under systemd-nspawn): the pids leakd knows, and keys the
 * maps by, are that namespace's, while bpf_get_current_pid_tgid() gives the
 * initial namespace's. Zero: the initial namespace, the cheap helper. */
const volatile __u64 pidns_dev = 0;
const volatile __u64 pidns_ino = 0;

/* The current task's tgid << 32 | tid, numbered as leakd numbers them; 0 for
 * a task whose own pid namespace is not leakd's (the helper only answers for
 * that one), which no map holds. */
static __always_inline __u64 current_id(void)
{
	struct bpf_pidns_info ns;

	if (!pidns_ino)
		return bpf_get_current_pid_tgid();
	if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)))
		return 0;
	return (__u64)ns.tgid << 32 | ns.pid;
}

/* Size is set by user space before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* tgid -> struct leakd_watch: which processes emit, and what. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LEAKD_MAX_WATCHED);
	__type(key, __u32);
	__type(value, struct leakd_watch);
} watched SEC(".maps");

/* enum leakd_counter -> count; per CPU so the hot path never contends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEAKD_CNT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#define STASH_DEPTH 8	/* a power of two */

struct stash_frame {
	__u64 size;
	__u64 ptr;	/* realloc: the old block */
	__u64 type;	/* GC allocations: the type object */
	__u32 site;
	__u32 __pad;
};

struct stash {
	__u32 depth;
	__u32 __pad;
	struct stash_frame frames[STASH_DEPTH];
	__s64 sample_left;	/* bytes until this thread's next byte sample */
};

/* Per thread: calls in flight between an entry probe and its return probe.
 * Task-local storage rather than a tid-keyed hash: no hashing on the hot
 * path, and an entry dies with its thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stash);
} stashes SEC(".maps");

/* tgid -> how to walk its Python frames (struct leakd_pyconf). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LEAKD_MAX_WATCHED);
	__type(key, __u32);
	__type(value, struct leakd_pyconf);
} pyconf SEC(".maps");

/* (tgid, type) -> 1: allocations of these types get their Python stack. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LEAKD_MAX_SITE_TYPES);
	__type(key, struct leakd_site_type_key);
	__type(value, __u32);
} site_types SEC(".maps");

/* Per thread: its PyThreadState once found in the thread list (3.12+), so
 * the list is walked once per thread, not once per sample. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} tstates SEC(".maps");

/* Offsets into PyTypeObject; identical in CPython 3.6-3.14 (Include/cpython/object.h). */
#define TP_BASICSIZE_OFF 32
#define TP_ITEMSIZE_OFF 40

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline bool watching(__u32 tgid, __u32 flag)
{
	struct leakd_watch *w = bpf_map_lookup_elem(&watched, &tgid);

	return w && (w->flags & flag);
}

static __always_inline void emit(__u32 tgid, __u8 kind, __u8 site, __u8 gen, __u64 addr, __u64 size, __u64 aux)
{
	struct leakd_event *e;
	__u64 flags = BPF_RB_NO_WAKEUP;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(LEAKD_CNT_DROPS);
		return;
	}
	e->kind = kind;
	e->site = site;
	e->gen = gen;
	e->__pad0 = 0;
	e->pid = tgid;
	e->ts_ns = bpf_ktime_get_ns();
	e->addr = addr;
	e->size = size;
	e->aux = aux;
	/* GC events are rare and the consumer acts on them (a census after a
	 * collection). Bulk allocation events wake it only when they cross the
	 * watermark, not on every record past it: a wakeup costs ~7 us, and a
	 * consumer that has fallen behind must not make every probe pay that.
	 * A crossing missed in a race between CPUs waits for the 100 ms drain. */
	if (kind == LEAKD_EV_GC_DONE) {
		flags = BPF_RB_FORCE_WAKEUP;
	} else {
		__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

		if (avail >= LEAKD_WAKEUP_WATERMARK && avail < LEAKD_WAKEUP_WATERMARK + LEAKD_WAKEUP_BAND)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
	count(LEAKD_CNT_EVENTS);
}

static __always_inline __u64 reg_arg(struct pt_regs *ctx, __u32 idx)
{
	/* Load every candidate at a constant offset first: the verifier rejects
	 * a context access at an offset computed from idx, which is what the
	 * compiler makes of a switch over the fields. */
	__u64 di = PT_REGS_PARM1(ctx), si = PT_REGS_PARM2(ctx), dx = PT_REGS_PARM3(ctx);

	barrier_var(di);
	barrier_var(si);
	barrier_var(dx);
	if (idx == 1)
		return di;
	if (idx == 2)
		return si;
	if (idx == 3)
		return dx;
	return 0;
}

static __always_inline __u64 read_user_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

/* ---- Python stacks ---------------------------------------------------- */

static __always_inline int read_user_u32(__u64 addr, __u32 *out)
{
	return bpf_probe_read_user(out, sizeof(*out), (const void *)addr);
}

/* The calling thread's PyThreadState, or 0. */
static __always_inline __u64 current_tstate(const struct leakd_pyconf *c, __u32 tid)
{
	__u64 interp, ts, *cached;
	__u32 native;

	if (c->rt_tstate_current)	/* 3.8-3.11: the GIL holder, i.e. us inside an allocation */
		return read_user_u64(c->runtime + c->rt_tstate_current);
	cached = bpf_task_storage_get(&tstates, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (cached && *cached && !read_user_u32(*cached + c->ts_native_thread_id, &native) && native == tid)
		return *cached;
	interp = read_user_u64(c->runtime + c->rt_interp_head);
	if (!interp)
		return 0;
	ts = read_user_u64(interp + c->interp_threads_head);
	for (int i = 0; i < LEAKD_MAX_PYTHREADS && ts; i++) {
		if (!read_user_u32(ts + c->ts_native_thread_id, &native) && native == tid) {
			if (cached)
				*cached = ts;
			return ts;
		}
		ts = read_user_u64(ts + c->ts_next);
	}
	return 0;
}

/* The byte offset of a frame's current instruction. */
static __always_inline __u32 frame_offset(const struct leakd_pyconf *c, __u64 frame, __u64 code)
{
	if (c->instr_kind == LEAKD_INSTR_PTR) {
		__u64 ip = read_user_u64(frame + c->frame_instr);
		__u64 first = code + c->co_code_adaptive;

		if (ip < first || ip - first >= (1ull << 31))
			return LEAKD_PYFRAME_NO_OFFSET;
		return (__u32)(ip - first);
	} else {
		int lasti = -1;

		bpf_probe_read_user(&lasti, sizeof(lasti), (const void *)(frame + c->frame_instr));
		if (lasti < 0)
			return LEAKD_PYFRAME_NO_OFFSET;
		return c->instr_kind == LEAKD_INSTR_LASTI_UNITS ? (__u32)lasti * 2 : (__u32)lasti;
	}
}

/* The record under construction, per CPU: 560 bytes do not fit the BPF
 * stack next to the walk's state, and the walk runs in a bpf_loop callback
 * that cannot hold a ring buffer reservation. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct leakd_stack_event);
} stack_scratch SEC(".maps");

struct walk_ctx {
	struct leakd_pyconf c;	/* a copy: the callback reads it from the stack */
	__u64 frame;		/* next frame to visit, 0 at the end */
	__u32 n;		/* frames kept */
	__u32 flags;		/* LEAKD_STACK_* */
};

/* One frame per call. A bpf_loop callback is verified once, whatever the
 * iteration count; an open-coded loop over frames of three kinds with
 * optional owner checks exceeds the verifier's budget. */
static long walk_one(__u64 i, void *arg)
{
	struct walk_ctx *w = arg;
	struct leakd_stack_event *e;
	__u64 code, next, frame = w->frame;
	__u32 zero = 0, n = w->n;
	__u8 owner = 0;

	if (!frame)
		return 1;
	if (n >= LEAKD_MAX_PYFRAMES) {
		w->flags |= LEAKD_STACK_TRUNCATED;
		return 1;
	}
	e = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!e)
		return 1;
	if (bpf_probe_read_user(&code, sizeof(code), (const void *)(frame + w->c.frame_code)) ||
	    bpf_probe_read_user(&next, sizeof(next), (const void *)(frame + w->c.frame_back))) {
		w->flags |= LEAKD_STACK_BAD_READ;
		return 1;
	}
	code &= w->c.code_mask;
	if (w->c.frame_owner)
		bpf_probe_read_user(&owner, sizeof(owner), (const void *)(frame + w->c.frame_owner));
	if (code && (!w->c.frame_owner || owner < w->c.owner_skip)) {
		e->frames[n & (LEAKD_MAX_PYFRAMES - 1)].code = code;
		e->frames[n & (LEAKD_MAX_PYFRAMES - 1)].offset = frame_offset(&w->c, frame, code);
		e->frames[n & (LEAKD_MAX_PYFRAMES - 1)].__pad0 = 0;
		w->n = n + 1;
	}
	w->frame = next;
	return 0;
}

/*
 * Emits the Python stack of the calling thread for the object at addr of
 * type `type` (0: not known), walked with c; sampled_bytes > 0 marks a byte
 * sample of that many bytes. The walk is bounded
 * (LEAKD_MAX_PYFRAMES frames kept, twice that many visited to skip shims);
 * a stack that could not be read to its end says so in flags, never guesses.
 */
static __always_inline void emit_stack(const struct leakd_pyconf *c, __u32 tgid, __u32 tid, __u8 site,
				       __u64 addr, __u64 type, __u64 sampled_bytes)
{
	struct leakd_stack_event *e;
	struct walk_ctx w = {};
	__u32 zero = 0;
	__u64 ts;

	e = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!e)
		return;
	w.c = *c;
	ts = current_tstate(c, tid);
	if (ts) {
		w.frame = read_user_u64(ts + c->ts_frame);
		if (w.frame && (c->flags & LEAKD_PYCONF_VIA_CFRAME))
			w.frame = read_user_u64(w.frame + c->cframe_frame);
	} else {
		w.flags |= LEAKD_STACK_NO_TSTATE;
	}
	bpf_loop(2 * LEAKD_MAX_PYFRAMES, walk_one, &w, 0);
	if (w.frame && !(w.flags & LEAKD_STACK_BAD_READ))
		w.flags |= LEAKD_STACK_TRUNCATED;	/* frames left when the bound was reached */
	e->ev.kind = LEAKD_EV_STACK;
	e->ev.site = site;
	e->ev.gen = 0;
	e->ev.__pad0 = 0;
	e->ev.pid = tgid;
	e->ev.ts_ns = bpf_ktime_get_ns();
	e->ev.addr = addr;
	e->ev.size = sampled_bytes;
	e->ev.aux = type;
	e->tid = tid;
	e->nframes = w.n;
	e->flags = w.flags | (sampled_bytes ? LEAKD_STACK_BY_BYTES : 0);
	e->__pad0 = 0;
	if (bpf_ringbuf_output(&events, e, sizeof(*e), 0)) {
		count(LEAKD_CNT_DROPS);
		return;
	}
	count(LEAKD_CNT_EVENTS);
}

/* ---- garbage collector ---------------------------------------------- */

SEC("usdt")
int BPF_USDT(gc_start_usdt, int gen)
{
	__u32 tgid = current_id() >> 32;

	if (watching(tgid, LEAKD_WATCH_GC))
		emit(tgid, LEAKD_EV_GC_START, LEAKD_SITE_GC_HOOK, gen, 0, 0, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(gc_done_usdt, long collected)
{
	__u32 tgid = current_id() >> 32;

	if (watching(tgid, LEAKD_WATCH_GC))
		emit(tgid, LEAKD_EV_GC_DONE, LEAKD_SITE_GC_HOOK, 0, 0, collected, 0);
	return 0;
}

/* Builds without USDT: the collector's own function (cookie bits 8-11 give
 * the register holding the generation). */
SEC("uprobe")
int gc_start_uprobe(struct pt_regs *ctx)
{
	__u32 tgid = current_id() >> 32;
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (watching(tgid, LEAKD_WATCH_GC))
		emit(tgid, LEAKD_EV_GC_START, LEAKD_SITE_GC_HOOK, reg_arg(ctx, (cookie >> 8) & 0xf), 0, 0, 0);
	return 0;
}

SEC("uretprobe")
int gc_done_uretprobe(struct pt_regs *ctx)
{
	__u32 tgid = current_id() >> 32;

	if (watching(tgid, LEAKD_WATCH_GC))
		emit(tgid, LEAKD_EV_GC_DONE, LEAKD_SITE_GC_HOOK, 0, 0, PT_REGS_RC(ctx), 0);
	return 0;
}

/* ---- allocations ------------------------------------------------------ */

SEC("uprobe")
int alloc_enter(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 site = cookie & 0xff;
	__u64 a0 = reg_arg(ctx, (cookie >> 8) & 0xf);
	__u64 a1 = reg_arg(ctx, (cookie >> 12) & 0xf);
	struct stash_frame f = { .site = site };
	struct stash *s;
	__u32 d;

	/* Allocation probes are attached per pid (every hit costs a trap), so
	 * unlike the shared GC hooks they need no watched-map check. */

	switch (site) {
	case LEAKD_SITE_MALLOC:
		f.size = a0;
		break;
	case LEAKD_SITE_CALLOC:
		f.size = a0 * a1;
		break;
	case LEAKD_SITE_REALLOC:
		f.ptr = a0;
		f.size = a1;
		break;
	case LEAKD_SITE_GC_NEW:
		/* (type, nitems): the object's size as _PyObject_VAR_SIZE computes it. */
		f.type = a0;
		f.size = read_user_u64(a0 + TP_BASICSIZE_OFF) + a1 * read_user_u64(a0 + TP_ITEMSIZE_OFF);
		f.size = (f.size + 7) & ~7ULL;
		break;
	default:
		return 0;
	}

	s = bpf_task_storage_get(&stashes, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	d = s->depth;
	if (d >= STASH_DEPTH) {
		count(LEAKD_CNT_STASH_MISS);
		return 0;
	}
	barrier_var(d);
	s->frames[d & (STASH_DEPTH - 1)] = f;
	s->depth = d + 1;
	return 0;
}

/* The unit exponential in 64 equally likely bins, each as its own mean, in
 * 1/1024ths: E[-ln U | U in ((63 - i) / 64, (64 - i) / 64)]. An interval
 * drawn from it has the right mean (1.000) and shape, to 64 steps. */
static const __u16 exp_quantile[64] = {
	5283, 3863, 3327, 2979, 2721, 2514, 2343, 2196, 2068, 1954, 1851, 1758, 1673, 1594, 1521, 1452,
	1388, 1328, 1271, 1217, 1166, 1117, 1071, 1026, 983, 942, 903, 865, 828, 793, 759, 726,
	694, 663, 633, 604, 575, 547, 520, 494, 469, 444, 419, 395, 372, 349, 327, 305,
	284, 263, 243, 223, 203, 184, 165, 146, 128, 110, 92, 75, 58, 41, 24, 8,
};

SEC("uretprobe")
int alloc_return(struct pt_regs *ctx)
{
	__u64 id = current_id();
	__u32 tgid = id >> 32;
	__u64 ret = PT_REGS_RC(ctx);
	const struct leakd_pyconf *c;
	struct stash_frame f;
	struct stash *s;
	__u32 d;

	s = bpf_task_storage_get(&stashes, bpf_get_current_task_btf(), 0, 0);
	if (!s || s->depth == 0 || s->depth > STASH_DEPTH) {
		count(LEAKD_CNT_STASH_MISS);
		return 0;
	}
	d = s->depth - 1;
	barrier_var(d);
	/* STASH_DEPTH is a power of two: the mask is the bound the verifier sees. */
	f = s->frames[d & (STASH_DEPTH - 1)];
	s->depth = d;

	/* A realloc frees its old block and allocates the new one, also when it
	 * grows in place: a byte sample of the old size then ends, and the new
	 * size is offered afresh. Kept as one block, a buffer grown in steps was
	 * offered to the sampler at every step with its whole size and sampled
	 * ~2x too often (measured on bytearrays grown 64 B at a time). */
	if (f.site == LEAKD_SITE_REALLOC && f.ptr && ret)
		emit(tgid, LEAKD_EV_FREE, LEAKD_SITE_REALLOC, 0, f.ptr, 0, 0);
	if (ret)
		emit(tgid, LEAKD_EV_ALLOC, f.site, 0, ret, f.size, f.type);
	if (!ret)
		return 0;
	c = bpf_map_lookup_elem(&pyconf, &tgid);
	if (!c)
		return 0;
	if (f.type) {
		struct leakd_site_type_key key = { .tgid = tgid, .type = f.type };

		if (bpf_map_lookup_elem(&site_types, &key))
			emit_stack(c, tgid, (__u32)id, f.site, ret, f.type, 0);
	} else if (c->sample_bytes && d == 0) {
		/* Poisson sampling by bytes: a countdown per thread, drawn anew
		 * from an exponential at each sample, so an allocation's chance is
		 * 1 - exp(-size / mean) whatever the allocation pattern. Only the
		 * outermost probed call counts: realloc(NULL, n) runs the probed
		 * malloc inside it for the same block, and counting both sampled
		 * such blocks twice as often (measured 1.9x on bytearrays). */
		s->sample_left -= (__s64)f.size;
		if (s->sample_left < 0) {
			/* The next points follow on from this one (the overshoot is
			 * kept): the intervals take 64 values, and restarting at each
			 * sampled block tied them to the program's allocation pattern
			 * (measured: 56-byte objects made before 4 KB buffers were
			 * sampled 1.28x too often, the buffers 0.9x). Points inside
			 * this block are used up; past 8, a fresh start. */
			for (int i = 0; i < 8 && s->sample_left < 0; i++)
				s->sample_left += (__s64)(c->sample_bytes * exp_quantile[bpf_get_prandom_u32() & 63] >> 10);
			if (s->sample_left < 0)
				s->sample_left = (__s64)(c->sample_bytes * exp_quantile[bpf_get_prandom_u32() & 63] >> 10);
			emit_stack(c, tgid, (__u32)id, f.site, ret, 0, f.size ? f.size : 1);
		}
	}
	return 0;
}

SEC("uprobe")
int free_enter(struct pt_regs *ctx)
{
	__u32 tgid = current_id() >> 32;
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 addr;

	addr = reg_arg(ctx, (cookie >> 8) & 0xf);
	if (addr)
		emit(tgid, LEAKD_EV_FREE, cookie & 0xff, 0, addr, 0, 0);
	return 0;
}
