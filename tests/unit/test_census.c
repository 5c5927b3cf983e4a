// SPDX-License-Identifier: MIT
/*
 * census tests: synthetic interpreter memory (a fake memreader over a byte
 * buffer holding a runtime, an interpreter, a GC state, three generation
 * lists and a few types), plus live walks of real Pythons (root only).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakd/census/census.h"
#include "leakd/process/freeze.h"
#include "leakd/python/pylayout.h"
#include "leakd/process/remote.h"

#include "fake_target.h"

/*
 * The standard fixture (3.11 layout): gen0 3 Leaky, gen1 2 dict, gen2
 * 5 Leaky + 4 tuple(3 items); permanent empty.
 */
static struct fake *census_fake_new(int minor, uint32_t gens_off)
{
	struct fake *f = fake_new(minor, gens_off);

	f->str_type = fake_type(f, "str", 1ull << 28, 64, 1);
	f->dict_type = fake_type(f, "dict", PYLAYOUT_TPFLAGS_HAVE_GC, 48, 0);
	f->t_dict = f->dict_type;
	f->t_tuple = fake_type(f, "tuple", PYLAYOUT_TPFLAGS_HAVE_GC, 24, 8);
	f->t_leaky = fake_type(f, "Leaky", PYLAYOUT_TPFLAGS_HAVE_GC | PYLAYOUT_TPFLAGS_HEAPTYPE | (1ull << 4), 16, 0);
	fake_w64(f, f->t_leaky + f->l.ht_qualname, fake_str(f, "Leaky", NULL, 5));
	fake_w64(f, f->t_leaky + f->l.tp_dict, fake_type_dict(f, "__main__"));

	for (int i = 0; i < 3; i++)
		fake_obj(f, 0, f->t_leaky, 0);
	for (int i = 0; i < 2; i++)
		fake_obj(f, 1, f->t_dict, 0);
	for (int i = 0; i < 5; i++)
		fake_obj(f, 2, f->t_leaky, 0);
	for (int i = 0; i < 4; i++)
		fake_obj(f, 2, f->t_tuple, 3);
	return f;
}

static const struct census_type *find_type(const struct census *c, const char *name)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (strcmp(c->types[i].name, name) == 0)
			return &c->types[i];
	return NULL;
}

Test(census, counts_every_object_by_type_and_generation)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census c;
	const struct census_type *t;

	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	cr_assert_eq(c.objects, 14);
	cr_assert_eq(c.gen_objects[0], 3);
	cr_assert_eq(c.gen_objects[1], 2);
	cr_assert_eq(c.gen_objects[2], 9);
	cr_assert_eq(c.gen_objects[3], 0);
	cr_assert_eq(c.broken_links, 0);
	cr_assert_not(c.truncated);
	cr_assert_eq(c.steps, 14);
	cr_assert_eq(c.ntypes, 3);
	/* sorted by objects: Leaky 8, tuple 4, dict 2 */
	cr_assert_str_eq(c.types[0].name, "__main__.Leaky");
	cr_assert_eq(c.types[0].objects, 8);
	/* 16 GC head + 16 managed-dict pre-header + 16 basicsize */
	cr_assert_eq(c.types[0].bytes, 8 * 48);
	t = find_type(&c, "tuple");
	cr_assert_not_null(t);
	cr_assert_eq(t->objects, 4);
	cr_assert_eq(t->bytes, 4 * (16 + 24 + 3 * 8));
	t = find_type(&c, "dict");
	cr_assert_not_null(t);
	cr_assert_eq(t->objects, 2);
	cr_assert_eq(t->type_addr, f->t_dict);
	cr_assert_eq(c.bytes, 8 * 48 + 4 * 64 + 2 * 64);
	census_free(&c);
	cr_assert_null(c.types);
	census_free(NULL);
	fake_free(f);
}

Test(census, broken_link_is_tolerated_and_counted)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census c;
	uint64_t g2 = fake_head(f, 2);
	uint64_t n1 = fake_r64(f, g2) & ~3ull, n2 = fake_r64(f, n1) & ~3ull;

	/* the third node of gen2 no longer points back at the second */
	fake_w64(f, (fake_r64(f, n2) & ~3ull) + 8, 0xdead0000);
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	cr_assert_eq(c.broken_links, 1);
	cr_assert_eq(c.gen_objects[0], 3);
	cr_assert_eq(c.gen_objects[1], 2);
	cr_assert_eq(c.gen_objects[2], 2, "gen2 stops at the broken node");
	cr_assert_eq(c.objects, 7);
	census_free(&c);
	fake_free(f);
}

