// SPDX-License-Identifier: GPL-2.0
/*
 * The test-vector trampolines from user mode: every mode of both gates
 * round-trips and is counted exactly; registers and flags survive an
 * `int $N`; a signal, a page fault or a preemption between entries leaves
 * the task and the kernel correct; Linux's own entries (syscall, int $0x80)
 * still work; the tool's entry experiment runs. Every test puts the CPU
 * back to mode GATE and checks the shadow-root audit afterwards.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "entry_helpers.h"

#define CPU		0
#define ENTRIES		300

/* ---- one `int $N` with every general register and flags known ---- */

/* Offsets are used by the asm below. */
struct regs {
	uint64_t gpr[15];	/* rax rbx rcx rdx rsi rdi rbp r8 ... r15 */
	uint64_t rflags;	/* in: loaded with popfq; out: pushfq after */
	uint64_t rsp_before;	/* out */
	uint64_t rsp_after;	/* out */
};

static const char *const gpr_names[15] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10",
	"r11", "r12", "r13", "r14", "r15",
};

/*
 * void regs_int_<vec>(const struct regs *in, struct regs *out): load every
 * general register but rsp and the flags from *in, `int $vec`, store them
 * all into *out, and return with the ABI's flags (DF and AC clear).
 */
__asm__(
	".macro REGS_INT vec\n"
	".pushsection .text\n"
	".globl regs_int_\\vec\n"
	".type regs_int_\\vec, @function\n"
	"regs_int_\\vec:\n"
	"	pushq %rbx\n	pushq %rbp\n	pushq %r12\n"
	"	pushq %r13\n	pushq %r14\n	pushq %r15\n"
	"	pushq %rsi\n"
	"	movq %rsp, 128(%rsi)\n"
	"	pushq 120(%rdi)\n"
	"	popfq\n"
	"	movq 0(%rdi), %rax\n	movq 8(%rdi), %rbx\n"
	"	movq 16(%rdi), %rcx\n	movq 24(%rdi), %rdx\n"
	"	movq 32(%rdi), %rsi\n	movq 48(%rdi), %rbp\n"
	"	movq 56(%rdi), %r8\n	movq 64(%rdi), %r9\n"
	"	movq 72(%rdi), %r10\n	movq 80(%rdi), %r11\n"
	"	movq 88(%rdi), %r12\n	movq 96(%rdi), %r13\n"
	"	movq 104(%rdi), %r14\n	movq 112(%rdi), %r15\n"
	"	movq 40(%rdi), %rdi\n"
	"	int $\\vec\n"
	"	pushfq\n"
	"	pushq %rdi\n"
	"	movq 16(%rsp), %rdi\n"
	"	movq %rax, 0(%rdi)\n	movq %rbx, 8(%rdi)\n"
	"	movq %rcx, 16(%rdi)\n	movq %rdx, 24(%rdi)\n"
	"	movq %rsi, 32(%rdi)\n	movq %rbp, 48(%rdi)\n"
	"	movq %r8, 56(%rdi)\n	movq %r9, 64(%rdi)\n"
	"	movq %r10, 72(%rdi)\n	movq %r11, 80(%rdi)\n"
	"	movq %r12, 88(%rdi)\n	movq %r13, 96(%rdi)\n"
	"	movq %r14, 104(%rdi)\n	movq %r15, 112(%rdi)\n"
	"	leaq 16(%rsp), %rax\n"
	"	movq %rax, 136(%rdi)\n"
	"	popq %rax\n"
	"	movq %rax, 40(%rdi)\n"
	"	popq %rax\n"
	"	movq %rax, 120(%rdi)\n"
	"	pushq $0x202\n"
	"	popfq\n"
	"	popq %rsi\n"
	"	popq %r15\n	popq %r14\n	popq %r13\n"
	"	popq %r12\n	popq %rbp\n	popq %rbx\n"
	"	ret\n"
	".size regs_int_\\vec, . - regs_int_\\vec\n"
	".popsection\n"
	".endm\n"
	".irp v, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f\n"
	"REGS_INT \\v\n"
	".endr\n");

#define DECLARE_REGS_INT(n) void regs_int_##n(const struct regs *, struct regs *);
TRIGGER_FOR_EACH_VECTOR(DECLARE_REGS_INT)

_Static_assert(sizeof(struct regs) == 144, "the asm's offsets");

