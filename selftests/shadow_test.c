// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow roots and private IDTs, as the module's debugfs files show them:
 * the audit is clean; each online CPU's shadow root holds exactly the
 * expected set (the shared cpu_entry_area slot, the entry-text clones and
 * one data-page clone, nothing of the user half, never a user or a
 * writable+executable kernel page); clones follow clone_global; a CPU's
 * shadow root goes away when it goes offline and comes back with it; and
 * every CPU gets its original IDTR back at unload. Every test leaves the
 * module loaded with default parameters and every CPU online.
 */
#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"

/* The cpu_entry_area top-level slot: 512 GiB from here. */
#define CEA_BASE	0xfffffe0000000000ULL
#define CEA_SIZE	(512ULL << 30)
/* Clones: 1..16 pages of entry text (XPTILAB_TEXT_MAX) and one data page. */
#define MAX_TEXT_PAGES	16

struct idt_entry {
	bool seen;
	uint64_t saved_base;
	unsigned int saved_limit;
	uint64_t private_idt;
	int installed;
};

/* Parse the idt file into e[cpu]; returns the number of CPU lines or -1. */
static int read_idt(struct idt_entry e[MAX_TEST_CPUS])
{
	char buf[65536], *line, *save = NULL;
	int n = 0;

	memset(e, 0, MAX_TEST_CPUS * sizeof(*e));
	if (read_text(XDBG "idt", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct idt_entry t = { .seen = true };
		unsigned int cpu;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "cpu%u 0x%" SCNx64 " 0x%x 0x%" SCNx64 " %d", &cpu,
			   &t.saved_base, &t.saved_limit, &t.private_idt,
			   &t.installed) != 5)
			return -1;
		if (cpu < MAX_TEST_CPUS)
			e[cpu] = t;
		n++;
	}
	return n;
}

static bool clone_global_param(void)
{
	char buf[4096];

	return read_text(XDBG "info", buf, sizeof(buf)) > 0 &&
	       strstr(buf, "\nclone_global: 1\n");
}

static bool in_shared(const struct shadow_dump *d, uint64_t va, bool want_rw)
{
	for (int i = 0; i < d->n; i++)
		if (!strcmp(d->r[i].kind, "shared") && va >= d->r[i].start &&
		    va < d->r[i].end)
			return d->r[i].rw == want_rw && d->r[i].nx;
	return false;
}

/*
 * Check CPU cpu's dump: only "shared" and "clone" kinds; shared ranges
 * inside the cpu_entry_area slot; clones: MAX_TEXT_PAGES at most of "ro x"
 * text and exactly one "RW NX" data page, all with G == want_global;
 * nothing user-accessible, nothing writable and executable; this CPU's
 * private IDT and its saved (Linux's) IDT inside the shared slot, read-only.
 */
static void check_dump(struct __test_metadata *_metadata, int cpu,
		       bool want_global, const struct idt_entry *idt)
{
	struct shadow_dump *d = malloc(sizeof(*d));
	unsigned long text_k = 0, data_k = 0, shared = 0;
	uint64_t prev_end = 0;

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, read_shadow(cpu, d)) TH_LOG("cpu%d: bad dump line: %s", cpu, d->bad);
	ASSERT_TRUE(d->present) TH_LOG("cpu%d: no shadow root", cpu);
	ASSERT_TRUE(d->header_seen) TH_LOG("cpu%d: no header", cpu);
	EXPECT_EQ(want_global, d->header_global)
		TH_LOG("cpu%d: header says clones %sglobal", cpu,
		       d->header_global ? "" : "non-");
	for (int i = 0; i < d->n; i++) {
		const struct shadow_range *r = &d->r[i];

		EXPECT_TRUE(r->start < r->end && !(r->start & 0xfff) &&
			    !(r->end & 0xfff))
			TH_LOG("cpu%d: range %#" PRIx64 "-%#" PRIx64, cpu, r->start, r->end);
		EXPECT_EQ((r->end - r->start) >> 10, r->size_k)
			TH_LOG("cpu%d: %#" PRIx64 ": size", cpu, r->start);
		EXPECT_LE(prev_end, r->start)
			TH_LOG("cpu%d: %#" PRIx64 ": ranges overlap or unsorted", cpu, r->start);
		prev_end = r->end;
		EXPECT_FALSE(r->user)
			TH_LOG("cpu%d: %#" PRIx64 ": user-accessible %s", cpu, r->start, r->kind);
		EXPECT_FALSE(r->rw && !r->nx)
			TH_LOG("cpu%d: %#" PRIx64 ": writable and executable", cpu, r->start);
		if (!strcmp(r->kind, "shared")) {
			shared++;
			EXPECT_TRUE(r->start >= CEA_BASE &&
				    r->end - CEA_BASE <= CEA_SIZE)
				TH_LOG("cpu%d: shared %#" PRIx64 "-%#" PRIx64 " outside the cpu_entry_area slot",
				       cpu, r->start, r->end);
		} else if (!strcmp(r->kind, "clone")) {
			EXPECT_EQ(want_global, r->global)
				TH_LOG("cpu%d: clone %#" PRIx64 " is %s", cpu,
				       r->start, r->global ? "G" : "ng");
			EXPECT_FALSE(r->start >= CEA_BASE &&
				     r->start - CEA_BASE < CEA_SIZE)
				TH_LOG("cpu%d: clone %#" PRIx64 " inside the shared slot", cpu, r->start);
			if (!r->rw && !r->nx) {
				text_k += r->size_k;
			} else if (r->rw && r->nx) {
				data_k += r->size_k;
			} else {
				EXPECT_TRUE(false)
					TH_LOG("cpu%d: clone %#" PRIx64 " is neither ro x nor RW NX",
					       cpu, r->start);
			}
		} else {
			EXPECT_TRUE(false)
				TH_LOG("cpu%d: %#" PRIx64 ": unexpected kind '%s'",
				       cpu, r->start, r->kind);
		}
	}
	EXPECT_LT(0u, shared) TH_LOG("cpu%d: no shared range", cpu);
	EXPECT_EQ(4u, data_k) TH_LOG("cpu%d: data clones total %luK", cpu, data_k);
	EXPECT_TRUE(text_k >= 4 && text_k <= 4 * MAX_TEXT_PAGES)
		TH_LOG("cpu%d: text clones total %luK", cpu, text_k);
	if (idt) {
		EXPECT_TRUE(in_shared(d, idt->private_idt, false))
			TH_LOG("cpu%d: private IDT %#" PRIx64 " not mapped ro NX in the shared slot",
			       cpu, idt->private_idt);
		EXPECT_TRUE(in_shared(d, idt->saved_base, false))
			TH_LOG("cpu%d: Linux's IDT %#" PRIx64 " not mapped ro NX in the shared slot",
			       cpu, idt->saved_base);
	}
	free(d);
}

