// SPDX-License-Identifier: GPL-2.0
/*
 * What the CPU and the running kernel provide, and whether xptilab's
 * mechanisms can work here at all. The module refuses to load, with a
 * message, where they cannot: Xen PV (the IDT and CR3 belong to Xen),
 * SEV-ES/SNP and TDX guests (#VC/#VE handling and encrypted state make a
 * private IDT unsafe), FRED (events bypass the IDT), and paging modes other
 * than 4- or 5-level long mode.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <xen/xen.h>

#include "compat.h"
#include "xptilab.h"

unsigned int xptilab_paging_levels(void)
{
	return (__read_cr4() & X86_CR4_LA57) ? 5 : 4;
}

int xptilab_platform_check(void)
{
	u64 efer;

	if (xen_pv_domain()) {
		pr_err("refusing to load: Xen PV guest (Xen owns the IDT and CR3)\n");
		return -ENODEV;
	}
	if (xptilab_compat_guest_state_encrypted()) {
		pr_err("refusing to load: SEV-ES/SNP guest (encrypted register state)\n");
		return -ENODEV;
	}
	if (boot_cpu_has(X86_FEATURE_TDX_GUEST)) {
		pr_err("refusing to load: TDX guest\n");
		return -ENODEV;
	}
	if (xptilab_compat_fred_enabled()) {
		pr_err("refusing to load: FRED is in use (events are not delivered through the IDT; boot with fred=off)\n");
		return -ENODEV;
	}
	rdmsrl(MSR_EFER, efer);
	if (!(efer & EFER_LMA) || !(__read_cr4() & X86_CR4_PAE) ||
	    !(read_cr0() & X86_CR0_PG)) {
		pr_err("refusing to load: not in long-mode paging (EFER=%#llx)\n",
		       efer);
		return -ENODEV;
	}
	if ((xptilab_paging_levels() == 5) != !!pgtable_l5_enabled()) {
		pr_err("refusing to load: CR4.LA57 and the kernel's paging mode disagree\n");
		return -ENODEV;
	}
	return 0;
}

static u64 xptilab_features(void)
{
	unsigned long cr4 = __read_cr4();
	u64 f = 0;

	if (boot_cpu_has(X86_FEATURE_PTI))
		f |= XPTILAB_FEAT_PTI;
	if (boot_cpu_has(X86_FEATURE_PCID))
		f |= XPTILAB_FEAT_PCID;
	if (boot_cpu_has(X86_FEATURE_INVPCID))
		f |= XPTILAB_FEAT_INVPCID;
	if (cr4 & X86_CR4_PGE)
		f |= XPTILAB_FEAT_PGE;
	if (cr4 & X86_CR4_SMEP)
		f |= XPTILAB_FEAT_SMEP;
	if (cr4 & X86_CR4_SMAP)
		f |= XPTILAB_FEAT_SMAP;
	if (cr4 & X86_CR4_UMIP)
		f |= XPTILAB_FEAT_UMIP;
	if (cr4 & X86_CR4_LA57)
		f |= XPTILAB_FEAT_LA57;
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		f |= XPTILAB_FEAT_HYPERVISOR;
	if (IS_ENABLED(CONFIG_IA32_EMULATION))
		f |= XPTILAB_FEAT_IA32_EMU;
	f |= XPTILAB_FEAT_PCID_KNOWN;
	if (cr4 & X86_CR4_PCIDE)
		f |= XPTILAB_FEAT_PCIDE;
	if (cpuid_ecx(1) & BIT(X86_FEATURE_PCID & 31))	/* raw, not nopcid */
		f |= XPTILAB_FEAT_PCID_CPUID;
	return f;
}

void xptilab_fill_info(struct xptilab_info *info)
{
	info->abi_version = XPTILAB_ABI_VERSION;
	info->cpus_online = num_online_cpus();
	info->cpus_possible = num_possible_cpus();
	info->paging_levels = xptilab_paging_levels();
	info->clone_global = xptilab_clone_global;
	info->features = xptilab_features();
	strscpy(info->kernel_release, utsname()->release,
		sizeof(info->kernel_release));
	strscpy(info->cpu_model, boot_cpu_data.x86_model_id,
		sizeof(info->cpu_model));
}
