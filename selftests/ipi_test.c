// SPDX-License-Identifier: GPL-2.0
/*
 * The ipi experiment (XPTILAB_IOC_RUN_IPI and `xptilab ipi`):
 *  - every target runs exactly one handler of the run's variant per IPI,
 *    and nobody else runs any (the per-CPU ipi_handled counters);
 *  - after sync and the flush variants, every target's shadow root mirrors
 *    the initiator's new top-level user entries (debugfs audit and shadow
 *    dumps), and closing the descriptor empties the mirror;
 *  - the tool's sweep groups runs by NUMA distance as sysfs describes the
 *    nodes (SKIPs the two-node checks with one node);
 *  - bad input is refused: EINVAL (or EFAULT) from the module, exit status
 *    2 from the tool.
 * Needs two online CPUs; SKIPs otherwise.
 */
#include <ctype.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define XDBG		"/sys/kernel/debug/xptilab/"
#define SYSCPU		"/sys/devices/system/cpu/"
#define SYSNODE		"/sys/devices/system/node/"
#define MAX_CPUS	XPTILAB_MAX_CPU_BITS
#define MAX_NODES	64
#define ITERS		20

static const char *const variant_names[XPTILAB_IPI_NR_VARIANTS] = {
	"empty", "sync", "flush", "flush-nonglobal", "invpcid",
};

/* ---- files and CPUs ---- */

/* The whole of path, NUL-terminated, malloc'ed; NULL with errno set. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += n;
		if (len == cap - 1) {
			char *p = realloc(buf, cap * 2);

			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* A CPU list ("0-3,8") into set[MAX_CPUS]; the count, or -1. */
static int parse_list(const char *s, bool *set)
{
	const char *p = s;
	int n = 0;

	memset(set, 0, MAX_CPUS * sizeof(*set));
	while (*p && *p != '\n') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			return -1;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long c = lo; c <= hi && c < MAX_CPUS; c++)
			if (!set[c]) {
				set[c] = true;
				n++;
			}
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int online_cpus(bool *online)
{
	char *s = slurp(SYSCPU "online");
	int n;

	if (!s)
		return -1;
	n = parse_list(s, online);
	free(s);
	return n;
}

static int first_cpu(const bool *set)
{
	for (int c = 0; c < MAX_CPUS; c++)
		if (set[c])
			return c;
	return -1;
}

/* A fixture only for the tests that need more than the default timeout. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(slow)
{
}

/* ---- the ioctl ---- */

struct ipi_bufs {
	__u64 bits[MAX_CPUS / 64];
	__u64 latency[ITERS];
	__u64 handler[ITERS * MAX_CPUS];
};

static void run_init(struct xptilab_ipi_run *r, struct ipi_bufs *b, int from,
		     unsigned int variant, unsigned int iters,
		     const bool *targets)
{
	memset(r, 0, sizeof(*r));
	memset(b->bits, 0, sizeof(b->bits));
	r->size = sizeof(*r);
	r->from_cpu = from;
	r->variant = variant;
	r->iterations = iters;
	r->target_bits = 1;
	for (int c = 0; c < MAX_CPUS; c++)
		if (targets[c]) {
			b->bits[c / 64] |= 1ULL << (c % 64);
			r->target_bits = c + 1;
		}
	r->targets = (uintptr_t)b->bits;
	r->latency = (uintptr_t)b->latency;
	r->handler = (uintptr_t)b->handler;
}

static int get_counters(int fd, int cpu, struct xptilab_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->cpu = cpu;
	return ioctl(fd, XPTILAB_IOC_COUNTERS, c);
}

/* Two CPUs at least, pinned to the first; targets: every other one. */
#define SETUP_CPUS(online, from, targets, ntargets) do { \
	int __n = online_cpus(online); \
	REQUIRE_MODULE(); \
	ASSERT_LT(0, __n); \
	if (__n < 2) \
		SKIP(return, "needs two online CPUs"); \
	(from) = first_cpu(online); \
	memcpy((targets), (online), sizeof(bool) * MAX_CPUS); \
	(targets)[from] = false; \
	(ntargets) = __n - 1; \
	(void)(ntargets); \
	ASSERT_EQ(0, pin_to(from)) TH_LOG("pin to cpu %d: %s", (from), \
				       strerror(errno)); \
} while (0)

/* ---- every target runs one handler per IPI, nobody else any ---- */

