// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab session`: how sessions ended and how long they lasted.
 *
 *   --stats [--cpu N|all]   the module's session counters (since it was
 *                           loaded): sessions entered, ended, refused, the
 *                           entry that ended them by vector, the TSC ticks
 *                           spent in sessions and a log2 histogram of
 *                           session lengths.
 *   --run S [--cpu N]       a demo: pinned to N, start sessions, and for S
 *                           seconds spin in user mode, re-entering a
 *                           session whenever one ends; then the same
 *                           numbers for that run only.
 *
 * See docs/sessions.md.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "json.h"
#include "args.h"
#include "report.h"
#include "session.h"
#include "timing.h"
#include "xptilab.h"

#define DEFAULT_RUN_CPU		0
#define MAX_RUN_SECONDS		3600
#define SPIN_BATCH		4096

struct cpu_stats {
	int cpu;
	struct xptilab_session_stats st;
};

static double mean_ticks(const struct xptilab_session_stats *st)
{
	return st->exits ? (double)st->ticks / (double)st->exits : 0.0;
}

static uint64_t sum_vectors(const struct xptilab_session_stats *st)
{
	uint64_t n = 0;

	for (int v = 0; v < 256; v++)
		n += st->exits_by_vector[v];
	return n;
}

static void stats_json(struct json *j, const struct cpu_stats *c)
{
	const struct xptilab_session_stats *st = &c->st;

	json_object_begin(j, NULL);
	json_i64(j, "cpu", c->cpu);
	json_u64(j, "enters", st->enters);
	json_u64(j, "exits", st->exits);
	json_u64(j, "refused", st->refused);
	json_u64(j, "ticks", st->ticks);
	json_double(j, "mean_ticks", mean_ticks(st));
	json_array_begin(j, "exits_by_vector");
	for (int v = 0; v < 256; v++) {
		if (!st->exits_by_vector[v])
			continue;
		json_object_begin(j, NULL);
		json_u64(j, "vector", v);
		json_string(j, "name", session_vector_name(v));
		json_u64(j, "count", st->exits_by_vector[v]);
		json_object_end(j);
	}
	json_array_end(j);
	/* Bucket b: sessions of [2^b, 2^(b+1)) ticks (b = 0 also holds 0). */
	json_array_begin(j, "duration_log2");
	for (int b = 0; b < 64; b++) {
		if (!st->duration_log2[b])
			continue;
		json_object_begin(j, NULL);
		json_u64(j, "log2", b);
		json_u64(j, "count", st->duration_log2[b]);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void stats_table(const struct cpu_stats *c)
{
	const struct xptilab_session_stats *st = &c->st;
	uint64_t byvec = sum_vectors(st);
	uint32_t most = 0;

	printf("cpu %d: %llu entered, %llu ended, %llu refused; %llu ticks in sessions",
	       c->cpu, (unsigned long long)st->enters,
	       (unsigned long long)st->exits, (unsigned long long)st->refused,
	       (unsigned long long)st->ticks);
	if (st->exits)
		printf(", mean %.0f ticks per session", mean_ticks(st));
	putchar('\n');
	if (!byvec)
		return;
	printf("  ended by:\n");
	printf("    %-6s %-28s %10s %7s\n", "vector", "kind", "count", "share");
	for (int v = 0; v < 256; v++) {
		if (!st->exits_by_vector[v])
			continue;
		printf("    0x%02x   %-28s %10u %6.1f%%\n", v, session_vector_name(v),
		       st->exits_by_vector[v],
		       100.0 * st->exits_by_vector[v] / (double)byvec);
	}
	for (int b = 0; b < 64; b++)
		if (st->duration_log2[b] > most)
			most = st->duration_log2[b];
	if (!most)
		return;
	printf("  lasted (TSC ticks):\n");
	for (int b = 0; b < 64; b++) {
		uint32_t n = st->duration_log2[b];
		int bar;

		if (!n)
			continue;
		bar = (int)ceil(40.0 * n / most);
		printf("    [2^%-2d, 2^%-2d) %10u  %.*s\n", b, b + 1, n, bar,
		       "########################################");
	}
}

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab session [--stats] [--cpu N|all] [--json]\n"
		"       xptilab session --run SECONDS [--cpu N] [--json]\n"
		"  --stats        how sessions ended (by vector) and how long they\n"
		"                 lasted, since the module was loaded (default: all CPUs)\n"
		"  --run S        demo: spin for S seconds (1..%d) in sessions on cpu N\n"
		"                 (default %d), re-entering whenever one ends, then\n"
		"                 print that run's numbers\n"
		"  --json         JSON instead of a table\n"
		"Durations are TSC ticks. See docs/sessions.md.\n",
		MAX_RUN_SECONDS, DEFAULT_RUN_CPU);
	return status;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct spin {
	uint64_t loops;		/* batches spun */
	uint64_t reentries;	/* session entries that found it ended */
	uint64_t tsc;		/* TSC ticks of the whole run */
	double seconds;
};

/* TSC ticks per second, against CLOCK_MONOTONIC over ~100 ms. */
static double tsc_rate(void)
{
	struct timespec d = { 0, 100 * 1000 * 1000 };
	double t0 = now_s();
	uint64_t c0 = tsc_serialized();

	nanosleep(&d, NULL);
	return (tsc_serialized() - c0) / (now_s() - t0);
}

/*
 * Spin in sessions on vec for seconds. The loop makes no entry of its own:
 * it watches the TSC (clock_gettime() may be a syscall, with a clocksource
 * the vDSO cannot read), so every session ends by something else.
 */
static int spin(unsigned int vec, unsigned int seconds, struct spin *sp)
{
	volatile uint64_t acc = 0;
	double rate = tsc_rate(), t0 = now_s();
	uint64_t c0 = tsc_serialized(), until = c0 + (uint64_t)(rate * seconds);
	long last = session_enter(vec);

	if (last < 0) {
		xptilab_err("session: the session vector %#x refused the entry (%ld)",
			    vec, last);
		return -1;
	}
	do {
		long cur = session_enter(vec);

		if (cur < 0) {
			xptilab_err("session: entry refused in the run (%ld)", cur);
			return -1;
		}
		if (cur != last)
			sp->reentries++;
		last = cur;
		for (int i = 0; i < SPIN_BATCH; i++)
			acc += i;
		sp->loops++;
	} while (tsc_serialized() < until);
	sp->tsc = tsc_serialized() - c0;
	sp->seconds = now_s() - t0;
	(void)acc;
	return 0;
}

static int do_run(int fd, int cpu, unsigned int seconds, struct cpu_stats *c,
		  struct spin *sp)
{
	struct xptilab_session_stats before;
	unsigned int vec;

	if (timing_pin(cpu))
		return -1;
	if (session_op(fd, cpu, XPTILAB_SESSION_START, 0, &vec)) {
		xptilab_err("session: START on cpu %d: %s%s", cpu, strerror(errno),
			    errno == EBUSY ? " (another process has sessions)" : "");
		return -1;
	}
	if (!trigger_vector_ok(vec)) {
		xptilab_err("session: the module's session vector %#x is not one the tool can raise",
			    vec);
		return -1;
	}
	if (session_stats(fd, cpu, &before)) {
		xptilab_err("session: XPTILAB_IOC_SESSION_STATS: %s", strerror(errno));
		return -1;
	}
	if (spin(vec, seconds, sp))
		return -1;
	/* The ioctls are syscalls: the session is over by now. */
	if (session_stats(fd, cpu, &c->st) ||
	    session_op(fd, cpu, XPTILAB_SESSION_STOP, 0, NULL)) {
		xptilab_err("session: cpu %d: %s", cpu, strerror(errno));
		return -1;
	}
	c->cpu = cpu;
	session_stats_sub(&c->st, &c->st, &before);
	return 0;
}

int cmd_session(int argc, char **argv)
{
	bool json = false, run = false, all = true;
	unsigned long val, seconds = 0;
	int cpu = -1, fd, status = 1, n = 0;
	struct cpu_stats *cs = NULL;
	struct spin sp = { 0 };
	struct report r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0);
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(a, "--stats"))
			continue;
		if (!strcmp(a, "--run") && args_uint(next, MAX_RUN_SECONDS, &val) &&
		    val) {
			run = true;
			seconds = val;
		} else if (!strcmp(a, "--cpu") && next && !strcmp(next, "all")) {
			all = true;
			cpu = -1;
		} else if (!strcmp(a, "--cpu") &&
			   args_uint(next, CPU_SETSIZE - 1, &val)) {
			all = false;
			cpu = val;
		} else {
			xptilab_err("session: bad argument '%s'%s%s", a,
				    next ? " " : "", next ? next : "");
			return usage(stderr, EXIT_USAGE);
		}
		i++;
	}
	if (run && all && cpu < 0)
		cpu = DEFAULT_RUN_CPU;
	if (run && cpu < 0) {
		xptilab_err("session: --run takes one cpu, not all");
		return usage(stderr, EXIT_USAGE);
	}

	fd = dev_open();
	if (fd < 0)
		return 1;
	report_init(&r, "session", json ? REPORT_JSON : REPORT_TABLE, fd,
		    run || !all ? cpu : -1);
	if (!r.has_info)
		goto out;
	cs = calloc(run || !all ? 1 : r.info.cpus_possible, sizeof(*cs));
	if (!cs) {
		xptilab_err("out of memory");
		goto out;
	}
	if (run) {
		if (do_run(fd, cpu, seconds, &cs[0], &sp))
			goto out;
		n = 1;
	} else {
		int first = all ? 0 : cpu;
		int last = all ? (int)r.info.cpus_possible - 1 : cpu;

		for (int c = first; c <= last; c++) {
			if (session_stats(fd, c, &cs[n].st)) {
				xptilab_err("session: cpu %d: XPTILAB_IOC_SESSION_STATS: %s",
					    c, strerror(errno));
				goto out;
			}
			cs[n++].cpu = c;
		}
	}

	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_u64(&j, "schema", REPORT_SCHEMA);
		json_string(&j, "experiment", "session");
		info_json(&j, "machine", &r.info, &r.plat);
		json_string(&j, "mode", run ? "run" : "stats");
		json_string(&j, "unit", "cycles");
		if (run) {
			json_i64(&j, "cpu", cpu);
			json_double(&j, "seconds", sp.seconds);
			json_u64(&j, "tsc_ticks", sp.tsc);
			json_u64(&j, "spin_batches", sp.loops);
			json_u64(&j, "reentries", sp.reentries);
			json_double(&j, "in_session_fraction",
				    sp.tsc ? (double)cs[0].st.ticks / sp.tsc : 0.0);
		}
		json_array_begin(&j, "cpus");
		for (int i = 0; i < n; i++)
			stats_json(&j, &cs[i]);
		json_array_end(&j);
		json_object_end(&j);
	} else {
		if (run)
			printf("session run on cpu %d: %.1f s, %llu spin batches, %llu re-entries, "
			       "%.1f%% of the TSC time in sessions\n", cpu,
			       sp.seconds, (unsigned long long)sp.loops,
			       (unsigned long long)sp.reentries,
			       sp.tsc ? 100.0 * cs[0].st.ticks / sp.tsc : 0.0);
		else
			printf("session stats since the module was loaded\n");
		if (r.has_info)
			printf("machine: %s, kernel %s, %u CPUs, %u-level paging, PTI %s\n",
			       r.info.cpu_model, r.info.kernel_release,
			       r.info.cpus_online, r.info.paging_levels,
			       r.info.features & XPTILAB_FEAT_PTI ? "on" : "off");
		if (r.plat.emulated)
			printf("EMULATED: tick counts are emulator numbers, not hardware figures\n");
		for (int i = 0; i < n; i++)
			if (run || !all || cs[i].st.enters || cs[i].st.refused)
				stats_table(&cs[i]);
		if (!run && all) {
			bool any = false;

			for (int i = 0; i < n; i++)
				any |= cs[i].st.enters || cs[i].st.refused;
			if (!any)
				printf("no session on any CPU yet\n");
		}
	}
	status = fflush(stdout) ? 1 : 0;
out:
	free(cs);
	report_free(&r);
	close(fd);
	return status;
}