static void check_all(struct __test_metadata *_metadata, bool want_global)
{
	struct idt_entry idt[MAX_TEST_CPUS];
	bool online[MAX_TEST_CPUS];
	char buf[4096];
	int n = online_cpus(online);

	ASSERT_LT(0, n);
	ASSERT_LT(0, read_idt(idt));
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
	for (int cpu = 0; cpu < MAX_TEST_CPUS; cpu++)
		if (online[cpu])
			check_dump(_metadata, cpu, want_global,
				   idt[cpu].seen ? &idt[cpu] : NULL);
}

FIXTURE(shadow) {
	bool was_loaded;
};

FIXTURE_SETUP(shadow)
{
	self->was_loaded = module_loaded();
}

FIXTURE_TEARDOWN(shadow)
{
	/* Leave CPU 1 online and the module loaded with its defaults. */
	if (!access(SYSCPU "cpu1/online", W_OK))
		write_text(SYSCPU "cpu1/online", "1");
	if (self->was_loaded && module_loaded() && clone_global_param())
		module_unload();
	if (self->was_loaded && !module_loaded()) {
		EXPECT_EQ(0, module_load("")) TH_LOG("reload: %s", strerror(errno));
	}
}

TEST_F(shadow, audit_is_ok)
{
	char buf[16384];

	REQUIRE_MODULE();
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
}

/*
 * Under PTI every process's user tables map the xptilab area, and Meltdown
 * reads it: the scan of every page it maps finds no directmap or module
 * address and no physical address of a page of xptilab's. It must have
 * read the text alias, the global page and every CPU's public data page
 * and IDT.
 */
/* The debugfs info says the kernel runs with PTI. */
static bool pti_on(void)
{
	char buf[4096];

	return read_text(XDBG "info", buf, sizeof(buf)) > 0 &&
	       strstr(buf, "\npti: 1\n");
}

TEST_F(shadow, user_visible_pages_hold_no_kernel_address)
{
	bool online[MAX_TEST_CPUS];
	unsigned long long words = 0;
	unsigned int pages = 0, found = 1;
	char buf[256], audit[16384];
	int possible = 0;

	REQUIRE_MODULE();
	ASSERT_LT(0, read_text(XDBG "exposure", buf, sizeof(buf)))
		TH_LOG("no " XDBG "exposure: %s", strerror(errno));
	ASSERT_EQ(3, sscanf(buf, "pages %u words %llu kernel_addresses %u",
			    &pages, &words, &found)) TH_LOG("%s", buf);
	ASSERT_LT(0, online_cpus(online));
	for (int c = 0; c < MAX_TEST_CPUS; c++)
		possible += online[c];
	TH_LOG("PTI %s: %u pages, %llu words scanned, %u kernel addresses",
	       pti_on() ? "on" : "off", pages, words, found);
	EXPECT_LE((unsigned int)(3 + 2 * possible), pages);
	EXPECT_EQ(pages * 512ULL, words);
	EXPECT_EQ(0u, found);
	EXPECT_TRUE(audit_ok(audit, sizeof(audit))) TH_LOG("audit: %s", audit);
}

