// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab race`: why the Xen change made entries interrupt gates. One
 * thread, pinned to --cpu, enters through a test vector back to back while
 * a kworker on --storm-cpu sends it call-function IPIs back to back; then
 * the module's counters say how many interrupts arrived at CPL 0 with the
 * shadow root still in CR3 (race hits). Per gate, in this order:
 *
 *   interrupt  the interrupt gate, mode XPTI: IF=0 until after the entry
 *              switch, then sti. Race hits must be 0.
 *   trap       the trap gate, mode XPTI, spinning --window iterations with
 *              IF=1 on the shadow root before the entry switch.
 *   session_interrupt, session_trap
 *              the same two from inside a session (docs/sessions.md): the
 *              thread runs in user mode on the shadow root and re-enters a
 *              session whenever one ends (every IPI ends it), so each entry
 *              is XPTI's own two switches. The interrupt gate must still
 *              have no race hit; the trap gate's window has them.
 *
 * --seconds applies to each of the four gates.
 * Interrupts that land in a trampoline on the full root are "deferred" and
 * replayed on its way out: not races. See docs/entry.md.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "json.h"
#include "args.h"
#include "report.h"
#include "session.h"
#include "timing.h"
#include "tramp.h"
#include "trigger.h"
#include "xptilab.h"

#define DEFAULT_SECONDS		5
#define DEFAULT_WINDOW		1000
#define MAX_SECONDS		(XPTILAB_MAX_STORM_MS / 1000)
#define ONLINE_CPUS		"/sys/devices/system/cpu/online"
/* The status kselftest reads as SKIP: the experiment cannot run here. */
#define EXIT_SKIPPED		4

struct gate_result {
	const char *gate;
	bool session;
	unsigned int mode, vector, window;
	unsigned int cr3_writes, global_flushes;
	uint64_t loops;			/* entries the thread made */
	struct xptilab_counters delta;	/* entries, race_hits, deferred, ... */
	uint64_t ipis;
	/* session gates */
	uint64_t in_session;		/* entries the session survived */
	uint64_t session_enters, session_exits, session_exits_ipi;
};

struct looper {
	int cpu, fd;
	unsigned int vector;
	bool session;
	atomic_bool started;		/* session gates: START done */
	atomic_bool stop;
	uint64_t loops;
	uint64_t in_session;
	int err;
};

/*
 * In sessions: START on this CPU (from this thread: it must be pinned
 * there), then enter through the gate, re-entering a session before each
 * entry. An entry ran in the session iff the session vector returns the
 * same exit count before and after it.
 */
static void session_loop(struct looper *l)
{
	uint64_t n = 0, in = 0;
	unsigned int sv;

	if (session_op(l->fd, l->cpu, XPTILAB_SESSION_START, 0, &sv)) {
		xptilab_err("race: session START on cpu %d: %s%s", l->cpu,
			    strerror(errno),
			    errno == EBUSY ? " (another process has sessions)" : "");
		l->err = -1;
		atomic_store(&l->started, true);
		return;
	}
	atomic_store(&l->started, true);
	if (!trigger_vector_ok(sv)) {
		xptilab_err("race: the session vector %#x is not one the tool can raise",
			    sv);
		l->err = -1;
		goto out;
	}
	while (!atomic_load_explicit(&l->stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			long a = session_enter(sv), b;

			trigger_vector(l->vector);
			b = session_enter(sv);
			if (a < 0 || b < 0) {
				xptilab_err("race: the session vector refused the entry on cpu %d",
					    l->cpu);
				l->err = -1;
				goto out;
			}
			in += a == b;
		}
		n += 64;
	}
out:
	l->loops = n;
	l->in_session = in;
	if (session_op(l->fd, l->cpu, XPTILAB_SESSION_STOP, 0, NULL)) {
		xptilab_err("race: session STOP on cpu %d: %s", l->cpu,
			    strerror(errno));
		l->err = -1;
	}
}

