// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab entry`: the cost of one user -> kernel -> user round trip,
 * timed in user mode around a single entry instruction, per variant:
 *
 *   syscall      Linux getppid through `syscall` (baseline)
 *   int80        Linux getppid through `int $0x80` (ia32; SKIP without it),
 *                through xptilab's stub while the module is loaded
 *   int80-linux  the same with Linux's own gate on vector 0x80 for the
 *                block (mode LINUX_INT80): int80 against this is the tax
 *                xptilab's stub puts on every entry
 *   gate         the interrupt-gate test vector, mode GATE: gate + iretq
 *   xpti         the interrupt gate, mode XPTI: 4 CR3 writes (5 under PTI), non-global
 *                clones, global flush on the exit switch (Xen after
 *                9d1d31ad94)
 *   xpti-global  the interrupt gate, mode XPTI_GLOBAL: global clones, global
 *                flush on both switches (Xen before it)
 *   trap         the trap-gate test vector, mode XPTI, with --window
 *   session-xpti the interrupt gate, mode XPTI, from inside a session: the
 *                task already runs on the shadow root, so a round trip is
 *                exactly XPTI's entry switch and exit switch (2 CR3 writes,
 *                global flush on the exit switch)
 *   session-trap the trap gate, mode XPTI, with --window, inside a session
 *
 * A session sample counts only if the session survived it: the session
 * vector is raised right before and right after the timed entry, and both
 * must return the same exit count; other samples are dropped (and counted)
 * and taken again.
 * See docs/entry.md for what a round trip holds in each variant.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "args.h"
#include "ci.h"
#include "report.h"
#include "rounds.h"
#include "session.h"
#include "timing.h"
#include "tramp.h"
#include "trigger.h"
#include "xptilab.h"

#define DEFAULT_CPU		0
#define CHEAP_ITERATIONS	20000
#define XPTI_ITERATIONS		10000
#define MAX_WARMUP		1000
#define DEFAULT_BLOCK		500
/* a cheap variant's block up to this many times longer (rounds.h) */
#define ENTRY_MAX_MULT		16
/* Session samples: give up after this many tries per wanted sample. */
#define SESSION_TRIES		20

enum kind { K_SYSCALL, K_INT80, K_VECTOR, K_SESSION };

static const struct variant {
	const char *name;
	enum kind kind;
	unsigned int mode;	/* K_VECTOR: enum xptilab_entry_mode */
	bool trap;		/* K_VECTOR: the trap gate, else the interrupt gate */
	unsigned int iterations;
} variants[] = {
	{ "syscall",	 K_SYSCALL, 0, false, CHEAP_ITERATIONS },
	{ "int80",	 K_INT80, 0, false, CHEAP_ITERATIONS },
	{ "int80-linux", K_INT80, XPTILAB_ENTRY_LINUX_INT80, false, CHEAP_ITERATIONS },
	{ "gate",	 K_VECTOR, XPTILAB_ENTRY_GATE, false, CHEAP_ITERATIONS },
	{ "xpti",	 K_VECTOR, XPTILAB_ENTRY_XPTI, false, XPTI_ITERATIONS },
	{ "xpti-global", K_VECTOR, XPTILAB_ENTRY_XPTI_GLOBAL, false, XPTI_ITERATIONS },
	{ "trap",	 K_VECTOR, XPTILAB_ENTRY_XPTI, true, XPTI_ITERATIONS },
	{ "session-xpti", K_SESSION, XPTILAB_ENTRY_XPTI, false, XPTI_ITERATIONS },
	{ "session-trap", K_SESSION, XPTILAB_ENTRY_XPTI, true, XPTI_ITERATIONS },
};

/* What a variant's blocks add up to (its record's fields and extras). */
struct acc {
	bool skipped;
	char reason[128];
	bool has_xen;			/* a Xen PV guest's syscall: xen_xpti */
	int xen_xpti;
	int cr3_writes, global_flushes;
	unsigned int vec, sv, window;
	uint64_t entries, race_hits, deferred, dropped, enters, exits;
};

