// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions (docs/sessions.md): a pinned task runs in user mode on its CPU's
 * shadow root. Checked here, each without a kernel warning (vm-run scans
 * the log) and with the shadow-root audit "ok" afterwards:
 *
 *  - entering and leaving: the exit count the session vector returns, -1
 *    on a CPU not started and after STOP, SIGSEGV in a forked child (not
 *    the task the vectors serve);
 *  - user code in a session computes correctly, and first touches of fresh
 *    pages end sessions as page faults (vector 14);
 *  - syscall (as #UD, vector 6) and int $0x80 (vector 0x80) from a session
 *    work and are counted;
 *  - a signal timer interrupts a session loop and its handler runs;
 *  - fork and exit (and SIGKILL) inside a session;
 *  - a busy task pinned to the same CPU: both progress, sessions end by
 *    timer or reschedule;
 *  - sessions on every online CPU at once (one thread each);
 *  - another process's START while sessions are armed is EBUSY;
 *  - a new top-level user entry (a far mmap): stale until SYNC, then
 *    mirrored everywhere and the audit is ok, with SYNC and FLUSH;
 *  - CPU 1 offlined under a session thread, then onlined and used again;
 *  - unloading with a session's descriptor open is refused, and closing it
 *    empties every user half;
 *  - the tool's session command and session entry variants.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "session.h"

#define CPU		0
#define FAR_PAGES	1
#define FRESH_PAGES	64
#define SPIN_SECONDS	2.0

#define DIAG(fmt, ...) do { \
	ksft_print_msg(fmt, ##__VA_ARGS__); \
	fflush(stdout); \
} while (0)

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * TSC ticks per second. Loops in sessions time themselves with the TSC:
 * clock_gettime() may be a syscall, which would end every session.
 */
static double tsc_hz(void)
{
	static double hz;

	if (!hz) {
		struct timespec d = { 0, 50 * 1000 * 1000 };
		double t0 = mono_s();
		uint64_t c0 = rdtsc();

		nanosleep(&d, NULL);
		hz = (rdtsc() - c0) / (mono_s() - t0);
	}
	return hz;
}

static uint64_t tsc_after(double seconds)
{
	return rdtsc() + (uint64_t)(tsc_hz() * seconds);
}

static void spin(unsigned long n)
{
	for (volatile unsigned long i = 0; i < n; i++)
		;
}

/*
 * A child that is not the task the vectors serve gets SIGSEGV from them:
 * it exits with EXIT_SIGSEGV instead of dying of it (an unhandled SIGSEGV
 * would put a "traps: ... general protection fault" line in the kernel
 * log, which vm-run treats as a splat).
 */
#define EXIT_SIGSEGV	77

static void on_sigsegv(int sig)
{
	(void)sig;
	_exit(EXIT_SIGSEGV);
}

static void exit_on_sigsegv(void)
{
	signal(SIGSEGV, on_sigsegv);
}

/* Lines "... mirrored from pid ..." in cpu's dump; *covers: one holds va. */
static int mirrored_lines(int cpu, uint64_t va, bool *covers)
{
	static char buf[65536];
	char path[96], *line, *save = NULL;
	int n = 0;

	snprintf(path, sizeof(path), XDBG "cpu%d/shadow", cpu);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	if (covers)
		*covers = false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		uint64_t lo, hi;

		if (!strstr(line, "mirrored"))
			continue;
		n++;
		if (covers && sscanf(line, "0x%" SCNx64 "-0x%" SCNx64, &lo, &hi) == 2 &&
		    va >= lo && va < hi)
			*covers = true;
	}
	return n;
}

/* Every online CPU's dump has no mirrored line and the audit is ok. */
static void expect_no_mirror(struct __test_metadata *_metadata)
{
	bool online[MAX_TEST_CPUS];
	char buf[8192];

	ASSERT_LT(0, online_cpus(online));
	for (int cpu = 0; cpu < MAX_TEST_CPUS; cpu++) {
		if (online[cpu]) {
			EXPECT_EQ(0, mirrored_lines(cpu, 0, NULL))
				TH_LOG("cpu%d still mirrors a user half", cpu);
		}
	}
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
}