static void check_counts(struct __test_metadata *_metadata, int fd, int from,
			 const bool *online, const bool *targets, int ntargets,
			 unsigned int v, unsigned int iters, bool *skipped)
{
	static struct xptilab_counters before[MAX_CPUS], after[MAX_CPUS];
	static struct ipi_bufs b;
	struct xptilab_ipi_run r;
	int ret, err;

	*skipped = false;
	for (int c = 0; c < MAX_CPUS; c++)
		if (online[c]) {
			ASSERT_EQ(0, get_counters(fd, c, &before[c]));
		}
	run_init(&r, &b, from, v, iters, targets);
	memset(b.latency, 0, sizeof(b.latency));
	memset(b.handler, 0xff, sizeof(b.handler));
	ret = ioctl(fd, XPTILAB_IOC_RUN_IPI, &r);
	err = errno;
	if (ret && err == EOPNOTSUPP && v == XPTILAB_IPI_INVPCID) {
		struct xptilab_info info;

		ASSERT_EQ(0, get_info(fd, &info));
		EXPECT_EQ(0ULL, info.features & XPTILAB_FEAT_INVPCID)
			TH_LOG("invpcid refused although INFO reports INVPCID");
		*skipped = true;
		iters = 0;	/* nothing may have run */
	} else {
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", variant_names[v], strerror(err));
		EXPECT_EQ((__u32)ntargets, r.ntargets);
		EXPECT_LT(0u, r.tsc_khz);
		for (unsigned int i = 0; i < iters; i++) {
			EXPECT_LT(0u, b.latency[i]) TH_LOG("latency[%u]", i);
		}
		/* every target's slice written, nothing beyond */
		for (unsigned int i = 0; i < iters * ntargets; i++) {
			EXPECT_NE(~0ULL, b.handler[i])
				TH_LOG("%s: handler[%u] not written",
				       variant_names[v], i);
		}
		EXPECT_EQ(~0ULL, b.handler[iters * ntargets]);
	}
	for (int c = 0; c < MAX_CPUS; c++) {
		if (!online[c])
			continue;
		ASSERT_EQ(0, get_counters(fd, c, &after[c]));
		for (unsigned int w = 0; w < XPTILAB_IPI_NR_VARIANTS; w++) {
			__u64 d = after[c].ipi_handled[w] - before[c].ipi_handled[w];
			__u64 want = targets[c] && w == v ? iters : 0;

			EXPECT_EQ(want, d)
				TH_LOG("run %s from cpu %d: cpu %d ran %llu %s handlers, want %llu",
				       variant_names[v], from, c,
				       (unsigned long long)d, variant_names[w],
				       (unsigned long long)want);
		}
	}
}

TEST(handler_counts_equal_ipis_sent)
{
	bool online[MAX_CPUS], targets[MAX_CPUS], one[MAX_CPUS] = { false };
	int fd, from, ntargets, skips = 0;

	SETUP_CPUS(online, from, targets, ntargets);
	OPEN_DEVICE(fd);
	for (unsigned int v = 0; v < XPTILAB_IPI_NR_VARIANTS; v++) {
		bool skipped;

		/* every other CPU; a count that differs per variant */
		check_counts(_metadata, fd, from, online, targets, ntargets, v,
			     ITERS - v, &skipped);
		skips += skipped;
		/* one target only: the others must see nothing */
		if (ntargets >= 2) {
			memset(one, 0, sizeof(one));
			for (int c = MAX_CPUS - 1; c >= 0; c--)
				if (targets[c]) {
					one[c] = true;
					break;
				}
			check_counts(_metadata, fd, from, online, one, 1, v,
				     3 + v, &skipped);
		}
	}
	close(fd);
	if (skips)
		TH_LOG("invpcid: EOPNOTSUPP (no INVPCID), not counted");
}

/* ---- the mirror: new top-level entries reach every target ---- */

/* The top-level slots cpuN/shadow says are mirrored from pid. */
static int mirrored_slots(int cpu, pid_t pid, int shift, bool *slots)
{
	char path[128], *buf, *line;
	int n = 0;

	memset(slots, 0, 256 * sizeof(*slots));
	snprintf(path, sizeof(path), XDBG "cpu%d/shadow", cpu);
	buf = slurp(path);
	if (!buf)
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long start, end;
		unsigned long size_k;
		int p;

		if (sscanf(line, "0x%llx-0x%llx %luK top-level entry mirrored from pid %d user",
			   &start, &end, &size_k, &p) != 4)
			continue;
		n++;
		if (p == pid && start >> shift < 256 &&
		    end - start == 1ULL << shift)
			slots[start >> shift] = true;
	}
	free(buf);
	return n;
}

