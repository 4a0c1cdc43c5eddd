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

/* True when the guest's register state is hidden from the hypervisor. */
static inline bool xptilab_compat_guest_state_encrypted(void)
{
	return cc_platform_has(CC_ATTR_GUEST_STATE_ENCRYPT);
}

#endif /* XPTILAB_COMPAT_H */
