/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Xen facts the tool can read in a Xen guest without the module: the guest
 * type (/sys/hypervisor), whether this is the control domain
 * (/proc/xen/capabilities), and, in dom0, XPTI's state as Xen's own boot
 * log says it: Xen's console ring read with the XEN_SYSCTL_readconsole
 * hypercall through /dev/xen/privcmd (what `xl dmesg` does). See
 * docs/xen.md.
 */
#ifndef XPTILAB_XEN_H
#define XPTILAB_XEN_H

#include <stdbool.h>

struct xen_facts {
	bool present;		/* /sys/hypervisor/type is "xen" */
	char guest_type[8];	/* "PV", "HVM", "PVH" or "" */
	bool dom0;		/* /proc/xen/capabilities has control_d */
	char version[32];	/* "4.17.7..." from /sys/hypervisor/version */
	int xpti_dom0;		/* 1/0 from Xen's log; -1: unknown */
	int xpti_domu;		/* 1/0 from Xen's log; -1: unknown */
	int xpti_pcid;		/* 1: "with PCID", 0: "without PCID", -1 */
	char xpti_line[160];	/* Xen's "XPTI (64-bit PV only): ..." or "" */
	char xpti_source[96];	/* where xpti_line came from, or why not */
};

void xen_probe(struct xen_facts *x);

/* "xen-pv", "xen-hvm", "xen-pvh", "xen", or NULL outside Xen. */
const char *xen_hypervisor_type(const struct xen_facts *x);

/* This domain runs 64-bit PV with Xen's XPTI on, per Xen's log: 1/0/-1. */
int xen_xpti_active(const struct xen_facts *x);

#endif /* XPTILAB_XEN_H */
