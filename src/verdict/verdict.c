/* SPDX-License-Identifier: MIT */
/*
 * verdict: from an agg's series to the summary's "growth" object (see
 * include/leakd/verdict/verdict.h).
 *
 * Responsible for choosing which detector results matter and saying so in
 * one sentence. The process total leads (live objects, then live bytes);
 * open fds are a separate kind of leak with a separate remedy, so they get
 * their own clause; per-type results name the culprit. When nothing leaks,
 * the sentence says why not in the detector's terms (plateau, no trend, too
 * small, too few samples), so a person knows whether to wait or to relax.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/human.h"
#include "leakd/verdict/series.h"
#include "leakd/verdict/verdict.h"

/* Smallest sustained rise of open descriptors that counts as a leak. */
#define VERDICT_FDS_MIN_RISE 8.0
/* Smallest sustained rise of one type's bytes: a dict resize or a few
 * buffers are not a leak, 64 KiB that stay are worth a look. */
#define VERDICT_TYPE_BYTES_MIN_RISE (64.0 * 1024)
/* Memory outside Python objects moves with allocator retention and
 * fragmentation: a leak there has to be larger to stand out. */
#define VERDICT_NATIVE_MIN_RISE (2.0 * 1024 * 1024)

#define VERDICT_REASON_TYPES	3	/* types named in the reason */

struct verdict_sb {
	char *b;
	size_t len, pos;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct verdict_sb *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (sb->pos + 1 >= sb->len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(sb->b + sb->pos, sb->len - sb->pos, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	sb->pos += (size_t)r;
	if (sb->pos >= sb->len)
		sb->pos = sb->len - 1;	/* truncated: keep what fits */
}

/* Runs the detector on buf[0..n) and records the raw ends. */
static int verdict_signal_run(const struct detect_point *buf, size_t n,
			      const struct detect_params *p, struct verdict_signal *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->first = out->last = NAN;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(buf[i].t) || !isfinite(buf[i].v))
			continue;
		if (!out->n_points)
			out->first = buf[i].v;
		out->last = buf[i].v;
		out->n_points++;
	}
	r = detect_growth(buf, n, p, &out->r);
	return r < 0 ? r : 0;
}

enum verdict_field { VF_OBJECTS, VF_BYTES, VF_FDS, VF_NATIVE };

static size_t verdict_extract(const struct series_point *pts, size_t n, enum verdict_field f,
			      struct detect_point *buf)
{
	for (size_t i = 0; i < n; i++) {
		buf[i].t = pts[i].t;
		buf[i].v = f == VF_OBJECTS ? pts[i].objects : f == VF_BYTES ? pts[i].bytes :
			   f == VF_FDS ? pts[i].fds : pts[i].native;
	}
	return n;
}

/*
 * The builtin types that a leak's objects are made of. When instances of a
 * class leak, their attributes (str, int, dict...) grow at the same rate;
 * the class is what a person can find in their code, so among leaking types
 * it comes first. Static type names cannot collide with a class's: those
 * carry their module ("__main__.str").
 */
