// SPDX-License-Identifier: GPL-2.0
/*
 * The paths that only run with PCID, INVPCID and global pages, compact
 * enough for the Bochs guest of `make check` (Haswell model, PTI with
 * PCID; docs/bochs.md): the cr3 experiment's every variant (pcid
 * included), every IPI variant (invpcid included), every entry variant
 * (through the tool), a session, the shadow-root audit, and an unload and
 * reload. Elsewhere a variant the CPU lacks is left out (logged); with
 * XPTILAB_REQUIRE_PCID=1 (set by scripts/check for the Bochs guest) a
 * missing PCID, INVPCID, PGE or PTI fails instead, so that guest cannot
 * pass by skipping. The full selftests run there with `make check-bochs`.
 *
 * Sizes are small on purpose: Bochs runs a 2-CPU guest at a few tens of
 * millions of instructions per host second.
 */
#include <sched.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"

static bool require_pcid(void)
{
	const char *v = getenv("XPTILAB_REQUIRE_PCID");

	return v && !strcmp(v, "1");
}

static __u64 features(void)
{
	struct xptilab_info info;
	int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
	__u64 f = 0;

	if (fd >= 0 && !get_info(fd, &info))
		f = info.features;
	if (fd >= 0)
		close(fd);
	return f;
}

/* SKIP without the feature, or FAIL when the guest must have it. */
#define NEED_FEATURE(bit, name) do { \
	if (!(features() & (bit))) { \
		if (require_pcid()) \
			ASSERT_TRUE(0) TH_LOG("%s missing with XPTILAB_REQUIRE_PCID=1", name); \
		SKIP(return, "no %s on this CPU", name); \
	} \
} while (0)

TEST(facts_pcid_invpcid_pge_pti)
{
	__u64 f;

	REQUIRE_MODULE();
	f = features();
	NEED_FEATURE(XPTILAB_FEAT_PCID, "PCID");
	NEED_FEATURE(XPTILAB_FEAT_INVPCID, "INVPCID");
	NEED_FEATURE(XPTILAB_FEAT_PGE, "PGE");
	NEED_FEATURE(XPTILAB_FEAT_PTI, "PTI");
	/* Linux runs PTI with PCID: CR4.PCIDE is what FEAT_PCID says. */
	EXPECT_TRUE((f & XPTILAB_FEAT_PCID) != 0);
}

static int cr3_run(int fd, int cpu, unsigned int variant, __u32 iters,
		   struct xptilab_cr3_run *r, __u64 *s, __u64 *o)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->cpu = cpu;
	r->variant = variant;
	r->iterations = iters;
	r->samples = (__u64)(uintptr_t)s;
	r->overhead = (__u64)(uintptr_t)o;
	return ioctl(fd, XPTILAB_IOC_RUN_CR3, r);
}

TEST(cr3_every_variant)
{
	static __u64 s[200], o[200];
	static const unsigned int writes[XPTILAB_CR3_NR_VARIANTS] = { 2, 2, 2, 2 };
	struct xptilab_cr3_run r;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	for (unsigned int v = 0; v < XPTILAB_CR3_NR_VARIANTS; v++) {
		if (v == XPTILAB_CR3_PCID && !(features() & XPTILAB_FEAT_PCID)) {
			ASSERT_FALSE(require_pcid()) TH_LOG("no PCID");
			TH_LOG("pcid: no PCID on this CPU, not run");
			continue;
		}
		ASSERT_EQ(0, cr3_run(fd, 0, v, 200, &r, s, o))
			TH_LOG("variant %u: %s", v, strerror(errno));
		EXPECT_EQ(200u, r.n) TH_LOG("variant %u", v);
		EXPECT_EQ(writes[v], r.cr3_writes);
		EXPECT_EQ(0u, r.shadow_events) TH_LOG("variant %u", v);
		for (unsigned int i = 0; i < r.n; i++)
			if (!s[i]) {
				EXPECT_NE(0u, s[i]) TH_LOG("variant %u sample %u", v, i);
				break;
			}
	}
	close(fd);
}

static int counters(int fd, int cpu, struct xptilab_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->cpu = cpu;
	return ioctl(fd, XPTILAB_IOC_COUNTERS, c);
}

TEST(ipi_every_variant)
{
	static __u64 lat[20], hnd[20];
	struct xptilab_counters before, after;
	cpu_set_t saved;
	__u64 targets = 1ULL << 1;
	int fd;

	REQUIRE_MODULE();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	ASSERT_EQ(0, pin_to(0));
	OPEN_DEVICE(fd);
	for (unsigned int v = 0; v < XPTILAB_IPI_NR_VARIANTS; v++) {
		struct xptilab_ipi_run r = {
			.size = sizeof(r), .from_cpu = 0, .variant = v,
			.iterations = 20, .targets = (__u64)(uintptr_t)&targets,
			.target_bits = 64, .latency = (__u64)(uintptr_t)lat,
			.handler = (__u64)(uintptr_t)hnd,
		};

		if (v == XPTILAB_IPI_INVPCID && !(features() & XPTILAB_FEAT_INVPCID)) {
			ASSERT_FALSE(require_pcid()) TH_LOG("no INVPCID");
			TH_LOG("invpcid: no INVPCID on this CPU, not run");
			continue;
		}
		ASSERT_EQ(0, counters(fd, 1, &before));
		ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_IPI, &r))
			TH_LOG("variant %u: %s", v, strerror(errno));
		ASSERT_EQ(0, counters(fd, 1, &after));
		EXPECT_EQ(1u, r.ntargets);
		EXPECT_EQ(20u, after.ipi_handled[v] - before.ipi_handled[v])
			TH_LOG("variant %u", v);
	}
	close(fd);
	sched_setaffinity(0, sizeof(saved), &saved);
}

/* The tool's every entry variant (Linux's syscall and int $0x80 too). */
TEST(entry_every_variant)
{
	char cmd[160], out[65536];

	REQUIRE_MODULE();
	snprintf(cmd, sizeof(cmd), "xptilab entry --iterations 100 --json 2>&1");
	ASSERT_EQ(0, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "\"skipped\": true")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"xpti\"")) TH_LOG("%s", out);
}

TEST(session_runs)
{
	char out[16384];

	REQUIRE_MODULE();
	ASSERT_EQ(0, run_cmd("xptilab session --run 1 --cpu 0 --json 2>&1",
			     out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "enters")) TH_LOG("%s", out);
}

TEST(audit_is_ok)
{
	char buf[16384];

	REQUIRE_MODULE();
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
}

/* Last: unload (IDTs restored, every CPU flushed) and load again. */
TEST(unload_and_reload)
{
	struct xptilab_info info;
	int fd;

	REQUIRE_RELOADABLE();
	ASSERT_EQ(0, module_unload()) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_FALSE(module_loaded());
	ASSERT_EQ(0, module_load("")) TH_LOG("finit_module: %s", strerror(errno));
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	close(fd);
}

TEST_HARNESS_MAIN