FIXTURE(session) {
	int fd;
	unsigned int vec;		/* the session vector, after START */
	struct xptilab_info info;
};

FIXTURE_SETUP(session)
{
	self->fd = -1;
	self->vec = 0;
	if (geteuid() != 0 || !module_loaded())
		return;		/* the test SKIPs */
	OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	ASSERT_EQ(0, pin_to(CPU)) TH_LOG("pin to cpu %d: %s", CPU, strerror(errno));
}

FIXTURE_TEARDOWN(session)
{
	char buf[8192];

	if (self->fd < 0)
		return;
	close(self->fd);
	if (module_loaded()) {
		EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
	}
}

/* START on cpu (the caller pinned there) into self->vec. */
#define START(cpu_) do { \
	ASSERT_EQ(0, session_op(self->fd, (cpu_), XPTILAB_SESSION_START, 0, \
				&self->vec)) \
		TH_LOG("START on cpu %d: %s", (cpu_), strerror(errno)); \
	ASSERT_TRUE(trigger_vector_ok(self->vec)) \
		TH_LOG("session vector %#x", self->vec); \
} while (0)

#define STATS(cpu_, st_) \
	ASSERT_EQ(0, session_stats(self->fd, (cpu_), (st_))) \
		TH_LOG("SESSION_STATS cpu %d: %s", (cpu_), strerror(errno))

#define ENTER() session_enter(self->vec)

/* ---- entering and leaving ---- */

TEST_F(session, enter_count_and_refusal)
{
	struct xptilab_session_stats a, b;
	long e0, e1, e2, r;
	int status;
	pid_t pid;

	REQUIRE_MODULE();
	START(CPU);
	STATS(CPU, &a);
	/*
	 * In a session the vector changes nothing. An interrupt that became
	 * pending during the (IF=0) entry may end the first session at once,
	 * so allow a few tries.
	 */
	for (int i = 0; i < 10; i++) {
		e0 = ENTER();
		ASSERT_LE(0, e0);
		e1 = ENTER();
		if (e0 == e1)
			break;
	}
	EXPECT_EQ(e0, e1);
	ASSERT_EQ(getppid(), trigger_syscall_getppid());	/* ends it */
	e2 = ENTER();
	EXPECT_LT(e1, e2) TH_LOG("a syscall did not end the session");
	STATS(CPU, &b);
	EXPECT_LE(2, (long long)(b.enters - a.enters));
	EXPECT_LE(1, (long long)(b.exits - a.exits));
	EXPECT_EQ(0, (long long)(b.refused - a.refused));
	EXPECT_LE(1, (long long)(b.exits_by_vector[6] - a.exits_by_vector[6]));
	EXPECT_LT(0, (long long)(b.ticks - a.ticks));

	/*
	 * A forked child has its own page tables: not the task the vectors
	 * serve, so it gets the #GP of a vector without a user gate.
	 */
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		exit_on_sigsegv();
		ENTER();
		_exit(1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SIGSEGV)
		TH_LOG("child: status %#x", status);

	/* A CPU that was not started: refused. */
	if (self->info.cpus_online > 1 && !pin_to(1)) {
		EXPECT_EQ(SESSION_NOT_ARMED, ENTER());
		ASSERT_EQ(0, pin_to(CPU));
	}

	/* After STOP: refused, and counted. */
	ASSERT_LE(0, ENTER());
	STATS(CPU, &a);
	ASSERT_EQ(0, session_op(self->fd, CPU, XPTILAB_SESSION_STOP, 0, NULL));
	r = ENTER();
	EXPECT_EQ(SESSION_NOT_ARMED, r);
	STATS(CPU, &b);
	EXPECT_EQ(1, (long long)(b.refused - a.refused));
	/* and START arms it again */
	START(CPU);
	EXPECT_LE(0, ENTER());
}

/* ---- user code in a session ---- */

