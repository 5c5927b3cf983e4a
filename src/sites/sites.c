// SPDX-License-Identifier: MIT
/*
 * sites: sampled allocations by stack, and which of them survive (see
 * sites.h).
 *
 * Samples live in an open-addressing table keyed by object address (a
 * window samples thousands of objects; lookups come from every free event
 * of the window, most of which miss). Sites are found through a second
 * table keyed by a hash of (type, each frame's code object and line,
 * truncation); a hash hit is confirmed field by field.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/sites/sites.h"

#define SITES_DEFAULT_SAMPLES 65536u
#define SITES_DEFAULT_SITES 1024u

enum sample_state { SAMPLE_EMPTY = 0, SAMPLE_LIVE, SAMPLE_GONE };

struct sample {
	uint64_t addr, type;
	uint64_t bytes;		/* byte samples: the allocation's size */
	uint32_t site;
	uint32_t state;		/* enum sample_state */
};

struct site {
	struct sites_site pub;
	uint64_t hash;
	struct pystack_frame *frames;
};

struct sites {
	struct sample *samples;
	size_t samples_mask, nsamples, max_samples;
	size_t gone;		/* of nsamples, freed or found dead: room a compaction frees */
	struct site *sites;
	size_t nsites, max_sites;
	uint32_t *site_index;	/* site number + 1; 0 = empty */
	size_t site_mask;
	struct sites_stats stats;
};

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 0x100000001b3ull;
	return h;
}

static size_t addr_slot(uint64_t addr, size_t mask)
{
	return (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> 20) & mask;
}

