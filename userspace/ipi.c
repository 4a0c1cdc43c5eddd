// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab ipi`: what the IPI sent after a top-level page-table update
 * costs, by handler variant, number of targets and NUMA distance (see
 * docs/ipi.md).
 *
 * The tool pins itself to the initiator CPU (--from) and, for every target
 * set and variant, makes one XPTILAB_IOC_RUN_IPI run of --iterations IPIs.
 * Each run gives two records, both in TSC cycles:
 *
 *   <variant>/latency  the initiator's time from sending the IPIs to the
 *                      last target having finished its handler (one
 *                      sample per IPI round);
 *   <variant>/handler  a target's time inside its handler; the samples of
 *                      every target of the set are pooled (iterations x
 *                      targets samples).
 *
 * Every record carries the set: "targets" (count), "distance" (the largest
 * NUMA distance from the initiator's node to a target's node; 10 is
 * local), "node" (the node of a --node or per-node run, else -1).
 *
 * Target sets: --targets LIST, --count N (the N nearest CPUs: by distance,
 * then CPU number), --node N (every online CPU of node N but the
 * initiator), or by default a sweep of every count 1 .. online CPUs - 1
 * and one run per node. Runs are reported in order of distance, then
 * target count.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dev.h"
#include "json.h"
#include "args.h"
#include "report.h"
#include "rounds.h"
#include "stats.h"
#include "timing.h"
#include "xptilab.h"

#define IPI_DEFAULT_ITERATIONS	1000
#define IPI_DEFAULT_BLOCK	50
#define MAX_CPUS		XPTILAB_MAX_CPU_BITS
#define ONLINE_CPUS		"/sys/devices/system/cpu/online"
#define LOCAL_DISTANCE		10	/* Linux's; libnuma's numa_distance(n, n) */
#define REMOTE_DISTANCE		20	/* Linux's default between nodes */
#define ALL_VARIANTS		((1u << XPTILAB_IPI_NR_VARIANTS) - 1)

static const char *const variant_names[XPTILAB_IPI_NR_VARIANTS] = {
	[XPTILAB_IPI_EMPTY] = "empty",
	[XPTILAB_IPI_SYNC] = "sync",
	[XPTILAB_IPI_FLUSH] = "flush",
	[XPTILAB_IPI_FLUSH_NONGLOBAL] = "flush-nonglobal",
	[XPTILAB_IPI_INVPCID] = "invpcid",
};

enum set_kind { SET_LIST, SET_COUNT, SET_NODE };

static const char *const kind_names[] = {
	[SET_LIST] = "list", [SET_COUNT] = "count", [SET_NODE] = "node",
};

struct ipi_opts {
	int from;			/* -1: the first online CPU */
	const char *targets;		/* --targets LIST */
	int count;			/* --count N, or 0 */
	int node;			/* --node N, or -1 */
	unsigned int iterations;
	unsigned int variants;		/* bit per enum xptilab_ipi_variant */
	enum report_format fmt;
	struct rounds_cfg rc;
	const char *samples;		/* --samples FILE, or NULL */
};

/* The machine's CPUs and NUMA nodes as libnuma describes them. */
struct topo {
	bool numa;			/* libnuma: numa_available() >= 0 */
	int nnodes;			/* node numbers 0 .. nnodes - 1 */
	bool *listed;			/* [node]: exists (has CPUs or a distance) */
	int *dist;			/* [a * nnodes + b] */
	bool online[MAX_CPUS];
	int nonline;
	int node_of[MAX_CPUS];		/* node of an online CPU */
};

struct target_set {
	enum set_kind kind;
	int ncpus;
	int cpus[MAX_CPUS];		/* ascending: the module's handler order */
	int distance;			/* max over targets, from the initiator's node */
	int node;			/* SET_NODE: its node; else -1 */
	int same_as;			/* index of a set with the same CPUs, or -1 */
};

/* What each report record was measured on (report.c keeps no pointer). */
struct rec_meta {
	const struct target_set *set;
};

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab ipi [--from CPU] [--targets LIST | --count N | --node N]\n"
		"                   [--variant V[,V...]] [--rounds K] [--block M] [--seed S]\n"
		"                   [--iterations N] [--samples FILE] [--json|--csv]\n"
		"  --from CPU       initiator, pinned (default: the first online CPU)\n"
		"  --targets LIST   target CPUs, e.g. 1-3,6 (not the initiator)\n"
		"  --count N        the N CPUs nearest the initiator (NUMA distance, then\n"
		"                   CPU number)\n"
		"  --node N         every online CPU of NUMA node N but the initiator\n"
		"                   (default: sweep counts 1 .. CPUs - 1, then every node)\n"
		"  --variant V      empty, sync, flush, flush-nonglobal, invpcid or all\n"
		"                   (default all)\n"
		"  --rounds K       rounds, round 0 discarded (default 21); each round runs\n"
		"                   every (target set, variant) once, in a fresh seeded order\n"
		"  --block M        IPI rounds per configuration per round (default 50),\n"
		"                   after M/10+1 untimed ones\n"
		"  --seed S         seed of the orders (default: from the clock; recorded)\n"
		"  --iterations N   instead of --block: N IPI rounds per configuration in\n"
		"                   all, 1..%u (default %u; M = N / (K - 1))\n"
		"  --samples FILE   write every block's samples to FILE\n"
		"  --json, --csv    machine-readable output (default: a table)\n"
		"Records: <variant>/latency (initiator: send -> all targets done) and\n"
		"<variant>/handler (each target's handler, all targets pooled), in TSC cycles.\n",
		XPTILAB_MAX_IPI_ITERATIONS, IPI_DEFAULT_ITERATIONS);
	return status;
}

