// SPDX-License-Identifier: MIT
/*
 * pyname: names of type objects and the text of str objects, read from a
 * target's memory (see pyname.h).
 *
 * Type dicts are scanned rather than probed by hash, so nothing here
 * reproduces a version's hashing; the interned "__module__" key is
 * remembered per walk so later types compare addresses, not text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "leakd/python/pyname.h"
#include "leakd/python/pyrefs.h"

#define PYNAME_TPFLAGS_UNICODE_SUBCLASS (1ull << 28)

static size_t pyname_put_utf8(char *buf, size_t len, size_t pos, uint32_t c)
{
	char tmp[4];
	size_t n;

	if (c < 0x80) {
		tmp[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		tmp[0] = (char)(0xc0 | (c >> 6));
		tmp[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		tmp[0] = (char)(0xe0 | (c >> 12));
		tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | (c >> 18));
		tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	if (pos + n >= len)
		return pos;	/* whole characters only */
	memcpy(buf + pos, tmp, n);
	return pos + n;
}

int pyname_str(const struct memreader *m, const struct pylayout *l, uint64_t addr, char *buf, size_t len)
{
	uint64_t type, flags, slen;
	uint32_t state, kind;
	unsigned char raw[4 * (PYNAME_STR_MAX + 1)];
	uint64_t data;
	size_t pos = 0, n;
	int err;

	if (!m || !l || !buf || len == 0 || !memreader_ptr_ok(addr))
		return -EINVAL;
	err = memreader_read_u64(m, addr + l->ob_type, &type);
	if (err < 0)
		return err;
	if (!memreader_ptr_ok(type))
		return -EINVAL;
	err = memreader_read_u64(m, type + l->tp_flags, &flags);
	if (err < 0)
		return err;
	if (!(flags & PYNAME_TPFLAGS_UNICODE_SUBCLASS))
		return -EINVAL;
	err = memreader_read_u64(m, addr + l->str_length, &slen);
	if (!err)
		err = memreader_read(m, addr + l->str_state, &state, sizeof(state));
	if (err < 0)
		return err;
	if (!((state >> 5) & 1))
		return -ENOTSUP;
	kind = (state >> 2) & 7;
	if ((state >> 6) & 1) {
		kind = 1;
		data = addr + l->str_ascii_data;
	} else {
		data = addr + l->str_compact_data;
	}
	if (kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	n = slen < len - 1 ? (size_t)slen : len - 1;
	if (n > PYNAME_STR_MAX)
		n = PYNAME_STR_MAX;	/* raw[] bound; file names (sites) need more than type names */
	err = memreader_read(m, data, raw, n * kind);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		uint32_t c;

		if (kind == 1) {
			c = raw[i];
		} else if (kind == 2) {
			uint16_t c16;

			memcpy(&c16, raw + 2 * i, 2);
			c = c16;
		} else {
			memcpy(&c, raw + 4 * i, 4);
		}
		if (c == 0)
			break;
		size_t np = pyname_put_utf8(buf, len, pos, c);

		if (np == pos)
			break;
		pos = np;
	}
	buf[pos] = '\0';
	return (int)pos;
}

bool pyname_str_is(const struct memreader *m, const struct pylayout *l, uint64_t addr, const char *want)
{
	char tmp[32];
	int n = pyname_str(m, l, addr, tmp, sizeof(tmp));

	return n >= 0 && strcmp(tmp, want) == 0;
}

struct pyname_match {
	const struct memreader *m;
	const struct pylayout *l;
	struct pyname_cache *nc;
};

/* The "__module__" key: by address once one was seen (it is interned). */
static int pyname_is_module_key(void *ctx, uint64_t key)
{
	struct pyname_match *pm = ctx;

	if (pm->nc && pm->nc->module_key)
		return key == pm->nc->module_key;
	if (!pyname_str_is(pm->m, pm->l, key, "__module__"))
		return 0;
	if (pm->nc)
		pm->nc->module_key = key;
	return 1;
}

/* dict["__module__"] of a type dict (pyrefs_dict_get scans its entries), or 0. */
static uint64_t pyname_dict_module(const struct memreader *m, const struct pylayout *l, uint64_t dict,
				   struct pyname_cache *nc)
{
	struct pyname_match pm = { m, l, nc };
	uint64_t val = 0;

	if (!memreader_ptr_ok(dict) || pyrefs_dict_get(m, l, dict, pyname_is_module_key, &pm, &val) < 0)
		return 0;
	return memreader_ptr_ok(val) ? val : 0;
}

/* Reads a NUL-terminated C string (tp_name) in small steps, so a short name at
 * the end of a mapping still reads. */
static int pyname_cstr(const struct memreader *m, uint64_t addr, char *buf, size_t len)
{
	size_t pos = 0;

	while (pos + 1 < len) {
		char chunk[32];
		size_t want = sizeof(chunk);
		uint64_t a = addr + pos;
		int err;

		/* do not cross a page boundary in one read */
		if (((a & 4095) + want) > 4096)
			want = 4096 - (a & 4095);
		err = memreader_read(m, a, chunk, want);
		if (err < 0)
			return err;
		for (size_t i = 0; i < want && pos + 1 < len; i++) {
			unsigned char c = (unsigned char)chunk[i];

			if (c == 0) {
				buf[pos] = '\0';
				return (int)pos;
			}
			if (c < 0x20 || c == 0x7f)
				return -EINVAL;	/* not a type name */
			buf[pos++] = (char)c;
		}
	}
	buf[pos] = '\0';
	return (int)pos;
}

int pyname_type_cached(const struct memreader *m, const struct pylayout *l, uint64_t type, char *buf, size_t len,
		       struct pyname_cache *nc)
{
	uint64_t flags, qual, dict, mod;
	char qn[PYNAME_MAX], mn[PYNAME_MAX];
	int err, n;

	if (!m || !l || !buf || len == 0 || !memreader_ptr_ok(type))
		return -EINVAL;
	err = memreader_read_u64(m, type + l->tp_flags, &flags);
	if (err < 0)
		return err;
	if (!(flags & PYLAYOUT_TPFLAGS_READY))
		return -EINVAL;
	if (flags & PYLAYOUT_TPFLAGS_HEAPTYPE) {
		err = memreader_read_u64(m, type + l->ht_qualname, &qual);
		if (err < 0)
			return err;
		n = pyname_str(m, l, qual, qn, sizeof(qn));
		if (n < 0)
			goto static_name;
		if (memreader_read_u64(m, type + l->tp_dict, &dict) == 0 &&
		    (mod = pyname_dict_module(m, l, dict, nc)) != 0 &&
		    pyname_str(m, l, mod, mn, sizeof(mn)) > 0 && strcmp(mn, "builtins") != 0)
			n = snprintf(buf, len, "%s.%s", mn, qn);
		else
			n = snprintf(buf, len, "%s", qn);
		return n < (int)len ? n : (int)len - 1;
	}
static_name:
	err = memreader_read_u64(m, type + l->tp_name, &qual);
	if (err < 0)
		return err;
	if (qual == 0)
		return -EINVAL;
	return pyname_cstr(m, qual, buf, len);
}

int pyname_type(const struct memreader *m, const struct pylayout *l, uint64_t type_addr, char *buf,
		size_t len)
{
	char tmp[PYNAME_MAX * 2];
	int n;

	if (!buf || len == 0)
		return -EINVAL;
	n = pyname_type_cached(m, l, type_addr, tmp, sizeof(tmp) < len ? sizeof(tmp) : len, NULL);
	if (n < 0)
		return n;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

