/* SPDX-License-Identifier: MIT */
/*
 * pyname: what a person calls a type object, and the text of a str, read
 * from a target's memory through a memreader.
 *
 * Names are the target's data: callers escape them before any output.
 */
#ifndef LEAKD_PYNAME_H
#define LEAKD_PYNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakd/process/memreader.h"
#include "leakd/python/pylayout.h"

#define PYNAME_MAX 128
#define PYNAME_STR_MAX 1024	/* longest str pyname_str() reads, in characters (file paths) */

/* What name lookups remember across types within one walk; zero it first. */
struct pyname_cache {
	uint64_t module_key;	/* address of the interned "__module__" str, once seen */
};

/*
 * The display name of the type object at type_addr, NUL-terminated in buf:
 * tp_name for static types; for heap types "module.QualName", with module
 * the str `__module__` from the type's dict (omitted when it is "builtins"
 * or cannot be read; then just the qualname). Returns the name's length, or
 * -EINVAL (not a ready type / bad args), -EFAULT, -ESRCH, ...
 */
int pyname_type(const struct memreader *m, const struct pylayout *l, uint64_t type_addr, char *buf, size_t len);

/* The same with a cache shared by the lookups of one walk (nc may be NULL). */
int pyname_type_cached(const struct memreader *m, const struct pylayout *l, uint64_t type, char *buf, size_t len,
		       struct pyname_cache *nc);

/*
 * Reads the str object at addr as UTF-8 into buf (truncated to len-1 bytes,
 * and to PYNAME_STR_MAX characters). Compact strings only (which all names
 * are). Returns the length written or -EINVAL (not a str), -ENOTSUP (legacy
 * non-compact str), -EFAULT, ...
 */
int pyname_str(const struct memreader *m, const struct pylayout *l, uint64_t addr, char *buf, size_t len);

/* Whether the str at addr is want (a short identifier such as "__name__":
 * only its first 31 bytes are read). False when addr is not a readable str. */
bool pyname_str_is(const struct memreader *m, const struct pylayout *l, uint64_t addr, const char *want);

#endif /* LEAKD_PYNAME_H */