TEST_F(session, user_code_and_page_faults)
{
	struct xptilab_session_stats a, b;
	uint64_t sum = 0, want = 0;
	unsigned long in_session = 0;
	long e0, e1;
	uint8_t *m;

	REQUIRE_MODULE();
	START(CPU);
	/* Arithmetic and stack memory, inside one session or several. */
	for (int round = 0; round < 20; round++) {
		uint64_t s = 0;

		e0 = ENTER();
		ASSERT_LE(0, e0);
		for (uint64_t i = 1; i <= 100000; i++)
			s += i * i ^ (i >> 3);
		e1 = ENTER();
		in_session += e0 == e1;
		sum += s;
	}
	for (int round = 0; round < 20; round++)
		for (uint64_t i = 1; i <= 100000; i++)
			want += i * i ^ (i >> 3);
	EXPECT_EQ(want, sum);
	EXPECT_LT(0UL, in_session) TH_LOG("no round stayed in its session");
	DIAG("%lu of 20 compute rounds inside one session\n", in_session);

	/* First touches of fresh pages: page faults, each ends a session. */
	m = mmap(NULL, FRESH_PAGES * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	STATS(CPU, &a);
	for (int p = 0; p < FRESH_PAGES; p++) {
		ASSERT_LE(0, ENTER());
		for (int k = 0; k < 4096; k += 512)
			m[p * 4096 + k] = (uint8_t)(p + k / 512);
	}
	STATS(CPU, &b);
	ASSERT_LE(0, ENTER());
	sum = 0;
	for (int p = 0; p < FRESH_PAGES; p++)
		for (int k = 0; k < 4096; k += 512)
			sum += m[p * 4096 + k] == (uint8_t)(p + k / 512);
	EXPECT_EQ((uint64_t)FRESH_PAGES * 8, sum);
	DIAG("%d fresh pages: %u sessions ended by page faults\n", FRESH_PAGES,
	     b.exits_by_vector[14] - a.exits_by_vector[14]);
	EXPECT_LE(FRESH_PAGES / 2, (long long)(b.exits_by_vector[14] - a.exits_by_vector[14]));
	munmap(m, FRESH_PAGES * 4096);
}

/* ---- Linux's entries from a session ---- */

#define ROUNDS 20

TEST_F(session, syscalls_from_a_session)
{
	struct xptilab_session_stats a, b;
	long ppid = getppid(), e0, e1;
	char msg[16], got[16];
	int p[2], ended = 0;

	REQUIRE_MODULE();
	ASSERT_EQ(0, pipe(p));
	START(CPU);
	STATS(CPU, &a);
	for (int i = 0; i < ROUNDS; i++) {
		e0 = ENTER();
		ASSERT_LE(0, e0);
		ASSERT_EQ(ppid, trigger_syscall_getppid());
		e1 = ENTER();
		ended += e1 > e0;
		ASSERT_LE(0, ENTER());
		snprintf(msg, sizeof(msg), "session %02d", i);
		ASSERT_EQ((ssize_t)strlen(msg), write(p[1], msg, strlen(msg)));
		memset(got, 0, sizeof(got));
		ASSERT_EQ((ssize_t)strlen(msg), read(p[0], got, strlen(msg)));
		ASSERT_STREQ(msg, got);
	}
	STATS(CPU, &b);
	EXPECT_EQ(ROUNDS, ended) TH_LOG("getppid did not end every session");
	DIAG("%d rounds: %u sessions ended by syscall (#UD)\n", ROUNDS,
	     b.exits_by_vector[6] - a.exits_by_vector[6]);
	EXPECT_LE(ROUNDS * 3 / 2, (long long)(b.exits_by_vector[6] - a.exits_by_vector[6]));
	close(p[0]);
	close(p[1]);
}

TEST_F(session, int80_from_a_session)
{
	struct xptilab_session_stats a, b;
	long ppid = getppid();

	REQUIRE_MODULE();
	if (!(self->info.features & XPTILAB_FEAT_IA32_EMU))
		SKIP(return, "the kernel has no IA32 emulation (int $0x80)");
	START(CPU);
	STATS(CPU, &a);
	for (int i = 0; i < ROUNDS; i++) {
		ASSERT_LE(0, ENTER());
		ASSERT_EQ(ppid, trigger_int80_getppid());
	}
	STATS(CPU, &b);
	DIAG("%d rounds: %u sessions ended by int $0x80\n", ROUNDS,
	     b.exits_by_vector[0x80] - a.exits_by_vector[0x80]);
	EXPECT_LE(ROUNDS / 2, (long long)(b.exits_by_vector[0x80] - a.exits_by_vector[0x80]));
}

/*
 * Entry mode LINUX_INT80 puts Linux's own gate on the CPU's vector 0x80. A
 * session's "int $0x80" would then reach Linux on the shadow root, so
 * START is refused there and a session armed before is disarmed; back in
 * mode GATE, sessions and their int $0x80 work again.
 */
static int entry_mode(int fd, int cpu, unsigned int mode)
{
	struct xptilab_entry_config c = {
		.size = sizeof(c), .cpu = cpu, .mode = mode,
	};

	return ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &c);
}