/* A number in lo..hi (lo >= 0); else say why and return -1. */
static int parse_num(const char *opt, const char *s, long lo, long hi,
		     long *out)
{
	unsigned long v;

	if (args_uint_range("ipi", opt, s, lo, hi, &v))
		return -1;
	*out = v;
	return 0;
}

/*
 * Options as "--opt VALUE" or "--opt=VALUE". Returns 0, or the exit status
 * (EXIT_USAGE, or -1 for 0 after --help) with the message printed.
 */
static int parse_args(int argc, char **argv, struct ipi_opts *o)
{
	static const char *const names[] = {
		"--from", "--targets", "--count", "--node", "--variant",
		"--iterations",
	};
	int selectors = 0;

	memset(o, 0, sizeof(*o));
	o->from = -1;
	o->node = -1;
	o->iterations = IPI_DEFAULT_ITERATIONS;
	o->variants = ALL_VARIANTS;
	o->fmt = REPORT_TABLE;
	o->rc.k = ROUNDS_DEFAULT_K;
	o->rc.seed = rounds_seed();
	bool iters = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val;
		char name[32];
		long v;
		int err = 0, opt;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout, 0);
			return -1;
		}
		if (rounds_arg(argc, argv, &i, &o->rc, &err)) {
			if (err)
				return EXIT_USAGE;
			continue;
		}
		if (!strcmp(arg, "--samples") && i + 1 < argc) {
			o->samples = argv[++i];
			continue;
		}
		if (report_format_arg(arg, &o->fmt))
			continue;
		opt = args_option("ipi", argc, argv, &i, names, ARRAY_SIZE(names),
				  name, sizeof(name), &val);
		if (opt > 0) {
			xptilab_err("ipi: unknown argument '%s'", arg);
			usage(stderr, EXIT_USAGE);
			return EXIT_USAGE;
		}
		if (opt < 0)
			return EXIT_USAGE;
		if (!strcmp(name, "--from")) {
			if (parse_num(name, val, 0, MAX_CPUS - 1, &v))
				return EXIT_USAGE;
			o->from = v;
		} else if (!strcmp(name, "--targets")) {
			o->targets = val;
			selectors++;
		} else if (!strcmp(name, "--count")) {
			if (parse_num(name, val, 1, MAX_CPUS - 1, &v))
				return EXIT_USAGE;
			o->count = v;
			selectors++;
		} else if (!strcmp(name, "--node")) {
			if (parse_num(name, val, 0, INT_MAX, &v))
				return EXIT_USAGE;
			o->node = v;
			selectors++;
		} else if (!strcmp(name, "--iterations")) {
			if (parse_num(name, val, 1, XPTILAB_MAX_IPI_ITERATIONS, &v))
				return EXIT_USAGE;
			o->iterations = v;
			iters = true;
		} else if (args_variants("ipi", val, variant_names, XPTILAB_IPI_NR_VARIANTS,
					 &o->variants)) {
			return EXIT_USAGE;
		}
	}
	if (selectors > 1) {
		xptilab_err("ipi: --targets, --count and --node exclude each other");
		return EXIT_USAGE;
	}
	if (!o->rc.m)
		o->rc.m = iters ? (o->iterations + o->rc.k - 2) / (o->rc.k - 1) :
			  IPI_DEFAULT_BLOCK;
	if (o->rc.m > XPTILAB_MAX_IPI_ITERATIONS) {
		xptilab_err("ipi: --block %u: at most %u", o->rc.m, XPTILAB_MAX_IPI_ITERATIONS);
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_cpulist(const char *s, bool *set, char *why, size_t len)
{
	return args_cpulist(s, set, MAX_CPUS, why, len);
}

/* A CPU list as text, "1-3,6", from cpus[n] ascending. */
static void format_cpulist(const int *cpus, int n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && off < len; ) {
		int j = i;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (j == i)
			off += snprintf(buf + off, len - off, "%s%d", i ? "," : "",
					cpus[i]);
		else
			off += snprintf(buf + off, len - off, "%s%d-%d",
					i ? "," : "", cpus[i], cpus[j]);
		i = j + 1;
	}
}

/* ---- topology ---- */

static int topo_distance(const struct topo *t, int a, int b)
{
	return t->dist[a * t->nnodes + b];
}

static void topo_free(struct topo *t)
{
	free(t->listed);
	free(t->dist);
}

