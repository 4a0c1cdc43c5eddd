// SPDX-License-Identifier: GPL-2.0
/* Hypervisor signature and emulator detection, see platform.h. */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uapi/xptilab.h>

#include "platform.h"

#define CPUID_HV_BIT	(1u << 31)	/* CPUID.1:ECX */
#define CPUID_HV_LEAF	0x40000000u
#define TCG_SIGNATURE	"TCGTCGTCGTCG"

/* word, alone, among /proc/cmdline's space-separated words */
static bool cmdline_has(const char *word)
{
	char buf[4096], *tok, *save = NULL;
	FILE *f = fopen("/proc/cmdline", "re");
	size_t len;

	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

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
	env = getenv("XPTILAB_QEMU_CPU");
	if (!env || !*env)
		env = getenv("XPTILAB_BOCHS_CPU");
	p->emulator_cpu = p->emulator && env && *env ? env : NULL;
	p->emulated = p->emulator || !strcmp(p->hv_vendor, TCG_SIGNATURE);
	p->nopcid = cmdline_has("nopcid");
	xen_probe(&p->xen);
}

const char *platform_pcid_mode(unsigned long long features,
			       const struct platform *p)
{
	if (!(features & XPTILAB_FEAT_PCID_KNOWN))
		return "unknown";
	if (features & XPTILAB_FEAT_PCIDE)
		return "pcid";
	if (!(features & XPTILAB_FEAT_PCID_CPUID))
		return "absent";
	return p->nopcid ? "nopcid" : "off";
}