TEST_F(session, linux_int80_gate_keeps_sessions_out)
{
	struct xptilab_session_stats a, b;
	long ppid = getppid();
	unsigned int vec;

	REQUIRE_MODULE();
	if (!(self->info.features & XPTILAB_FEAT_IA32_EMU))
		SKIP(return, "the kernel has no IA32 emulation (int $0x80)");
	/* armed first: the mode disarms it */
	START(CPU);
	ASSERT_EQ(0, entry_mode(self->fd, CPU, XPTILAB_ENTRY_LINUX_INT80))
		TH_LOG("ENTRY_CONFIG LINUX_INT80: %s", strerror(errno));
	STATS(CPU, &a);
	EXPECT_EQ(-1, ENTER());
	EXPECT_EQ(ppid, trigger_int80_getppid());
	STATS(CPU, &b);
	EXPECT_EQ(a.enters, b.enters);
	EXPECT_EQ(a.refused + 1, b.refused);
	/* and START is refused while the mode holds */
	EXPECT_EQ(-1, session_op(self->fd, CPU, XPTILAB_SESSION_START, 0, &vec));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, entry_mode(self->fd, CPU, XPTILAB_ENTRY_GATE));
	START(CPU);
	STATS(CPU, &a);
	for (int i = 0; i < 10; i++) {
		ASSERT_LE(0, ENTER());
		ASSERT_EQ(ppid, trigger_int80_getppid());
	}
	STATS(CPU, &b);
	EXPECT_LE(5u, b.exits_by_vector[0x80] - a.exits_by_vector[0x80]);
	ASSERT_EQ(0, session_op(self->fd, CPU, XPTILAB_SESSION_STOP, 0, NULL));
}

/* ---- signals ---- */

static volatile sig_atomic_t alarms;
static volatile long handler_enter = -3;
static unsigned int handler_vec;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	/* A handler may use sessions too. */
	handler_enter = session_enter(handler_vec);
}

TEST_F_TIMEOUT(session, signal_timer_in_a_session_loop, 60)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct xptilab_session_stats a, b;
	uint64_t until;
	unsigned long loops = 0;

	REQUIRE_MODULE();
	START(CPU);
	handler_vec = self->vec;
	alarms = 0;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	STATS(CPU, &a);
	until = tsc_after(10.0);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	while (alarms < 20 && rdtsc() < until) {
		ASSERT_LE(0, ENTER());
		spin(2000);
		loops++;
	}
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &off, NULL));
	STATS(CPU, &b);
	EXPECT_LE(20, alarms) TH_LOG("%d SIGALRMs in 10 s", (int)alarms);
	EXPECT_LE(0, handler_enter);
	EXPECT_LT(0, (long long)(b.exits_by_vector[0xec] - a.exits_by_vector[0xec]));
	DIAG("%d SIGALRMs, %lu loops, %llu sessions, %u ended by the timer\n",
	     (int)alarms, loops, (unsigned long long)(b.exits - a.exits),
	     b.exits_by_vector[0xec] - a.exits_by_vector[0xec]);
}