/* Online CPUs from sysfs; nodes and distances from libnuma. */
static int topo_probe(struct topo *t)
{
	char buf[8192], why[128];
	FILE *f;
	int n;

	memset(t, 0, sizeof(*t));
	f = fopen(ONLINE_CPUS, "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		xptilab_err("ipi: %s: %s", ONLINE_CPUS, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	n = parse_cpulist(buf, t->online, why, sizeof(why));
	if (n < 0) {
		xptilab_err("ipi: %s: %s", ONLINE_CPUS, why);
		return -1;
	}
	t->nonline = n;

	t->numa = numa_available() >= 0;
	t->nnodes = t->numa ? numa_max_node() + 1 : 1;
	if (t->nnodes < 1)
		t->nnodes = 1;
	t->listed = calloc(t->nnodes, sizeof(*t->listed));
	t->dist = calloc((size_t)t->nnodes * t->nnodes, sizeof(*t->dist));
	if (!t->listed || !t->dist) {
		xptilab_err("out of memory");
		return -1;
	}
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		int node = 0;

		if (!t->online[cpu])
			continue;
		if (t->numa) {
			node = numa_node_of_cpu(cpu);
			if (node < 0 || node >= t->nnodes)
				node = 0;	/* libnuma does not know: say local */
		}
		t->node_of[cpu] = node;
		t->listed[node] = true;
	}
	for (int a = 0; a < t->nnodes; a++)
		for (int b = 0; b < t->nnodes; b++) {
			int d = t->numa ? numa_distance(a, b) : 0;

			if (a == b && d > 0)
				t->listed[a] = true;
			if (d <= 0)	/* no SLIT: Linux's defaults */
				d = a == b ? LOCAL_DISTANCE : REMOTE_DISTANCE;
			t->dist[a * t->nnodes + b] = d;
		}
	return 0;
}

static int node_cpus(const struct topo *t, int node, int *cpus)
{
	int n = 0;

	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		if (t->online[cpu] && t->node_of[cpu] == node)
			cpus[n++] = cpu;
	return n;
}

/* ---- target sets ---- */

static void set_finish(const struct topo *t, int from, struct target_set *s)
{
	int home = t->node_of[from];

	/* ascending CPU order, the order of the module's handler samples */
	for (int i = 1; i < s->ncpus; i++)
		for (int j = i; j > 0 && s->cpus[j - 1] > s->cpus[j]; j--) {
			int tmp = s->cpus[j];

			s->cpus[j] = s->cpus[j - 1];
			s->cpus[j - 1] = tmp;
		}
	s->distance = 0;
	for (int i = 0; i < s->ncpus; i++) {
		int d = topo_distance(t, home, t->node_of[s->cpus[i]]);

		if (d > s->distance)
			s->distance = d;
	}
}

/* Every online CPU but from, nearest first (distance, then number). */
static int nearest_cpus(const struct topo *t, int from, int *out)
{
	int home = t->node_of[from], n = 0;

	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		if (t->online[cpu] && cpu != from)
			out[n++] = cpu;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0; j--) {
			int a = out[j - 1], b = out[j];
			int da = topo_distance(t, home, t->node_of[a]);
			int db = topo_distance(t, home, t->node_of[b]);

			if (da < db || (da == db && a < b))
				break;
			out[j - 1] = b;
			out[j] = a;
		}
	return n;
}

/* The next set of an array with room for it (see make_sets()). */
static struct target_set *sets_add(struct target_set *sets, int *n)
{
	struct target_set *s = &sets[(*n)++];

	memset(s, 0, sizeof(*s));
	s->node = -1;
	return s;
}

static void add_count_set(const struct topo *t, int from, const int *near,
			  int count, struct target_set *sets, int *n)
{
	struct target_set *s = sets_add(sets, n);

	s->kind = SET_COUNT;
	s->ncpus = count;
	memcpy(s->cpus, near, count * sizeof(int));
	set_finish(t, from, s);
}

static int set_cmp(const void *pa, const void *pb)
{
	const struct target_set *a = pa, *b = pb;

	if (a->distance != b->distance)
		return a->distance - b->distance;
	if (a->ncpus != b->ncpus)
		return a->ncpus - b->ncpus;
	if (a->node != b->node)
		return a->node - b->node;
	return (int)a->kind - (int)b->kind;
}

/* The sets the options ask for; EXIT_USAGE with a message if none can be. */
static int make_sets(const struct topo *t, const struct ipi_opts *o, int from,
		     struct target_set **sets, int *n)
{
	static int near[MAX_CPUS];
	int nnear = nearest_cpus(t, from, near);
	struct target_set *s;

