// SPDX-License-Identifier: MIT
/*
 * target: resolve a pid into the interpreter ELF, its load bias, build-id,
 * Python version, _PyRuntime address and GC USDT availability.
 *
 * Finding the interpreter, in order: a mapping whose basename matches
 * libpython<N>.*.so* (pyenv, python.org and most container images; a
 * Python 2 one is found to be refused by name); else the
 * main executable if it defines _PyRuntime (3.7+) or Py_Initialize (a static
 * build such as Debian's /usr/bin/python3.11); else any mapped executable
 * ELF that defines _PyRuntime (an embedding application with a renamed or
 * statically linked libpython).
 *
 * The version, in order of trust: the Py_Version symbol (3.11+, a
 * PY_VERSION_HEX in .rodata); else the PY_VERSION string in .rodata, which
 * must agree with the minor the file name gives; else the file name alone.
 *
 * Everything the target names is opened through <proc_root>/PID/root so a
 * containerised process resolves from the host. Pid reuse is caught by
 * reading /proc/PID/stat's start time before and after.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leakd/process/elfimg.h"
#include "leakd/process/procmaps.h"
#include "leakd/process/target.h"

/* .rodata of a CPython is 0.4-2 MiB; anything far larger is not one. */
#define TARGET_RODATA_MAX (64u << 20)

static const char *target_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* "[lib]python<major>.<minor>..." -> major and minor, or -ENOENT. */
static int target_version_from_name(const char *path, int *major, int *minor)
{
	const char *s = target_basename(path);
	long mi = 0;
	int digits = 0;

	if (strncmp(s, "lib", 3) == 0)
		s += 3;
	if (strncmp(s, "python", 6) != 0 || s[6] < '2' || s[6] > '9' || s[7] != '.')
		return -ENOENT;
	*major = s[6] - '0';
	for (s += 8; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		mi = mi * 10 + (*s - '0');
	if (!digits || (*s >= '0' && *s <= '9'))
		return -ENOENT;
	*minor = (int)mi;
	return 0;
}

int target_minor_from_name(const char *path)
{
	int major, minor;

	if (target_version_from_name(path, &major, &minor) || major != 3)
		return -ENOENT;
	return minor;
}

int target_version_from_hex(uint32_t hex, int *major, int *minor, int *micro)
{
	if ((hex >> 24) != 3)
		return -EINVAL;
	*major = 3;
	*minor = (hex >> 16) & 0xff;
	*micro = (hex >> 8) & 0xff;
	return 0;
}

/*
 * Parses "3.<minor>.<micro>[suffix]\0" at @s (bounded by @end). Returns the
 * number of bytes up to the NUL, or 0 if @s is not such a string.
 */
static size_t target_parse_version(const char *s, const char *end, int *minor, int *micro)
{
	const char *p = s;
	long mi = 0, mc = 0;
	int nd;

	if (end - p < 6 || p[0] != '3' || p[1] != '.')
		return 0;
	for (p += 2, nd = 0; p < end && *p >= '0' && *p <= '9' && nd < 3; p++, nd++)
		mi = mi * 10 + (*p - '0');
	if (!nd || p >= end || *p != '.')
		return 0;
	for (p++, nd = 0; p < end && *p >= '0' && *p <= '9' && nd < 3; p++, nd++)
		mc = mc * 10 + (*p - '0');
	if (!nd || p >= end)
		return 0;
	if (*p != '\0') {
		/* A release suffix: "a1", "b2", "rc1", "+"; short and plain. */
		const char *q = p;

		if (!strchr("+abrc", *p))
			return 0;
		while (q < end && *q && q - p < 8 &&
		       ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || *q == '+'))
			q++;
		if (q >= end || *q != '\0')
			return 0;
		p = q;
	}
	*minor = (int)mi;
	*micro = (int)mc;
	return (size_t)(p - s);
}

