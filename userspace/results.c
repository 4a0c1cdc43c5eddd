// SPDX-License-Identifier: GPL-2.0
/* results.json: loading, validation and merging (see results.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claims.h"
#include "json.h"
#include "results.h"
#include "xptilab.h"

#ifndef XPTILAB_VERSION
#define XPTILAB_VERSION "unknown"
#endif

/* Every machine object has these (info_json() writes them all). */
static const struct {
	const char *key;
	enum jv_type type;
} machine_fields[] = {
	{ "cpu_model", JV_STR },
	{ "kernel", JV_STR },
	{ "cpus", JV_NUM },
	{ "paging_levels", JV_NUM },
	{ "pti", JV_BOOL },
	{ "pcid", JV_BOOL },
	{ "emulated", JV_BOOL },
};

static const char *const stats_fields[] = {
	"n", "min", "median", "p90", "p99", "max", "mean", "stddev",
};

static const char *const count_fields[] = {
	"race_hits", "entries", "hits_per_million",
};

struct vctx {
	const char *path;
	char where[128];
};

static int bad(const struct vctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(const struct vctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xptilab_err("%s: %s%s%s; refused", c->path, c->where,
		    *c->where ? ": " : "", msg);
	return -1;
}

/* The member key of type t (JV_NULL also allowed when nullable). */
static const struct jv *need(const struct vctx *c, const struct jv *obj,
			     const char *key, enum jv_type t, bool nullable)
{
	const struct jv *v = jv_get(obj, key);

	if (!v) {
		bad(c, "missing required field \"%s\"", key);
		return NULL;
	}
	if (v->type != t && !(nullable && v->type == JV_NULL)) {
		bad(c, "field \"%s\" is %s, not %s%s", key, jv_type_name(v->type),
		    jv_type_name(t), nullable ? " or null" : "");
		return NULL;
	}
	return v;
}

double jv_num(const struct jv *obj, const char *key)
{
	const struct jv *v = jv_get(obj, key);

	return v && v->type == JV_NUM ? v->num : NAN;
}

static int check_machine(struct vctx *c, const struct jv *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(machine_fields); i++)
		if (!need(c, m, machine_fields[i].key, machine_fields[i].type, false))
			return -1;
	return 0;
}

static int load_guest(struct vctx *c, const struct jv *obj, const char *label,
		      struct guest *g)
{
	const struct jv *m = need(c, obj, "machine", JV_OBJ, false);
	const struct jv *numa = need(c, m ? obj : NULL, "numa", JV_OBJ, false);
	const struct jv *ex = jv_get(obj, "experiments");
	size_t len = strlen(c->where);

	if (!m || !numa)
		return -1;
	snprintf(c->where + len, sizeof(c->where) - len, "%smachine",
		 len ? "." : "");
	if (check_machine(c, m))
		return -1;
	c->where[len] = '\0';
	if (ex && ex->type != JV_OBJ)
		return bad(c, "field \"experiments\" is %s, not an object",
			   jv_type_name(ex->type));
	g->label = label;
	g->machine = m;
	g->numa = numa;
	g->experiments = ex;
	return 0;
}

/* "k=v k=v" with the keys in ascending order, so files compare equal. */
static int params_text(struct vctx *c, const struct jv *p, char *buf,
		       size_t len)
{
	const char *last = "";
	size_t off = 0;

	buf[0] = '\0';
	if (!p)
		return 0;
	if (p->type != JV_OBJ)
		return bad(c, "field \"params\" is %s, not an object",
			   jv_type_name(p->type));
	for (size_t k = 0; k < p->n; k++) {
		const char *next = NULL;
		const struct jv *v = NULL;
		char val[64];

		for (size_t i = 0; i < p->n; i++)
			if (strcmp(p->keys[i], last) > 0 &&
			    (!next || strcmp(p->keys[i], next) < 0)) {
				next = p->keys[i];
				v = &p->items[i];
			}
		if (v->type == JV_NUM)
			snprintf(val, sizeof(val), "%.15g", v->num);
		else if (v->type == JV_STR)
			snprintf(val, sizeof(val), "%s", v->str);
		else
			return bad(c, "params.%s is %s, not a number or a string",
				   next, jv_type_name(v->type));
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s=%s",
				off ? " " : "", next, val);
		last = next;
	}
	if (off >= len)
		return bad(c, "field \"params\" is too long");
	return 0;
}

