// SPDX-License-Identifier: GPL-2.0
/*
 * XPTILAB_IOC_RUN_CR3: the runs (n as asked, ordered statistics, CR3
 * writes and global flushes per variant, clone mode restored), pcid's
 * EOPNOTSUPP without PCID, argument checking, and the tool built with
 * ASan/UBSan. The shadow-root audit stays clean throughout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "stats.h"

#define ITER 2000

struct bufs {
	uint64_t samples[ITER], overhead[ITER], touch[ITER];
};

static void run_init(struct xptilab_cr3_run *r, struct bufs *b,
		     unsigned int variant, unsigned int iterations)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->variant = variant;
	r->iterations = iterations;
	r->samples = (uintptr_t)b->samples;
	r->overhead = (uintptr_t)b->overhead;
}

static bool cpuinfo_has(const char *flag)
{
	static char buf[1 << 16];
	char want[32];

	if (read_text("/proc/cpuinfo", buf, sizeof(buf)) <= 0)
		return false;
	snprintf(want, sizeof(want), " %s ", flag);
	for (char *p = buf; (p = strstr(p, "\nflags")); p++) {
		char *nl = strchr(p + 1, '\n'), *hit = strstr(p, want);

		if (hit && (!nl || hit < nl))
			return true;
		if (!nl)
			break;
	}
	/* the flag may end its line */
	snprintf(want, sizeof(want), " %s\n", flag);
	return strstr(buf, want) != NULL;
}

static bool clone_global_param(void)
{
	char buf[4096];

	return read_text(XDBG "info", buf, sizeof(buf)) > 0 &&
	       strstr(buf, "\nclone_global: 1\n");
}

static void check_stats(struct __test_metadata *_metadata, const char *what,
			uint64_t *v, size_t n)
{
	struct stats s;

	ASSERT_EQ(0, stats_compute(v, n, &s));
	EXPECT_EQ(n, s.n);
	EXPECT_LE(s.min, s.median) TH_LOG("%s", what);
	EXPECT_LE(s.median, s.p90) TH_LOG("%s", what);
	EXPECT_LE(s.p90, s.p99) TH_LOG("%s", what);
	EXPECT_LE(s.p99, s.max) TH_LOG("%s", what);
	EXPECT_TRUE(s.mean >= (double)s.min && s.mean <= (double)s.max) TH_LOG("%s", what);
	EXPECT_LE(0.0, s.stddev) TH_LOG("%s", what);
}

/* Every clone in CPU cpu's dump has G == want_global. */
static void check_clone_mode(struct __test_metadata *_metadata, int cpu,
			     bool want_global)
{
	struct shadow_dump *d = malloc(sizeof(*d));

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, read_shadow(cpu, d)) TH_LOG("%s", d->bad);
	EXPECT_EQ(want_global, d->header_global);
	for (int i = 0; i < d->n; i++) {
		if (!strcmp(d->r[i].kind, "clone")) {
			EXPECT_EQ(want_global, d->r[i].global)
				TH_LOG("clone %#" PRIx64 " not restored", d->r[i].start);
		}
	}
	free(d);
}

FIXTURE(cr3) {
	int fd;
	struct bufs *b;
};

FIXTURE_SETUP(cr3)
{
	self->fd = -1;
	self->b = calloc(1, sizeof(*self->b));
	ASSERT_NE(NULL, self->b);
}

FIXTURE_TEARDOWN(cr3)
{
	char buf[16384];

	if (self->fd >= 0) {
		close(self->fd);
		EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
	}
	free(self->b);
}

static void run_variant(struct __test_metadata *_metadata, int fd,
			struct bufs *b, unsigned int variant,
			unsigned int flushes)
{
	struct xptilab_cr3_run r;

	run_init(&r, b, variant, ITER);
	ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_CR3, &r))
		TH_LOG("variant %u: %s", variant, strerror(errno));
	EXPECT_EQ((unsigned int)ITER, r.n) TH_LOG("%u dropped", r.dropped);
	EXPECT_LE(r.dropped, 2u * ITER + 1000);
	/* an entry on the shadow root disturbs a sample, which is dropped */
	if (r.shadow_events) {
		EXPECT_LT(0u, r.dropped);
	}
	EXPECT_EQ(2u, r.cr3_writes);
	EXPECT_EQ(flushes, r.global_flushes);
	EXPECT_LT(0u, r.tsc_khz);
	for (unsigned int i = 0; i < r.n; i++)
		if (!b->samples[i]) {
			EXPECT_NE(0u, b->samples[i]) TH_LOG("sample %u", i);
			break;
		}
	check_stats(_metadata, "samples", b->samples, r.n);
	check_stats(_metadata, "overhead", b->overhead, r.n);
	/* the run restores the clone mode it found (the parameter's here) */
	check_clone_mode(_metadata, 0, clone_global_param());
}

