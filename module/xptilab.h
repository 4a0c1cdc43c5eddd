/* SPDX-License-Identifier: GPL-2.0 */
/* xptilab: internal interfaces between the module's source files. */
#ifndef XPTILAB_H
#define XPTILAB_H

#include <linux/types.h>
#include <uapi/xptilab.h>

#define XPTILAB_VERSION "0.1.0"

/* params.c: module parameters, range-checked at load */
extern int xptilab_clone_global;

/* facts.c: what this CPU and kernel provide */
int xptilab_platform_check(void);
void xptilab_fill_info(struct xptilab_info *info);
unsigned int xptilab_paging_levels(void);

/* chardev.c: /dev/xptilab */
int xptilab_chardev_init(void);
void xptilab_chardev_exit(void);

/* debugfs.c: /sys/kernel/debug/xptilab/ */
void xptilab_debugfs_init(void);
void xptilab_debugfs_exit(void);

#endif /* XPTILAB_H */
