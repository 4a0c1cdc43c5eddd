// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading and reloading the module: repeated cycles, refused parameters,
 * an open device pinning the module; none may leave a kernel complaint in
 * the log.  Every test leaves the module loaded with default parameters.
 */
#include <ctype.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define CYCLES 20

/* Kernel log lines that mean something went wrong, matched at word starts. */
static const char *const complaints[] = {
	"BUG:", "kernel BUG", "WARNING:", "Oops", "general protection fault",
	"double fault", "lockup", "LOCKUP", "stall",
};

static int load(const char *params)
{
	const char *ko = getenv("XPTILAB_KO");
	int fd, ret;

	fd = ko ? open(ko, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

static int unload(void)
{
	return syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK);
}

static const char *complaint_in(const char *msg)
{
	for (size_t i = 0; i < ARRAY_SIZE(complaints); i++)
		for (const char *p = msg; (p = strstr(p, complaints[i])); p++)
			if (p == msg || !isalnum((unsigned char)p[-1]))
				return complaints[i];
	return NULL;
}

FIXTURE(lifecycle) {
	int kmsg;		/* positioned at the end of the log at set-up */
	bool was_loaded;	/* reload it at teardown if a test left it out */
};

FIXTURE_SETUP(lifecycle)
{
	self->was_loaded = module_loaded();
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (self->kmsg >= 0)
		lseek(self->kmsg, 0, SEEK_END);
}

FIXTURE_TEARDOWN(lifecycle)
{
	static char rec[8192];
	ssize_t len;

	if (self->was_loaded && !module_loaded())
		EXPECT_EQ(0, load("")) TH_LOG("reload: %s", strerror(errno));
	if (self->kmsg < 0)
		return;
	/* one record per read; EPIPE when records were overwritten */
	while ((len = read(self->kmsg, rec, sizeof(rec) - 1)) > 0 ||
	       (len < 0 && errno == EPIPE)) {
		const char *msg, *bad;

		if (len < 0)
			continue;
		rec[len] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		bad = complaint_in(msg);
		EXPECT_EQ(NULL, bad) TH_LOG("kernel log: %s", msg);
	}
	close(self->kmsg);
}

TEST_F_TIMEOUT(lifecycle, unload_and_reload, 240)
{
	struct xptilab_info info;
	int fd;

	REQUIRE_RELOADABLE();
	for (int i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, unload())
			TH_LOG("cycle %d: delete_module: %s", i, strerror(errno));
		ASSERT_FALSE(module_loaded());
		ASSERT_NE(0, access(XPTILAB_DEVICE, F_OK))
			TH_LOG("cycle %d: %s outlives the module", i, XPTILAB_DEVICE);
		ASSERT_EQ(0, load(""))
			TH_LOG("cycle %d: finit_module: %s", i, strerror(errno));
		ASSERT_TRUE(module_loaded());
		OPEN_DEVICE(fd);
		ASSERT_EQ(0, get_info(fd, &info))
			TH_LOG("cycle %d: INFO: %s", i, strerror(errno));
		close(fd);
	}
}

TEST_F(lifecycle, loading_twice_is_eexist)
{
	REQUIRE_RELOADABLE();
	EXPECT_EQ(-1, load(""));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_TRUE(module_loaded());
}

TEST_F(lifecycle, open_device_pins_module)
{
	int fd;

	REQUIRE_RELOADABLE();
	OPEN_DEVICE(fd);
	EXPECT_EQ(-1, unload());
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_TRUE(module_loaded());
	close(fd);
}

TEST_F(lifecycle, clone_global_out_of_range_is_refused)
{
	REQUIRE_RELOADABLE();
	ASSERT_EQ(0, unload()) TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_EQ(-1, load("clone_global=7"));
	EXPECT_EQ(EINVAL, errno) TH_LOG("finit_module: %s", strerror(errno));
	EXPECT_FALSE(module_loaded());
	EXPECT_NE(0, access(XPTILAB_DEVICE, F_OK));
	/* the teardown loads it again */
}

TEST_F(lifecycle, clone_global_is_reported)
{
	struct xptilab_info info;
	int fd;

	REQUIRE_RELOADABLE();
	ASSERT_EQ(0, unload()) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, load("clone_global=1")) TH_LOG("finit_module: %s",
						     strerror(errno));
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	EXPECT_EQ(1u, info.clone_global);
	close(fd);
	ASSERT_EQ(0, unload()) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, load("")) TH_LOG("finit_module: %s", strerror(errno));
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	EXPECT_EQ(0u, info.clone_global);
	close(fd);
}

/*
 * Run the tool with the module unloaded: an experiment that needs it says
 * so clearly and fails; info still answers, from /proc, saying "module":
 * false (a Xen PV guest has no module).
 */
TEST_F(lifecycle, tool_says_module_not_loaded)
{
	const char *want = "xptilab: " XPTILAB_DEVICE
			   ": No such file or directory (is the module loaded?)";
	char out[4096] = "";
	size_t len;
	FILE *p;
	int status;

	REQUIRE_RELOADABLE();
	ASSERT_EQ(0, unload()) TH_LOG("delete_module: %s", strerror(errno));
	p = popen("xptilab cr3 --iterations 10 2>&1", "re");
	ASSERT_NE(NULL, p);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	status = pclose(p);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
		TH_LOG("exit status %#x", status);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("output: %s", out);
	p = popen("xptilab info --json 2>&1", "re");
	ASSERT_NE(NULL, p);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	status = pclose(p);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("info without the module: exit status %#x: %s", status, out);
	EXPECT_NE(NULL, strstr(out, "\"module\": false")) TH_LOG("output: %s", out);
	/* the teardown loads it again */
}

TEST_HARNESS_MAIN
