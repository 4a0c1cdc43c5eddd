// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab stale`: the stale-translation experiment (docs/stale.md). After
 * a top-level page-table update on one CPU, does another CPU still read
 * through the old translation, per IPI variant (none: the positive
 * control; empty, sync, flush, flush-nonglobal, invpcid), per clone mode
 * (the test mapping and the clones non-global or global), per fill (the
 * translation cached through the full root or through the shadow root),
 * and per state (same: on the full root with no CR3 write since; shadow:
 * after a CR3 write to the shadow root; full: after the switch back)?
 *
 * Each cell is stale reads / trials with an exact binomial 95% interval
 * (Clopper-Pearson; for zero stale reads the one-sided 95% upper bound
 * 1 - 0.05^(1/n)). The platform label (hardware, qemu-tcg, bochs) comes
 * with every output: an emulator's TLB is a model, and QEMU TCG's drops
 * global entries on every CR3 write.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "dev.h"
#include "json.h"
#include "jsonp.h"
#include "platform.h"
#include "stale.h"
#include "timing.h"
#include "xptilab.h"

#define STALE_DEFAULT_TRIALS	50
#define MAX_CPUS		1024

const char *const stale_variant_names[STALE_NVARIANTS] = {
	[XPTILAB_IPI_EMPTY] = "empty",
	[XPTILAB_IPI_SYNC] = "sync",
	[XPTILAB_IPI_FLUSH] = "flush",
	[XPTILAB_IPI_FLUSH_NONGLOBAL] = "flush-nonglobal",
	[XPTILAB_IPI_INVPCID] = "invpcid",
	[XPTILAB_STALE_NO_IPI] = "none",
};
const char *const stale_state_names[XPTILAB_STALE_NR_STATES] = {
	"same", "shadow", "full",
};
const char *const stale_fill_names[XPTILAB_STALE_NR_FILLS] = {
	"full", "shadow",
};
const char *const stale_clone_names[2] = { "nonglobal", "global" };

/* The order rows are run and shown in: the control first. */
static const unsigned int order[STALE_NVARIANTS] = {
	XPTILAB_STALE_NO_IPI, XPTILAB_IPI_EMPTY, XPTILAB_IPI_SYNC,
	XPTILAB_IPI_FLUSH, XPTILAB_IPI_FLUSH_NONGLOBAL, XPTILAB_IPI_INVPCID,
};

/* P(X <= k) for X ~ Binomial(n, p). */
static double binom_cdf(unsigned long k, unsigned long n, double p)
{
	double s = 0;

	if (p <= 0)
		return 1;
	if (p >= 1)
		return k >= n ? 1 : 0;
	for (unsigned long i = 0; i <= k && i <= n; i++)
		s += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) +
			 i * log(p) + (n - i) * log1p(-p));
	return s > 1 ? 1 : s;
}

void stale_interval(unsigned long k, unsigned long n, double *lo, double *hi)
{
	double a, b;

	if (!n) {
		*lo = 0;
		*hi = 1;
		return;
	}
	if (!k) {
		*lo = 0;
		*hi = 1 - pow(0.05, 1.0 / n);
		return;
	}
	/* upper: P(X <= k | p) = 0.025 */
	a = (double)k / n;
	b = 1;
	if (k == n) {
		*hi = 1;
	} else {
		for (int i = 0; i < 100; i++) {
			double m = (a + b) / 2;

			if (binom_cdf(k, n, m) > 0.025)
				a = m;
			else
				b = m;
		}
		*hi = b;
	}
	/* lower: P(X >= k | p) = 0.025, i.e. P(X <= k-1 | p) = 0.975 */
	a = 0;
	b = (double)k / n;
	for (int i = 0; i < 100; i++) {
		double m = (a + b) / 2;

		if (binom_cdf(k - 1, n, m) > 0.975)
			a = m;
		else
			b = m;
	}
	*lo = a;
}

