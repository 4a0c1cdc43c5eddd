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

#endif /* XPTILAB_DEV_H */