static void *entry_loop(void *arg)
{
	struct looper *l = arg;
	uint64_t n = 0;

	if (timing_pin(l->cpu)) {
		l->err = -1;
		atomic_store(&l->started, true);
		return NULL;
	}
	if (l->session) {
		session_loop(l);
		return NULL;
	}
	atomic_store(&l->started, true);
	while (!atomic_load_explicit(&l->stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++)
			trigger_vector(l->vector);
		n += 64;
	}
	l->loops = n;
	return NULL;
}

/* Is cpu in the kernel's list of online CPUs ("0-3,5")? */
static int run_gate(int fd, int cpu, int storm_cpu, unsigned int seconds,
		    bool trap, bool session, unsigned int window,
		    struct gate_result *g)
{
	struct xptilab_entry_config c;
	struct xptilab_counters before, after;
	struct xptilab_session_stats sb, sa;
	struct looper l = { .cpu = cpu, .fd = fd, .session = session };
	pthread_t thread;
	int ret = -1, err;

	memset(g, 0, sizeof(*g));
	g->gate = session ? (trap ? "session_trap" : "session_interrupt") :
		  (trap ? "trap" : "interrupt");
	g->session = session;
	g->mode = XPTILAB_ENTRY_XPTI;
	g->window = trap ? window : 0;
	if (tramp_config(fd, cpu, g->mode, g->window, &c))
		goto out;
	g->vector = l.vector = trap ? c.vector_trap : c.vector_gate;
	/* In a session the thread is on the shadow root already. */
	g->cr3_writes = session ? (c.cr3_writes ? 2 : 0) : c.cr3_writes;
	g->global_flushes = c.global_flushes;
	if (!trigger_vector_ok(l.vector)) {
		xptilab_err("race: the module's vector %#x is not one the tool can raise",
			    l.vector);
		goto out;
	}
	if (tramp_counters(fd, cpu, &before))
		goto out;
	if (session && session_stats(fd, cpu, &sb)) {
		xptilab_err("race: cpu %d: XPTILAB_IOC_SESSION_STATS: %s", cpu,
			    strerror(errno));
		goto out;
	}
	atomic_init(&l.stop, false);
	atomic_init(&l.started, false);
	err = pthread_create(&thread, NULL, entry_loop, &l);
	if (err) {
		xptilab_err("race: pthread_create: %s", strerror(err));
		goto out;
	}
	/* The storm starts once the thread is in place (and in sessions). */
	while (!atomic_load(&l.started))
		sched_yield();
	ret = l.err ? -1 : tramp_storm(fd, storm_cpu, cpu, seconds * 1000,
					&g->ipis);
	atomic_store(&l.stop, true);
	pthread_join(thread, NULL);
	if (l.err)
		ret = -1;
	if (ret)
		goto out;
	if (tramp_counters(fd, cpu, &after)) {
		ret = -1;
		goto out;
	}
	g->loops = l.loops;
	g->delta.entries = after.entries - before.entries;
	g->delta.race_hits = after.race_hits - before.race_hits;
	g->delta.deferred = after.deferred - before.deferred;
	g->delta.shadow_events = after.shadow_events - before.shadow_events;
	if (session) {
		if (session_stats(fd, cpu, &sa)) {
			xptilab_err("race: cpu %d: XPTILAB_IOC_SESSION_STATS: %s",
				    cpu, strerror(errno));
			ret = -1;
			goto out;
		}
		session_stats_sub(&sa, &sa, &sb);
		g->in_session = l.in_session;
		g->session_enters = sa.enters;
		g->session_exits = sa.exits;
		/* call-function (single): the storm's IPIs */
		g->session_exits_ipi = sa.exits_by_vector[0xfb] +
				       sa.exits_by_vector[0xfc];
	}
out:
	if (tramp_reset(fd, cpu))
		ret = -1;
	return ret;
}

static double per_million(uint64_t hits, uint64_t entries)
{
	return entries ? 1e6 * (double)hits / (double)entries : 0.0;
}