Test(census, unmapped_next_pointer_is_a_broken_link_not_a_crash)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census c;
	uint64_t n1 = fake_r64(f, fake_head(f, 0)) & ~3ull;

	fake_w64(f, n1, 0x7fff00000000ull);
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	cr_assert_eq(c.broken_links, 1);
	cr_assert_eq(c.gen_objects[0], 1);
	cr_assert_eq(c.objects, 12);
	census_free(&c);
	fake_free(f);
}

Test(census, garbage_type_pointer_breaks_the_list)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census c;
	uint64_t n1 = fake_r64(f, fake_head(f, 1)) & ~3ull;

	fake_w64(f, n1 + 16 + 8, f->rt + 8);	/* readable, but not a type */
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	cr_assert_eq(c.broken_links, 1);
	cr_assert_eq(c.gen_objects[1], 0);
	cr_assert_eq(c.objects, 12);
	census_free(&c);
	fake_free(f);
}

Test(census, max_steps_truncates)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census_limits lim = { .max_steps = 5 };
	struct census c;

	cr_assert_eq(census_walk(&m, &f->l, f->rt, &lim, &c), 0);
	cr_assert(c.truncated);
	cr_assert_eq(c.steps, 5);
	cr_assert_eq(c.objects, 5);
	cr_assert_eq(c.gen_objects[0], 3);
	cr_assert_eq(c.gen_objects[1], 2);
	census_free(&c);
	fake_free(f);
}

Test(census, max_types_folds_the_rest_into_other)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census_limits lim = { .max_types = 2 };
	struct census c;

	cr_assert_eq(census_walk(&m, &f->l, f->rt, &lim, &c), 0);
	cr_assert_eq(c.ntypes, 2);
	cr_assert_str_eq(c.types[0].name, "__main__.Leaky");
	cr_assert_str_eq(c.types[1].name, "(other)");
	cr_assert_eq(c.types[1].objects, 6);
	cr_assert_eq(c.types[1].type_addr, 0);
	census_free(&c);
	fake_free(f);
}

Test(census, garbage_list_heads_are_rejected)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census c = { .objects = 42 };
	struct pylayout shifted = f->l;

	for (int g = 0; g < 3; g++)
		fake_w64(f, fake_head(f, g), 0x4141414141414141ull);
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), -EPROTO);
	cr_assert_eq(c.objects, 42, "out untouched on failure");
	fake_free(f);

	f = census_fake_new(11, 24);
	m = fake_reader(f);
	shifted.interp_gc += 8;	/* a wrong layout: nothing lines up */
	cr_assert_eq(census_walk(&m, &shifted, f->rt, NULL, &c), -EPROTO);
	fake_free(f);
}

Test(census, one_stale_head_is_walked_as_a_broken_list)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census_gc_loc loc;
	struct census c;

	fake_w64(f, fake_head(f, 0), 0x4141414141414141ull);
	cr_assert_eq(census_locate(&m, &f->l, f->rt, &loc), 0);
	cr_assert_eq(loc.valid_heads, 6);
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	cr_assert_eq(c.broken_links, 1);
	cr_assert_eq(c.gen_objects[0], 0);
	cr_assert_eq(c.objects, 11);
	census_free(&c);
	fake_free(f);
}

Test(census, missing_interpreter_and_bad_runtime_are_errors)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct census c;
	struct pylayout unknown = f->l;

	cr_assert_eq(census_walk(&m, &f->l, 0x4000, NULL, &c), -EFAULT);
	unknown.known = false;
	cr_assert_eq(census_walk(&m, &unknown, f->rt, NULL, &c), -ENOTSUP);
	fake_w64(f, f->rt + f->l.rt_interp_head, 0);
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), -ENOENT);
	fake_free(f);
}

