// SPDX-License-Identifier: MIT
/*
 * bytesamp: trace mode's byte samples on one traced process (see
 * bytesamp.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/probes/probes.h"
#include "leakd/python/codeobj.h"
#include "leakd/python/pystack.h"
#include "leakd/sites/bytesamp.h"
#include "leakd/sites/sitehost.h"
#include "leakd/sites/sites.h"
#include "leakd/process/remote.h"
#include "leakd/process/target.h"
#include "leakd/verdict/agg.h"
#include "leakd/verdict/livetypes.h"

/* Live samples kept at once: at the default 512 KiB mean, 32 GiB of live
 * allocations (freed ones make room again). Distinct stacks are kept for
 * the session: past BYTESAMP_MAX_STACKS a sample at a new stack is dropped
 * and counted (sites.h). */
#define BYTESAMP_MAX_SAMPLES 65536
#define BYTESAMP_MAX_STACKS 4096
#define BYTESAMP_ROWS (BYTESAMP_MAX_TYPES * 16)

struct bytesamp {
	struct sites_host h;		/* the process: its state, current */
	struct probes *p;
	uint64_t mean;
	struct codeobj_cache *codes;
	struct sites *samples;
	uint64_t stacks, stack_errors;
	/* summary storage */
	struct sites_live rows[BYTESAMP_ROWS];
	struct report_site out[BYTESAMP_MAX_TYPES * BYTESAMP_SITES_PER_TYPE];
	struct report_frame frames[BYTESAMP_MAX_TYPES * BYTESAMP_SITES_PER_TYPE][LEAKD_MAX_PYFRAMES];
	char names[BYTESAMP_MAX_TYPES][REPORT_TYPE_NAME_MAX + 1];
};

int bytesamp_new(const struct sites_host *h, struct probes *p, uint64_t mean, struct bytesamp **out)
{
	struct leakd_pyconf conf;
	struct bytesamp *b;
	int err;

	*out = NULL;
	err = pystack_conf_sampling(h->layout, h->t->runtime_addr, h->sample_bytes, &conf);
	if (err)
		return err == -EINVAL ? -ENOTSUP : err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->h = *h;
	b->p = p;
	b->mean = mean;
	err = codeobj_cache__new(h->layout, 0, &b->codes);
	if (!err)
		err = sites_new(BYTESAMP_MAX_SAMPLES, BYTESAMP_MAX_STACKS, &b->samples);
	if (!err)
		err = probes_set_pyconf(p, h->t->pid, &conf);
	if (err) {
		bytesamp_free(b);
		return err;
	}
	*out = b;
	return 0;
}

void bytesamp_free(struct bytesamp *b)
{
	if (!b)
		return;
	probes_set_pyconf(b->p, b->h.t->pid, NULL);
	sites_free(b->samples);
	codeobj_cache__free(b->codes);
	free(b);
}

bool bytesamp_event(struct bytesamp *b, const struct leakd_event *e)
{
	const struct leakd_stack_event *se = (const struct leakd_stack_event *)e;
	struct pystack_frame frames[LEAKD_MAX_PYFRAMES];
	struct memreader rd;
	bool cut = false;
	int n;

	if (!b)
		return false;
	if (e->kind == LEAKD_EV_FREE) {
		sites_freed(b->samples, e->addr);
		return false;	/* the live table wants it too */
	}
	if (e->kind != LEAKD_EV_STACK || !(se->flags & LEAKD_STACK_BY_BYTES))
		return false;
	rd = remote_reader_uncached(b->h.mem);	/* as sitewin's stacks: past the census's cache */
	n = pystack_symbolize(b->codes, &rd, se, frames, LEAKD_MAX_PYFRAMES, &cut);
	if (n < 0) {
		b->stack_errors++;
		return true;
	}
	b->stacks++;
	/* a full table drops the sample and counts it (sites.h) */
	(void)sites_sample_bytes(b->samples, e->addr, e->size, frames, (size_t)n, cut);
	return true;
}

static uint64_t live_type(void *ctx, uint64_t addr)
{
	return agg_type_of(((struct bytesamp *)ctx)->h.agg, addr);
}

void bytesamp_summary(struct bytesamp *b, struct report_summary *out)
{
	size_t n = 0;
	long nrows;

	if (!b || !out->live_types)
		return;
	nrows = sites_live_by_type(b->samples, b->mean, live_type, b, b->rows, BYTESAMP_ROWS);
	if (nrows <= 0)
		return;
	/* grouped by type in the order of live_types, largest first within */
	for (size_t t = 0; t < out->n_live_types && t < BYTESAMP_MAX_TYPES; t++) {
		size_t k = 0;

		memcpy(b->names[t], out->live_types[t].type, REPORT_TYPE_NAME_MAX);
		b->names[t][REPORT_TYPE_NAME_MAX] = '\0';
		for (long r = 0; r < nrows && k < BYTESAMP_SITES_PER_TYPE; r++) {
			const char *name = livetypes_name(b->h.types, b->rows[r].type);

			if (!name || strcmp(name, b->names[t]))
				continue;
			sites_report_site(&b->out[n], b->frames[n], b->rows[r].site, b->names[t]);
			b->out[n].sampled = b->rows[r].site->sampled;
			b->out[n].surviving = b->rows[r].samples;
			b->out[n].live_bytes = b->rows[r].bytes;
			b->out[n].live_objects = b->rows[r].objects;
			n++;
			k++;
		}
	}
	out->live_sites = b->out;
	out->n_live_sites = n;
}
