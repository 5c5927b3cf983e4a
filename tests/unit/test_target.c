// SPDX-License-Identifier: MIT
/*
 * target: the pure version helpers on byte buffers and names; target_resolve()
 * on fixture /proc trees (tests/fixtures/target) that point at the real
 * binaries of this machine; and on live Pythons started here, which print
 * their own _PyRuntime address and version so the test compares with what the
 * interpreter itself says. Tests needing a binary that is absent are skipped.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leakd/process/elfimg.h"
#include "leakd/process/target.h"

#define DEBIAN_PY "/usr/bin/python3.11"
#define PYENV "/root/.pyenv/versions/"

static const char *fixtures(void)
{
	const char *f = getenv("LEAKD_FIXTURES");

	return f && *f ? f : "tests/fixtures";
}

static void fixture_proc(char *buf, size_t size)
{
	snprintf(buf, size, "%s/target/proc", fixtures());
}

static void need(const char *path)
{
	if (access(path, R_OK) != 0)
		cr_skip_test("%s not present on this machine", path);
}

/* ---- pure helpers ---- */

Test(target, minor_comes_from_interpreter_file_names)
{
	cr_assert_eq(target_minor_from_name("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"), 11);
	cr_assert_eq(target_minor_from_name("libpython3.7m.so.1.0"), 7);
	cr_assert_eq(target_minor_from_name("/usr/bin/python3.9"), 9);
	cr_assert_eq(target_minor_from_name("/usr/local/bin/python3.13t"), 13);
	cr_assert_eq(target_minor_from_name("/opt/python3.9/bin/python3"), -ENOENT, "only the basename counts");
	cr_assert_eq(target_minor_from_name("python2.7"), -ENOENT);
	cr_assert_eq(target_minor_from_name("python3."), -ENOENT);
	cr_assert_eq(target_minor_from_name("libpython3.so"), -ENOENT);
}

Test(target, version_hex_decodes_py_version)
{
	int ma = 0, mi = 0, mc = 0;

	cr_assert_eq(target_version_from_hex(0x030b02f0, &ma, &mi, &mc), 0);
	cr_assert_eq(ma, 3);
	cr_assert_eq(mi, 11);
	cr_assert_eq(mc, 2);
	cr_assert_eq(target_version_from_hex(0x030e0af0, &ma, &mi, &mc), 0);
	cr_assert_eq(mi, 14);
	cr_assert_eq(mc, 10);
	cr_assert_eq(target_version_from_hex(0x020712f0, &ma, &mi, &mc), -EINVAL);
}

#define RO(lit) lit, sizeof(lit) - 1

Test(target, rodata_version_string_at_a_boundary)
{
	int mi = -1, mc = -1;

	cr_assert_eq(target_version_from_rodata(RO("pymalloc\0pymalloc_debug\0" "3.11.2\0strict\0"), 11, &mi, &mc), 0);
	cr_assert_eq(mi, 11);
	cr_assert_eq(mc, 2);
	cr_assert_eq(target_version_from_rodata(RO("3.9.18\0"), 9, NULL, &mc), 0, "at the very start");
	cr_assert_eq(mc, 18);
}

Test(target, rodata_version_string_with_release_suffix)
{
	int mc = -1;

	cr_assert_eq(target_version_from_rodata(RO("x\0" "3.13.0rc1\0y"), 13, NULL, &mc), 0);
	cr_assert_eq(mc, 0);
	cr_assert_eq(target_version_from_rodata(RO("x\0" "3.12.1+\0y"), 12, NULL, &mc), 0);
	cr_assert_eq(mc, 1);
	cr_assert_eq(target_version_from_rodata(RO("x\0" "3.12.1x\0" "3.12.1-dev\0"), 12, NULL, &mc), -ENOENT);
}

