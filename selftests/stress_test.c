// SPDX-License-Identifier: GPL-2.0
/*
 * Every experiment at once on every CPU, for XPTILAB_STRESS_SECONDS
 * (default 10; `make stress` uses 60), while CPUs go offline and online
 * and another process opens and closes the device:
 *  - one worker process per online CPU, pinned there (or to CPU 0 while
 *    its CPU is offline), running a mix: small cr3 runs, ENTRY_CONFIG in
 *    every mode with entries through both test vectors, small ipi runs of
 *    every variant to every other online CPU, sessions (START, entries
 *    with "int $vector_session" and the gate, int $0x80 getppid, which
 *    ends them, STOP), storms of 5-20 ms,
 *    counter reads; reopening its descriptor every 50 operations;
 *  - a hotplug process: every ~1 s one CPU (never CPU 0) offline, then
 *    online again ~0.1-0.4 s later;
 *  - an opener: open, INFO, close in a loop, reading the debugfs files.
 * Then everything stops; every wait is bounded (a process still running
 * 60 s after the stop is a hang). Checks: every call succeeded or failed
 * with an errno a hotplug or another process explains (EINVAL, EBUSY,
 * EOPNOTSUPP); all CPUs online again; the audit is "ok"; the counters are
 * monotonic and add up: entries == the test-vector entries the workers
 * made (nobody else makes any), IPI handlers run >= what the successful ipi runs asked for,
 * session refusals == the "int" that returned -1, session entries <= the
 * others; the module holds as many pages as before; the kernel log is
 * clean; and it unloads and reloads (with $XPTILAB_KO).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "trigger.h"
#include "robust_helpers.h"

#define STRESS_DEFAULT_SECONDS	10
#define STOP_GRACE_S		60
#define REOPEN_OPS		50

enum op {
	OP_CR3, OP_ENTRY, OP_IPI, OP_SESSION, OP_STORM, OP_READ, OP_NR
};

static const char *const op_names[OP_NR] = {
	"cr3", "entry", "ipi", "session", "storm", "read",
};

struct wstats {
	pid_t pid;
	int home;
	unsigned long long ops[OP_NR], ok[OP_NR], einval[OP_NR], ebusy[OP_NR];
	unsigned long long eopnotsupp[OP_NR], calls;
	unsigned long long gate_ints, trap_ints;
	unsigned long long faulted;	/* "int"s another worker's config refused */
	unsigned long long sess_ints, sess_refused, sess_started;
	unsigned long long ipi_asked[8];	/* iterations * ntargets, ok runs */
	unsigned long long cr3_samples, storm_ipis, migrated;
	unsigned long long bad;
	char bad_what[200];
	double slowest;
	char slowest_what[80];
	int finished;
};

struct shared {
	volatile int stop;
	int nworkers;
	int vec_gate, vec_trap, vec_session;
	bool ia32;			/* int $0x80 works here */
	struct wstats w[MAX_TEST_CPUS];
	/* the hotplug process */
	unsigned long long hp_offline, hp_online, hp_refused, hp_failed;
	unsigned long long hp_cpus_cycled_mask;
	char hp_error[160];
	int hp_finished;
	/* the opener */
	unsigned long long opens, open_bad, debugfs_reads;
	char open_error[160];
	int open_finished;
};

static struct shared *sh;

static void wbad(struct wstats *w, const char *fmt, int a, int err)
{
	if (!w->bad)
		snprintf(w->bad_what, sizeof(w->bad_what), "%s %d: %s", fmt, a,
			 strerror(err));
	w->bad++;
}

