/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the robustness selftests (fuzz_test, stress_test,
 * lifecycle_stress_test, params_test) share: durations from the
 * environment, a PRNG, pinning, the kernel log since a point (/dev/kmsg),
 * the module's page count (debugfs), MemFree, CPU hotplug and counter
 * snapshots. Include after kselftest_harness.h, helpers.h and
 * shadow_helpers.h.
 */
#ifndef XPTILAB_SELFTESTS_ROBUST_HELPERS_H
#define XPTILAB_SELFTESTS_ROBUST_HELPERS_H

#include <ctype.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* A "# " diagnostic line that survives a test child's _exit(). */
#define RDIAG(fmt, ...) do { \
	ksft_print_msg(fmt "\n", ##__VA_ARGS__); \
	fflush(stdout); \
} while (0)

/* An unsigned number from the environment, or def when unset or bad. */
static inline unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 0);
	return *end ? def : v;
}

static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* xorshift64*: reproducible from the seed printed by each test. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)((rng_next(s) >> 32) % n) : 0;
}

static inline uint64_t rng_seed(void)
{
	unsigned long env = env_ulong("XPTILAB_SEED", 0);

	if (env)
		return env;
	return ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
	       (uint64_t)(mono_s() * 1e9);
}

static inline int unpin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* ---- the kernel log ---- */

/* Messages that mean the kernel is unhappy (vm-run's list and more). */
static const char *const robust_complaints[] = {
	"BUG:", "kernel BUG", "WARNING:", "cut here", "Oops",
	"general protection fault", "double fault", "soft lockup",
	"hard LOCKUP", "lockup", "rcu: INFO:", "self-detected stall",
	"detected stalls", "stall", "Kernel panic", "Call Trace",
	"still allocated", "cannot build the shadow root",
	"refcount_t:", "list_add corruption", "list_del corruption",
	"unable to handle", "bad page", "BUG ", "UBSAN", "KASAN",
};

static inline const char *kmsg_complaint(const char *msg)
{
	for (size_t i = 0; i < sizeof(robust_complaints) / sizeof(robust_complaints[0]); i++)
		for (const char *p = msg; (p = strstr(p, robust_complaints[i])); p++)
			if (p == msg || !isalnum((unsigned char)p[-1]))
				return robust_complaints[i];
	return NULL;
}

/* /dev/kmsg positioned at the end of the log: what follows is "since". */
static inline int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read every record since the last call; fn(level, msg, arg) for each
 * (level: syslog priority 0..7). Returns the number of records read.
 */
static inline int kmsg_each(int fd, void (*fn)(int level, const char *msg,
					      void *arg), void *arg)
{
	static char rec[8192];
	ssize_t len;
	int n = 0;

	if (fd < 0)
		return 0;
	while ((len = read(fd, rec, sizeof(rec) - 1)) > 0 ||
	       (len < 0 && errno == EPIPE)) {
		const char *msg;
		char *nl;

		if (len < 0)
			continue;	/* records were overwritten: go on */
		rec[len] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		fn(atoi(rec) & 7, msg, arg);
		n++;
	}
	return n;
}

struct kmsg_verdict {
	int complaints;
	int xptilab_errors;	/* "xptilab: ..." at level err or worse */
	char first[512];
};

static inline void kmsg_judge_one(int level, const char *msg, void *arg)
{
	struct kmsg_verdict *v = arg;
	const char *bad = kmsg_complaint(msg);

	if (!bad && level <= 3 && !strncmp(msg, "xptilab: ", 9)) {
		v->xptilab_errors++;
		bad = "xptilab error";
	}
	if (!bad)
		return;
	v->complaints++;
	if (!v->first[0])
		snprintf(v->first, sizeof(v->first), "%.500s", msg);
}

/* Judge the log since kmsg_open_end(): 0 complaints means clean. */
static inline struct kmsg_verdict kmsg_judge(int fd)
{
	struct kmsg_verdict v = { 0 };

	kmsg_each(fd, kmsg_judge_one, &v);
	return v;
}

/* ---- memory ---- */