/* No mapping of /proc/self/maps in [lo, hi). */
static bool range_unmapped(unsigned long long lo, unsigned long long hi)
{
	char *maps = slurp("/proc/self/maps"), *line;
	bool free_range = true;

	if (!maps)
		return false;
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) == 2 && s < hi && e > lo)
			free_range = false;
	}
	free(maps);
	return free_range;
}

static void check_mirror(struct __test_metadata *_metadata, unsigned int v)
{
	static const int candidates[] = { 16, 128, 64, 32, 200, 100, 8 };
	static bool slots[256];
	static struct ipi_bufs b;
	bool online[MAX_CPUS], targets[MAX_CPUS];
	struct xptilab_ipi_run r;
	struct xptilab_info info;
	int fd, from, ntargets, shift, slot = -1;
	unsigned long long addr;
	char *audit, want[96];
	volatile char *p;

	SETUP_CPUS(online, from, targets, ntargets);
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	ASSERT_TRUE(info.paging_levels == 4 || info.paging_levels == 5);
	shift = info.paging_levels == 5 ? 48 : 39;

	/* this process becomes the mirror source: the audit is clean */
	run_init(&r, &b, from, XPTILAB_IPI_SYNC, 1, targets);
	ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_IPI, &r)) TH_LOG("sync: %s",
							       strerror(errno));
	audit = slurp(XDBG "audit");
	ASSERT_NE(NULL, audit) TH_LOG("%s: %s", XDBG "audit", strerror(errno));
	EXPECT_STREQ("ok\n", audit);
	free(audit);

	/* a top-level slot neither mapped nor mirrored yet */
	for (size_t i = 0; i < ARRAY_SIZE(candidates) && slot < 0; i++) {
		int s = candidates[i];
		bool used = false;

		if (!range_unmapped((unsigned long long)s << shift,
				    (unsigned long long)(s + 1) << shift))
			continue;
		for (int c = 0; c < MAX_CPUS && !used; c++)
			if (targets[c]) {
				ASSERT_LE(0, mirrored_slots(c, getpid(), shift, slots));
				used = slots[s];
			}
		if (!used)
			slot = s;
	}
	ASSERT_LE(0, slot) TH_LOG("no free top-level slot to map");
	addr = (unsigned long long)slot << shift;
	p = mmap((void *)(uintptr_t)addr, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ((void *)(uintptr_t)addr, (void *)p)
		TH_LOG("mmap at %#llx: %s", addr, strerror(errno));
	*p = 1;		/* page tables, from a new top-level entry down */

	/* every target's copy lacks it now */
	audit = slurp(XDBG "audit");
	ASSERT_NE(NULL, audit);
	for (int c = 0; c < MAX_CPUS; c++) {
		if (!targets[c])
			continue;
		snprintf(want, sizeof(want), "cpu%d: user half is stale", c);
		EXPECT_NE(NULL, strstr(audit, want))
			TH_LOG("after mapping %#llx the audit says:\n%s", addr,
			       audit);
	}
	free(audit);

	run_init(&r, &b, from, v, 3, targets);
	if (ioctl(fd, XPTILAB_IOC_RUN_IPI, &r)) {
		int err = errno;

		munmap((void *)p, 4096);
		close(fd);
		if (err == EOPNOTSUPP && v == XPTILAB_IPI_INVPCID)
			SKIP(return, "no INVPCID (EOPNOTSUPP)");
		ASSERT_EQ(0, err) TH_LOG("%s: %s", variant_names[v], strerror(err));
	}
	audit = slurp(XDBG "audit");
	ASSERT_NE(NULL, audit);
	EXPECT_STREQ("ok\n", audit) TH_LOG("after %s", variant_names[v]);
	free(audit);
	for (int c = 0; c < MAX_CPUS; c++) {
		if (!targets[c])
			continue;
		ASSERT_LT(0, mirrored_slots(c, getpid(), shift, slots));
		EXPECT_TRUE(slots[slot])
			TH_LOG("cpu%d/shadow lacks 0x%016llx-0x%016llx after %s",
			       c, addr, (unsigned long long)(slot + 1) << shift,
			       variant_names[v]);
	}

	/* closing the descriptor empties the mirror */
	close(fd);
	for (int c = 0; c < MAX_CPUS; c++)
		if (online[c]) {
			EXPECT_EQ(0, mirrored_slots(c, getpid(), shift, slots))
				TH_LOG("cpu%d still mirrors after close", c);
		}
	audit = slurp(XDBG "audit");
	ASSERT_NE(NULL, audit);
	EXPECT_STREQ("ok\n", audit);
	free(audit);
	munmap((void *)p, 4096);
}