/* Account one ioctl's result; false if it failed. */
static bool account(struct wstats *w, enum op op, long ret, double t0,
		    const char *what)
{
	int err = ret < 0 ? errno : 0;
	double dt = mono_s() - t0;

	w->calls++;
	if (dt > w->slowest) {
		w->slowest = dt;
		snprintf(w->slowest_what, sizeof(w->slowest_what), "%s %.3f s",
			 what, dt);
	}
	switch (err) {
	case 0:
		w->ok[op]++;
		return true;
	case EINVAL:	/* a CPU went offline, or the pinning broke */
		w->einval[op]++;
		return false;
	case EBUSY:	/* another worker's sessions hold the mirror */
		w->ebusy[op]++;
		return false;
	case EOPNOTSUPP: /* no PCID / INVPCID here */
		w->eopnotsupp[op]++;
		return false;
	case EINTR:
		return false;
	default:
		wbad(w, what, op, err);
		return false;
	}
}

/* Online CPUs from sysfs into a bitmap; count returned. */
static int online_map(uint64_t map[XPTILAB_MAX_CPU_BITS / 64], bool *online)
{
	int n = online_cpus(online);

	memset(map, 0, XPTILAB_MAX_CPU_BITS / 8);
	for (int c = 0; c < MAX_TEST_CPUS; c++)
		if (online[c])
			map[c / 64] |= 1ULL << (c % 64);
	return n;
}

static int pick_other(uint64_t *rng, const bool *online, int ncpus, int not)
{
	for (int tries = 0; tries < 64; tries++) {
		int c = rng_below(rng, ncpus);

		if (online[c] && c != not)
			return c;
	}
	return -1;
}

static void do_cr3(struct wstats *w, int fd, uint64_t *rng, int cpu)
{
	static uint64_t s[64], o[64], t[64];
	struct xptilab_cr3_run r = {
		.size = sizeof(r), .cpu = cpu,
		.variant = rng_below(rng, XPTILAB_CR3_NR_VARIANTS),
		.iterations = 8 + rng_below(rng, 57),
		.samples = (uint64_t)s, .overhead = (uint64_t)o,
	};
	double t0 = mono_s();

	if (!rng_below(rng, 3)) {
		r.touch_pages = 1 + rng_below(rng, 4);
		r.touch_samples = (uint64_t)t;
	}
	if (account(w, OP_CR3, ioctl(fd, XPTILAB_IOC_RUN_CR3, &r), t0, "cr3"))
		w->cr3_samples += r.n;
}

static void do_entry(struct wstats *w, int fd, uint64_t *rng, int cpu)
{
	struct xptilab_entry_config c = {
		.size = sizeof(c), .cpu = cpu,
		.mode = rng_below(rng, XPTILAB_ENTRY_NR_MODES),
		.window = rng_below(rng, 2) ? 0 : rng_below(rng, 2000),
	};
	double t0 = mono_s();
	int n = 10 + rng_below(rng, 40);

	account(w, OP_ENTRY, ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &c), t0,
		"entry_config");
	/*
	 * Whatever mode the CPU is in now, served entries are counted; they
	 * are served while this worker is the one that configured last.
	 */
	for (int i = 0; i < n; i++) {
		if (i & 1) {
			if (served_trigger(sh->vec_trap))
				w->trap_ints++;
			else
				w->faulted++;
		} else {
			if (served_trigger(sh->vec_gate))
				w->gate_ints++;
			else
				w->faulted++;
		}
	}
}

static void do_ipi(struct wstats *w, int fd, uint64_t *rng, int cpu,
		   int ncpus)
{
	static uint64_t lat[8], handler[8 * MAX_TEST_CPUS];
	uint64_t map[XPTILAB_MAX_CPU_BITS / 64];
	bool online[MAX_TEST_CPUS];
	struct xptilab_ipi_run r = {
		.size = sizeof(r), .from_cpu = cpu,
		.variant = rng_below(rng, XPTILAB_IPI_NR_VARIANTS),
		.iterations = 1 + rng_below(rng, 8),
		.target_bits = ncpus,
		.latency = (uint64_t)lat, .handler = (uint64_t)handler,
	};
	double t0;

	online_map(map, online);
	map[cpu / 64] &= ~(1ULL << (cpu % 64));
	if (!map[0] && ncpus <= 64)
		return;		/* no other CPU online right now */
	r.targets = (uint64_t)map;
	t0 = mono_s();
	if (account(w, OP_IPI, ioctl(fd, XPTILAB_IOC_RUN_IPI, &r), t0, "ipi"))
		w->ipi_asked[r.variant] += (uint64_t)r.iterations * r.ntargets;
}

