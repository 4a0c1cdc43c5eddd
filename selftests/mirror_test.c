// SPDX-License-Identifier: GPL-2.0
/*
 * The mirror never points at a page table Linux freed. One thread maps a
 * page in an empty top-level slot, touches it (page tables from a new
 * top-level entry down), waits until the shadow roots mirror that entry and
 * unmaps it (Linux clears the entry and frees the tables), round after
 * round; meanwhile another thread keeps sending SYNC IPIs (each copies the
 * task's top-level entries into every shadow root) and a third, pinned to
 * the session CPU, keeps entering and (by a syscall) leaving sessions:
 * each entry copies them too. Unmapping many pages keeps the window between
 * the start of munmap() and the freeing of the tables open long enough for
 * a copy to land in it; the next copy would repair the mirror, so the
 * checks run right after munmap() returns.
 * After every unmap no CPU may still mirror the slot, and the audit must
 * not find a mirrored entry that is not the task's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "session.h"

#define SESSION_CPU	0
#define SYNC_CPU	1
#define ROUNDS_SECONDS	8.0
/* Many pages: unmapping them keeps the race window open a while. */
#define MAP_BYTES	(4UL << 20)

struct mirror_ctx {
	int fd;
	unsigned int vec;
	atomic_int stop;
	atomic_long syncs, sync_errors, entries, refused;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *sync_thread(void *arg)
{
	struct mirror_ctx *c = arg;

	if (pin_to(SYNC_CPU))
		return NULL;
	while (!atomic_load(&c->stop)) {
		if (session_op(c->fd, SYNC_CPU, XPTILAB_SESSION_SYNC,
			       XPTILAB_IPI_SYNC, NULL))
			atomic_fetch_add(&c->sync_errors, 1);
		else
			atomic_fetch_add(&c->syncs, 1);
	}
	return NULL;
}

static void *session_thread(void *arg)
{
	struct mirror_ctx *c = arg;

	if (pin_to(SESSION_CPU))
		return NULL;
	while (!atomic_load(&c->stop)) {
		if (session_enter(c->vec) < 0)
			atomic_fetch_add(&c->refused, 1);
		else
			atomic_fetch_add(&c->entries, 1);
		/* A syscall ends the session: the next entry copies again. */
		usleep(500);
	}
	return NULL;
}

/* Does cpu's shadow root mirror the top-level slot holding va? */
static int mirrors(int cpu, unsigned long long va, bool *yes)
{
	static char buf[65536];
	char path[96], *line, *save = NULL;

	snprintf(path, sizeof(path), XDBG "cpu%d/shadow", cpu);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	*yes = false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long lo, hi;

		if (strstr(line, "mirrored") &&
		    sscanf(line, "0x%llx-0x%llx", &lo, &hi) == 2 &&
		    va >= lo && va < hi)
			*yes = true;
	}
	return 0;
}

static long read_drops(void)
{
	char buf[64];

	if (read_text(XDBG "mirror_drops", buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

TEST(unmapped_top_level_entries_leave_the_mirror)
{
	struct mirror_ctx c = { .fd = -1 };
	bool online[MAX_TEST_CPUS], yes;
	struct xptilab_info info;
	pthread_t syncer, sessioner;
	unsigned long long va;
	long drops0, drops1;
	int rounds = 0, seen_mirrored = 0, bad = 0;
	static char audit[16384];
	double end;

	REQUIRE_MODULE();
	if (online_cpus(online) < 2 || !online[SESSION_CPU] || !online[SYNC_CPU])
		SKIP(return, "needs CPUs 0 and 1 online");
	OPEN_DEVICE(c.fd);
	ASSERT_EQ(0, get_info(c.fd, &info));
	/* An empty slot far from everything: 50 TiB (4-level), 2^52 (5-level). */
	va = info.paging_levels == 5 ? 1ULL << 52 : 100ULL << 39;
	ASSERT_EQ(0, pin_to(SESSION_CPU));
	ASSERT_EQ(0, session_op(c.fd, SESSION_CPU, XPTILAB_SESSION_START, 0,
				&c.vec)) TH_LOG("START: %s", strerror(errno));
	ASSERT_EQ(0, pin_to(SYNC_CPU));
	drops0 = read_drops();
	ASSERT_LE(0, drops0) TH_LOG("no " XDBG "mirror_drops");
	ASSERT_EQ(0, pthread_create(&syncer, NULL, sync_thread, &c));
	ASSERT_EQ(0, pthread_create(&sessioner, NULL, session_thread, &c));

	end = mono_s() + ROUNDS_SECONDS;
	while (mono_s() < end && bad < 5) {
		volatile char *p = mmap((void *)(uintptr_t)va, MAP_BYTES,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS |
					MAP_FIXED_NOREPLACE, -1, 0);
		double wait_until;
		bool mirrored = false;

		if (p != (void *)(uintptr_t)va) {
			TH_LOG("mmap at %#llx: %s", va, strerror(errno));
			bad++;
			break;
		}
		for (unsigned long off = 0; off < MAP_BYTES; off += 4096)
			p[off] = 1;
		/* Let a copier take the new entry (usually at once). */
		wait_until = mono_s() + 0.05;
		while (!mirrored && mono_s() < wait_until)
			if (mirrors(SESSION_CPU, va, &mirrored) ||
			    mirrors(SYNC_CPU, va, &mirrored))
				break;
		seen_mirrored += mirrored;
		ASSERT_EQ(0, munmap((void *)p, MAP_BYTES));
		rounds++;
		for (int cpu = 0; cpu < MAX_TEST_CPUS; cpu++) {
			if (!online[cpu] || mirrors(cpu, va, &yes))
				continue;
			if (yes) {
				TH_LOG("round %d: cpu%d still mirrors %#llx after munmap",
				       rounds, cpu, va);
				bad++;
			}
		}
		if (read_text(XDBG "audit", audit, sizeof(audit)) < 0 ||
		    strstr(audit, "is not the task's")) {
			TH_LOG("round %d: audit:\n%s", rounds, audit);
			bad++;
		}
	}
	atomic_store(&c.stop, 1);
	pthread_join(syncer, NULL);
	pthread_join(sessioner, NULL);
	drops1 = read_drops();
	TH_LOG("%d rounds (%d mirrored before munmap), %ld syncs, %ld session entries, %ld mirrored entries dropped",
	       rounds, seen_mirrored, atomic_load(&c.syncs),
	       atomic_load(&c.entries), drops1 - drops0);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, atomic_load(&c.sync_errors));
	EXPECT_LT(10, rounds);
	/* The race was there to lose: entries were mirrored, then dropped. */
	EXPECT_LT(0, seen_mirrored);
	EXPECT_LE(seen_mirrored, drops1 - drops0);
	EXPECT_LT(0, atomic_load(&c.entries));
	close(c.fd);
}

TEST_HARNESS_MAIN
