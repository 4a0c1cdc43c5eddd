/* SPDX-License-Identifier: GPL-2.0 */
/* Access to the xptilab module's device. */
#ifndef XPTILAB_DEV_H
#define XPTILAB_DEV_H

#include <uapi/xptilab.h>

/* Open XPTILAB_DEVICE; on failure say why on stderr and return -1. */
int dev_open(void);

/*
 * XPTILAB_IOC_INFO into *info, whose strings are then NUL-terminated;
 * on failure say why on stderr and return -1.
 */
int dev_info(int fd, struct xptilab_info *info);

/*
 * Without the module: what /proc/cpuinfo and uname(2) tell, in the module's
 * format, with abi_version 0 ("no module"), clone_global 0 and no
 * XPTILAB_FEAT_IA32_EMU (unknown). Returns -1 (said on stderr) on failure.
 */
int sys_info(struct xptilab_info *info);

/* Open XPTILAB_DEVICE quietly: the fd, or -errno. */
int dev_try_open(void);

#endif /* XPTILAB_DEV_H */
