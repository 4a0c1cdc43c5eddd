// SPDX-License-Identifier: GPL-2.0
/* `xptilab info [--json]`: the kernel, CPU and module facts experiments depend on. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cpuid.h>

#include "dev.h"
#include "json.h"
#include "platform.h"
#include "xptilab.h"

static const struct {
	const char *name;
	__u64 bit;
} features[] = {
	{ "pti",		XPTILAB_FEAT_PTI },
	{ "pcid",		XPTILAB_FEAT_PCID },
	{ "invpcid",		XPTILAB_FEAT_INVPCID },
	{ "pge",		XPTILAB_FEAT_PGE },
	{ "smep",		XPTILAB_FEAT_SMEP },
	{ "smap",		XPTILAB_FEAT_SMAP },
	{ "umip",		XPTILAB_FEAT_UMIP },
	{ "la57",		XPTILAB_FEAT_LA57 },
	{ "hypervisor",		XPTILAB_FEAT_HYPERVISOR },
	{ "ia32_emulation",	XPTILAB_FEAT_IA32_EMU },
	{ "pcid_in_use",	XPTILAB_FEAT_PCIDE },
	{ "pcid_cpuid",		XPTILAB_FEAT_PCID_CPUID },
};

static void json_tristate(struct json *j, const char *key, int v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_bool(j, key, v);
}

static void xen_json(struct json *j, const struct xen_facts *x)
{
	json_object_begin(j, "xen");
	json_string(j, "guest_type", x->guest_type);
	json_bool(j, "dom0", x->dom0);
	json_string(j, "version", x->version);
	json_object_begin(j, "xpti");
	json_tristate(j, "this_domain", xen_xpti_active(x));
	json_tristate(j, "dom0", x->xpti_dom0);
	json_tristate(j, "domu", x->xpti_domu);
	json_tristate(j, "pcid", x->xpti_pcid);
	json_string(j, "xen_log", *x->xpti_line ? x->xpti_line : NULL);
	json_string(j, "source", x->xpti_source);
	json_object_end(j);
	json_object_end(j);
}

/*
 * The CPU vendor (CPUID leaf 0) and the kernel command line: claim 5
 * pairs guests of one CPU model and vendor booted with and without
 * pti=off.
 */
static void info_boot_json(struct json *j)
{
	unsigned int a, b, c, d;
	char vendor[13] = "", line[1024] = "";
	FILE *f;

	if (__get_cpuid(0, &a, &b, &c, &d)) {
		memcpy(vendor, &b, 4);
		memcpy(vendor + 4, &d, 4);
		memcpy(vendor + 8, &c, 4);
	}
	json_string(j, "cpu_vendor", vendor);
	f = fopen("/proc/cmdline", "re");
	if (f && fgets(line, sizeof(line), f))
		line[strcspn(line, "\n")] = '\0';
	if (f)
		fclose(f);
	json_string(j, "cmdline", line);
}

void info_json(struct json *j, const char *key,
	       const struct xptilab_info *info, const struct platform *plat)
{
	json_object_begin(j, key);
	json_u64(j, "abi_version", info->abi_version);
	json_string(j, "kernel", info->kernel_release);
	json_u64(j, "cpus", info->cpus_online);
	json_u64(j, "cpus_possible", info->cpus_possible);
	json_u64(j, "paging_levels", info->paging_levels);
	json_u64(j, "clone_global", info->clone_global);
	json_string(j, "cpu_model", info->cpu_model);
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		/* only the module can tell IA32 emulation: unknown without */
		if (!info->abi_version && features[i].bit == XPTILAB_FEAT_IA32_EMU)
			json_null(j, features[i].name);
		else
			json_bool(j, features[i].name, info->features & features[i].bit);
	}
	json_string(j, "hypervisor_vendor",
		    plat->hypervisor ? plat->hv_vendor : NULL);
	json_bool(j, "emulated", plat->emulated);
	json_string(j, "emulator", plat->emulator);
	json_string(j, "emulator_cpu", plat->emulator_cpu);
	json_bool(j, "nopcid", plat->nopcid);
	json_string(j, "pcid_mode", platform_pcid_mode(info->features, plat));
	/* abi_version 0: facts from /proc, the module was not loaded */
	json_bool(j, "module", info->abi_version != 0);
	json_string(j, "hypervisor_type", xen_hypervisor_type(&plat->xen));
	if (plat->xen.present)
		xen_json(j, &plat->xen);
	info_boot_json(j);
	json_object_end(j);
}

