// SPDX-License-Identifier: GPL-2.0
/*
 * Load/unload under use (lifecycle_test does the plain cycles):
 *  - XPTILAB_CYCLES (default 20; `make stress` uses 100) unload/load
 *    cycles, each with a short experiment in between: a 32-sample cr3 run,
 *    entries through both test vectors in XPTI mode, an ipi sync run when
 *    there is more than one CPU, a session entered and stopped. Before
 *    every unload the module holds exactly the pages it held after a
 *    fresh load (debugfs pages); at the end the kernel's MemFree is back
 *    to its level after the first fresh load, within 2 MiB + 1%.
 *  - Unloading while an experiment runs (a child looping cr3 runs, ipi
 *    runs, storms, sessions, or merely holding the descriptor open):
 *    delete_module is refused (Linux returns EWOULDBLOCK for a module
 *    still referenced; EBUSY is accepted too) every time, including while
 *    the child is inside the ioctl, and the experiment completes
 *    undisturbed; once the child is gone the module unloads and reloads.
 * Every test leaves the module loaded with default parameters and the
 * kernel log clean.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "trigger.h"
#include "robust_helpers.h"

#define DEFAULT_CYCLES		20
#define MEM_SLACK_KB		2048	/* MemFree tolerance: 2 MiB + 1% */

/* Both fixtures: the kernel log since set-up; the module reloaded. */
struct lcs_state {
	int kmsg;
	bool was_loaded;
};

static void lcs_setup(struct lcs_state *st)
{
	st->was_loaded = module_loaded();
	st->kmsg = kmsg_open_end();
}

#define LCS_TEARDOWN(st) do { \
	struct kmsg_verdict kv; \
	if ((st)->was_loaded && !module_loaded()) { \
		EXPECT_EQ(0, module_load("")) \
			TH_LOG("reload: %s", strerror(errno)); \
	} \
	kv = kmsg_judge((st)->kmsg); \
	EXPECT_EQ(0, kv.complaints) TH_LOG("kernel log: %s", kv.first); \
	if ((st)->kmsg >= 0) \
		close((st)->kmsg); \
} while (0)

FIXTURE(cycles) {
	struct lcs_state st;
};

FIXTURE_SETUP(cycles)
{
	lcs_setup(&self->st);
}

FIXTURE_TEARDOWN(cycles)
{
	LCS_TEARDOWN(&self->st);
}

FIXTURE(busy) {
	struct lcs_state st;
};

FIXTURE_SETUP(busy)
{
	lcs_setup(&self->st);
}

FIXTURE_TEARDOWN(busy)
{
	LCS_TEARDOWN(&self->st);
}

static unsigned long long entries_on(int fd, int cpu)
{
	struct xptilab_counters c = { .size = sizeof(c), .cpu = cpu };

	return ioctl(fd, XPTILAB_IOC_COUNTERS, &c) ? 0 : c.entries;
}

/*
 * The short experiment between two cycles. Returns NULL, or what failed.
 * Leaves the calling process unpinned.
 */
