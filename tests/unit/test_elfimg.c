// SPDX-License-Identifier: MIT
/*
 * elfimg: against the test binary itself (always present, so symbol
 * addresses, file bytes and load bias can be checked against the running
 * image), against the real Pythons of this machine (skipped when absent), and
 * against small invalid files written at test time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "leakd/process/elfimg.h"
#include "leakd/process/procmaps.h"

#define DEBIAN_PY "/usr/bin/python3.11"
#define PYENV_LIB311 "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
#define PYENV_EXE311 "/root/.pyenv/versions/3.11.7/bin/python3.11"

/* Non-static so they land in .symtab; prefixed so the Makefile's link of all modules cannot clash. */
volatile uint64_t elfimg_test_data_marker = 0x5eed1234cafef00dULL;
volatile uint64_t elfimg_test_bss_marker;

static struct elfimg *open_or_skip(const char *path)
{
	struct elfimg *img;
	int err;

	if (access(path, R_OK) != 0)
		cr_skip_test("%s not present on this machine", path);
	err = elfimg_open(path, &img);
	cr_assert_eq(err, 0, "elfimg_open(%s): %s", path, strerror(-err));
	return img;
}

static bool is_hex40(const char *s)
{
	size_t i;

	if (strlen(s) != 40)
		return false;
	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void write_temp(char *tmpl, const void *buf, size_t len)
{
	int fd = mkstemp(tmpl);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

Test(elfimg, self_symbols_bytes_and_bias_match_the_running_image)
{
	struct procmaps_entry *maps = NULL, *low = NULL;
	struct elfimg_sym data, bss;
	char exe[4096];
	uint64_t got = 0, bias = 0;
	struct elfimg *img;
	size_t n = 0, i;
	ssize_t len;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert_gt(len, 0);
	exe[len] = '\0';
	cr_assert_eq(elfimg_open(exe, &img), 0);

	cr_assert_eq(elfimg_find_symbol(img, "elfimg_test_data_marker", &data), 0);
	cr_assert(data.from_symtab, "a test binary is not stripped: .symtab answers first");
	cr_assert_eq(data.size, 8);
	cr_assert_eq(elfimg_read(img, data.vaddr, &got, sizeof(got)), 0);
	cr_assert_eq(got, 0x5eed1234cafef00dULL, "initialised .data bytes come from the file");

	cr_assert_eq(elfimg_find_symbol(img, "elfimg_test_bss_marker", &bss), 0);
	cr_assert_eq(elfimg_read(img, bss.vaddr, &got, sizeof(got)), -ENODATA);

	/* The bias computed from our own maps puts the symbol where the loader did. */
	cr_assert_eq(procmaps_read("/proc", getpid(), &maps, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(maps[i].path, exe) == 0 && (!low || maps[i].offset < low->offset))
			low = &maps[i];
	cr_assert_not_null(low);
	cr_assert_eq(elfimg_load_bias(img, low->start, low->offset, &bias), 0);
	cr_assert_eq(data.vaddr + bias, (uint64_t)(uintptr_t)&elfimg_test_data_marker);
	cr_assert_eq(bss.vaddr + bias, (uint64_t)(uintptr_t)&elfimg_test_bss_marker);
	if (!elfimg_is_dyn(img))
		cr_assert_eq(bias, 0);
	free(maps);
	elfimg_free(img);
}

Test(elfimg, debian_python311_is_static_exec_with_dynsym_runtime_and_usdt)
{
	struct elfimg *img = open_or_skip(DEBIAN_PY);
	struct elfimg_sym rt, init, ver;
	uint64_t sec_addr = 0, sec_size = 0, vaddr = 1, off = 1;
	uint32_t hex = 0;
	uint8_t byte;

	cr_assert_not(elfimg_is_dyn(img), "Debian builds python3.11 without PIE");
	cr_assert(is_hex40(elfimg_build_id(img)), "build-id '%s'", elfimg_build_id(img));

	cr_assert_eq(elfimg_find_symbol(img, "_PyRuntime", &rt), 0);
	cr_assert_not(rt.from_symtab, ".symtab is stripped; _PyRuntime is in .dynsym");
	cr_assert_eq(elfimg_section(img, ".PyRuntime", &sec_addr, &sec_size), 0);
	cr_assert_eq(rt.vaddr, sec_addr, "the symbol and the section agree");
	cr_assert_eq(rt.size, sec_size);
	cr_assert_eq(elfimg_find_symbol(img, "gc_collect_main", &init), -ENOENT, "static functions are gone");

	cr_assert(elfimg_has_usdt(img, "python", "gc__start"));
	cr_assert(elfimg_has_usdt(img, "python", "gc__done"));
	cr_assert(elfimg_has_usdt(img, "python", "function__entry"));
	cr_assert_not(elfimg_has_usdt(img, "python", "gc__nope"));
	cr_assert_not(elfimg_has_usdt(img, "other", "gc__start"));

	/* Py_Version is an 8-byte unsigned long in .rodata holding PY_VERSION_HEX. */
	cr_assert_eq(elfimg_find_symbol(img, "Py_Version", &ver), 0);
	cr_assert_eq(ver.size, 8);
	cr_assert_eq(elfimg_read(img, ver.vaddr, &hex, sizeof(hex)), 0);
	cr_assert_eq(hex >> 16, 0x030b, "PY_VERSION_HEX %#x", hex);

	/* Non-PIE: the first PT_LOAD is at 0x400000 from offset 0, and vaddr - 0x400000 = offset in it. */
	cr_assert_eq(elfimg_first_load_vaddr(img, &vaddr, &off), 0);
	cr_assert_eq(vaddr, 0x400000);
	cr_assert_eq(off, 0);
	cr_assert_eq(elfimg_find_symbol(img, "Py_Initialize", &init), 0);
	cr_assert_eq(elfimg_vaddr_to_offset(img, init.vaddr, &off), 0);
	cr_assert_eq(off, init.vaddr - 0x400000, "text PT_LOAD has p_vaddr - p_offset == 0x400000");
	cr_assert_eq(elfimg_load_bias(img, 0x400000, 0, &vaddr), 0);
	cr_assert_eq(vaddr, 0);

	/* The .bss has no file bytes; below the image nothing is mapped at all. */
	cr_assert_eq(elfimg_section(img, ".bss", &sec_addr, &sec_size), 0);
	cr_assert_eq(elfimg_read(img, sec_addr + 64, &byte, 1), -ENODATA);
	cr_assert_eq(elfimg_read(img, 0x1000, &byte, 1), -EFAULT);
	cr_assert_eq(elfimg_vaddr_to_offset(img, 0x1000, &off), -EFAULT);
	cr_assert_eq(elfimg_section(img, ".no_such_section", &sec_addr, &sec_size), -ENOENT);
	elfimg_free(img);
}

Test(elfimg, pyenv_libpython311_is_dyn_with_full_symtab_and_no_usdt)
{
	struct elfimg *img = open_or_skip(PYENV_LIB311);
	struct elfimg_sym gc, rt, ver;
	uint64_t vaddr = 1, off = 1, bias = 0;
	uint32_t hex = 0;

	cr_assert(elfimg_is_dyn(img));
	cr_assert(is_hex40(elfimg_build_id(img)), "build-id '%s'", elfimg_build_id(img));
	cr_assert_eq(elfimg_find_symbol(img, "gc_collect_main", &gc), 0);
	cr_assert(gc.from_symtab, "a static function is only in .symtab");
	cr_assert_gt(gc.size, 1000);
	cr_assert_eq(elfimg_find_symbol(img, "_PyRuntime", &rt), 0);
	cr_assert(rt.from_symtab, ".symtab is looked at before .dynsym");
	cr_assert_not(elfimg_has_usdt(img, "python", "gc__start"), "pyenv builds lack --with-dtrace");

	cr_assert_eq(elfimg_find_symbol(img, "Py_Version", &ver), 0);
	cr_assert_eq(elfimg_read(img, ver.vaddr, &hex, sizeof(hex)), 0);
	cr_assert_eq(hex, 0x030b07f0, "3.11.7 final");

	cr_assert_eq(elfimg_first_load_vaddr(img, &vaddr, &off), 0);
	cr_assert_eq(vaddr, 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(elfimg_load_bias(img, 0x7f0000000000ULL, 0, &bias), 0);
	cr_assert_eq(bias, 0x7f0000000000ULL);
	cr_assert_eq(elfimg_load_bias(img, 0x7f0000000000ULL, 0x123000, &bias), -ENOENT,
		     "no PT_LOAD starts at that offset");
	elfimg_free(img);
}

Test(elfimg, imported_symbols_are_not_definitions)
{
	struct elfimg *img = open_or_skip(PYENV_EXE311);
	struct elfimg_sym s;

	/* The pyenv executable imports Py_BytesMain from libpython: UND in its .dynsym. */
	cr_assert_eq(elfimg_find_symbol(img, "Py_BytesMain", &s), -ENOENT);
	cr_assert_eq(elfimg_find_symbol(img, "_PyRuntime", &s), -ENOENT);
	cr_assert_eq(elfimg_find_symbol(img, "main", &s), 0);
	cr_assert(elfimg_is_dyn(img), "pyenv executables are PIE");
	elfimg_free(img);
}

Test(elfimg, many_lookups_in_a_large_symtab)
{
	static const char *names[] = {
		"PyObject_Malloc", "PyObject_Free", "PyObject_Calloc", "PyObject_Realloc",
		"_PyObject_GC_New", "_PyObject_GC_NewVar", "PyObject_GC_Del", "PyType_GenericAlloc",
		"gc_collect_main", "_PyRuntime", "Py_Version", "PyType_Type", "_Py_Dealloc",
		"PyObject_GC_UnTrack", "PyMem_Malloc", "PyMem_Free", "Py_Initialize",
		"_PyObject_Malloc", "_PyObject_Free", "PyEval_EvalCode",
	};
	struct elfimg *img = open_or_skip(PYENV_LIB311);
	struct elfimg_sym s;
	size_t i, found = 0;
	int round;

	for (round = 0; round < 1000; round++)
		for (i = 0, found = 0; i < sizeof(names) / sizeof(names[0]); i++)
			found += elfimg_find_symbol(img, names[i], &s) == 0;
	cr_assert_eq(found, 20, "every one of these is defined in a pyenv libpython 3.11");
	elfimg_free(img);
}

Test(elfimg, missing_file_is_enoent)
{
	struct elfimg *img = (struct elfimg *)&img;

	cr_assert_eq(elfimg_open("/nonexistent/leakd/elf", &img), -ENOENT);
	cr_assert_eq(img, (struct elfimg *)&img, "out untouched");
}

Test(elfimg, text_file_is_enoexec)
{
	char path[] = "/tmp/leakd-elfimg-XXXXXX";
	struct elfimg *img;

	write_temp(path, "#!/bin/sh\necho hi\n", 18);
	cr_assert_eq(elfimg_open(path, &img), -ENOEXEC);
	unlink(path);
}

Test(elfimg, elf32_is_enoexec)
{
	char path[] = "/tmp/leakd-elfimg-XXXXXX";
	struct elfimg *img;
	unsigned char hdr[52] = { 0x7f, 'E', 'L', 'F', 1 /* ELFCLASS32 */, 1, 1 };

	hdr[16] = 2;	/* ET_EXEC */
	hdr[18] = 3;	/* EM_386 */
	hdr[20] = 1;	/* EV_CURRENT */
	hdr[40] = 52;	/* e_ehsize */
	write_temp(path, hdr, sizeof(hdr));
	cr_assert_eq(elfimg_open(path, &img), -ENOEXEC);
	unlink(path);
}

Test(elfimg, truncated_elf_is_enoexec)
{
	char path[] = "/tmp/leakd-elfimg-XXXXXX";
	struct elfimg *img;

	write_temp(path, "\x7f" "ELF\x02\x01\x01", 7);
	cr_assert_eq(elfimg_open(path, &img), -ENOEXEC);
	unlink(path);
}

Test(elfimg, free_accepts_null)
{
	elfimg_free(NULL);
}

#ifdef __SANITIZE_ADDRESS__
#define ELFIMG_TEST_ASAN 1
#endif
#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define ELFIMG_TEST_ASAN 1
#endif
#endif

/* Found by tests/fuzz/fuzz_elfimg.c: a 4 KB file whose symbol table header
 * claims more than 4 GB of entries. elfimg sized its tables from the header
 * and asked for them all; it now believes only entries that are in the
 * file. The address-space limit makes the old behaviour fail here (without
 * ASan, whose shadow memory needs the address space). */
Test(elfimg, a_symbol_table_larger_than_the_file_is_not_believed)
{
	char path[512];
	struct elfimg *img;
	struct elfimg_sym sym;
	const char *fx = getenv("LEAKD_FIXTURES");
	int err;

	snprintf(path, sizeof(path), "%s/elfimg/fuzz-symtab-past-eof.elf", fx && *fx ? fx : "tests/fixtures");
#ifndef ELFIMG_TEST_ASAN
	{
		struct rlimit rl = { .rlim_cur = 1ull << 30, .rlim_max = RLIM_INFINITY };

		getrlimit(RLIMIT_AS, &rl);
		rl.rlim_cur = 1ull << 30;	/* 1 GiB: a worker needs far less */
		cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
	}
#endif
	err = elfimg_open(path, &img);
	cr_assert(!err || err == -ENOEXEC, "elfimg_open: %s", strerror(-err));
	if (!err) {
		cr_assert_neq(elfimg_find_symbol(img, "_PyRuntime", &sym), 0);
		elfimg_free(img);
	}
}