/* ---- fork and exit ---- */

/* A child that starts its own sessions; how it ends is up to how. */
static int child_session(int how)
{
	unsigned int vec;
	long e;
	int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0 || session_op(fd, CPU, XPTILAB_SESSION_START, 0, &vec))
		return CHILD_SETUP_FAILED;
	e = session_enter(vec);
	if (e < 0)
		return 2;
	spin(100000);
	if (how == 0) {
		session_enter(vec);
		syscall(SYS_exit_group, 7);	/* in the session */
	}
	for (;;)
		session_enter(vec);		/* until SIGKILL */
}

TEST_F_TIMEOUT(session, fork_and_exit_in_a_session, 60)
{
	struct timespec d = { 0, 200 * 1000 * 1000 };
	int status;
	pid_t pid;

	REQUIRE_MODULE();
	START(CPU);

	/* fork from a session: re-executed on the task's own tables */
	ASSERT_LE(0, ENTER());
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		volatile uint64_t s = 0;

		for (int i = 0; i < 1000; i++)
			s += i;
		if (s != 499500)
			_exit(3);
		exit_on_sigsegv();
		ENTER();	/* not the vectors' task: SIGSEGV */
		_exit(1);
	}
	ASSERT_LE(0, ENTER());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SIGSEGV)
		TH_LOG("child: status %#x", status);
	EXPECT_LE(0, ENTER()) TH_LOG("the parent cannot re-enter after fork");

	/* A child with sessions of its own exits inside one. */
	ASSERT_EQ(0, session_op(self->fd, CPU, XPTILAB_SESSION_STOP, 0, NULL));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_session(0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child: status %#x", status);
	EXPECT_EQ(7, WEXITSTATUS(status));
	expect_no_mirror(_metadata);

	/* ... and is killed inside one. */
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_session(1));
	nanosleep(&d, NULL);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child: status %#x", status);
	expect_no_mirror(_metadata);

	/* The parent's sessions work again. */
	START(CPU);
	EXPECT_LE(0, ENTER());
}

/* ---- a busy task on the same CPU ---- */

TEST_F_TIMEOUT(session, busy_task_on_the_same_cpu, 60)
{
	volatile uint64_t *shared;
	struct xptilab_session_stats a, b;
	uint64_t until, loops = 0;
	unsigned int by_sched;
	int status;
	pid_t pid;

	REQUIRE_MODULE();
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	shared[0] = shared[1] = 0;	/* [0]: stop, [1]: the child's progress */
	START(CPU);
	fflush(stdout);
	pid = fork();			/* pinned to CPU like the parent */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		while (!shared[0])
			shared[1]++;
		_exit(0);
	}
	STATS(CPU, &a);
	until = tsc_after(SPIN_SECONDS);
	while (rdtsc() < until) {
		ASSERT_LE(0, ENTER());
		spin(1000);
		loops++;
	}
	STATS(CPU, &b);
	shared[0] = 1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	by_sched = b.exits_by_vector[0xec] - a.exits_by_vector[0xec] +
		   b.exits_by_vector[0xfd] - a.exits_by_vector[0xfd];
	DIAG("parent %llu loops, child %llu, %llu sessions, %u ended by timer or reschedule\n",
	     (unsigned long long)loops, (unsigned long long)shared[1],
	     (unsigned long long)(b.exits - a.exits), by_sched);
	EXPECT_LT(0ULL, (unsigned long long)loops);
	EXPECT_LT(0ULL, (unsigned long long)shared[1]) TH_LOG("the busy task made no progress");
	EXPECT_LT(0U, by_sched);
	munmap((void *)shared, 4096);
}

/* ---- every CPU at once ---- */

struct cpu_thread {
	int fd, cpu;
	uint64_t until;
	long loops;
	int err;		/* 0, or the errno / -1 */
};

