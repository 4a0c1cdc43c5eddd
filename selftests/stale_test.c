// SPDX-License-Identifier: GPL-2.0
/*
 * The stale-translation experiment (XPTILAB_IOC_RUN_STALE, xptilab stale):
 * argument checks, and runs whose outcome any x86 TLB must give: the fill
 * always sees the old page; nothing but the two markers is ever read; a
 * global flush leaves no stale read in any state; the positive control
 * (no IPI, no CR3 write) reads stale data on a TLB that keeps entries
 * (QEMU TCG's softmmu TLB and Bochs's both do). A failure of the last one
 * on hardware would mean the TLB was flushed behind the experiment's back.
 */
#include <sched.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define TRIALS 20u

static int two_cpus(int *from, int *to)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			*(n++ ? to : from) = c;
	return n == 2 ? 0 : -1;
}

static int run(int fd, int from, int to, unsigned int variant, int global,
	       int fill, struct xptilab_stale_run *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->from_cpu = from;
	r->target_cpu = to;
	r->variant = variant;
	r->global = global;
	r->fill = fill;
	r->trials = TRIALS;
	return ioctl(fd, XPTILAB_IOC_RUN_STALE, r);
}

FIXTURE(stale) {
	int fd, from, to;
	cpu_set_t saved;
};

FIXTURE_SETUP(stale)
{
	self->fd = -1;
	REQUIRE_MODULE();
	if (two_cpus(&self->from, &self->to))
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(self->saved), &self->saved));
	ASSERT_EQ(0, pin_to(self->from));
	OPEN_DEVICE(self->fd);
}

FIXTURE_TEARDOWN(stale)
{
	if (self->fd >= 0) {
		close(self->fd);
		sched_setaffinity(0, sizeof(self->saved), &self->saved);
	}
}

TEST_F(stale, refuses_bad_arguments)
{
	struct xptilab_stale_run r;

	run(self->fd, self->from, self->to, XPTILAB_IPI_SYNC, 0, 0, &r);
	r.trials = 0;
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, XPTILAB_IOC_RUN_STALE, &r)));
	run(self->fd, self->from, self->to, XPTILAB_STALE_NR_VARIANTS, 0, 0, &r);
	EXPECT_EQ(EINVAL, errno);
	run(self->fd, self->from, self->from, XPTILAB_IPI_SYNC, 0, 0, &r);
	EXPECT_EQ(EINVAL, errno);
	run(self->fd, self->from, self->to, XPTILAB_IPI_SYNC, 2, 0, &r);
	EXPECT_EQ(EINVAL, errno);
	run(self->fd, self->from, self->to, XPTILAB_IPI_SYNC, 0, 2, &r);
	EXPECT_EQ(EINVAL, errno);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r) - 8;
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, XPTILAB_IOC_RUN_STALE, &r)));
	/* the initiator must be the caller's (pinned) CPU */
	run(self->fd, self->to, self->from, XPTILAB_IPI_SYNC, 0, 0, &r);
	EXPECT_EQ(EINVAL, errno);
	run(self->fd, self->from, self->to, XPTILAB_IPI_SYNC, 0, 0, &r);
	r.reserved[1] = 1;
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, XPTILAB_IOC_RUN_STALE, &r)));
}

/* Every variant and fill: only the two markers, the fill sees the old one. */
TEST_F(stale, reads_only_the_two_pages)
{
	struct xptilab_stale_run r;

	for (unsigned int v = 0; v < XPTILAB_STALE_NR_VARIANTS; v++)
		for (int g = 0; g < 2; g++)
			for (int f = 0; f < XPTILAB_STALE_NR_FILLS; f++) {
				if (run(self->fd, self->from, self->to, v, g, f, &r)) {
					ASSERT_EQ(EOPNOTSUPP, errno)
						TH_LOG("variant %u global %d fill %d: %s",
						       v, g, f, strerror(errno));
					TH_LOG("variant %u global %d: not supported here", v, g);
					continue;
				}
				EXPECT_EQ(TRIALS, r.done + r.disturbed);
				EXPECT_LT(0u, r.done);
				EXPECT_EQ(0u, r.fill_errors);
				for (int s = 0; s < XPTILAB_STALE_NR_STATES; s++) {
					EXPECT_EQ(0u, r.other[s]);
					EXPECT_EQ(r.done, r.stale[s] + r.fresh[s]);
				}
			}
}

/* A global flush (CR4.PGE toggle) after the update: nothing stale. */
TEST_F(stale, flush_leaves_nothing_stale)
{
	struct xptilab_stale_run r;

	for (int g = 0; g < 2; g++)
		for (int f = 0; f < XPTILAB_STALE_NR_FILLS; f++) {
			ASSERT_EQ(0, run(self->fd, self->from, self->to,
					 XPTILAB_IPI_FLUSH, g, f, &r))
				TH_LOG("flush global %d fill %d: %s", g, f, strerror(errno));
			for (int s = 0; s < XPTILAB_STALE_NR_STATES; s++) {
				EXPECT_EQ(0u, r.stale[s])
					TH_LOG("global %d fill %d state %d", g, f, s);
			}
		}
}

/*
 * The positive control: no IPI and no CR3 write after the update, so a
 * TLB that keeps entries returns the old page; and the shadow root, never
 * re-synced, still maps the old subtree whatever the TLB does.
 */
TEST_F(stale, control_reads_stale)
{
	struct xptilab_stale_run r;

	ASSERT_EQ(0, run(self->fd, self->from, self->to, XPTILAB_STALE_NO_IPI,
			 0, XPTILAB_STALE_FILL_FULL, &r));
	EXPECT_LT(0u, r.stale[XPTILAB_STALE_SAME])
		TH_LOG("no stale read in %u trials: the TLB was flushed behind the experiment", r.done);
	EXPECT_EQ(r.done, r.stale[XPTILAB_STALE_SHADOW]);
	/* sync copies the new entry: after the CR3 write, nothing stale
	 * for non-global mappings (any x86 CR3 write without PCID drops them) */
	ASSERT_EQ(0, run(self->fd, self->from, self->to, XPTILAB_IPI_SYNC,
			 0, XPTILAB_STALE_FILL_FULL, &r));
	EXPECT_EQ(0u, r.stale[XPTILAB_STALE_SHADOW]);
	EXPECT_EQ(0u, r.stale[XPTILAB_STALE_FULL]);
}

/* The tool: runs, prints its platform label and the control line. */
TEST(tool_runs)
{
	char cmd[128], out[16384];
	int st;

	REQUIRE_MODULE();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	snprintf(cmd, sizeof(cmd), "%s stale --trials 3 --json", tool_path());
	st = run_cmd(cmd, out, sizeof(out));
	ASSERT_EQ(0, st) TH_LOG("%s: %s", cmd, out);
	EXPECT_NE(NULL, strstr(out, "\"experiment\": \"stale\""));
	EXPECT_NE(NULL, strstr(out, "\"platform\""));
	EXPECT_NE(NULL, strstr(out, "\"control\""));
}

TEST_HARNESS_MAIN
