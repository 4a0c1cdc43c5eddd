/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tool can tell about the machine it runs on without the module:
 * the hypervisor's CPUID signature and whether timings come from an
 * emulator (QEMU TCG), where they are not hardware figures.
 */
#ifndef XPTILAB_PLATFORM_H
#define XPTILAB_PLATFORM_H

#include <stdbool.h>

#include "xen.h"

struct platform {
	bool hypervisor;	/* CPUID.1:ECX bit 31 */
	char hv_vendor[13];	/* CPUID 0x40000000 signature; "" if !hypervisor */
	const char *emulator;	/* $XPTILAB_EMULATOR, or NULL when unset or empty */
	bool emulated;		/* emulator set, or signature "TCGTCGTCGTCG" */
	/*
	 * The emulator's CPU model as its runner set it ($XPTILAB_QEMU_CPU,
	 * e.g. "max,vendor=GenuineIntel,-cx16", or $XPTILAB_BOCHS_CPU), or NULL
	 */
	const char *emulator_cpu;
	bool nopcid;		/* "nopcid" on the kernel command line */
	struct xen_facts xen;	/* Xen guest type, dom0, XPTI (xen.h) */
};

/*
 * What a record says about PCID (docs/design.md), from the module's
 * CR4.PCIDE and CPUID bits and the command line: "pcid" (in use), "nopcid"
 * (the CPU has it, the kernel was booted with nopcid: Xen 2018's
 * CR4.PCIDE=0), "off" (the CPU has it, the kernel left it off), "absent"
 * (the CPU has none), "unknown" (an older module).
 */
const char *platform_pcid_mode(unsigned long long features,
			       const struct platform *p);

void platform_probe(struct platform *p);

#endif /* XPTILAB_PLATFORM_H */
