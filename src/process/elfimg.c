// SPDX-License-Identifier: MIT
/*
 * elfimg: reads one ELF64 x86-64 file with libelf and keeps what the other
 * modules ask about: program headers, section headers, a name index over
 * .symtab/.dynsym, the build-id and the USDT (provider, name) pairs.
 *
 * libelf maps the file (ELF_C_READ_MMAP), so symbol and section names are
 * pointers into that mapping and stay valid until elfimg_free(). Raw bytes
 * for elfimg_read() come from pread() on the same descriptor rather than
 * from libelf, because callers ask by virtual address through PT_LOAD, which
 * is how the loader sees the file, not by section.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakd/base/hashmap.h"
#include "leakd/process/elfimg.h"

#define ELFIMG_PAGE 4096ULL	/* ELF_EXEC_PAGESIZE on x86-64 */
#define NT_STAPSDT 3

struct elfimg_section {
	const char *name;
	uint64_t addr, size, offset;
	uint32_t type;
};

struct elfimg_symrec {
	const char *name;
	uint64_t vaddr, size;
	bool from_symtab;
	bool global;
};

struct elfimg_usdt {
	const char *provider;
	const char *name;
};

struct elfimg {
	int fd;
	Elf *elf;
	bool is_dyn;
	char build_id[41];

	GElf_Phdr *phdrs;
	size_t nphdrs;

	struct elfimg_section *secs;
	size_t nsecs;

	struct elfimg_symrec *syms;
	size_t nsyms;
	struct hashmap by_name;	/* name -> struct elfimg_symref */

	struct elfimg_usdt *usdt;
	size_t nusdt;
};

/* An entry of the name index: the symbol is syms[index]. */
struct elfimg_symref {
	uint64_t key;
	uint64_t index;
};

static const char *elfimg_name_of(const void *entry, void *ctx)
{
	const struct elfimg *img = ctx;

	return img->syms[((const struct elfimg_symref *)entry)->index].name;
}

static struct elfimg_symrec *elfimg_lookup(const struct elfimg *img, const char *name)
{
	const struct elfimg_symref *r = hashmap_get_str(&img->by_name, name, elfimg_name_of, (void *)img);

	return r ? &img->syms[r->index] : NULL;
}

/*
 * Adds a symbol unless the name is already known. .symtab is indexed before
 * .dynsym, so the first table wins; inside a table a global definition
 * replaces a local one (two static functions may share a name, the exported
 * one is what a caller means).
 */
static void elfimg_index(struct elfimg *img, const struct elfimg_symrec *rec)
{
	struct elfimg_symref *r;
	int added = hashmap_put_str(&img->by_name, rec->name, elfimg_name_of, img, (void **)&r);

	if (added < 0)
		return;		/* cannot happen: room for every symbol was reserved */
	if (added) {
		r->index = img->nsyms;
		img->syms[img->nsyms++] = *rec;
		return;
	}
	if (img->syms[r->index].from_symtab == rec->from_symtab && !img->syms[r->index].global && rec->global)
		img->syms[r->index] = *rec;
}

/*
 * Entries of a symbol table section, 0 when its bytes are not all in the
 * file: the header's sh_size is the file's word, and a 1.5 KB file once
 * claimed 4 GB of symbols (found by tests/fuzz/fuzz_elfimg.c).
 */
static size_t elfimg_nsyms(const GElf_Shdr *sh, uint64_t file_size)
{
	if (!sh->sh_entsize || sh->sh_offset > file_size || sh->sh_size > file_size - sh->sh_offset)
		return 0;
	return sh->sh_size / sh->sh_entsize;
}

static int elfimg_load_symbols(struct elfimg *img)
{
	size_t total = 0, k;
	struct stat st;
	Elf_Scn *scn;
	int pass;

	if (fstat(img->fd, &st) < 0)
		return -errno;
	/* Size the table once for both symbol tables. */
	for (scn = NULL; (scn = elf_nextscn(img->elf, scn));) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			total += elfimg_nsyms(&sh, (uint64_t)st.st_size);
	}
	if (!total)
		return 0;
	if (total > UINT32_MAX / 4)
		return -EFBIG;
	img->syms = calloc(total, sizeof(*img->syms));
	if (!img->syms || hashmap_reserve(&img->by_name, total) < 0)
		return -ENOMEM;

	for (pass = 0; pass < 2; pass++) {
		uint32_t want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;

		for (scn = NULL; (scn = elf_nextscn(img->elf, scn));) {
			GElf_Shdr sh;
			Elf_Data *data;
			size_t n;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want)
				continue;
			n = elfimg_nsyms(&sh, (uint64_t)st.st_size);
			data = n ? elf_getdata(scn, NULL) : NULL;
			if (!data)
				continue;
			for (k = 1; k < n; k++) {	/* entry 0 is the null symbol */
				struct elfimg_symrec rec;
				unsigned int type, bind;
				GElf_Sym sym;
				const char *name;

				if (!gelf_getsym(data, (int)k, &sym))
					break;
				type = GELF_ST_TYPE(sym.st_info);
				bind = GELF_ST_BIND(sym.st_info);
				if (sym.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE)
					continue;
				name = elf_strptr(img->elf, sh.sh_link, sym.st_name);
				if (!name || !*name)
					continue;
				rec.name = name;
				rec.vaddr = sym.st_value;
				rec.size = sym.st_size;
				rec.from_symtab = want == SHT_SYMTAB;
				rec.global = bind != STB_LOCAL;
				elfimg_index(img, &rec);
			}
		}
	}
	return 0;
}

