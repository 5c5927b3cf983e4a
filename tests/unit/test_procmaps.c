// SPDX-License-Identifier: MIT
/*
 * procmaps: the line parser on literal lines the kernel prints (and some it
 * never prints), and the reader on the fixture tree tests/fixtures/procmaps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/process/procmaps.h"

static const char *fixtures(void)
{
	const char *f = getenv("LEAKD_FIXTURES");

	return f && *f ? f : "tests/fixtures";
}

static void proc_root(char *buf, size_t size)
{
	snprintf(buf, size, "%s/procmaps/proc", fixtures());
}

Test(procmaps, parses_file_backed_line)
{
	struct procmaps_entry e;

	cr_assert_eq(procmaps_parse_line("7f1dd1e60000-7f1dd2062000 r-xp 00060000 fe:00 117388"
					 "                     /root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0\n",
					 &e), 0);
	cr_assert_eq(e.start, 0x7f1dd1e60000ULL);
	cr_assert_eq(e.end, 0x7f1dd2062000ULL);
	cr_assert_eq(e.offset, 0x60000ULL);
	cr_assert_eq(e.dev_major, 0xfe);
	cr_assert_eq(e.dev_minor, 0);
	cr_assert_eq(e.inode, 117388);
	cr_assert_str_eq(e.perms, "r-xp");
	cr_assert_str_eq(e.path, "/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0");
	cr_assert(procmaps_is_file(&e));
}

Test(procmaps, anonymous_mapping_has_empty_path)
{
	struct procmaps_entry e;

	/* The kernel leaves a trailing space after the inode of anon mappings. */
	cr_assert_eq(procmaps_parse_line("00a84000-00ac9000 rw-p 00000000 00:00 0 \n", &e), 0);
	cr_assert_eq(e.start, 0xa84000ULL);
	cr_assert_eq(e.inode, 0);
	cr_assert_str_eq(e.path, "");
	cr_assert_not(procmaps_is_file(&e));
	cr_assert_eq(procmaps_parse_line("00a84000-00ac9000 rw-p 00000000 00:00 0", &e), 0);
	cr_assert_str_eq(e.path, "");
}

Test(procmaps, pseudo_paths_are_kept_and_not_files)
{
	struct procmaps_entry e;

	cr_assert_eq(procmaps_parse_line("01d4b000-01e19000 rw-p 00000000 00:00 0"
					 "                                  [heap]\n", &e), 0);
	cr_assert_str_eq(e.path, "[heap]");
	cr_assert_not(procmaps_is_file(&e));
	cr_assert_eq(procmaps_parse_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
					 "                  [vsyscall]", &e), 0);
	cr_assert_eq(e.start, 0xffffffffff600000ULL);
	cr_assert_str_eq(e.perms, "--xp");
	cr_assert_str_eq(e.path, "[vsyscall]");
}

Test(procmaps, path_with_spaces_and_deleted_suffix_is_verbatim)
{
	struct procmaps_entry e;

	cr_assert_eq(procmaps_parse_line("7f2b6b600000-7f2b6b622000 r--p 00000000 fe:00 396014"
					 "                     /opt/my app/lib/libpython3.11.so.1.0 (deleted)\n",
					 &e), 0);
	cr_assert_str_eq(e.path, "/opt/my app/lib/libpython3.11.so.1.0 (deleted)");
	cr_assert_eq(procmaps_parse_line("1000-2000 r--s 00000000 00:05 7 /dev/shm/a  b ", &e), 0);
	cr_assert_str_eq(e.path, "/dev/shm/a  b ", "inner and trailing spaces belong to the name");
	cr_assert_str_eq(e.perms, "r--s");
}

Test(procmaps, garbage_is_einval_and_leaves_output_untouched)
{
	static const char *bad[] = {
		"",
		"\n",
		"hello world",
		"00400000 r--p 00000000 fe:00 1 /x",		/* no end address */
		"00400000-0041f000 r--p",			/* truncated */
		"00400000-0041f000 rzxp 00000000 fe:00 1 /x",	/* bad perms */
		"00400000-0041f000 r--p 00000000 fe00 1 /x",	/* bad device */
		"00400000-0041f000 r--p 00000000 fe:00 /x",	/* no inode */
		"00400000-0041f000 r--p 00000000 fe:00 12x /x",	/* inode not decimal */
		"0041f000-00400000 r--p 00000000 fe:00 1 /x",	/* end < start */
		"10000000000000000-20000000000000000 r--p 0 0:0 0",	/* > 64 bits */
		"00400000-0041f000 r--p 00000000 fe:00 1 /x\n/y",	/* two lines */
	};
	struct procmaps_entry e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0xab, sizeof(e));
		cr_assert_eq(procmaps_parse_line(bad[i], &e), -EINVAL, "line %zu: '%s'", i, bad[i]);
		cr_assert_eq(e.start, 0xababababababababULL, "line %zu wrote its output", i);
	}
}

