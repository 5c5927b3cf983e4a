/* SPDX-License-Identifier: MIT */
/*
 * Code objects read from outside: who a captured frame is.
 *
 * The BPF stack walker records per frame only (code object address, byte
 * offset of the instruction); this module turns that into qualname, file and
 * line. A code object is read once (qualname, filename, firstlineno and its
 * line table) and cached by address. Code objects die and their memory is
 * reused, so every lookup re-reads the object's header and compares a
 * checksum of its identity fields (type, argcount, firstlineno and the
 * filename/name/qualname/line-table pointers) before trusting the cache.
 *
 * Everything read is untrusted: the type must be the interpreter's code type
 * (tp_name "code"), pointers must look like user pointers, the line table is
 * at most CODEOBJ_TABLE_MAX bytes.
 */
#ifndef LEAKD_CODEOBJ_H
#define LEAKD_CODEOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "leakd/python/linetable.h"
#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

#define CODEOBJ_QUALNAME_MAX 128
#define CODEOBJ_FILENAME_MAX 512
#define CODEOBJ_TABLE_MAX (64u * 1024u)
#define CODEOBJ_DEFAULT_CAPACITY 1024u

struct codeobj {
	uint64_t addr;
	char qualname[CODEOBJ_QUALNAME_MAX];	/* co_qualname (3.11+) or co_name */
	char filename[CODEOBJ_FILENAME_MAX];	/* truncated to fit, UTF-8 */
	int firstlineno;
	enum linetable_kind kind;
	uint8_t *table;				/* owned by the cache */
	size_t table_len;
	uint64_t sum;				/* identity checksum (see above) */
};

struct codeobj_cache;

/*
 * A cache of `capacity` code objects (rounded up to a power of two; 0 =
 * CODEOBJ_DEFAULT_CAPACITY) for targets of layout l, which is copied.
 * Returns 0, -EINVAL (NULL args, layout without stack offsets) or -ENOMEM.
 */
int codeobj_cache__new(const struct pylayout *l, size_t capacity, struct codeobj_cache **out);
void codeobj_cache__free(struct codeobj_cache *c);

/*
 * The code object at addr, from the cache when its identity still matches,
 * else read through m (and cached, evicting whatever shared its slot).
 * *out stays valid until the next call on c. Returns 0; -ENOTSUP when addr
 * holds an object of another type (3.13+ frames that run no code hold
 * None); -EINVAL when it does not look like an object at all (bad pointer,
 * malformed fields); the reader's -EFAULT/-ESRCH/-EPERM. *out is untouched
 * on failure.
 */
int codeobj_cache__get(struct codeobj_cache *c, const struct memreader *m, uint64_t addr,
		       const struct codeobj **out);

struct codeobj_stats {
	uint64_t hits, misses;	/* misses include reads after an identity change */
	uint64_t reused;	/* cached address whose identity had changed */
};
void codeobj_cache__stats(const struct codeobj_cache *c, struct codeobj_stats *out);

/* Line of the instruction at byte `offset` (see linetable_line()). */
int codeobj_line(const struct codeobj *co, uint32_t offset, int *line);

#endif /* LEAKD_CODEOBJ_H */