TEST_F(cr3, plain)
{
	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	run_variant(_metadata, self->fd, self->b, XPTILAB_CR3_PLAIN, 0);
}

TEST_F(cr3, nonglobal)
{
	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	run_variant(_metadata, self->fd, self->b, XPTILAB_CR3_NONGLOBAL, 1);
}

TEST_F(cr3, global)
{
	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	run_variant(_metadata, self->fd, self->b, XPTILAB_CR3_GLOBAL, 2);
}

/* A run keeps the clone mode an entry configuration set on its CPU. */
static int entry_mode(int fd, unsigned int mode)
{
	struct xptilab_entry_config c = {
		.size = sizeof(c), .cpu = 0, .mode = mode,
	};

	return ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &c);
}

TEST_F(cr3, run_keeps_the_entry_clone_mode)
{
	struct xptilab_cr3_run r;

	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, entry_mode(self->fd, XPTILAB_ENTRY_XPTI_GLOBAL))
		TH_LOG("ENTRY_CONFIG: %s", strerror(errno));
	check_clone_mode(_metadata, 0, true);
	run_init(&r, self->b, XPTILAB_CR3_NONGLOBAL, 1000);
	ASSERT_EQ(0, ioctl(self->fd, XPTILAB_IOC_RUN_CR3, &r));
	check_clone_mode(_metadata, 0, true);
	ASSERT_EQ(0, entry_mode(self->fd, XPTILAB_ENTRY_XPTI));
	check_clone_mode(_metadata, 0, false);
	run_init(&r, self->b, XPTILAB_CR3_GLOBAL, 1000);
	ASSERT_EQ(0, ioctl(self->fd, XPTILAB_IOC_RUN_CR3, &r));
	check_clone_mode(_metadata, 0, false);
	ASSERT_EQ(0, entry_mode(self->fd, XPTILAB_ENTRY_GATE));
	check_clone_mode(_metadata, 0, clone_global_param());
}

TEST_F(cr3, pcid)
{
	struct xptilab_info info;
	struct xptilab_cr3_run r;

	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, get_info(self->fd, &info));
	if (!cpuinfo_has("pcid")) {
		run_init(&r, self->b, XPTILAB_CR3_PCID, ITER);
		EXPECT_EQ(-1, ioctl(self->fd, XPTILAB_IOC_RUN_CR3, &r));
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("%s", strerror(errno));
		EXPECT_EQ(0u, info.features & XPTILAB_FEAT_PCID);
		SKIP(return, "CPU lacks PCID: EOPNOTSUPP as expected");
	}
	if (!(info.features & XPTILAB_FEAT_PCID))
		SKIP(return, "the kernel does not use PCID");
	run_variant(_metadata, self->fd, self->b, XPTILAB_CR3_PCID, 0);
}

TEST_F(cr3, touch_pages)
{
	struct xptilab_cr3_run r;

	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 500);
	r.touch_pages = 16;
	r.touch_samples = (uintptr_t)self->b->touch;
	ASSERT_EQ(0, ioctl(self->fd, XPTILAB_IOC_RUN_CR3, &r)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(500u, r.n);
	check_stats(_metadata, "touch", self->b->touch, r.n);
	EXPECT_LT(0u, self->b->touch[r.n - 1]);
}

/* One malformed run: expect -1 with errno err. */
#define EXPECT_RUN_FAILS(fd, r, err, what) do { \
	errno = 0; \
	EXPECT_EQ(-1, ioctl((fd), XPTILAB_IOC_RUN_CR3, &(r))) TH_LOG("%s accepted", what); \
	EXPECT_EQ((err), errno) TH_LOG("%s: %s", what, strerror(errno)); \
} while (0)

