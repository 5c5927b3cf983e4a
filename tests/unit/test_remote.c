// SPDX-License-Identifier: MIT
/*
 * remote and freeze tests against a forked child: the child inherits the
 * parent's mappings, so the parent knows exactly what sits at each address
 * (and which page was unmapped) in the child. A parent may read and trace
 * its own child even without root under Yama scope 1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/process/freeze.h"
#include "leakd/process/remote.h"

#define PAGE 4096u

/* 3 blocks of private memory, 64 KiB aligned, page 21 (in block 1) unmapped. */
static uint8_t *region;
static pid_t child;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12));
}

static void child_sleep(void)
{
	for (;;)
		pause();
}

static void setup_child(void)
{
	uint8_t *raw = mmap(NULL, 4 * REMOTE_BLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(raw, MAP_FAILED);
	region = (uint8_t *)(((uintptr_t)raw + REMOTE_BLOCK_SIZE - 1) & ~(uintptr_t)(REMOTE_BLOCK_SIZE - 1));
	for (uint64_t i = 0; i < 3 * REMOTE_BLOCK_SIZE; i++)
		region[i] = pattern(i);
	cr_assert_eq(munmap(region + 21 * PAGE, PAGE), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_sleep();
	}
}

static void teardown_child(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}

TestSuite(remote, .init = setup_child, .fini = teardown_child);

static void check_bytes(const uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(buf[i], pattern(off + i), "byte %zu at offset %llu", i, (unsigned long long)(off + i));
}

Test(remote, reads_the_childs_memory_and_caches_blocks)
{
	struct remote *r;
	struct remote_stats st;
	uint8_t buf[64];

	cr_assert_eq(remote_new(child, REMOTE_DEFAULT_CACHE, &r), 0);
	cr_assert_eq(remote_pid(r), child);
	for (uint64_t off = 0; off < REMOTE_BLOCK_SIZE; off += 1000) {
		cr_assert_eq(remote_read(r, (uintptr_t)region + off, buf, 16), 0);
		check_bytes(buf, off, 16);
	}
	remote_stats(r, &st);
	cr_assert_eq(st.syscalls, 1, "one block fetch serves the whole block");
	cr_assert_eq(st.misses, 1);
	cr_assert_eq(st.hits, 65);
	cr_assert_eq(st.bytes, REMOTE_BLOCK_SIZE);
	remote_invalidate(r);
	cr_assert_eq(remote_read(r, (uintptr_t)region + 8, buf, 8), 0);
	remote_stats(r, &st);
	cr_assert_eq(st.syscalls, 2, "invalidate drops the cache");
	remote_free(r);
	remote_free(NULL);
}

Test(remote, read_across_two_blocks)
{
	struct remote *r;
	struct memreader m;
	uint8_t buf[100];
	uint64_t off = 2 * REMOTE_BLOCK_SIZE - 50;

	cr_assert_eq(remote_new(child, REMOTE_DEFAULT_CACHE, &r), 0);
	m = remote_reader(r);
	cr_assert_eq(memreader_read(&m, (uintptr_t)region + off, buf, sizeof(buf)), 0);
	check_bytes(buf, off, sizeof(buf));
	remote_free(r);
}

Test(remote, block_with_an_unmapped_page_is_read_page_by_page)
{
	struct remote *r;
	struct remote_stats st;
	uint8_t buf[32];
	uint64_t s0;

	cr_assert_eq(remote_new(child, REMOTE_DEFAULT_CACHE, &r), 0);
	/* page 20 is readable; page 21 is not; page 22 is */
	cr_assert_eq(remote_read(r, (uintptr_t)region + 20 * PAGE + 100, buf, 16), 0);
	check_bytes(buf, 20 * PAGE + 100, 16);
	remote_stats(r, &st);
	s0 = st.syscalls;
	cr_assert_leq(s0, 1 + 16, "one block attempt plus at most one read per page");
	cr_assert_eq(remote_read(r, (uintptr_t)region + 21 * PAGE + 8, buf, 8), -EFAULT);
	cr_assert_eq(remote_read(r, (uintptr_t)region + 22 * PAGE - 8, buf, 16), -EFAULT, "straddles into the hole");
	cr_assert_eq(remote_read(r, (uintptr_t)region + 22 * PAGE, buf, 32), 0);
	check_bytes(buf, 22 * PAGE, 32);
	remote_stats(r, &st);
	cr_assert_eq(st.syscalls, s0, "the hole is remembered: no more syscalls");
	cr_assert_eq(st.faults, 2);
	remote_free(r);
}

Test(remote, uncached_reader_reads_exactly)
{
	struct remote *r;
	struct remote_stats st;
	uint8_t buf[24];

	cr_assert_eq(remote_new(child, 0, &r), 0);
	cr_assert_eq(remote_read(r, (uintptr_t)region + 4242, buf, sizeof(buf)), 0);
	check_bytes(buf, 4242, sizeof(buf));
	cr_assert_eq(remote_read(r, (uintptr_t)region + 21 * PAGE - 4, buf, 8), -EFAULT);
	remote_stats(r, &st);
	cr_assert_eq(st.syscalls, 2);
	cr_assert_eq(st.bytes, 24 + 4, "a partial read counts what it moved");
	remote_free(r);
}

/* A page both processes share: what the parent writes after a cached read is
 * what a target does between two censuses. */
Test(remote, uncached_reader_sees_a_change_the_cache_does_not)
{
	uint64_t *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct remote *r;
	struct memreader cached, uncached;
	uint64_t v = 0;
	pid_t pid;

	cr_assert_neq(shared, MAP_FAILED);
	shared[3] = 0x1111;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_sleep();
	}
	cr_assert_eq(remote_new(pid, REMOTE_DEFAULT_CACHE, &r), 0);
	cached = remote_reader(r);
	uncached = remote_reader_uncached(r);
	cr_assert_eq(memreader_read_u64(&cached, (uintptr_t)&shared[3], &v), 0);
	cr_assert_eq(v, 0x1111);
	shared[3] = 0x2222;
	cr_assert_eq(memreader_read_u64(&cached, (uintptr_t)&shared[3], &v), 0);
	cr_assert_eq(v, 0x1111, "the cache serves the block it read");
	cr_assert_eq(memreader_read_u64(&uncached, (uintptr_t)&shared[3], &v), 0);
	cr_assert_eq(v, 0x2222, "the uncached reader reads the memory as it is now");
	cr_assert_eq(memreader_read_fresh(&uncached, (uintptr_t)&shared[4], &v, sizeof(v)), 0);
	cr_assert_eq(v, 0);
	remote_free(r);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	munmap(shared, PAGE);
}