	/* at most: every count, and one set per node */
	*n = 0;
	*sets = calloc(nnear + t->nnodes + 1, sizeof(**sets));
	if (!*sets) {
		xptilab_err("out of memory");
		return 1;
	}
	if (o->targets) {
		bool want[MAX_CPUS];
		char why[160];
		int cnt = parse_cpulist(o->targets, want, why, sizeof(why));

		if (cnt < 0) {
			xptilab_err("ipi: --targets: %s", why);
			return EXIT_USAGE;
		}
		if (!cnt) {
			xptilab_err("ipi: --targets: the target set is empty");
			return EXIT_USAGE;
		}
		if (want[from]) {
			xptilab_err("ipi: --targets: cpu %d is the initiator (--from); an IPI to itself is not one",
				    from);
			return EXIT_USAGE;
		}
		for (int cpu = 0; cpu < MAX_CPUS; cpu++)
			if (want[cpu] && !t->online[cpu]) {
				xptilab_err("ipi: --targets: cpu %d is not online (see %s)",
					    cpu, ONLINE_CPUS);
				return EXIT_USAGE;
			}
		s = sets_add(*sets, n);
		s->kind = SET_LIST;
		for (int cpu = 0; cpu < MAX_CPUS; cpu++)
			if (want[cpu])
				s->cpus[s->ncpus++] = cpu;
		set_finish(t, from, s);
		return 0;
	}
	if (!nnear) {
		xptilab_err("ipi: cpu %d is the only online CPU: no target to send IPIs to",
			    from);
		return EXIT_USAGE;
	}
	if (o->count) {
		if (o->count > nnear) {
			xptilab_err("ipi: --count %d: only %d online CPU%s besides the initiator",
				    o->count, nnear, nnear == 1 ? "" : "s");
			return EXIT_USAGE;
		}
		add_count_set(t, from, near, o->count, *sets, n);
		return 0;
	}
	if (o->node >= 0) {
		if (o->node >= t->nnodes || !t->listed[o->node]) {
			xptilab_err("ipi: --node %d: no such NUMA node%s", o->node,
				    t->numa ? "" : " (libnuma: no NUMA here, only node 0)");
			return EXIT_USAGE;
		}
		s = sets_add(*sets, n);
		s->kind = SET_NODE;
		s->node = o->node;
		for (int cpu = 0; cpu < MAX_CPUS; cpu++)
			if (t->online[cpu] && cpu != from &&
			    t->node_of[cpu] == o->node)
				s->cpus[s->ncpus++] = cpu;
		if (!s->ncpus) {
			xptilab_err("ipi: --node %d: the node has no online CPU but the initiator",
				    o->node);
			return EXIT_USAGE;
		}
		set_finish(t, from, s);
		return 0;
	}
	/* the default sweep */
	for (int c = 1; c <= nnear; c++)
		add_count_set(t, from, near, c, *sets, n);
	for (int node = 0; node < t->nnodes; node++) {
		if (!t->listed[node])
			continue;
		s = sets_add(*sets, n);
		s->kind = SET_NODE;
		s->node = node;
		for (int cpu = 0; cpu < MAX_CPUS; cpu++)
			if (t->online[cpu] && cpu != from && t->node_of[cpu] == node)
				s->cpus[s->ncpus++] = cpu;
		if (!s->ncpus) {	/* only the initiator there: no run */
			(*n)--;
			continue;
		}
		set_finish(t, from, s);
	}
	qsort(*sets, *n, sizeof(**sets), set_cmp);
	return 0;
}

/* ---- the module's reason for an EINVAL, from the kernel log ---- */

/* /dev/kmsg positioned at its end, or -1: the next records are new. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static void kmsg_skip(int fd)
{
	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
}

/* The last "xptilab: ipi: ..." line logged since kmsg_skip(), or false. */
static bool kmsg_reason(int fd, char *out, size_t len)
{
	char rec[2048];
	bool found = false;

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t got = read(fd, rec, sizeof(rec) - 1);
		char *msg, *nl;

		if (got < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (got <= 0)
			break;
		rec[got] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(msg, "xptilab: ipi: ", 14)) {
			snprintf(out, len, "%s", msg + 14);
			found = true;
		}
	}
	return found;
}

/* ---- runs ---- */

struct ipi_bufs {
	uint64_t *latency;	/* [iterations] */
	uint64_t *handler;	/* [iterations * targets] */
};

static const char *invpcid_reason(const struct report *r)
{
	if (r->has_info && !(r->info.features & XPTILAB_FEAT_INVPCID))
		return r->plat.emulated ?
		       "CPU lacks INVPCID (QEMU TCG does not emulate it)" :
		       "CPU lacks INVPCID";
	return "the module refused it (EOPNOTSUPP: no INVPCID)";
}

static void set_extras(struct result *res, const struct target_set *s,
		       unsigned int iterations)
{
	result_extra(res, "targets", s->ncpus);
	result_extra(res, "distance", s->distance);
	result_extra(res, "node", s->node);
	result_extra(res, "iterations", iterations);
}

/* One configuration (a target set and a variant), run in rounds. */
struct conf {
	const struct target_set *set;
	unsigned int v;
	struct result *lat, *hnd;
	unsigned int calls;		/* blocks run; the first is round 0 */
	int same_as;			/* the conf that measures this one, or -1 */
	uint64_t *per_target;		/* [target][kept samples] */
	size_t nper;			/* kept samples per target */
	unsigned int tsc_khz;
};

