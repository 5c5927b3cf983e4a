// SPDX-License-Identifier: MIT
/*
 * holdroots: modules, thread stacks, and what no root reaches (see
 * holdroots.h). Every field comes from the target: counts are bounded,
 * pointers checked, names read with pyname_str() and escaped by the writers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/python/codeobj.h"
#include "leakd/holders/holdroots.h"
#include "leakd/python/pyname.h"
#include "leakd/python/pyrefs.h"

#define MAX_THREADS 256
#define MAX_FRAMES 1024			/* per thread: deeper stacks are cut */
#define CODE_CACHE 256

/* ---- modules ---- */

struct name_match {
	const struct memreader *m;
	const struct pylayout *l;
	const char *want;
};

static int match_str(void *ctx, uint64_t key)
{
	struct name_match *nm = ctx;

	return pyname_str_is(nm->m, nm->l, key, nm->want);
}

int holdroots_modules(struct holdsearch *hs, uint64_t *count)
{
	const struct holders_query *q = hs->q;
	struct name_match nm = { hs->m, hs->l, "__name__" };

	for (size_t i = 0; i < q->ntracked; i++) {
		uint64_t hdr[3], dict, name;
		struct typetab_entry *t = holdsearch_type(hs, q->tracked[i], hdr);
		char mod[HOLDERS_NAME_MAX - 8], label[HOLDERS_NAME_MAX];
		int err;

		if (!t || t->kind != PYK_MODULE)
			continue;
		strcpy(mod, "?");
		if (!memreader_read_u64(hs->m, q->tracked[i] + hs->l->module_dict, &dict) &&
		    memreader_ptr_ok(dict) && !pyrefs_dict_get(hs->m, hs->l, dict, match_str, &nm, &name))
			pyname_str(hs->m, hs->l, name, mod, sizeof(mod));
		snprintf(label, sizeof(label), "module %s", mod);
		err = holdsearch_root(hs, q->tracked[i], HOLDERS_MODULE, label);
		if (err == -ENOSPC)
			return 0;
		if (err < 0)
			return err;
		(*count)++;
	}
	return 0;
}

/* ---- thread stacks ---- */

/* The names of a frame's local slots, each names tuple checked to be a tuple. */
static int read_names(struct holdsearch *hs, uint64_t code, struct pyrefs_names *fn)
{
	int err = pyrefs_frame_names(hs->m, hs->l, code, fn);

	for (int i = 0; !err && i < 3; i++) {
		uint64_t hdr[3];
		struct typetab_entry *t;

		if (!fn->tuples[i])
			continue;
		t = holdsearch_type(hs, fn->tuples[i], hdr);
		if (!t || t->kind != PYK_TUPLE)
			err = -EFAULT;
	}
	return err;
}

/* The name of local i, or "#i". */
static void local_name(struct holdsearch *hs, const struct pyrefs_names *fn, uint64_t i, char *buf, size_t len)
{
	uint64_t name;

	if (pyrefs_frame_name(hs->m, hs->l, fn, i, &name) < 0 || pyname_str(hs->m, hs->l, name, buf, len) < 0)
		snprintf(buf, len, "#%llu", (unsigned long long)i);
}

/* A running thread's frames change under the search: they are read past
 * the reader's cache, as they are now, so that a chain is not pieced
 * together from blocks cached at different times. (Suspected, not proven,
 * cause of a second thread's worker() local being named "held from C"
 * once in a full run on pyenv 3.13.0.) */
static int frame_u64(struct holdsearch *hs, uint64_t addr, uint64_t *out)
{
	return memreader_read_fresh(hs->m, addr, out, sizeof(*out));
}