static bool verdict_is_builtin_content(const char *name)
{
	static const char *const names[] = { "str", "int", "float", "bytes", "bytearray", "tuple", "dict",
					     "list", "set", "frozenset", "bool", "complex", "cell", "method",
					     "function", "weakref.ReferenceType" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static int verdict_type_cmp(const void *x, const void *y)
{
	const struct report_type_row *a = x, *b = y;
	double ga = isfinite(a->growth_per_s) ? a->growth_per_s : -INFINITY;
	double gb = isfinite(b->growth_per_s) ? b->growth_per_s : -INFINITY;

	if (a->leak != b->leak)
		return a->leak ? -1 : 1;
	if (a->leak) {
		bool ca = verdict_is_builtin_content(a->type), cb = verdict_is_builtin_content(b->type);

		if (ca != cb)
			return ca ? 1 : -1;
	}
	if (ga != gb)
		return ga > gb ? -1 : 1;
	if (a->live_objects != b->live_objects)
		return a->live_objects > b->live_objects ? -1 : 1;
	return strcmp(a->type, b->type);
}

/*
 * The best one-sided Mann-Kendall confidence k floor windows can ever give
 * (all pairs rising, no ties, continuity-corrected normal approximation, as
 * the detector computes it). With the defaults, 5 windows top out at 0.986,
 * below the 0.99 needed: a series can be too short to judge even when the
 * detector did not say "too few points".
 */
static double verdict_mk_max_conf(size_t k)
{
	double n = (double)k, s = n * (n - 1) / 2, var = n * (n - 1) * (2 * n + 5) / 18;

	if (k < 2)
		return 0;
	return 0.5 * erfc(-((s - 1) / sqrt(var)) / sqrt(2.0));
}

/* The fewest floor windows that can reach p->min_confidence. */
static size_t verdict_windows_needed(const struct detect_params *p)
{
	size_t k;

	for (k = p->min_windows; k < p->max_windows; k++)
		if (verdict_mk_max_conf(k) >= p->min_confidence)
			break;
	return k;
}

/*
 * About how many samples the detector needs before it can judge: enough
 * points after warm-up (max(warmup_s, warmup_frac of the span)) for the
 * windows above, at about 2.5 points per window as src/verdict/detect.c cuts them,
 * at the sampling interval seen so far (1 s if unknown).
 */
static size_t verdict_points_needed(const struct verdict_signal *s, const struct detect_params *p,
				    double span_all)
{
	double dt = (s->n_points >= 2 && span_all > 0) ? span_all / (double)(s->n_points - 1) : 1.0;
	size_t after = (verdict_windows_needed(p) * 5 + 1) / 2;

	if (after < p->min_windows)
		after = p->min_windows;
	if (after < p->min_points)
		after = p->min_points;
	for (size_t n = after; n < 1000000; n++) {
		double span = dt * (double)(n - 1);
		double warm = fmax(p->warmup_s, p->warmup_frac * span);
		size_t dropped = (size_t)ceil(warm / dt - 1e-9);

		if (n > dropped && n - dropped >= after)
			return n;
	}
	return after;
}

static void verdict_type_list(struct verdict_sb *sb, const struct verdict *v, size_t max)
{
	char r[48];

	for (size_t i = 0; i < v->n_leaking_types && i < max; i++) {
		const struct report_type_row *t = &v->types[i];

		/* a type that grows in bytes more than in count (one list that
		 * keeps growing) is named by its bytes */
		if (isfinite(t->bytes_per_s) && (!isfinite(t->growth_per_s) || t->growth_per_s < 1))
			sb_printf(sb, "%s%s %s%s/s", i ? ", " : "", t->type, t->bytes_per_s >= 0 ? "+" : "",
				  human_bytes(r, sizeof(r), t->bytes_per_s));
		else
			sb_printf(sb, "%s%s %s/s", i ? ", " : "", t->type,
				  human_rate(r, sizeof(r), t->growth_per_s));
	}
	if (v->n_leaking_types > max)
		sb_printf(sb, " and %zu more", v->n_leaking_types - max);
}

static void verdict_fds_clause(struct verdict_sb *sb, const struct verdict_signal *s)
{
	char a[32], b[32], r[48];

	sb_printf(sb, "open file descriptors grew %s -> %s (%s/s) over %.0f s: "
		  "files or sockets are opened and never closed",
		  human_count(a, sizeof(a), s->r.floor_first),
		  human_count(b, sizeof(b), s->r.floor_last),
		  human_rate(r, sizeof(r), s->r.slope_per_s), s->r.span_s);
}

/* The process total leads: live objects, else live bytes (objects growing
 * in size), then the types that grow and any descriptor leak. */
static void verdict_reason_total(struct verdict_sb *sb, const struct verdict *v)
{
	const struct verdict_signal *o = &v->objects, *by = &v->bytes, *fd = &v->fds;
	char a[32], b[32], r[48];

	if (o->r.leak) {
		sb_printf(sb, "live objects grew %s -> %s (%s/s, confidence %.2f) over %.0f s after warm-up",
			  human_count(a, sizeof(a), o->r.floor_first),
			  human_count(b, sizeof(b), o->r.floor_last),
			  human_rate(r, sizeof(r), o->r.slope_per_s),
			  o->r.confidence, o->r.span_s);
		if (by->r.leak)
			sb_printf(sb, ", live bytes %s%s/s", by->r.slope_per_s >= 0 ? "+" : "",
				  human_bytes(r, sizeof(r), by->r.slope_per_s));
	} else {
		sb_printf(sb, "live bytes grew %s -> %s (%s%s/s, confidence %.2f) over %.0f s "
			  "while the object count did not: objects are growing in size",
			  human_bytes(a, sizeof(a), by->r.floor_first),
			  human_bytes(b, sizeof(b), by->r.floor_last),
			  by->r.slope_per_s >= 0 ? "+" : "",
			  human_bytes(r, sizeof(r), by->r.slope_per_s),
			  by->r.confidence, by->r.span_s);
	}
	if (v->n_leaking_types) {
		sb_printf(sb, "; growing types: ");
		verdict_type_list(sb, v, VERDICT_REASON_TYPES);
	}
	if (fd->r.leak) {
		sb_printf(sb, "; also ");
		verdict_fds_clause(sb, fd);
	}
}

/* Python objects flat, the rest of the heap rising: the remedy is outside
 * Python code, so the sentence says where to look. */
static void verdict_reason_native(struct verdict_sb *sb, const struct verdict *v)
{
	const struct verdict_signal *nat = &v->native;
	char a[32], b[32], r[48];

	sb_printf(sb, "Python objects are flat, but memory outside them grew %s -> %s (%s%s/s, "
		  "confidence %.2f) over %.0f s: native code (a C extension or library) or allocator "
		  "retention",
		  human_bytes(a, sizeof(a), nat->r.floor_first),
		  human_bytes(b, sizeof(b), nat->r.floor_last),
		  nat->r.slope_per_s >= 0 ? "+" : "",
		  human_bytes(r, sizeof(r), nat->r.slope_per_s), nat->r.confidence,
		  nat->r.span_s);
	if (v->fds.r.leak) {
		sb_printf(sb, "; also ");
		verdict_fds_clause(sb, &v->fds);
	}
}

/* Nothing leaks: why not, in the detector's terms for the object count, so
 * a person knows whether to wait (too few samples) or to relax. */
static void verdict_reason_none(struct verdict_sb *sb, const struct verdict_signal *o,
				const struct detect_params *p, double span_all)
{
	enum detect_verdict verdict_kind = o->r.verdict;
	char a[32], b[32];

	if (verdict_kind == DETECT_NO_TREND &&
	    verdict_mk_max_conf(o->r.windows) < p->min_confidence)
		verdict_kind = DETECT_TOO_FEW_POINTS;	/* could not have said yes */
	switch (verdict_kind) {
	case DETECT_TOO_FEW_POINTS: {
		size_t need = verdict_points_needed(o, p, span_all);

		/* the estimate assumes evenly spaced points; a census period the
		 * pause budget stretched leaves fewer after the warm-up */
		if (need > o->n_points)
			sb_printf(sb, "not enough samples yet (%zu of %zu needed)", o->n_points, need);
		else
			sb_printf(sb, "not enough samples yet (%zu, too few after the warm-up)", o->n_points);
		break;
	}
	case DETECT_PLATEAU:
		sb_printf(sb, "no sustained growth: live objects plateaued at ~%s after warm-up",
			  human_count(a, sizeof(a), o->r.floor_last));
		break;
	case DETECT_TOO_SMALL:
		sb_printf(sb, "no sustained growth: live objects rose only %s -> %s over %.0f s, "
			  "below the leak threshold",
			  human_count(a, sizeof(a), o->r.floor_first),
			  human_count(b, sizeof(b), o->r.floor_last), o->r.span_s);
		break;
	case DETECT_NO_TREND:
	case DETECT_LEAK:	/* not reached: handled above */
		sb_printf(sb, "no sustained growth: live objects stayed around ~%s over %.0f s "
			  "(floor trend confidence %.2f)",
			  human_count(a, sizeof(a), o->r.floor_last), o->r.span_s,
			  o->r.confidence);
		break;
	}
}

/* The one sentence. What leads: the process total, else memory outside
 * Python objects, else open descriptors, else types growing alone; when
 * nothing leaks, why not. */
static void verdict_reason(struct verdict *v, const struct detect_params *p, double span_all)
{
	struct verdict_sb sb = { .b = v->growth.reason, .len = sizeof(v->growth.reason) };
	const struct verdict_signal *o = &v->objects, *fd = &v->fds;

	sb.b[0] = '\0';
	if (o->r.leak || v->bytes.r.leak) {
		verdict_reason_total(&sb, v);
		return;
	}
	if (v->native.r.leak) {
		verdict_reason_native(&sb, v);
		return;
	}
	if (fd->r.leak) {
		verdict_fds_clause(&sb, fd);
		if (v->n_leaking_types) {
			sb_printf(&sb, "; growing types: ");
			verdict_type_list(&sb, v, VERDICT_REASON_TYPES);
		}
		return;
	}
	if (v->n_leaking_types) {
		sb_printf(&sb, "some types grew while the process total did not: ");
		verdict_type_list(&sb, v, VERDICT_REASON_TYPES);
		sb_printf(&sb, " over %.0f s", o->r.span_s > 0 ? o->r.span_s : span_all);
		return;
	}
	verdict_reason_none(&sb, o, p, span_all);
}

/* The four process-wide signals, each with the smallest rise that counts
 * for it. Returns 0 or -errno. */
static int verdict_run_totals(const struct series_point *pts, size_t n,
			      const struct detect_params *p, struct detect_point *buf,
			      struct verdict *v)
{
	/* Descriptors are small counts: a few dozen held for good is already
	 * a leak, where 64 objects would be noise. */
	struct detect_params fp = *p, np = *p;
	int err;

	err = verdict_signal_run(buf, verdict_extract(pts, n, VF_OBJECTS, buf), p, &v->objects);
	if (!err)
		err = verdict_signal_run(buf, verdict_extract(pts, n, VF_BYTES, buf), p, &v->bytes);
	if (!err) {
		if (fp.min_rise_abs > VERDICT_FDS_MIN_RISE)
			fp.min_rise_abs = VERDICT_FDS_MIN_RISE;
		err = verdict_signal_run(buf, verdict_extract(pts, n, VF_FDS, buf), &fp, &v->fds);
	}
	if (!err) {
		if (np.min_rise_abs < VERDICT_NATIVE_MIN_RISE)
			np.min_rise_abs = VERDICT_NATIVE_MIN_RISE;
		err = verdict_signal_run(buf, verdict_extract(pts, n, VF_NATIVE, buf), &np, &v->native);
	}
	return err;
}

/*
 * One type's row, judged on its count and on its bytes (one list of ten
 * million entries stays one object). When no process total grows
 * (total_leak false), a type's rise alone makes the verdict, and its count
 * must then grow past the young generations: garbage waits there for the
 * next collection (cycles made faster than a young collection reclaims them
 * lift a type's floor for as long as the run), and a leak's objects leave
 * them within a collection or two.
 * Returns 0 with *row filled (and *conf, the leaking signal's confidence,
 * when row->leak), 1 when the series has no type i, or -errno.
 */
static int verdict_type_row(const struct series *ser, size_t i, const struct detect_params *p,
			    bool total_leak, struct detect_point *buf,
			    struct report_type_row *row, double *conf)
{
	struct verdict_signal s, sb, so;
	struct detect_params bp = *p;
	struct series_type_info ti;
	int err;

	if (series_type(ser, i, &ti))
		return 1;
	for (size_t k = 0; k < ti.n; k++)
		buf[k] = (struct detect_point){ .t = ti.pts[k].t, .v = ti.pts[k].objects };
	err = verdict_signal_run(buf, ti.n, p, &s);
	if (!err && !total_leak && s.r.leak) {
		for (size_t k = 0; k < ti.n; k++)
			buf[k].v = ti.pts[k].settled;
		err = verdict_signal_run(buf, ti.n, p, &so);
		s.r.leak = so.r.leak;
		s.r.confidence = so.r.confidence;
	}
	if (err)
		return err;
	if (bp.min_rise_abs < VERDICT_TYPE_BYTES_MIN_RISE)
		bp.min_rise_abs = VERDICT_TYPE_BYTES_MIN_RISE;
	for (size_t k = 0; k < ti.n; k++)
		buf[k] = (struct detect_point){ .t = ti.pts[k].t, .v = ti.pts[k].bytes };
	err = verdict_signal_run(buf, ti.n, &bp, &sb);
	if (err)
		return err;
	snprintf(row->type, sizeof(row->type), "%s", ti.name);
	row->live_objects = ti.last_objects;
	row->live_bytes = ti.last_bytes;
	row->growth_per_s = s.r.verdict == DETECT_TOO_FEW_POINTS ? NAN : s.r.slope_per_s;
	row->bytes_per_s = sb.r.verdict == DETECT_TOO_FEW_POINTS ? NAN : sb.r.slope_per_s;
	row->leak = s.r.leak || sb.r.leak;
	if (row->leak)
		*conf = s.r.leak ? s.r.confidence : sb.r.confidence;
	return 0;
}

/* Every type's row into v->types, leaking ones first (verdict_type_cmp);
 * *best_conf is the strongest leaking type's confidence, left alone when
 * none leaks. Returns 0 or -errno. */
static int verdict_run_types(const struct series *ser, const struct detect_params *p,
			     struct detect_point *buf, struct verdict *v, double *best_conf)
{
	size_t n_types = series_n_types(ser);
	bool total_leak = v->objects.r.leak || v->bytes.r.leak || v->fds.r.leak || v->native.r.leak;

	for (size_t i = 0; i < n_types; i++) {
		double conf = -1;
		int err = verdict_type_row(ser, i, p, total_leak, buf, &v->types[v->n_types], &conf);

		if (err > 0)
			continue;
		if (err)
			return err;
		if (v->types[v->n_types].leak) {
			v->n_leaking_types++;
			if (conf > *best_conf)
				*best_conf = conf;
		}
		v->n_types++;
	}
	if (v->n_types)
		qsort(v->types, v->n_types, sizeof(*v->types), verdict_type_cmp);
	return 0;
}

/* The summary's growth object; best_conf is the strongest leaking type's
 * confidence (-1 when none leaks). */
static void verdict_growth(struct verdict *v, double best_conf)
{
	v->growth.leak = v->objects.r.leak || v->bytes.r.leak || v->fds.r.leak || v->native.r.leak ||
			 v->n_leaking_types;
	v->growth.objects_per_s = v->objects.r.slope_per_s;
	v->growth.bytes_per_s = v->bytes.r.slope_per_s;
	/* the strongest leaking signal's confidence; the process total's otherwise */
	if (v->objects.r.leak && v->objects.r.confidence > best_conf)
		best_conf = v->objects.r.confidence;
	if (v->bytes.r.leak && v->bytes.r.confidence > best_conf)
		best_conf = v->bytes.r.confidence;
	if (v->fds.r.leak && v->fds.r.confidence > best_conf)
		best_conf = v->fds.r.confidence;
	if (v->native.r.leak && v->native.r.confidence > best_conf)
		best_conf = v->native.r.confidence;
	v->growth.confidence = v->growth.leak ? best_conf : v->objects.r.confidence;
}

int verdict_compute(const struct series *ser, const struct detect_params *p, struct verdict *out)
{
	struct detect_params defaults;
	struct verdict v;
	const struct series_point *pts = NULL;
	struct detect_point *buf = NULL;
	size_t n, cap, n_types;
	double span_all = 0, best_conf = -1;
	int err = 0;

	if (!ser || !out)
		return -EINVAL;
	if (!p) {
		detect_params_default(&defaults);
		p = &defaults;
	}
	memset(&v, 0, sizeof(v));

	n = series_points(ser, &pts);
	cap = n;
	n_types = series_n_types(ser);
	for (size_t i = 0; i < n_types; i++) {
		struct series_type_info ti;

		if (!series_type(ser, i, &ti) && ti.n > cap)
			cap = ti.n;
	}
	if (cap) {
		buf = malloc(cap * sizeof(*buf));
		if (!buf) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	if (n_types) {
		v.types = calloc(n_types, sizeof(*v.types));
		if (!v.types) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	if (n >= 2)
		span_all = pts[n - 1].t - pts[0].t;

	err = verdict_run_totals(pts, n, p, buf, &v);
	if (err)
		goto cleanup;
	err = verdict_run_types(ser, p, buf, &v, &best_conf);
	if (err)
		goto cleanup;
	verdict_growth(&v, best_conf);
	verdict_reason(&v, p, span_all);

	*out = v;
	v.types = NULL;
cleanup:
	free(v.types);
	free(buf);
	return err;
}

static int verdict_container_cmp(const void *x, const void *y)
{
	const struct verdict_container *a = x, *b = y;

	return (a->items_per_s < b->items_per_s) - (a->items_per_s > b->items_per_s);
}

void verdict_add_containers(struct verdict *v, const struct verdict_container *c, size_t n)
{
	struct verdict_sb sb = { .b = v->growth.reason, .len = sizeof(v->growth.reason) };
	struct verdict_container sorted[16];
	size_t k = 0;
	char r[48];

	if (!v->growth.leak)
		return;
	for (size_t i = 0; i < n && k < 16; i++)
		if (c[i].type && isfinite(c[i].items_per_s) && c[i].items_per_s > 0)
			sorted[k++] = c[i];
	if (!k)
		return;
	qsort(sorted, k, sizeof(sorted[0]), verdict_container_cmp);
	sb.pos = strlen(sb.b);
	sb_printf(&sb, "; growing container%s: ", k > 1 ? "s" : "");
	for (size_t i = 0; i < k && i < 3; i++) {
		sb_printf(&sb, "%s%s (1 object) %s items/s", i ? "; " : "", sorted[i].type,
			  human_rate(r, sizeof(r), sorted[i].items_per_s));
		for (int j = 0; j < 3 && sorted[i].held[j]; j++)
			sb_printf(&sb, "%s%s", j ? ", " : ", holding ", sorted[i].held[j]);
	}
}

void verdict_clear(struct verdict *v)
{
	if (!v)
		return;
	free(v->types);
	memset(v, 0, sizeof(*v));
}
