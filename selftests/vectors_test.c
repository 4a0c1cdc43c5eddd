// SPDX-License-Identifier: GPL-2.0
/*
 * With the module's private IDTs installed, every vector still reaches
 * Linux: timer ticks, IPIs (TLB shootdowns), page faults, int3, #UD, #GP,
 * #DE and int $0x80 from user mode. None of them may show up as an entry
 * taken on a shadow root (debugfs events): they all arrive on the full root.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(vectors) {
	long long events;
};

FIXTURE_SETUP(vectors)
{
	self->events = module_loaded() ? shadow_events_total() : -1;
}

/* Nothing these tests do may be taken on a shadow root. */
FIXTURE_TEARDOWN(vectors)
{
	if (self->events >= 0) {
		EXPECT_EQ(self->events, shadow_events_total())
			TH_LOG("entries taken on a shadow root during the test");
	}
}

TEST_F(vectors, timer_ticks)
{
	unsigned long long before[MAX_TEST_CPUS], after[MAX_TEST_CPUS];
	double t0, c0;
	int cpu;

	REQUIRE_MODULE();
	ASSERT_EQ(0, pin_to(0)) TH_LOG("pin to cpu0: %s", strerror(errno));
	cpu = sched_getcpu();
	ASSERT_LT(cpu, irq_row("LOC", before, MAX_TEST_CPUS))
		TH_LOG("no LOC row in /proc/interrupts");
	c0 = now(CLOCK_MONOTONIC_COARSE);
	t0 = now(CLOCK_MONOTONIC);
	while (now(CLOCK_MONOTONIC) - t0 < 0.05)
		;
	ASSERT_LT(cpu, irq_row("LOC", after, MAX_TEST_CPUS));
	EXPECT_LT(before[cpu], after[cpu])
		TH_LOG("cpu%d: no local timer interrupt in a busy 50 ms", cpu);
	/* the coarse clock only moves on ticks */
	EXPECT_LT(c0, now(CLOCK_MONOTONIC_COARSE));
}

struct spinner {
	volatile int *page;
	atomic_int stop, running;
	long reads;
};

static void *spin(void *arg)
{
	struct spinner *s = arg;

	if (pin_to(1))
		return (void *)1;
	atomic_store(&s->running, 1);
	while (!atomic_load(&s->stop)) {
		(void)s->page[0];
		s->reads++;
	}
	return NULL;
}

/*
 * mprotect() of a page a thread on CPU 1 keeps reading: each write
 * protection of present PTEs is a TLB shootdown IPI to CPU 1.
 */
TEST_F(vectors, tlb_shootdown_ipis)
{
	unsigned long long before[MAX_TEST_CPUS], after[MAX_TEST_CPUS];
	struct spinner s = { 0 };
	bool online[MAX_TEST_CPUS];
	pthread_t th;
	void *ret;
	int *page;

	REQUIRE_MODULE();
	if (online_cpus(online) < 2 || !online[0] || !online[1])
		SKIP(return, "needs CPUs 0 and 1 online");
	ASSERT_EQ(0, pin_to(0));
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	page[0] = 42;
	s.page = page;
	ASSERT_EQ(0, pthread_create(&th, NULL, spin, &s));
	while (!atomic_load(&s.running))
		sched_yield();
	ASSERT_LT(1, irq_row("TLB", before, MAX_TEST_CPUS));
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
		ASSERT_EQ(0, mprotect(page, 4096, PROT_READ | PROT_WRITE));
		page[0] = 42 + i;
	}
	ASSERT_LT(1, irq_row("TLB", after, MAX_TEST_CPUS));
	atomic_store(&s.stop, 1);
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret) TH_LOG("the thread could not pin to cpu1");
	EXPECT_LT(0, s.reads);
	EXPECT_LT(before[1], after[1])
		TH_LOG("cpu1 got no TLB shootdown (TLB %llu -> %llu)", before[1], after[1]);
	EXPECT_EQ(0, munmap(page, 4096));
}

TEST_F(vectors, page_faults)
{
	const size_t pages = 64, psz = 4096;
	struct rusage r0, r1;
	unsigned long *p;

	REQUIRE_MODULE();
	ASSERT_EQ(0, getrusage(RUSAGE_SELF, &r0));
	p = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (size_t i = 0; i < pages; i++)
		p[i * psz / sizeof(*p)] = 0x5a5a0000 + i;
	for (size_t i = 0; i < pages; i++) {
		EXPECT_EQ(0x5a5a0000 + i, p[i * psz / sizeof(*p)]);
	}
	ASSERT_EQ(0, getrusage(RUSAGE_SELF, &r1));
	EXPECT_LE(r0.ru_minflt + (long)pages, r1.ru_minflt);
	EXPECT_EQ(0, munmap(p, pages * psz));
}

static volatile sig_atomic_t traps;
static sigjmp_buf jump;
static volatile sig_atomic_t last_sig;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	traps++;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	last_sig = sig;
	siglongjmp(jump, 1);
}

TEST_F(vectors, int3_from_user)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };

	REQUIRE_MODULE();
	ASSERT_EQ(0, sigaction(SIGTRAP, &sa, NULL));
	traps = 0;
	for (int i = 0; i < 100; i++)
		__asm__ __volatile__("int3" ::: "memory");
	EXPECT_EQ(100, traps);
}

/* #UD, #GP and #DE from user mode become SIGILL, SIGSEGV and SIGFPE. */
TEST_F(vectors, exceptions_from_user)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	volatile int zero = 0, r = 0;

	REQUIRE_MODULE();
	ASSERT_EQ(0, sigaction(SIGILL, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGFPE, &sa, NULL));

	last_sig = 0;
	if (!sigsetjmp(jump, 1))
		__asm__ __volatile__("ud2");
	EXPECT_EQ(SIGILL, last_sig);

	last_sig = 0;
	if (!sigsetjmp(jump, 1))
		__asm__ __volatile__("hlt");	/* privileged: #GP */
	EXPECT_EQ(SIGSEGV, last_sig);

	/* a real DIV: the compiler may turn 1 / x into a comparison */
	last_sig = 0;
	if (!sigsetjmp(jump, 1)) {
		unsigned int q = 1, rem = 0;

		__asm__ __volatile__("divl %2" : "+a"(q), "+d"(rem) : "rm"(zero));
		r = q;
	}
	EXPECT_EQ(SIGFPE, last_sig);
	EXPECT_EQ(0, r);
}

TEST_F(vectors, int80_getppid)
{
	struct xptilab_info info;
	long ret = 64;		/* __NR_getppid of the i386 table */
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	close(fd);
	if (!(info.features & XPTILAB_FEAT_IA32_EMU))
		SKIP(return, "no IA32 emulation: int $0x80 is not a system call");
	for (int i = 0; i < 100; i++) {
		ret = 64;
		__asm__ __volatile__("int $0x80"
				     : "+a"(ret) : : "rcx", "r8", "r9", "r10",
				       "r11", "memory", "cc");
		ASSERT_EQ((long)getppid(), ret);
	}
}

TEST_HARNESS_MAIN
