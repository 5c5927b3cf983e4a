// SPDX-License-Identifier: MIT
/*
 * holdpath: naming and grouping the paths of a holder search (see
 * holdpath.h). Runs once per search on at most HOLDERS_SAMPLES chains per
 * type, so it re-reads what it names (keys, slot names, type names) rather
 * than keeping them for every node.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/holders/holdpath.h"
#include "leakd/python/pyname.h"
#include "leakd/python/pyrefs.h"

#define MAX_CHAIN 4096		/* parents followed from a sample: BFS paths are short */
#define HT_CACHED_KEYS_AFTER_QUALNAME 8	/* PyHeapTypeObject: ht_qualname, ht_cached_keys (3.11+) */

void holdpath_pattern(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (; *s && o + 1 < len; s++) {
		if (isdigit((unsigned char)*s)) {
			while (isdigit((unsigned char)s[1]))
				s++;
			if (o + 4 >= len)
				break;
			memcpy(buf + o, "<n>", 3);
			o += 3;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	if (*s && len > 4)
		memcpy(buf + (o > len - 4 ? len - 4 : o), "...", 4);
}

static void type_name_of(struct holdsearch *hs, uint64_t obj, char *buf, size_t len)
{
	uint64_t hdr[3];
	struct typetab_entry *t = holdsearch_type(hs, obj, hdr);

	if (!t || pyname_type(hs->m, hs->l, t->addr, buf, len) < 0)
		snprintf(buf, len, "?");
}

void holdpath_key_label(enum holdpath_key_class cls, const char *type_name, const char *text, bool shapes,
			char *buf, size_t len)
{
	char pat[41];	/* key contents cut to 40 characters */

	if (cls == HOLDPATH_KEY_STR && shapes)
		snprintf(buf, len, "<str>");
	else if (cls == HOLDPATH_KEY_STR) {
		holdpath_pattern(text ? text : "", pat, sizeof(pat));
		snprintf(buf, len, "'%s'", pat);
	} else if (cls == HOLDPATH_KEY_INT)
		snprintf(buf, len, shapes ? "<int>" : "<n>");
	else
		snprintf(buf, len, "<%s>", type_name && *type_name ? type_name : "?");
}

/* A dict key as shown (holdpath_key_label()); its text is only read when
 * the query shows key contents. */
static void key_text(struct holdsearch *hs, uint64_t key, char *buf, size_t len)
{
	uint64_t hdr[3];
	struct typetab_entry *t = holdsearch_type(hs, key, hdr);
	char raw[96], tn[64];
	bool shapes = hs->q->key_shapes;

	if (t && t->kind == PYK_STR && (shapes || pyname_str(hs->m, hs->l, key, raw, sizeof(raw)) >= 0)) {
		holdpath_key_label(HOLDPATH_KEY_STR, "str", shapes ? NULL : raw, shapes, buf, len);
	} else if (t && t->kind == PYK_INT) {
		holdpath_key_label(HOLDPATH_KEY_INT, "int", NULL, shapes, buf, len);
	} else {
		type_name_of(hs, key, tn, sizeof(tn));
		holdpath_key_label(HOLDPATH_KEY_OTHER, tn, NULL, shapes, buf, len);
	}
}

/* The key naming value slot `slot` of parent: a split dict's shared keys,
 * or the cached keys of an instance's class (managed dicts, inline values). */
static void slot_key(struct holdsearch *hs, uint64_t parent, uint64_t slot, char *buf, size_t len)
{
	const struct pylayout *l = hs->l;
	uint64_t hdr[3], keys = 0, key = 0;
	struct typetab_entry *t = holdsearch_type(hs, parent, hdr);
	int err = -ENOENT;

	if (t && t->kind == PYK_DICT)
		err = memreader_read_u64(hs->m, parent + l->dict_keys, &keys);
	else if (t && l->ht_qualname)
		err = memreader_read_u64(hs->m, t->addr + l->ht_qualname + HT_CACHED_KEYS_AFTER_QUALNAME, &keys);
	if (!err)
		err = pyrefs_keys_slot(hs->m, l, keys & ~7ull, slot, &key);
	if (err || pyname_str(hs->m, l, key, buf, len) < 0)
		snprintf(buf, len, "<slot %llu>", (unsigned long long)slot);
}

/* Edges whose name is fixed. */
static const struct {
	uint8_t edge, kind;
	const char *name;
} fixed_edges[] = {
	{ PYREF_ITEM, HOLDERS_ITEM, "[*]" }, { PYREF_SET_MEMBER, HOLDERS_ITEM, "{*}" },
	{ PYREF_CELL, HOLDERS_CELL, "cell_contents" }, { PYREF_METHOD_FUNC, HOLDERS_ATTR, "__func__" },
	{ PYREF_METHOD_SELF, HOLDERS_ATTR, "__self__" }, { PYREF_GEN_FRAME, HOLDERS_ATTR, "gi_frame" },
};

static const char *const func_fields[] = { "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
					    "__dict__" };

/* A value held by a dict (or a dict's values inline in an instance),
 * named by its key; how the dict itself is held says what the key is: a
 * module's global, a class attribute, an instance attribute, or a key. */
static void name_dict_value(struct holdsearch *hs, const struct hnode *c, const struct hnode *p,
			    struct holders_step *st)
{
	char buf[HOLDERS_NAME_MAX - 8];
	uint8_t ns = p->parent == HNODE_ROOT ? 0 : p->ekind;
	uint64_t hdr[3];
	struct typetab_entry *pt = holdsearch_type(hs, p->addr, hdr);
	bool in_dict = pt && pt->kind == PYK_DICT;

	st->kind = !in_dict ? HOLDERS_ATTR :	/* values inline in an instance */
		   ns == PYREF_MODULE_DICT ? HOLDERS_GLOBAL :
		   ns == PYREF_TYPE_DICT ? HOLDERS_CLASS_ATTR :
		   ns == PYREF_INST_DICT ? HOLDERS_ATTR : HOLDERS_KEY;
	if (c->ekind == PYREF_VALUES_SLOT)
		slot_key(hs, p->addr, c->key, buf, sizeof(buf));
	else if (st->kind == HOLDERS_KEY)
		key_text(hs, c->key, buf, sizeof(buf));
	else if (pyname_str(hs->m, hs->l, c->key, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "?");
	if (st->kind == HOLDERS_KEY && c->ekind == PYREF_VALUES_SLOT) {
		/* a split dict's keys are str */
		holdpath_key_label(HOLDPATH_KEY_STR, "str", buf, hs->q->key_shapes, st->name, sizeof(st->name));
	} else {
		snprintf(st->name, sizeof(st->name), "%s", buf);
	}
}

/* A generator's (3.11+: embedded) or a frame object's local, by the name
 * its code object gives the slot. */
static void name_frame_local(struct holdsearch *hs, const struct hnode *c, const struct hnode *p,
			     struct holders_step *st)
{
	char buf[HOLDERS_NAME_MAX - 8];
	uint64_t hdr[3], frame = p->addr, code = 0, name = 0;
	struct typetab_entry *t = holdsearch_type(hs, p->addr, hdr);
	struct pyrefs_names nm;

	if (t && t->kind == PYK_GEN && !hs->l->frame_is_object)
		frame += hs->l->gen_frame;
	st->kind = HOLDERS_LOCAL;
	if (memreader_read_u64(hs->m, frame + hs->l->frame_code, &code) ||
	    pyrefs_frame_names(hs->m, hs->l, code & hs->l->frame_code_mask, &nm) ||
	    pyrefs_frame_name(hs->m, hs->l, &nm, c->key, &name) ||
	    pyname_str(hs->m, hs->l, name, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "#%llu", (unsigned long long)c->key);
	snprintf(st->name, sizeof(st->name), "local %s", buf);
}

/* A __slots__ slot or a C object's field, by the member name its type
 * exposes for that offset when it has one. */
static void name_field(struct holdsearch *hs, const struct hnode *c, const struct hnode *p, struct holders_step *st)
{
	uint64_t hdr[3];
	struct typetab_entry *t = holdsearch_type(hs, p->addr, hdr);

	st->kind = HOLDERS_ATTR;
	if (!t || typetab_slot_name(hs->m, hs->l, t->addr, c->key, st->name, sizeof(st->name)) < 0)
		snprintf(st->name, sizeof(st->name), c->ekind == PYREF_SLOT ? "<slot @%llu>" : "<C field +%llu>",
			 (unsigned long long)c->key);
}

/* Names the step that reaches node c; false for a namespace dict that the
 * next step names as an attribute (it is not shown). */
static bool name_step(struct holdsearch *hs, const struct hnode *c, struct holders_step *st)
{
	const struct hnode *p = &hs->nodes[c->parent];
	char buf[HOLDERS_NAME_MAX - 8];

	for (size_t i = 0; i < sizeof(fixed_edges) / sizeof(fixed_edges[0]); i++)
		if (fixed_edges[i].edge == c->ekind) {
			st->kind = fixed_edges[i].kind;
			snprintf(st->name, sizeof(st->name), "%s", fixed_edges[i].name);
			return true;
		}
	switch (c->ekind) {
	case PYREF_MODULE_DICT: case PYREF_TYPE_DICT: case PYREF_INST_DICT:
		return false;
	case PYREF_DICT_VALUE: case PYREF_VALUES_SLOT:
		name_dict_value(hs, c, p, st);
		return true;
	case PYREF_DICT_KEY:
		st->kind = HOLDERS_KEY_OBJECT;
		key_text(hs, c->addr, buf, sizeof(buf));
		snprintf(st->name, sizeof(st->name), "(key %s)", buf);
		return true;
	case PYREF_FUNC_FIELD:
		st->kind = HOLDERS_ATTR;
		snprintf(st->name, sizeof(st->name), "%s", c->key < 5 ? func_fields[c->key] : "?");
		return true;
	case PYREF_FRAME_LOCAL:
		name_frame_local(hs, c, p, st);
		return true;
	case PYREF_FRAME_STACK:
		/* a suspended frame's temporary: what it awaits, or a loop's iterator */
		st->kind = HOLDERS_LOCAL;
		snprintf(st->name, sizeof(st->name), "<value stack>");
		return true;
	case PYREF_NATIVE_FIELD: case PYREF_SLOT:
		name_field(hs, c, p, st);
		return true;
	default:
		st->kind = HOLDERS_ITEM;
		snprintf(st->name, sizeof(st->name), "?");
		return true;
	}
}

/* One text line for a path: the root, each step with the type it reaches,
 * and the sample's type last. */
static void path_text(struct holders_path *p)
{
	size_t o = 0, len = sizeof(p->text);

#define PUT(...) (o += (size_t)snprintf(p->text + o, o < len ? len - o : 0, __VA_ARGS__), o = o < len ? o : len)
	for (size_t i = 0; i < p->nsteps; i++) {
		const struct holders_step *st = &p->steps[i];
		bool last = i + 1 == p->nsteps;

		switch (st->kind) {
		case HOLDERS_MODULE: case HOLDERS_NATIVE: case HOLDERS_CYCLE:
			PUT("%s", st->name);
			break;
		case HOLDERS_GLOBAL: case HOLDERS_CLASS_ATTR:
			PUT(" . %s", st->name);
			break;
		case HOLDERS_LOCAL:
			PUT(i ? " %s" : "%s", st->name);
			break;
		case HOLDERS_ATTR: case HOLDERS_CELL:
			PUT(" .%s", st->name);
			break;
		case HOLDERS_KEY:
			PUT(" [%s]", st->name);
			break;
		default:
			PUT(" %s", st->name);
			break;
		}
		if (i == 0 && p->cut)
			PUT(" ...");
		if (last)
			PUT(" -> %s", st->via_type);
		else if (st->kind != HOLDERS_MODULE)
			PUT(" (%s)", strcmp(st->via_type, "type") ? st->via_type : "class");
	}
#undef PUT
}

/* The chain of sample node s up to its root, named. */
static void build_path(struct holdsearch *hs, uint32_t s, struct holders_path *out)
{
	uint32_t chain[MAX_CHAIN];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = s; n < MAX_CHAIN; i = hs->nodes[i].parent) {
		chain[n++] = i;
		if (hs->nodes[i].parent == HNODE_ROOT)
			break;
	}
	/* chain[n-1] is the root; keep it and the innermost steps that fit */
	for (size_t k = n; k-- > 0;) {
		const struct hnode *c = &hs->nodes[chain[k]];
		struct holders_step st = { 0 };

		if (c->parent == HNODE_ROOT) {
			const struct hroot *r = &hs->roots[c->key];

			st.kind = r->kind;
			snprintf(st.name, sizeof(st.name), "%s", r->label);
		} else if (!name_step(hs, c, &st)) {
			continue;
		}
		st.addr = c->addr;
		type_name_of(hs, c->addr, st.via_type, sizeof(st.via_type));
		if (out->nsteps == HOLDERS_STEPS) {
			/* drop the oldest step after the root */
			memmove(&out->steps[1], &out->steps[2], (HOLDERS_STEPS - 2) * sizeof(st));
			out->nsteps--;
			out->cut = true;
		}
		out->steps[out->nsteps++] = st;
	}
	if (n == MAX_CHAIN)
		out->cut = true;
	path_text(out);
}

static int by_reached(const void *a, const void *b)
{
	const struct holders_path *x = a, *y = b;

	return (x->reached < y->reached) - (x->reached > y->reached);
}

int holdpath_collect(struct holdsearch *hs, struct holders_result *out)
{
	struct holders_path *all = malloc(HOLDERS_SAMPLES * sizeof(*all));

	if (!all)
		return -ENOMEM;
	out->ntypes = hs->q->ntypes;
	for (size_t qi = 0; qi < hs->q->ntypes; qi++) {
		struct holders_type *ty = &out->types[qi];
		size_t ndist = 0;

		ty->type_addr = hs->q->types[qi];
		snprintf(ty->name, sizeof(ty->name), "%s", hs->q->names[qi] ? hs->q->names[qi] : "?");
		ty->found = hs->found[qi];
		ty->sampled = hs->nsamp[qi];
		for (uint32_t i = 0; i < hs->nsamp[qi]; i++) {
			struct holders_path p;
			size_t d;

			build_path(hs, hs->samples[qi][i], &p);
			if (ty->nchains < HOLDERS_CHAINS)
				ty->chains[ty->nchains++] = p;
			for (d = 0; d < ndist && strcmp(all[d].text, p.text); d++)
				;
			if (d == ndist)
				all[ndist++] = p;
			all[d].reached++;
		}
		qsort(all, ndist, sizeof(*all), by_reached);
		ty->npaths = ndist < HOLDERS_PATHS ? ndist : HOLDERS_PATHS;
		memcpy(ty->paths, all, ty->npaths * sizeof(*all));
	}
	free(all);
	return 0;
}