static void *cpu_thread_fn(void *arg)
{
	struct cpu_thread *t = arg;
	unsigned int vec;

	if (pin_to(t->cpu) ||
	    session_op(t->fd, t->cpu, XPTILAB_SESSION_START, 0, &vec)) {
		t->err = errno ? errno : -1;
		return NULL;
	}
	while (rdtsc() < t->until) {
		if (session_enter(vec) < 0) {
			t->err = -1;
			return NULL;
		}
		spin(1000);
		t->loops++;
	}
	if (session_op(t->fd, t->cpu, XPTILAB_SESSION_STOP, 0, NULL))
		t->err = errno;
	return NULL;
}

TEST_F_TIMEOUT(session, every_cpu_at_once, 60)
{
	bool online[MAX_TEST_CPUS];
	struct cpu_thread t[MAX_TEST_CPUS];
	pthread_t th[MAX_TEST_CPUS];
	struct xptilab_session_stats *a, *b;
	uint64_t until;

	REQUIRE_MODULE();
	ASSERT_LT(0, online_cpus(online));
	a = calloc(MAX_TEST_CPUS, sizeof(*a));
	b = calloc(MAX_TEST_CPUS, sizeof(*b));
	ASSERT_TRUE(a && b);
	for (int c = 0; c < MAX_TEST_CPUS; c++) {
		if (online[c]) {
			STATS(c, &a[c]);
		}
	}
	until = tsc_after(SPIN_SECONDS + 0.5);
	for (int c = 0; c < MAX_TEST_CPUS; c++) {
		if (!online[c])
			continue;
		t[c] = (struct cpu_thread){ .fd = self->fd, .cpu = c, .until = until };
		ASSERT_EQ(0, pthread_create(&th[c], NULL, cpu_thread_fn, &t[c]));
	}
	for (int c = 0; c < MAX_TEST_CPUS; c++)
		if (online[c])
			pthread_join(th[c], NULL);
	for (int c = 0; c < MAX_TEST_CPUS; c++) {
		if (!online[c])
			continue;
		STATS(c, &b[c]);
		DIAG("cpu%d: %ld loops, %llu sessions entered\n", c, t[c].loops,
		     (unsigned long long)(b[c].enters - a[c].enters));
		EXPECT_EQ(0, t[c].err) TH_LOG("cpu%d: %s", c, strerror(t[c].err));
		EXPECT_LT(0, (long long)(b[c].enters - a[c].enters)) TH_LOG("cpu%d", c);
		EXPECT_EQ(0, (long long)(b[c].refused - a[c].refused)) TH_LOG("cpu%d", c);
	}
	free(a);
	free(b);
}

/* ---- one process at a time ---- */

static int child_start(void *arg)
{
	int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);

	(void)arg;
	if (fd < 0)
		return CHILD_SETUP_FAILED;
	if (!session_op(fd, CPU, XPTILAB_SESSION_START, 0, NULL))
		return 0;
	return errno == EBUSY ? 16 : 1;
}

TEST_F(session, another_process_gets_ebusy)
{
	REQUIRE_MODULE();
	START(CPU);
	ASSERT_LE(0, ENTER());
	EXPECT_EQ(16, run_in_child(child_start, NULL))
		TH_LOG("a second process's START while armed is not EBUSY");
	/* Still ours. */
	EXPECT_LE(0, ENTER());
	/* Disarmed: the other process may take over. */
	ASSERT_EQ(0, session_op(self->fd, CPU, XPTILAB_SESSION_STOP, 0, NULL));
	EXPECT_EQ(0, run_in_child(child_start, NULL));
	expect_no_mirror(_metadata);
}

/* ---- a new top-level entry and SYNC ---- */

static void sync_and_check(struct __test_metadata *_metadata,
			   FIXTURE_DATA(session) *self, unsigned int variant,
			   uint64_t va, bool want_covered)
{
	bool online[MAX_TEST_CPUS], covers;
	char buf[8192];

	ASSERT_EQ(0, session_op(self->fd, CPU, XPTILAB_SESSION_SYNC, variant,
				NULL)) TH_LOG("SYNC %u: %s", variant, strerror(errno));
	ASSERT_LT(0, online_cpus(online));
	for (int c = 0; c < MAX_TEST_CPUS; c++) {
		if (!online[c])
			continue;
		ASSERT_LT(0, mirrored_lines(c, va, &covers));
		if (want_covered) {
			EXPECT_TRUE(covers) TH_LOG("cpu%d lacks %#" PRIx64 " after SYNC",
						   c, va);
		}
	}
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit after SYNC %u: %s",
						       variant, buf);
}

