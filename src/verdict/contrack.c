// SPDX-License-Identifier: MIT
/* contrack: the largest containers across censuses (see contrack.h). */
#include <stdio.h>
#include <string.h>

#include "leakd/verdict/contrack.h"

static struct contrack_entry *contrack_slot(struct contrack *ct, const struct heapwalk_container *hc, double now)
{
	for (size_t j = 0; j < ct->n; j++)
		if (ct->e[j].addr == hc->addr && ct->e[j].type == hc->type)
			return &ct->e[j];
	for (size_t j = 0; j < ct->n; j++)
		if (ct->e[j].t1 < now && !ct->e[j].seen_now)
			return &ct->e[j];
	return ct->n < CONTRACK_SLOTS ? &ct->e[ct->n++] : NULL;
}

void contrack_update(struct contrack *ct, const struct heapwalk_container *c, size_t n, double now,
		     contrack_namer name, void *ctx)
{
	for (size_t i = 0; i < ct->n; i++)
		ct->e[i].seen_now = false;
	for (size_t i = 0; i < n; i++) {
		const struct heapwalk_container *hc = &c[i];
		struct contrack_entry *e = contrack_slot(ct, hc, now);

		if (!e)
			continue;
		if (e->addr != hc->addr || e->type != hc->type || !e->name[0]) {
			memset(e, 0, sizeof(*e));
			e->addr = hc->addr;
			e->type = hc->type;
			e->t0 = now;
			e->items0 = hc->items;
			if (name(ctx, hc->type, e->name, sizeof(e->name)) <= 0)
				snprintf(e->name, sizeof(e->name), "(container)");
			for (int k = 0; k < HEAPWALK_HELD_TYPES && hc->held_type[k]; k++)
				if (name(ctx, hc->held_type[k], e->held[k], sizeof(e->held[k])) <= 0)
					e->held[k][0] = '\0';
		}
		e->t1 = now;
		e->items1 = hc->items;
		e->seen_now = true;
	}
}

size_t contrack_growing(const struct contrack *ct, struct verdict_container *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ct->n && n < max; i++) {
		const struct contrack_entry *e = &ct->e[i];
		int h = 0;

		if (!e->seen_now || e->t1 - e->t0 < 1.0 || e->items1 <= e->items0)
			continue;
		out[n] = (struct verdict_container){ .type = e->name,
			.items_per_s = (double)(e->items1 - e->items0) / (e->t1 - e->t0) };
		for (int k = 0; k < HEAPWALK_HELD_TYPES && h < 3; k++)
			if (e->held[k][0])
				out[n].held[h++] = e->held[k];
		n++;
	}
	return n;
}
