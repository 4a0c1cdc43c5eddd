// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions and the LDT (issue #14, defect 7). A session's iretq runs on the
 * shadow root, which does not map the task's LDT, so a task with an LDT
 * must never enter one:
 *
 *  - START from a task that installed an LDT code segment (modify_ldt) is
 *    refused with EOPNOTSUPP and a kernel-log line;
 *  - a task that installs its LDT after START is refused by the session
 *    vector itself (-1, no session entered);
 *  - and a task without an LDT still gets its sessions.
 *
 * The LDT belongs to the mm, so every LDT is installed in a forked child.
 * Not tested here: `int $vector` with CS from the LDT (the vector checks CS
 * and SS too). Under QEMU TCG any return into an LDT code segment by
 * IRET kills the task with SIGSEGV, with or without xptilab.
 */
#include <asm/ldt.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "session.h"
#include "robust_helpers.h"

#define CPU		0

/* The child's exit codes: 0 is what the test wants. */
enum {
	C_OK, C_PIN, C_OPEN, C_LDT, C_START_OK, C_START_ERRNO, C_START,
	C_ENTER, C_STATS, C_ENTERED, C_NOT_REFUSED,
};

static const char *const child_what[] = {
	"ok", "pin_to", "open", "modify_ldt", "START succeeded with an LDT",
	"START failed with another errno than EOPNOTSUPP", "START failed",
	"a session without an LDT was not entered", "SESSION_STATS",
	"a session was entered with an LDT", "the vector did not return -1",
};

/* A 64-bit code segment in LDT entry 0 (modify_ldt func 0x11). */
static int install_ldt_code(void)
{
	struct user_desc d = {
		.entry_number = 0,
		.base_addr = 0,
		.limit = 0xfffff,
		.seg_32bit = 0,
		.contents = MODIFY_LDT_CONTENTS_CODE,
		.read_exec_only = 0,
		.limit_in_pages = 1,
		.seg_not_present = 0,
		.useable = 1,
		.lm = 1,
	};

	return syscall(SYS_modify_ldt, 0x11, &d, sizeof(d)) ? -1 : 0;
}

static int open_pinned(int *fd)
{
	if (pin_to(CPU))
		return C_PIN;
	*fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? C_OPEN : C_OK;
}

/* Install the LDT, then START: must be EOPNOTSUPP. */
static int child_ldt_then_start(void *arg)
{
	int fd, rc = open_pinned(&fd);

	(void)arg;
	if (rc)
		return rc;
	if (install_ldt_code())
		return C_LDT;
	if (!session_op(fd, CPU, XPTILAB_SESSION_START, 0, NULL))
		return C_START_OK;
	return errno == EOPNOTSUPP ? C_OK : C_START_ERRNO;
}

/*
 * START and a session without an LDT; then the LDT, and the vector must
 * refuse: -1, no session entered.
 */
static int child_start_then_ldt(void *arg)
{
	struct xptilab_session_stats a, b;
	unsigned int vec;
	int fd, rc = open_pinned(&fd);
	long r;

	(void)arg;
	if (rc)
		return rc;
	if (session_op(fd, CPU, XPTILAB_SESSION_START, 0, &vec))
		return C_START;
	if (session_enter(vec) < 0)
		return C_ENTER;
	if (install_ldt_code())
		return C_LDT;
	if (session_stats(fd, CPU, &a))
		return C_STATS;
	r = session_enter(vec);
	if (session_stats(fd, CPU, &b))
		return C_STATS;
	if (b.enters != a.enters)
		return C_ENTERED;
	if (r != SESSION_NOT_ARMED)
		return C_NOT_REFUSED;
	return C_OK;
}

FIXTURE(ldt) {
	int kmsg;
};

FIXTURE_SETUP(ldt)
{
	self->kmsg = kmsg_open_end();
}

FIXTURE_TEARDOWN(ldt)
{
	struct kmsg_verdict v = kmsg_judge(self->kmsg);
	char buf[8192];

	EXPECT_EQ(0, v.complaints) TH_LOG("kernel log: %s", v.first);
	if (self->kmsg >= 0)
		close(self->kmsg);
	if (module_loaded()) {
		EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
	}
}

#define EXPECT_CHILD_OK(rc) \
	EXPECT_EQ(C_OK, (rc)) TH_LOG("child: %s (exit %d)", \
		(rc) >= 0 && (rc) < (int)ARRAY_SIZE(child_what) ? \
		child_what[(rc)] : "killed or crashed", (rc))

struct find_arg {
	const char *want;
	bool found;
};

static void find_line(int level, const char *msg, void *arg)
{
	struct find_arg *f = arg;

	(void)level;
	if (strstr(msg, f->want))
		f->found = true;
}

TEST_F(ldt, start_with_ldt_is_refused)
{
	struct find_arg f = { "xptilab: session: refused: pid ", false };
	int kmsg, rc;

	REQUIRE_MODULE();
	kmsg = kmsg_open_end();
	rc = run_in_child(child_ldt_then_start, NULL);
	EXPECT_CHILD_OK(rc);
	kmsg_each(kmsg, find_line, &f);
	EXPECT_TRUE(f.found) TH_LOG("no \"%s\" in the kernel log", f.want);
	if (kmsg >= 0)
		close(kmsg);
}

TEST_F(ldt, ldt_after_start_is_refused_by_the_vector)
{
	REQUIRE_MODULE();
	EXPECT_CHILD_OK(run_in_child(child_start_then_ldt, NULL));
}

/* Without an LDT, the same process still gets its sessions. */
TEST_F(ldt, session_without_ldt_still_works)
{
	unsigned int vec;
	int fd;

	REQUIRE_MODULE();
	ASSERT_EQ(0, pin_to(CPU));
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, session_op(fd, CPU, XPTILAB_SESSION_START, 0, &vec))
		TH_LOG("START: %s", strerror(errno));
	EXPECT_LE(0, session_enter(vec));
	EXPECT_EQ(0, session_op(fd, CPU, XPTILAB_SESSION_STOP, 0, NULL));
	close(fd);
}

TEST_HARNESS_MAIN