Test(census, debian_313_generations_found_at_the_alternative_offset)
{
	struct fake *f = census_fake_new(13, 20);	/* built with gens at gc+20 */
	struct memreader m = fake_reader(f);
	struct pylayout l;
	struct census_gc_loc loc;
	struct census c;

	cr_assert_eq(pylayout_for_version(3, 13, 5, &l), 0);
	cr_assert_eq(l.gc_gens, 24);
	cr_assert_eq(census_locate(&m, &l, f->rt, &loc), 0);
	cr_assert_eq(loc.gens_off, 20);
	cr_assert_eq(loc.gc, f->interp + 7400);
	cr_assert_eq(census_walk(&m, &l, f->rt, NULL, &c), 0);
	cr_assert_eq(c.objects, 14);
	cr_assert_eq(c.broken_links, 0);
	census_free(&c);
	fake_free(f);
}

Test(census, gc_state_reads_switches_thresholds_and_stats)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct pygc_state st;

	cr_assert_eq(census_gc_state(&m, &f->l, f->rt, &st), 0);
	cr_assert(st.enabled);
	cr_assert_eq(st.collecting, 0);
	cr_assert_eq(st.threshold[0], 700);
	cr_assert_eq(st.threshold[2], 10);
	cr_assert_eq(st.count[1], 4);
	cr_assert_eq(st.collections[2], 102);
	cr_assert_eq(st.collected[0], 200);
	cr_assert_eq(st.uncollectable[1], 1);
	fake_free(f);
}

Test(census, heap_type_names_use_module_and_qualname)
{
	struct fake *f = census_fake_new(12, 24);
	struct memreader m = fake_reader(f);
	static const uint16_t caf[] = { 'C', 'a', 'f', 0xe9, 0x20ac };
	uint64_t t = fake_type(f, "Caf", PYLAYOUT_TPFLAGS_HAVE_GC | PYLAYOUT_TPFLAGS_HEAPTYPE, 16, 0);
	uint64_t b = fake_type(f, "B", PYLAYOUT_TPFLAGS_HAVE_GC | PYLAYOUT_TPFLAGS_HEAPTYPE, 16, 0);
	char buf[64];

	fake_w64(f, t + f->l.ht_qualname, fake_str(f, NULL, caf, 5));
	fake_w64(f, t + f->l.tp_dict, fake_type_dict(f, "pkg.mod"));
	fake_w64(f, b + f->l.ht_qualname, fake_str(f, "Outer.B", NULL, 7));
	fake_w64(f, b + f->l.tp_dict, fake_type_dict(f, "builtins"));

	cr_assert_eq(pyname_type(&m, &f->l, t, buf, sizeof(buf)), 16);
	cr_assert_str_eq(buf, "pkg.mod.Caf\xc3\xa9\xe2\x82\xac");
	cr_assert_eq(pyname_type(&m, &f->l, b, buf, sizeof(buf)), 7);
	cr_assert_str_eq(buf, "Outer.B");
	cr_assert_eq(pyname_type(&m, &f->l, f->t_tuple, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "tuple");
	cr_assert_eq(pyname_type(&m, &f->l, f->t_tuple, buf, 4), 3);
	cr_assert_str_eq(buf, "tup");
	cr_assert_lt(pyname_type(&m, &f->l, f->rt + 8, buf, sizeof(buf)), 0);
	fake_free(f);
}

/* ---- live walks of real interpreters ---- */

/* _PyRuntime's link-time address from .dynsym; 0 if absent. Also ELF type. */
static uint64_t elf_dynsym(const char *path, const char *name, int *etype)
{
	uint64_t val = 0;
	Elf *e;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && gelf_getehdr(e, &eh))
		*etype = eh.e_type;
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;

			if (gelf_getsym(d, (int)i, &s) &&
			    strcmp(elf_strptr(e, sh.sh_link, s.st_name), name) == 0) {
				val = s.st_value;
				break;
			}
		}
	}
	elf_end(e);
	close(fd);
	return val;
}

/* Start address of the mapping of `path` at file offset 0 in pid. */
static uint64_t map_base(pid_t pid, const char *path)
{
	char fn[64], line[512];
	uint64_t base = 0;
	FILE *fp;

	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)pid);
	fp = fopen(fn, "r");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long lo, off;
		char p[400] = "";

		if (sscanf(line, "%llx-%*[0-9a-f] %*s %llx %*s %*s %399s", &lo, &off, p) >= 2 && off == 0 &&
		    strcmp(p, path) == 0) {
			base = lo;
			break;
		}
	}
	fclose(fp);
	return base;
}