static void print_json(const struct xptilab_info *info,
		       const struct platform *plat)
{
	struct json j;

	json_init(&j, stdout);
	info_json(&j, NULL, info, plat);
}

static void print_features(const struct xptilab_info *info, bool present)
{
	bool any = false;

	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		if (!(info->features & features[i].bit) == present)
			continue;
		if (!info->abi_version && features[i].bit == XPTILAB_FEAT_IA32_EMU)
			continue;	/* unknown without the module */
		printf(" %s", features[i].name);
		any = true;
	}
	printf("%s\n", any ? "" : " (none)");
}

static void print_text(const struct xptilab_info *info,
		       const struct platform *plat)
{
	printf("kernel:        %s\n", info->kernel_release);
	printf("cpus:          %u online, %u possible\n",
	       info->cpus_online, info->cpus_possible);
	printf("cpu model:     %s\n", info->cpu_model);
	printf("paging:        %u-level\n", info->paging_levels);
	printf("features:     ");
	print_features(info, true);
	printf("absent:       ");
	print_features(info, false);
	if (plat->hypervisor)
		printf("hypervisor:    \"%s\"\n", plat->hv_vendor);
	else
		printf("hypervisor:    none\n");
	if (plat->xen.present) {
		const struct xen_facts *x = &plat->xen;
		int on = xen_xpti_active(x);

		printf("xen:           %s%s, Xen %s\n", xen_hypervisor_type(x),
		       x->dom0 ? " dom0" : " domU", *x->version ? x->version : "?");
		printf("xen xpti:      %s here (%s%s%s)\n",
		       on < 0 ? "unknown" : on ? "on" : "off",
		       *x->xpti_line ? x->xpti_line : "",
		       *x->xpti_line ? "; from " : "", x->xpti_source);
	}
	if (plat->emulated)
		printf("emulated:      yes (%s%s%s): timings are emulator artefacts, not hardware figures\n",
		       plat->emulator ? plat->emulator : "QEMU TCG",
		       plat->emulator_cpu ? ", CPU " : "",
		       plat->emulator_cpu ? plat->emulator_cpu : "");
	printf("pcid:          %s (CR4.PCIDE %d, CPUID.PCID %d, nopcid %s on the command line; boot with nopcid for Xen 2018's configuration, docs/design.md)\n",
	       platform_pcid_mode(info->features, plat),
	       !!(info->features & XPTILAB_FEAT_PCIDE),
	       !!(info->features & XPTILAB_FEAT_PCID_CPUID),
	       plat->nopcid ? "is" : "not");
	if (!info->abi_version) {
		printf("module:        not loaded (facts from /proc/cpuinfo and uname)\n");
		return;
	}
	printf("clone_global:  %u (shadow-root clones are %sglobal)\n",
	       info->clone_global, info->clone_global ? "" : "non-");
	printf("module ABI:    %u\n", info->abi_version);
}

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: xptilab info [--json]\n");
	return status;
}

int cmd_info(int argc, char **argv)
{
	struct xptilab_info info;
	struct platform plat;
	bool json = false;
	int fd, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (strcmp(argv[i], "--json")) {
			xptilab_err("info: unknown argument '%s'", argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
		json = true;
	}

	/* Without the module: what /proc tells (a Xen PV guest, say). */
	fd = dev_try_open();
	if (fd < 0) {
		ret = sys_info(&info);
	} else {
		ret = dev_info(fd, &info);
		close(fd);
	}
	if (ret < 0)
		return 1;
	if (fd >= 0 && info.abi_version != XPTILAB_ABI_VERSION)
		xptilab_err("warning: module ABI %u, tool built for ABI %u",
			    info.abi_version, XPTILAB_ABI_VERSION);

	platform_probe(&plat);
	if (json)
		print_json(&info, &plat);
	else
		print_text(&info, &plat);
	return fflush(stdout) ? 1 : 0;
}
