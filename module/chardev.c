// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/xptilab: root only. The node is 0600, open() requires
 * CAP_SYS_ADMIN, and every ioctl checks it again (a descriptor may be passed
 * to a less privileged process). Every ioctl copies its whole argument in,
 * validates the size and every reserved field, and only then acts.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cpu.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>

#include "xptilab.h"

/* Copy in an ioctl argument whose first field is its __u32 size. */
int xptilab_copy_arg(void *karg, size_t ksize, void __user *uarg)
{
	u32 size;

	if (copy_from_user(&size, uarg, sizeof(size)))
		return -EFAULT;
	if (size != ksize) {
		pr_debug("ioctl argument size %u, expected %zu\n", size, ksize);
		return -EINVAL;
	}
	if (copy_from_user(karg, uarg, ksize))
		return -EFAULT;
	return 0;
}

bool xptilab_zeroed(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static long xptilab_ioc_info(void __user *uarg)
{
	struct xptilab_info info;
	int ret;

	ret = xptilab_copy_arg(&info, sizeof(info), uarg);
	if (ret)
		return ret;
	if (!xptilab_zeroed(info.reserved, sizeof(info.reserved)))
		return -EINVAL;
	xptilab_fill_info(&info);
	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long xptilab_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case XPTILAB_IOC_INFO:
		return xptilab_ioc_info(uarg);
	case XPTILAB_IOC_RUN_CR3:
		return xptilab_ioc_run_cr3(uarg);
	case XPTILAB_IOC_ENTRY_CONFIG:
		return xptilab_ioc_entry_config(uarg, file);
	case XPTILAB_IOC_COUNTERS:
		return xptilab_ioc_counters(uarg);
	case XPTILAB_IOC_STORM:
		return xptilab_ioc_storm(uarg);
	case XPTILAB_IOC_RUN_IPI:
		return xptilab_ioc_run_ipi(uarg, file);
	case XPTILAB_IOC_SESSION:
		return xptilab_ioc_session(uarg, file);
	case XPTILAB_IOC_SESSION_STATS:
		return xptilab_ioc_session_stats(uarg);
	case XPTILAB_IOC_NMI_CHECK:
		return xptilab_ioc_nmi_check(uarg);
	case XPTILAB_IOC_RUN_STALE:
		return xptilab_ioc_run_stale(uarg);
	default:
		return -ENOTTY;
	}
}

static int xptilab_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

/* A shadow-root mirror of this descriptor's task ends with it. */
static int xptilab_release(struct inode *inode, struct file *file)
{
	mutex_lock(&xptilab_run_lock);
	cpus_read_lock();
	xptilab_mirror_release(file);
	xptilab_owner_release(file);
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	return 0;
}

static const struct file_operations xptilab_fops = {
	.owner = THIS_MODULE,
	.open = xptilab_open,
	.release = xptilab_release,
	.unlocked_ioctl = xptilab_ioctl,
};

static struct miscdevice xptilab_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xptilab",
	.fops = &xptilab_fops,
	.mode = 0600,
};

int xptilab_chardev_init(void)
{
	return misc_register(&xptilab_miscdev);
}

void xptilab_chardev_exit(void)
{
	misc_deregister(&xptilab_miscdev);
}
