// SPDX-License-Identifier: GPL-2.0
/*
 * The device node and who may use it: a 0600 root character device, usable
 * only with CAP_SYS_ADMIN, checked at open() and again on every ioctl().
 */
#include <grp.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define NOBODY 65534

/* Set or clear CAP_SYS_ADMIN in the effective set (it stays permitted). */
static int set_sys_admin(bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(CAP_SYS_ADMIN);

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (on)
		data[i].effective |= CAP_TO_MASK(CAP_SYS_ADMIN);
	else
		data[i].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

static int become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return 0;
}

TEST(node_is_root_0600_char_device)
{
	char path[64], line[256];
	bool named = false;
	struct stat st;
	FILE *f;

	REQUIRE_MODULE();
	ASSERT_EQ(0, stat(XPTILAB_DEVICE, &st))
		TH_LOG("stat %s: %s", XPTILAB_DEVICE, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600u, st.st_mode & 07777)
		TH_LOG("mode is %04o", st.st_mode & 07777);
	EXPECT_EQ(0u, st.st_uid);
	EXPECT_EQ(0u, st.st_gid);

	/* the node's numbers are those of the device named xptilab */
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent",
		 major(st.st_rdev), minor(st.st_rdev));
	f = fopen(path, "re");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		named |= !strcmp(line, "DEVNAME=" MODULE_NAME "\n");
	fclose(f);
	EXPECT_TRUE(named) TH_LOG("%s lacks DEVNAME=" MODULE_NAME, path);
}

TEST(admin_can_open_and_query)
{
	struct xptilab_info info;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info)) TH_LOG("INFO: %s", strerror(errno));
	EXPECT_EQ((__u32)XPTILAB_ABI_VERSION, info.abi_version);
	close(fd);
}

static int open_without_sys_admin(void *arg)
{
	if (set_sys_admin(false))
		return CHILD_SETUP_FAILED;
	return errno_of(open(XPTILAB_DEVICE, O_RDWR));
}

TEST(open_needs_cap_sys_admin)
{
	REQUIRE_MODULE();
	EXPECT_EQ(EPERM, run_in_child(open_without_sys_admin, NULL));
}

/*
 * Returns the errno of INFO without CAP_SYS_ADMIN, or 100 + the errno of
 * INFO once it is back (which must succeed).
 */
static int ioctl_without_sys_admin(void *arg)
{
	struct xptilab_info info;
	int fd = *(int *)arg, err;

	if (set_sys_admin(false))
		return CHILD_SETUP_FAILED;
	err = errno_of(get_info(fd, &info));
	if (set_sys_admin(true))
		return CHILD_SETUP_FAILED;
	if (get_info(fd, &info))
		return 100 + errno;
	return err;
}

TEST(every_ioctl_rechecks_cap_sys_admin)
{
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	EXPECT_EQ(EPERM, run_in_child(ioctl_without_sys_admin, &fd));
	close(fd);
}

static int open_as_nobody(void *arg)
{
	if (become_nobody())
		return CHILD_SETUP_FAILED;
	return errno_of(open(XPTILAB_DEVICE, O_RDWR));
}

TEST(nobody_cannot_open)
{
	int err;

	REQUIRE_MODULE();
	err = run_in_child(open_as_nobody, NULL);
	EXPECT_TRUE(err == EACCES || err == EPERM)
		TH_LOG("open as uid %d: child returned %d", NOBODY, err);
}

static int ioctl_as_nobody(void *arg)
{
	struct xptilab_info info;

	if (become_nobody())
		return CHILD_SETUP_FAILED;
	return errno_of(get_info(*(int *)arg, &info));
}

TEST(nobody_cannot_use_an_inherited_fd)
{
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	EXPECT_EQ(EPERM, run_in_child(ioctl_as_nobody, &fd));
	close(fd);
}

TEST_HARNESS_MAIN
