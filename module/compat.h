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

#endif /* XPTILAB_COMPAT_H */
