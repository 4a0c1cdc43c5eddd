// SPDX-License-Identifier: GPL-2.0
/*
 * xptilab: measure what page-table isolation costs, the Xen XPTI way.
 * Load order: refuse unsupported platforms, then expose the device and
 * debugfs. Unload undoes everything in reverse order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "xptilab.h"

static int __init xptilab_init(void)
{
	int ret;

	ret = xptilab_platform_check();
	if (ret)
		return ret;

	xptilab_debugfs_init();
	ret = xptilab_chardev_init();
	if (ret) {
		pr_err("cannot register /dev/xptilab: %d\n", ret);
		xptilab_debugfs_exit();
		return ret;
	}
	pr_info("loaded (abi %u, %u-level paging, clone_global=%d)\n",
		XPTILAB_ABI_VERSION, xptilab_paging_levels(),
		xptilab_clone_global);
	return 0;
}

static void __exit xptilab_exit(void)
{
	xptilab_chardev_exit();
	xptilab_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(xptilab_init);
module_exit(xptilab_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("xptilab developers");
MODULE_DESCRIPTION("Page-table isolation (XPTI/KPTI) experiment harness");
MODULE_VERSION(XPTILAB_VERSION);