TEST_F(session, sync_after_a_far_mmap)
{
	uint64_t va = self->info.paging_levels == 5 ? 1ULL << 52 : 1ULL << 46;
	bool online[MAX_TEST_CPUS], covers;
	volatile uint64_t *far;
	char buf[8192];
	int other = -1;

	REQUIRE_MODULE();
	START(CPU);
	ASSERT_LT(0, online_cpus(online));
	for (int c = MAX_TEST_CPUS - 1; c >= 0; c--)
		if (online[c] && c != CPU)
			other = c;
	if (other >= 0) {
		ASSERT_LT(0, mirrored_lines(other, va, &covers));
		ASSERT_FALSE(covers) TH_LOG("%#" PRIx64 " is mirrored already", va);
	}
	far = mmap((void *)va, FAR_PAGES * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ((void *)va, (void *)far)
		TH_LOG("mmap at %#" PRIx64 ": %s", va, strerror(errno));
	far[0] = 0x5e55;	/* a new top-level entry */
	if (other >= 0) {
		ASSERT_LT(0, mirrored_lines(other, va, &covers));
		EXPECT_FALSE(covers) TH_LOG("cpu%d mirrored it before SYNC", other);
		EXPECT_FALSE(audit_ok(buf, sizeof(buf)))
			TH_LOG("the audit did not see the stale user half");
	}
	sync_and_check(_metadata, self, XPTILAB_IPI_SYNC, va, true);
	/* The session sees it. */
	ASSERT_LE(0, ENTER());
	EXPECT_EQ(0x5e55ULL, (unsigned long long)far[0]);
	far[0] = 0x5e56;
	ASSERT_LE(0, ENTER());
	EXPECT_EQ(0x5e56ULL, (unsigned long long)far[0]);
	ASSERT_EQ(0, munmap((void *)far, FAR_PAGES * 4096));
	sync_and_check(_metadata, self, XPTILAB_IPI_FLUSH, va, false);
	DIAG("far mapping at %#" PRIx64 " (%u-level paging) mirrored by SYNC\n",
	     va, self->info.paging_levels);
}

/* ---- CPU offline under a session ---- */

struct offline_thread {
	int fd;
	unsigned int vec;
	atomic_int started;		/* 1: in sessions on CPU 1; -1: failed */
	atomic_bool stop;
	atomic_ulong loops, entered, refused;
};

static void *offline_thread_fn(void *arg)
{
	struct offline_thread *t = arg;
	long last = -5;

	if (pin_to(1) ||
	    session_op(t->fd, 1, XPTILAB_SESSION_START, 0, &t->vec)) {
		atomic_store(&t->started, -1);
		return NULL;
	}
	atomic_store(&t->started, 1);
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
		long e = session_enter(t->vec);

		if (e < 0)
			atomic_fetch_add_explicit(&t->refused, 1,
						  memory_order_relaxed);
		else if (e != last)
			atomic_fetch_add_explicit(&t->entered, 1,
						  memory_order_relaxed);
		last = e;
		spin(1000);
		atomic_fetch_add_explicit(&t->loops, 1, memory_order_relaxed);
	}
	return NULL;
}

