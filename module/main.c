// SPDX-License-Identifier: GPL-2.0
/*
 * xptilab: measure what page-table isolation costs, the Xen XPTI way.
 *
 * Load: refuse unsupported platforms; hang the xptilab area off the
 * cpu_entry_area slot; build a shadow root and load a private IDT on every
 * online CPU (and on each CPU that comes online later); then expose the
 * device and debugfs. Unload undoes it in reverse order: every CPU gets its
 * original IDT back before the area is unmapped, flushed and freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "xptilab.h"

atomic_long_t xptilab_pages = ATOMIC_LONG_INIT(0);
/* Held while an experiment owns CPUs, shadow roots and clone modes. */
DEFINE_MUTEX(xptilab_run_lock);

void *xptilab_zalloc_page(int node)
{
	struct page *page = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);

	if (!page)
		return NULL;
	atomic_long_inc(&xptilab_pages);
	return page_address(page);
}

void xptilab_free_page(void *p)
{
	if (!p)
		return;
	free_page((unsigned long)p);
	atomic_long_dec(&xptilab_pages);
}

static int __init xptilab_init(void)
{
	int ret;

	ret = xptilab_platform_check();
	if (ret)
		return ret;
	ret = xptilab_kvm_init();
	if (ret)
		return ret;
	ret = xptilab_area_init();
	if (ret)
		goto fail_kvm;
	ret = xptilab_idt_init();
	if (ret)
		goto fail_area;

	xptilab_debugfs_init();
	ret = xptilab_chardev_init();
	if (ret) {
		pr_err("cannot register /dev/xptilab: %d\n", ret);
		goto fail_debugfs;
	}
	pr_info("loaded (abi %u, %u-level paging, clone_global=%d)\n",
		XPTILAB_ABI_VERSION, xptilab_paging_levels(),
		xptilab_clone_global);
	return 0;

fail_debugfs:
	xptilab_debugfs_exit();
	xptilab_idt_exit();
fail_area:
	xptilab_area_exit();
	xptilab_idt_free();
fail_kvm:
	xptilab_kvm_exit();
	return ret;
}

static void __exit xptilab_exit(void)
{
	long left;

	xptilab_chardev_exit();
	xptilab_debugfs_exit();
	mutex_lock(&xptilab_run_lock);
	cpus_read_lock();
	xptilab_mirror_clear();
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	xptilab_kvm_check_idts();
	xptilab_idt_exit();
	if (xptilab_kvm_idts_released()) {
		xptilab_area_exit();
		xptilab_idt_free();
	}
	xptilab_kvm_exit();
	left = atomic_long_read(&xptilab_pages);
	if (left)
		pr_err("unloaded with %ld pages still allocated\n", left);
	else
		pr_info("unloaded\n");
}

module_init(xptilab_init);
module_exit(xptilab_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("xptilab developers");
MODULE_DESCRIPTION("Page-table isolation (XPTI/KPTI) experiment harness");
MODULE_VERSION(XPTILAB_VERSION);