int target_version_from_rodata(const void *buf, size_t len, int want_minor, int *minor, int *micro)
{
	const char *base = buf, *end = base + len, *p;
	int tail_micro = -1, got_minor = -1, got_micro = -1;

	for (p = base; p < end && (p = memchr(p, '3', end - p)); p++) {
		bool boundary = p == base || p[-1] == '\0';
		int mi, mc;

		if (!target_parse_version(p, end, &mi, &mc))
			continue;
		if (want_minor >= 0 && mi != want_minor)
			continue;
		if (boundary) {
			if (want_minor >= 0) {
				got_minor = mi;
				got_micro = mc;
				break;
			}
			/* Minor unknown: every boundary candidate has to agree. */
			if (got_minor >= 0 && (got_minor != mi || got_micro != mc))
				return -ENOENT;
			got_minor = mi;
			got_micro = mc;
			continue;
		}
		/*
		 * Tail of a longer string: only when the minor is known, and not
		 * when the byte before is a digit or a dot ("13.9.1", "2.3.9.18").
		 */
		if (want_minor >= 0 && tail_micro < 0 && p[-1] != '.' && !(p[-1] >= '0' && p[-1] <= '9'))
			tail_micro = mc;
	}
	if (got_minor < 0 && tail_micro >= 0) {
		got_minor = want_minor;
		got_micro = tail_micro;
	}
	if (got_minor < 0)
		return -ENOENT;
	if (minor)
		*minor = got_minor;
	if (micro)
		*micro = got_micro;
	return 0;
}

/* comm and start time (field 22) from <proc_root>/<pid>/stat. */
static int target_read_stat(const char *proc_root, pid_t pid, char comm[17], uint64_t *start_time)
{
	char path[PATH_MAX], buf[2048], *open_paren, *close_paren, *p;
	size_t len;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* comm may itself hold ')' or spaces: take the first '(' and the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!len || !open_paren || !close_paren || close_paren < open_paren)
		return -ESRCH;	/* empty read: the process is gone */
	p = close_paren + 1;
	for (field = 2; field < 21 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EIO;
	if (comm) {
		len = (size_t)(close_paren - open_paren - 1);
		if (len > 16)
			len = 16;
		memcpy(comm, open_paren + 1, len);
		comm[len] = '\0';
	}
	*start_time = strtoull(p + 1, NULL, 10);
	return 0;
}

/* <proc_root>/PID/root<path>, or the map_files entry of the mapping: for a
 * deleted file, or when asked (@by_mapping) because the name did not open. */
static int target_open_path(const char *proc_root, pid_t pid, const struct procmaps_entry *m,
			    bool by_mapping, char *buf, size_t size)
{
	int r;

	if (by_mapping || procmaps_undeleted_len(m->path) != strlen(m->path))
		r = snprintf(buf, size, "%s/%d/map_files/%" PRIx64 "-%" PRIx64, proc_root, (int)pid,
			     m->start, m->end);
	else
		r = snprintf(buf, size, "%s/%d/root%s", proc_root, (int)pid, m->path);
	return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
}

/* The mapping of @path with the lowest file offset (where the ELF header is). */
static const struct procmaps_entry *target_lowest_map(const struct procmaps_entry *maps, size_t n,
						      const char *path)
{
	const struct procmaps_entry *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(maps[i].path, path) == 0 && (!best || maps[i].offset < best->offset))
			best = &maps[i];
	return best;
}

static bool target_defines(const struct elfimg *img, const char *name)
{
	struct elfimg_sym s;

	return elfimg_find_symbol(img, name, &s) == 0;
}

/*
 * Opens the ELF behind mapping @m. Failures to open ordinary files count as
 * "not this one" (-ENOENT) so that a library we cannot read does not hide the
 * interpreter; permission errors are returned so the caller can report them.
 */
static int target_try_open(const char *proc_root, pid_t pid, const struct procmaps_entry *m,
			   char *open_path, size_t size, struct elfimg **img)
{
	int err = target_open_path(proc_root, pid, m, false, open_path, size);

	if (err)
		return err;
	*img = NULL;
	err = elfimg_open(open_path, img);
	if (err == -ENOENT) {
		/* A name maps shows ambiguously (a literal "\\012"), or one
		 * renamed since: the mapping itself still leads to the file. */
		err = target_open_path(proc_root, pid, m, true, open_path, size);
		if (err)
			return err;
		err = elfimg_open(open_path, img);
	}
	if (!err)
		return 0;
	if (err == -EACCES || err == -EPERM || err == -ENOMEM)
		return err;
	return -ENOENT;
}