Test(procmaps, reads_fixture_process)
{
	struct procmaps_entry *v = NULL;
	char root[4096];
	size_t n = 0;

	proc_root(root, sizeof(root));
	cr_assert_eq(procmaps_read(root, 4242, &v, &n), 0);
	cr_assert_eq(n, 12);
	cr_assert_str_eq(v[0].path, "/usr/bin/python3.11");
	cr_assert_eq(v[0].start, 0x400000ULL);
	cr_assert_eq(v[1].offset, 0x1f000ULL);
	cr_assert_str_eq(v[4].path, "");
	cr_assert_str_eq(v[5].path, "[heap]");
	cr_assert_str_eq(v[6].path, "/opt/my app/lib/libpython3.11.so.1.0 (deleted)");
	cr_assert_eq(v[11].start, 0xffffffffff600000ULL);
	free(v);
}

Test(procmaps, empty_maps_of_a_zombie_is_zero_entries)
{
	struct procmaps_entry *v = (void *)1;
	char root[4096];
	size_t n = 99;

	proc_root(root, sizeof(root));
	cr_assert_eq(procmaps_read(root, 4243, &v, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
}

Test(procmaps, missing_process_is_esrch)
{
	struct procmaps_entry *v = NULL;
	char root[4096];
	size_t n = 77;

	proc_root(root, sizeof(root));
	cr_assert_eq(procmaps_read(root, 999999, &v, &n), -ESRCH);
	cr_assert_eq(n, 77, "out-parameters untouched on failure");
	cr_assert_null(v);
}

Test(procmaps, malformed_file_is_einval)
{
	struct procmaps_entry *v = NULL;
	char root[4096];
	size_t n = 77;

	proc_root(root, sizeof(root));
	cr_assert_eq(procmaps_read(root, 4244, &v, &n), -EINVAL);
	cr_assert_eq(n, 77);
	cr_assert_null(v);
}

Test(procmaps, reads_own_live_maps)
{
	struct procmaps_entry *v = NULL;
	size_t n = 0, i;
	bool stack = false;

	cr_assert_eq(procmaps_read("/proc", getpid(), &v, &n), 0);
	cr_assert_gt(n, 5);
	for (i = 0; i < n; i++) {
		cr_assert_lt(v[i].start, v[i].end);
		stack |= strcmp(v[i].path, "[stack]") == 0;
	}
	cr_assert(stack);
	free(v);
}

Test(procmaps, kernel_octal_escapes_are_decoded)
{
	struct procmaps_entry e;

	cr_assert_eq(procmaps_parse_line("1000-2000 r-xp 00000000 fe:00 12 /tmp/a\\012b/python3\n", &e), 0);
	cr_assert_str_eq(e.path, "/tmp/a\nb/python3");
	/* not an escape: too short, not octal, out of byte range */
	cr_assert_eq(procmaps_parse_line("1000-2000 r-xp 00000000 fe:00 12 /x\\01\n", &e), 0);
	cr_assert_str_eq(e.path, "/x\\01");
	cr_assert_eq(procmaps_parse_line("1000-2000 r-xp 00000000 fe:00 12 /x\\089\\400", &e), 0);
	cr_assert_str_eq(e.path, "/x\\089\\400");
}

Test(procmaps, escapes_count_decoded_towards_the_length_limit)
{
	struct procmaps_entry e;
	/* 1 + 1200 * 4 escaped bytes > PROCMAPS_PATH_MAX, decoded 1201 < it */
	size_t n = 1200, off;
	char *line = malloc(64 + 4 * n);

	cr_assert_not_null(line);
	off = (size_t)sprintf(line, "1000-2000 r-xp 00000000 fe:00 12 /");
	for (size_t i = 0; i < n; i++, off += 4)
		memcpy(line + off, "\\012", 4);
	line[off] = '\0';
	cr_assert_eq(procmaps_parse_line(line, &e), 0);
	cr_assert_eq(strlen(e.path), n + 1);
	free(line);
}

/* A file whose directory name holds a newline, mapped here: the reader
 * must give back the name the file has, as readlink and open see it. */
Test(procmaps, a_mapped_file_with_a_newline_in_its_path_reads_back_exactly)
{
	char dir[] = "/tmp/leakd-maps-XXXXXX", sub[128], file[160];
	struct procmaps_entry *v = NULL;
	size_t n = 0;
	bool found = false;
	void *map;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a\nb", dir);
	snprintf(file, sizeof(file), "%s/lib", sub);
	cr_assert_eq(mkdir(sub, 0700), 0);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs("mapped", f);
	fclose(f);
	f = fopen(file, "r");
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fileno(f), 0);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(procmaps_read("/proc", getpid(), &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(v[i].path, file) == 0 && v[i].start == (uint64_t)(uintptr_t)map;
	munmap(map, 4096);
	fclose(f);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
	free(v);
	cr_assert(found, "no mapping of '%s' in /proc/self/maps as read", file);
}
