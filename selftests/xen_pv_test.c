// SPDX-License-Identifier: GPL-2.0
/*
 * In a Xen PV guest (scripts/vm-run --xen), the module refuses to load:
 * insmod fails, the kernel log says why in one line, nothing of the module
 * stays behind (no /proc/modules entry, no device), and a second attempt
 * refuses the same way. vm-run fails the run on any splat in the log.
 * Everywhere else this SKIPs. The tool still works there without it:
 * `xptilab info --json` says xen-pv and carries Xen's own XPTI line.
 */
#include <stdlib.h>
#include <sys/klog.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define REFUSAL		MODULE_NAME ": refusing to load: Xen PV guest"
#define KLOG_READ_ALL	3
#define KLOG_SIZE	(1 << 20)

static bool xen_pv(void)
{
	char type[16] = "", guest[16] = "";
	FILE *f = fopen("/sys/hypervisor/type", "re");

	if (f) {
		if (!fgets(type, sizeof(type), f))
			type[0] = '\0';
		fclose(f);
	}
	f = fopen("/sys/hypervisor/guest_type", "re");
	if (f) {
		if (!fgets(guest, sizeof(guest), f))
			guest[0] = '\0';
		fclose(f);
	}
	return !strncmp(type, "xen", 3) && !strncmp(guest, "PV", 2);
}

#define REQUIRE_XEN_PV() do { \
	if (geteuid() != 0) \
		SKIP(return, "needs root"); \
	if (!xen_pv()) \
		SKIP(return, "not a Xen PV guest (scripts/vm-run --xen)"); \
	if (!getenv("XPTILAB_KO") || access(getenv("XPTILAB_KO"), R_OK)) \
		SKIP(return, "XPTILAB_KO is not set or not readable"); \
} while (0)

/* How many times the kernel log holds needle. */
static int klog_count(const char *needle)
{
	char *buf = malloc(KLOG_SIZE);
	int len, n = 0;

	if (!buf)
		return -1;
	len = klogctl(KLOG_READ_ALL, buf, KLOG_SIZE - 1);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (char *p = strstr(buf, needle); p; p = strstr(p + 1, needle))
		n++;
	free(buf);
	return n;
}

static int try_insmod(char *out, size_t size)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "insmod %s 2>&1", getenv("XPTILAB_KO"));
	return run_cmd(cmd, out, size);
}

TEST(insmod_refuses_cleanly)
{
	char out[1024];
	int before, rc;

	REQUIRE_XEN_PV();
	ASSERT_FALSE(module_loaded()) TH_LOG("the module is already loaded in a Xen PV guest");
	before = klog_count(REFUSAL);
	ASSERT_LE(0, before) TH_LOG("klogctl: %s", strerror(errno));
	rc = try_insmod(out, sizeof(out));
	EXPECT_NE(0, rc) TH_LOG("insmod succeeded in a Xen PV guest: %s", out);
	EXPECT_FALSE(module_loaded());
	EXPECT_NE(0, access(XPTILAB_DEVICE, F_OK)) TH_LOG("%s exists", XPTILAB_DEVICE);
	/* busybox insmod retries init_module after finit_module: 1 or 2 */
	EXPECT_LT(before, klog_count(REFUSAL))
		TH_LOG("want a new \"%s\" in the kernel log", REFUSAL);
	TH_LOG("insmod: exit %d: %s", rc, out);
}

TEST(refuses_again)
{
	char out[1024];
	int before;

	REQUIRE_XEN_PV();
	before = klog_count(REFUSAL);
	EXPECT_NE(0, try_insmod(out, sizeof(out)));
	EXPECT_NE(0, try_insmod(out, sizeof(out)));
	EXPECT_FALSE(module_loaded());
	EXPECT_LE(before + 2, klog_count(REFUSAL));
}

TEST(tool_reports_xen_pv_without_module)
{
	char out[8192], cmd[128];

	REQUIRE_XEN_PV();
	snprintf(cmd, sizeof(cmd), "%s info --json 2>&1", tool_path());
	ASSERT_EQ(0, run_cmd(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"hypervisor_type\": \"xen-pv\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"module\": false")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "XPTI (64-bit PV only)")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