struct ipi_ctx {
	int fd, kmsg, from;
	struct ipi_bufs b;
	struct conf *confs;
	unsigned int warmup;
	size_t cap;			/* per_target capacity per target */
	const struct report *r;
};

/*
 * One XPTILAB_IOC_RUN_IPI of n IPI rounds for c. Returns 0, or the errno
 * (the caller says what it means).
 */
static int ipi_ioctl(struct ipi_ctx *x, const struct conf *c, unsigned int n,
		     struct xptilab_ipi_run *run)
{
	const struct target_set *s = c->set;
	uint64_t bits[MAX_CPUS / 64] = { 0 };

	for (int i = 0; i < s->ncpus; i++)
		bits[s->cpus[i] / 64] |= 1ULL << (s->cpus[i] % 64);
	memset(run, 0, sizeof(*run));
	run->size = sizeof(*run);
	run->from_cpu = x->from;
	run->variant = c->v;
	run->iterations = n;
	run->targets = (uintptr_t)bits;
	run->target_bits = s->cpus[s->ncpus - 1] + 1;
	run->latency = (uintptr_t)x->b.latency;
	run->handler = (uintptr_t)x->b.handler;
	kmsg_skip(x->kmsg);
	if (ioctl(x->fd, XPTILAB_IOC_RUN_IPI, run))
		return errno;
	if (run->ntargets != (__u32)s->ncpus) {
		xptilab_err("ipi: %s: the module counted %u targets, the tool %d",
			    variant_names[c->v], run->ntargets, s->ncpus);
		return EIO;
	}
	return 0;
}

/* What a failed run means: 0 (skipped), EXIT_USAGE or 1, said. */
static int ipi_failed(struct ipi_ctx *x, struct conf *c, int err)
{
	const char *name = variant_names[c->v];
	char why[256];

	if (err == EOPNOTSUPP && c->v == XPTILAB_IPI_INVPCID && c->lat) {
		result_skip(c->lat, "%s", invpcid_reason(x->r));
		result_skip(c->hnd, "%s", invpcid_reason(x->r));
		return 0;
	}
	if (err == EINVAL) {
		if (kmsg_reason(x->kmsg, why, sizeof(why)))
			xptilab_err("ipi: %s: the module refused the run (EINVAL): %s",
				    name, why);
		else
			xptilab_err("ipi: %s: the module refused the run (EINVAL): a target offline or out of range, the initiator among the targets, or the tool not pinned to cpu %d (details in dmesg)",
				    name, x->from);
		return EXIT_USAGE;
	}
	if (err == EBUSY) {
		xptilab_err("ipi: %s: the module is busy (EBUSY): another task's session keeps the shadow roots' user half",
			    name);
		return 1;
	}
	if (err != EIO)
		xptilab_err("ipi: %s: XPTILAB_IOC_RUN_IPI from cpu %d: %s", name,
			    x->from, strerror(err));
	return 1;
}

/*
 * rounds_block_fn: an untimed warm-up run, then one block of m IPI rounds;
 * s gets the latencies, s2 every target's handler samples (m x targets).
 */
static long ipi_block(void *ctx, size_t ci, uint64_t *s, uint64_t *s2,
		      size_t *n2, uint64_t *ovh, size_t m)
{
	struct ipi_ctx *x = ctx;
	struct conf *c = &x->confs[ci];
	struct xptilab_ipi_run run;
	size_t nt = c->set->ncpus;
	int err;

	(void)ovh;
	if (x->warmup && (err = ipi_ioctl(x, c, x->warmup, &run)))
		return ipi_failed(x, c, err), -1;
	if ((err = ipi_ioctl(x, c, m, &run)))
		return ipi_failed(x, c, err), -1;
	c->tsc_khz = run.tsc_khz;
	memcpy(s, x->b.latency, m * sizeof(*s));
	memcpy(s2, x->b.handler, m * nt * sizeof(*s2));
	*n2 = m * nt;
	/* each target's samples, kept rounds only: max_target_median */
	if (c->calls++ && c->per_target && c->nper + m <= x->cap) {
		for (size_t k = 0; k < nt; k++)
			memcpy(c->per_target + k * x->cap + c->nper,
			       x->b.handler + k * m, m * sizeof(uint64_t));
		c->nper += m;
	}
	return m;
}

/* ---- output ---- */

static void json_cpus(struct json *j, const char *key, const int *cpus, int n)
{
	json_array_begin(j, key);
	for (int i = 0; i < n; i++)
		json_i64(j, NULL, cpus[i]);
	json_array_end(j);
}