Test(target, rodata_version_as_merged_string_tail)
{
	int mc = -1;

	/* pyenv: the linker kept PY_VERSION only as the tail of the install prefix. */
	cr_assert_eq(target_version_from_rodata(RO("\0/root/.pyenv/versions/3.9.18\0python3.9\0"), 9, NULL, &mc), 0);
	cr_assert_eq(mc, 18);
	/* A boundary string wins over an earlier tail. */
	cr_assert_eq(target_version_from_rodata(RO("\0/x/Python-3.9.17\0" "3.9.18\0"), 9, NULL, &mc), 0);
	cr_assert_eq(mc, 18);
}

Test(target, rodata_rejects_wrong_minor_and_lookalikes)
{
	int mc = 77;

	cr_assert_eq(target_version_from_rodata(RO("\0" "3.10.4\0"), 11, NULL, &mc), -ENOENT, "minor must agree");
	cr_assert_eq(target_version_from_rodata(RO("\0" "13.9.1\0"), 9, NULL, &mc), -ENOENT, "preceded by a digit");
	cr_assert_eq(target_version_from_rodata(RO("\0" "2.3.9.1\0"), 9, NULL, &mc), -ENOENT, "preceded by a dot");
	cr_assert_eq(target_version_from_rodata(RO("\0" "3.9.18 (main)\0"), 9, NULL, &mc), -ENOENT, "not NUL-terminated");
	cr_assert_eq(target_version_from_rodata(RO("\0" "3.9.\0"), 9, NULL, &mc), -ENOENT);
	cr_assert_eq(target_version_from_rodata(RO("\0" "3.9.18"), 9, NULL, &mc), -ENOENT, "runs off the buffer");
	cr_assert_eq(target_version_from_rodata("", 0, 9, NULL, &mc), -ENOENT);
	cr_assert_eq(mc, 77, "untouched on failure");
}

Test(target, rodata_with_unknown_minor_needs_one_agreeing_boundary_string)
{
	int mi = -1, mc = -1;

	cr_assert_eq(target_version_from_rodata(RO("a\0" "3.10.13\0b\0" "3.10.13\0"), -1, &mi, &mc), 0);
	cr_assert_eq(mi, 10);
	cr_assert_eq(mc, 13);
	cr_assert_eq(target_version_from_rodata(RO("a\0" "3.10.13\0" "3.2.0\0"), -1, &mi, &mc), -ENOENT,
		     "two different versions: cannot tell which is Python's");
	cr_assert_eq(target_version_from_rodata(RO("/prefix/3.10.13\0"), -1, &mi, &mc), -ENOENT,
		     "tails only count when the file name gives the minor");
}

/* ---- fixture /proc trees ---- */

Test(target, fixture_static_debian_python_is_non_pie_with_usdt)
{
	struct elfimg *img = NULL, *own = NULL;
	struct elfimg_sym rt;
	struct target t;
	char root[4096];

	need(DEBIAN_PY);
	/* The expectation comes from the installed file's own symbol table: the
	 * address moves with every Debian point release of python3.11. */
	cr_assert_eq(elfimg_open(DEBIAN_PY, &own), 0);
	cr_assert_eq(elfimg_find_symbol(own, "_PyRuntime", &rt), 0, "%s has no _PyRuntime symbol", DEBIAN_PY);
	fixture_proc(root, sizeof(root));
	cr_assert_eq(target_resolve(root, 5001, &t, &img), 0);
	cr_assert_eq(t.pid, 5001);
	cr_assert_str_eq(t.comm, "my (odd) app", "comm is taken between the first '(' and the last ')'");
	cr_assert_eq(t.start_time, 42589);
	cr_assert_str_eq(t.exe, DEBIAN_PY);
	cr_assert_str_eq(t.interp_path, DEBIAN_PY);
	cr_assert_not(t.shared_lib);
	cr_assert_eq(t.load_bias, 0);
	cr_assert_str_eq(t.py_version, "3.11.2");
	cr_assert_eq(t.py_micro, 2);
	cr_assert_eq(t.runtime_addr, rt.vaddr, "_PyRuntime from %s's symbol table", DEBIAN_PY);
	cr_assert(t.has_usdt_gc);
	cr_assert_str_eq(t.build_id, elfimg_build_id(img));
	cr_assert_str_eq(t.build_id, elfimg_build_id(own));
	cr_assert_eq(strlen(t.build_id), 40);
	elfimg_free(own);
	elfimg_free(img);
}

