/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that depends on the kernel version lives here, so that porting
 * xptilab to another kernel means reading one file. Built and tested on
 * Debian's 6.1 and 6.12 (docs/design.md, "Linux 6.1 and 6.12").
 *
 * Version differences handled elsewhere without a test, because one
 * spelling works on both: pmd_leaf()/pud_leaf() (6.1 defines them as
 * pmd_large()/pud_large(), which 6.9 removed), and no .llseek in the
 * file_operations (nonseekable_open() clears FMODE_LSEEK, and 6.12 removed
 * no_llseek).
 */
#ifndef XPTILAB_COMPAT_H
#define XPTILAB_COMPAT_H

#ifndef CONFIG_X86_64
#error "xptilab needs x86-64: its mechanisms are x86-64 page tables and IDT gates"
#endif

#ifdef __ASSEMBLY__

#include <asm/unwind_hints.h>

/*
 * The unwind hint for an IDT entry point of the entry text: "no unwind
 * information here", as Linux's own entry code before its stack switch.
 * objtool follows the code from each hint; without them it calls the stubs
 * unreachable. 6.4 renamed UNWIND_HINT_EMPTY to UNWIND_HINT_UNDEFINED (and
 * split off UNWIND_HINT_END_OF_STACK), with a hint type of that name.
 */
#ifdef UNWIND_HINT_TYPE_UNDEFINED
#define XPTILAB_UNWIND_HINT_ENTRY UNWIND_HINT_UNDEFINED
#else
#define XPTILAB_UNWIND_HINT_ENTRY UNWIND_HINT_EMPTY
#endif

#else /* !__ASSEMBLY__ */

#include <linux/cc_platform.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <asm/cpufeature.h>

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

/*
 * True when the CPU delivers events with FRED (Linux 6.9+, CONFIG_X86_FRED
 * and "fred=on"): then the IDT is not used, and neither are xptilab's
 * private IDTs. Linux's own test; kernels without X86_FEATURE_FRED cannot
 * use FRED.
 */
static inline bool xptilab_compat_fred_enabled(void)
{
#ifdef X86_FEATURE_FRED
	return cpu_feature_enabled(X86_FEATURE_FRED);
#else
	return false;
#endif
}

#endif /* __ASSEMBLY__ */

#endif /* XPTILAB_COMPAT_H */