TEST(sync_mirrors_new_top_level_entry)
{
	check_mirror(_metadata, XPTILAB_IPI_SYNC);
}

TEST(flush_mirrors_new_top_level_entry)
{
	check_mirror(_metadata, XPTILAB_IPI_FLUSH);
}

TEST(flush_nonglobal_mirrors_new_top_level_entry)
{
	check_mirror(_metadata, XPTILAB_IPI_FLUSH_NONGLOBAL);
}

TEST(invpcid_mirrors_new_top_level_entry)
{
	check_mirror(_metadata, XPTILAB_IPI_INVPCID);
}

/* ---- bad input ---- */

#define EXPECT_RUN_FAILS(fd, r, err, what) do { \
	struct xptilab_ipi_run __r = (r); \
	errno = 0; \
	EXPECT_EQ(-1, ioctl((fd), XPTILAB_IOC_RUN_IPI, &__r)) \
		TH_LOG("%s: accepted", (what)); \
	EXPECT_EQ((err), errno) TH_LOG("%s: %s", (what), strerror(errno)); \
} while (0)

/* The sum of every online CPU's ipi_handled counters. */
static __u64 handled_total(int fd, const bool *online)
{
	struct xptilab_counters c;
	__u64 sum = 0;

	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (!online[cpu] || get_counters(fd, cpu, &c))
			continue;
		for (int v = 0; v < XPTILAB_IPI_NR_VARIANTS; v++)
			sum += c.ipi_handled[v];
	}
	return sum;
}

TEST(bad_input_is_einval)
{
	static struct ipi_bufs b, empty;
	bool online[MAX_CPUS], targets[MAX_CPUS], none[MAX_CPUS] = { false };
	struct xptilab_ipi_run good, r;
	struct xptilab_info info;
	int fd, from, ntargets, other;
	cpu_set_t all;
	__u64 before;

	SETUP_CPUS(online, from, targets, ntargets);
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	other = first_cpu(targets);
	before = handled_total(fd, online);
	run_init(&good, &b, from, XPTILAB_IPI_EMPTY, 5, targets);
	ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_IPI, &good)) TH_LOG("%s",
								   strerror(errno));
	before = handled_total(fd, online);
	run_init(&good, &b, from, XPTILAB_IPI_EMPTY, 5, targets);

	run_init(&r, &empty, from, XPTILAB_IPI_EMPTY, 5, none);
	r.target_bits = 64;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "empty target set");

	r = good;
	b.bits[from / 64] |= 1ULL << (from % 64);
	EXPECT_RUN_FAILS(fd, r, EINVAL, "target set contains from_cpu");
	b.bits[from / 64] &= ~(1ULL << (from % 64));

	if (info.cpus_possible < MAX_CPUS) {
		r = good;
		b.bits[info.cpus_possible / 64] |= 1ULL << (info.cpus_possible % 64);
		r.target_bits = info.cpus_possible + 1;
		EXPECT_RUN_FAILS(fd, r, EINVAL, "target beyond the possible CPUs");
		b.bits[info.cpus_possible / 64] &= ~(1ULL << (info.cpus_possible % 64));
	}
	r = good;
	b.bits[(MAX_CPUS - 1) / 64] |= 1ULL << 63;
	r.target_bits = MAX_CPUS;
	if (info.cpus_possible < MAX_CPUS)
		EXPECT_RUN_FAILS(fd, r, EINVAL, "target cpu 1023");
	b.bits[(MAX_CPUS - 1) / 64] &= ~(1ULL << 63);

	/* a set bit beyond target_bits, in the bitmap's last word */
	if ((other + 1) % 64) {
		__u64 saved = b.bits[other / 64];

		r = good;
		r.target_bits = other + 1;
		b.bits[other / 64] = 1ULL << (other % 64) |
				     1ULL << (other % 64 + 1);
		EXPECT_RUN_FAILS(fd, r, EINVAL, "bit set beyond target_bits");
		b.bits[other / 64] = saved;
	}

	r = good;
	r.target_bits = 0;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "target_bits 0");
	r.target_bits = MAX_CPUS + 1;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "target_bits 1025");

	r = good;
	r.iterations = 0;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "iterations 0");
	r.iterations = XPTILAB_MAX_IPI_ITERATIONS + 1;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "iterations 100001");
	r.iterations = UINT32_MAX;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "iterations ~0");

	r = good;
	r.variant = 99;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "variant 99");
	r.variant = XPTILAB_IPI_NR_VARIANTS;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "variant NR_VARIANTS");

	for (size_t i = 0; i < ARRAY_SIZE(good.reserved); i++) {
		r = good;
		r.reserved[i] = 1;
		EXPECT_RUN_FAILS(fd, r, EINVAL, "reserved field set");
	}
	r = good;
	r.ntargets = 1;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "output ntargets set");
	r = good;
	r.tsc_khz = 1;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "output tsc_khz set");
	r = good;
	r.size = sizeof(r) - 8;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "short size");
	r = good;
	r.from_cpu = MAX_CPUS;
	EXPECT_RUN_FAILS(fd, r, EINVAL, "from_cpu out of range");

	/* the caller must be pinned to from_cpu, and only to it */
	CPU_ZERO(&all);
	for (int c = 0; c < MAX_CPUS && c < CPU_SETSIZE; c++)
		if (online[c])
			CPU_SET(c, &all);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(all), &all));
	EXPECT_RUN_FAILS(fd, good, EINVAL, "caller not pinned");
	ASSERT_EQ(0, pin_to(other));
	EXPECT_RUN_FAILS(fd, good, EINVAL, "caller pinned to another CPU");
	ASSERT_EQ(0, pin_to(from));

	/* nothing above sent an IPI */
	EXPECT_EQ(before, handled_total(fd, online));
	EXPECT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_IPI, &good)) TH_LOG("%s",
								   strerror(errno));
	close(fd);
}

