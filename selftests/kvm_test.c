// SPDX-License-Identifier: GPL-2.0
/*
 * KVM and the private IDTs (issue #14, defect 2), with a do-nothing module
 * named kvm_intel (selftests/kvm_dummy/, $XPTILAB_KVM_DUMMY):
 *
 *  - with it loaded, loading xptilab is refused (EBUSY) with a message
 *    naming it, and nothing of xptilab is left: no module, no device, no
 *    debugfs directory, no module notifier (the dummy unloads and loads
 *    again afterwards, which it could not if a notifier in freed memory
 *    were left on the chain), and MemFree stays level over repeated
 *    refusals;
 *  - with xptilab loaded, loading it is refused (EBUSY) with a message,
 *    xptilab keeps working, and the refused module is gone;
 *  - xptilab unloads cleanly afterwards, saying nothing about a CPU on the
 *    wrong IDT.
 * Every test leaves xptilab loaded and the dummy unloaded.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "trigger.h"
#include "robust_helpers.h"

#define DUMMY		"kvm_intel"
#define REFUSALS	10
#define MEM_SLACK_KB	2048	/* as lifecycle_stress_test: 2 MiB + 1% */

static bool dummy_loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, DUMMY " ", strlen(DUMMY) + 1);
	fclose(f);
	return found;
}

