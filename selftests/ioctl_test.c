// SPDX-License-Identifier: GPL-2.0
/*
 * XPTILAB_IOC_INFO argument checking: unknown commands, the size and
 * reserved-field convention of include/uapi/xptilab.h, and bad pointers.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <termios.h>

#include "kselftest_harness.h"
#include "helpers.h"

/* An xptilab_info-sized structure of another layout. */
struct other { __u64 a, b; };

TEST(unknown_commands_are_enotty)
{
	const unsigned long cmds[] = {
		_IO(XPTILAB_IOC_MAGIC, 0x7f),
		_IOWR(XPTILAB_IOC_MAGIC, 0x7e, struct xptilab_info),
		/* INFO's number with another magic, direction or size */
		_IOWR('X', 0x00, struct xptilab_info),
		_IOR(XPTILAB_IOC_MAGIC, 0x00, struct xptilab_info),
		_IOW(XPTILAB_IOC_MAGIC, 0x00, struct xptilab_info),
		_IOWR(XPTILAB_IOC_MAGIC, 0x00, struct other),
		TCGETS,
	};
	struct xptilab_info info;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);	/* a valid argument */
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], &info))
			TH_LOG("cmd %#lx succeeded", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx: %s", cmds[i],
						strerror(errno));
	}
	close(fd);
}

TEST(wrong_size_is_einval)
{
	const __u32 sizes[] = {
		0, sizeof(struct xptilab_info) - 1, sizeof(struct xptilab_info) + 8,
		sizeof(__u32), UINT32_MAX,
	};
	/* room for the largest size that may be read */
	struct { struct xptilab_info info; char pad[8]; } arg;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(&arg, 0, sizeof(arg));
		arg.info.size = sizes[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_INFO, &arg))
			TH_LOG("size %u accepted", sizes[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("size %u: %s", sizes[i],
						strerror(errno));
	}
	close(fd);
}

TEST(nonzero_reserved_is_einval)
{
	struct xptilab_info info;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	for (size_t i = 0; i < ARRAY_SIZE(info.reserved); i++) {
		const __u64 values[] = { 1, 1ULL << 63 };

		for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
			memset(&info, 0, sizeof(info));
			info.size = sizeof(info);
			info.reserved[i] = values[v];
			errno = 0;
			EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_INFO, &info))
				TH_LOG("reserved[%zu] = %#llx accepted", i,
				       (unsigned long long)values[v]);
			EXPECT_EQ(EINVAL, errno) TH_LOG("reserved[%zu]: %s", i,
							strerror(errno));
		}
	}
	close(fd);
}

static void expect_efault(struct __test_metadata *_metadata, int fd,
			  void *arg, const char *what)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, XPTILAB_IOC_INFO, arg)) TH_LOG("%s accepted", what);
	EXPECT_EQ(EFAULT, errno) TH_LOG("%s: %s", what, strerror(errno));
}

TEST(bad_pointers_are_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct xptilab_info *info;
	char *map;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);

	expect_efault(_metadata, fd, NULL, "NULL");
	expect_efault(_metadata, fd, (void *)0xffff888000000000UL,
		      "kernel address");

	map = mmap(NULL, 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	expect_efault(_metadata, fd, map, "PROT_NONE page");

	/* the structure ends on an inaccessible page: valid size, short read */
	ASSERT_EQ(0, mprotect(map, page, PROT_READ | PROT_WRITE));
	info = (void *)(map + page - offsetof(struct xptilab_info, features));
	memset(info, 0, offsetof(struct xptilab_info, features));
	info->size = sizeof(*info);
	expect_efault(_metadata, fd, info, "structure straddling PROT_NONE");

	/* readable but not writable: the result cannot be copied out */
	info = (void *)map;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	ASSERT_EQ(0, mprotect(map, page, PROT_READ));
	expect_efault(_metadata, fd, info, "read-only page");

	munmap(map, 2 * page);
	close(fd);
}

static bool has_nul(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

TEST(info_reports_sane_facts)
{
	struct xptilab_info info, again;
	struct utsname uts;
	int fd;

	REQUIRE_MODULE();
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, uname(&uts));

	/* output fields full of junk beforehand must all be overwritten */
	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	memset(info.reserved, 0, sizeof(info.reserved));
	ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_INFO, &info))
		TH_LOG("INFO: %s", strerror(errno));

	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ((__u32)XPTILAB_ABI_VERSION, info.abi_version);
	ASSERT_TRUE(has_nul(info.kernel_release, sizeof(info.kernel_release)));
	EXPECT_STREQ(uts.release, info.kernel_release);
	EXPECT_TRUE(has_nul(info.cpu_model, sizeof(info.cpu_model)));
	EXPECT_LE(1u, info.cpus_online);
	EXPECT_LE(info.cpus_online, info.cpus_possible);
	EXPECT_TRUE(info.paging_levels == 4 || info.paging_levels == 5)
		TH_LOG("paging_levels %u", info.paging_levels);
	EXPECT_LE(info.clone_global, 1u);
	EXPECT_EQ(0u, info.features & ~(2 * XPTILAB_FEAT_PCID_KNOWN - 1))
		TH_LOG("unknown feature bits %#llx",
		       (unsigned long long)info.features);
	for (size_t i = 0; i < ARRAY_SIZE(info.reserved); i++)
		EXPECT_EQ(0u, info.reserved[i]);

	/* the facts do not change from one call to the next */
	ASSERT_EQ(0, get_info(fd, &again));
	EXPECT_EQ(0, memcmp(&info, &again, offsetof(struct xptilab_info,
						     kernel_release)));
	EXPECT_STREQ(info.kernel_release, again.kernel_release);
	EXPECT_STREQ(info.cpu_model, again.cpu_model);
	close(fd);
}

TEST_HARNESS_MAIN