static void json_topology(struct json *j, const struct topo *t, int from)
{
	static int cpus[MAX_CPUS];
	int home = t->node_of[from];

	json_object_begin(j, "topology");
	json_bool(j, "numa", t->numa);
	json_string(j, "source", t->numa ? "libnuma" :
		    "libnuma: NUMA not available, one node assumed");
	json_i64(j, "initiator", from);
	json_i64(j, "initiator_node", home);
	json_array_begin(j, "nodes");
	for (int a = 0; a < t->nnodes; a++) {
		if (!t->listed[a])
			continue;
		json_object_begin(j, NULL);
		json_i64(j, "node", a);
		json_cpus(j, "cpus", cpus, node_cpus(t, a, cpus));
		json_i64(j, "distance_from_initiator", topo_distance(t, home, a));
		json_object_end(j);
	}
	json_array_end(j);
	/* rows and columns in the order of "nodes" */
	json_array_begin(j, "distance_matrix");
	for (int a = 0; a < t->nnodes; a++) {
		if (!t->listed[a])
			continue;
		json_array_begin(j, NULL);
		for (int b = 0; b < t->nnodes; b++)
			if (t->listed[b])
				json_i64(j, NULL, topo_distance(t, a, b));
		json_array_end(j);
	}
	json_array_end(j);
	/* distinct distances from the initiator's node to an online CPU */
	json_array_begin(j, "distances_from_initiator");
	for (int d = 0, next; d < INT_MAX; d = next) {
		next = INT_MAX;
		for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
			int dc = topo_distance(t, home, t->node_of[cpu]);

			if (t->online[cpu] && cpu != from && dc > d && dc < next)
				next = dc;
		}
		if (next < INT_MAX)
			json_i64(j, NULL, next);
	}
	json_array_end(j);
	json_object_end(j);
}

struct json_ctx {
	const struct rec_meta *meta;
	const struct topo *t;
	int from;
	unsigned int iterations;
};

/* report.c's JSON plus the iterations, the topology and each record's set. */
static void json_top(struct json *j, const struct report *r, void *arg)
{
	const struct json_ctx *c = arg;

	(void)r;
	json_u64(j, "iterations", c->iterations);
	json_topology(j, c->t, c->from);
}

static void json_record(struct json *j, const struct report *r, size_t i,
			void *arg)
{
	const struct json_ctx *c = arg;
	const struct target_set *s = c->meta[i].set;

	(void)r;
	json_string(j, "set", kind_names[s->kind]);
	json_cpus(j, "cpus", s->cpus, s->ncpus);
}

static void print_json(struct report *r, const struct rec_meta *meta,
		       const struct topo *t, int from, unsigned int iterations)
{
	struct json_ctx c = {
		.meta = meta, .t = t, .from = from, .iterations = iterations,
	};

	r->hooks = (struct report_json_hooks){
		.json_top = json_top, .json_record = json_record, .ctx = &c,
	};
	report_print(r, stdout);
	r->hooks = (struct report_json_hooks){};
}

static void print_machine(const struct report *r)
{
	const struct xptilab_info *in = &r->info;

	if (!r->has_info)
		return;
	printf("machine: %s, kernel %s, %u CPUs, %u-level paging, PTI %s, INVPCID %s\n",
	       in->cpu_model, in->kernel_release, in->cpus_online,
	       in->paging_levels, in->features & XPTILAB_FEAT_PTI ? "on" : "off",
	       in->features & XPTILAB_FEAT_INVPCID ? "yes" : "no");
	if (r->plat.emulated)
		printf("EMULATED (%s): cycle counts are emulator numbers, not hardware figures;\n"
		       "  TCG models neither global pages nor real interrupt delivery, and its NUMA\n"
		       "  nodes share one host memory: differences between variants and distances\n"
		       "  say nothing about hardware.\n",
		       r->plat.emulator ? r->plat.emulator : r->plat.hv_vendor);
	else if (r->plat.hypervisor)
		printf("virtualized (hypervisor %s)\n", r->plat.hv_vendor);
}

static void print_topology(const struct topo *t, int from)
{
	static int cpus[MAX_CPUS];
	char list[4096];
	int nodes = 0;

	for (int a = 0; a < t->nnodes; a++)
		nodes += t->listed[a];
	if (t->numa)
		printf("topology (libnuma): %d NUMA node%s; initiator cpu %d on node %d\n",
		       nodes, nodes == 1 ? "" : "s", from, t->node_of[from]);
	else
		printf("topology: libnuma reports no NUMA: one node assumed; initiator cpu %d\n",
		       from);
	for (int a = 0; a < t->nnodes; a++) {
		if (!t->listed[a])
			continue;
		format_cpulist(cpus, node_cpus(t, a, cpus), list, sizeof(list));
		printf("  node %d: cpus %-12s distances:", a, *list ? list : "-");
		for (int b = 0; b < t->nnodes; b++)
			if (t->listed[b])
				printf(" %d", topo_distance(t, a, b));
		putchar('\n');
	}
}