struct run {
	int fd, cpu;
	unsigned int iterations;	/* 0: each variant's default */
	unsigned int window;
	const struct xptilab_info *info;
	struct acc acc[ARRAY_SIZE(variants)];
	bool xen_pv;			/* a 64-bit Xen PV guest: Xen's entries */
	int xen_xpti;			/* Xen's XPTI here: 1, 0, -1 unknown */
	int xen_cr3_writes;		/* per syscall round trip, or -1 */
};

/*
 * CR3 writes per getppid round trip in a 64-bit Xen PV guest (Xen 4.17,
 * docs/xen.md): the syscall enters Xen, which moves the vCPU to the guest
 * kernel's page tables (toggle_guest_mode, 1 write) and returns to the
 * guest kernel; the kernel returns to user mode with HYPERVISOR_iret, a
 * second entry into Xen that moves back to the user page tables (1 write).
 * With XPTI each of the two entries also switches from the per-CPU
 * restricted root to the full one (1 write) and each exit back (1 write).
 */
static int xen_pv_syscall_cr3_writes(int xpti)
{
	if (xpti < 0)
		return -1;
	return xpti ? 6 : 2;
}

/* A 95% distribution-free CI of the median from sorted samples. */
static void median_ci(struct result *res, const uint64_t *sorted, size_t n)
{
	double half = 0.98 * sqrt((double)n);	/* 1.96 * sqrt(n) / 2 */
	long lo = (long)floor(n / 2.0 - half), hi = (long)ceil(n / 2.0 + half);

	if (n < 8)
		return;
	if (lo < 0)
		lo = 0;
	if (hi > (long)n - 1)
		hi = (long)n - 1;
	result_extra(res, "median_ci_lo", (double)sorted[lo]);
	result_extra(res, "median_ci_hi", (double)sorted[hi]);
}

/*
 * n timed samples of op into s[], each preceded by one timer-overhead
 * sample into o[]; nwarm untimed ops first.
 */
#define TIMED_LOOP(op, s, o, n, nwarm) do { \
	for (size_t w_ = 0; w_ < (nwarm); w_++) { \
		op; \
	} \
	for (size_t i_ = 0; i_ < (n); i_++) { \
		uint64_t t0_ = tsc_serialized(); \
		(o)[i_] = tsc_serialized() - t0_; \
		t0_ = tsc_serialized(); \
		op; \
		(s)[i_] = tsc_serialized() - t0_; \
	} \
} while (0)

static int time_vector(unsigned int vec, uint64_t *s, uint64_t *o, size_t n,
		       size_t nwarm)
{
	switch (vec) {
#define CASE_TIME(v) case v: TIMED_LOOP(TRIGGER_INT(v), s, o, n, nwarm); return 0;
	TRIGGER_FOR_EACH_VECTOR(CASE_TIME)
#undef CASE_TIME
	default:
		return -1;
	}
}

static size_t warmup_of(size_t n)
{
	return n / 10 < MAX_WARMUP ? n / 10 + 1 : MAX_WARMUP;
}

/* Linux's own entries: CR3 writes per round trip depend on PTI. */
static int run_linux(struct run *run, const struct variant *v,
		     struct acc *res, uint64_t *s, uint64_t *o, size_t n)
{
	long want = getppid();

