/* SPDX-License-Identifier: MIT */
/*
 * The only contract between the BPF programs (bpf/leakd.bpf.c) and user space.
 *
 * Every record the kernel side emits into the ring buffer starts with one
 * struct leakd_event: fixed-width fields, explicit padding, 40 bytes, so that
 * both compilers agree on it and a record costs one small reserve. The only
 * longer record is a sampled allocation's Python stack (LEAKD_EV_STACK, a
 * struct leakd_stack_event that embeds the event first). The per-CPU
 * counters are indexed by enum leakd_counter.
 */
#ifndef LEAKD_ABI_H
#define LEAKD_ABI_H

#ifdef __bpf__
/* vmlinux.h already defines the __uN types on the BPF side. */
#else
#include <linux/types.h>
#endif

enum leakd_event_kind {
	LEAKD_EV_ALLOC = 1,	/* addr = block/object, size = bytes, aux = type pointer or 0 */
	LEAKD_EV_FREE = 2,	/* addr = block/object being released */
	LEAKD_EV_GC_START = 3,	/* gen = generation (3.14.0-4: collector mode) */
	LEAKD_EV_GC_DONE = 4,	/* size = collected + uncollectable, as the interpreter reports */
	LEAKD_EV_STACK = 5,	/* a struct leakd_stack_event: addr = object, aux = type */
};

/* Why an event exists, so the consumer can tell which probe saw the traffic. */
enum leakd_probe_site {
	LEAKD_SITE_NONE = 0,
	LEAKD_SITE_MALLOC,	/* PyObject_Malloc / hidden _PyObject_Malloc */
	LEAKD_SITE_CALLOC,
	LEAKD_SITE_REALLOC,
	LEAKD_SITE_FREE,
	LEAKD_SITE_GC_NEW,	/* _PyObject_GC_New / _PyObject_GC_NewVar / PyType_GenericAlloc */
	LEAKD_SITE_GC_DEL,	/* PyObject_GC_Del */
	LEAKD_SITE_GC_HOOK,	/* USDT or collector symbol */
	LEAKD_SITE__COUNT,
};

struct leakd_event {
	__u8 kind;		/* enum leakd_event_kind */
	__u8 site;		/* enum leakd_probe_site */
	__u8 gen;
	__u8 __pad0;
	__u32 pid;		/* tgid as numbered in leakd's own pid namespace (the
				 * initial one unless leakd runs in a container; see
				 * current_id() in bpf/leakd.bpf.c) */
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 addr;
	__u64 size;
	__u64 aux;
};

/* Per-CPU counters (BPF_MAP_TYPE_PERCPU_ARRAY "counters"). */
enum leakd_counter {
	LEAKD_CNT_EVENTS = 0,	/* records submitted */
	LEAKD_CNT_DROPS,	/* ring buffer reserve failures: events lost */
	LEAKD_CNT_STASH_MISS,	/* a return probe found no entry stash (attached mid-call) */
	LEAKD_CNT__COUNT,
};

/* Value of the "watched" hash map (key: tgid). A probe attached to a whole
 * binary fires in every process running it; only watched ones emit. */
struct leakd_watch {
	__u32 flags;		/* LEAKD_WATCH_* */
	__u32 __pad0;
};

#define LEAKD_WATCH_ALLOCS	(1u << 0)	/* emit alloc/free events */
#define LEAKD_WATCH_GC		(1u << 1)	/* emit GC start/done events */

/* When the unconsumed bytes pass this mark the producer forces a wakeup;
 * below it the consumer drains on its timer. A wakeup per event costs about
 * 7 us on x86-64, a BPF_RB_NO_WAKEUP submit about 65 ns. */
#define LEAKD_WAKEUP_WATERMARK	(256u * 1024u)
/* Records submitted while the backlog is within this band above the mark
 * force the wakeup: a few CPUs' worth of 48-byte records (40 + header). */
#define LEAKD_WAKEUP_BAND	(4u * 1024u)

#define LEAKD_MAX_WATCHED	4096

/* ---- Python stacks of sampled allocations (sites) ----
 * An allocation probe that returns an object of a type listed in
 * "site_types" for its process walks the allocating thread's Python frames
 * with the offsets in "pyconf" and emits one struct leakd_stack_event. */