static int dummy_load(void)
{
	const char *ko = getenv("XPTILAB_KVM_DUMMY");
	int fd, ret, err;

	fd = ko ? open(ko, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static int dummy_unload(void)
{
	return syscall(SYS_delete_module, DUMMY, O_NONBLOCK);
}

/* SKIP unless xptilab can be reloaded and the dummy is there. */
#define REQUIRE_DUMMY() do { \
	REQUIRE_RELOADABLE(); \
	if (!getenv("XPTILAB_KVM_DUMMY")) \
		SKIP(return, "XPTILAB_KVM_DUMMY is not set (selftests/kvm_dummy not built for this kernel)"); \
	if (access(getenv("XPTILAB_KVM_DUMMY"), R_OK)) \
		SKIP(return, "%s: %s", getenv("XPTILAB_KVM_DUMMY"), strerror(errno)); \
	if (dummy_loaded()) \
		SKIP(return, "a module named " DUMMY " is already loaded"); \
} while (0)

struct grep_arg {
	const char *want[2];
	bool found;
	bool wrong_idt;		/* "not xptilab's" or "still on xptilab's" */
	int errors;		/* "xptilab: " at level err, others' lines */
};

static void grep_line(int level, const char *msg, void *arg)
{
	struct grep_arg *g = arg;

	if (g->want[0] && strstr(msg, g->want[0]) &&
	    (!g->want[1] || strstr(msg, g->want[1])))
		g->found = true;
	else if (kmsg_complaint(msg) ||
		 (level <= 3 && !strncmp(msg, "xptilab: ", 9)))
		g->errors++;
	if (strstr(msg, "not xptilab's") || strstr(msg, "still on xptilab's"))
		g->wrong_idt = true;
}

FIXTURE(kvm) {
	int kmsg;
};

FIXTURE_SETUP(kvm)
{
	self->kmsg = kmsg_open_end();
}

FIXTURE_TEARDOWN(kvm)
{
	struct grep_arg g = { { NULL, NULL }, false, false, 0 };
	int fd;

	if (dummy_loaded())
		EXPECT_EQ(0, dummy_unload()) TH_LOG("rmmod " DUMMY ": %s",
						     strerror(errno));
	if (!module_loaded() && getenv("XPTILAB_KO"))
		EXPECT_EQ(0, module_load("")) TH_LOG("reload: %s", strerror(errno));
	/* xptilab still works */
	if (module_loaded()) {
		struct xptilab_info info;

		fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
		EXPECT_LE(0, fd);
		if (fd >= 0) {
			EXPECT_EQ(0, get_info(fd, &info));
			close(fd);
		}
	}
	kmsg_each(self->kmsg, grep_line, &g);
	EXPECT_FALSE(g.wrong_idt) TH_LOG("a CPU was on the wrong IDT at unload");
	if (self->kmsg >= 0)
		close(self->kmsg);
}

TEST_F_TIMEOUT(kvm, xptilab_refuses_to_load_with_kvm_intel, 240)
{
	struct grep_arg g = {
		{ "xptilab: refusing to load: " DUMMY " is loaded", NULL },
		false, false, 0,
	};
	long free0, free1, tol;
	struct stat st;
	int kmsg;

	REQUIRE_DUMMY();
	ASSERT_EQ(0, module_unload()) TH_LOG("rmmod xptilab: %s", strerror(errno));
	ASSERT_EQ(0, dummy_load()) TH_LOG("insmod " DUMMY ": %s", strerror(errno));
	kmsg = kmsg_open_end();
	EXPECT_EQ(-1, module_load(""));
	EXPECT_EQ(EBUSY, errno) TH_LOG("finit_module: %s", strerror(errno));
	EXPECT_FALSE(module_loaded());
	EXPECT_NE(0, access(XPTILAB_DEVICE, F_OK));
	EXPECT_NE(0, stat(XDBG, &st)) TH_LOG(XDBG " outlives a refused load");

	/* Refused again and again: MemFree stays level. */
	settled_free_kb();
	free0 = settled_free_kb();
	for (int i = 0; i < REFUSALS; i++) {
		ASSERT_EQ(-1, module_load("")) TH_LOG("refusal %d: loaded", i);
		ASSERT_EQ(EBUSY, errno);
	}
	free1 = settled_free_kb();
	tol = MEM_SLACK_KB + free0 / 100;
	RDIAG("kvm: MemFree %ld kB before %d refused loads, %ld kB after (%+ld kB, tolerance %ld kB)",
	      free0, REFUSALS, free1, free1 - free0, tol);
	EXPECT_LE(free0 - free1, tol);

	/* No notifier of a refused xptilab is left on the chain. */
	ASSERT_EQ(0, dummy_unload()) TH_LOG("rmmod " DUMMY ": %s", strerror(errno));
	ASSERT_EQ(0, dummy_load()) TH_LOG("insmod " DUMMY " again: %s",
					  strerror(errno));
	ASSERT_EQ(0, dummy_unload());
	kmsg_each(kmsg, grep_line, &g);
	EXPECT_TRUE(g.found) TH_LOG("no \"%s\" in the kernel log", g.want[0]);
	EXPECT_EQ(0, g.errors) TH_LOG("other errors in the kernel log");
	if (kmsg >= 0)
		close(kmsg);
	/* the teardown loads xptilab again */
}

TEST_F(kvm, kvm_intel_is_vetoed_while_xptilab_is_loaded)
{
	struct grep_arg g = {
		{ "xptilab: refusing to let " DUMMY " load", NULL },
		false, false, 0,
	};
	int kmsg;

	REQUIRE_DUMMY();
	kmsg = kmsg_open_end();
	EXPECT_EQ(-1, dummy_load());
	EXPECT_EQ(EBUSY, errno) TH_LOG("finit_module " DUMMY ": %s",
				       strerror(errno));
	EXPECT_FALSE(dummy_loaded());
	EXPECT_TRUE(module_loaded());
	kmsg_each(kmsg, grep_line, &g);
	EXPECT_TRUE(g.found) TH_LOG("no \"%s\" in the kernel log", g.want[0]);
	EXPECT_EQ(0, g.errors) TH_LOG("other errors in the kernel log");
	if (kmsg >= 0)
		close(kmsg);

	/* xptilab unloads cleanly, then the dummy loads, then xptilab is refused. */
	ASSERT_EQ(0, module_unload()) TH_LOG("rmmod xptilab: %s", strerror(errno));
	ASSERT_EQ(0, dummy_load()) TH_LOG("insmod " DUMMY " without xptilab: %s",
					  strerror(errno));
	EXPECT_EQ(-1, module_load(""));
	ASSERT_EQ(0, dummy_unload());
	/* the teardown loads xptilab again */
}

TEST_HARNESS_MAIN
