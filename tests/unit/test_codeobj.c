// SPDX-License-Identifier: MIT
/*
 * codeobj tests against live interpreters: a child Python prints the address
 * (id), qualname, filename and first line of some of its code objects and,
 * for every instruction, the line it gives itself (tests/fixtures/linetable/
 * dump.py's expected_lines); the test reads the same code objects from
 * outside and must agree. Runs on every interpreter of the matrix found here
 * (python3 on PATH; pyenv 3.8-3.13 and the fetched trixie 3.13 / sid 3.14
 * when present) and skips the ones that are not.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leakd/python/codeobj.h"
#include "leakd/process/remote.h"

static const char child_py[] =
	"import sys\n"
	"sys.path.insert(0, sys.argv[1])\n"
	"from dump import expected_lines\n"
	"def probe(a):\n"
	"    x = [a\n"
	"         for _ in range(3)]\n"
	"    return x\n"
	"class K:\n"
	"    def meth(self):\n"
	"        return 1\n"
	"long_name = '/' + 'd' * 300 + '/long_\\u00e9.py'\n"
	"ns = {}\n"
	"exec(compile('def far():\\n    return 2\\n', long_name, 'exec'), ns)\n"
	"codes = [probe.__code__, K.meth.__code__, ns['far'].__code__, expected_lines.__code__]\n"
	"out = sys.stdout\n"
	"out.write('hex %d\\n' % sys.hexversion)\n"
	"out.write('str %d\\n' % id(long_name))\n"
	"for co in codes:\n"
	"    out.write('code %d %d %s\\t%s\\n' % (id(co), co.co_firstlineno,\n"
	"              getattr(co, 'co_qualname', co.co_name), co.co_filename))\n"
	"    out.write('lines %s\\n' % ' '.join('-' if l is None else str(l) for l in expected_lines(co)))\n"
	"out.write('end\\n')\n"
	"out.flush()\n"
	"sys.stdin.read()\n";

struct child {
	pid_t pid;
	int to;
	FILE *from;
};

static int child_start(struct child *ch, const char *python)
{
	const char *dir = getenv("LEAKD_FIXTURES");
	char fix[512];
	int in[2], out[2];

	snprintf(fix, sizeof(fix), "%s/linetable", dir ? dir : "tests/fixtures");
	if (pipe(in) < 0 || pipe(out) < 0)
		return -errno;
	ch->pid = fork();
	if (ch->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(python, python, "-c", child_py, fix, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ch->to = in[1];
	ch->from = fdopen(out[0], "r");
	return ch->from ? 0 : -errno;
}

static void child_stop(struct child *ch)
{
	int st;

	close(ch->to);
	fclose(ch->from);
	if (waitpid(ch->pid, &st, 0) < 0 || !WIFEXITED(st))
		kill(ch->pid, SIGKILL);
}

/* A reader that rewrites one 4-byte field: plays an address reused by another code object. */
struct patching {
	struct memreader inner;
	uint64_t at;
	int32_t value;
	bool on;
};

static int patching_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct patching *p = ctx;
	int r = memreader_read(&p->inner, addr, buf, len);

	if (r == 0 && p->on && p->at >= addr && p->at + 4 <= addr + len)
		memcpy((char *)buf + (p->at - addr), &p->value, 4);
	return r;
}

static char line[1 << 16];