static int regs_int(unsigned int vec, const struct regs *in, struct regs *out)
{
	switch (vec) {
#define CASE_REGS_INT(n) case n: regs_int_##n(in, out); return 0;
	TRIGGER_FOR_EACH_VECTOR(CASE_REGS_INT)
	default:
		return -1;
	}
}

#define FL_CF	0x0001
#define FL_PF	0x0004
#define FL_ZF	0x0040
#define FL_SF	0x0080
#define FL_DF	0x0400
#define FL_OF	0x0800
#define FL_AC	0x40000
#define FL_CHECKED (FL_CF | FL_PF | FL_ZF | FL_SF | FL_DF | FL_OF | FL_AC)

static void regs_fill(struct regs *in, uint64_t seed, uint64_t flags)
{
	memset(in, 0, sizeof(*in));
	for (int i = 0; i < 15; i++)
		in->gpr[i] = (0x0101010101010101ULL * (i + 1)) ^ (seed << 17) ^ seed;
	in->rflags = 0x202 | flags;
}

/* Empty when out matches in; else what differs, into why. */
static bool regs_same(const struct regs *in, const struct regs *out,
		      char *why, size_t size)
{
	why[0] = '\0';
	for (int i = 0; i < 15; i++)
		if (in->gpr[i] != out->gpr[i]) {
			snprintf(why, size, "%s %#llx became %#llx", gpr_names[i],
				 (unsigned long long)in->gpr[i],
				 (unsigned long long)out->gpr[i]);
			return false;
		}
	if ((in->rflags ^ out->rflags) & FL_CHECKED) {
		snprintf(why, size, "rflags %#llx became %#llx",
			 (unsigned long long)in->rflags,
			 (unsigned long long)out->rflags);
		return false;
	}
	if (out->rsp_before != out->rsp_after) {
		snprintf(why, size, "rsp %#llx became %#llx",
			 (unsigned long long)out->rsp_before,
			 (unsigned long long)out->rsp_after);
		return false;
	}
	return true;
}

/* ---- the fixture: the device, CPU pinned, vectors known ---- */

FIXTURE(entry) {
	int fd;
	struct xptilab_info info;
	unsigned int vec_gate, vec_trap;
	pid_t hog;
};

FIXTURE_SETUP(entry)
{
	struct xptilab_entry_config c;

	self->fd = -1;
	self->hog = 0;
	if (geteuid() != 0 || !module_loaded())
		return;		/* the test SKIPs */
	OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, get_info(self->fd, &self->info));
	ASSERT_EQ(0, pin_to(CPU)) TH_LOG("pin to cpu %d: %s", CPU, strerror(errno));
	ASSERT_EQ(0, entry_config(self->fd, CPU, XPTILAB_ENTRY_GATE, 0, &c))
		TH_LOG("ENTRY_CONFIG: %s", strerror(errno));
	self->vec_gate = c.vector_gate;
	self->vec_trap = c.vector_trap;
	ASSERT_TRUE(trigger_vector_ok(self->vec_gate)) TH_LOG("%#x", c.vector_gate);
	ASSERT_TRUE(trigger_vector_ok(self->vec_trap)) TH_LOG("%#x", c.vector_trap);
}

FIXTURE_TEARDOWN(entry)
{
	char buf[4096];

	if (self->hog > 0) {
		kill(self->hog, SIGKILL);
		waitpid(self->hog, NULL, 0);
	}
	if (self->fd < 0)
		return;
	EXPECT_EQ(0, entry_reset(self->fd, CPU))
		TH_LOG("reset to GATE: %s", strerror(errno));
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit:\n%s", buf);
	close(self->fd);
}

static const struct mode_case {
	const char *name;
	unsigned int mode;
	bool trap;
	unsigned int window;
	unsigned int cr3_writes, global_flushes;
} mode_cases[] = {
	{ "gate",		XPTILAB_ENTRY_GATE,		false, 0,   0, 0 },
	{ "xpti",		XPTILAB_ENTRY_XPTI,		false, 0,   4, 1 },
	{ "xpti-global",	XPTILAB_ENTRY_XPTI_GLOBAL,	false, 0,   4, 2 },
	{ "trap gate",		XPTILAB_ENTRY_GATE,		true,  0,   0, 0 },
	{ "trap xpti",		XPTILAB_ENTRY_XPTI,		true,  0,   4, 1 },
	{ "trap xpti-global",	XPTILAB_ENTRY_XPTI_GLOBAL,	true,  0,   4, 2 },
	{ "trap xpti window",	XPTILAB_ENTRY_XPTI,		true,  200, 4, 1 },
};

