/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that depends on the kernel version lives here, so that porting
 * xptilab to another kernel means reading one file. Built and tested on
 * Debian's 6.1.
 */
#ifndef XPTILAB_COMPAT_H
#define XPTILAB_COMPAT_H

#ifndef CONFIG_X86_64
#error "xptilab needs x86-64: its mechanisms are x86-64 page tables and IDT gates"
#endif

#include <linux/cc_platform.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>

/*
 * The mmu notifier op called after Linux cleared page-table entries and
 * before it frees the tables (from the TLB flush of an mmu_gather): 6.6
 * renamed invalidate_range to arch_invalidate_secondary_tlbs, and forbids
 * registering it together with invalidate_range_start/end. Kbuild probes
 * the headers for it (XPTILAB_HAVE_SECONDARY_TLBS).
 */
#ifdef XPTILAB_HAVE_SECONDARY_TLBS
#define XPTILAB_MN_TLB_INVALIDATE arch_invalidate_secondary_tlbs
#else
#define XPTILAB_MN_TLB_INVALIDATE invalidate_range
#endif

/* True when the guest's register state is hidden from the hypervisor. */
static inline bool xptilab_compat_guest_state_encrypted(void)
{
	return cc_platform_has(CC_ATTR_GUEST_STATE_ENCRYPT);
}

/*
 * True when mm has an LDT: read under mm->context.lock, the mutex
 * install_ldt() holds while it publishes a new one. Without
 * CONFIG_MODIFY_LDT_SYSCALL no task can have one.
 */
static inline bool xptilab_compat_mm_has_ldt(struct mm_struct *mm)
{
#ifdef CONFIG_MODIFY_LDT_SYSCALL
	bool has;

	mutex_lock(&mm->context.lock);
	has = mm->context.ldt;
	mutex_unlock(&mm->context.lock);
	return has;
#else
	return false;
#endif
}

#endif /* XPTILAB_COMPAT_H */