struct child {
	pid_t pid;
	int to, from;	/* child's stdin (write end), stdout (read end) */
	long objects;	/* len(gc.get_objects()) as the child saw it */
	long frozen;	/* gc.get_freeze_count(): the permanent generation */
};

static const char holder_py[] =
	"import gc, sys\n"
	"class Leaky: pass\n"
	"class Slotted:\n"
	"    __slots__ = ('a',)\n"
	"n = int(sys.argv[1])\n"
	"a = [Leaky() for _ in range(12345)]\n"
	"b = [Slotted() for _ in range(2345)]\n"
	"c = [Leaky() for _ in range(n)]\n"
	"gc.collect()\n"
	"sys.stdout.write('%d %d\\n' % (len(gc.get_objects()), gc.get_freeze_count()))\n"
	"sys.stdout.flush()\n"
	"sys.stdin.read()\n";

static int child_start(struct child *ch, const char *python, long extra)
{
	int in[2], out[2];
	char nbuf[32], line[128];
	ssize_t n;

	if (pipe(in) < 0 || pipe(out) < 0)
		return -errno;
	snprintf(nbuf, sizeof(nbuf), "%ld", extra);
	ch->pid = fork();
	if (ch->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(python, python, "-c", holder_py, nbuf, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ch->to = in[1];
	ch->from = out[0];
	n = read(ch->from, line, sizeof(line) - 1);	/* wait for the object count */
	if (n <= 0)
		return -EIO;
	line[n] = '\0';
	if (sscanf(line, "%ld %ld", &ch->objects, &ch->frozen) != 2)
		return -EIO;
	return 0;
}

static void child_stop(struct child *ch)
{
	int st;

	close(ch->to);	/* stdin EOF: the holder exits */
	close(ch->from);
	if (waitpid(ch->pid, &st, 0) < 0 || !WIFEXITED(st))
		kill(ch->pid, SIGKILL);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * python: interpreter to run; elf: the ELF that exports _PyRuntime (the
 * executable or libpython). Freezes, walks, thaws; checks exact counts.
 */
static void live_census(const char *python, const char *elf, int minor, long extra)
{
	struct child ch = { 0 };
	struct pylayout l;
	struct remote *r = NULL;
	struct freeze *fz = NULL;
	struct memreader m;
	struct census c;
	struct remote_stats rs;
	const struct census_type *t;
	uint64_t rt, bias = 0;
	int etype = 0, err;
	double t0, t1, t2, t3;

	if (geteuid() != 0)
		cr_skip_test("live census needs root (ptrace, process_vm_readv)");
	if (access(python, X_OK) != 0)
		cr_skip_test("%s not installed", python);
	rt = elf_dynsym(elf, "_PyRuntime", &etype);
	cr_assert_neq(rt, 0, "_PyRuntime in %s", elf);
	cr_assert_eq(pylayout_for_version(3, minor, -1, &l), 0);
	cr_assert_eq(child_start(&ch, python, extra), 0);
	if (etype == ET_DYN) {
		bias = map_base(ch.pid, elf);
		cr_assert_neq(bias, 0);
	}
	rt += bias;

	cr_assert_eq(remote_new(ch.pid, REMOTE_DEFAULT_CACHE, &r), 0);
	m = remote_reader(r);
	if (minor >= 13) {
		/* 3.13+: the layout comes from the target's own _Py_DebugOffsets */
		unsigned char dbg[PYLAYOUT_DEBUG_OFFSETS_MIN];

		cr_assert_eq(memreader_read(&m, rt, dbg, sizeof(dbg)), 0);
		cr_assert_eq(pylayout_from_debug_offsets(dbg, sizeof(dbg), &l), 0);
		cr_assert_eq(l.minor, minor);
	}
	t0 = now_ms();
	err = freeze_stop(ch.pid, &fz);
	t1 = now_ms();
	cr_assert_eq(err, 0, "freeze: %s", strerror(-err));
	remote_invalidate(r);
	err = census_walk(&m, &l, rt, NULL, &c);
	if (err == 0) {
		struct pygc_state st;

		cr_assert_eq(census_gc_state(&m, &l, rt, &st), 0);
		cr_assert(st.enabled);
		cr_assert_eq(st.collecting, 0);
		cr_assert_eq(st.threshold[0], minor >= 13 ? 2000 : 700);
		cr_assert_eq(st.threshold[1], 10);
		cr_assert_eq(st.threshold[2], 10);
		cr_assert_geq(st.collections[2], 1, "the holder ran gc.collect()");
	}
	t2 = now_ms();
	cr_assert_eq(freeze_thaw(fz), 0);
	t3 = now_ms();
	cr_assert_eq(err, 0, "census: %s", strerror(-err));
	remote_stats(r, &rs);
	cr_log_info("%s: %llu objects (gens %llu/%llu/%llu), %zu types; freeze %.2f ms, walk %.2f ms, "
		    "thaw %.2f ms; %llu syscalls, %llu KiB read",
		    python, (unsigned long long)c.objects, (unsigned long long)c.gen_objects[0],
		    (unsigned long long)c.gen_objects[1], (unsigned long long)c.gen_objects[2], c.ntypes, t1 - t0,
		    t2 - t1, t3 - t2, (unsigned long long)rs.syscalls, (unsigned long long)(rs.bytes >> 10));
	fprintf(stderr, "  %s: %llu objects, pause %.2f ms (freeze %.2f + walk %.2f + thaw %.2f), %llu syscalls\n",
		python, (unsigned long long)c.objects, t3 - t0, t1 - t0, t2 - t1, t3 - t2,
		(unsigned long long)rs.syscalls);
	cr_assert_eq(c.broken_links, 0);
	cr_assert_not(c.truncated);
	t = find_type(&c, "__main__.Leaky");
	cr_assert_not_null(t, "Leaky found (top: %s)", c.types[0].name);
	cr_assert_eq(t->objects, 12345 + (uint64_t)extra);
	t = find_type(&c, "__main__.Slotted");
	cr_assert_not_null(t);
	cr_assert_eq(t->objects, 2345);
	cr_assert_not_null(find_type(&c, "dict"));
	/* the same objects gc.get_objects() sees, give or take the few the
	 * holder made after counting (the count's own list is gone again) */
	{
		uint64_t young = c.objects - c.gen_objects[3];

		cr_assert_leq(young > (uint64_t)ch.objects ? young - ch.objects : ch.objects - young, 20,
			      "census %llu vs gc.get_objects() %ld", (unsigned long long)young, ch.objects);
		cr_assert_eq(c.gen_objects[3], (uint64_t)ch.frozen);
	}

	/* after the thaw the target runs: it answers and exits normally */
	child_stop(&ch);
	census_free(&c);
	remote_free(r);
}

Test(census_live, debian_python311_exact_counts, .timeout = 60)
{
	live_census("/usr/bin/python3.11", "/usr/bin/python3.11", 11, 0);
}

Test(census_live, pyenv_311_exact_counts, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.11.7/bin/python3.11",
		    "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", 11, 0);
}

Test(census_live, pyenv_39_exact_counts, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.9.18/bin/python3.9",
		    "/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0", 9, 0);
}

Test(census_live, pyenv_37_exact_counts, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.7.16/bin/python3.7",
		    "/root/.pyenv/versions/3.7.16/lib/libpython3.7m.so.1.0", 7, 0);
}