static void do_session(struct wstats *w, int fd, uint64_t *rng, int cpu)
{
	struct xptilab_session s = {
		.size = sizeof(s), .cpu = cpu, .op = XPTILAB_SESSION_START,
	};
	double t0 = mono_s();
	int n = 5 + rng_below(rng, 16);

	if (!account(w, OP_SESSION, ioctl(fd, XPTILAB_IOC_SESSION, &s), t0,
		     "session start"))
		return;
	w->sess_started++;
	for (int i = 0; i < n; i++) {
		long r = served_session_int(sh->vec_session);

		if (r == VECTOR_FAULTED) {
			w->faulted++;
			continue;
		}
		w->sess_ints++;
		if (r == -1)
			w->sess_refused++;
		/* inside: test-vector entries keep the session */
		for (int k = 0; k < 3; k++) {
			if (served_trigger(sh->vec_gate))
				w->gate_ints++;
			else
				w->faulted++;
		}
		if (!rng_below(rng, 4))
			sched_yield();	/* a system call ends it */
		/*
		 * So does int $0x80, through xptilab's stub: never through
		 * Linux's own gate (mode LINUX_INT80) on the shadow root.
		 */
		if (sh->ia32 && !rng_below(rng, 4) &&
		    trigger_int80_getppid() != getppid())
			wbad(w, "int $0x80 getppid in a session, cpu", cpu, EIO);
	}
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.cpu = cpu;
	s.op = rng_below(rng, 3) ? XPTILAB_SESSION_STOP : XPTILAB_SESSION_SYNC;
	if (s.op == XPTILAB_SESSION_SYNC)
		s.variant = rng_below(rng, 2) ? XPTILAB_IPI_SYNC : XPTILAB_IPI_FLUSH;
	t0 = mono_s();
	account(w, OP_SESSION, ioctl(fd, XPTILAB_IOC_SESSION, &s), t0,
		"session stop/sync");
}

static void do_storm(struct wstats *w, int fd, uint64_t *rng, int cpu,
		     int ncpus)
{
	bool online[MAX_TEST_CPUS];
	struct xptilab_storm s = {
		.size = sizeof(s), .from_cpu = cpu,
		.duration_ms = 5 + rng_below(rng, 16),
	};
	double t0;
	int t;

	online_cpus(online);
	t = pick_other(rng, online, ncpus, cpu);
	if (t < 0)
		return;
	s.target_cpu = t;
	t0 = mono_s();
	if (account(w, OP_STORM, ioctl(fd, XPTILAB_IOC_STORM, &s), t0, "storm"))
		w->storm_ipis += s.ipis;
}

static void do_read(struct wstats *w, int fd, uint64_t *rng, int ncpus)
{
	struct xptilab_session_stats st = { .size = sizeof(st) };
	struct xptilab_counters c = { .size = sizeof(c) };
	struct xptilab_info info;
	double t0 = mono_s();

	switch (rng_below(rng, 3)) {
	case 0:
		c.cpu = rng_below(rng, ncpus);
		account(w, OP_READ, ioctl(fd, XPTILAB_IOC_COUNTERS, &c), t0,
			"counters");
		break;
	case 1:
		st.cpu = rng_below(rng, ncpus);
		account(w, OP_READ, ioctl(fd, XPTILAB_IOC_SESSION_STATS, &st),
			t0, "session_stats");
		break;
	default:
		account(w, OP_READ, get_info(fd, &info), t0, "info");
		break;
	}
}