TEST_F(cr3, bad_arguments_are_einval)
{
	struct { struct xptilab_cr3_run r; char pad[8]; } big;
	struct xptilab_cr3_run r;
	struct bufs *b = self->b;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	fd = self->fd;

	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.size = sizeof(r) - 8;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "short size");
	memset(&big, 0, sizeof(big));
	run_init(&big.r, b, XPTILAB_CR3_PLAIN, 10);
	big.r.size = sizeof(big);
	EXPECT_RUN_FAILS(fd, big, EINVAL, "long size");

	for (size_t i = 0; i < ARRAY_SIZE(r.reserved); i++) {
		run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
		r.reserved[i] = 1;
		EXPECT_RUN_FAILS(fd, r, EINVAL, "reserved");
	}
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.flags = 1;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "flags");
	run_init(&r, b, 99, 10);
	EXPECT_RUN_FAILS(fd, r, EINVAL, "variant 99");
	run_init(&r, b, XPTILAB_CR3_NR_VARIANTS, 10);
	EXPECT_RUN_FAILS(fd, r, EINVAL, "variant NR");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 0);
	EXPECT_RUN_FAILS(fd, r, EINVAL, "0 iterations");
	run_init(&r, b, XPTILAB_CR3_PLAIN, XPTILAB_MAX_ITERATIONS + 1);
	EXPECT_RUN_FAILS(fd, r, EINVAL, "too many iterations");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.touch_pages = XPTILAB_MAX_TOUCH_PAGES + 1;
	r.touch_samples = (uintptr_t)b->touch;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "too many touch pages");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.touch_pages = 4;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "touch pages without touch_samples");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.touch_samples = (uintptr_t)b->touch;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "touch_samples without touch pages");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.n = 1;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "output field set");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.cpu = 4096;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "cpu 4096");
	run_init(&r, b, XPTILAB_CR3_PLAIN, 10);
	r.cpu = UINT32_MAX;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "cpu ~0");
}

TEST_F_TIMEOUT(cr3, offline_cpu_is_einval, 60)
{
	bool online[MAX_TEST_CPUS];
	struct xptilab_cr3_run r;

	REQUIRE_MODULE();
	if (online_cpus(online) < 2 || !online[1])
		SKIP(return, "needs CPU 1 online");
	if (access(SYSCPU "cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be offlined");
	OPEN_DEVICE(self->fd);
	ASSERT_EQ(0, write_text(SYSCPU "cpu1/online", "0")) TH_LOG("%s", strerror(errno));
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.cpu = 1;
	EXPECT_RUN_FAILS(self->fd, r, EINVAL, "offline cpu1");
	ASSERT_EQ(0, write_text(SYSCPU "cpu1/online", "1")) TH_LOG("%s", strerror(errno));
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.cpu = 1;
	EXPECT_EQ(0, ioctl(self->fd, XPTILAB_IOC_RUN_CR3, &r)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(10u, r.n);
}

TEST_F(cr3, bad_pointers_are_efault)
{
	struct xptilab_cr3_run r;
	void *gone;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(self->fd);
	fd = self->fd;
	gone = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, munmap(gone, 65536));

	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.samples = 0;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "NULL samples");
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.overhead = 0;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "NULL overhead");
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.samples = (uintptr_t)gone;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "unmapped samples");
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.overhead = (uintptr_t)gone;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "unmapped overhead");
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.touch_pages = 2;
	r.touch_samples = (uintptr_t)gone;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "unmapped touch_samples");
	run_init(&r, self->b, XPTILAB_CR3_PLAIN, 10);
	r.samples = 0xffff800000000000ULL;	/* kernel half */
	EXPECT_RUN_FAILS(fd, r, EFAULT, "kernel samples pointer");
	/* the argument itself */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_RUN_CR3, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_RUN_CR3, gone));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F_TIMEOUT(cr3, tool_under_asan, 120)
{
	static char out[65536];
	int rc;

	REQUIRE_MODULE();
	if (system("command -v xptilab-asan >/dev/null 2>&1"))
		SKIP(return, "xptilab-asan is not installed");
	rc = run_cmd("xptilab-asan cr3 --iterations 500 --touch 4 --json 2>&1",
		     out, sizeof(out));
	EXPECT_EQ(0, rc) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "\"experiment\": \"cr3\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"name\": \"nonglobal+touch\"")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "Sanitizer")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "runtime error")) TH_LOG("%s", out);
	rc = run_cmd("xptilab-asan cr3 --variant plain --iterations 100 --csv 2>&1",
		     out, sizeof(out));
	EXPECT_EQ(0, rc) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "\ncr3,plain,cycles,100,")) TH_LOG("%s", out);
}

TEST_F(cr3, tool_refuses_bad_arguments)
{
	static const char *const bad[] = {
		"--iterations 0", "--iterations 1000001", "--iterations x",
		"--variant nope", "--touch 4097", "--cpu -1", "--cpu 99999",
		"--frobnicate", "--cpu",
	};
	char cmd[128], out[4096];

	if (system("command -v xptilab >/dev/null 2>&1"))
		SKIP(return, "xptilab is not installed");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(cmd, sizeof(cmd), "xptilab cr3 %s 2>&1 >/dev/null", bad[i]);
		EXPECT_EQ(2, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s", bad[i]);
		EXPECT_EQ(0, strncmp(out, "xptilab: cr3: ", 14))
			TH_LOG("%s: stderr '%s'", bad[i], out);
	}
}

TEST_HARNESS_MAIN