struct race {
	int cpu, storm_cpu;
	unsigned int seconds, window;
	const struct report *r;		/* machine facts */
	struct gate_result g[4];
	int ngates;
};

static void print_json(const struct race *x, const char *skip_reason)
{
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_u64(&j, "schema", REPORT_SCHEMA);
	json_string(&j, "experiment", "race");
	if (x->r->has_info)
		info_json(&j, "machine", &x->r->info, &x->r->plat);
	else
		json_null(&j, "machine");
	if (skip_reason) {
		json_bool(&j, "skipped", true);
		json_string(&j, "reason", skip_reason);
		json_object_end(&j);
		return;
	}
	json_i64(&j, "cpu", x->cpu);
	json_i64(&j, "storm_cpu", x->storm_cpu);
	json_u64(&j, "seconds", x->seconds);
	json_array_begin(&j, "gates");
	for (int i = 0; i < x->ngates; i++) {
		const struct gate_result *g = &x->g[i];

		json_object_begin(&j, NULL);
		json_string(&j, "gate", g->gate);
		json_string(&j, "mode", tramp_mode_name(g->mode));
		json_u64(&j, "vector", g->vector);
		json_u64(&j, "window", g->window);
		json_u64(&j, "cr3_writes", g->cr3_writes);
		json_u64(&j, "global_flushes", g->global_flushes);
		json_u64(&j, "entries", g->delta.entries);
		json_u64(&j, "ipis", g->ipis);
		json_u64(&j, "race_hits", g->delta.race_hits);
		json_u64(&j, "deferred", g->delta.deferred);
		json_u64(&j, "shadow_events", g->delta.shadow_events);
		json_double(&j, "race_hits_per_million_entries",
			    per_million(g->delta.race_hits, g->delta.entries));
		json_bool(&j, "session", g->session);
		if (g->session) {
			json_u64(&j, "entries_in_session", g->in_session);
			json_u64(&j, "session_enters", g->session_enters);
			json_u64(&j, "session_exits", g->session_exits);
			json_u64(&j, "session_exits_ipi", g->session_exits_ipi);
		}
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

static void print_table(const struct race *x)
{
	const struct xptilab_info *in = &x->r->info;

	printf("experiment: race on cpu %d, IPI storm from cpu %d, %u s per gate\n",
	       x->cpu, x->storm_cpu, x->seconds);
	if (x->r->has_info)
		printf("machine: %s, kernel %s, %u CPUs, PTI %s\n", in->cpu_model,
		       in->kernel_release, in->cpus_online,
		       in->features & XPTILAB_FEAT_PTI ? "on" : "off");
	if (x->r->plat.emulated)
		printf("EMULATED: entry and IPI rates are emulator numbers; the race itself is real\n");
	printf("%-17s %6s %6s %5s %10s %10s %10s %10s %12s %10s %10s\n", "gate",
	       "vector", "window", "cr3wr", "entries", "ipis", "race_hits",
	       "deferred", "hits/M entr", "in_sess", "sess_exits");
	for (int i = 0; i < x->ngates; i++) {
		const struct gate_result *g = &x->g[i];
		char in[24] = "-", ex[24] = "-";

		if (g->session) {
			snprintf(in, sizeof(in), "%llu",
				 (unsigned long long)g->in_session);
			snprintf(ex, sizeof(ex), "%llu",
				 (unsigned long long)g->session_exits);
		}
		printf("%-17s %#6x %6u %5u %10llu %10llu %10llu %10llu %12.1f %10s %10s\n",
		       g->gate, g->vector, g->window,
		       g->cr3_writes,
		       (unsigned long long)g->delta.entries,
		       (unsigned long long)g->ipis,
		       (unsigned long long)g->delta.race_hits,
		       (unsigned long long)g->delta.deferred,
		       per_million(g->delta.race_hits, g->delta.entries), in, ex);
	}
	printf("race hits: interrupts taken at CPL 0 with the shadow root in CR3;\n"
	       "deferred: interrupts taken in a trampoline on the full root, replayed on exit;\n"
	       "in_sess: entries made and left inside one session; sess_exits: sessions\n"
	       "ended (each IPI that finds the thread in user mode ends one).\n");
}

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab race [--cpu N] [--storm-cpu M] [--seconds S] [--window W]\n"
		"                    [--json]\n"
		"  --cpu N         CPU that enters (default 0)\n"
		"  --storm-cpu M   CPU that sends the IPIs (default: the next online CPU)\n"
		"  --seconds S     per gate (four gates), 1..%d (default %d)\n"
		"  --window W      trap-gate window (default %d)\n"
		"Exits %d (skipped) on a machine with one online CPU.\n",
		MAX_SECONDS, DEFAULT_SECONDS, DEFAULT_WINDOW, EXIT_SKIPPED);
	return status;
}