TEST_F_TIMEOUT(slow, offline_target_is_einval, 60)
{
	static struct ipi_bufs b;
	bool online[MAX_CPUS], targets[MAX_CPUS];
	struct xptilab_ipi_run r;
	int fd, from, ntargets, victim = -1;
	char path[96];

	SETUP_CPUS(online, from, targets, ntargets);
	for (int c = MAX_CPUS - 1; c >= 0 && victim < 0; c--) {
		snprintf(path, sizeof(path), SYSCPU "cpu%d/online", c);
		if (targets[c] && !access(path, W_OK))
			victim = c;
	}
	if (victim < 0)
		SKIP(return, "no target CPU can be taken offline");
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, write_text(path, "0")) TH_LOG("offline cpu%d: %s", victim,
						   strerror(errno));
	run_init(&r, &b, from, XPTILAB_IPI_SYNC, 5, targets);
	EXPECT_RUN_FAILS(fd, r, EINVAL, "offline target");
	ASSERT_EQ(0, write_text(path, "1")) TH_LOG("online cpu%d: %s", victim,
						   strerror(errno));
	run_init(&r, &b, from, XPTILAB_IPI_SYNC, 5, targets);
	EXPECT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_IPI, &r)) TH_LOG("%s",
								strerror(errno));
	EXPECT_EQ((__u32)ntargets, r.ntargets);
	close(fd);
}

TEST(bad_pointers_are_efault)
{
	static struct ipi_bufs b;
	bool online[MAX_CPUS], targets[MAX_CPUS];
	struct xptilab_ipi_run good, r;
	long page = sysconf(_SC_PAGESIZE);
	int fd, from, ntargets;
	char *map;

	SETUP_CPUS(online, from, targets, ntargets);
	OPEN_DEVICE(fd);
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	run_init(&good, &b, from, XPTILAB_IPI_EMPTY, 4, targets);

	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_RUN_IPI, NULL));
	EXPECT_EQ(EFAULT, errno);
	r = good;
	r.targets = 0;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "targets NULL");
	r.targets = (uintptr_t)(map + page);
	EXPECT_RUN_FAILS(fd, r, EFAULT, "targets PROT_NONE");
	r = good;
	r.latency = 0;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "latency NULL");
	r = good;
	r.handler = 0;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "handler NULL");
	/* room for one sample less than iterations x targets */
	r = good;
	r.handler = (uintptr_t)(map + page - (4 * ntargets - 1) * sizeof(__u64));
	EXPECT_RUN_FAILS(fd, r, EFAULT, "handler buffer one sample short");
	r = good;
	r.latency = (uintptr_t)(map + page - 3 * sizeof(__u64));
	EXPECT_RUN_FAILS(fd, r, EFAULT, "latency buffer one sample short");
	r = good;
	r.latency = (uintptr_t)0xffff888000000000ULL;
	EXPECT_RUN_FAILS(fd, r, EFAULT, "latency in the kernel");

	/* and a good one still works */
	r = good;
	EXPECT_EQ(0, ioctl(fd, XPTILAB_IOC_RUN_IPI, &r)) TH_LOG("%s",
								strerror(errno));
	munmap(map, 2 * page);
	close(fd);
}

