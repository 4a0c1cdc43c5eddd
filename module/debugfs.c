// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/xptilab/: read-only views for people and selftests.
 * info: the same facts as XPTILAB_IOC_INFO, one "name: value" per line.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "xptilab.h"

static struct dentry *xptilab_dir;

static const struct {
	const char *name;
	u64 bit;
} xptilab_feature_names[] = {
	{ "pti", XPTILAB_FEAT_PTI },
	{ "pcid", XPTILAB_FEAT_PCID },
	{ "invpcid", XPTILAB_FEAT_INVPCID },
	{ "pge", XPTILAB_FEAT_PGE },
	{ "smep", XPTILAB_FEAT_SMEP },
	{ "smap", XPTILAB_FEAT_SMAP },
	{ "umip", XPTILAB_FEAT_UMIP },
	{ "la57", XPTILAB_FEAT_LA57 },
	{ "hypervisor", XPTILAB_FEAT_HYPERVISOR },
	{ "ia32_emulation", XPTILAB_FEAT_IA32_EMU },
};

static int xptilab_info_show(struct seq_file *m, void *v)
{
	struct xptilab_info info = { .size = sizeof(info) };
	size_t i;

	xptilab_fill_info(&info);
	seq_printf(m, "abi_version: %u\n", info.abi_version);
	seq_printf(m, "kernel: %s\n", info.kernel_release);
	seq_printf(m, "cpus: %u\n", info.cpus_online);
	seq_printf(m, "cpus_possible: %u\n", info.cpus_possible);
	seq_printf(m, "paging_levels: %u\n", info.paging_levels);
	seq_printf(m, "clone_global: %u\n", info.clone_global);
	seq_printf(m, "cpu_model: %s\n", info.cpu_model);
	for (i = 0; i < ARRAY_SIZE(xptilab_feature_names); i++)
		seq_printf(m, "%s: %d\n", xptilab_feature_names[i].name,
			   !!(info.features & xptilab_feature_names[i].bit));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_info);

void xptilab_debugfs_init(void)
{
	/* debugfs is best effort: the module works without it. */
	xptilab_dir = debugfs_create_dir("xptilab", NULL);
	debugfs_create_file("info", 0400, xptilab_dir, NULL, &xptilab_info_fops);
}

void xptilab_debugfs_exit(void)
{
	debugfs_remove_recursive(xptilab_dir);
	xptilab_dir = NULL;
}