	res->cr3_writes = run->info->features & XPTILAB_FEAT_PTI ? 2 : 0;
	res->global_flushes = 0;
	if (run->xen_pv) {
		/* Xen's path instead: docs/xen.md derives these counts. */
		res->cr3_writes = run->xen_cr3_writes;
		res->global_flushes = -1;
		res->has_xen = true;
		res->xen_xpti = run->xen_xpti;
	}
	if (v->kind == K_INT80 && !run->info->abi_version) {
		res->skipped = true;
		snprintf(res->reason, sizeof(res->reason),
			 "without the module the tool cannot tell whether the kernel has IA32 emulation (int $0x80)");
		return 1;
	}
	if (v->kind == K_INT80) {
		if (!(run->info->features & XPTILAB_FEAT_IA32_EMU)) {
			res->skipped = true;
			snprintf(res->reason, sizeof(res->reason),
				 "the kernel has no IA32 emulation (int $0x80)");
			return 1;
		}
		if (trigger_int80_getppid() != want) {
			xptilab_err("int80: int $0x80 getppid returned the wrong value");
			return -1;
		}
		if (v->mode == XPTILAB_ENTRY_LINUX_INT80) {
			/* Linux's own gate for this block only (the stub's tax). */
			struct xptilab_entry_config c;

			if (tramp_config(run->fd, run->cpu, v->mode, 0, &c))
				return -1;
			if (trigger_int80_getppid() != want) {
				xptilab_err("int80-linux: int $0x80 getppid returned the wrong value");
				tramp_config(run->fd, run->cpu, XPTILAB_ENTRY_GATE, 0, &c);
				return -1;
			}
			TIMED_LOOP(trigger_int80_getppid(), s, o, n, warmup_of(n));
			return tramp_config(run->fd, run->cpu, XPTILAB_ENTRY_GATE, 0, &c);
		}
		TIMED_LOOP(trigger_int80_getppid(), s, o, n, warmup_of(n));
	} else {
		if (trigger_syscall_getppid() != want) {
			xptilab_err("syscall: getppid returned the wrong value");
			return -1;
		}
		TIMED_LOOP(trigger_syscall_getppid(), s, o, n, warmup_of(n));
	}
	return 0;
}

static int run_vector(struct run *run, const struct variant *v,
		      struct acc *res, uint64_t *s, uint64_t *o, size_t n)
{
	struct xptilab_entry_config c;
	struct xptilab_counters before, after;
	unsigned int window = v->trap ? run->window : 0;
	size_t nwarm = warmup_of(n);
	unsigned int vec;
	int ret = -1;

	if (tramp_config(run->fd, run->cpu, v->mode, window, &c))
		goto out;
	vec = v->trap ? c.vector_trap : c.vector_gate;
	if (!trigger_vector_ok(vec)) {
		xptilab_err("%s: the module's vector %#x is not one the tool can raise",
			    v->name, vec);
		goto out;
	}
	res->cr3_writes = c.cr3_writes;
	res->global_flushes = c.global_flushes;
	if (tramp_counters(run->fd, run->cpu, &before))
		goto out;
	time_vector(vec, s, o, n, nwarm);
	if (tramp_counters(run->fd, run->cpu, &after))
		goto out;

	res->vec = vec;
	res->window = window;
	res->entries += after.entries - before.entries;
	res->race_hits += after.race_hits - before.race_hits;
	res->deferred += after.deferred - before.deferred;
	if (after.entries - before.entries != n + nwarm) {
		xptilab_err("%s: the module counted %llu entries on cpu %d, expected %zu",
			    v->name,
			    (unsigned long long)(after.entries - before.entries),
			    run->cpu, n + nwarm);
		goto out;
	}
	ret = 0;
out:
	if (tramp_reset(run->fd, run->cpu))
		ret = -1;
	return ret;
}

/*
 * Session samples of `int $vec` into s[] (and timer overhead into o[]):
 * keep a sample only when the session vector sv returns the same exit
 * count before and after it. *tries gets the entries made (warm-up
 * included), *dropped the samples thrown away. Returns the samples kept,
 * or -1 when sv refuses the entry.
 */
#define SESSION_LOOP(op, sv, s, o, n, nwarm, tries, dropped) do { \
	size_t got_ = 0, max_ = (n) * SESSION_TRIES + (nwarm); \
	for (size_t w_ = 0; w_ < (nwarm); w_++) { \
		if (session_enter(sv) < 0) \
			return -1; \
		op; \
	} \
	*(tries) = (nwarm); \
	while (got_ < (n) && *(tries) < max_) { \
		uint64_t t0_, t1_, ov_; \
		long a_ = session_enter(sv), b_; \
		if (a_ < 0) \
			return -1; \
		t0_ = tsc_serialized(); \
		ov_ = tsc_serialized() - t0_; \
		t0_ = tsc_serialized(); \
		op; \
		t1_ = tsc_serialized(); \
		b_ = session_enter(sv); \
		(*(tries))++; \
		if (a_ != b_) { \
			(*(dropped))++; \
			continue; \
		} \
		(s)[got_] = t1_ - t0_; \
		(o)[got_] = ov_; \
		got_++; \
	} \
	return got_; \
} while (0)