/* ---- the tool ---- */

TEST(tool_refuses_bad_input)
{
	bool online[MAX_CPUS], targets[MAX_CPUS];
	int from, ntargets, possible;
	char args[12][64], cmd[1024];
	static char out[16384];
	struct xptilab_info info;
	int n = 0, fd;

	SETUP_CPUS(online, from, targets, ntargets);
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	close(fd);
	possible = info.cpus_possible;
	snprintf(args[n++], sizeof(args[0]), "--targets %d", from);
	snprintf(args[n++], sizeof(args[0]), "--targets ''");
	snprintf(args[n++], sizeof(args[0]), "--targets %d", possible);
	snprintf(args[n++], sizeof(args[0]), "--targets 4096");
	snprintf(args[n++], sizeof(args[0]), "--iterations 0");
	snprintf(args[n++], sizeof(args[0]), "--iterations 100001");
	snprintf(args[n++], sizeof(args[0]), "--variant nosuch");
	snprintf(args[n++], sizeof(args[0]), "--count %d", ntargets + 1);
	snprintf(args[n++], sizeof(args[0]), "--count 0");
	snprintf(args[n++], sizeof(args[0]), "--node 999");
	snprintf(args[n++], sizeof(args[0]), "--from %d", possible);
	snprintf(args[n++], sizeof(args[0]), "--count 1 --node 0");
	for (int i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "%s ipi %s --iterations 1 2>&1",
			 tool_path(), args[i]);
		if (strstr(args[i], "--iterations"))
			snprintf(cmd, sizeof(cmd), "%s ipi %s 2>&1", tool_path(),
				 args[i]);
		EXPECT_EQ(2, run_cmd(cmd, out, sizeof(out)))
			TH_LOG("%s printed:\n%s", cmd, out);
		EXPECT_NE(NULL, strstr(out, "xptilab: ipi: "))
			TH_LOG("%s printed:\n%s", cmd, out);
	}
}

/* ---- grouping by NUMA distance, as sysfs describes the nodes ---- */

struct sys_topo {
	int nnodes;			/* nodes with online CPUs */
	int node_of[MAX_CPUS];		/* -1: offline */
	int dist[MAX_NODES][MAX_NODES];
};

/* Nodes and distances from sysfs (not libnuma); one node if absent. */
static int sys_topo(struct sys_topo *t, const bool *online)
{
	bool nodes[MAX_CPUS];
	int order[MAX_NODES], nonline = 0;
	char path[96], *s;

	memset(t, 0, sizeof(*t));
	for (int c = 0; c < MAX_CPUS; c++)
		t->node_of[c] = online[c] ? 0 : -1;
	s = slurp(SYSNODE "online");
	if (!s) {	/* no NUMA in this kernel: one node */
		t->nnodes = 1;
		t->dist[0][0] = 10;
		return 0;
	}
	parse_list(s, nodes);
	free(s);
	for (int n = 0; n < MAX_NODES; n++) {
		bool cpus[MAX_CPUS];
		int k;

		if (!nodes[n])
			continue;
		order[nonline++] = n;
		snprintf(path, sizeof(path), SYSNODE "node%d/cpulist", n);
		s = slurp(path);
		if (!s)
			return -1;
		k = parse_list(s, cpus);
		free(s);
		for (int c = 0; c < MAX_CPUS; c++)
			if (cpus[c] && online[c])
				t->node_of[c] = n;
		if (k > 0)
			t->nnodes++;
	}
	/* nodeN/distance: one number per online node, in order */
	for (int i = 0; i < nonline; i++) {
		char *p;

		snprintf(path, sizeof(path), SYSNODE "node%d/distance", order[i]);
		s = slurp(path);
		if (!s)
			return -1;
		p = s;
		for (int j = 0; j < nonline; j++)
			t->dist[order[i]][order[j]] = strtol(p, &p, 10);
		free(s);
	}
	return 0;
}