const char *stale_platform_label(const struct platform *p)
{
	if (p->emulator)
		return p->emulator;
	return p->emulated ? "qemu-tcg" : p->hypervisor ? "virtual-machine" :
	       "hardware";
}

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab stale [--from CPU] [--targets LIST] [--trials N] [--json]\n"
		"       xptilab stale --render FILE\n"
		"  After a top-level entry changes, count reads of the old page on the\n"
		"  targets, per IPI variant (none = positive control, empty, sync,\n"
		"  flush, flush-nonglobal, invpcid), clone mode (nonglobal, global),\n"
		"  fill (full, shadow root) and state (same, shadow, full); docs/stale.md.\n"
		"  --from CPU       initiator, pinned (default: the first online CPU)\n"
		"  --targets LIST   target CPUs (default: every other online CPU)\n"
		"  --trials N       trials per target and cell (default %d, max %d)\n"
		"  --json           JSON instead of a table\n"
		"  xptilab stale --render FILE: FILE (an `xptilab stale --json` output)\n"
		"  as report.md's table and claim, in Markdown; needs no module.\n",
		STALE_DEFAULT_TRIALS, XPTILAB_MAX_STALE_TRIALS);
	return status;
}

struct cell {
	unsigned long trials, stale, fresh, other, disturbed, fill_errors;
};

struct stale_out {
	bool skipped[STALE_NVARIANTS][2];
	char why[STALE_NVARIANTS][2][160];
	/* [variant][global][fill][state] */
	struct cell c[STALE_NVARIANTS][2][XPTILAB_STALE_NR_FILLS][XPTILAB_STALE_NR_STATES];
};

static int run_one(int fd, int from, int target, unsigned int v, int g,
		   int fill, unsigned int trials, struct stale_out *o)
{
	struct xptilab_stale_run r = {
		.size = sizeof(r), .from_cpu = from, .target_cpu = target,
		.variant = v, .global = g, .fill = fill, .trials = trials,
	};

	if (ioctl(fd, XPTILAB_IOC_RUN_STALE, &r)) {
		int e = errno;

		if (e == EOPNOTSUPP) {
			o->skipped[v][g] = true;
			snprintf(o->why[v][g], sizeof(o->why[v][g]), "%s",
				 v == XPTILAB_IPI_INVPCID && !g ? "no INVPCID on this CPU" :
				 v == XPTILAB_IPI_INVPCID ? "no INVPCID or no global pages on this CPU" :
				 "no global pages (CR4.PGE) on this CPU");
			return 0;
		}
		xptilab_err("stale: XPTILAB_IOC_RUN_STALE %s/%s/%s cpu %d -> %d: %s%s",
			    stale_variant_names[v], stale_clone_names[g],
			    stale_fill_names[fill], from, target, strerror(e),
			    e == EINVAL ? " (details in dmesg)" : "");
		return -1;
	}
	for (int s = 0; s < XPTILAB_STALE_NR_STATES; s++) {
		struct cell *c = &o->c[v][g][fill][s];

		c->trials += r.done;
		c->stale += r.stale[s];
		c->fresh += r.fresh[s];
		c->other += r.other[s];
		c->disturbed += r.disturbed;
		c->fill_errors += r.fill_errors;
	}
	return 0;
}