static void worker(int idx, int home, int ncpus, uint64_t seed)
{
	struct wstats *w = &sh->w[idx];
	uint64_t rng = seed + idx * 0x9e3779b97f4a7c15ULL;
	int fd = -1, ops = 0;

	w->pid = getpid();
	w->home = home;
	while (!sh->stop) {
		enum op op;
		int cpu = home;

		if (fd < 0 || ++ops % REOPEN_OPS == 0) {
			if (fd >= 0)
				close(fd);
			fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				wbad(w, "open", 0, errno);
				sleep_ms(10);
				continue;
			}
		}
		/* at home, or on CPU 0 while home is offline */
		if (pin_to(home)) {
			cpu = 0;
			w->migrated++;
			if (pin_to(0))
				wbad(w, "pin to cpu", 0, errno);
		}
		op = rng_below(&rng, 100);
		op = op < 22 ? OP_CR3 : op < 42 ? OP_ENTRY : op < 62 ? OP_IPI :
		     op < 77 ? OP_SESSION : op < 87 ? OP_STORM : OP_READ;
		w->ops[op]++;
		switch (op) {
		case OP_CR3:
			/* mostly here, sometimes on another CPU */
			if (!rng_below(&rng, 4))
				cpu = rng_below(&rng, ncpus);
			do_cr3(w, fd, &rng, cpu);
			break;
		case OP_ENTRY:
			do_entry(w, fd, &rng, cpu);
			break;
		case OP_IPI:
			do_ipi(w, fd, &rng, cpu, ncpus);
			break;
		case OP_SESSION:
			do_session(w, fd, &rng, cpu);
			break;
		case OP_STORM:
			do_storm(w, fd, &rng, cpu, ncpus);
			break;
		default:
			do_read(w, fd, &rng, ncpus);
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	w->finished = 1;
	_exit(0);
}

static void hotplugger(int ncpus, uint64_t seed)
{
	uint64_t rng = seed ^ 0x5555;
	bool online[MAX_TEST_CPUS];
	int cands[MAX_TEST_CPUS], n = 0;

	for (int c = 1; c < ncpus; c++)
		if (cpu_hotpluggable(c))
			cands[n++] = c;
	while (n && !sh->stop) {
		int c = cands[rng_below(&rng, n)], tries;

		sleep_ms(700 + rng_below(&rng, 600));
		if (sh->stop)
			break;
		online_cpus(online);
		if (!online[c])
			continue;
		if (cpu_set_online(c, false)) {
			sh->hp_refused++;
			continue;
		}
		sh->hp_offline++;
		sh->hp_cpus_cycled_mask |= 1ULL << (c % 64);
		sleep_ms(100 + rng_below(&rng, 300));
		for (tries = 0; tries < 10; tries++) {
			if (!cpu_set_online(c, true))
				break;
			sleep_ms(200);
		}
		if (tries == 10) {
			snprintf(sh->hp_error, sizeof(sh->hp_error),
				 "cpu%d does not come back online: %s", c,
				 strerror(errno));
			sh->hp_failed++;
			break;
		}
		sh->hp_online++;
	}
	sh->hp_finished = 1;
	_exit(0);
}

static void opener(int ncpus, uint64_t seed)
{
	static char buf[65536];
	uint64_t rng = seed ^ 0xaaaa;
	static const char *const files[] = {
		XDBG "info", XDBG "idt", XDBG "events", XDBG "pages",
	};

	while (!sh->stop) {
		struct xptilab_info info;
		int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);

		if (fd < 0 || get_info(fd, &info)) {
			if (!sh->open_bad)
				snprintf(sh->open_error, sizeof(sh->open_error),
					 "%s: %s", fd < 0 ? "open" : "INFO",
					 strerror(errno));
			sh->open_bad++;
		}
		if (fd >= 0)
			close(fd);
		sh->opens++;
		if (sh->opens % 16 == 0) {
			char path[96];

			read_text(files[rng_below(&rng, 4)], buf, sizeof(buf));
			snprintf(path, sizeof(path), XDBG "cpu%u/shadow",
				 rng_below(&rng, ncpus));
			read_text(path, buf, sizeof(buf));
			sh->debugfs_reads += 2;
		}
	}
	sh->open_finished = 1;
	_exit(0);
}