static int elfimg_add_usdt(struct elfimg *img, const char *provider, const char *name)
{
	struct elfimg_usdt *u = realloc(img->usdt, (img->nusdt + 1) * sizeof(*u));

	if (!u)
		return -ENOMEM;
	img->usdt = u;
	u[img->nusdt].provider = provider;
	u[img->nusdt].name = name;
	img->nusdt++;
	return 0;
}

/* Build-id from any SHT_NOTE, USDT probes from .note.stapsdt. */
static int elfimg_load_notes(struct elfimg *img, size_t shstrndx)
{
	Elf_Scn *scn;

	for (scn = NULL; (scn = elf_nextscn(img->elf, scn));) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *data;
		size_t off, noff, doff;
		const char *sname;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		sname = elf_strptr(img->elf, shstrndx, sh.sh_name);
		for (off = 0; (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0;) {
			const char *owner = (const char *)data->d_buf + noff;
			const char *desc = (const char *)data->d_buf + doff;

			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp(owner, "GNU", 4) == 0 && !img->build_id[0]) {
				static const char hex[] = "0123456789abcdef";
				size_t i, n = nh.n_descsz > 20 ? 20 : nh.n_descsz;

				for (i = 0; i < n; i++) {
					img->build_id[2 * i] = hex[(unsigned char)desc[i] >> 4];
					img->build_id[2 * i + 1] = hex[(unsigned char)desc[i] & 15];
				}
				img->build_id[2 * n] = '\0';
			} else if (nh.n_type == NT_STAPSDT && nh.n_namesz == 8 &&
				   memcmp(owner, "stapsdt", 8) == 0 && sname &&
				   strcmp(sname, ".note.stapsdt") == 0) {
				/* desc: pc, base, semaphore (3 x 8), then provider\0name\0args\0 */
				const char *prov = desc + 24, *end = desc + nh.n_descsz, *pname;
				int err;

				if (nh.n_descsz <= 24 || !memchr(prov, '\0', end - prov))
					continue;
				pname = prov + strlen(prov) + 1;
				if (pname >= end || !memchr(pname, '\0', end - pname))
					continue;
				err = elfimg_add_usdt(img, prov, pname);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static int elfimg_load_headers(struct elfimg *img, size_t *shstrndx)
{
	GElf_Ehdr eh;
	Elf_Scn *scn;
	size_t i, n;

	if (elf_kind(img->elf) != ELF_K_ELF || gelf_getclass(img->elf) != ELFCLASS64 ||
	    !gelf_getehdr(img->elf, &eh) || eh.e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return -ENOEXEC;
	img->is_dyn = eh.e_type == ET_DYN;

	if (elf_getphdrnum(img->elf, &n) != 0)
		return -ENOEXEC;
	if (n) {
		img->phdrs = calloc(n, sizeof(*img->phdrs));
		if (!img->phdrs)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (gelf_getphdr(img->elf, (int)i, &img->phdrs[img->nphdrs]))
			img->nphdrs++;

	if (elf_getshdrstrndx(img->elf, shstrndx) != 0 || elf_getshdrnum(img->elf, &n) != 0)
		return -ENOEXEC;
	if (n) {
		img->secs = calloc(n, sizeof(*img->secs));
		if (!img->secs)
			return -ENOMEM;
	}
	for (scn = NULL; (scn = elf_nextscn(img->elf, scn)) && img->nsecs < n;) {
		struct elfimg_section *s = &img->secs[img->nsecs];
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		s->name = elf_strptr(img->elf, *shstrndx, sh.sh_name);
		if (!s->name)
			s->name = "";
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->offset = sh.sh_offset;
		s->type = sh.sh_type;
		img->nsecs++;
	}
	return 0;
}

int elfimg_open(const char *path, struct elfimg **out)
{
	struct elfimg *img;
	size_t shstrndx = 0;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	hashmap_init(&img->by_name, sizeof(struct elfimg_symref), 0);
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		err = -errno;
		goto cleanup;
	}
	img->elf = elf_begin(img->fd, ELF_C_READ_MMAP, NULL);
	if (!img->elf) {
		err = -ENOEXEC;
		goto cleanup;
	}
	err = elfimg_load_headers(img, &shstrndx);
	if (!err)
		err = elfimg_load_symbols(img);
	if (!err)
		err = elfimg_load_notes(img, shstrndx);
cleanup:
	if (err) {
		elfimg_free(img);
		return err;
	}
	*out = img;
	return 0;
}

void elfimg_free(struct elfimg *img)
{
	if (!img)
		return;
	if (img->elf)
		elf_end(img->elf);
	if (img->fd >= 0)
		close(img->fd);
	free(img->phdrs);
	free(img->secs);
	free(img->syms);
	hashmap_fini(&img->by_name);
	free(img->usdt);
	free(img);
}

const char *elfimg_build_id(const struct elfimg *img)
{
	return img->build_id;
}

bool elfimg_is_dyn(const struct elfimg *img)
{
	return img->is_dyn;
}

int elfimg_find_symbol(const struct elfimg *img, const char *name, struct elfimg_sym *out)
{
	const struct elfimg_symrec *s = elfimg_lookup(img, name);

	if (!s)
		return -ENOENT;
	out->vaddr = s->vaddr;
	out->size = s->size;
	out->from_symtab = s->from_symtab;
	return 0;
}

int elfimg_read(const struct elfimg *img, uint64_t vaddr, void *buf, size_t len)
{
	size_t i;

	if (vaddr + len < vaddr)
		return -EFAULT;
	for (i = 0; i < img->nphdrs; i++) {
		const GElf_Phdr *p = &img->phdrs[i];
		ssize_t got;

		if (p->p_type != PT_LOAD || vaddr < p->p_vaddr || vaddr + len > p->p_vaddr + p->p_memsz)
			continue;
		if (vaddr + len > p->p_vaddr + p->p_filesz)
			return -ENODATA;
		got = pread(img->fd, buf, len, (off_t)(p->p_offset + (vaddr - p->p_vaddr)));
		if (got < 0)
			return -errno;
		return (size_t)got == len ? 0 : -EIO;
	}
	return -EFAULT;
}

int elfimg_vaddr_to_offset(const struct elfimg *img, uint64_t vaddr, uint64_t *off)
{
	size_t i;

	for (i = 0; i < img->nphdrs; i++) {
		const GElf_Phdr *p = &img->phdrs[i];

		if (p->p_type == PT_LOAD && vaddr >= p->p_vaddr && vaddr < p->p_vaddr + p->p_filesz) {
			*off = p->p_offset + (vaddr - p->p_vaddr);
			return 0;
		}
	}
	return -EFAULT;
}

int elfimg_section(const struct elfimg *img, const char *name, uint64_t *vaddr, uint64_t *size)
{
	size_t i;

	for (i = 0; i < img->nsecs; i++) {
		if (strcmp(img->secs[i].name, name) == 0) {
			if (vaddr)
				*vaddr = img->secs[i].addr;
			if (size)
				*size = img->secs[i].size;
			return 0;
		}
	}
	return -ENOENT;
}

bool elfimg_has_usdt(const struct elfimg *img, const char *provider, const char *name)
{
	size_t i;

	for (i = 0; i < img->nusdt; i++)
		if (strcmp(img->usdt[i].provider, provider) == 0 && strcmp(img->usdt[i].name, name) == 0)
			return true;
	return false;
}

int elfimg_first_load_vaddr(const struct elfimg *img, uint64_t *vaddr, uint64_t *offset)
{
	const GElf_Phdr *low = NULL;
	size_t i;

	for (i = 0; i < img->nphdrs; i++)
		if (img->phdrs[i].p_type == PT_LOAD && (!low || img->phdrs[i].p_vaddr < low->p_vaddr))
			low = &img->phdrs[i];
	if (!low)
		return -ENOENT;
	*vaddr = low->p_vaddr & ~(ELFIMG_PAGE - 1);
	*offset = low->p_offset - (low->p_vaddr & (ELFIMG_PAGE - 1));
	return 0;
}

int elfimg_load_bias(const struct elfimg *img, uint64_t map_start, uint64_t map_offset, uint64_t *bias)
{
	size_t i;

	for (i = 0; i < img->nphdrs; i++) {
		const GElf_Phdr *p = &img->phdrs[i];
		uint64_t pg = p->p_vaddr & (ELFIMG_PAGE - 1);

		if (p->p_type != PT_LOAD || p->p_offset - pg != map_offset)
			continue;
		*bias = map_start - (p->p_vaddr - pg);
		return 0;
	}
	return -ENOENT;
}