/*
 * From the task's own tables; under PTI one more: to the full root first,
 * where the private page is (entry.S).
 */
#define CONFIGURE(m) do { \
	struct xptilab_entry_config c_; \
	unsigned int w_ = (m)->cr3_writes + ((m)->cr3_writes && \
		(self->info.features & XPTILAB_FEAT_PTI) ? 1 : 0); \
	ASSERT_EQ(0, entry_config(self->fd, CPU, (m)->mode, (m)->window, &c_)) \
		TH_LOG("%s: ENTRY_CONFIG: %s", (m)->name, strerror(errno)); \
	EXPECT_EQ(w_, c_.cr3_writes) TH_LOG("%s", (m)->name); \
	EXPECT_EQ((m)->global_flushes, c_.global_flushes) TH_LOG("%s", (m)->name); \
} while (0)

static unsigned int vec_of(FIXTURE_DATA(entry) *self, const struct mode_case *m)
{
	return m->trap ? self->vec_trap : self->vec_gate;
}

TEST_F(entry, every_mode_counts_each_entry)
{
	struct xptilab_counters before, after;

	REQUIRE_MODULE();
	for (size_t i = 0; i < ARRAY_SIZE(mode_cases); i++) {
		const struct mode_case *m = &mode_cases[i];
		unsigned int vec = vec_of(self, m);

		CONFIGURE(m);
		ASSERT_EQ(0, get_counters(self->fd, CPU, &before));
		for (int k = 0; k < ENTRIES; k++)
			ASSERT_EQ(0, trigger_vector(vec));
		ASSERT_EQ(0, get_counters(self->fd, CPU, &after));
		EXPECT_EQ((__u64)ENTRIES, after.entries - before.entries)
			TH_LOG("%s: vector %#x", m->name, vec);
		if (!m->trap)	/* IF=0 until the entry switch: never a race */
			EXPECT_EQ(0ULL, after.race_hits - before.race_hits)
				TH_LOG("%s", m->name);
		DIAG("%s: %d entries, race hits %llu, deferred %llu\n",
		     m->name, ENTRIES,
		     (unsigned long long)(after.race_hits - before.race_hits),
		     (unsigned long long)(after.deferred - before.deferred));
	}
}

TEST_F(entry, registers_and_flags_preserved)
{
	const uint64_t flag_sets[] = {
		0, FL_CF, FL_DF, FL_CF | FL_DF, FL_CF | FL_DF | FL_AC,
		FL_ZF | FL_SF | FL_OF | FL_PF | FL_DF,
	};
	struct regs in, out;
	char why[128];

	REQUIRE_MODULE();
	for (size_t i = 0; i < ARRAY_SIZE(mode_cases); i++) {
		const struct mode_case *m = &mode_cases[i];

		CONFIGURE(m);
		for (int k = 0; k < 60; k++) {
			uint64_t fl = flag_sets[k % ARRAY_SIZE(flag_sets)];

			regs_fill(&in, i * 1000 + k, fl);
			memset(&out, 0, sizeof(out));
			ASSERT_EQ(0, regs_int(vec_of(self, m), &in, &out));
			ASSERT_TRUE(regs_same(&in, &out, why, sizeof(why)))
				TH_LOG("%s, flags %#llx: %s", m->name,
				       (unsigned long long)fl, why);
		}
	}
}

TEST_F(entry, linux_entries_still_work)
{
	long ppid = getppid();

	REQUIRE_MODULE();
	for (int k = 0; k < ENTRIES; k++)
		ASSERT_EQ(ppid, trigger_syscall_getppid());
	if (!(self->info.features & XPTILAB_FEAT_IA32_EMU)) {
		DIAG("no IA32 emulation: int $0x80 not tried\n");
		return;
	}
	for (int k = 0; k < ENTRIES; k++)
		ASSERT_EQ(ppid, trigger_int80_getppid());
}

/*
 * Where the CPU's vector 0x80 goes, from debugfs idt: "stub", "linux" or
 * "none"; NULL when the file cannot be read.
 */
static const char *int80_gate(int cpu, char *out, size_t size)
{
	char buf[65536], *line, *save = NULL;
	char want[16];

	if (read_text(XDBG "idt", buf, sizeof(buf)) <= 0)
		return NULL;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *last = strrchr(line, ' ');

		if (strncmp(line, want, strlen(want)) || !last)
			continue;
		snprintf(out, size, "%s", last + 1);
		return out;
	}
	return NULL;
}