static pid_t spawn(void (*fn)(int, uint64_t), int ncpus, uint64_t seed)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		fn(ncpus, seed);
	return pid;
}

/* Wait for pid until the deadline; SIGKILL it then. True if it exited. */
static bool bounded_wait(pid_t pid, double deadline, int *status)
{
	while (mono_s() < deadline) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0)
			return false;
		sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return false;
}

TEST(stress_everything)
{
	static struct robust_snap before, after;
	unsigned long seconds = env_ulong("XPTILAB_STRESS_SECONDS",
					  STRESS_DEFAULT_SECONDS);
	uint64_t seed = rng_seed();
	pid_t pids[MAX_TEST_CPUS + 2];
	int npids = 0, ncpus, fd, kmsg, status, hung = 0;
	bool online[MAX_TEST_CPUS];
	unsigned long long calls = 0, ops[OP_NR] = { 0 }, ok[OP_NR] = { 0 };
	unsigned long long einval = 0, ebusy = 0, enotsup = 0, bad = 0;
	unsigned long long gate = 0, trap = 0, sints = 0, srefused = 0, faulted = 0;
	unsigned long long sstarted = 0, asked[8] = { 0 }, migrated = 0;
	unsigned long long entries = 0, handled[8] = { 0 }, enters = 0;
	unsigned long long refused = 0, samples = 0, storm = 0;
	double start, stop, slowest = 0;
	char why[300], audit[4096], slow_what[120] = "";
	struct kmsg_verdict kv;
	struct xptilab_info info;
	long pages0, pages1;

	REQUIRE_MODULE();
	ASSERT_EQ(0, all_cpus_online());
	ncpus = possible_cpus();
	if (ncpus > MAX_TEST_CPUS)
		ncpus = MAX_TEST_CPUS;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	sh->vec_gate = module_param_int("vector_gate");
	sh->vec_trap = module_param_int("vector_trap");
	sh->vec_session = module_param_int("vector_session");
	ASSERT_TRUE(trigger_vector_ok(sh->vec_gate));
	ASSERT_TRUE(trigger_vector_ok(sh->vec_trap));
	ASSERT_TRUE(trigger_vector_ok(sh->vec_session));
	kmsg = kmsg_open_end();
	ASSERT_LE(0, kmsg);
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, robust_snapshot(fd, &before)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_info(fd, &info));
	sh->ia32 = info.features & XPTILAB_FEAT_IA32_EMU;
	close(fd);
	pages0 = module_pages();
	online_cpus(online);
	RDIAG("stress: %lu s, seed %#llx, %d CPUs: a worker per CPU, a hotplug process, an opener",
	      seconds, (unsigned long long)seed, ncpus);

	start = mono_s();
	for (int c = 0; c < ncpus; c++) {
		int idx = sh->nworkers;
		pid_t pid;

		if (!online[c])
			continue;
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			worker(idx, c, ncpus, seed);
		ASSERT_LT(0, pid);
		pids[npids++] = pid;
		sh->nworkers++;
	}
	pids[npids++] = spawn(hotplugger, ncpus, seed);
	pids[npids++] = spawn(opener, ncpus, seed);
	while (mono_s() < start + seconds)
		sleep_ms(200);
	sh->stop = 1;
	stop = mono_s();
	for (int i = 0; i < npids; i++) {
		if (pids[i] <= 0)
			continue;
		if (!bounded_wait(pids[i], stop + STOP_GRACE_S, &status)) {
			hung++;
			TH_LOG("process %d (%s %d) still running %d s after the stop: killed",
			       pids[i], i < sh->nworkers ? "worker" : "helper",
			       i, STOP_GRACE_S);
		} else {
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
				TH_LOG("process %d: status %#x", pids[i], status);
		}
	}
	EXPECT_EQ(0, hung);
	RDIAG("stress: everything stopped %.1f s after the stop", mono_s() - stop);
	EXPECT_EQ(0, all_cpus_online());

	/* what the workers did */
	for (int i = 0; i < sh->nworkers; i++) {
		struct wstats *w = &sh->w[i];

		calls += w->calls;
		for (int o = 0; o < OP_NR; o++) {
			ops[o] += w->ops[o];
			ok[o] += w->ok[o];
			einval += w->einval[o];
			ebusy += w->ebusy[o];
			enotsup += w->eopnotsupp[o];
		}
		gate += w->gate_ints;
		trap += w->trap_ints;
		faulted += w->faulted;
		sints += w->sess_ints;
		srefused += w->sess_refused;
		sstarted += w->sess_started;
		samples += w->cr3_samples;
		storm += w->storm_ipis;
		migrated += w->migrated;
		for (int v = 0; v < 8; v++)
			asked[v] += w->ipi_asked[v];
		bad += w->bad;
		if (w->bad)
			TH_LOG("worker %d (cpu %d): %llu unexpected errors, first: %s",
			       i, w->home, w->bad, w->bad_what);
		if (w->slowest > slowest) {
			slowest = w->slowest;
			snprintf(slow_what, sizeof(slow_what), "worker %d: %s",
				 i, w->slowest_what);
		}
	}
	EXPECT_EQ(0ULL, bad);
	EXPECT_EQ(0ULL, sh->open_bad) TH_LOG("opener: %s", sh->open_error);
	EXPECT_EQ(0ULL, sh->hp_failed) TH_LOG("hotplug: %s", sh->hp_error);

	/* the module afterwards */
	OPEN_DEVICE(fd);
	for (int c = 0; c < ncpus; c++) {
		struct xptilab_entry_config e = {
			.size = sizeof(e), .cpu = c, .mode = XPTILAB_ENTRY_GATE,
		};

		EXPECT_EQ(0, ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &e))
			TH_LOG("reset cpu%d: %s", c, strerror(errno));
	}
	close(fd);
	EXPECT_TRUE(audit_ok(audit, sizeof(audit))) TH_LOG("audit: %s", audit);
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, robust_snapshot(fd, &after)) TH_LOG("%s", strerror(errno));
	close(fd);
	EXPECT_TRUE(robust_sane(&before, &after, why, sizeof(why))) TH_LOG("%s", why);
	for (int c = 0; c < before.ncpus; c++) {
		entries += after.c[c].entries - before.c[c].entries;
		for (int v = 0; v < 8; v++)
			handled[v] += after.c[c].ipi_handled[v] -
				      before.c[c].ipi_handled[v];
		enters += after.s[c].enters - before.s[c].enters;
		refused += after.s[c].refused - before.s[c].refused;
	}
	/* every user-mode entry through the test vectors is counted, once */
	EXPECT_EQ(gate + trap, entries)
		TH_LOG("workers made %llu test-vector entries, the counters say %llu",
		       gate + trap, entries);
	for (int v = 0; v < XPTILAB_IPI_NR_VARIANTS; v++) {
		EXPECT_LE(asked[v], handled[v])
			TH_LOG("ipi variant %d: runs asked for %llu handlers, %llu ran",
			       v, asked[v], handled[v]);
	}
	EXPECT_EQ(srefused, refused)
		TH_LOG("session int returned -1 %llu times, refused counted %llu",
		       srefused, refused);
	EXPECT_LE(enters, sints - srefused)
		TH_LOG("%llu sessions entered from %llu accepted ints", enters,
		       sints - srefused);
	pages1 = module_pages();
	EXPECT_EQ(pages0, pages1) TH_LOG("module pages %ld before, %ld after",
					 pages0, pages1);

	RDIAG("stress: %llu calls by %d workers in %.1f s; ops cr3 %llu, entry %llu, ipi %llu, session %llu, storm %llu, read %llu",
	      calls, sh->nworkers, stop - start, ops[OP_CR3], ops[OP_ENTRY],
	      ops[OP_IPI], ops[OP_SESSION], ops[OP_STORM], ops[OP_READ]);
	for (int o = 0; o < OP_NR; o++) {
		unsigned long long e[3] = { 0 };

		for (int i = 0; i < sh->nworkers; i++) {
			e[0] += sh->w[i].einval[o];
			e[1] += sh->w[i].ebusy[o];
			e[2] += sh->w[i].eopnotsupp[o];
		}
		RDIAG("stress: %-8s ops %llu, calls ok %llu, EINVAL %llu, EBUSY %llu, EOPNOTSUPP %llu",
		      op_names[o], ops[o], ok[o], e[0], e[1], e[2]);
	}
	RDIAG("stress: all calls: EINVAL %llu, EBUSY %llu, EOPNOTSUPP %llu, anything else %llu",
	      einval, ebusy, enotsup, bad);
	RDIAG("stress: cr3 samples %llu, storm IPIs %llu, ipi handlers asked %llu ran %llu",
	      samples, storm, asked[0] + asked[1] + asked[2] + asked[3] + asked[4],
	      handled[0] + handled[1] + handled[2] + handled[3] + handled[4]);
	RDIAG("stress: test-vector entries made %llu (gate %llu, trap %llu), counted %llu; %llu ints not served (another worker owned the vectors)",
	      gate + trap, gate, trap, entries, faulted);
	RDIAG("stress: sessions started %llu, session ints %llu (refused %llu, counted %llu), entered %llu",
	      sstarted, sints, srefused, refused, enters);
	RDIAG("stress: hotplug: %llu offline, %llu online, %llu refused, CPUs cycled mask %#llx; workers moved off an offline CPU %llu times",
	      sh->hp_offline, sh->hp_online, sh->hp_refused,
	      sh->hp_cpus_cycled_mask, migrated);
	RDIAG("stress: opener: %llu open/INFO/close, %llu debugfs reads",
	      sh->opens, sh->debugfs_reads);
	RDIAG("stress: slowest call: %s", slow_what);

	kv = kmsg_judge(kmsg);
	EXPECT_EQ(0, kv.complaints) TH_LOG("kernel log: %s", kv.first);

	/* and it unloads, then loads again */
	if (getenv("XPTILAB_KO") && !access(getenv("XPTILAB_KO"), R_OK)) {
		EXPECT_EQ(0, module_unload()) TH_LOG("unload: %s", strerror(errno));
		EXPECT_FALSE(module_loaded());
		ASSERT_EQ(0, module_load("")) TH_LOG("reload: %s", strerror(errno));
		EXPECT_EQ(pages0, module_pages());
		kv = kmsg_judge(kmsg);
		EXPECT_EQ(0, kv.complaints) TH_LOG("kernel log: %s", kv.first);
	}
	close(kmsg);
	RDIAG("stress-summary: calls=%llu opens=%llu hotplug=%llu seconds=%.0f cpus=%d",
	      calls, sh->opens, sh->hp_online, stop - start, ncpus);
	munmap(sh, sizeof(*sh));
}

/* The harness's timeout follows the duration asked for. */
static void __attribute__((constructor)) stress_timeout(void)
{
	_stress_everything_object.timeout =
		env_ulong("XPTILAB_STRESS_SECONDS", STRESS_DEFAULT_SECONDS) * 2 +
		STOP_GRACE_S + 120;
}

TEST_HARNESS_MAIN
