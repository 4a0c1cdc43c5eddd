/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xptilab user/kernel ABI: the one header shared by the module, the
 * xptilab tool and the selftests.
 *
 * Every ioctl argument starts with a __u32 'size' that the caller sets to
 * sizeof() the structure it was built with; the module refuses any other
 * size with EINVAL, and any non-zero reserved field with EINVAL, so that
 * fields can be added later without silent misinterpretation.
 */
#ifndef _UAPI_XPTILAB_H
#define _UAPI_XPTILAB_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define XPTILAB_ABI_VERSION	1
#define XPTILAB_DEVICE		"/dev/xptilab"
#define XPTILAB_IOC_MAGIC	0xb9

/* CPU and kernel facts, bits of xptilab_info.features */
#define XPTILAB_FEAT_PTI	(1ULL << 0)	/* kernel runs with PTI (KPTI) */
#define XPTILAB_FEAT_PCID	(1ULL << 1)	/* CPU has PCID, kernel uses it */
#define XPTILAB_FEAT_INVPCID	(1ULL << 2)
#define XPTILAB_FEAT_PGE	(1ULL << 3)	/* global pages (CR4.PGE) */
#define XPTILAB_FEAT_SMEP	(1ULL << 4)
#define XPTILAB_FEAT_SMAP	(1ULL << 5)
#define XPTILAB_FEAT_UMIP	(1ULL << 6)
#define XPTILAB_FEAT_LA57	(1ULL << 7)	/* 5-level paging in use */
#define XPTILAB_FEAT_HYPERVISOR	(1ULL << 8)	/* running as a guest */
#define XPTILAB_FEAT_IA32_EMU	(1ULL << 9)	/* int $0x80 available */

#define XPTILAB_RELEASE_LEN	72
#define XPTILAB_MODEL_LEN	64

struct xptilab_info {
	__u32 size;		/* in: sizeof(struct xptilab_info) */
	__u32 abi_version;	/* out: XPTILAB_ABI_VERSION */
	__u32 cpus_online;	/* out */
	__u32 cpus_possible;	/* out */
	__u32 paging_levels;	/* out: 4 or 5 */
	__u32 clone_global;	/* out: module parameter clone_global */
	__u64 features;		/* out: XPTILAB_FEAT_* */
	char kernel_release[XPTILAB_RELEASE_LEN];	/* out: uname -r */
	char cpu_model[XPTILAB_MODEL_LEN];		/* out: CPUID brand */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_INFO	_IOWR(XPTILAB_IOC_MAGIC, 0x00, struct xptilab_info)

#endif /* _UAPI_XPTILAB_H */