static long session_samples(unsigned int vec, unsigned int sv, uint64_t *s,
			    uint64_t *o, size_t n, size_t nwarm,
			    uint64_t *tries, uint64_t *dropped)
{
	switch (vec) {
#define CASE_SESSION(v) case v: \
	SESSION_LOOP(TRIGGER_INT(v), sv, s, o, n, nwarm, tries, dropped);
	TRIGGER_FOR_EACH_VECTOR(CASE_SESSION)
#undef CASE_SESSION
	default:
		return -1;
	}
}

/* Fault in every page of v[0..n) now, not in a session. */
static void prefault(uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i += 512)
		((volatile uint64_t *)v)[i] = 1;
	if (n)
		((volatile uint64_t *)v)[n - 1] = 1;
}

/*
 * The interrupt or trap gate from inside a session on run->cpu: the task
 * runs on the shadow root, so a round trip is exactly XPTI's two switches.
 */
static int run_session(struct run *run, const struct variant *v,
		       struct acc *res, uint64_t *s, uint64_t *o, size_t n)
{
	struct xptilab_entry_config c;
	struct xptilab_counters before, after;
	struct xptilab_session_stats sb, sa;
	unsigned int window = v->trap ? run->window : 0;
	size_t nwarm = warmup_of(n);
	uint64_t tries = 0, dropped = 0;
	unsigned int vec, sv;
	long got;
	int ret = -1;

	if (session_op(run->fd, run->cpu, XPTILAB_SESSION_START, 0, &sv)) {
		if (errno == EBUSY) {
			res->skipped = true;
			snprintf(res->reason, sizeof(res->reason),
				 "another process has sessions (EBUSY)");
			return 1;
		}
		xptilab_err("%s: session START on cpu %d: %s", v->name, run->cpu,
			    strerror(errno));
		return -1;
	}
	if (!trigger_vector_ok(sv)) {
		xptilab_err("%s: the module's session vector %#x is not one the tool can raise",
			    v->name, sv);
		goto out_stop;
	}
	if (tramp_config(run->fd, run->cpu, v->mode, window, &c))
		goto out;
	vec = v->trap ? c.vector_trap : c.vector_gate;
	if (!trigger_vector_ok(vec)) {
		xptilab_err("%s: the module's vector %#x is not one the tool can raise",
			    v->name, vec);
		goto out;
	}
	/*
	 * In a session the task is on the shadow root: only the entry switch
	 * and the exit switch (the module's count is from the task's tables).
	 */
	res->cr3_writes = c.cr3_writes ? 2 : 0;
	res->global_flushes = c.global_flushes;
	prefault(s, n);
	prefault(o, n);
	if (tramp_counters(run->fd, run->cpu, &before) ||
	    session_stats(run->fd, run->cpu, &sb))
		goto out;
	got = session_samples(vec, sv, s, o, n, nwarm, &tries, &dropped);
	if (got < 0) {
		xptilab_err("%s: the session vector refused the entry on cpu %d",
			    v->name, run->cpu);
		goto out;
	}
	if (tramp_counters(run->fd, run->cpu, &after) ||
	    session_stats(run->fd, run->cpu, &sa)) {
		xptilab_err("%s: cpu %d: %s", v->name, run->cpu, strerror(errno));
		goto out;
	}
	if ((size_t)got < n) {
		xptilab_err("%s: only %ld of %zu samples ran in a session (%llu dropped)",
			    v->name, got, n, (unsigned long long)dropped);
		goto out;
	}
	res->dropped += dropped;
	res->vec = vec;
	res->window = window;
	res->sv = sv;
	res->entries += after.entries - before.entries;
	res->race_hits += after.race_hits - before.race_hits;
	res->enters += sa.enters - sb.enters;
	res->exits += sa.exits - sb.exits;
	if (after.entries - before.entries != tries) {
		xptilab_err("%s: the module counted %llu entries on cpu %d, expected %llu",
			    v->name,
			    (unsigned long long)(after.entries - before.entries),
			    run->cpu, (unsigned long long)tries);
		goto out;
	}
	ret = 0;
out:
	if (tramp_reset(run->fd, run->cpu))
		ret = -1;
out_stop:
	if (session_op(run->fd, run->cpu, XPTILAB_SESSION_STOP, 0, NULL)) {
		xptilab_err("%s: session STOP on cpu %d: %s", v->name, run->cpu,
			    strerror(errno));
		ret = -1;
	}
	return ret;
}