static void print_table(const struct report *r, const struct rec_meta *meta,
			const struct topo *t, int from, unsigned int iterations)
{
	int last_distance = -1;

	printf("experiment: ipi from cpu %d, %u IPI rounds per run\n", from,
	       iterations);
	print_machine(r);
	print_topology(t, from);
	printf("latency: initiator, send -> all targets done; handler: one target's handler,\n"
	       "all targets' samples pooled; TSC cycles. dist: largest NUMA distance to a\n"
	       "target; node: the node of a per-node run.\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct result *res = &r->results[i];
		const struct target_set *s = meta[i].set;
		const struct stats *st = &res->st;
		char list[4096];

		if (s->distance != last_distance) {
			last_distance = s->distance;
			printf("\ndistance %d%s\n", s->distance,
			       s->distance == topo_distance(t, t->node_of[from],
							    t->node_of[from]) ?
			       " (local)" : "");
			printf("%4s %4s %4s %-24s %7s %9s %9s %9s %9s %9s  %s\n",
			       "tgts", "dist", "node", "record", "n", "min",
			       "median", "p90", "p99", "max", "cpus");
		}
		/* one line for both records of a skipped run */
		if (res->skipped && i && meta[i - 1].set == s &&
		    r->results[i - 1].skipped &&
		    !strncmp(r->results[i - 1].variant, res->variant,
			     strcspn(res->variant, "/") + 1))
			continue;
		format_cpulist(s->cpus, s->ncpus, list, sizeof(list));
		printf("%4d %4d ", s->ncpus, s->distance);
		if (s->node >= 0)
			printf("%4d ", s->node);
		else
			printf("%4s ", "-");
		if (res->skipped) {
			printf("%-24.*s SKIP: %s\n", (int)strcspn(res->variant, "/"),
			       res->variant, res->reason);
			continue;
		}
		printf("%-24s %7zu %9llu %9llu %9llu %9llu %9llu  %s\n",
		       res->variant, st->n, (unsigned long long)st->min,
		       (unsigned long long)st->median, (unsigned long long)st->p90,
		       (unsigned long long)st->p99, (unsigned long long)st->max,
		       list);
	}
}

