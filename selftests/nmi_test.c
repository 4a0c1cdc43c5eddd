// SPDX-License-Identifier: GPL-2.0
/*
 * Every NMI reaches Linux while the private IDTs are loaded. One CPU spins
 * in kernel mode with interrupts off and a chosen %eax while this process,
 * pinned to another CPU, sends it NMIs one at a time (XPTILAB_IOC_NMI_CHECK);
 * each must be handed to Linux's NMI handlers, and the CPU's NMI count in
 * /proc/interrupts must grow by at least as many. %eax == 1 is the value
 * an IST stub that writes below the NMI frame turns into Linux's "NMI
 * executing" word, making Linux drop the NMI as nested.
 */
#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"

#define NMIS 20u

static int nmi_check(int fd, int cpu, unsigned int eax,
		     struct xptilab_nmi_check *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->cpu = cpu;
	r->eax = eax;
	r->nmis = NMIS;
	r->timeout_ms = 500;
	return ioctl(fd, XPTILAB_IOC_NMI_CHECK, r);
}

FIXTURE(nmi) {
	int fd;
	int target;
};

FIXTURE_VARIANT(nmi) {
	unsigned int eax;
};

FIXTURE_VARIANT_ADD(nmi, eax_0) { .eax = 0 };
FIXTURE_VARIANT_ADD(nmi, eax_1) { .eax = 1 };
FIXTURE_VARIANT_ADD(nmi, eax_2) { .eax = 2 };
FIXTURE_VARIANT_ADD(nmi, eax_ffffffff) { .eax = 0xffffffffu };

FIXTURE_SETUP(nmi)
{
	bool online[MAX_TEST_CPUS];

	self->fd = -1;
	REQUIRE_MODULE();
	if (online_cpus(online) < 2 || !online[0] || !online[1])
		SKIP(return, "needs CPUs 0 and 1 online");
	OPEN_DEVICE(self->fd);
	self->target = 1;
	ASSERT_EQ(0, pin_to(0));
}

FIXTURE_TEARDOWN(nmi)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(nmi, every_nmi_reaches_linux)
{
	unsigned long long before[MAX_TEST_CPUS], after[MAX_TEST_CPUS];
	struct xptilab_nmi_check r;
	int t = self->target;

	ASSERT_LT(t, irq_row("NMI", before, MAX_TEST_CPUS));
	ASSERT_EQ(0, nmi_check(self->fd, t, variant->eax, &r))
		TH_LOG("NMI_CHECK: %s", strerror(errno));
	ASSERT_LT(t, irq_row("NMI", after, MAX_TEST_CPUS));
	TH_LOG("cpu%d eax=%#x: %u of %u NMIs delivered, NMI count +%llu",
	       t, variant->eax, r.delivered, r.nmis, after[t] - before[t]);
	EXPECT_EQ(NMIS, r.delivered);
	EXPECT_LE((unsigned long long)NMIS, after[t] - before[t]);
}

/* Refusals: bad CPU, unpinned caller, caller on the target, bad counts. */
TEST(nmi_check_refuses_bad_input)
{
	struct xptilab_nmi_check r;
	cpu_set_t all;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, pin_to(0));
	EXPECT_EQ(-1, nmi_check(fd, 4096, 0, &r));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, nmi_check(fd, 0, 0, &r));	/* the caller's own CPU */
	EXPECT_EQ(EINVAL, errno);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.cpu = 1;
	r.nmis = XPTILAB_MAX_NMIS;
	r.timeout_ms = XPTILAB_MAX_NMI_WAIT_MS;	/* too long with IRQs off */
	EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_NMI_CHECK, &r));
	EXPECT_EQ(EINVAL, errno);
	r.nmis = 0;
	r.timeout_ms = 1;
	EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_NMI_CHECK, &r));
	EXPECT_EQ(EINVAL, errno);
	CPU_ZERO(&all);
	CPU_SET(0, &all);
	CPU_SET(1, &all);
	if (sched_setaffinity(0, sizeof(all), &all) == 0) {
		EXPECT_EQ(-1, nmi_check(fd, 1, 0, &r));	/* not pinned */
		EXPECT_EQ(EINVAL, errno);
	}
	close(fd);
}

TEST_HARNESS_MAIN
