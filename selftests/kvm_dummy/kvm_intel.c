// SPDX-License-Identifier: GPL-2.0
/*
 * A module named kvm_intel that does nothing, for kvm_test: xptilab must
 * refuse to load while a module of that name is loaded, and veto its load
 * while xptilab is loaded. Never install it: it would shadow KVM.
 */
#include <linux/init.h>
#include <linux/module.h>

static int __init kvm_dummy_init(void)
{
	return 0;
}

static void __exit kvm_dummy_exit(void)
{
}

module_init(kvm_dummy_init);
module_exit(kvm_dummy_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xptilab selftest: a do-nothing module named kvm_intel");
