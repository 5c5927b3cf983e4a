/* SPDX-License-Identifier: MIT */
/*
 * elfimg: one ELF64 x86-64 file opened once and asked many questions.
 *
 * Target resolution and the probe planner both need the same facts about the
 * binary that holds a Python interpreter: its build-id (the cache key),
 * whether it is position independent, where its symbols are, what bytes sit
 * at a link-time address (Py_Version, .rodata strings, code to disassemble),
 * how a link-time address maps to a file offset (uprobe offsets) and which
 * USDT probes it carries. Everything here is answered from the file on disk,
 * never from a running process, so one struct elfimg serves every process that
 * runs the same build; callers cache them by build-id.
 *
 * Symbols from .symtab and .dynsym are indexed once in a hash table at open
 * time (a static CPython has ~17k .symtab entries and we look up ~20 names),
 * so elfimg_find_symbol() is O(1). Undefined (imported) symbols are never
 * returned: an executable that merely imports Py_Initialize is not Python.
 *
 * All addresses are link-time virtual addresses (st_value, p_vaddr); add the
 * load bias of a mapping (elfimg_load_bias()) to get a runtime address.
 */
#ifndef LEAKD_ELFIMG_H
#define LEAKD_ELFIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfimg;

struct elfimg_sym {
	uint64_t vaddr;		/* st_value: link-time address */
	uint64_t size;		/* st_size */
	bool from_symtab;	/* found in .symtab (else .dynsym) */
};

/*
 * Opens and indexes @path into *out. Returns 0, or -ENOEXEC if the file is
 * not an ELF64 x86-64 object, otherwise -errno of open(2), or -ENOMEM (*out
 * untouched). The file descriptor stays open until elfimg_free().
 */
int elfimg_open(const char *path, struct elfimg **out);
void elfimg_free(struct elfimg *img);

/* Lowercase hex of the NT_GNU_BUILD_ID note, "" if the file has none. */
const char *elfimg_build_id(const struct elfimg *img);

/* True for ET_DYN (PIE executable or shared library), false for ET_EXEC. */
bool elfimg_is_dyn(const struct elfimg *img);

/*
 * Looks up a defined symbol by exact name, .symtab first, then .dynsym (so
 * from_symtab tells whether the answer needed the full symbol table). Within
 * one table a global definition wins over a local one of the same name.
 * Returns 0 and fills @out, or -ENOENT.
 */
int elfimg_find_symbol(const struct elfimg *img, const char *name, struct elfimg_sym *out);

/*
 * Copies @len bytes at link-time address @vaddr from the file into @buf.
 * Returns 0, -EFAULT if the range is not inside one PT_LOAD segment, -ENODATA
 * if any part of it lies past p_filesz (.bss: only the process knows those
 * bytes), or -EIO on a short read.
 */
int elfimg_read(const struct elfimg *img, uint64_t vaddr, void *buf, size_t len);

/*
 * File offset of link-time address @vaddr through the PT_LOAD that holds it
 * in its file-backed part, which is what uprobes want. Returns 0 or -EFAULT.
 */
int elfimg_vaddr_to_offset(const struct elfimg *img, uint64_t vaddr, uint64_t *off);

/* Address and size of the first section called @name. Returns 0 or -ENOENT. */
int elfimg_section(const struct elfimg *img, const char *name, uint64_t *vaddr, uint64_t *size);

/* True if .note.stapsdt describes a probe @provider:@name. */
bool elfimg_has_usdt(const struct elfimg *img, const char *provider, const char *name);

/*
 * Lowest PT_LOAD, page-aligned the way the kernel maps it: @vaddr is its
 * p_vaddr rounded down to the page, @offset the file offset mapped there.
 * Returns 0 or -ENOENT (no PT_LOAD).
 */
int elfimg_first_load_vaddr(const struct elfimg *img, uint64_t *vaddr, uint64_t *offset);

/*
 * Load bias from one mapping of this file seen in /proc/PID/maps: the mapping
 * starting at @map_start with file offset @map_offset. The kernel maps each
 * PT_LOAD at page_down(p_vaddr + bias) from file offset page_down(p_offset),
 * so the segment whose aligned offset equals @map_offset gives the bias.
 * Returns 0 (runtime address = vaddr + *bias; 0 for a non-PIE executable) or
 * -ENOENT if no PT_LOAD starts at that offset.
 */
int elfimg_load_bias(const struct elfimg *img, uint64_t map_start, uint64_t map_offset, uint64_t *bias);

#endif /* LEAKD_ELFIMG_H */