/* Sets *idx to the interpreter mapping and *img to its opened ELF. */
static int target_find_interp(const char *proc_root, pid_t pid, const char *exe,
			      const struct procmaps_entry *maps, size_t n, size_t *idx,
			      char *open_path, size_t size, struct elfimg **img)
{
	const struct procmaps_entry *m;
	int err, first_err = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!procmaps_is_file(&maps[i]) ||
		    fnmatch("libpython[0-9].*.so*", target_basename(maps[i].path), 0) != 0)
			continue;
		m = target_lowest_map(maps, n, maps[i].path);
		err = target_try_open(proc_root, pid, m, open_path, size, img);
		if (err)
			return err == -ENOENT ? -ENOEXEC : err;
		*idx = (size_t)(m - maps);
		return 0;
	}

	m = target_lowest_map(maps, n, exe);
	if (m) {
		err = target_try_open(proc_root, pid, m, open_path, size, img);
		if (!err) {
			if (target_defines(*img, "_PyRuntime") || target_defines(*img, "Py_Initialize")) {
				*idx = (size_t)(m - maps);
				return 0;
			}
			elfimg_free(*img);
			*img = NULL;
		} else if (err != -ENOENT) {
			first_err = err;
		}
	}

	/* Any other executable file mapping, each path tried once. */
	for (i = 0; i < n; i++) {
		bool seen = false;

		if (!procmaps_is_file(&maps[i]) || maps[i].perms[2] != 'x' ||
		    strcmp(maps[i].path, exe) == 0)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = maps[j].perms[2] == 'x' && strcmp(maps[j].path, maps[i].path) == 0;
		if (seen)
			continue;
		m = target_lowest_map(maps, n, maps[i].path);
		err = target_try_open(proc_root, pid, m, open_path, size, img);
		if (err) {
			if (err != -ENOENT && !first_err)
				first_err = err;
			continue;
		}
		if (target_defines(*img, "_PyRuntime")) {
			*idx = (size_t)(m - maps);
			return 0;
		}
		elfimg_free(*img);
		*img = NULL;
	}
	/* Could not look at everything: say so rather than "not Python". */
	return first_err ? first_err : -ENOEXEC;
}

static int target_version(const struct elfimg *img, const char *path, struct target *t)
{
	int name_minor = target_minor_from_name(path);
	int major = 3, minor = -1, micro = -1, name_major;
	struct elfimg_sym sym;
	uint64_t ro_addr, ro_size;
	uint32_t hex;

	/* Python 2 (its file names say so): refused, but by name. */
	if (!target_version_from_name(path, &name_major, &minor) && name_major != 3) {
		major = name_major;
		goto done;
	}
	minor = -1;
	if (elfimg_find_symbol(img, "Py_Version", &sym) == 0 && sym.size >= 4 &&
	    elfimg_read(img, sym.vaddr, &hex, sizeof(hex)) == 0 &&
	    target_version_from_hex(hex, &major, &minor, &micro) == 0)
		goto done;

	major = 3;
	minor = -1;
	if (elfimg_section(img, ".rodata", &ro_addr, &ro_size) == 0 && ro_size &&
	    ro_size <= TARGET_RODATA_MAX) {
		char *buf = malloc(ro_size);
		int err;

		if (!buf)
			return -ENOMEM;
		err = elfimg_read(img, ro_addr, buf, ro_size);
		if (!err)
			err = target_version_from_rodata(buf, ro_size, name_minor, &minor, &micro);
		free(buf);
		if (!err)
			goto done;
	}
	if (name_minor < 0)
		return -ENOTSUP;
	minor = name_minor;
	micro = -1;
done:
	t->py_major = major;
	t->py_minor = minor;
	t->py_micro = micro;
	if (micro >= 0)
		snprintf(t->py_version, sizeof(t->py_version), "%d.%d.%d", major, minor, micro);
	else
		snprintf(t->py_version, sizeof(t->py_version), "%d.%d", major, minor);
	/* 3.6 runs without a layout (totals only); nothing older runs */
	return major != 3 || minor < 6 ? -ENOTSUP : 0;
}