/* "blocks" of a record measured in rounds (schema 2); none is fine. */
static int load_blocks(struct vctx *c, const struct jv *o, struct rec *r)
{
	const struct jv *b = jv_get(o, "blocks");

	if (!b)
		return 0;
	if (b->type != JV_ARR)
		return bad(c, "field \"blocks\" is %s, not an array", jv_type_name(b->type));
	r->bround = calloc(b->n ? b->n : 1, sizeof(double));
	r->bmed = calloc(b->n ? b->n : 1, sizeof(double));
	r->bp10 = calloc(b->n ? b->n : 1, sizeof(double));
	if (!r->bround || !r->bmed || !r->bp10)
		return bad(c, "out of memory");
	for (size_t i = 0; i < b->n; i++) {
		const struct jv *k = &b->items[i];
		double rd = jv_num(k, "round"), md = jv_num(k, "median");
		double p10 = jv_num(k, "p10");

		if (k->type != JV_OBJ || isnan(rd) || isnan(md) || isnan(p10))
			return bad(c, "blocks[%zu] lacks a number \"round\", \"median\" or \"p10\"", i);
		r->bround[i] = rd;
		r->bmed[i] = md;
		r->bp10[i] = p10;
	}
	r->nblocks = b->n;
	return 0;
}

static int cmp_u64p(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Recompute every block's median and p10 from the raw samples file an
 * experiment names ("samples"), when it is there: the numbers in
 * results.json are then checked, not trusted. Lines: "EXP RECORD VARIANT
 * ROUND POS N V1..VN", RECORD the index among the experiment's records. A
 * missing file leaves the JSON's block statistics.
 */
static int load_samples(struct results *res, size_t g, const char *exp,
			const char *name)
{
	char path[4096], *line = NULL, *slash;
	size_t cap = 0, nv = 0;
	uint64_t *v = NULL;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s", res->path);
	slash = strrchr(path, '/');
	if (slash)
		slash[1] = '\0';
	else
		path[0] = '\0';
	if (res->combined)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s/%s",
			 res->guests[g].label, name);
	else
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		char e[32], var[64];
		unsigned int round, pos;
		size_t n, idx, seen = 0;
		int off;
		char *p;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%31s %zu %63s %u %u %zu%n", e, &idx, var, &round, &pos,
			   &n, &off) != 6 || strcmp(e, exp))
			continue;
		if (n > nv) {
			uint64_t *t = realloc(v, n * sizeof(*v));

			if (!t) {
				ret = -1;
				break;
			}
			v = t;
			nv = n;
		}
		p = line + off;
		for (size_t i = 0; i < n; i++) {
			char *end;

			v[i] = strtoull(p, &end, 10);
			if (end == p) {
				xptilab_err("%s: %s %s round %u: %zu samples announced, fewer found",
					    path, e, var, round, n);
				ret = -1;
				goto out;
			}
			p = end;
		}
		qsort(v, n, sizeof(*v), cmp_u64p);
		/* the idx-th record of this experiment in this guest */
		for (size_t i = 0; i < res->nrecs; i++) {
			struct rec *r = &res->recs[i];

			if (r->guest != g || strcmp(r->experiment, exp))
				continue;
			if (seen++ != idx || strcmp(r->variant, var))
				continue;
			for (size_t b = 0; b < r->nblocks; b++) {
				if (r->bround[b] != round || !n)
					continue;
				/* nearest rank, as stats.c */
				r->bmed[b] = v[(n + 1) / 2 - 1];
				r->bp10[b] = v[(n * 10 + 99) / 100 - 1];
				r->from_samples = true;
			}
		}
	}
out:
	free(line);
	free(v);
	fclose(f);
	return ret;
}

static int load_all_samples(struct results *res)
{
	for (size_t g = 0; g < res->nguests; g++) {
		const struct jv *ex = res->guests[g].experiments;

		for (size_t k = 0; ex && k < ex->n; k++) {
			const struct jv *s = jv_get(&ex->items[k], "samples");

			if (s && s->type == JV_STR &&
			    load_samples(res, g, ex->keys[k], s->str))
				return -1;
		}
	}
	return 0;
}

