// SPDX-License-Identifier: MIT
/*
 * report_holders: writers for the holder search's result (see
 * report_holders.h).
 */
#include <errno.h>
#include <string.h>

#include "leakd/base/human.h"
#include "leakd/output/report_holders.h"
#include "leakd/base/textesc.h"

#define TABLE_PATHS 3	/* paths shown per type in the table; JSON has them all */

/* One sample path of a type, as one element of "holders". */
static void holders_path_json(struct jsonw *w, const struct holders_type *ty, const struct holders_path *p)
{
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "type", ty->name);
	jsonw_key(w, "path");
	jsonw_arr_begin(w);
	for (size_t k = 0; k < p->nsteps; k++) {
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "kind", holders_kind_name(p->steps[k].kind));
		jsonw_kv_str(w, "name", p->steps[k].name);
		jsonw_kv_str(w, "via_type", p->steps[k].via_type);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_kv_bool(w, "cut", p->cut);
	jsonw_kv_str(w, "text", p->text);
	jsonw_kv_u64(w, "sampled", ty->sampled);
	jsonw_kv_u64(w, "reached", p->reached);
	jsonw_kv_u64(w, "found", ty->found);
	jsonw_obj_end(w);
}

/* "holders_search": the search's counters under their JSON names
 * (docs/json.md), its time and why it stopped early. */
static void holders_search_json(struct jsonw *w, const struct holders_result *r)
{
	const struct {
		const char *key;
		uint64_t v;
	} counts[] = {
		{ "objects", r->nodes }, { "module_roots", r->roots_modules },
		{ "local_roots", r->roots_locals }, { "native_roots", r->roots_native },
		{ "garbage", r->garbage }, { "rejected", r->rejected },
	};

	jsonw_key(w, "holders_search");
	jsonw_obj_begin(w);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		jsonw_kv_u64(w, counts[i].key, counts[i].v);
	jsonw_kv_fixed(w, "ms", r->walk_ms, 1);
	jsonw_kv_u64(w, "bytes", r->bytes);
	jsonw_kv_str(w, "partial", r->partial ? r->partial_reason : NULL);	/* NULL: null */
	jsonw_obj_end(w);
}

void report_holders_json(struct jsonw *w, const struct holders_result *r)
{
	jsonw_key(w, "holders");
	jsonw_arr_begin(w);
	for (size_t t = 0; r && t < r->ntypes; t++)
		for (size_t i = 0; i < r->types[t].npaths; i++)
			holders_path_json(w, &r->types[t], &r->types[t].paths[i]);
	jsonw_arr_end(w);
	if (r)
		holders_search_json(w, r);
	else
		jsonw_kv_null(w, "holders_search");
}

int report_holders_table(FILE *f, const struct holders_result *r)
{
	char esc[4 * HOLDERS_TEXT_MAX], n[32];

	if (!r || !r->ntypes)
		return 0;
	fprintf(f, "  HELD BY (searched in %.0f ms over %s objects%s%s)\n", r->walk_ms,
		human_count(n, sizeof(n), (double)r->nodes), r->partial ? "; partial: " : "",
		r->partial ? textesc(esc, sizeof(esc), r->partial_reason) : "");
	for (size_t t = 0; t < r->ntypes; t++) {
		const struct holders_type *ty = &r->types[t];

		fprintf(f, "    %s: %s met, %u sampled\n", textesc(esc, sizeof(esc), ty->name),
			human_count(n, sizeof(n), (double)ty->found), ty->sampled);
		for (size_t i = 0; i < ty->npaths && i < TABLE_PATHS; i++)
			fprintf(f, "      %3u/%u  %s\n", ty->paths[i].reached, ty->sampled,
				textesc(esc, sizeof(esc), ty->paths[i].text));
	}
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