/* t->exe from <proc_root>/<pid>/exe. */
static int target_read_exe(const char *proc_root, pid_t pid, struct target *t)
{
	char path[PATH_MAX];
	ssize_t len;

	snprintf(path, sizeof(path), "%s/%d/exe", proc_root, (int)pid);
	len = readlink(path, t->exe, sizeof(t->exe) - 1);
	if (len < 0) {
		/* Kernel threads have no exe (a vanished process is sorted out below). */
		return errno == ENOENT ? -ENOEXEC : -errno;
	}
	t->exe[len] = '\0';
	return 0;
}

/* What img, the file behind the interpreter mapping m, tells: where it is
 * loaded, its build-id, its GC USDT probes, the Python version and the
 * address of _PyRuntime. */
static int target_inspect(const struct elfimg *img, const struct procmaps_entry *m,
			  struct target *t)
{
	struct elfimg_sym sym;
	uint64_t sec_size;
	int err;

	snprintf(t->interp_path, sizeof(t->interp_path), "%s", m->path);
	t->shared_lib = fnmatch("libpython3.*.so*", target_basename(t->interp_path), 0) == 0;

	err = elfimg_load_bias(img, m->start, m->offset, &t->load_bias);
	if (err)
		return -ENOEXEC;
	snprintf(t->build_id, sizeof(t->build_id), "%s", elfimg_build_id(img));
	t->has_usdt_gc = elfimg_has_usdt(img, "python", "gc__start") &&
			 elfimg_has_usdt(img, "python", "gc__done");

	err = target_version(img, t->interp_path, t);
	if (err)
		return err;

	if (elfimg_find_symbol(img, "_PyRuntime", &sym) == 0)
		t->runtime_addr = sym.vaddr + t->load_bias;
	else if (elfimg_section(img, ".PyRuntime", &t->runtime_addr, &sec_size) == 0)
		t->runtime_addr += t->load_bias;
	return 0;
}

/*
 * Same process as when we started? An exit (or exit + pid reuse, or an
 * exec) while we looked shows up as odd errors or wrong answers; report
 * it as -ESRCH whatever step noticed it. Returns err otherwise.
 */
static int target_recheck(const char *proc_root, pid_t pid, uint64_t start_time, int err)
{
	uint64_t start_again;
	int e;

	if (err == -ESRCH)
		return err;
	e = target_read_stat(proc_root, pid, NULL, &start_again);
	if (e == -ESRCH || (!e && start_again != start_time))
		return -ESRCH;
	return err;
}

int target_resolve(const char *proc_root, pid_t pid, struct target *out, struct elfimg **img_out)
{
	struct procmaps_entry *maps = NULL;
	struct elfimg *img = NULL;
	struct target *t = NULL;
	size_t n = 0, idx = 0;
	bool have_stat = false;
	int err;

	/* struct target is ~12 KiB of paths: build it on the heap, copy on success. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	err = target_read_stat(proc_root, pid, t->comm, &t->start_time);
	if (err)
		goto cleanup;
	have_stat = true;

	err = target_read_exe(proc_root, pid, t);
	if (err)
		goto cleanup;
	err = procmaps_read(proc_root, pid, &maps, &n);
	if (err)
		goto cleanup;
	err = target_find_interp(proc_root, pid, t->exe, maps, n, &idx, t->open_path,
				 sizeof(t->open_path), &img);
	if (err)
		goto cleanup;
	err = target_inspect(img, &maps[idx], t);

cleanup:
	if (have_stat)
		err = target_recheck(proc_root, pid, t->start_time, err);
	if (err == -ENOTSUP && t->py_version[0]) {
		/* the caller says which version it refuses */
		out->py_major = t->py_major;
		out->py_minor = t->py_minor;
		out->py_micro = t->py_micro;
		snprintf(out->py_version, sizeof(out->py_version), "%s", t->py_version);
	}
	if (!err) {
		*out = *t;
		if (img_out) {
			*img_out = img;
			img = NULL;
		}
	}
	elfimg_free(img);
	free(maps);
	free(t);
	return err;
}
