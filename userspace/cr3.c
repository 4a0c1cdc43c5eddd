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
#include "rounds.h"
#include "stats.h"
#include "timing.h"
#include "xptilab.h"

#define CR3_DEFAULT_ITERATIONS	10000
#define CR3_DEFAULT_BLOCK	500
/* a cheaper variant's block up to this many times longer (rounds.h) */
#define CR3_MAX_MULT		4

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
	struct rounds_cfg rc;
	const char *samples;		/* --samples FILE, or NULL */
};

/* Every sample buffer of one run. */
struct cr3_bufs {
	uint64_t *samples, *overhead, *touch;
};

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab cr3 [--cpu N] [--rounds K] [--block M] [--seed S]\n"
		"                   [--iterations N] [--variant V[,V...]] [--touch PAGES]\n"
		"                   [--samples FILE] [--json|--csv]\n"
		"  --cpu N          online CPU to run on (default 0)\n"
		"  --rounds K       rounds, round 0 discarded (default %u); each round runs\n"
		"                   every variant once, in a fresh seeded random order\n"
		"  --block M        round trips per variant per round (default %u), after\n"
		"                   M/10+1 untimed ones\n"
		"  --seed S         seed of the orders (default: from the clock; recorded)\n"
		"  --iterations N   instead of --block: N round trips per variant in all,\n"
		"                   1..%u (M = N / (K - 1))\n"
		"  --samples FILE   write every block's samples to FILE\n"
		"  --variant V      plain, nonglobal, global, pcid or all (default all)\n"
		"  --touch PAGES    also time re-reading PAGES kernel pages after each\n"
		"                   return to the full root, 0..%u (default 0)\n"
		"  --json, --csv    machine-readable output (default: a table)\n",
		ROUNDS_DEFAULT_K, CR3_DEFAULT_BLOCK, XPTILAB_MAX_ITERATIONS,
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
	static const char *const names[] = {
		"--cpu", "--iterations", "--variant", "--touch",
	};
	o->cpu = 0;
	o->iterations = CR3_DEFAULT_ITERATIONS;
	o->touch = 0;
	o->variants = (1u << XPTILAB_CR3_NR_VARIANTS) - 1;
	o->fmt = REPORT_TABLE;
	memset(&o->rc, 0, sizeof(o->rc));
	o->rc.k = ROUNDS_DEFAULT_K;
	o->rc.seed = rounds_seed();
	o->samples = NULL;
	bool iters = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val;
		char name[32];
		int err = 0, opt;

		if (rounds_arg(argc, argv, &i, &o->rc, &err)) {
			if (err)
				return EXIT_USAGE;
			continue;
		}
		if (!strcmp(arg, "--samples") && i + 1 < argc) {
			o->samples = argv[++i];
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout, 0);
			return -1;
		}
		if (report_format_arg(arg, &o->fmt))
			continue;
		opt = args_option("cr3", argc, argv, &i, names, ARRAY_SIZE(names),
				  name, sizeof(name), &val);
		if (opt > 0) {
			xptilab_err("cr3: unknown argument '%s'", arg);
			usage(stderr, EXIT_USAGE);
			return EXIT_USAGE;
		}
		if (opt < 0)
			return EXIT_USAGE;
		if (!strcmp(name, "--cpu")) {
			if (parse_uint(name, val, 0, INT_MAX, &o->cpu))
				return EXIT_USAGE;
		} else if (!strcmp(name, "--iterations")) {
			if (parse_uint(name, val, 1, XPTILAB_MAX_ITERATIONS,
				       &o->iterations))
				return EXIT_USAGE;
			iters = true;
		} else if (!strcmp(name, "--touch")) {
			if (parse_uint(name, val, 0, XPTILAB_MAX_TOUCH_PAGES,
				       &o->touch))
				return EXIT_USAGE;
		} else if (args_variants("cr3", val, variant_names, XPTILAB_CR3_NR_VARIANTS,
					 &o->variants)) {
			return EXIT_USAGE;
		}
	}
	if (!o->rc.m)
		o->rc.m = iters ? (o->iterations + o->rc.k - 2) / (o->rc.k - 1) :
			  CR3_DEFAULT_BLOCK;
	if (o->rc.m > XPTILAB_MAX_ITERATIONS / CR3_MAX_MULT) {
		xptilab_err("cr3: --block %u: at most %u", o->rc.m,
			    XPTILAB_MAX_ITERATIONS / CR3_MAX_MULT);
		return EXIT_USAGE;
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

struct cr3_ctx {
	int fd;
	const struct cr3_opts *o;
	struct cr3_bufs b;
	unsigned int warmup;
	/* per variant, from its blocks */
	int cr3_writes[XPTILAB_CR3_NR_VARIANTS], global_flushes[XPTILAB_CR3_NR_VARIANTS];
	uint64_t dropped[XPTILAB_CR3_NR_VARIANTS];
	uint64_t shadow_events[XPTILAB_CR3_NR_VARIANTS];
	unsigned int tsc_khz;
};

/* One XPTILAB_IOC_RUN_CR3 of n round trips; samples into the ctx buffers. */
static int cr3_ioctl(struct cr3_ctx *x, enum xptilab_cr3_variant v,
		     unsigned int n, struct xptilab_cr3_run *run)
{
	memset(run, 0, sizeof(*run));
	run->size = sizeof(*run);
	run->cpu = x->o->cpu;
	run->variant = v;
	run->iterations = n;
	run->touch_pages = x->o->touch;
	run->samples = (uintptr_t)x->b.samples;
	run->overhead = (uintptr_t)x->b.overhead;
	run->touch_samples = x->o->touch ? (uintptr_t)x->b.touch : 0;
	return ioctl(x->fd, XPTILAB_IOC_RUN_CR3, run);
}

/* rounds_block_fn: an untimed warm-up run, then one block of m. */
static long cr3_block(void *ctx, size_t var, uint64_t *s, uint64_t *s2,
		      size_t *n2, uint64_t *ovh, size_t m)
{
	struct cr3_ctx *x = ctx;
	struct xptilab_cr3_run run;

	if (x->warmup && cr3_ioctl(x, var, x->warmup, &run) < 0)
		goto fail;
	if (cr3_ioctl(x, var, m, &run) < 0)
		goto fail;
	x->cr3_writes[var] = run.cr3_writes;
	x->global_flushes[var] = run.global_flushes;
	x->dropped[var] += run.dropped;
	x->shadow_events[var] += run.shadow_events;
	x->tsc_khz = run.tsc_khz;
	memcpy(s, x->b.samples, run.n * sizeof(*s));
	memcpy(ovh, x->b.overhead, run.n * sizeof(*ovh));
	if (x->o->touch)
		memcpy(s2, x->b.touch, run.n * sizeof(*s2));
	*n2 = run.n;
	if (run.n < m)
		xptilab_err("cr3: %s: %u of %zu samples: %u disturbed samples dropped",
			    variant_names[var], run.n, m, run.dropped);
	return run.n;
fail:
	xptilab_err("cr3: %s: XPTILAB_IOC_RUN_CR3 on cpu %u: %s",
		    variant_names[var], x->o->cpu, strerror(errno));
	return -1;
}

int cmd_cr3(int argc, char **argv)
{
	struct rounds_var rv[XPTILAB_CR3_NR_VARIANTS], rt[XPTILAB_CR3_NR_VARIANTS];
	bool active[XPTILAB_CR3_NR_VARIANTS] = { false };
	struct result *res[XPTILAB_CR3_NR_VARIANTS] = { NULL };
	struct result *tres[XPTILAB_CR3_NR_VARIANTS] = { NULL };
	uint64_t *ovh_pool = NULL;
	size_t ovh_n = 0, nact = 0;
	struct cr3_ctx x = { 0 };
	struct cr3_opts o;
	struct report r;
	bool ran = false;
	int ret = 0;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!args_cpu_online(o.cpu)) {
		xptilab_err("cr3: --cpu %u: not an online CPU", o.cpu);
		return EXIT_USAGE;
	}
	x.o = &o;
	x.warmup = o.rc.m / 10 + 1;
	o.rc.warmup = x.warmup;

	x.fd = dev_open();
	if (x.fd < 0)
		return 1;
	o.rc.max_mult = CR3_MAX_MULT;
	x.b.samples = calloc((size_t)o.rc.m * CR3_MAX_MULT, sizeof(uint64_t));
	x.b.overhead = calloc((size_t)o.rc.m * CR3_MAX_MULT, sizeof(uint64_t));
	x.b.touch = o.touch ? calloc((size_t)o.rc.m * CR3_MAX_MULT, sizeof(uint64_t)) : NULL;
	if (!x.b.samples || !x.b.overhead || (o.touch && !x.b.touch)) {
		xptilab_err("out of memory");
		ret = 1;
		goto out;
	}
	report_init(&r, "cr3", o.fmt, x.fd, o.cpu);
	if (!r.has_info) {
		ret = 1;
		goto out_report;
	}
	if (r.info.abi_version != XPTILAB_ABI_VERSION)
		xptilab_err("warning: module ABI %u, tool built for ABI %u",
			    r.info.abi_version, XPTILAB_ABI_VERSION);

	/* A one-sample probe per variant: SKIP what cannot run here. */
	report_reserve(&r, 2 * XPTILAB_CR3_NR_VARIANTS);
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS; v++) {
		struct xptilab_cr3_run run;
		char tname[32];

		if (!(o.variants & (1u << v)))
			continue;
		res[v] = report_add(&r, variant_names[v], "cycles");
		if (o.touch) {
			snprintf(tname, sizeof(tname), "%s+touch", variant_names[v]);
			tres[v] = report_add(&r, tname, "cycles");
			result_extra(tres[v], "touch_pages", o.touch);
		}
		if (cr3_ioctl(&x, v, 1, &run) < 0) {
			const char *why = unsupported_reason(v, &r);

			if (errno != EOPNOTSUPP) {
				xptilab_err("cr3: %s: XPTILAB_IOC_RUN_CR3 on cpu %u: %s",
					    variant_names[v], o.cpu, strerror(errno));
				ret = 1;
				goto out_report;
			}
			result_skip(res[v], "%s", why);
			if (tres[v])
				result_skip(tres[v], "%s", why);
			continue;
		}
		active[v] = true;
		nact++;
	}
	if (nact) {
		ran = true;
		if (rounds_run(&o.rc, XPTILAB_CR3_NR_VARIANTS, active, cr3_block, &x,
			       rv, o.touch ? rt : NULL)) {
			ret = 1;
			goto out_rounds;
		}
	}
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS; v++)
		ovh_n += active[v] ? rv[v].novh : 0;
	ovh_pool = calloc(ovh_n ? ovh_n : 1, sizeof(uint64_t));
	if (!ovh_pool) {
		xptilab_err("out of memory");
		ret = 1;
		goto out_rounds;
	}
	ovh_n = 0;
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS; v++) {
		if (!active[v])
			continue;
		memcpy(ovh_pool + ovh_n, rv[v].ovh, rv[v].novh * sizeof(uint64_t));
		ovh_n += rv[v].novh;
	}
	/* One overhead median for the whole run, sampled next to every trip. */
	if (ovh_n && !stats_compute(ovh_pool, ovh_n, &r.overhead))
		r.has_overhead = true;
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS; v++) {
		if (!active[v])
			continue;
		res[v]->cr3_writes = x.cr3_writes[v];
		res[v]->global_flushes = x.global_flushes[v];
		res[v]->dropped = x.dropped[v];
		rounds_finish(&rv[v], r.overhead.median);
		result_rounds(res[v], &rv[v]);
		result_extra(res[v], "overhead_median", (double)r.overhead.median);
		result_extra(res[v], "shadow_events", (double)x.shadow_events[v]);
		result_extra(res[v], "tsc_khz", (double)x.tsc_khz);
		if (tres[v]) {
			tres[v]->dropped = x.dropped[v];
			rounds_finish(&rt[v], r.overhead.median);
			result_rounds(tres[v], &rt[v]);
			result_extra(tres[v], "overhead_median", (double)r.overhead.median);
			result_extra(tres[v], "tsc_khz", (double)x.tsc_khz);
		}
	}
	r.has_rounds = true;
	r.rounds = o.rc;
	r.samples_path = o.samples;
	if (o.samples && report_write_samples(&r, o.samples))
		ret = 1;
	report_print(&r, stdout);
	if (fflush(stdout))
		ret = 1;
out_rounds:
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS && ran; v++) {
		if (!active[v])
			continue;
		rounds_free(&rv[v]);
		if (o.touch)
			rounds_free(&rt[v]);
	}
out_report:
	report_free(&r);
out:
	free(ovh_pool);
	free(x.b.samples);
	free(x.b.overhead);
	free(x.b.touch);
	close(x.fd);
	return ret;
}