static const char *experiment(int vgate, int vtrap, int vsess)
{
	static uint64_t s[32], o[32], lat[4], handler[4 * MAX_TEST_CPUS];
	static char why[160];
	uint64_t map[XPTILAB_MAX_CPU_BITS / 64] = { 0 };
	bool online[MAX_TEST_CPUS];
	struct xptilab_cr3_run r = {
		.size = sizeof(r), .cpu = 0, .variant = XPTILAB_CR3_PLAIN,
		.iterations = 32, .samples = (uint64_t)s,
		.overhead = (uint64_t)o,
	};
	struct xptilab_entry_config e = {
		.size = sizeof(e), .cpu = 0, .mode = XPTILAB_ENTRY_XPTI,
	};
	struct xptilab_session ss = {
		.size = sizeof(ss), .cpu = 0, .op = XPTILAB_SESSION_START,
	};
	unsigned long long e0, e1;
	int fd, n, others = 0;

	fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "open";
	if (pin_to(0)) {
		snprintf(why, sizeof(why), "pin: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(fd, XPTILAB_IOC_RUN_CR3, &r) || r.n != 32) {
		snprintf(why, sizeof(why), "cr3: %s, n %u", strerror(errno), r.n);
		goto fail;
	}
	if (ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &e)) {
		snprintf(why, sizeof(why), "entry config: %s", strerror(errno));
		goto fail;
	}
	e0 = entries_on(fd, 0);
	for (n = 0; n < 8; n++) {
		trigger_vector(vgate);
		trigger_vector(vtrap);
	}
	e1 = entries_on(fd, 0);
	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.mode = XPTILAB_ENTRY_GATE;
	if (ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &e) || e1 - e0 != 16) {
		snprintf(why, sizeof(why), "entries: %llu counted, 16 made",
			 e1 - e0);
		goto fail;
	}
	online_cpus(online);
	for (int c = 1; c < MAX_TEST_CPUS; c++)
		if (online[c]) {
			map[c / 64] |= 1ULL << (c % 64);
			others++;
		}
	if (others) {
		struct xptilab_ipi_run ir = {
			.size = sizeof(ir), .from_cpu = 0,
			.variant = XPTILAB_IPI_SYNC, .iterations = 4,
			.targets = (uint64_t)map,
			.target_bits = XPTILAB_MAX_CPU_BITS,
			.latency = (uint64_t)lat, .handler = (uint64_t)handler,
		};

		if (ioctl(fd, XPTILAB_IOC_RUN_IPI, &ir) ||
		    (int)ir.ntargets != others) {
			snprintf(why, sizeof(why), "ipi: %s, %u targets",
				 strerror(errno), ir.ntargets);
			goto fail;
		}
	}
	if (ioctl(fd, XPTILAB_IOC_SESSION, &ss)) {
		snprintf(why, sizeof(why), "session start: %s", strerror(errno));
		goto fail;
	}
	session_int(vsess);
	trigger_vector(vgate);
	ss.op = XPTILAB_SESSION_STOP;
	ss.vector = 0;
	if (ioctl(fd, XPTILAB_IOC_SESSION, &ss)) {
		snprintf(why, sizeof(why), "session stop: %s", strerror(errno));
		goto fail;
	}
	unpin();
	close(fd);
	return NULL;
fail:
	unpin();
	close(fd);
	return why;
}

TEST_F(cycles, with_experiments)
{
	unsigned long cycles = env_ulong("XPTILAB_CYCLES", DEFAULT_CYCLES);
	int vgate, vtrap, vsess;
	long pages_fresh, pages, free0, free1, tol, worst_pages = 0;
	double t0, t_unload = 0, t_load = 0, t;
	const char *why;
	unsigned long i;

	REQUIRE_RELOADABLE();
	vgate = module_param_int("vector_gate");
	vtrap = module_param_int("vector_trap");
	vsess = module_param_int("vector_session");
	ASSERT_TRUE(trigger_vector_ok(vgate) && trigger_vector_ok(vtrap) &&
		    trigger_vector_ok(vsess));
	/* the baseline: right after a fresh load */
	ASSERT_EQ(0, module_unload()) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, module_load("")) TH_LOG("load: %s", strerror(errno));
	pages_fresh = module_pages();
	ASSERT_LT(0, pages_fresh);
	settled_free_kb();	/* the first compaction moves things around */
	free0 = settled_free_kb();
	ASSERT_LT(0, free0);
	t0 = mono_s();
	for (i = 0; i < cycles; i++) {
		why = experiment(vgate, vtrap, vsess);
		ASSERT_EQ(NULL, why) TH_LOG("cycle %lu: %s", i, why);
		pages = module_pages();
		if (labs(pages - pages_fresh) > worst_pages)
			worst_pages = labs(pages - pages_fresh);
		ASSERT_EQ(pages_fresh, pages)
			TH_LOG("cycle %lu: the module holds %ld pages, %ld after a fresh load",
			       i, pages, pages_fresh);
		t = mono_s();
		ASSERT_EQ(0, module_unload())
			TH_LOG("cycle %lu: delete_module: %s", i, strerror(errno));
		t_unload += mono_s() - t;
		ASSERT_FALSE(module_loaded());
		ASSERT_NE(0, access(XPTILAB_DEVICE, F_OK));
		t = mono_s();
		ASSERT_EQ(0, module_load(""))
			TH_LOG("cycle %lu: finit_module: %s", i, strerror(errno));
		t_load += mono_s() - t;
		ASSERT_EQ(pages_fresh, module_pages());
	}
	t = mono_s() - t0;
	free1 = settled_free_kb();
	tol = MEM_SLACK_KB + free0 / 100;
	RDIAG("lifecycle: %lu cycles survived in %.1f s (%.2f s each: unload %.3f s, load %.3f s)",
	      cycles, t, t / (cycles ? cycles : 1), t_unload / (cycles ? cycles : 1),
	      t_load / (cycles ? cycles : 1));
	RDIAG("lifecycle: module pages %ld after every experiment and load (largest deviation %ld)",
	      pages_fresh, worst_pages);
	RDIAG("lifecycle: MemFree %ld kB after the first load, %ld kB after the last: %+ld kB (%+.1f kB/cycle), tolerance %ld kB",
	      free0, free1, free1 - free0,
	      (double)(free1 - free0) / (cycles ? cycles : 1), tol);
	RDIAG("lifecycle-summary: cycles=%lu memfree_delta_kb=%ld tolerance_kb=%ld pages=%ld",
	      cycles, free1 - free0, tol, pages_fresh);
	EXPECT_LE(free0 - free1, tol)
		TH_LOG("MemFree dropped by %ld kB over %lu cycles", free0 - free1,
		       cycles);
}