Test(target, fixture_pyenv_39_bias_and_version_from_merged_string)
{
	struct target t;
	char root[4096];

	need(PYENV "3.9.18/lib/libpython3.9.so.1.0");
	fixture_proc(root, sizeof(root));
	cr_assert_eq(target_resolve(root, 5002, &t, NULL), 0);
	cr_assert(t.shared_lib);
	cr_assert_str_eq(t.interp_path, PYENV "3.9.18/lib/libpython3.9.so.1.0");
	cr_assert_eq(t.load_bias, 0x7f1dd1e00000ULL, "from the offset-0 mapping, though it is listed second");
	cr_assert_str_eq(t.py_version, "3.9.18", "3.9 has no Py_Version: PY_VERSION from .rodata");
	cr_assert_eq(t.runtime_addr, 0x7f1dd1e00000ULL + 0x3acf60);
	cr_assert_not(t.has_usdt_gc);
}

Test(target, fixture_sleep_is_not_python)
{
	struct target t;
	char root[4096];

	need("/usr/bin/sleep");
	fixture_proc(root, sizeof(root));
	memset(&t, 0x5a, sizeof(t));
	cr_assert_eq(target_resolve(root, 5003, &t, NULL), -ENOEXEC);
	cr_assert_eq(t.pid, 0x5a5a5a5a, "out untouched on failure");
}

Test(target, fixture_kernel_thread_is_not_python)
{
	struct target t;
	char root[4096];

	fixture_proc(root, sizeof(root));
	cr_assert_eq(target_resolve(root, 5004, &t, NULL), -ENOEXEC);
}

Test(target, fixture_container_opens_through_proc_root)
{
	struct target t;
	char root[4096], want[8192];

	need(DEBIAN_PY);
	fixture_proc(root, sizeof(root));
	cr_assert_eq(access("/opt/py/bin/python3.11", F_OK), -1, "the path must exist only inside the fixture root");
	cr_assert_eq(target_resolve(root, 5005, &t, NULL), 0);
	cr_assert_str_eq(t.interp_path, "/opt/py/bin/python3.11", "paths as the target sees them");
	snprintf(want, sizeof(want), "%s/5005/root/opt/py/bin/python3.11", root);
	cr_assert_str_eq(t.open_path, want);
	cr_assert_str_eq(t.py_version, "3.11.2");
}

Test(target, fixture_missing_pid_is_esrch)
{
	struct target t;
	char root[4096];

	fixture_proc(root, sizeof(root));
	cr_assert_eq(target_resolve(root, 5999, &t, NULL), -ESRCH);
}

/* ---- live processes ---- */

struct child {
	pid_t pid;
	unsigned long long runtime;	/* as the interpreter reports it; 0 if none */
	char version[32];
};

static const char probe_script[] =
	"import sys, ctypes, time\n"
	"try:\n"
	"    a = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, '_PyRuntime'))\n"
	"except Exception:\n"
	"    a = 0\n"
	"v = sys.version_info\n"
	"print('%d %d.%d.%d' % (a, v[0], v[1], v[2]), flush=True)\n"
	"time.sleep(60)\n";