TEST_F_TIMEOUT(session, cpu_offline_under_a_session, 60)
{
	struct timespec d = { 0, 300 * 1000 * 1000 };
	struct offline_thread *t;
	bool online[MAX_TEST_CPUS];
	unsigned long loops0, loops1;
	char buf[8192];
	pthread_t th;
	int ret, err;

	REQUIRE_MODULE();
	if (online_cpus(online) < 2 || !online[1])
		SKIP(return, "needs CPU 1 online");
	if (access(SYSCPU "cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be offlined: %s", strerror(errno));
	t = calloc(1, sizeof(*t));
	ASSERT_NE(NULL, t);
	t->fd = self->fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, offline_thread_fn, t));
	while (!atomic_load(&t->started))
		sched_yield();
	ASSERT_EQ(1, atomic_load(&t->started)) TH_LOG("START on cpu 1 failed");
	nanosleep(&d, NULL);
	loops0 = atomic_load(&t->loops);

	ret = write_text(SYSCPU "cpu1/online", "0");
	err = errno;
	if (ret) {
		atomic_store(&t->stop, true);
		pthread_join(th, NULL);
		free(t);
		SKIP(return, "offlining CPU 1: %s", strerror(err));
	}
	nanosleep(&d, NULL);
	loops1 = atomic_load(&t->loops);
	EXPECT_LT(loops0, loops1) TH_LOG("the session thread stopped with CPU 1");
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit, cpu1 offline: %s", buf);
	ASSERT_EQ(0, write_text(SYSCPU "cpu1/online", "1"))
		TH_LOG("online cpu1: %s", strerror(errno));
	nanosleep(&d, NULL);
	atomic_store(&t->stop, true);
	pthread_join(th, NULL);
	DIAG("session thread: %lu loops, %lu session entries, %lu refused (after it left CPU 1)\n",
	     (unsigned long)atomic_load(&t->loops),
	     (unsigned long)atomic_load(&t->entered),
	     (unsigned long)atomic_load(&t->refused));
	EXPECT_LT(0UL, (unsigned long)atomic_load(&t->entered));
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);

	/* CPU 1 back online takes sessions again. */
	ASSERT_EQ(0, pin_to(1));
	START(1);
	EXPECT_LE(0, ENTER());
	ASSERT_EQ(getppid(), trigger_syscall_getppid());
	EXPECT_LE(0, ENTER());
	ASSERT_EQ(0, session_op(self->fd, 1, XPTILAB_SESSION_STOP, 0, NULL));
	ASSERT_EQ(0, pin_to(CPU));
	free(t);
}

/* ---- unloading ---- */

TEST_F(session, unload_refused_while_open)
{
	struct xptilab_info info;
	long e0;
	int ret, err;

	REQUIRE_MODULE();
	START(CPU);
	e0 = ENTER();
	ASSERT_LE(0, e0);
	ret = module_unload();	/* from the session: a syscall */
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(err == EWOULDBLOCK || err == EBUSY)
		TH_LOG("delete_module: %s", strerror(err));
	ASSERT_TRUE(module_loaded()) TH_LOG("unloaded with a session's descriptor open");
	EXPECT_LT(e0, ENTER());
	EXPECT_EQ(0, get_info(self->fd, &info));
	close(self->fd);
	self->fd = -1;
	expect_no_mirror(_metadata);
}

TEST_F_TIMEOUT(session, tool_session_and_entry_variants, 60)
{
	static char out[65536];
	char cmd[256];

	REQUIRE_MODULE();
	if (system("command -v xptilab >/dev/null 2>&1"))
		SKIP(return, "the xptilab tool is not installed");
	close(self->fd);	/* the tool starts its own sessions */
	self->fd = -1;
	snprintf(cmd, sizeof(cmd), "%s session --run 1 --cpu %d --json", tool_path(), CPU);
	ASSERT_EQ(0, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_NE(NULL, strstr(out, "\"mode\": \"run\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"exits_by_vector\"")) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "%s session --stats", tool_path());
	ASSERT_EQ(0, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_NE(NULL, strstr(out, "ended by")) TH_LOG("%s", out);
	for (int i = 0; i < 2; i++) {
		const char *v = i ? "session-trap" : "session-xpti";

		snprintf(cmd, sizeof(cmd),
			 "%s entry --variant %s --iterations 2000 --window 100 --json",
			 tool_path(), v);
		ASSERT_EQ(0, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s:\n%s", cmd, out);
		EXPECT_NE(NULL, strstr(out, v)) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "\"cr3_writes\": 2")) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "\"n\": 2000")) TH_LOG("%s", out);
	}
	expect_no_mirror(_metadata);
}

TEST_HARNESS_MAIN