/* The text right after "key": inside rec, or NULL. */
static const char *field(const char *rec, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(rec, pat);
	if (!p)
		return NULL;
	for (p += strlen(pat); isspace((unsigned char)*p); p++)
		;
	return p;
}

static long num_field(const char *rec, const char *key)
{
	const char *p = field(rec, key);

	return p ? strtol(p, NULL, 10) : LONG_MIN;
}

struct rec {
	char name[32], set[8];
	bool skipped;
	int targets, distance, node, ncpus;
	int cpus[MAX_CPUS];
};

/* The "variants" records of the tool's JSON: a flat object each. */
static int parse_records(char *json, struct rec *recs, int max)
{
	char *p = strstr(json, "\"variants\":");
	int n = 0;

	while (p && n < max && (p = strchr(p, '{'))) {
		char *end = strchr(p, '}');
		struct rec *r = &recs[n];
		const char *v;

		if (!end)
			return -1;
		*end = '\0';
		memset(r, 0, sizeof(*r));
		v = field(p, "name");
		if (!v || sscanf(v, "\"%31[^\"]\"", r->name) != 1)
			return -1;
		v = field(p, "set");
		if (!v || sscanf(v, "\"%7[^\"]\"", r->set) != 1)
			return -1;
		v = field(p, "skipped");
		r->skipped = v && !strncmp(v, "true", 4);
		r->targets = num_field(p, "targets");
		r->distance = num_field(p, "distance");
		r->node = num_field(p, "node");
		v = field(p, "cpus");
		if (!v || *v != '[')
			return -1;
		for (v++; *v && *v != ']'; ) {
			char *e;
			long c = strtol(v, &e, 10);

			if (e == v) {
				v++;
				continue;
			}
			if (r->ncpus < MAX_CPUS)
				r->cpus[r->ncpus++] = c;
			v = e;
		}
		n++;
		p = end + 1;
	}
	return n;
}

/* The tool's default sweep (empty IPIs) parsed; count or -1. */
static int tool_sweep(struct __test_metadata *_metadata, struct rec *recs,
		      int max, char *out, size_t size)
{
	char cmd[256];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s ipi --variant empty --iterations 5 --json",
		 tool_path());
	rc = run_cmd(cmd, out, size);
	EXPECT_EQ(0, rc) TH_LOG("%s printed:\n%s", cmd, out);
	if (rc)
		return -1;
	return parse_records(out, recs, max);
}

static int max_distance(const struct sys_topo *t, int from, const int *cpus,
			int n)
{
	int d = 0;

	for (int i = 0; i < n; i++)
		if (t->dist[t->node_of[from]][t->node_of[cpus[i]]] > d)
			d = t->dist[t->node_of[from]][t->node_of[cpus[i]]];
	return d;
}