/* The line a frame is at, as the BPF walker computes its offset. */
static int frame_line(struct holdsearch *hs, const struct codeobj *co, uint64_t frame, uint64_t code)
{
	const struct pylayout *l = hs->l;
	uint32_t off;
	int line = 0;

	if (l->frame_instr_kind == PYLAYOUT_INSTR_PTR) {
		uint64_t ip, first = code + l->co_code_adaptive;

		if (frame_u64(hs, frame + l->frame_instr, &ip) < 0 || ip < first ||
		    ip - first >= (1ull << 31))
			return co->firstlineno;
		off = (uint32_t)(ip - first);
	} else {
		int32_t lasti = -1;

		if (memreader_read_fresh(hs->m, frame + l->frame_instr, &lasti, sizeof(lasti)) < 0 || lasti < 0)
			return co->firstlineno;
		off = l->frame_instr_kind == PYLAYOUT_INSTR_LASTI_UNITS ? (uint32_t)lasti * 2 : (uint32_t)lasti;
	}
	return codeobj_line(co, off, &line) < 0 || line <= 0 ? co->firstlineno : line;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The locals of one frame as roots. */
static int frame_roots(struct holdsearch *hs, struct codeobj_cache *cc, uint64_t tid, uint64_t frame,
		       uint64_t *count)
{
	const struct pylayout *l = hs->l;
	const struct codeobj *co;
	struct pyrefs_names fn;
	uint64_t code;
	int line;

	if (frame_u64(hs, frame + l->frame_code, &code) < 0)
		return 0;
	code &= l->frame_code_mask;
	if (!memreader_ptr_ok(code) || codeobj_cache__get(cc, hs->m, code, &co) < 0 || read_names(hs, code, &fn) < 0)
		return 0;
	line = frame_line(hs, co, frame, code);
	for (uint64_t i = 0; i < fn.total; i++) {
		char name[64], label[HOLDERS_NAME_MAX];
		uint64_t v;
		int err;

		if (frame_u64(hs, frame + l->frame_localsplus + 8 * i, &v) < 0)
			break;
		v &= l->frame_code_mask;	/* 3.14: tagged stack references */
		if (!memreader_ptr_ok(v))
			continue;
		local_name(hs, &fn, i, name, sizeof(name));
		snprintf(label, sizeof(label), "thread %llu frame %.40s (%.40s:%d) local %.40s",
			 (unsigned long long)tid, co->qualname, basename_of(co->filename), line, name);
		err = holdsearch_root(hs, v, HOLDERS_LOCAL, label);
		if (err < 0)
			return err == -ENOSPC ? 0 : err;
		(*count)++;
	}
	return 0;
}

static int thread_roots(struct holdsearch *hs, struct codeobj_cache *cc, uint64_t ts, uint64_t *count)
{
	const struct pylayout *l = hs->l;
	uint64_t tid = 0, frame = 0;

	if (l->ts_native_thread_id)
		memreader_read_u64(hs->m, ts + l->ts_native_thread_id, &tid);
	else
		memreader_read_u64(hs->m, ts + l->ts_thread_id, &tid);
	/* 3.11+: the native TID (ps, top); before: threading.get_ident() */
	if (frame_u64(hs, ts + l->ts_frame, &frame) < 0)
		return 0;
	if (l->ts_frame_via_cframe && (!memreader_ptr_ok(frame) ||
				       frame_u64(hs, frame + l->cframe_frame, &frame) < 0))
		return 0;
	uint64_t frames[MAX_FRAMES];
	int n = 0;

	for (; n < MAX_FRAMES && memreader_ptr_ok(frame); n++) {
		frames[n] = frame;
		if (frame_u64(hs, frame + l->frame_back, &frame) < 0) {
			n++;
			break;
		}
	}
	/* Outermost first: what a frame defines and the frames it calls use
	 * (a cell a closure shares, an argument passed down) is named where it
	 * is defined, by the frame that lives longest, not by whichever frame
	 * the thread happened to be running at the search (measured: main()'s
	 * cell was named by its closure one() when the search caught one()). */
	while (n-- > 0) {
		uint8_t owner = 0;
		int err;

		if (l->frame_owner && memreader_read_fresh(hs->m, frames[n] + l->frame_owner, &owner, 1) < 0)
			continue;
		if (!l->frame_owner || owner < l->frame_owner_skip) {
			err = frame_roots(hs, cc, tid, frames[n], count);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int holdroots_threads(struct holdsearch *hs, uint64_t *count)
{
	const struct pylayout *l = hs->l;
	struct codeobj_cache *cc;
	uint64_t interp, ts;
	int err = 0;

	if (!hs->q->runtime || !l->stack_known || !l->frame_localsplus)
		return 0;
	if (memreader_read_u64(hs->m, hs->q->runtime + l->rt_interp_head, &interp) < 0 || !memreader_ptr_ok(interp) ||
	    memreader_read_u64(hs->m, interp + l->interp_threads_head, &ts) < 0) {
		holdsearch_partial(hs, "thread states unreadable: locals are not roots");
		return 0;
	}
	if (codeobj_cache__new(l, CODE_CACHE, &cc) < 0)
		return -ENOMEM;
	for (int n = 0; !err && n < MAX_THREADS && memreader_ptr_ok(ts); n++) {
		err = thread_roots(hs, cc, ts, count);
		if (memreader_read_u64(hs->m, ts + l->ts_next, &ts) < 0)
			break;
	}
	codeobj_cache__free(cc);
	return err;
}

/* ---- what no root reaches ---- */

struct unreached {
	uint64_t addr;
	int64_t refs;		/* refcount minus references found among them */
	uint64_t refcnt;
	uint32_t uf;		/* union-find parent, for the cycles */
	uint32_t size;		/* component size at a union-find root */
	bool live, immortal;
	bool kept;		/* held from C, or by something that is */
};

struct uset {
	struct holdsearch *hs;
	struct unreached *u;
	size_t n;
	uint32_t *hash;		/* index + 1 */
	size_t hmask;
	uint32_t cur;
	enum { U_COUNT, U_KEEP, U_UNITE } mode;
	uint32_t *stack;	/* U_KEEP: objects kept whose referents are not seen yet */
	size_t sp;
};

static size_t u_slot(uint64_t a, size_t mask)
{
	a ^= a >> 29;
	a *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(a ^ (a >> 32)) & mask;
}

static long u_lookup(const struct uset *s, uint64_t a)
{
	for (size_t j = u_slot(a, s->hmask); s->hash[j]; j = (j + 1) & s->hmask)
		if (s->u[s->hash[j] - 1].addr == a)
			return (long)s->hash[j] - 1;
	return -1;
}

static uint32_t u_find(struct unreached *u, uint32_t i)
{
	while (u[i].uf != i) {
		u[i].uf = u[u[i].uf].uf;	/* path halving */
		i = u[i].uf;
	}
	return i;
}

static int u_ref(void *ctx, uint64_t p)
{
	struct uset *s = ctx;
	long j = memreader_ptr_ok(p) ? u_lookup(s, p) : -1;

	if (j < 0 || !s->u[j].live)
		return 0;
	if (s->mode == U_COUNT) {
		s->u[j].refs--;
	} else if (s->mode == U_KEEP) {
		if (!s->u[j].kept) {
			s->u[j].kept = true;
			s->stack[s->sp++] = (uint32_t)j;
		}
	} else if (!s->u[j].kept) {
		uint32_t a = u_find(s->u, s->cur), b = u_find(s->u, (uint32_t)j);

		if (a != b) {
			s->u[b].uf = a;
			s->u[a].size += s->u[b].size;
		}
	}
	return 0;
}

static int u_first(void *ctx, uint64_t addr)
{
	(void)ctx, (void)addr;
	return 0;
}

/* Passes object i's referents to u_ref. Returns 0 or a hard -errno. */
static int u_decode(struct uset *s, uint32_t i)
{
	struct pyrefs_sink k = { .ref = u_ref, .first = u_first, .ctx = s, .native_fields = true };
	uint64_t hdr[3];
	struct typetab_entry *t = holdsearch_type(s->hs, s->u[i].addr, hdr);
	int64_t r;

	if (!t)
		return 0;
	s->cur = i;
	r = pyrefs_decode(s->hs->m, s->hs->l, s->u[i].addr, t, (int64_t)hdr[2], &k);
	s->hs->rejected += k.rejected;
	return r < 0 && r != -EFAULT ? (int)r : 0;
}

/*
 * The collector's own sort, from outside: subtract the references found
 * among the set from each count; what keeps a positive count is held from
 * C, and so is everything it holds; the rest only cycles keep. Then the
 * cycles are sized (union-find over their references).
 */
static int u_sort(struct uset *s)
{
	int err = 0;

	s->mode = U_COUNT;
	for (uint32_t i = 0; !err && i < s->n; i++)
		err = s->u[i].live ? u_decode(s, i) : 0;
	s->mode = U_KEEP;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->u[i].live && (s->u[i].immortal || s->u[i].refs > 0)) {
			s->u[i].kept = true;
			s->stack[s->sp++] = i;
		}
	while (!err && s->sp)
		err = u_decode(s, s->stack[--s->sp]);
	s->mode = U_UNITE;
	for (uint32_t i = 0; !err && i < s->n; i++)
		err = s->u[i].live && !s->u[i].kept ? u_decode(s, i) : 0;
	return err;
}

static int u_build(struct uset *s)
{
	struct holdsearch *hs = s->hs;
	const struct holders_query *q = hs->q;
	size_t cap = 0;

	for (size_t i = 0; i < q->ntracked; i++)
		cap += !holdsearch_seen(hs, q->tracked[i]);
	if (cap > hs->max) {
		holdsearch_partial(hs, "too many objects no root reaches to sort them");
		cap = hs->max;
	}
	s->u = calloc(cap ? cap : 1, sizeof(*s->u));
	s->stack = calloc(cap ? cap : 1, sizeof(*s->stack));
	for (s->hmask = 1; s->hmask < cap * 2; s->hmask <<= 1)
		;
	s->hash = calloc(s->hmask, sizeof(*s->hash));
	s->hmask--;
	if (!s->u || !s->hash || !s->stack)
		return -ENOMEM;
	hs->aux_bytes = cap * (sizeof(*s->u) + sizeof(*s->stack)) + (s->hmask + 1) * sizeof(*s->hash);
	for (size_t i = 0; i < q->ntracked && s->n < cap; i++) {
		uint64_t hdr[3], a = q->tracked[i];
		struct unreached *u = &s->u[s->n];
		size_t j;

		if (holdsearch_seen(hs, a) || !holdsearch_type(hs, a, hdr))
			continue;
		u->addr = a;
		/* 3.12+: the count is the low 32 bits; immortal objects saturate it */
		u->refcnt = hs->l->minor >= 12 ? (hdr[0] & 0xffffffffull) : hdr[0];
		u->immortal = hs->l->minor >= 12 && (int32_t)(uint32_t)hdr[0] < 0;
		u->refs = u->refcnt > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u->refcnt;
		u->live = true;
		u->uf = (uint32_t)s->n;
		u->size = 1;
		for (j = u_slot(a, s->hmask); s->hash[j]; j = (j + 1) & s->hmask)
			;
		s->hash[j] = (uint32_t)++s->n;
	}
	return 0;
}

static void cycle_label(const struct holdsearch *hs, uint32_t k, char *buf, size_t len)
{
	if (hs->q->gc_enabled)
		snprintf(buf, len, "unreachable reference cycle (%u objects): garbage the cyclic GC frees "
			 "(threshold %d)", k, hs->q->gc_threshold0);
	else
		snprintf(buf, len, "unreachable reference cycle (%u objects): garbage in cycles; "
			 "the cyclic GC is disabled in this process", k);
}

int holdroots_unreached(struct holdsearch *hs, uint64_t *count)
{
	struct uset s = { .hs = hs };
	int err = u_build(&s);

	if (!err)
		err = u_sort(&s);
	/* Held from C: more references than the graph explains. */
	for (size_t i = 0; !err && i < s.n; i++) {
		char label[HOLDERS_NAME_MAX];

		if (!s.u[i].live || s.u[i].immortal || s.u[i].refs <= 0)
			continue;
		snprintf(label, sizeof(label), "held from C (refcount %llu, %llu references found)",
			 (unsigned long long)s.u[i].refcnt,
			 (unsigned long long)(s.u[i].refcnt - (uint64_t)s.u[i].refs));
		err = holdsearch_root(hs, s.u[i].addr, HOLDERS_NATIVE, label);
		if (err == -ENOSPC)
			err = 0;
		else if (!err)
			(*count)++;
	}
	if (!err)
		err = holdsearch_run(hs);
	/* The rest is kept by cycles only. */
	for (size_t i = 0; !err && i < s.n; i++) {
		char label[HOLDERS_NAME_MAX];

		if (!s.u[i].live || s.u[i].kept)
			continue;
		hs->garbage++;
		cycle_label(hs, s.u[u_find(s.u, (uint32_t)i)].size, label, sizeof(label));
		err = holdsearch_root(hs, s.u[i].addr, HOLDERS_CYCLE, label);
		if (err == -ENOSPC)
			err = 0;
	}
	free(s.u);
	free(s.hash);
	free(s.stack);
	return err;
}