static void print_json(const struct stale_out *o, const struct xptilab_info *info,
		       const struct platform *plat, int from, const bool *tset,
		       unsigned int trials)
{
	const struct cell *ctl = &o->c[XPTILAB_STALE_NO_IPI][0][0][XPTILAB_STALE_SAME];
	struct json j;
	double lo, hi;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "experiment", "stale");
	json_u64(&j, "schema", 1);
	json_string(&j, "platform", stale_platform_label(plat));
	info_json(&j, "machine", info, plat);
	json_i64(&j, "from_cpu", from);
	json_array_begin(&j, "targets");
	for (int c = 0; c < MAX_CPUS; c++)
		if (tset[c])
			json_i64(&j, NULL, c);
	json_array_end(&j);
	json_u64(&j, "trials_per_target", trials);
	json_object_begin(&j, "control");
	json_string(&j, "cell", "none/nonglobal/full/same");
	json_u64(&j, "trials", ctl->trials);
	json_u64(&j, "stale", ctl->stale);
	json_bool(&j, "sees_stale", ctl->stale > 0);
	json_object_end(&j);
	json_array_begin(&j, "rows");
	for (int i = 0; i < STALE_NVARIANTS; i++) {
		unsigned int v = order[i];

		for (int g = 0; g < 2; g++) {
			if (o->skipped[v][g]) {
				json_object_begin(&j, NULL);
				json_string(&j, "variant", stale_variant_names[v]);
				json_string(&j, "clones", stale_clone_names[g]);
				json_bool(&j, "skipped", true);
				json_string(&j, "reason", o->why[v][g]);
				json_object_end(&j);
				continue;
			}
			for (int f = 0; f < XPTILAB_STALE_NR_FILLS; f++)
				for (int s = 0; s < XPTILAB_STALE_NR_STATES; s++) {
					const struct cell *c = &o->c[v][g][f][s];

					stale_interval(c->stale, c->trials, &lo, &hi);
					json_object_begin(&j, NULL);
					json_string(&j, "variant", stale_variant_names[v]);
					json_string(&j, "clones", stale_clone_names[g]);
					json_string(&j, "fill", stale_fill_names[f]);
					json_string(&j, "state", stale_state_names[s]);
					json_bool(&j, "skipped", false);
					json_u64(&j, "trials", c->trials);
					json_u64(&j, "stale", c->stale);
					json_u64(&j, "fresh", c->fresh);
					json_u64(&j, "other", c->other);
					json_u64(&j, "disturbed", c->disturbed);
					json_u64(&j, "fill_errors", c->fill_errors);
					json_double(&j, "rate_low95", lo);
					json_double(&j, "rate_high95", hi);
					json_object_end(&j);
				}
		}
	}
	json_array_end(&j);
	json_object_end(&j);
	putchar('\n');
}

static void print_table(const struct stale_out *o, const struct platform *plat)
{
	const char *label = stale_platform_label(plat);

	printf("stale reads / trials after a top-level update (platform: %s)\n", label);
	printf("%-16s %-9s %-6s %-14s %-14s %-14s\n", "ipi", "clones", "fill",
	       "same", "shadow", "full");
	for (int i = 0; i < STALE_NVARIANTS; i++) {
		unsigned int v = order[i];

		for (int g = 0; g < 2; g++) {
			if (o->skipped[v][g]) {
				printf("%-16s %-9s SKIP: %s\n", stale_variant_names[v],
				       stale_clone_names[g], o->why[v][g]);
				continue;
			}
			for (int f = 0; f < XPTILAB_STALE_NR_FILLS; f++) {
				printf("%-16s %-9s %-6s", stale_variant_names[v],
				       stale_clone_names[g], stale_fill_names[f]);
				for (int s = 0; s < XPTILAB_STALE_NR_STATES; s++) {
					const struct cell *c = &o->c[v][g][f][s];
					char buf[32];

					snprintf(buf, sizeof(buf), "%lu/%lu", c->stale, c->trials);
					printf(" %-14s", buf);
				}
				putchar('\n');
			}
		}
	}
	if (!o->c[XPTILAB_STALE_NO_IPI][0][0][XPTILAB_STALE_SAME].stale)
		printf("control (none/nonglobal/full/same) read no stale data: this TLB cannot show a stale translation; zeros mean nothing here\n");
	if (!strcmp(label, "qemu-tcg"))
		printf("QEMU TCG flushes its whole TLB, global entries included, on every CR3 write: global vs non-global cannot be told apart here\n");
	else if (!strcmp(label, "bochs"))
		printf("Bochs keeps global entries across CR3 writes but does not tag its TLB by PCID (docs/bochs.md)\n");
}