TEST_F(shadow, dumps_hold_the_expected_set)
{
	REQUIRE_MODULE();
	check_all(_metadata, clone_global_param());
}

TEST_F_TIMEOUT(shadow, clones_follow_clone_global, 60)
{
	REQUIRE_RELOADABLE();
	ASSERT_EQ(0, module_unload()) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, module_load("clone_global=1"))
		TH_LOG("finit_module: %s", strerror(errno));
	ASSERT_TRUE(clone_global_param());
	check_all(_metadata, true);
	ASSERT_EQ(0, module_unload()) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, module_load("clone_global=0"))
		TH_LOG("finit_module: %s", strerror(errno));
	ASSERT_FALSE(clone_global_param());
	check_all(_metadata, false);
}

TEST_F_TIMEOUT(shadow, cpu_offline_online_rebuilds_root, 60)
{
	struct idt_entry before[MAX_TEST_CPUS], idt[MAX_TEST_CPUS];
	bool online[MAX_TEST_CPUS];
	struct shadow_dump *d;
	char buf[16384];

	REQUIRE_MODULE();
	if (online_cpus(online) < 2 || !online[1])
		SKIP(return, "needs CPU 1 online");
	if (access(SYSCPU "cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be offlined: %s", strerror(errno));
	d = malloc(sizeof(*d));
	ASSERT_NE(NULL, d);
	ASSERT_LT(0, read_idt(before));

	ASSERT_EQ(0, write_text(SYSCPU "cpu1/online", "0"))
		TH_LOG("offline cpu1: %s", strerror(errno));
	ASSERT_EQ(0, read_shadow(1, d)) TH_LOG("%s", d->bad);
	EXPECT_FALSE(d->present) TH_LOG("cpu1 offline still has a shadow root");
	EXPECT_TRUE(audit_ok(buf, sizeof(buf))) TH_LOG("audit: %s", buf);
	ASSERT_LT(0, read_idt(idt));
	EXPECT_EQ(0, idt[1].installed) TH_LOG("offline cpu1: private IDT installed");

	ASSERT_EQ(0, write_text(SYSCPU "cpu1/online", "1"))
		TH_LOG("online cpu1: %s", strerror(errno));
	ASSERT_EQ(0, read_shadow(1, d)) TH_LOG("%s", d->bad);
	EXPECT_TRUE(d->present) TH_LOG("cpu1 back online has no shadow root");
	ASSERT_LT(0, read_idt(idt));
	EXPECT_EQ(1, idt[1].installed);
	EXPECT_EQ(before[1].saved_base, idt[1].saved_base);
	EXPECT_EQ(before[1].saved_limit, idt[1].saved_limit);
	check_all(_metadata, clone_global_param());
	free(d);
}

TEST_F_TIMEOUT(shadow, idtr_restored_at_unload, 60)
{
	struct idt_entry first[MAX_TEST_CPUS], again[MAX_TEST_CPUS];
	bool online[MAX_TEST_CPUS];

	REQUIRE_RELOADABLE();
	ASSERT_LT(0, online_cpus(online));
	ASSERT_LT(0, read_idt(first));
	for (int cpu = 0; cpu < MAX_TEST_CPUS; cpu++) {
		if (!online[cpu])
			continue;
		ASSERT_TRUE(first[cpu].seen) TH_LOG("cpu%d missing in idt", cpu);
		EXPECT_EQ(1, first[cpu].installed) TH_LOG("cpu%d", cpu);
		EXPECT_NE(0u, first[cpu].saved_base) TH_LOG("cpu%d", cpu);
		EXPECT_EQ(0xfffu, first[cpu].saved_limit) TH_LOG("cpu%d", cpu);
		EXPECT_NE(first[cpu].saved_base, first[cpu].private_idt)
			TH_LOG("cpu%d saved its own private IDT", cpu);
	}
	ASSERT_EQ(0, module_unload()) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, module_load("")) TH_LOG("finit_module: %s", strerror(errno));
	ASSERT_LT(0, read_idt(again));
	for (int cpu = 0; cpu < MAX_TEST_CPUS; cpu++) {
		if (!online[cpu])
			continue;
		EXPECT_EQ(1, again[cpu].installed) TH_LOG("cpu%d", cpu);
		EXPECT_EQ(first[cpu].saved_base, again[cpu].saved_base)
			TH_LOG("cpu%d: IDTR base %#" PRIx64 " before, %#" PRIx64 " after unload",
			       cpu, first[cpu].saved_base, again[cpu].saved_base);
		EXPECT_EQ(first[cpu].saved_limit, again[cpu].saved_limit)
			TH_LOG("cpu%d: IDTR limit", cpu);
	}
}

TEST_HARNESS_MAIN
