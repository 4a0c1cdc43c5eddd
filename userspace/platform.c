// SPDX-License-Identifier: GPL-2.0
/* Hypervisor signature and emulator detection, see platform.h. */
#include <cpuid.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

#define CPUID_HV_BIT	(1u << 31)	/* CPUID.1:ECX */
#define CPUID_HV_LEAF	0x40000000u
#define TCG_SIGNATURE	"TCGTCGTCGTCG"

void platform_probe(struct platform *p)
{
	unsigned int eax, ebx, ecx, edx;
	const char *env = getenv("XPTILAB_EMULATOR");

	memset(p, 0, sizeof(*p));
	__cpuid(1, eax, ebx, ecx, edx);
	p->hypervisor = ecx & CPUID_HV_BIT;
	if (p->hypervisor) {
		/* signature in EBX, ECX, EDX; NUL padded (e.g. "KVMKVMKVM") */
		__cpuid(CPUID_HV_LEAF, eax, ebx, ecx, edx);
		memcpy(p->hv_vendor + 0, &ebx, 4);
		memcpy(p->hv_vendor + 4, &ecx, 4);
		memcpy(p->hv_vendor + 8, &edx, 4);
		p->hv_vendor[12] = '\0';
	}
	p->emulator = env && *env ? env : NULL;
	p->emulated = p->emulator || !strcmp(p->hv_vendor, TCG_SIGNATURE);
	xen_probe(&p->xen);
}