/*
 * int80 against int80-linux, measured in the same rounds: the tax
 * xptilab's stub puts on every entry while its IDT is loaded, as a paired
 * comparison (ci.h) printed under the table.
 */
static size_t variant_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		if (!strcmp(variants[i].name, name))
			return i;
	return ARRAY_SIZE(variants);
}

static void print_stub_tax(const struct rounds_var *rv, const bool *selected,
			   const struct run *run, bool emulated)
{
	size_t ia = variant_index("int80-linux"), ib = variant_index("int80");
	const struct rounds_var *va = &rv[ia], *vb = &rv[ib];
	double *a, *b, *a10, *b10;
	size_t n = 0;
	struct cmp c;

	if (!selected[ia] || !selected[ib] || run->acc[ia].skipped ||
	    run->acc[ib].skipped)
		return;
	a = calloc(4 * (va->nblocks + 1), sizeof(*a));
	if (!a)
		return;
	b = a + va->nblocks + 1;
	a10 = b + va->nblocks + 1;
	b10 = a10 + va->nblocks + 1;
	for (size_t i = 0; i < va->nblocks; i++)
		for (size_t k = 0; k < vb->nblocks; k++)
			if (va->blocks[i].round == vb->blocks[k].round) {
				a[n] = (double)va->blocks[i].median;
				b[n] = (double)vb->blocks[k].median;
				a10[n] = (double)va->blocks[i].p10;
				b10[n] = (double)vb->blocks[k].p10;
				n++;
				break;
			}
	if (!cmp_paired(a, b, a10, b10, n, 0.05, emulated,
			"int80 (through the stub)", &c))
		printf("stub tax: int80 / int80-linux = %.3f [%.3f, %.3f] over %zu rounds: %s\n",
		       c.med.ratio, c.med.lo95, c.med.hi95, c.rounds, c.text);
	else
		printf("stub tax: int80 / int80-linux not evaluated (%zu usable rounds)\n", n);
	free(a);
}

static bool needs_module(const struct variant *v)
{
	return v->kind == K_VECTOR || v->kind == K_SESSION ||
	       v->mode == XPTILAB_ENTRY_LINUX_INT80;
}

/* Can every selected variant run without the module? */
static bool module_free(const bool *selected)
{
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		if (selected[i] && needs_module(&variants[i]))
			return false;
	return true;
}

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab entry [--cpu N] [--rounds K] [--block M] [--seed S]\n"
		"                     [--iterations N] [--variant V|all] [--window W]\n"
		"                     [--samples FILE] [--json|--csv]\n"
		"  --cpu N         CPU to pin to and configure (default %d)\n"
		"  --rounds K      rounds, round 0 discarded (default %d); each round runs\n"
		"                  every variant once, in a fresh seeded random order\n"
		"  --block M       entries per variant per round (default %d), after\n"
		"                  M/10+1 untimed ones\n"
		"  --seed S        seed of the orders (default: from the clock; recorded)\n"
		"  --iterations N  instead of --block: N per variant in all (M = N/(K-1))\n"
		"  --samples FILE  write every block's samples to FILE\n"
		"  --variant V     one of:", DEFAULT_CPU, ROUNDS_DEFAULT_K, DEFAULT_BLOCK);
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		fprintf(out, " %s", variants[i].name);
	fprintf(out, ", or all (default)\n"
		"  --window W      trap-gate window, spin iterations with IF=1 on the\n"
		"                  shadow root before the entry switch (default 0)\n"
		"Samples are TSC ticks around one entry, timer overhead subtracted.\n"
		"session-*: from inside a session; samples the session did not survive\n"
		"are dropped (counted) and taken again.\n");
	return status;
}