/*
 * Mode LINUX_INT80 (the baseline of the stub's tax): the CPU's vector 0x80
 * is Linux's own gate, int $0x80 works, the test vectors behave as in
 * GATE; mode GATE, and closing the descriptor that set it, put the stub
 * back.
 */
TEST_F(entry, linux_int80_mode)
{
	struct xptilab_counters before, after;
	struct xptilab_entry_config c;
	char gate[16];
	int fd2;

	REQUIRE_MODULE();
	if (!(self->info.features & XPTILAB_FEAT_IA32_EMU)) {
		ASSERT_EQ(-1, entry_config(self->fd, CPU, XPTILAB_ENTRY_LINUX_INT80, 0, &c));
		ASSERT_EQ(EOPNOTSUPP, errno);
		SKIP(return, "no IA32 emulation: LINUX_INT80 is EOPNOTSUPP, as it should be");
	}
	ASSERT_STREQ("stub", int80_gate(CPU, gate, sizeof(gate)));
	ASSERT_EQ(0, entry_config(self->fd, CPU, XPTILAB_ENTRY_LINUX_INT80, 0, &c))
		TH_LOG("ENTRY_CONFIG: %s", strerror(errno));
	EXPECT_EQ(0u, c.cr3_writes);
	EXPECT_EQ(0u, c.global_flushes);
	ASSERT_STREQ("linux", int80_gate(CPU, gate, sizeof(gate)));
	ASSERT_EQ(0, get_counters(self->fd, CPU, &before));
	for (int i = 0; i < ENTRIES; i++)
		ASSERT_EQ(getppid(), trigger_int80_getppid());
	ASSERT_EQ(0, trigger_vector(self->vec_gate));
	ASSERT_EQ(0, get_counters(self->fd, CPU, &after));
	EXPECT_EQ(before.entries + 1, after.entries);
	ASSERT_EQ(0, entry_reset(self->fd, CPU));
	ASSERT_STREQ("stub", int80_gate(CPU, gate, sizeof(gate)));
	EXPECT_EQ(getppid(), trigger_int80_getppid());

	/* The descriptor that set it goes: the stub is back. */
	fd2 = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, entry_config(fd2, CPU, XPTILAB_ENTRY_LINUX_INT80, 0, &c));
	ASSERT_STREQ("linux", int80_gate(CPU, gate, sizeof(gate)));
	close(fd2);
	ASSERT_STREQ("stub", int80_gate(CPU, gate, sizeof(gate)));
	EXPECT_EQ(getppid(), trigger_int80_getppid());
	/* the fixture's descriptor configures again (teardown resets) */
	ASSERT_EQ(0, entry_reset(self->fd, CPU));
}

/* ---- signals, page faults and preemption between entries ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * Alternate entries through both gates in the mode given, each checked,
 * until stop() says so; counts the entries in *n. Bails on a mismatch.
 */
#define CHECKED_ENTRIES(m_, n_, cond_, flags_, between_) do { \
	struct regs in_, out_; \
	char why_[128]; \
	for ((n_) = 0; (cond_); (n_)++) { \
		between_; \
		regs_fill(&in_, (n_), (flags_)); \
		ASSERT_EQ(0, regs_int((n_) & 1 ? self->vec_trap : self->vec_gate, \
				      &in_, &out_)); \
		ASSERT_TRUE(regs_same(&in_, &out_, why_, sizeof(why_))) \
			TH_LOG("%s, entry %llu: %s", (m_)->name, \
			       (unsigned long long)(n_), why_); \
	} \
} while (0)

static const struct mode_case xpti_window = {
	"xpti, trap window 1000", XPTILAB_ENTRY_XPTI, true, 1000, 4, 1,
};

TEST_F_TIMEOUT(entry, signal_between_entries, 60)
{
	const struct mode_case *m = &xpti_window;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off = { 0 };
	struct xptilab_counters before, after;
	struct sigaction sa = { .sa_handler = on_alarm };
	double end;
	uint64_t n;

	REQUIRE_MODULE();
	CONFIGURE(m);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, get_counters(self->fd, CPU, &before));
	alarms = 0;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	end = now_s() + 10;
	/* DF and CF set across every entry: a signal frame must not lose them */
	CHECKED_ENTRIES(m, n, alarms < 200 && (n & 63 || now_s() < end),
			FL_CF | FL_DF, );
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &off, NULL));
	ASSERT_EQ(0, get_counters(self->fd, CPU, &after));
	EXPECT_EQ(n, after.entries - before.entries);
	EXPECT_LT(0, alarms) TH_LOG("no SIGALRM in 10 s");
	DIAG("%llu entries, %d signals, race hits %llu, deferred %llu\n",
	     (unsigned long long)n, (int)alarms,
	     (unsigned long long)(after.race_hits - before.race_hits),
	     (unsigned long long)(after.deferred - before.deferred));
}

