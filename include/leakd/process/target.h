/* SPDX-License-Identifier: MIT */
/*
 * target: turn a pid into the facts the probe planner and the census need.
 *
 * Which ELF holds the interpreter (the executable or libpythonX.Y.so), where
 * it is loaded, its build-id, the Python version, the runtime address of
 * _PyRuntime and whether the build has the USDT GC probes. Paths come from
 * the target's point of view (/proc/PID/maps and /proc/PID/exe show them
 * relative to its root) and are opened through <proc_root>/PID/root, so a
 * process in another mount namespace (a container) resolves the same way.
 *
 * The version logic is split into pure helpers so it can be tested on byte
 * buffers and file names without a process.
 */
#ifndef LEAKD_TARGET_H
#define LEAKD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elfimg;

struct target {
	pid_t pid;
	char comm[17];
	char exe[4096];		/* readlink /proc/PID/exe as the target sees it */
	char interp_path[4096];	/* the ELF holding the interpreter, as the target sees it */
	char open_path[4096];	/* a path leakd can open (<proc_root>/PID/root<interp_path>,
				 * or <proc_root>/PID/map_files/... if the file was deleted) */
	bool shared_lib;	/* interpreter lives in libpython*.so */
	uint64_t load_bias;	/* runtime address = vaddr + load_bias (0 for non-PIE) */
	char build_id[41];	/* "" if the ELF has none */
	int py_major, py_minor, py_micro;	/* micro is -1 if only the file name told */
	char py_version[24];	/* "3.11.2", or "3.9" when micro is unknown */
	uint64_t runtime_addr;	/* absolute address of _PyRuntime (symbol, else .PyRuntime);
				 * 0 on 3.6, which has no _PyRuntime */
	bool has_usdt_gc;	/* python:gc__start and python:gc__done present */
	uint64_t start_time;	/* field 22 of /proc/PID/stat, to detect pid reuse / exec */
};

/*
 * Resolves @pid under @proc_root (usually "/proc"). On success returns 0,
 * fills @out and, if @img_out is not NULL, hands over the opened interpreter
 * ELF (the caller frees it or caches it by build-id). Errors (@out and
 * @img_out untouched, but for the version on -ENOTSUP):
 *   -ESRCH     no such process (or it exited / exec'd while we looked)
 *   -ENOEXEC   not a CPython process (no interpreter ELF mapped; kernel thread)
 *   -EACCES / -EPERM  not allowed to read its /proc files or its binaries
 *   -ENOTSUP   CPython, but older than 3.6 (Python 2 included) or of an
 *              unknown version; when the version is known, @out's py_major,
 *              py_minor, py_micro and py_version are set (only those)
 *   -ENOMEM, -EIO
 */
int target_resolve(const char *proc_root, pid_t pid, struct target *out, struct elfimg **img_out);

/*
 * Minor version from an interpreter file name: "libpython3.11.so.1.0" -> 11,
 * "libpython3.7m.so.1.0" -> 7, "python3.9" -> 9, "/usr/bin/python3.13d" -> 13.
 * Only the basename is looked at. Returns the minor (>= 0) or -ENOENT.
 */
int target_minor_from_name(const char *path);

/*
 * Finds the PY_VERSION string in the bytes of a .rodata section: "3.<minor>.<micro>"
 * ending at a NUL, optionally with a release suffix starting with one of
 * "+abrc" ("3.13.0rc1", "3.12.1+"). A string that starts at a NUL boundary is
 * preferred; failing that, a suffix of a longer string is accepted, because
 * linkers merge string tails and a pyenv libpython keeps PY_VERSION only as the
 * tail of "/root/.pyenv/versions/3.9.18".
 * @want_minor >= 0: the minor must match. @want_minor < 0 (file name says
 * nothing): only strings starting at a NUL boundary count, and all of them
 * must agree, else -ENOENT.
 * Returns 0 and sets *minor / *micro (either may be NULL), or -ENOENT.
 */
int target_version_from_rodata(const void *buf, size_t len, int want_minor, int *minor, int *micro);

/*
 * Decodes a PY_VERSION_HEX (the Py_Version symbol, 3.11+). Returns 0 if the
 * major is 3, -EINVAL otherwise.
 */
int target_version_from_hex(uint32_t hex, int *major, int *minor, int *micro);

#endif /* LEAKD_TARGET_H */
