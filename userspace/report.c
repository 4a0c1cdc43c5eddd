// SPDX-License-Identifier: GPL-2.0
/* Experiment reports as a table, JSON or CSV (see report.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "json.h"
#include "report.h"
#include "xptilab.h"

bool report_format_arg(const char *arg, enum report_format *fmt)
{
	if (!strcmp(arg, "--json"))
		*fmt = REPORT_JSON;
	else if (!strcmp(arg, "--csv"))
		*fmt = REPORT_CSV;
	else
		return false;
	return true;
}

void report_init(struct report *r, const char *experiment,
		 enum report_format fmt, int fd, int cpu)
{
	memset(r, 0, sizeof(*r));
	r->experiment = experiment;
	r->fmt = fmt;
	r->cpu = cpu;
	platform_probe(&r->plat);
	if (fd >= 0 && !dev_info(fd, &r->info))
		r->has_info = true;
}

/*
 * Room for n more results: report_add() moves the array when it grows, so
 * a caller that keeps the pointers it returned reserves first.
 */
void report_reserve(struct report *r, size_t n)
{
	struct result *p;

	if (r->n + n <= r->cap)
		return;
	p = realloc(r->results, (r->n + n) * sizeof(*p));
	if (!p) {
		xptilab_err("out of memory");
		exit(1);
	}
	r->results = p;
	r->cap = r->n + n;
}

struct result *report_add(struct report *r, const char *variant,
			  const char *unit)
{
	struct result *res;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct result *p = realloc(r->results, cap * sizeof(*p));

		if (!p) {
			xptilab_err("out of memory");
			exit(1);
		}
		r->results = p;
		r->cap = cap;
	}
	res = &r->results[r->n++];
	memset(res, 0, sizeof(*res));
	snprintf(res->variant, sizeof(res->variant), "%s", variant);
	res->unit = unit;
	res->cr3_writes = -1;
	res->global_flushes = -1;
	return res;
}