/* ---- unloading while in use ---- */

FIXTURE_VARIANT(busy) {
	const char *what;
	int min_cpus;
};

FIXTURE_VARIANT_ADD(busy, cr3) { .what = "cr3", .min_cpus = 1 };
FIXTURE_VARIANT_ADD(busy, ipi) { .what = "ipi", .min_cpus = 2 };
FIXTURE_VARIANT_ADD(busy, storm) { .what = "storm", .min_cpus = 2 };
FIXTURE_VARIANT_ADD(busy, session) { .what = "session", .min_cpus = 1 };
FIXTURE_VARIANT_ADD(busy, open_fd) { .what = "open_fd", .min_cpus = 1 };

struct busy {
	volatile int done;		/* parent: stop */
	volatile int ready;		/* child: descriptor open */
	volatile int in_ioctl;		/* child: inside the experiment's ioctl */
	volatile unsigned long runs;	/* child: runs completed */
	volatile int failed;		/* child: an ioctl failed */
	char why[160];
};

static void busy_child(struct busy *b, const char *what, int vgate, int vsess)
{
	static uint64_t s[20000], o[20000], lat[2000], h[2000 * MAX_TEST_CPUS];
	uint64_t map[XPTILAB_MAX_CPU_BITS / 64] = { 0 };
	bool online[MAX_TEST_CPUS];
	int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
	long ret = 0;

	if (fd < 0 || pin_to(0))
		_exit(CHILD_SETUP_FAILED);
	online_cpus(online);
	for (int c = 1; c < MAX_TEST_CPUS; c++)
		if (online[c])
			map[c / 64] |= 1ULL << (c % 64);
	if (!strcmp(what, "session")) {
		struct xptilab_session ss = {
			.size = sizeof(ss), .cpu = 0,
			.op = XPTILAB_SESSION_START,
		};

		if (ioctl(fd, XPTILAB_IOC_SESSION, &ss))
			_exit(CHILD_SETUP_FAILED);
	}
	b->ready = 1;
	while (!b->done && !ret) {
		if (!strcmp(what, "cr3")) {
			struct xptilab_cr3_run r = {
				.size = sizeof(r), .cpu = 0, .iterations = 20000,
				.samples = (uint64_t)s, .overhead = (uint64_t)o,
			};

			b->in_ioctl = 1;
			ret = ioctl(fd, XPTILAB_IOC_RUN_CR3, &r);
			b->in_ioctl = 0;
			if (!ret && r.n != r.iterations)
				ret = -1, errno = EIO;
		} else if (!strcmp(what, "ipi")) {
			struct xptilab_ipi_run r = {
				.size = sizeof(r), .from_cpu = 0,
				.variant = XPTILAB_IPI_FLUSH, .iterations = 2000,
				.targets = (uint64_t)map,
				.target_bits = XPTILAB_MAX_CPU_BITS,
				.latency = (uint64_t)lat, .handler = (uint64_t)h,
			};

			b->in_ioctl = 1;
			ret = ioctl(fd, XPTILAB_IOC_RUN_IPI, &r);
			b->in_ioctl = 0;
		} else if (!strcmp(what, "storm")) {
			struct xptilab_storm r = {
				.size = sizeof(r), .from_cpu = 0, .target_cpu = 1,
				.duration_ms = 300,
			};

			b->in_ioctl = 1;
			ret = ioctl(fd, XPTILAB_IOC_STORM, &r);
			b->in_ioctl = 0;
		} else if (!strcmp(what, "session")) {
			/* in and out of the session: the gate keeps it */
			for (int i = 0; i < 1000; i++) {
				session_int(vsess);
				trigger_vector(vgate);
			}
		} else {
			sleep_ms(20);
		}
		if (!ret)
			b->runs++;
	}
	if (ret) {
		snprintf(b->why, sizeof(b->why), "%s run %lu: %s", what,
			 b->runs, strerror(errno));
		b->failed = 1;
	}
	close(fd);
	_exit(ret ? 1 : 0);
}