/* rounds_block_fn: one block of variant vi (its warm-up included). */
static long entry_block(void *ctx, size_t vi, uint64_t *s, uint64_t *s2,
			size_t *n2, uint64_t *o, size_t n)
{
	struct run *run = ctx;
	const struct variant *v = &variants[vi];
	struct acc *a = &run->acc[vi];
	int ret;

	(void)s2;
	(void)n2;
	if (a->skipped)
		return 0;
	if (v->kind == K_VECTOR)
		ret = run_vector(run, v, a, s, o, n);
	else if (v->kind == K_SESSION)
		ret = run_session(run, v, a, s, o, n);
	else
		ret = run_linux(run, v, a, s, o, n);
	if (ret < 0)
		return -1;
	return ret ? 0 : (long)n;
}

static void acc_to_result(const struct variant *v, const struct acc *a,
			  struct result *res)
{
	res->cr3_writes = a->cr3_writes;
	res->global_flushes = a->global_flushes;
	res->dropped = a->dropped;
	if (a->has_xen)
		result_extra(res, "xen_xpti", a->xen_xpti);
	if (v->kind == K_VECTOR || v->kind == K_SESSION) {
		result_extra(res, "vector", a->vec);
		if (v->trap)
			result_extra(res, "window", a->window);
		if (v->kind == K_SESSION)
			result_extra(res, "session_vector", a->sv);
		result_extra(res, "entries", a->entries);
		result_extra(res, "race_hits", a->race_hits);
		if (v->kind == K_SESSION) {
			result_extra(res, "session_enters", a->enters);
			result_extra(res, "session_exits", a->exits);
		} else {
			result_extra(res, "deferred", a->deferred);
		}
	}
}