void result_skip(struct result *res, const char *fmt, ...)
{
	va_list ap;

	res->skipped = true;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

void result_extra(struct result *res, const char *key, double val)
{
	struct result_extra *e;

	if (res->nextra == REPORT_MAX_EXTRA)
		abort();	/* a programming error */
	e = &res->extra[res->nextra++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->val = val;
}

void report_stats_json(struct json *j, const struct stats *s)
{
	json_u64(j, "n", s->n);
	json_u64(j, "min", s->min);
	json_u64(j, "median", s->median);
	json_u64(j, "p90", s->p90);
	json_u64(j, "p99", s->p99);
	json_u64(j, "max", s->max);
	json_double(j, "mean", s->mean);
	json_double(j, "stddev", s->stddev);
}

/*
 * The blocks of every record, after "variants" so that the records stay
 * flat objects: "blocks": [per record null, or [[round, pos, t, n, median,
 * p10, p90], ...]] (BLOCK_FIELDS).
 */
#define BLOCK_FIELDS	"round", "pos", "t", "n", "median", "p10", "p90"

static void blocks_json(struct json *j, const struct report *r)
{
	static const char *const fields[] = { BLOCK_FIELDS };

	json_array_begin(j, "block_fields");
	for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
		json_string(j, NULL, fields[f]);
	json_array_end(j);
	json_array_begin(j, "blocks");
	for (size_t i = 0; i < r->n; i++) {
		const struct result *res = &r->results[i];

		if (!res->rv || res->skipped) {
			json_null(j, NULL);
			continue;
		}
		json_array_begin(j, NULL);
		for (size_t b = 0; b < res->rv->nblocks; b++) {
			const struct block *k = &res->rv->blocks[b];

			json_array_begin(j, NULL);
			json_u64(j, NULL, k->round);
			json_u64(j, NULL, k->pos);
			json_double(j, NULL, round(k->t * 1e6) / 1e6);
			json_u64(j, NULL, k->n);
			json_u64(j, NULL, k->median);
			json_u64(j, NULL, k->p10);
			json_u64(j, NULL, k->p90);
			json_array_end(j);
		}
		json_array_end(j);
	}
	json_array_end(j);
}

void result_rounds(struct result *res, const struct rounds_var *rv)
{
	size_t n;
	uint64_t *all = rounds_pool(rv, &n);

	res->rv = rv;
	if (!all || stats_compute(all, n, &res->st))
		result_skip(res, "no sample survived");
	free(all);
}

int report_write_samples(const struct report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f) {
		xptilab_err("%s: %s", path, strerror(errno));
		return -1;
	}
	fputs("# xptilab samples 1: experiment record variant round pos n samples...\n", f);
	for (size_t i = 0; i < r->n; i++) {
		const struct result *res = &r->results[i];

		if (!res->rv || res->skipped)
			continue;
		for (size_t b = 0; b < res->rv->nblocks; b++) {
			const struct block *k = &res->rv->blocks[b];

			fprintf(f, "%s %zu %s %u %u %zu", r->experiment, i,
				res->variant, k->round, k->pos, k->n);
			for (size_t s = 0; s < k->n; s++)
				fprintf(f, " %llu", (unsigned long long)k->v[s]);
			fputc('\n', f);
		}
	}
	if (ferror(f) | fclose(f)) {
		xptilab_err("%s: write failed", path);
		ret = -1;
	}
	return ret;
}

static void print_json(const struct report *r, FILE *out)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_u64(&j, "schema", REPORT_SCHEMA);
	json_string(&j, "experiment", r->experiment);
	if (r->has_info)
		info_json(&j, "machine", &r->info, &r->plat);
	else
		json_null(&j, "machine");
	if (r->cpu >= 0)
		json_i64(&j, "cpu", r->cpu);
	if (r->has_overhead) {
		json_object_begin(&j, "timer_overhead");
		json_string(&j, "unit", "cycles");
		report_stats_json(&j, &r->overhead);
		json_object_end(&j);
	}
	if (r->hooks.json_top)
		r->hooks.json_top(&j, r, r->hooks.ctx);
	if (r->has_rounds) {
		json_object_begin(&j, "rounds");
		json_u64(&j, "k", r->rounds.k);
		json_u64(&j, "m", r->rounds.m);
		json_u64(&j, "warmup", r->rounds.warmup);
		json_u64(&j, "seed", r->rounds.seed);
		json_u64(&j, "discarded_rounds", 1);
		json_string(&j, "samples", r->samples_path);
		json_object_end(&j);
	}
	json_array_begin(&j, "variants");
	for (size_t i = 0; i < r->n; i++) {
		const struct result *res = &r->results[i];

		json_object_begin(&j, NULL);
		json_string(&j, "name", res->variant);
		/* under icount the TSC counts retired instructions */
		json_string(&j, "unit", r->plat.emulator &&
			    !strcmp(r->plat.emulator, "qemu-tcg-icount") &&
			    !strcmp(res->unit, "cycles") ? "instructions" : res->unit);
		json_bool(&j, "skipped", res->skipped);
		if (res->skipped) {
			json_string(&j, "reason", res->reason);
		} else {
			report_stats_json(&j, &res->st);
			json_u64(&j, "dropped", res->dropped);
		}
		if (res->cr3_writes >= 0)
			json_i64(&j, "cr3_writes", res->cr3_writes);
		if (res->global_flushes >= 0)
			json_i64(&j, "global_flushes", res->global_flushes);
		if (r->hooks.json_record)
			r->hooks.json_record(&j, r, i, r->hooks.ctx);
		for (size_t k = 0; k < res->nextra; k++)
			json_double(&j, res->extra[k].key, res->extra[k].val);
		json_object_end(&j);
	}
	json_array_end(&j);
	if (r->has_rounds)
		blocks_json(&j, r);
	json_object_end(&j);
}