TEST_F_TIMEOUT(slow, sweep_matches_sysfs_topology, 120)
{
	static struct rec recs[2 * (MAX_CPUS + MAX_NODES)];
	static char out[1 << 20];
	bool online[MAX_CPUS], targets[MAX_CPUS];
	int from, ntargets, n, near[MAX_CPUS], nnear = 0, last = 0;
	bool count_seen[MAX_CPUS] = { false }, node_seen[MAX_NODES] = { false };
	struct sys_topo t;

	SETUP_CPUS(online, from, targets, ntargets);
	ASSERT_EQ(0, sys_topo(&t, online));
	n = tool_sweep(_metadata, recs, ARRAY_SIZE(recs), out, sizeof(out));
	ASSERT_LT(0, n) TH_LOG("tool output:\n%s", out);

	/* nearest first: distance from the initiator's node, then number */
	for (int c = 0; c < MAX_CPUS; c++)
		if (targets[c])
			near[nnear++] = c;
	for (int i = 1; i < nnear; i++)
		for (int j = i; j > 0; j--) {
			int a = near[j - 1], bb = near[j];

			if (t.dist[t.node_of[from]][t.node_of[a]] <=
			    t.dist[t.node_of[from]][t.node_of[bb]])
				break;
			near[j - 1] = bb;
			near[j] = a;
		}

	for (int i = 0; i < n; i++) {
		const struct rec *r = &recs[i];

		EXPECT_FALSE(r->skipped) TH_LOG("%s skipped", r->name);
		EXPECT_TRUE(!strcmp(r->name, "empty/latency") ||
			    !strcmp(r->name, "empty/handler")) TH_LOG("%s", r->name);
		EXPECT_EQ(r->ncpus, r->targets) TH_LOG("record %d", i);
		EXPECT_EQ(max_distance(&t, from, r->cpus, r->ncpus), r->distance)
			TH_LOG("record %d (%s, %d targets)", i, r->set, r->targets);
		/* grouped: distances never decrease along the report */
		EXPECT_LE(last, r->distance) TH_LOG("record %d out of order", i);
		last = r->distance;
		for (int k = 0; k < r->ncpus; k++) {
			EXPECT_NE(from, r->cpus[k]);
			ASSERT_TRUE(r->cpus[k] >= 0 && r->cpus[k] < MAX_CPUS &&
				    online[r->cpus[k]]);
		}
		if (!strcmp(r->set, "count")) {
			EXPECT_EQ(-1, r->node);
			ASSERT_TRUE(r->targets >= 1 && r->targets <= ntargets);
			count_seen[r->targets] = true;
			/* the r->targets nearest CPUs, in ascending order */
			for (int k = 0; k < r->ncpus; k++) {
				bool in = false;

				for (int m = 0; m < r->targets; m++)
					in |= near[m] == r->cpus[k];
				EXPECT_TRUE(in) TH_LOG("count %d has cpu %d",
						       r->targets, r->cpus[k]);
			}
		} else {
			int want = 0;

			ASSERT_STREQ("node", r->set);
			ASSERT_TRUE(r->node >= 0 && r->node < MAX_NODES);
			node_seen[r->node] = true;
			for (int c = 0; c < MAX_CPUS; c++)
				want += targets[c] && t.node_of[c] == r->node;
			EXPECT_EQ(want, r->ncpus) TH_LOG("node %d", r->node);
			for (int k = 0; k < r->ncpus; k++) {
				EXPECT_EQ(r->node, t.node_of[r->cpus[k]]);
			}
		}
	}
	for (int c = 1; c <= ntargets; c++) {
		EXPECT_TRUE(count_seen[c]) TH_LOG("no run with %d targets", c);
	}
	for (int c = 0; c < MAX_CPUS; c++)
		if (targets[c]) {
			EXPECT_TRUE(node_seen[t.node_of[c]])
				TH_LOG("no run for node %d", t.node_of[c]);
		}
	if (!_metadata->passed)
		TH_LOG("tool output:\n%s", out);
}

TEST_F_TIMEOUT(slow, numa_grouping_two_nodes, 120)
{
	static struct rec recs[2 * (MAX_CPUS + MAX_NODES)];
	static char out[1 << 20];
	bool online[MAX_CPUS], targets[MAX_CPUS];
	int from, ntargets, n, home, remote_runs = 0;
	struct sys_topo t;
	const char *d;

	SETUP_CPUS(online, from, targets, ntargets);
	ASSERT_EQ(0, sys_topo(&t, online));
	if (t.nnodes < 2)
		SKIP(return, "one NUMA node");
	home = t.node_of[from];
	n = tool_sweep(_metadata, recs, ARRAY_SIZE(recs), out, sizeof(out));
	ASSERT_LT(0, n);

	/* the topology object: both distances from the initiator's node */
	d = strstr(out, "\"distances_from_initiator\":");
	ASSERT_NE(NULL, d);
	for (int c = 0; c < MAX_CPUS; c++) {
		char want[16];
		const char *end = strchr(d, ']');

		if (!targets[c])
			continue;
		snprintf(want, sizeof(want), "%d", t.dist[home][t.node_of[c]]);
		ASSERT_NE(NULL, end);
		EXPECT_TRUE(memmem(d, end - d, want, strlen(want)) != NULL)
			TH_LOG("distance %s missing", want);
	}
	/* every other node's run: all its CPUs, at that node's distance */
	for (int i = 0; i < n; i++) {
		const struct rec *r = &recs[i];

		if (strcmp(r->set, "node") || r->node == home)
			continue;
		remote_runs++;
		EXPECT_LT(t.dist[home][home], r->distance);
		EXPECT_EQ(t.dist[home][r->node], r->distance);
		for (int k = 0; k < r->ncpus; k++) {
			EXPECT_EQ(r->node, t.node_of[r->cpus[k]]);
		}
	}
	/* two records (latency, handler) per other node with CPUs */
	EXPECT_EQ(2 * (t.nnodes - 1), remote_runs);
	if (!_metadata->passed)
		TH_LOG("tool output:\n%s", out);
}

TEST_HARNESS_MAIN
