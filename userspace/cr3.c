// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab cr3`: the cost of one full -> shadow -> full round trip on one
 * CPU, per variant of the XPTI design (see docs/cr3.md).
 *
 * Each variant is one XPTILAB_IOC_RUN_CR3 run. The module returns raw TSC
 * deltas and, from the same run, the timer's overhead (the same sequence
 * without the CR3 writes). The overhead's median is subtracted from that
 * run's samples, and from its --touch samples, before the statistics.
 * With --touch N, a variant's TLB refill cost (re-reading N kernel pages
 * after each return to the full root) is reported as an extra record
 * named "<variant>+touch".
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dev.h"
#include "args.h"
#include "report.h"
#include "stats.h"
#include "timing.h"
#include "xptilab.h"

#define CR3_DEFAULT_ITERATIONS	10000

static const char *const variant_names[XPTILAB_CR3_NR_VARIANTS] = {
	[XPTILAB_CR3_PLAIN] = "plain",
	[XPTILAB_CR3_NONGLOBAL] = "nonglobal",
	[XPTILAB_CR3_GLOBAL] = "global",
	[XPTILAB_CR3_PCID] = "pcid",
};

struct cr3_opts {
	unsigned int cpu;
	unsigned int iterations;
	unsigned int touch;
	unsigned int variants;		/* bit per enum xptilab_cr3_variant */
	enum report_format fmt;
};

/* Every sample buffer of one run. */
struct cr3_bufs {
	uint64_t *samples, *overhead, *touch;
};

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab cr3 [--cpu N] [--iterations N] [--variant V[,V...]]\n"
		"                   [--touch PAGES] [--json|--csv]\n"
		"  --cpu N          online CPU to run on (default 0)\n"
		"  --iterations N   round trips per variant, 1..%u (default %u)\n"
		"  --variant V      plain, nonglobal, global, pcid or all (default all)\n"
		"  --touch PAGES    also time re-reading PAGES kernel pages after each\n"
		"                   return to the full root, 0..%u (default 0)\n"
		"  --json, --csv    machine-readable output (default: a table)\n",
		XPTILAB_MAX_ITERATIONS, CR3_DEFAULT_ITERATIONS,
		XPTILAB_MAX_TOUCH_PAGES);
	return status;
}

/* A number in lo..hi; else say why and return -1. */
static int parse_uint(const char *opt, const char *s, unsigned long lo,
		      unsigned long hi, unsigned int *out)
{
	unsigned long v;

	if (args_uint_range("cr3", opt, s, lo, hi, &v))
		return -1;
	*out = v;
	return 0;
}

/*
 * Options as "--opt VALUE" or "--opt=VALUE". Returns 0, or the exit status
 * (EXIT_USAGE, or -1 for 0 after --help) with the message printed.
 */
static int parse_args(int argc, char **argv, struct cr3_opts *o)
{
	o->cpu = 0;
	o->iterations = CR3_DEFAULT_ITERATIONS;
	o->touch = 0;
	o->variants = (1u << XPTILAB_CR3_NR_VARIANTS) - 1;
	o->fmt = REPORT_TABLE;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		char name[32];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout, 0);
			return -1;
		}
		if (report_format_arg(arg, &o->fmt))
			continue;
		eq = strchr(arg, '=');
		if (!strncmp(arg, "--", 2) && eq && (size_t)(eq - arg) < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", arg);
		}
		if (strcmp(name, "--cpu") && strcmp(name, "--iterations") &&
		    strcmp(name, "--variant") && strcmp(name, "--touch")) {
			xptilab_err("cr3: unknown argument '%s'", arg);
			usage(stderr, EXIT_USAGE);
			return EXIT_USAGE;
		}
		if (!val) {
			if (i + 1 >= argc) {
				xptilab_err("cr3: %s needs a value", name);
				return EXIT_USAGE;
			}
			val = argv[++i];
		}
		if (!strcmp(name, "--cpu")) {
			if (parse_uint(name, val, 0, INT_MAX, &o->cpu))
				return EXIT_USAGE;
		} else if (!strcmp(name, "--iterations")) {
			if (parse_uint(name, val, 1, XPTILAB_MAX_ITERATIONS,
				       &o->iterations))
				return EXIT_USAGE;
		} else if (!strcmp(name, "--touch")) {
			if (parse_uint(name, val, 0, XPTILAB_MAX_TOUCH_PAGES,
				       &o->touch))
				return EXIT_USAGE;
		} else if (args_variants("cr3", val, variant_names, XPTILAB_CR3_NR_VARIANTS,
					 &o->variants)) {
			return EXIT_USAGE;
		}
	}
	return 0;
}

static const char *unsupported_reason(enum xptilab_cr3_variant v,
				      const struct report *r)
{
	__u64 feat = r->has_info ? r->info.features : 0;

	if (v == XPTILAB_CR3_PCID) {
		if (r->has_info && !(feat & XPTILAB_FEAT_PCID))
			return r->plat.emulated ?
			       "CPU lacks PCID (QEMU TCG does not emulate it)" :
			       "CPU lacks PCID";
		return "PCID is not enabled in CR4 by the kernel";
	}
	if (r->has_info && !(feat & XPTILAB_FEAT_PGE))
		return "CPU lacks PGE (global pages)";
	return "CR4.PGE is off";
}

