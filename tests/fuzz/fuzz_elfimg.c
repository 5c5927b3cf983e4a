/* SPDX-License-Identifier: MIT */
/* ELF images (headers, sections, symbols, notes, build-id, USDT notes):
 * elfimg opens files, so each input goes through one memfd. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "leakd/process/elfimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct elfimg *img;
	struct elfimg_sym sym;
	uint64_t a, b, off;
	unsigned char buf[64];
	const char *id;

	if (fd < 0) {
		fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (elfimg_open(path, &img))
		return 0;
	id = elfimg_build_id(img);
	FUZZ_REQUIRE(id && strlen(id) <= 2 * 64);
	(void)elfimg_is_dyn(img);
	if (elfimg_find_symbol(img, "_PyRuntime", &sym) == 0)
		(void)elfimg_read(img, sym.vaddr, buf, sizeof(buf));
	(void)elfimg_find_symbol(img, "Py_Version", &sym);
	if (elfimg_section(img, ".rodata", &a, &b) == 0 && b)
		(void)elfimg_read(img, a, buf, b < sizeof(buf) ? b : sizeof(buf));
	(void)elfimg_has_usdt(img, "python", "gc__start");
	if (elfimg_first_load_vaddr(img, &a, &b) == 0)
		(void)elfimg_vaddr_to_offset(img, a, &off);
	(void)elfimg_load_bias(img, 0x7f0000000000ull, 0, &a);
	elfimg_free(img);
	return 0;
}