/* CSV fields here never contain commas or quotes, except the reason. */
static void csv_reason(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_csv(const struct report *r, FILE *out)
{
	fputs("experiment,variant,unit,n,min,median,p90,p99,max,mean,stddev,"
	      "cr3_writes,global_flushes,dropped,skipped,reason,extra\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct result *res = &r->results[i];
		const struct stats *s = &res->st;

		fprintf(out, "%s,%s,%s,", r->experiment, res->variant, res->unit);
		if (res->skipped)
			fputs(",,,,,,,,", out);
		else
			fprintf(out, "%zu,%llu,%llu,%llu,%llu,%llu,%.1f,%.1f,",
				s->n, (unsigned long long)s->min,
				(unsigned long long)s->median,
				(unsigned long long)s->p90,
				(unsigned long long)s->p99,
				(unsigned long long)s->max, s->mean, s->stddev);
		if (res->cr3_writes >= 0)
			fprintf(out, "%d", res->cr3_writes);
		fputc(',', out);
		if (res->global_flushes >= 0)
			fprintf(out, "%d", res->global_flushes);
		fprintf(out, ",%llu,%d,", (unsigned long long)res->dropped,
			res->skipped);
		csv_reason(out, res->skipped ? res->reason : "");
		fputc(',', out);
		for (size_t k = 0; k < res->nextra; k++) {
			double v = res->extra[k].val;

			fprintf(out, v == (double)(long long)v ? "%s%s=%.0f" : "%s%s=%g",
				k ? ";" : "", res->extra[k].key, v);
		}
		fputc('\n', out);
	}
}

static void print_machine(const struct report *r, FILE *out)
{
	const struct xptilab_info *in = &r->info;

	if (!r->has_info)
		return;
	fprintf(out, "machine: %s, kernel %s, %u CPUs, %u-level paging, PTI %s, PCID %s\n",
		in->cpu_model, in->kernel_release, in->cpus_online,
		in->paging_levels, in->features & XPTILAB_FEAT_PTI ? "on" : "off",
		platform_pcid_mode(in->features, &r->plat));
	if (r->plat.emulator && !strcmp(r->plat.emulator, "bochs"))
		fprintf(out, "EMULATED (bochs): Bochs's TSC counts emulated instructions, so the\n"
			"  \"cycles\" here are instruction counts (path length), never costs;\n"
			"  Bochs keeps global TLB entries but does not tag them by PCID.\n");
	else if (r->plat.emulated)
		fprintf(out, "EMULATED (%s): cycle counts are emulator numbers, not hardware figures;\n"
			"  TCG models neither global pages nor PCID, so differences between variants\n"
			"  say nothing about hardware.\n",
			r->plat.emulator ? r->plat.emulator : r->plat.hv_vendor);
	else if (r->plat.hypervisor)
		fprintf(out, "virtualized (hypervisor %s)\n", r->plat.hv_vendor);
}

static void print_table(const struct report *r, FILE *out)
{
	fprintf(out, "experiment: %s", r->experiment);
	if (r->cpu >= 0)
		fprintf(out, " on cpu %d", r->cpu);
	fputc('\n', out);
	print_machine(r, out);
	if (r->has_overhead)
		fprintf(out, "timer overhead: median %llu cycles (subtracted), n=%zu\n",
			(unsigned long long)r->overhead.median, r->overhead.n);
	if (r->has_rounds)
		fprintf(out, "rounds: %u (round 0 discarded), %u samples a block after %u untimed, seed %llu\n",
			r->rounds.k, r->rounds.m, r->rounds.warmup,
			(unsigned long long)r->rounds.seed);
	fprintf(out, "%-16s %8s %9s %9s %9s %9s %9s %11s %6s %5s %7s\n",
		"variant", "n", "min", "median", "p90", "p99", "max", "mean",
		"cr3wr", "flush", "dropped");
	for (size_t i = 0; i < r->n; i++) {
		const struct result *res = &r->results[i];
		const struct stats *s = &res->st;
		char w[16] = "-", f[16] = "-";

		if (res->cr3_writes >= 0)
			snprintf(w, sizeof(w), "%d", res->cr3_writes);
		if (res->global_flushes >= 0)
			snprintf(f, sizeof(f), "%d", res->global_flushes);
		if (res->skipped) {
			fprintf(out, "%-16s SKIP: %s\n", res->variant, res->reason);
			continue;
		}
		fprintf(out, "%-16s %8zu %9llu %9llu %9llu %9llu %9llu %11.1f %6s %5s %7llu  %s\n",
			res->variant, s->n, (unsigned long long)s->min,
			(unsigned long long)s->median, (unsigned long long)s->p90,
			(unsigned long long)s->p99, (unsigned long long)s->max,
			s->mean, w, f, (unsigned long long)res->dropped,
			res->unit);
	}
}

void report_print(const struct report *r, FILE *out)
{
	switch (r->fmt) {
	case REPORT_JSON:
		print_json(r, out);
		break;
	case REPORT_CSV:
		print_csv(r, out);
		break;
	default:
		print_table(r, out);
		break;
	}
}

void report_free(struct report *r)
{
	free(r->results);
	r->results = NULL;
	r->n = r->cap = 0;
}