static void add_stats(struct result *res, uint64_t *v, size_t n)
{
	if (stats_compute(v, n, &res->st))
		result_skip(res, "no sample survived");
}

/* One variant: returns 0 (ran or skipped) or 1 on a hard error. */
static int run_variant(int fd, const struct cr3_opts *o,
		       enum xptilab_cr3_variant v, struct cr3_bufs *b,
		       struct report *r, uint64_t *ovh_pool, size_t *ovh_n)
{
	const char *name = variant_names[v];
	struct xptilab_cr3_run run;
	struct result *res, *tres = NULL;
	char tname[32];
	uint64_t ovh_median;
	struct stats ost;

	memset(&run, 0, sizeof(run));
	run.size = sizeof(run);
	run.cpu = o->cpu;
	run.variant = v;
	run.iterations = o->iterations;
	run.touch_pages = o->touch;
	run.samples = (uintptr_t)b->samples;
	run.overhead = (uintptr_t)b->overhead;
	run.touch_samples = o->touch ? (uintptr_t)b->touch : 0;

	res = report_add(r, name, "cycles");
	if (o->touch) {
		snprintf(tname, sizeof(tname), "%s+touch", name);
		tres = report_add(r, tname, "cycles");
		result_extra(tres, "touch_pages", o->touch);
	}

	if (ioctl(fd, XPTILAB_IOC_RUN_CR3, &run) < 0) {
		int err = errno;

		if (err == EOPNOTSUPP) {
			const char *why = unsupported_reason(v, r);

			result_skip(res, "%s", why);
			if (tres)
				result_skip(tres, "%s", why);
			return 0;
		}
		xptilab_err("cr3: %s: XPTILAB_IOC_RUN_CR3 on cpu %u: %s", name,
			    o->cpu, strerror(err));
		return 1;
	}

	res->cr3_writes = run.cr3_writes;
	res->global_flushes = run.global_flushes;
	res->dropped = run.dropped;
	if (tres)
		tres->dropped = run.dropped;
	if (run.n < o->iterations)
		xptilab_err("cr3: %s: %u of %u samples: %u disturbed samples dropped",
			    name, run.n, o->iterations, run.dropped);
	if (!run.n) {
		result_skip(res, "every sample was disturbed (%u dropped)",
			    run.dropped);
		if (tres)
			result_skip(tres, "every sample was disturbed");
		return 0;
	}

	/* The overhead pool (for the report) gets this run's samples. */
	memcpy(ovh_pool + *ovh_n, b->overhead, run.n * sizeof(uint64_t));
	*ovh_n += run.n;
	stats_compute(b->overhead, run.n, &ost);
	ovh_median = ost.median;

	timing_subtract(b->samples, run.n, ovh_median);
	add_stats(res, b->samples, run.n);
	result_extra(res, "overhead_median", (double)ovh_median);
	result_extra(res, "shadow_events", (double)run.shadow_events);
	result_extra(res, "tsc_khz", (double)run.tsc_khz);
	if (tres) {
		timing_subtract(b->touch, run.n, ovh_median);
		add_stats(tres, b->touch, run.n);
		result_extra(tres, "overhead_median", (double)ovh_median);
		result_extra(tres, "tsc_khz", (double)run.tsc_khz);
	}
	return 0;
}

int cmd_cr3(int argc, char **argv)
{
	struct cr3_bufs b = { 0 };
	uint64_t *ovh_pool = NULL;
	size_t ovh_n = 0, nvar = 0;
	struct cr3_opts o;
	struct report r;
	int fd, ret = 0;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!args_cpu_online(o.cpu)) {
		xptilab_err("cr3: --cpu %u: not an online CPU", o.cpu);
		return EXIT_USAGE;
	}
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS; v++)
		nvar += !!(o.variants & (1u << v));

	fd = dev_open();
	if (fd < 0)
		return 1;
	b.samples = calloc(o.iterations, sizeof(uint64_t));
	b.overhead = calloc(o.iterations, sizeof(uint64_t));
	b.touch = o.touch ? calloc(o.iterations, sizeof(uint64_t)) : NULL;
	ovh_pool = calloc(nvar * o.iterations, sizeof(uint64_t));
	if (!b.samples || !b.overhead || (o.touch && !b.touch) || !ovh_pool) {
		xptilab_err("out of memory");
		ret = 1;
		goto out;
	}
	report_init(&r, "cr3", o.fmt, fd, o.cpu);
	if (!r.has_info) {
		ret = 1;
		goto out_report;
	}
	if (r.info.abi_version != XPTILAB_ABI_VERSION)
		xptilab_err("warning: module ABI %u, tool built for ABI %u",
			    r.info.abi_version, XPTILAB_ABI_VERSION);

	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS && !ret; v++)
		if (o.variants & (1u << v))
			ret = run_variant(fd, &o, v, &b, &r, ovh_pool, &ovh_n);
	if (ret)
		goto out_report;

	if (ovh_n && !stats_compute(ovh_pool, ovh_n, &r.overhead))
		r.has_overhead = true;
	report_print(&r, stdout);
	if (fflush(stdout))
		ret = 1;
out_report:
	report_free(&r);
out:
	free(ovh_pool);
	free(b.samples);
	free(b.overhead);
	free(b.touch);
	close(fd);
	return ret;
}
