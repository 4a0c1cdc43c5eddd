// SPDX-License-Identifier: GPL-2.0
/*
 * The DPL-3 test vectors serve only the task that configured them. Root
 * configures the gate and trap vectors (with a trap-gate window) and starts
 * a session; then an unprivileged child, and a root child with page tables
 * of its own, execute all three vectors. Each must get what "int $N" on a
 * vector without a user gate gives (SIGSEGV from a #GP, RIP on the int
 * instruction), exactly like an unused vector, and no counter may move.
 * The owner's own entries still work afterwards.
 */
#include <setjmp.h>
#include <signal.h>
#include <grp.h>
#include <ucontext.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "entry_helpers.h"
#include "session.h"

#define CPU 0
/* Child exit codes: bit v set when vector v did not fault as expected. */
#define NVEC 4

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile unsigned char got_insn[2];

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const unsigned char *rip =
		(const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];

	got_sig = sig;
	got_code = si->si_code;
	got_insn[0] = rip[0];
	got_insn[1] = rip[1];
	siglongjmp(jb, 1);
}

/* 0 when "int $vec" raised SIGSEGV (SI_KERNEL) at the int instruction. */
static int faults_plainly(unsigned int vec)
{
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		trigger_vector(vec);
		return 1;		/* it returned: served */
	}
	if (got_sig != SIGSEGV || got_code != SI_KERNEL)
		return 2;
	if (got_insn[0] != 0xcd || got_insn[1] != vec)
		return 3;
	return 0;
}

/* In the child: each vector must fault; drop privileges first if asked. */
static int child(const unsigned int *vecs, bool unprivileged)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	int bad = 0;

	if (pin_to(CPU) || sigaction(SIGSEGV, &sa, NULL))
		return CHILD_SETUP_FAILED;
	if (unprivileged &&
	    (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
		return CHILD_SETUP_FAILED;
	for (int i = 0; i < NVEC; i++)
		for (int k = 0; k < 50; k++)
			if (faults_plainly(vecs[i]))
				bad |= 1 << i;
	return bad;
}

/* A vector the module does not use: the reference for the plain fault. */
static unsigned int unused_vector(const unsigned int *used)
{
	static const unsigned int cand[] = { 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f };

	for (unsigned int i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (cand[i] != used[0] && cand[i] != used[1] && cand[i] != used[2])
			return cand[i];
	return 0;
}

/*
 * As root on fd: configure the test vectors (mode, window) and start a
 * session on CPU; vecs[] = gate, trap, session and an unused vector.
 */
static void configure(struct __test_metadata *_metadata, int fd,
		      unsigned int mode, unsigned int window, unsigned int *vecs)
{
	struct xptilab_entry_config c;

	ASSERT_EQ(0, pin_to(CPU));
	ASSERT_EQ(0, entry_config(fd, CPU, mode, window, &c))
		TH_LOG("ENTRY_CONFIG: %s", strerror(errno));
	ASSERT_EQ(0, session_op(fd, CPU, XPTILAB_SESSION_START, 0, &vecs[2]));
	vecs[0] = c.vector_gate;
	vecs[1] = c.vector_trap;
	vecs[3] = unused_vector(vecs);
	ASSERT_NE(0u, vecs[3]);
}

/* A child (unprivileged or not) gets the plain fault from every vector. */
static void expect_plain_faults(struct __test_metadata *_metadata,
				const unsigned int *vecs, bool unpriv)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child(vecs, unpriv));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child: status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s child: vectors %#x, %#x, %#x (session), %#x (unused) did not fault plainly: mask %#x",
		       unpriv ? "unprivileged" : "root", vecs[0], vecs[1],
		       vecs[2], vecs[3], WEXITSTATUS(status));
}

TEST(only_the_configuring_task_is_served)
{
	struct xptilab_session_stats sa = { .size = sizeof(sa), .cpu = CPU };
	struct xptilab_session_stats sb = { .size = sizeof(sb), .cpu = CPU };
	struct xptilab_counters a, b;
	unsigned int vecs[NVEC];
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	configure(_metadata, fd, XPTILAB_ENTRY_XPTI, 1000, vecs);

	/* The owner is served. */
	ASSERT_EQ(0, get_counters(fd, CPU, &a));
	ASSERT_EQ(0, trigger_vector(vecs[0]));
	ASSERT_EQ(0, trigger_vector(vecs[1]));
	ASSERT_LE(0, session_enter(vecs[2]));
	ASSERT_EQ(0, get_counters(fd, CPU, &b));
	EXPECT_EQ(2u, (unsigned int)(b.entries - a.entries));

	for (int unpriv = 1; unpriv >= 0; unpriv--) {
		ASSERT_EQ(0, get_counters(fd, CPU, &a));
		ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_SESSION_STATS, &sa));
		expect_plain_faults(_metadata, vecs, unpriv);
		ASSERT_EQ(0, get_counters(fd, CPU, &b));
		ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_SESSION_STATS, &sb));
		EXPECT_EQ(a.entries, b.entries);
		EXPECT_EQ(a.race_hits, b.race_hits);
		EXPECT_EQ(a.deferred, b.deferred);
		EXPECT_EQ(a.shadow_events, b.shadow_events);
		EXPECT_EQ(sa.enters, sb.enters);
		EXPECT_EQ(sa.refused, sb.refused);
	}

	/* The owner still is. */
	ASSERT_EQ(0, get_counters(fd, CPU, &a));
	ASSERT_EQ(0, trigger_vector(vecs[0]));
	ASSERT_LE(0, session_enter(vecs[2]));
	ASSERT_EQ(0, get_counters(fd, CPU, &b));
	EXPECT_EQ(1u, (unsigned int)(b.entries - a.entries));
	ASSERT_EQ(0, entry_reset(fd, CPU));
	close(fd);
}

/* Once the owner's descriptor is closed, nobody is served. */
TEST(nobody_after_the_owner_closes)
{
	unsigned int vecs[NVEC];
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	configure(_metadata, fd, XPTILAB_ENTRY_GATE, 0, vecs);
	close(fd);
	expect_plain_faults(_metadata, vecs, false);
}

TEST_HARNESS_MAIN