int sites_new(size_t max_samples, size_t max_sites, struct sites **out)
{
	struct sites *s;

	if (!out)
		return -EINVAL;
	max_samples = max_samples ? max_samples : SITES_DEFAULT_SAMPLES;
	max_sites = max_sites ? max_sites : SITES_DEFAULT_SITES;
	if (max_samples > (1u << 24) || max_sites > (1u << 20))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max_samples = max_samples;
	s->max_sites = max_sites;
	s->samples_mask = pow2_at_least(2 * max_samples) - 1;
	s->site_mask = pow2_at_least(2 * max_sites) - 1;
	s->samples = calloc(s->samples_mask + 1, sizeof(*s->samples));
	s->sites = calloc(max_sites, sizeof(*s->sites));
	s->site_index = calloc(s->site_mask + 1, sizeof(*s->site_index));
	if (!s->samples || !s->sites || !s->site_index) {
		sites_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void sites_free(struct sites *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->sites && i < s->nsites; i++)
		free(s->sites[i].frames);
	free(s->sites);
	free(s->site_index);
	free(s->samples);
	free(s);
}

static uint64_t site_hash(uint64_t type, const struct pystack_frame *f, size_t n, bool truncated)
{
	uint64_t h = mix(0xcbf29ce484222325ull, type);

	for (size_t i = 0; i < n; i++)
		h = mix(mix(h, f[i].code), (uint64_t)(uint32_t)f[i].line);
	return mix(h, truncated);
}

static bool site_is(const struct site *st, uint64_t hash, uint64_t type, const struct pystack_frame *f,
		    size_t n, bool truncated)
{
	if (st->hash != hash || st->pub.type != type || st->pub.nframes != n || st->pub.truncated != truncated)
		return false;
	for (size_t i = 0; i < n; i++)
		if (st->frames[i].code != f[i].code || st->frames[i].line != f[i].line)
			return false;
	return true;
}

/* The site's number, created if new; -ENOSPC when the table is full. */
static long site_find(struct sites *s, uint64_t type, const struct pystack_frame *f, size_t n, bool truncated)
{
	uint64_t h = site_hash(type, f, n, truncated);
	size_t i = (size_t)(h >> 7) & s->site_mask;
	struct site *st;

	for (;; i = (i + 1) & s->site_mask) {
		uint32_t v = s->site_index[i];

		if (!v)
			break;
		if (site_is(&s->sites[v - 1], h, type, f, n, truncated))
			return v - 1;
	}
	if (s->nsites == s->max_sites)
		return -ENOSPC;
	st = &s->sites[s->nsites];
	st->frames = malloc((n ? n : 1) * sizeof(*f));
	if (!st->frames)
		return -ENOMEM;
	memcpy(st->frames, f, n * sizeof(*f));
	st->hash = h;
	st->pub.type = type;
	st->pub.frames = st->frames;
	st->pub.nframes = n;
	st->pub.truncated = truncated;
	s->site_index[i] = (uint32_t)++s->nsites;
	return (long)(s->nsites - 1);
}

static struct sample *sample_find(struct sites *s, uint64_t addr, bool *found)
{
	size_t i = addr_slot(addr, s->samples_mask);

	for (;; i = (i + 1) & s->samples_mask) {
		struct sample *x = &s->samples[i];

		if (x->state == SAMPLE_EMPTY || x->addr == addr) {
			*found = x->state != SAMPLE_EMPTY;
			return x;
		}
	}
}

/* Drops the samples that are gone, rehashing the live ones into a new
 * table: a long trace session frees most of what it sampled, and without
 * this its table filled once and took no sample after. Returns 0 or -ENOMEM
 * (the table is unchanged). */
static int samples_compact(struct sites *s)
{
	struct sample *old = s->samples, *fresh = calloc(s->samples_mask + 1, sizeof(*fresh));
	size_t live = 0;

	if (!fresh)
		return -ENOMEM;
	s->samples = fresh;
	for (size_t i = 0; i <= s->samples_mask; i++) {
		bool found;
		struct sample *x;

		if (old[i].state != SAMPLE_LIVE)
			continue;
		x = sample_find(s, old[i].addr, &found);
		*x = old[i];
		live++;
	}
	free(old);
	s->nsamples = live;
	return 0;
}

static int sample_add(struct sites *s, uint64_t addr, uint64_t type, uint64_t bytes,
		      const struct pystack_frame *frames, size_t n, bool truncated)
{
	struct sample *x;
	bool found;
	long site;

	if (!s || !addr || (n && !frames) || n > LEAKD_MAX_PYFRAMES)
		return -EINVAL;
	/* The table is twice max_samples, so a probe always ends on an empty slot. */
	x = sample_find(s, addr, &found);
	if (!found && s->nsamples == s->max_samples && s->gone && !samples_compact(s)) {
		s->gone = 0;
		x = sample_find(s, addr, &found);
	}
	if (!found && s->nsamples == s->max_samples) {
		s->stats.dropped++;
		return -ENOSPC;
	}
	site = site_find(s, type, frames, n, truncated);
	if (site < 0) {
		s->stats.dropped++;
		return (int)site;
	}
	if (!found)
		s->nsamples++;
	else if (x->state == SAMPLE_GONE)
		s->gone--;
	x->addr = addr;
	x->type = type;
	x->bytes = bytes;
	x->site = (uint32_t)site;
	x->state = SAMPLE_LIVE;
	s->sites[site].pub.sampled++;
	s->stats.samples++;
	return 0;
}

int sites_sample(struct sites *s, uint64_t addr, uint64_t type, const struct pystack_frame *frames,
		  size_t n, bool truncated)
{
	return type ? sample_add(s, addr, type, 0, frames, n, truncated) : -EINVAL;
}

int sites_sample_bytes(struct sites *s, uint64_t addr, uint64_t bytes, const struct pystack_frame *frames,
			size_t n, bool truncated)
{
	return bytes ? sample_add(s, addr, 0, bytes, frames, n, truncated) : -EINVAL;
}

void sites_each_live(const struct sites *s, sites_each_fn fn, void *ctx)
{
	for (size_t i = 0; s && fn && i <= s->samples_mask; i++) {
		const struct sample *x = &s->samples[i];

		if (x->state == SAMPLE_LIVE)
			fn(ctx, x->addr, x->bytes, &s->sites[x->site].pub);
	}
}

struct live_acc {
	const struct sites *s;
	uint64_t mean;
	sites_type_fn type_of;
	void *ctx;
	struct sites_live *rows;	/* one per (type, site) met, unsorted */
	size_t n, cap;
	uint32_t *index;		/* row + 1 by hash of (type, site); 0 = empty */
	size_t mask;
	bool oom;
};

static void live_add(void *ctx, uint64_t addr, uint64_t bytes, const struct sites_site *site)
{
	struct live_acc *a = ctx;
	uint64_t type = bytes ? a->type_of(a->ctx, addr) : 0;
	double p;
	size_t i;

	if (!type || a->oom)
		return;
	i = (size_t)(mix(mix(0xcbf29ce484222325ull, type), (uint64_t)(uintptr_t)site) >> 7) & a->mask;
	for (; a->index[i]; i = (i + 1) & a->mask)
		if (a->rows[a->index[i] - 1].type == type && a->rows[a->index[i] - 1].site == site)
			break;
	if (!a->index[i]) {
		if (a->n == a->cap) {
			a->oom = true;	/* cannot happen: at most one row per sample */
			return;
		}
		a->rows[a->n] = (struct sites_live){ .type = type, .site = site };
		a->index[i] = (uint32_t)++a->n;
	}
	p = -expm1(-(double)bytes / (double)a->mean);
	a->rows[a->index[i] - 1].samples++;
	a->rows[a->index[i] - 1].objects += 1.0 / p;
	a->rows[a->index[i] - 1].bytes += (double)bytes / p;
}

static int live_cmp(const void *x, const void *y)
{
	const struct sites_live *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->samples < b->samples ? 1 : a->samples > b->samples ? -1 : 0;
}

long sites_live_by_type(const struct sites *s, uint64_t mean, sites_type_fn type_of, void *ctx,
			 struct sites_live *out, size_t cap)
{
	struct live_acc a = { .s = s, .mean = mean, .type_of = type_of, .ctx = ctx };

	if (!s || !mean || !type_of || (!out && cap))
		return -EINVAL;
	a.cap = s->nsamples ? s->nsamples : 1;
	a.mask = pow2_at_least(2 * a.cap) - 1;
	a.rows = calloc(a.cap, sizeof(*a.rows));
	a.index = calloc(a.mask + 1, sizeof(*a.index));
	if (!a.rows || !a.index) {
		free(a.rows);
		free(a.index);
		return -ENOMEM;
	}
	sites_each_live(s, live_add, &a);
	qsort(a.rows, a.n, sizeof(*a.rows), live_cmp);
	if (a.n > cap)
		a.n = cap;
	if (a.n)
		memcpy(out, a.rows, a.n * sizeof(*out));
	free(a.rows);
	free(a.index);
	return (long)a.n;
}

void sites_freed(struct sites *s, uint64_t addr)
{
	struct sample *x;
	bool found;

	if (!s || !addr)
		return;
	x = sample_find(s, addr, &found);
	if (found && x->state == SAMPLE_LIVE) {
		x->state = SAMPLE_GONE;
		s->stats.freed++;
		s->gone++;
	}
}

long sites_check(struct sites *s, sites_alive_fn alive, void *ctx)
{
	long survivors = 0;

	if (!s || !alive)
		return -EINVAL;
	for (size_t i = 0; i < s->nsites; i++)
		s->sites[i].pub.surviving = 0;
	for (size_t i = 0; i <= s->samples_mask; i++) {
		struct sample *x = &s->samples[i];
		int r;

		if (x->state != SAMPLE_LIVE)
			continue;
		r = alive(ctx, x->addr, x->type);
		if (r < 0)
			return r;
		if (r) {
			s->sites[x->site].pub.surviving++;
			survivors++;
		} else {
			x->state = SAMPLE_GONE;
			s->gone++;
		}
	}
	return survivors;
}

static int site_cmp(const void *a, const void *b)
{
	const struct sites_site *x = *(const struct sites_site *const *)a;
	const struct sites_site *y = *(const struct sites_site *const *)b;

	if (x->surviving != y->surviving)
		return x->surviving < y->surviving ? 1 : -1;
	if (x->sampled != y->sampled)
		return x->sampled < y->sampled ? 1 : -1;
	return 0;
}

size_t sites_ranked(const struct sites *s, uint64_t type, struct sites_site *out, size_t cap)
{
	const struct sites_site **order;
	size_t n = 0;

	if (!s || !out || !cap)
		return 0;
	order = malloc((s->nsites ? s->nsites : 1) * sizeof(*order));
	if (!order)
		return 0;
	for (size_t i = 0; i < s->nsites; i++) {
		const struct sites_site *p = &s->sites[i].pub;

		if (p->surviving && (!type || p->type == type))
			order[n++] = p;
	}
	qsort(order, n, sizeof(*order), site_cmp);
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		out[i] = *order[i];
	free(order);
	return n;
}

void sites_stats(const struct sites *s, struct sites_stats *out)
{
	if (s && out)
		*out = s->stats;
}

int sites_alive(const struct memreader *m, const struct pylayout *l, uint64_t addr, uint64_t type)
{
	uint64_t hdr[2];
	uint8_t buf[32];
	int err;

	if (!m || !l || l->ob_type + 8 > sizeof(buf))
		return -EINVAL;
	err = memreader_read(m, addr, buf, l->ob_type + 8);
	if (err == -EFAULT)
		return 0;	/* unmapped: the arena went back to the system */
	if (err < 0)
		return err;
	memcpy(&hdr[0], buf, 8);		/* ob_refcnt */
	memcpy(&hdr[1], buf + l->ob_type, 8);
	/* Only the low 32 bits: 3.14 keeps ob_overflow/ob_flags in the upper
	 * half of the word, and no live count reaches 2^32 (3.12+ immortals
	 * have low bits set too). */
	return (uint32_t)hdr[0] != 0 && hdr[1] == type;
}

void sites_report_site(struct report_site *out, struct report_frame *frames, const struct sites_site *s,
		       const char *type)
{
	for (size_t f = 0; f < s->nframes && f < LEAKD_MAX_PYFRAMES; f++)
		frames[f] = (struct report_frame){
			.file = s->frames[f].filename,
			.line = s->frames[f].line,
			.function = s->frames[f].qualname,
		};
	*out = (struct report_site){
		.type = type,
		.frames = frames,
		.n_frames = s->nframes < LEAKD_MAX_PYFRAMES ? s->nframes : LEAKD_MAX_PYFRAMES,
		.truncated = s->truncated,
		.sampled = s->sampled,
		.surviving = s->surviving,
	};
}