static int load_record(struct results *res, struct vctx *c, size_t i,
		       const struct jv *o, struct rec *r)
{
	const struct jv *v;

	snprintf(c->where, sizeof(c->where), "records[%zu]", i);
	if (o->type != JV_OBJ)
		return bad(c, "is %s, not an object", jv_type_name(o->type));
	r->obj = o;
	v = need(c, o, "experiment", JV_STR, false);
	if (!v)
		return -1;
	r->experiment = v->str;
	v = need(c, o, "variant", JV_STR, false);
	if (!v)
		return -1;
	r->variant = v->str;
	snprintf(c->where, sizeof(c->where), "records[%zu] (%s %s)", i,
		 r->experiment, r->variant);
	if (res->combined) {
		v = need(c, o, "guest", JV_STR, false);
		if (!v)
			return -1;
		for (r->guest = 0; r->guest < res->nguests; r->guest++)
			if (!strcmp(res->guests[r->guest].label, v->str))
				break;
		if (r->guest == res->nguests)
			return bad(c, "guest \"%s\" is not in \"guests\"", v->str);
	}
	v = need(c, o, "skipped", JV_BOOL, false);
	if (!v)
		return -1;
	r->cr3_writes = r->global_flushes = NAN;
	r->n = r->min = r->median = r->p90 = r->p99 = r->max = NAN;
	r->mean = r->stddev = NAN;
	r->race_hits = r->entries = r->hits_per_million = NAN;
	r->params = jv_get(o, "params");
	if (params_text(c, r->params, r->params_text, sizeof(r->params_text)))
		return -1;
	if (v->b) {
		r->kind = REC_SKIPPED;
		v = need(c, o, "reason", JV_STR, false);
		if (!v)
			return -1;
		r->reason = v->str;
		v = jv_get(o, "unit");
		r->unit = v && v->type == JV_STR ? v->str : "";
		return 0;
	}
	v = need(c, o, "unit", JV_STR, false);
	if (!v)
		return -1;
	r->unit = v->str;
	if (!need(c, o, "cr3_writes", JV_NUM, true) ||
	    !need(c, o, "global_flushes", JV_NUM, true))
		return -1;
	r->cr3_writes = jv_num(o, "cr3_writes");
	r->global_flushes = jv_num(o, "global_flushes");
	if (!strcmp(r->experiment, "race")) {
		r->kind = REC_COUNTS;
		for (size_t k = 0; k < ARRAY_SIZE(count_fields); k++)
			if (!need(c, o, count_fields[k], JV_NUM, false))
				return -1;
		r->race_hits = jv_num(o, "race_hits");
		r->entries = jv_num(o, "entries");
		r->hits_per_million = jv_num(o, "hits_per_million");
		return 0;
	}
	r->kind = REC_STATS;
	for (size_t k = 0; k < ARRAY_SIZE(stats_fields); k++)
		if (!need(c, o, stats_fields[k], JV_NUM, false))
			return -1;
	r->n = jv_num(o, "n");
	r->min = jv_num(o, "min");
	r->median = jv_num(o, "median");
	r->p90 = jv_num(o, "p90");
	r->p99 = jv_num(o, "p99");
	r->max = jv_num(o, "max");
	r->mean = jv_num(o, "mean");
	r->stddev = jv_num(o, "stddev");
	if (!(r->min <= r->median && r->median <= r->p90 && r->p90 <= r->p99 &&
	      r->p99 <= r->max))
		return bad(c, "min <= median <= p90 <= p99 <= max does not hold");
	return load_blocks(c, o, r);
}

static int validate(struct results *res)
{
	struct vctx c = { .path = res->path };
	const struct jv *root = res->root, *v, *recs;

	if (root->type != JV_OBJ)
		return bad(&c, "the top level is %s, not an object",
			   jv_type_name(root->type));
	v = jv_get(root, "schema_version");
	if (!v) {
		if (jv_get(root, "experiment") && jv_get(root, "schema"))
			return bad(&c, "missing required field \"schema_version\": this is one experiment's output (xptilab EXPERIMENT --json), not a results.json from xptilab run-all");
		return bad(&c, "missing required field \"schema_version\" (not an xptilab results.json?)");
	}
	if (v->type != JV_NUM || v->num != floor(v->num) || v->num < 1)
		return bad(&c, "\"schema_version\" must be a positive integer");
	if (v->num > RESULTS_SCHEMA_VERSION)
		return bad(&c, "schema_version %.0f is newer than this xptilab (%s) reads (%d); use a newer xptilab",
			   v->num, XPTILAB_VERSION, RESULTS_SCHEMA_VERSION);
	res->schema_version = v->num;
	v = need(&c, root, "generated_by", JV_STR, false);
	if (!v)
		return -1;
	res->generated_by = v->str;
	v = jv_get(root, "created");
	res->created = v && v->type == JV_STR ? v->str : NULL;

	v = jv_get(root, "guests");
	if (v) {
		res->combined = true;
		if (v->type != JV_ARR || !v->n)
			return bad(&c, "\"guests\" must be a non-empty array");
		res->guests = calloc(v->n, sizeof(*res->guests));
		if (!res->guests)
			return bad(&c, "out of memory");
		for (size_t i = 0; i < v->n; i++) {
			const struct jv *g = &v->items[i], *label;

			snprintf(c.where, sizeof(c.where), "guests[%zu]", i);
			if (g->type != JV_OBJ)
				return bad(&c, "is %s, not an object",
					   jv_type_name(g->type));
			label = need(&c, g, "guest", JV_STR, false);
			if (!label)
				return -1;
			if (!*label->str)
				return bad(&c, "\"guest\" is empty");
			for (size_t k = 0; k < i; k++)
				if (!strcmp(res->guests[k].label, label->str))
					return bad(&c, "guest \"%s\" appears twice",
						   label->str);
			if (load_guest(&c, g, label->str, &res->guests[i]))
				return -1;
			res->nguests++;
		}
		c.where[0] = '\0';
	} else {
		res->guests = calloc(1, sizeof(*res->guests));
		if (!res->guests)
			return bad(&c, "out of memory");
		if (load_guest(&c, root, "", &res->guests[0]))
			return -1;
		res->nguests = 1;
	}

	recs = need(&c, root, "records", JV_ARR, false);
	if (!recs)
		return -1;
	res->recs = calloc(recs->n ? recs->n : 1, sizeof(*res->recs));
	if (!res->recs)
		return bad(&c, "out of memory");
	for (size_t i = 0; i < recs->n; i++) {
		if (load_record(res, &c, i, &recs->items[i], &res->recs[i]))
			return -1;
		res->nrecs++;
	}
	return 0;
}