int cmd_entry(int argc, char **argv)
{
	enum report_format fmt = REPORT_TABLE;
	const char *which = "all", *samples_path = NULL;
	struct run run = { .fd = -1, .cpu = DEFAULT_CPU };
	struct rounds_cfg rc = { .k = ROUNDS_DEFAULT_K, .seed = rounds_seed() };
	struct rounds_var rv[ARRAY_SIZE(variants)];
	unsigned long val;
	bool selected[ARRAY_SIZE(variants)] = { false }, ran = false;
	struct result *res[ARRAY_SIZE(variants)] = { NULL };
	uint64_t *ovh = NULL, *pool;
	size_t npool;
	struct report r;
	size_t nsel = 0, novh = 0;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		int err = 0;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0);
		if (report_format_arg(a, &fmt))
			continue;
		if (rounds_arg(argc, argv, &i, &rc, &err)) {
			if (err)
				return usage(stderr, EXIT_USAGE);
			continue;
		}
		if (!strcmp(a, "--cpu") && args_uint(next, CPU_SETSIZE - 1, &val)) {
			run.cpu = val;
		} else if (!strcmp(a, "--iterations") &&
			   args_uint(next, XPTILAB_MAX_ITERATIONS, &val) && val) {
			run.iterations = val;
		} else if (!strcmp(a, "--window") &&
			   args_uint(next, XPTILAB_MAX_WINDOW, &val)) {
			run.window = val;
		} else if (!strcmp(a, "--variant") && next) {
			which = next;
		} else if (!strcmp(a, "--samples") && next) {
			samples_path = next;
		} else {
			xptilab_err("entry: bad argument '%s'%s%s", a,
				    next ? " " : "", next ? next : "");
			return usage(stderr, EXIT_USAGE);
		}
		i++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
		selected[i] = !strcmp(which, "all") || !strcmp(which, variants[i].name);
		nsel += selected[i];
	}
	if (!nsel) {
		xptilab_err("entry: unknown variant '%s'", which);
		return usage(stderr, EXIT_USAGE);
	}
	/* The same block size for every variant: rounds pair them. */
	if (!rc.m)
		rc.m = run.iterations ? (run.iterations + rc.k - 2) / (rc.k - 1) :
		       DEFAULT_BLOCK;
	rc.warmup = warmup_of(rc.m);
	rc.max_mult = ENTRY_MAX_MULT;

	/*
	 * syscall (and int80) need no module: without it (a Xen PV guest, or
	 * a guest where it is not loaded) they run alone, with the same
	 * timing code, and (with --variant all) the variants that need it
	 * SKIP. Naming one of those without the module is an error.
	 */
	run.fd = dev_try_open();
	if (run.fd < 0 && strcmp(which, "all") && !module_free(selected)) {
		run.fd = dev_open();
		if (run.fd < 0)
			return 1;
	}
	report_init(&r, "entry", fmt, run.fd, run.cpu);
	if (run.fd < 0 && !sys_info(&r.info))
		r.has_info = true;
	if (!r.has_info)
		goto out_close;
	run.info = &r.info;
	if (r.plat.xen.present && !strcmp(r.plat.xen.guest_type, "PV")) {
		run.xen_pv = true;
		run.xen_xpti = xen_xpti_active(&r.plat.xen);
		run.xen_cr3_writes = xen_pv_syscall_cr3_writes(run.xen_xpti);
	}
	if (timing_pin(run.cpu))
		goto out_close;
	if (run.fd >= 0)
		tramp_arm(run.fd, run.cpu);

	report_reserve(&r, ARRAY_SIZE(variants));
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
		if (!selected[i])
			continue;
		res[i] = report_add(&r, variants[i].name, "cycles");
		if (run.fd < 0 && needs_module(&variants[i])) {
			run.acc[i].skipped = true;
			snprintf(run.acc[i].reason, sizeof(run.acc[i].reason),
				 "needs the module (%s not available%s)",
				 XPTILAB_DEVICE, run.xen_pv ?
				 ": it refuses a Xen PV guest" : "");
		}
	}
	ran = true;
	if (rounds_run(&rc, ARRAY_SIZE(variants), selected, entry_block, &run, rv, NULL))
		goto out;

	/* One overhead for the whole run, sampled next to every entry. */
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++)
		novh += selected[i] ? rv[i].novh : 0;
	ovh = calloc(novh ? novh : 1, sizeof(*ovh));
	if (!ovh) {
		xptilab_err("out of memory");
		goto out;
	}
	novh = 0;
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
		if (!selected[i] || run.acc[i].skipped)
			continue;
		memcpy(ovh + novh, rv[i].ovh, rv[i].novh * sizeof(*ovh));
		novh += rv[i].novh;
	}
	if (novh) {
		stats_compute(ovh, novh, &r.overhead);
		r.has_overhead = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
		if (!selected[i])
			continue;
		if (run.acc[i].skipped) {
			result_skip(res[i], "%s", run.acc[i].reason);
			continue;
		}
		rounds_finish(&rv[i], r.overhead.median);
		result_rounds(res[i], &rv[i]);
		acc_to_result(&variants[i], &run.acc[i], res[i]);
		pool = rounds_pool(&rv[i], &npool);
		if (pool) {
			stats_sort(pool, npool);
			median_ci(res[i], pool, npool);
			free(pool);
		}
	}
	r.has_rounds = true;
	r.rounds = rc;
	r.samples_path = samples_path;
	status = 0;
	if (samples_path && report_write_samples(&r, samples_path))
		status = 1;
	report_print(&r, stdout);
	if (fmt == REPORT_TABLE)
		print_stub_tax(rv, selected, &run, r.plat.emulated);
	if (fflush(stdout))
		status = 1;
out:
	if (run.fd >= 0)
		tramp_disarm();
	for (size_t i = 0; i < ARRAY_SIZE(variants) && ran; i++)
		if (selected[i])
			rounds_free(&rv[i]);
	free(ovh);
out_close:
	report_free(&r);
	if (run.fd >= 0)
		close(run.fd);
	return status;
}