Test(census_live, pyenv_38_exact_counts, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.8.18/bin/python3.8",
		    "/root/.pyenv/versions/3.8.18/lib/libpython3.8.so.1.0", 8, 0);
}

Test(census_live, pyenv_310_exact_counts, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.10.13/bin/python3.10",
		    "/root/.pyenv/versions/3.10.13/lib/libpython3.10.so.1.0", 10, 0);
}

Test(census_live, pyenv_312_exact_counts, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.12.1/bin/python3.12",
		    "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0", 12, 0);
}

Test(census_live, pyenv_313_layout_from_debug_offsets, .timeout = 60)
{
	live_census("/root/.pyenv/versions/3.13.0/bin/python3.13",
		    "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0", 13, 0);
}

Test(census_live, one_million_objects_debian_311, .timeout = 120)
{
	live_census("/usr/bin/python3.11", "/usr/bin/python3.11", 11, 1000000);
}

/* Without a freeze the lists change under the walk: it must still finish,
 * with approximate counts and broken links counted rather than followed. */
Test(census_live, unfrozen_walk_of_a_churning_target_completes, .timeout = 60)
{
	static const char churn_py[] =
		"import sys\n"
		"keep = [dict(a=i) for i in range(200000)]\n"
		"sys.stdout.write('go\\n'); sys.stdout.flush()\n"
		"i = 0\n"
		"while True:\n"
		"    keep[i % 200000] = [{'k': i}, (i, [i])]\n"
		"    i += 1\n";
	struct pylayout l;
	struct remote *r = NULL;
	struct memreader m;
	uint64_t rt;
	int etype = 0, fds[2], ok = 0, broken = 0;
	char line[16];
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("live census needs root");
	rt = elf_dynsym("/usr/bin/python3.11", "_PyRuntime", &etype);
	cr_assert_neq(rt, 0);
	cr_assert_eq(pylayout_for_version(3, 11, 2, &l), 0);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		execl("/usr/bin/python3.11", "python3.11", "-c", churn_py, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	cr_assert_gt(read(fds[0], line, sizeof(line)), 0);
	cr_assert_eq(remote_new(pid, REMOTE_DEFAULT_CACHE, &r), 0);
	m = remote_reader(r);
	for (int i = 0; i < 30; i++) {
		struct census c;
		int err;

		remote_invalidate(r);
		err = census_walk(&m, &l, rt, NULL, &c);
		/* a list head can be mid-update: -EPROTO is a legitimate answer */
		cr_assert(err == 0 || err == -EPROTO, "walk %d: %s", i, strerror(-err));
		if (err == 0) {
			ok++;
			broken += c.broken_links;
			cr_assert_not(c.truncated);
			census_free(&c);
		}
	}
	fprintf(stderr, "  unfrozen churn: %d/30 walks completed, %d broken links in total\n", ok, broken);
	cr_assert_gt(ok, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	remote_free(r);
}

Test(census, pointer_in_ob_size_is_not_an_item_count)
{
	/* 3.11+ generators set tp_itemsize but keep a code pointer where a
	 * var-object's ob_size would be: it must not inflate the bytes. */
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	uint64_t gen_type = fake_type(f, "generator", PYLAYOUT_TPFLAGS_HAVE_GC, 96, 8);
	struct census c;
	const struct census_type *t;

	fake_obj(f, 0, gen_type, (int64_t)0x7f12345678a0ll);
	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	t = find_type(&c, "generator");
	cr_assert_not_null(t);
	cr_assert_eq(t->objects, 1);
	cr_assert_eq(t->bytes, 16 + 96);
	cr_assert_lt(c.bytes, 1u << 20);
	census_free(&c);
	fake_free(f);
}

Test(census, size_histogram_sorts_each_object_into_its_class)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	uint64_t total = 0;
	struct census c;

	cr_assert_eq(census_walk(&m, &f->l, f->rt, NULL, &c), 0);
	/* 8 Leaky of 48 bytes; 4 tuples and 2 dicts of 64 bytes. */
	cr_assert_eq(c.size_objects[sizeclass_of(48)], 8);
	cr_assert_eq(c.size_bytes[sizeclass_of(48)], 8 * 48);
	cr_assert_eq(c.size_objects[sizeclass_of(64)], 6);
	for (unsigned i = 0; i < SIZECLASS_N; i++)
		total += c.size_objects[i];
	cr_assert_eq(total, c.objects);
	census_free(&c);
	fake_free(f);
}

struct visits {
	uint64_t n, leaky;
	uint64_t t_leaky;
	bool obj_after_head;
};

static void count_visit(void *ctx, uint64_t node, uint64_t obj, uint64_t type)
{
	struct visits *v = ctx;

	v->n++;
	v->leaky += type == v->t_leaky;
	v->obj_after_head &= obj == node + 16;
}

Test(census, visitor_sees_every_counted_object_with_its_type)
{
	struct fake *f = census_fake_new(11, 24);
	struct memreader m = fake_reader(f);
	struct visits v = { .t_leaky = f->t_leaky, .obj_after_head = true };
	struct census_limits lim = { .visit = count_visit, .visit_ctx = &v };
	struct census c;

	cr_assert_eq(census_walk(&m, &f->l, f->rt, &lim, &c), 0);
	cr_assert_eq(v.n, c.objects);
	cr_assert_eq(v.leaky, 8);
	cr_assert(v.obj_after_head);
	census_free(&c);
	fake_free(f);
}