int results_load(const char *path, struct results *res)
{
	char err[256];

	memset(res, 0, sizeof(*res));
	res->path = path;
	res->root = jv_load(path, err, sizeof(err));
	if (!res->root) {
		xptilab_err("%s: %s", path, err);
		return -1;
	}
	if (validate(res) || load_all_samples(res)) {
		results_free(res);
		return -1;
	}
	return 0;
}

void results_free(struct results *res)
{
	for (size_t i = 0; res->recs && i < res->nrecs; i++) {
		free(res->recs[i].bround);
		free(res->recs[i].bmed);
		free(res->recs[i].bp10);
	}
	jv_free(res->root);
	free(res->guests);
	free(res->recs);
	memset(res, 0, sizeof(*res));
}

const char *machine_str(const struct guest *g, const char *key)
{
	const struct jv *v = jv_get(g->machine, key);

	return v && v->type == JV_STR ? v->str : NULL;
}

bool machine_bool(const struct guest *g, const char *key)
{
	const struct jv *v = jv_get(g->machine, key);

	return v && v->type == JV_BOOL && v->b;
}

double machine_num(const struct guest *g, const char *key)
{
	return jv_num(g->machine, key);
}

bool results_any_emulated(const struct results *res)
{
	for (size_t i = 0; i < res->nguests; i++)
		if (machine_bool(&res->guests[i], "emulated"))
			return true;
	return false;
}

/* ---- xptilab merge ---- */

static int merge_usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab merge --out FILE LABEL=RESULTS.json...\n"
		"  One results.json with a \"guests\" array from the one-machine files\n"
		"  that `xptilab run-all` wrote, each record labelled with its guest.\n"
		"  LABEL: letters, digits, '.', '_', '-'.\n");
	return status;
}

static bool label_ok(const char *s, size_t len)
{
	if (!len || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    s[i]))
			return false;
	return true;
}