TEST_F_TIMEOUT(busy, unload_refused, 300)
{
	struct busy *b;
	bool online[MAX_TEST_CPUS];
	int vgate, vsess, status, refused = 0, during = 0, flags;
	unsigned long runs0;
	double deadline;
	char audit[4096];
	long pages_fresh;
	pid_t pid;

	REQUIRE_RELOADABLE();
	if (online_cpus(online) < variant->min_cpus || (variant->min_cpus > 1 &&
							 !online[1]))
		SKIP(return, "needs %d CPUs", variant->min_cpus);
	vgate = module_param_int("vector_gate");
	vsess = module_param_int("vector_session");
	ASSERT_TRUE(trigger_vector_ok(vgate) && trigger_vector_ok(vsess));
	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b);
	memset(b, 0, sizeof(*b));
	pages_fresh = module_pages();
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		busy_child(b, variant->what, vgate, vsess);
	ASSERT_LT(0, pid);
	deadline = mono_s() + 60;
	while (!b->ready && mono_s() < deadline && !waitpid(pid, &status, WNOHANG))
		sleep_ms(5);
	ASSERT_TRUE(b->ready) TH_LOG("the child did not get going");

	/* refused every time; at least 3 times while inside the ioctl */
	deadline = mono_s() + 120;
	for (int i = 0; mono_s() < deadline && !b->failed &&
	     (i < 10 || (during < 3 && strcmp(variant->what, "session") &&
			 strcmp(variant->what, "open_fd"))); i++) {
		int in0 = b->in_ioctl, ret;

		runs0 = b->runs;
		flags = i & 1 ? O_NONBLOCK : 0;	/* neither waits */
		ret = syscall(SYS_delete_module, MODULE_NAME, flags);
		ASSERT_EQ(-1, ret) TH_LOG("attempt %d: the module unloaded", i);
		ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
			TH_LOG("attempt %d: delete_module: %s", i, strerror(errno));
		refused++;
		if (in0 && b->in_ioctl && b->runs == runs0)
			during++;
		ASSERT_TRUE(module_loaded());
		sleep_ms(i & 1 ? 7 : 31);
	}
	runs0 = b->runs;
	b->done = 1;
	deadline = mono_s() + 120;
	while (mono_s() < deadline && !waitpid(pid, &status, WNOHANG))
		sleep_ms(20);
	if (mono_s() >= deadline) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ASSERT_TRUE(false) TH_LOG("the %s child hangs", variant->what);
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x: %s", status, b->why);
	RDIAG("unload while %s: refused %d times (%d while inside the ioctl), errno EWOULDBLOCK; %lu runs completed",
	      variant->what, refused, during, runs0);
	if (strcmp(variant->what, "session") && strcmp(variant->what, "open_fd")) {
		EXPECT_LE(3, during);
	}

	/* it still works, then unloads */
	{
		struct xptilab_info info;
		int fd;

		OPEN_DEVICE(fd);
		EXPECT_EQ(0, get_info(fd, &info));
		close(fd);
	}
	EXPECT_TRUE(audit_ok(audit, sizeof(audit))) TH_LOG("%s", audit);
	EXPECT_EQ(pages_fresh, module_pages());
	ASSERT_EQ(0, module_unload()) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, module_load("")) TH_LOG("load: %s", strerror(errno));
	munmap(b, sizeof(*b));
}

static void __attribute__((constructor)) lcs_timeout(void)
{
	/* a few seconds per cycle under TCG, with room to spare */
	_cycles_with_experiments_object.timeout =
		env_ulong("XPTILAB_CYCLES", DEFAULT_CYCLES) * 6 + 120;
}

TEST_HARNESS_MAIN