int cmd_race(int argc, char **argv)
{
	struct race x = {
		.cpu = 0, .storm_cpu = -1, .seconds = DEFAULT_SECONDS,
		.window = DEFAULT_WINDOW,
	};
	bool json = false;
	unsigned long val;
	struct report r;
	int fd, status = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0);
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(a, "--cpu") && args_uint(next, CPU_SETSIZE - 1, &val)) {
			x.cpu = val;
		} else if (!strcmp(a, "--storm-cpu") &&
			   args_uint(next, CPU_SETSIZE - 1, &val)) {
			x.storm_cpu = val;
		} else if (!strcmp(a, "--seconds") &&
			   args_uint(next, MAX_SECONDS, &val) && val) {
			x.seconds = val;
		} else if (!strcmp(a, "--window") &&
			   args_uint(next, XPTILAB_MAX_WINDOW, &val)) {
			x.window = val;
		} else {
			xptilab_err("race: bad argument '%s'%s%s", a,
				    next ? " " : "", next ? next : "");
			return usage(stderr, EXIT_USAGE);
		}
		i++;
	}

	fd = dev_open();
	if (fd < 0)
		return 1;
	report_init(&r, "race", json ? REPORT_JSON : REPORT_TABLE, fd, x.cpu);
	x.r = &r;
	if (!r.has_info)
		goto out;
	if (r.info.cpus_online < 2) {
		const char *why = "needs two online CPUs: one enters, the other sends IPIs";

		xptilab_err("race: %s; skipped", why);
		if (json)
			print_json(&x, why);
		status = EXIT_SKIPPED;
		goto out;
	}
	if (!args_cpu_online(x.cpu)) {
		xptilab_err("race: cpu %d is not online", x.cpu);
		goto out;
	}
	if (x.storm_cpu < 0) {
		for (int i = 1; i < CPU_SETSIZE && x.storm_cpu < 0; i++)
			if (args_cpu_online((x.cpu + i) % CPU_SETSIZE))
				x.storm_cpu = (x.cpu + i) % CPU_SETSIZE;
	}
	if (x.storm_cpu == x.cpu || !args_cpu_online(x.storm_cpu)) {
		xptilab_err("race: storm cpu %d must be online and differ from cpu %d",
			    x.storm_cpu, x.cpu);
		goto out;
	}
	/* This thread only waits in the storm ioctl: keep it off x.cpu. */
	if (timing_pin(x.storm_cpu))
		goto out;

	tramp_arm(fd, x.cpu);
	for (int i = 0; i < 4; i++) {
		bool trap = i & 1, session = i >= 2;

		if (run_gate(fd, x.cpu, x.storm_cpu, x.seconds, trap, session,
			     x.window, &x.g[x.ngates]))
			goto out_disarm;
		x.ngates++;
	}
	if (json)
		print_json(&x, NULL);
	else
		print_table(&x);
	status = fflush(stdout) ? 1 : 0;
out_disarm:
	tramp_disarm();
out:
	report_free(&r);
	close(fd);
	return status;
}