static void utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The several-guests file; with claims, their "claims" block too. */
static int write_merged(const char *out, struct results *in, char **labels,
			size_t nin, const char *now, const struct claim *claims)
{
	struct json j;
	FILE *f = fopen(out, "we");

	if (!f) {
		xptilab_err("merge: %s: %s", out, strerror(errno));
		return -1;
	}
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_u64(&j, "schema_version", RESULTS_SCHEMA_VERSION);
	json_string(&j, "generated_by", "xptilab " XPTILAB_VERSION);
	json_string(&j, "created", now);
	json_array_begin(&j, "guests");
	for (size_t i = 0; i < nin; i++) {
		const struct jv *root = in[i].root;

		json_object_begin(&j, NULL);
		json_string(&j, "guest", labels[i]);
		/* everything a one-machine file says about its run */
		for (size_t k = 0; k < root->n; k++)
			if (strcmp(root->keys[k], "records") &&
			    strcmp(root->keys[k], "schema_version") &&
			    strcmp(root->keys[k], "guest"))
				jv_write(&j, root->keys[k], &root->items[k]);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "records");
	for (size_t i = 0; i < nin; i++)
		for (size_t r = 0; r < in[i].nrecs; r++) {
			const struct jv *o = in[i].recs[r].obj;

			json_object_begin(&j, NULL);
			json_string(&j, "guest", labels[i]);
			for (size_t k = 0; k < o->n; k++)
				if (strcmp(o->keys[k], "guest"))
					jv_write(&j, o->keys[k], &o->items[k]);
			json_object_end(&j);
		}
	json_array_end(&j);
	if (claims)
		claims_json(&j, claims);
	json_object_end(&j);
	if (fclose(f)) {
		xptilab_err("merge: %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_merge(int argc, char **argv)
{
	const char *out = NULL;
	struct results *in;
	char **labels;
	size_t nin = 0;
	char now[32];
	struct results merged;
	struct claim claims[NCLAIMS];
	int rc, status = 1;

	in = calloc(argc, sizeof(*in));
	labels = calloc(argc, sizeof(*labels));
	if (!in || !labels) {
		xptilab_err("out of memory");
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			status = merge_usage(stdout, 0);
			goto out;
		}
		if (!strcmp(a, "--out") && i + 1 < argc) {
			out = argv[++i];
			continue;
		}
		eq = strchr(a, '=');
		if (!eq || !label_ok(a, eq - a)) {
			xptilab_err("merge: '%s' is not LABEL=FILE", a);
			status = merge_usage(stderr, EXIT_USAGE);
			goto out;
		}
		labels[nin] = strndup(a, eq - a);
		if (!labels[nin]) {
			xptilab_err("out of memory");
			goto out;
		}
		for (size_t k = 0; k < nin; k++)
			if (!strcmp(labels[k], labels[nin])) {
				xptilab_err("merge: label '%s' given twice", labels[nin]);
				status = EXIT_USAGE;
				nin++;
				goto out;
			}
		if (results_load(eq + 1, &in[nin])) {
			nin++;
			goto out;
		}
		nin++;
		if (in[nin - 1].combined) {
			xptilab_err("merge: %s already holds several guests; give one-machine files",
				    eq + 1);
			goto out;
		}
	}
	if (!out || !nin) {
		status = merge_usage(stderr, EXIT_USAGE);
		goto out;
	}
	utc_now(now, sizeof(now));
	/* Written twice: the claims are computed from the merged file. */
	if (write_merged(out, in, labels, nin, now, NULL))
		goto out;
	if (results_load(out, &merged))
		goto out;
	rc = claims_compute(&merged, claims);
	if (!rc) {
		rc = write_merged(out, in, labels, nin, now, claims);
		claims_free(claims);
	}
	results_free(&merged);
	if (rc)
		goto out;
	status = 0;
out:
	for (size_t i = 0; i < nin; i++) {
		results_free(&in[i]);
		free(labels[i]);
	}
	free(in);
	free(labels);
	return status;
}

int rec_compare(const struct results *res, const struct rec *a,
		const struct rec *b, double margin, const char *b_name,
		struct cmp *out)
{
	bool emulated = machine_bool(&res->guests[a->guest], "emulated") ||
			machine_bool(&res->guests[b->guest], "emulated");
	double *x = NULL, *y = NULL, *x10 = NULL, *y10 = NULL;
	size_t n = 0;
	int ret = -1;

	if (!a->nblocks || !b->nblocks) {
		cmp_paired(NULL, NULL, NULL, NULL, 0, margin, emulated, b_name, out);
		snprintf(out->text, sizeof(out->text),
			 "not evaluated: %s measured in rounds (results.json schema 1?)",
			 a->nblocks ? "B not" : "A not");
		return -1;
	}
	if (a->guest != b->guest)
		return cmp_unpaired(a->bmed, a->nblocks, b->bmed, b->nblocks, margin,
				    emulated, b_name, out);
	x = calloc(a->nblocks, sizeof(*x));
	y = calloc(a->nblocks, sizeof(*y));
	x10 = calloc(a->nblocks, sizeof(*x10));
	y10 = calloc(a->nblocks, sizeof(*y10));
	if (x && y && x10 && y10) {
		for (size_t i = 0; i < a->nblocks; i++)
			for (size_t j = 0; j < b->nblocks; j++) {
				if (a->bround[i] != b->bround[j])
					continue;
				x[n] = a->bmed[i];
				y[n] = b->bmed[j];
				x10[n] = a->bp10[i];
				y10[n] = b->bp10[j];
				n++;
				break;
			}
		ret = cmp_paired(x, y, x10, y10, n, margin, emulated, b_name, out);
	} else {
		cmp_paired(NULL, NULL, NULL, NULL, 0, margin, emulated, b_name, out);
	}
	free(x);
	free(y);
	free(x10);
	free(y10);
	return ret;
}