/* Starts @python on the probe script and waits for its one line. */
static void start_python(const char *python, struct child *c)
{
	int fds[2];
	FILE *f;

	need(python);
	cr_assert_eq(pipe(fds), 0);
	c->pid = fork();
	cr_assert_geq(c->pid, 0);
	if (c->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(python, python, "-c", probe_script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%llu %31s", &c->runtime, c->version), 2, "%s did not report", python);
	fclose(f);
}

static void stop_python(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
}

static void check_live(const char *python, const char *interp, const char *version, bool shared, bool usdt)
{
	struct elfimg *img = NULL, *direct;
	struct elfimg_sym rt;
	struct child c;
	struct target t;
	int err;

	start_python(python, &c);
	err = target_resolve("/proc", c.pid, &t, &img);
	stop_python(&c);
	cr_assert_eq(err, 0, "target_resolve(%s): %s", python, strerror(-err));

	cr_assert_str_eq(c.version, version, "the interpreter itself says");
	cr_assert_str_eq(t.py_version, version);
	cr_assert_str_eq(t.exe, python);
	cr_assert_str_eq(t.interp_path, interp);
	cr_assert_eq(t.shared_lib, shared);
	cr_assert_eq(t.has_usdt_gc, usdt);
	cr_assert_neq(t.runtime_addr, 0);
	cr_assert_eq(t.runtime_addr, (uint64_t)c.runtime, "_PyRuntime as ctypes sees it in the target");
	cr_assert_eq(elfimg_find_symbol(img, "_PyRuntime", &rt), 0);
	cr_assert_eq(t.runtime_addr, rt.vaddr + t.load_bias);
	if (!shared)
		cr_assert_eq(t.load_bias, 0);
	else
		cr_assert_eq(t.load_bias & 0xfff, 0);

	cr_assert_eq(elfimg_open(interp, &direct), 0);
	cr_assert_str_eq(t.build_id, elfimg_build_id(direct));
	elfimg_free(direct);
	elfimg_free(img);
}

Test(target, live_debian_python311)
{
	check_live(DEBIAN_PY, DEBIAN_PY, "3.11.2", false, true);
}

Test(target, live_pyenv_python311)
{
	check_live(PYENV "3.11.7/bin/python3.11", PYENV "3.11.7/lib/libpython3.11.so.1.0", "3.11.7", true, false);
}

Test(target, live_pyenv_python39)
{
	check_live(PYENV "3.9.18/bin/python3.9", PYENV "3.9.18/lib/libpython3.9.so.1.0", "3.9.18", true, false);
}

Test(target, dead_pid_is_esrch)
{
	struct target t;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(target_resolve("/proc", pid, &t, NULL), -ESRCH);
}

Test(target, live_sleep_is_enoexec)
{
	struct target t;
	pid_t pid;

	need("/bin/sleep");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	/* Wait for the exec to have replaced our image (exe stops being the test binary). */
	for (int i = 0; i < 200; i++) {
		char exe[64], buf[4096];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
		n = readlink(exe, buf, sizeof(buf) - 1);
		if (n > 0 && (buf[n] = '\0', strstr(buf, "sleep")))
			break;
		usleep(10000);
	}
	cr_assert_eq(target_resolve("/proc", pid, &t, NULL), -ENOEXEC);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* What @python says its major.minor is. */
static void python_says(const char *python, char *buf, size_t len)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -c \"import sys; sys.stdout.write('%%d.%%d' %% sys.version_info[:2])\"",
		 python);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(buf, (int)len, p), "%s did not say its version", python);
	pclose(p);
}

/* Python 2 maps libpython2.7.so: it is found, and refused with its version
 * (it was "not a Python process" before). */
Test(target, live_python27_is_refused_with_its_version)
{
	const char *python = PYENV "2.7.18/bin/python2.7";
	char want[16];
	struct target t;
	pid_t pid;
	int err = -ENOEXEC;

	need(python);
	python_says(python, want, sizeof(want));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl(python, python, "-c", "import time; time.sleep(60)", (char *)NULL);
		_exit(127);
	}
	memset(&t, 0, sizeof(t));
	/* until the dynamic loader has mapped libpython */
	for (int i = 0; i < 100 && err == -ENOEXEC; i++) {
		usleep(20000);
		err = target_resolve("/proc", pid, &t, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(err, -ENOTSUP, "target_resolve: %s", strerror(-err));
	cr_assert_eq(t.py_major, 2);
	cr_assert_str_eq(t.py_version, want);
}