/* The module's page count from debugfs, or -1. */
static inline long module_pages(void)
{
	char buf[64];

	if (read_text(XDBG "pages", buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/* A /proc/meminfo field in KiB, or -1. */
static inline long meminfo_kb(const char *field)
{
	char buf[8192], *p;
	size_t flen = strlen(field);

	if (read_text("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, field, flen) && p[flen] == ':')
			return strtol(p + flen + 1, NULL, 10);
	return -1;
}

/* Pages on the per-CPU free lists (/proc/zoneinfo "count:"), in KiB. */
static inline long pcp_free_kb(void)
{
	static char buf[1 << 17];
	long pages = 0;
	char *p;

	if (read_text("/proc/zoneinfo", buf, sizeof(buf)) <= 0)
		return 0;
	for (p = buf; (p = strstr(p, "\n")); p++) {
		char *q = p + 1;

		while (*q == ' ')
			q++;
		if (!strncmp(q, "count:", 6))
			pages += strtol(q + 6, NULL, 10);
	}
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * The kernel's free memory in KiB, settled: caches dropped, the per-CPU
 * vmstat deltas folded (vm/stat_refresh), and the pages waiting on the
 * per-CPU free lists counted with MemFree (a freed page sits there, not
 * in MemFree, until the list is drained).
 */
static inline long settled_free_kb(void)
{
	sync();
	write_text("/proc/sys/vm/drop_caches", "3");
	sleep_ms(300);
	write_text("/proc/sys/vm/stat_refresh", "1");
	return meminfo_kb("MemFree") + pcp_free_kb();
}

/* ---- CPUs ---- */

/* CPUs this machine could have: the count of /sys/.../possible. */
static inline int possible_cpus(void)
{
	char buf[256];
	int hi = 0;
	char *p;

	if (read_text(SYSCPU "possible", buf, sizeof(buf)) <= 0)
		return 1;
	p = strrchr(buf, '-');
	hi = p ? atoi(p + 1) : atoi(buf);
	return hi + 1;
}

static inline bool cpu_hotpluggable(int cpu)
{
	char path[96];

	snprintf(path, sizeof(path), SYSCPU "cpu%d/online", cpu);
	return cpu > 0 && !access(path, W_OK);
}

/* Write 0 or 1 to cpuN/online; 0, or -1 with errno. */
static inline int cpu_set_online(int cpu, bool on)
{
	char path[96];

	snprintf(path, sizeof(path), SYSCPU "cpu%d/online", cpu);
	return write_text(path, on ? "1" : "0");
}

/* Bring every hotpluggable CPU back; returns the number still offline. */
static inline int all_cpus_online(void)
{
	bool online[MAX_TEST_CPUS];
	int n = possible_cpus(), left = 0;

	online_cpus(online);
	for (int c = 1; c < n && c < MAX_TEST_CPUS; c++) {
		if (online[c] || !cpu_hotpluggable(c))
			continue;
		for (int tries = 0; tries < 5; tries++) {
			if (!cpu_set_online(c, true))
				break;
			sleep_ms(200);
		}
	}
	online_cpus(online);
	for (int c = 0; c < n && c < MAX_TEST_CPUS; c++)
		if (!online[c] && cpu_hotpluggable(c))
			left++;
	return left;
}

/* ---- counters ---- */

struct robust_snap {
	int ncpus;
	struct xptilab_counters c[MAX_TEST_CPUS];
	struct xptilab_session_stats s[MAX_TEST_CPUS];
	bool have_stats;
};

/* Every possible CPU's counters and session stats; 0, or -1 with errno. */
static inline int robust_snapshot(int fd, struct robust_snap *snap)
{
	snap->ncpus = possible_cpus();
	if (snap->ncpus > MAX_TEST_CPUS)
		snap->ncpus = MAX_TEST_CPUS;
	snap->have_stats = true;
	for (int cpu = 0; cpu < snap->ncpus; cpu++) {
		memset(&snap->c[cpu], 0, sizeof(snap->c[cpu]));
		snap->c[cpu].size = sizeof(snap->c[cpu]);
		snap->c[cpu].cpu = cpu;
		if (ioctl(fd, XPTILAB_IOC_COUNTERS, &snap->c[cpu]))
			return -1;
		memset(&snap->s[cpu], 0, sizeof(snap->s[cpu]));
		snap->s[cpu].size = sizeof(snap->s[cpu]);
		snap->s[cpu].cpu = cpu;
		if (ioctl(fd, XPTILAB_IOC_SESSION_STATS, &snap->s[cpu])) {
			if (errno != ENOTTY)
				return -1;
			snap->have_stats = false;
		}
	}
	return 0;
}

/*
 * Sanity of a later snapshot against an earlier one: every counter is
 * monotonic, and with no session running, every CPU's session bookkeeping
 * adds up (exits <= enters <= exits + 1, one duration per exit, at most
 * one ending vector per exit). Describes the first problem in why.
 */
static inline bool robust_sane(const struct robust_snap *a,
			       const struct robust_snap *b,
			       char *why, size_t size)
{
	for (int cpu = 0; cpu < a->ncpus && cpu < b->ncpus; cpu++) {
		const struct xptilab_counters *x = &a->c[cpu], *y = &b->c[cpu];
		const struct xptilab_session_stats *s = &b->s[cpu];
		uint64_t hist = 0, vec = 0;

		if (y->entries < x->entries || y->race_hits < x->race_hits ||
		    y->deferred < x->deferred ||
		    y->shadow_events < x->shadow_events) {
			snprintf(why, size, "cpu%d: a counter went backwards", cpu);
			return false;
		}
		for (int v = 0; v < 8; v++)
			if (y->ipi_handled[v] < x->ipi_handled[v]) {
				snprintf(why, size, "cpu%d: ipi_handled[%d] went backwards",
					 cpu, v);
				return false;
			}
		if (!a->have_stats || !b->have_stats)
			continue;
		if (s->enters < a->s[cpu].enters || s->exits < a->s[cpu].exits ||
		    s->refused < a->s[cpu].refused) {
			snprintf(why, size, "cpu%d: a session counter went backwards", cpu);
			return false;
		}
		for (int i = 0; i < 64; i++)
			hist += s->duration_log2[i];
		for (int i = 0; i < 256; i++)
			vec += s->exits_by_vector[i];
		if (s->exits > s->enters || s->enters > s->exits + 1 ||
		    hist != s->exits || vec > s->exits) {
			snprintf(why, size,
				 "cpu%d: sessions enters %llu exits %llu durations %llu ending vectors %llu",
				 cpu, (unsigned long long)s->enters,
				 (unsigned long long)s->exits,
				 (unsigned long long)hist,
				 (unsigned long long)vec);
			return false;
		}
	}
	return true;
}

/* The module's test vectors from sysfs, or -1. */
static inline int module_param_int(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/" MODULE_NAME "/parameters/%s",
		 name);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	return (int)strtol(buf, NULL, 0);
}

/*
 * "int $vec" on the session vector, which returns a value in rax (the
 * CPU's session exits, or -1): unlike trigger_vector(), rax is an output.
 */
static inline long session_int(unsigned int vec)
{
	long ret = -2;

	switch (vec) {
#define ROBUST_SESSION_INT(n) \
	case n: __asm__ __volatile__("int $" #n : "=a"(ret) :: "memory"); break;
	TRIGGER_FOR_EACH_VECTOR(ROBUST_SESSION_INT)
#undef ROBUST_SESSION_INT
	default:
		break;
	}
	return ret;
}


/*
 * The test vectors serve only the task that last configured them; any
 * other gets SIGSEGV (the #GP of a vector without a user gate), as does
 * everyone once that task's descriptor is closed. Workers that share the
 * module therefore count an "int" only when it was served: these run one
 * and catch that SIGSEGV (SA_NODEFER, and no signal mask saved, so that no
 * system call ends a session on the way).
 */
#define VECTOR_FAULTED	(-3L)

static __thread sigjmp_buf robust_jb;
static __thread volatile int robust_armed;

static void robust_on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (robust_armed && si->si_code == SI_KERNEL) {
		robust_armed = 0;
		siglongjmp(robust_jb, 1);
	}
	signal(sig, SIG_DFL);	/* anything else: die of it */
}

static inline void robust_catch_segv(void)
{
	static int done;
	struct sigaction sa = {
		.sa_sigaction = robust_on_segv,
		.sa_flags = SA_SIGINFO | SA_NODEFER,
	};

	if (!done && !sigaction(SIGSEGV, &sa, NULL))
		done = 1;
}

/* "int $vec": 1 when served, 0 when it faulted. */
static inline int served_trigger(unsigned int vec)
{
	robust_catch_segv();
	if (sigsetjmp(robust_jb, 0))
		return 0;
	robust_armed = 1;
	trigger_vector(vec);
	robust_armed = 0;
	return 1;
}

/* session_int(), or VECTOR_FAULTED when the vector was not served. */
static inline long served_session_int(unsigned int vec)
{
	long r;

	robust_catch_segv();
	if (sigsetjmp(robust_jb, 0))
		return VECTOR_FAULTED;
	robust_armed = 1;
	r = session_int(vec);
	robust_armed = 0;
	return r;
}

#endif /* XPTILAB_SELFTESTS_ROBUST_HELPERS_H */
