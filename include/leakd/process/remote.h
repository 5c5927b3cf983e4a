/* SPDX-License-Identifier: MIT */
/*
 * Reading a live process's memory with process_vm_readv, through a small
 * block cache.
 *
 * A census pointer-chases millions of 16-byte GC headers that sit close
 * together in pymalloc pools, so one syscall per header would cost more than
 * the walk itself. The reader keeps a direct-mapped cache of 64 KiB blocks;
 * a block is fetched in one syscall, or page by page when it straddles an
 * unmapped page (then the unmapped pages are remembered as faults, so asking
 * again costs nothing). The cache is never coherent with the target:
 * call remote_invalidate() before every walk (or after thawing).
 */
#ifndef LEAKD_REMOTE_H
#define LEAKD_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "leakd/process/memreader.h"

#define REMOTE_BLOCK_SIZE (64u * 1024u)
#define REMOTE_DEFAULT_CACHE (4u * 1024u * 1024u)

struct remote;

struct remote_stats {
	uint64_t syscalls;	/* process_vm_readv calls made */
	uint64_t bytes;		/* bytes those calls transferred */
	uint64_t hits;		/* reads served from the cache */
	uint64_t misses;	/* block fetches */
	uint64_t faults;	/* reads answered -EFAULT */
};

/*
 * cache_bytes: total cache size, rounded down to a power-of-two number of
 * blocks; 0 disables the cache (every read is one exact syscall).
 * Returns 0 and sets *out, or -EINVAL (pid <= 0) / -ENOMEM. The target is not
 * touched until the first read.
 */
int remote_new(pid_t pid, size_t cache_bytes, struct remote **out);
void remote_free(struct remote *r);

/*
 * Replaces the cache with one of cache_bytes (rounded down as in
 * remote_new; 0 disables it), dropping what it held. A direct-mapped cache
 * smaller than the heap a walk touches thrashes: every block is fetched many
 * times per walk (measured: 4 MiB against a 13 MiB heap copied 140 MB per
 * walk and took 19 ms; 32 MiB copied 13 MB in 6 ms). Returns 0, -ENOMEM
 * (the old cache is kept) or -EINVAL.
 */
int remote_resize(struct remote *r, size_t cache_bytes);
size_t remote_cache_bytes(const struct remote *r);

/*
 * Reads [addr, addr+len) block by block and forgets it, so that the kernel
 * work of a first access to those pages of the target (measured here: ~5 ms
 * per MiB on a first read, against ~0.5 ms on later ones) is done now, with
 * the target running, and not during a walk with the target stopped. Stops
 * at the first -ESRCH/-EPERM and returns it; unmapped holes are skipped.
 */
int remote_warm(struct remote *r, uint64_t addr, uint64_t len);

/* A reader bound to r; valid as long as r is. */
struct memreader remote_reader(struct remote *r);

/* A reader bound to r that never uses the cache: for reads between
 * censuses (an event's code objects), when the cache holds pages from the
 * last census that the running target may have reused since. */
struct memreader remote_reader_uncached(struct remote *r);

/*
 * Reads exactly len bytes at addr. Returns 0, -EFAULT (not mapped), -ESRCH
 * (process gone), -EPERM, or another -errno from process_vm_readv.
 */
int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);

/* Forget every cached block (the target may have changed since). */
void remote_invalidate(struct remote *r);

void remote_stats(const struct remote *r, struct remote_stats *out);
pid_t remote_pid(const struct remote *r);

#endif /* LEAKD_REMOTE_H */