/* One interpreter: every code object and every instruction offset. */
static void check_python(const char *python)
{
	struct child ch = { 0 };
	struct remote *r = NULL;
	struct codeobj_cache *cache = NULL;
	struct codeobj_stats st;
	struct pylayout l;
	struct memreader m;
	unsigned long long hex = 0, str_addr = 0;
	int codes = 0;

	cr_assert_eq(child_start(&ch, python), 0);
	cr_assert_not_null(fgets(line, sizeof(line), ch.from), "%s: no output", python);
	cr_assert_eq(sscanf(line, "hex %llu", &hex), 1, "%s: %s", python, line);
	cr_assert_eq(pylayout_for_hexversion(hex, &l), 0);
	cr_assert_not_null(fgets(line, sizeof(line), ch.from));
	cr_assert_eq(sscanf(line, "str %llu", &str_addr), 1);
	cr_assert_eq(remote_new(ch.pid, REMOTE_DEFAULT_CACHE, &r), 0);
	m = remote_reader(r);
	cr_assert_eq(codeobj_cache__new(&l, 64, &cache), 0);

	while (fgets(line, sizeof(line), ch.from) && strncmp(line, "end", 3) != 0) {
		unsigned long long addr;
		int first, n = 0, units = 0;
		char *tab, *tok, name[CODEOBJ_QUALNAME_MAX], file[CODEOBJ_FILENAME_MAX];
		const struct codeobj *co;

		cr_assert_eq(sscanf(line, "code %llu %d %n", &addr, &first, &n), 2, "%s", line);
		tab = strchr(line + n, '\t');
		cr_assert_not_null(tab);
		*tab = 0;
		tab[strcspn(tab + 1, "\n") + 1] = 0;
		snprintf(name, sizeof(name), "%s", line + n);
		snprintf(file, sizeof(file), "%s", tab + 1);
		cr_assert_eq(codeobj_cache__get(cache, &m, addr, &co), 0, "%s: code %s", python, name);
		cr_assert_str_eq(co->qualname, name, "%s", python);
		cr_assert_str_eq(co->filename, file, "%s", python);
		cr_assert_gt(strlen(file), 0);
		cr_assert_eq(co->firstlineno, first);

		cr_assert_not_null(fgets(line, sizeof(line), ch.from));
		cr_assert_eq(strncmp(line, "lines ", 6), 0);
		for (tok = strtok(line + 6, " \n"); tok; tok = strtok(NULL, " \n"), units++) {
			int got = -1, rc = codeobj_line(co, (uint32_t)units * 2, &got);

			if (strcmp(tok, "-") == 0)
				cr_assert_eq(rc, -ENOENT, "%s %s +%d: %d", python, name, units * 2, got);
			else
				cr_assert(rc == 0 && got == atoi(tok), "%s %s +%d: rc %d line %d, want %s",
					  python, name, units * 2, rc, got, tok);
		}
		cr_assert_gt(units, 0);
		/* A second lookup is a cache hit with the same answer. */
		cr_assert_eq(codeobj_cache__get(cache, &m, addr, &co), 0);
		cr_assert_str_eq(co->qualname, name);
		codes++;

		if (codes == 1) {
			/* Same address, another identity: read afresh, not served stale. */
			struct patching p = { .inner = m, .at = addr + l.co_firstlineno,
					      .value = first + 1000, .on = true };
			struct memreader pm = { .read = patching_read, .ctx = &p };

			cr_assert_eq(codeobj_cache__get(cache, &pm, addr, &co), 0);
			cr_assert_eq(co->firstlineno, first + 1000);
			codeobj_cache__stats(cache, &st);
			cr_assert_eq(st.reused, 1);
		}
	}
	cr_assert_eq(codes, 4, "%s: %d code objects", python, codes);
	codeobj_cache__stats(cache, &st);
	cr_assert_geq(st.hits, 4);

	/* Not code objects: a str, an unaligned and a null pointer. */
	{
		const struct codeobj *co = NULL;

		cr_assert_eq(codeobj_cache__get(cache, &m, str_addr, &co), -ENOTSUP);
		cr_assert_eq(codeobj_cache__get(cache, &m, str_addr + 1, &co), -EINVAL);
		cr_assert_eq(codeobj_cache__get(cache, &m, 0, &co), -EINVAL);
		cr_assert_null(co);
	}
	codeobj_cache__free(cache);
	remote_free(r);
	child_stop(&ch);
	cr_log_info("codeobj: %s (0x%llx) agrees on %d code objects", python, hex, codes);
}

static int pythons(char out[][512], int cap)
{
	const char *pyenv = getenv("PYENV_ROOT");
	const char *cache = getenv("LEAKD_PYTHONS");
	char pat[512];
	glob_t g;
	int n = 0;

	if (access("/usr/bin/python3", X_OK) == 0)
		snprintf(out[n++], 512, "/usr/bin/python3");
	snprintf(pat, sizeof(pat), "%s/versions/3.*/bin/python3", pyenv ? pyenv : "/root/.pyenv");
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && n < cap; i++) {
			const char *v = strstr(g.gl_pathv[i], "/versions/3.");
			int minor = v ? atoi(v + 12) : 0;

			if (minor >= 8)
				snprintf(out[n++], 512, "%s", g.gl_pathv[i]);
		}
		globfree(&g);
	}
	for (int minor = 13; minor <= 14 && n < cap; minor++) {
		snprintf(out[n], 512, "%s/bin/python3.%d", cache ? cache : "build/pythons", minor);
		if (access(out[n], X_OK) == 0)
			n++;
	}
	return n;
}

Test(codeobj, reads_code_objects_of_live_interpreters, .timeout = 120)
{
	char list[16][512];
	int n;

	if (geteuid() != 0)
		cr_skip_test("reading another process needs root (process_vm_readv)");
	n = pythons(list, 16);
	if (n == 0)
		cr_skip_test("no python3 to test against (/usr/bin/python3, pyenv, build/pythons)");
	for (int i = 0; i < n; i++)
		check_python(list[i]);
}

Test(codeobj, rejects_layouts_without_stack_offsets)
{
	struct pylayout l;
	struct codeobj_cache *c = NULL;

	cr_assert_eq(pylayout_for_version(3, 7, 16, &l), 0);
	cr_assert_eq(codeobj_cache__new(&l, 0, &c), -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(codeobj_cache__new(NULL, 0, &c), -EINVAL);
	codeobj_cache__free(NULL);
}