int cmd_ipi(int argc, char **argv)
{
	struct target_set *sets = NULL;
	struct rec_meta *meta = NULL;
	struct ipi_ctx x = { .fd = -1, .kmsg = -1 };
	struct rounds_var *rv = NULL, *rh = NULL;
	bool *active = NULL, ran = false;
	struct ipi_opts o;
	struct report r;
	struct topo t;
	int fd = -1, kmsg = -1, nsets = 0, from, maxt = 0, ret;
	size_t nvar = 0, nrec, nconf = 0;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (topo_probe(&t)) {
		topo_free(&t);
		return 1;
	}
	from = o.from;
	if (from < 0) {
		for (from = 0; from < MAX_CPUS && !t.online[from]; from++)
			;
	} else if (!t.online[from]) {
		xptilab_err("ipi: --from %d: not an online CPU (see %s)", from,
			    ONLINE_CPUS);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = make_sets(&t, &o, from, &sets, &nsets);
	if (ret)
		goto out;
	for (int i = 0; i < nsets; i++)
		if (sets[i].ncpus > maxt)
			maxt = sets[i].ncpus;
	for (unsigned int v = 0; v < XPTILAB_IPI_NR_VARIANTS; v++)
		nvar += !!(o.variants & (1u << v));

	fd = dev_open();
	if (fd < 0) {
		ret = 1;
		goto out;
	}
	x.b.latency = calloc(o.rc.m, sizeof(uint64_t));
	x.b.handler = calloc((size_t)o.rc.m * maxt, sizeof(uint64_t));
	nrec = 2 * nvar * nsets;
	meta = calloc(nrec, sizeof(*meta));
	x.confs = calloc(nvar * nsets + 1, sizeof(*x.confs));
	active = calloc(nvar * nsets + 1, sizeof(*active));
	rv = calloc(nvar * nsets + 1, sizeof(*rv));
	rh = calloc(nvar * nsets + 1, sizeof(*rh));
	if (!x.b.latency || !x.b.handler || !meta || !x.confs || !active || !rv || !rh) {
		xptilab_err("out of memory");
		ret = 1;
		goto out;
	}
	report_init(&r, "ipi", o.fmt, fd, from);
	if (!r.has_info) {
		ret = 1;
		goto out_report;
	}
	if (r.info.abi_version != XPTILAB_ABI_VERSION)
		xptilab_err("warning: module ABI %u, tool built for ABI %u",
			    r.info.abi_version, XPTILAB_ABI_VERSION);
	if (timing_pin(from)) {
		ret = 1;
		goto out_report;
	}
	kmsg = kmsg_open();
	x.fd = fd;
	x.kmsg = kmsg;
	x.from = from;
	x.r = &r;
	x.warmup = o.rc.m / 10 + 1;
	o.rc.warmup = x.warmup;
	o.rc.s2_factor = maxt;
	x.cap = (size_t)o.rc.m * o.rc.k;

	/*
	 * Every configuration (set x variant) is a "variant" of the rounds:
	 * each round runs every one once, in a fresh order. A one-round probe
	 * first: SKIP what the module refuses as unsupported.
	 */
	/*
	 * A count set and a node set with the same CPUs are one configuration:
	 * measured once (the first), reported under both names.
	 */
	for (int i = 0; i < nsets; i++) {
		sets[i].same_as = -1;
		for (int k = 0; k < i && sets[i].same_as < 0; k++)
			if (sets[k].same_as < 0 && sets[k].ncpus == sets[i].ncpus &&
			    !memcmp(sets[k].cpus, sets[i].cpus, sets[i].ncpus * sizeof(int)))
				sets[i].same_as = k;
	}
	/* c->lat and c->hnd point into the report: no reallocation after. */
	report_reserve(&r, 2 * (size_t)nsets * XPTILAB_IPI_NR_VARIANTS);
	for (int i = 0; i < nsets && !ret; i++)
		for (unsigned int v = 0; v < XPTILAB_IPI_NR_VARIANTS && !ret; v++) {
			struct conf *c = &x.confs[nconf];
			struct xptilab_ipi_run run;
			char rname[32];
			int err;

			if (!(o.variants & (1u << v)))
				continue;
			c->set = &sets[i];
			c->v = v;
			snprintf(rname, sizeof(rname), "%s/latency", variant_names[v]);
			c->lat = report_add(&r, rname, "cycles");
			set_extras(c->lat, &sets[i], o.rc.m * (o.rc.k - 1));
			snprintf(rname, sizeof(rname), "%s/handler", variant_names[v]);
			c->hnd = report_add(&r, rname, "cycles");
			set_extras(c->hnd, &sets[i], o.rc.m * (o.rc.k - 1));
			meta[r.n - 2].set = meta[r.n - 1].set = &sets[i];
			c->same_as = -1;
			if (sets[i].same_as >= 0) {
				/* its twin's conf: same variant, earlier set */
				for (size_t k = 0; k < nconf; k++)
					if (x.confs[k].set == &sets[sets[i].same_as] &&
					    x.confs[k].v == v)
						c->same_as = k;
			}
			if (c->same_as >= 0) {
				nconf++;
				continue;
			}
			err = ipi_ioctl(&x, c, 1, &run);
			if (err) {
				ret = ipi_failed(&x, c, err);
			} else {
				active[nconf] = true;
				c->per_target = calloc(x.cap * sets[i].ncpus, sizeof(uint64_t));
				if (!c->per_target) {
					xptilab_err("out of memory");
					ret = 1;
				}
			}
			nconf++;
		}
	if (ret)
		goto out_report;
	/* confs[] must not move: the results they point at are final now */
	for (size_t c = 0; c < nconf; c++) {
		x.confs[c].lat = NULL;
		x.confs[c].hnd = NULL;
	}
	ran = true;
	if (rounds_run(&o.rc, nconf, active, ipi_block, &x, rv, rh)) {
		ret = 1;
		goto out_report;
	}
	for (size_t c = 0, k = 0; c < nconf; c++, k += 2) {
		struct conf *cf = &x.confs[c];
		struct result *lat = &r.results[k], *hnd = &r.results[k + 1];
		uint64_t worst = 0;
		struct stats ts;

		if (cf->same_as >= 0) {
			/* measured as its twin: the same blocks, under this set's name */
			const struct result *tl = &r.results[2 * cf->same_as];

			lat->st = tl->st;
			lat->rv = tl->rv;
			hnd->st = tl[1].st;
			hnd->rv = tl[1].rv;
			if (tl->skipped) {
				result_skip(lat, "%s", tl->reason);
				result_skip(hnd, "%s", tl[1].reason);
			}
			result_extra(lat, "same_as_record", 2 * cf->same_as);
			result_extra(hnd, "same_as_record", 2 * cf->same_as + 1);
			continue;
		}
		if (!active[c])
			continue;
		rounds_finish(&rv[c], 0);
		rounds_finish(&rh[c], 0);
		result_rounds(lat, &rv[c]);
		result_rounds(hnd, &rh[c]);
		for (int t2 = 0; t2 < cf->set->ncpus && cf->nper; t2++) {
			stats_compute(cf->per_target + t2 * x.cap, cf->nper, &ts);
			if (ts.median > worst)
				worst = ts.median;
		}
		result_extra(lat, "tsc_khz", (double)cf->tsc_khz);
		result_extra(hnd, "tsc_khz", (double)cf->tsc_khz);
		result_extra(hnd, "max_target_median", (double)worst);
	}
	r.has_rounds = true;
	r.rounds = o.rc;
	r.samples_path = o.samples;
	if (o.samples && report_write_samples(&r, o.samples))
		ret = 1;

	if (o.fmt == REPORT_JSON)
		print_json(&r, meta, &t, from, o.rc.m * (o.rc.k - 1));
	else if (o.fmt == REPORT_CSV)
		report_print(&r, stdout);
	else
		print_table(&r, meta, &t, from, o.rc.m * (o.rc.k - 1));
	if (fflush(stdout))
		ret = 1;
out_report:
	report_free(&r);
out:
	for (size_t c = 0; c < nconf; c++) {
		if (ran && active[c]) {
			rounds_free(&rv[c]);
			rounds_free(&rh[c]);
		}
		free(x.confs[c].per_target);
	}
	free(x.confs);
	free(active);
	free(rv);
	free(rh);
	if (kmsg >= 0)
		close(kmsg);
	if (fd >= 0)
		close(fd);
	free(meta);
	free(x.b.latency);
	free(x.b.handler);
	free(sets);
	topo_free(&t);
	return ret;
}