Test(remote, gone_process_is_esrch)
{
	struct remote *r;
	uint8_t buf[8];

	cr_assert_eq(remote_new(child, REMOTE_DEFAULT_CACHE, &r), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = 0;
	cr_assert_eq(remote_read(r, (uintptr_t)region, buf, sizeof(buf)), -ESRCH);
	remote_free(r);
}

Test(remote, bad_arguments)
{
	struct remote *r = (struct remote *)0x1;

	cr_assert_eq(remote_new(0, 0, &r), -EINVAL);
	cr_assert_eq(r, (struct remote *)0x1);
	cr_assert_eq(memreader_read(NULL, 0, NULL, 0), -EINVAL);
}

/* ---- freeze: a child with spinning threads counting in shared memory ---- */

#define SPINNERS 3

struct shared {
	_Atomic uint64_t count[SPINNERS];
	_Atomic uint64_t usr1;
};

static struct shared *sh;

static void *spin(void *arg)
{
	_Atomic uint64_t *c = arg;

	for (;;)
		atomic_fetch_add(c, 1);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&sh->usr1, 1);
}

static void setup_spinners(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		pthread_t t;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR1, on_usr1);
		for (int i = 1; i < SPINNERS; i++)
			pthread_create(&t, NULL, spin, (void *)&sh->count[i]);
		spin(&sh->count[0]);
	}
	/* wait until every thread runs */
	for (int i = 0; i < SPINNERS; i++)
		while (atomic_load(&sh->count[i]) == 0)
			usleep(100);
}

TestSuite(freeze, .init = setup_spinners, .fini = teardown_child);

static uint64_t total(void)
{
	uint64_t s = 0;

	for (int i = 0; i < SPINNERS; i++)
		s += atomic_load(&sh->count[i]);
	return s;
}

static void snapshot(uint64_t c[SPINNERS])
{
	for (int i = 0; i < SPINNERS; i++)
		c[i] = atomic_load(&sh->count[i]);
}

/* Whether every spinner counts past its snapshot within two seconds. Right after a
 * thaw a loaded machine (two cores shared, make check niced) may not schedule them
 * for tens of milliseconds; that is not a stop left in place, which never ends. */
static bool all_ran_since(const uint64_t c[SPINNERS])
{
	for (int i = 0, tries = 0; i < SPINNERS; tries++) {
		if (atomic_load(&sh->count[i]) > c[i])
			i++;
		else if (tries >= 2000)
			return false;
		else
			usleep(1000);
	}
	return true;
}

Test(freeze, stops_every_thread_and_thaw_resumes_them, .timeout = 20)
{
	struct freeze *f = NULL;
	uint64_t a, b, c[SPINNERS];

	cr_assert_eq(freeze_stop(child, &f), 0);
	cr_assert_eq(freeze_ntasks(f), SPINNERS);
	a = total();
	usleep(20000);
	b = total();
	cr_assert_eq(a, b, "nothing runs while frozen");
	snapshot(c);
	cr_assert_eq(freeze_thaw(f), 0);
	cr_assert(all_ran_since(c), "every thread runs again");
	cr_assert_eq(freeze_thaw(NULL), 0);
}

Test(freeze, signal_sent_while_frozen_is_delivered_after_thaw, .timeout = 20)
{
	struct freeze *f = NULL;

	cr_assert_eq(freeze_stop(child, &f), 0);
	kill(child, SIGUSR1);
	usleep(20000);
	cr_assert_eq(atomic_load(&sh->usr1), 0);
	cr_assert_eq(freeze_thaw(f), 0);
	for (int i = 0; i < 2000 && atomic_load(&sh->usr1) == 0; i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&sh->usr1), 1);
}

Test(freeze, already_traced_is_eperm_and_leaves_the_target_running, .timeout = 20)
{
	struct freeze *f = NULL, *g = (struct freeze *)0x1;
	uint64_t c[SPINNERS];

	cr_assert_eq(freeze_stop(child, &f), 0);
	cr_assert_eq(freeze_stop(child, &g), -EPERM);
	cr_assert_eq(g, (struct freeze *)0x1);
	cr_assert_eq(freeze_thaw(f), 0);
	snapshot(c);
	cr_assert(all_ran_since(c), "the target runs after the refused second stop");
}

Test(freeze, gone_process_is_esrch)
{
	struct freeze *f = NULL;

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = 0;
	cr_assert_eq(freeze_stop(999999999, &f), -ESRCH);
	cr_assert_null(f);
}
