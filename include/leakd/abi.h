/* SPDX-License-Identifier: MIT */
/*
 * The only contract between the BPF programs (bpf/leakd.bpf.c) and user space.
 *
 * Every record the kernel side emits into the ring buffer is one struct
 * leakd_event: fixed-width fields, explicit padding, 40 bytes, so that both
 * compilers agree on it and a record costs one small reserve. The per-CPU
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
	__u32 pid;		/* tgid, as user space sees it in the root pid namespace */
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
 * below it the consumer drains on its timer (see ../shared/reference/uprobes-x86.md:
 * a wakeup per event costs ~7 us, NO_WAKEUP plus a watermark ~65 ns). */
#define LEAKD_WAKEUP_WATERMARK	(256u * 1024u)
/* Records submitted while the backlog is within this band above the mark
 * force the wakeup: a few CPUs' worth of 48-byte records (40 + header). */
#define LEAKD_WAKEUP_BAND	(4u * 1024u)

#define LEAKD_MAX_WATCHED	4096

#ifndef __bpf__
_Static_assert(sizeof(struct leakd_event) == 40, "leakd_event is part of the BPF ABI");
_Static_assert(sizeof(struct leakd_watch) == 8, "leakd_watch is part of the BPF ABI");
#endif

#endif /* LEAKD_ABI_H */