#define LEAKD_MAX_PYFRAMES	32
#define LEAKD_MAX_PYTHREADS	64	/* thread-list entries visited to find a thread's state */
#define LEAKD_MAX_SITE_TYPES	256
#define LEAKD_PYFRAME_NO_OFFSET	0xffffffffu	/* frame not started yet (f_lasti -1) */

/* One frame: the code object (tag bits already masked) and the byte offset of
 * its current instruction from the first one (f_lasti in bytes, or
 * instr_ptr - first instruction). */
struct leakd_pyframe {
	__u64 code;
	__u32 offset;
	__u32 __pad0;
};

struct leakd_stack_event {
	struct leakd_event ev;	/* kind LEAKD_EV_STACK, site, pid, ts, addr, aux = type (0: not known),
				 * size = the allocation's bytes (byte samples) */
	__u32 tid;
	__u8 nframes;		/* frames[0] is the innermost */
	__u8 flags;		/* LEAKD_STACK_* */
	__u16 __pad0;
	struct leakd_pyframe frames[LEAKD_MAX_PYFRAMES];
};

#define LEAKD_STACK_TRUNCATED	(1u << 0)	/* more frames than LEAKD_MAX_PYFRAMES */
#define LEAKD_STACK_NO_TSTATE	(1u << 1)	/* the thread's state was not found */
#define LEAKD_STACK_BAD_READ	(1u << 2)	/* a frame could not be read: stack cut there */
#define LEAKD_STACK_BY_BYTES	(1u << 3)	/* a byte sample (pyconf.sample_bytes): size = its bytes */

/* enum pylayout_instr_kind, repeated for the BPF side. */
#define LEAKD_INSTR_LASTI_BYTES	1
#define LEAKD_INSTR_LASTI_UNITS	2
#define LEAKD_INSTR_PTR		3

#define LEAKD_PYCONF_VIA_CFRAME	(1u << 0)	/* 3.11/3.12: ts_frame holds a _PyCFrame* */

/* Value of the "pyconf" hash map (key: tgid): where this process keeps its
 * thread states and how its frames are laid out (from struct pylayout). */
struct leakd_pyconf {
	__u64 runtime;			/* address of _PyRuntime */
	__u64 code_mask;		/* applied to the frame's code pointer (3.14: ~3) */
	__u32 rt_tstate_current;	/* GIL holder in _PyRuntime (3.8-3.11); 0: thread list */
	__u32 rt_interp_head;		/* interpreters.head: the main interpreter */
	__u32 interp_threads_head;	/* its first thread state */
	__u16 ts_next, ts_native_thread_id;
	__u16 ts_frame, cframe_frame;
	__u16 frame_code, frame_back;
	__u16 frame_instr, frame_owner;	/* frame_owner 0: no owner check */
	__u16 co_code_adaptive;
	__u8 flags;			/* LEAKD_PYCONF_* */
	__u8 instr_kind;		/* LEAKD_INSTR_* */
	__u8 owner_skip;		/* owner >= this: not a Python frame */
	__u8 __pad0[7];
	/* Trace mode: also walk the stack of one allocation per this many bytes
	 * on average (exponential intervals, as heap profilers sample); 0: off. */
	__u64 sample_bytes;
};

/* Key of "site_types": a type whose allocations get a stack in that process. */
struct leakd_site_type_key {
	__u32 tgid;
	__u32 __pad0;
	__u64 type;
};

#ifndef __bpf__
_Static_assert(sizeof(struct leakd_event) == 40, "leakd_event is part of the BPF ABI");
_Static_assert(sizeof(struct leakd_watch) == 8, "leakd_watch is part of the BPF ABI");
_Static_assert(sizeof(struct leakd_pyframe) == 16, "leakd_pyframe is part of the BPF ABI");
_Static_assert(sizeof(struct leakd_stack_event) == 40 + 8 + 16 * LEAKD_MAX_PYFRAMES,
	       "leakd_stack_event is part of the BPF ABI");
_Static_assert(sizeof(struct leakd_pyconf) == 64, "leakd_pyconf is part of the BPF ABI");
_Static_assert(sizeof(struct leakd_site_type_key) == 16, "leakd_site_type_key is part of the BPF ABI");
#endif

#endif /* LEAKD_ABI_H */