TEST_F(entry, page_fault_between_entries)
{
	const struct mode_case *m = &xpti_window;
	long page = sysconf(_SC_PAGESIZE);
	const uint64_t pages = 512;
	struct xptilab_counters before, after;
	struct rusage ru0, ru1;
	volatile char *map;
	uint64_t n;

	REQUIRE_MODULE();
	CONFIGURE(m);
	map = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	/*
	 * One fault per page: 6.12 (not 6.1) aligns a 2 MiB anonymous
	 * mapping on a THP boundary, and the first write would fault in
	 * one huge page (EINVAL without THP: every page faults anyway).
	 */
	madvise((void *)map, pages * page, MADV_NOHUGEPAGE);
	ASSERT_EQ(0, get_counters(self->fd, CPU, &before));
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &ru0));
	/* a fresh page written before each entry, read back after the next */
	CHECKED_ENTRIES(m, n, n < pages, FL_DF, {
		map[n * page] = (char)(n + 1);
		if (n)
			ASSERT_EQ((char)n, map[(n - 1) * page]);
	});
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &ru1));
	ASSERT_EQ(0, get_counters(self->fd, CPU, &after));
	EXPECT_EQ(pages, after.entries - before.entries);
	EXPECT_LE(pages, (uint64_t)(ru1.ru_minflt - ru0.ru_minflt));
	DIAG("%llu entries, %ld page faults\n",
	     (unsigned long long)n, ru1.ru_minflt - ru0.ru_minflt);
	munmap((void *)map, pages * page);
}

TEST_F_TIMEOUT(entry, preemption_between_entries, 60)
{
	const struct mode_case *m = &xpti_window;
	struct xptilab_counters before, after;
	struct rusage ru0, ru1;
	double end;
	uint64_t n;
	long preempted = 0;

	REQUIRE_MODULE();
	CONFIGURE(m);
	/* a busy process on the same CPU */
	fflush(stdout);
	fflush(stderr);
	self->hog = fork();
	ASSERT_LE(0, self->hog);
	if (self->hog == 0) {
		if (pin_to(CPU))
			_exit(CHILD_SETUP_FAILED);
		for (;;)
			;
	}
	ASSERT_EQ(0, get_counters(self->fd, CPU, &before));
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &ru0));
	end = now_s() + 15;
	CHECKED_ENTRIES(m, n, preempted < 20 && now_s() < end, FL_CF | FL_DF, {
		if (!(n & 15)) {
			ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &ru1));
			preempted = ru1.ru_nivcsw - ru0.ru_nivcsw;
		}
	});
	ASSERT_EQ(0, get_counters(self->fd, CPU, &after));
	EXPECT_EQ(n, after.entries - before.entries);
	EXPECT_LT(0, preempted) TH_LOG("never preempted in 15 s");
	DIAG("%llu entries, preempted %ld times\n",
	     (unsigned long long)n, preempted);
}

/* ---- the tool ---- */

TEST_F_TIMEOUT(entry, tool_runs_every_variant, 120)
{
	static char out[32768];
	static const char *const names[] = {
		"syscall", "int80", "gate", "xpti", "xpti-global", "trap",
		"session-xpti", "session-trap",
	};
	char cmd[256], pat[64];
	int status;

	REQUIRE_MODULE();
	snprintf(cmd, sizeof(cmd), "%s entry --cpu %d --variant all --iterations 300 --json 2>&1",
		 tool_path(), CPU);
	status = run_cmd(cmd, out, sizeof(out));
	ASSERT_EQ(0, status) TH_LOG("%s: exit %d:\n%s", cmd, status, out);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(pat, sizeof(pat), "\"name\": \"%s\"", names[i]);
		EXPECT_NE(NULL, strstr(out, pat)) TH_LOG("%s missing:\n%s", names[i], out);
	}
	EXPECT_NE(NULL, strstr(out, "\"median\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"timer_overhead\"")) TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), "%s entry --variant nonesuch 2>&1", tool_path());
	EXPECT_EQ(2, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