static int online_cpus(bool *set)
{
	char why[128];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	char buf[4096];
	int n = -1;

	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		n = args_cpulist(buf, set, MAX_CPUS, why, sizeof(why));
	}
	if (f)
		fclose(f);
	return n;
}

static int render(const char *path)
{
	char err[256];
	struct jv *raw = jv_load(path, err, sizeof(err));
	int ok;

	if (!raw) {
		xptilab_err("stale: %s: %s", path, err);
		return 1;
	}
	ok = stale_form_ok(raw);
	if (ok) {
		stale_md(stdout, raw, NULL);
		stale_claim_md(stdout, raw, NULL);
	} else {
		xptilab_err("stale: %s is not an `xptilab stale --json` output", path);
	}
	jv_free(raw);
	return ok ? 0 : 1;
}

int cmd_stale(int argc, char **argv)
{
	static bool tset[MAX_CPUS], online[MAX_CPUS];
	static struct stale_out out;
	const char *targets = NULL;
	unsigned long trials = STALE_DEFAULT_TRIALS, val;
	struct xptilab_info info;
	struct platform plat;
	bool json = false;
	int from = -1, fd, ntargets = 0, status = 0;
	char why[128];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--render") && next) {
			return render(next);
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--from") && next) {
			if (args_uint_range("stale", a, next, 0, MAX_CPUS - 1, &val))
				return EXIT_USAGE;
			from = val;
			i++;
		} else if (!strcmp(a, "--targets") && next) {
			targets = next;
			i++;
		} else if (!strcmp(a, "--trials") && next) {
			if (args_uint_range("stale", a, next, 1,
					    XPTILAB_MAX_STALE_TRIALS, &trials))
				return EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			return usage(stdout, 0);
		} else {
			xptilab_err("stale: unknown or incomplete option '%s'", a);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (online_cpus(online) < 0) {
		xptilab_err("stale: cannot read the online CPUs");
		return 1;
	}
	if (from < 0)
		for (int c = 0; c < MAX_CPUS && from < 0; c++)
			if (online[c])
				from = c;
	if (from < 0 || !online[from]) {
		xptilab_err("stale: initiator cpu %d is not online", from);
		return EXIT_USAGE;
	}
	if (targets) {
		if (args_cpulist(targets, tset, MAX_CPUS, why, sizeof(why)) < 0) {
			xptilab_err("stale: --targets %s: %s", targets, why);
			return EXIT_USAGE;
		}
	} else {
		memcpy(tset, online, sizeof(tset));
	}
	tset[from] = false;
	for (int c = 0; c < MAX_CPUS; c++)
		ntargets += tset[c];
	if (!ntargets) {
		xptilab_err("stale: needs a target CPU besides the initiator %d (one CPU online?)", from);
		return EXIT_USAGE;
	}
	fd = dev_open();
	if (fd < 0)
		return 1;
	if (dev_info(fd, &info)) {
		close(fd);
		return 1;
	}
	platform_probe(&plat);
	if (timing_pin(from)) {
		close(fd);
		return 1;
	}
	for (int i = 0; i < STALE_NVARIANTS && !status; i++)
		for (int g = 0; g < 2 && !status; g++)
			for (int f = 0; f < XPTILAB_STALE_NR_FILLS && !status; f++)
				for (int c = 0; c < MAX_CPUS && !status; c++) {
					if (!tset[c] || out.skipped[order[i]][g])
						continue;
					status = run_one(fd, from, c, order[i], g, f,
							 trials, &out);
				}
	close(fd);
	if (status)
		return 1;
	if (json)
		print_json(&out, &info, &plat, from, tset, trials);
	else
		print_table(&out, &plat);
	return 0;
}
