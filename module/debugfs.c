// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/xptilab/: read-only views for people and selftests.
 *   info        the facts of XPTILAB_IOC_INFO, one "name: value" per line
 *   cpuN/shadow every present mapping of CPU N's shadow root, merged
 *   audit       re-walks every shadow root; "ok" when nothing is wrong
 *   idt         per CPU: the IDTR xptilab saved at install and the private
 *               IDT's address, whether it is installed, and where its
 *               vector 0x80 goes: "stub" (xptilab's), "linux" (entry mode
 *               LINUX_INT80) or "none" (no IA32 emulation)
 *   events      per CPU and vector: entries taken on the shadow root
 *   pages       pages the module holds right now
 *   mirror_drops mirrored top-level entries dropped because Linux cleared
 *               them before freeing their tables
 *   exposure    what the scan of the user-visible area found: pages and
 *               words read, kernel addresses of xptilab's among them (the
 *               audit lists each)
 */
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

#include "layout.h"
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
	{ "pcid_in_use", XPTILAB_FEAT_PCIDE },
	{ "pcid_cpuid", XPTILAB_FEAT_PCID_CPUID },
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

/*
 * Walks of shadow roots hold the CPU-hotplug lock (roots are built and
 * freed by hotplug callbacks) and the run lock (runs flip clone modes).
 */
static int xptilab_lock_roots(void)
{
	if (mutex_lock_interruptible(&xptilab_run_lock))
		return -EINTR;
	cpus_read_lock();
	return 0;
}

static void xptilab_unlock_roots(void)
{
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
}

static int xptilab_shadow_show(struct seq_file *m, void *v)
{
	unsigned int cpu = (unsigned long)m->private;
	int ret = xptilab_lock_roots();

	if (ret)
		return ret;
	ret = xptilab_shadow_dump(m, cpu);
	xptilab_unlock_roots();
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_shadow);

static int xptilab_audit_show(struct seq_file *m, void *v)
{
	unsigned int cpu, problems = 0;
	int ret = xptilab_lock_roots();

	if (ret)
		return ret;
	for_each_online_cpu(cpu)
		problems += xptilab_shadow_audit(m, cpu);
	problems += xptilab_exposure_audit(m, false);
	xptilab_unlock_roots();
	if (!problems)
		seq_puts(m, "ok\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_audit);

static int xptilab_idt_show(struct seq_file *m, void *v)
{
	unsigned int cpu;

	seq_puts(m, "# cpu saved_idtr_base saved_idtr_limit private_idt installed int80\n");
	cpus_read_lock();
	for_each_possible_cpu(cpu) {
		struct desc_ptr d;
		bool inst;

		xptilab_idt_saved(cpu, &d, &inst);
		seq_printf(m, "cpu%u 0x%016lx 0x%04x 0x%016lx %d %s\n", cpu,
			   d.address, d.size, xptilab_idt_addr(cpu), inst,
			   !xptilab_idt_has_int80() ? "none" :
			   xptilab_idt_int80_is_linux(cpu) ? "linux" : "stub");
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_idt);

static int xptilab_events_show(struct seq_file *m, void *v)
{
	unsigned int cpu, vec;

	seq_puts(m, "# cpu total then vector:count for vectors seen\n");
	for_each_possible_cpu(cpu) {
		const struct xptilab_pcpu *p = xptilab_pcpu(cpu);

		seq_printf(m, "cpu%u %llu", cpu, READ_ONCE(p->events));
		for (vec = 0; vec < 256; vec++)
			if (READ_ONCE(p->vec_count[vec]))
				seq_printf(m, " %u:%u", vec,
					   READ_ONCE(p->vec_count[vec]));
		seq_putc(m, '\n');
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_events);

static int xptilab_pages_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%ld\n", atomic_long_read(&xptilab_pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_pages);

static int xptilab_exposure_show(struct seq_file *m, void *v)
{
	int ret = xptilab_lock_roots();

	if (ret)
		return ret;
	xptilab_exposure_audit(m, true);
	xptilab_unlock_roots();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_exposure);

static int xptilab_mirror_drops_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%ld\n", xptilab_mirror_drops());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xptilab_mirror_drops);

void xptilab_debugfs_init(void)
{
	unsigned int cpu;
	char name[16];

	/* debugfs is best effort: the module works without it. */
	xptilab_dir = debugfs_create_dir("xptilab", NULL);
	debugfs_create_file("info", 0400, xptilab_dir, NULL, &xptilab_info_fops);
	debugfs_create_file("audit", 0400, xptilab_dir, NULL,
			    &xptilab_audit_fops);
	debugfs_create_file("idt", 0400, xptilab_dir, NULL, &xptilab_idt_fops);
	debugfs_create_file("events", 0400, xptilab_dir, NULL,
			    &xptilab_events_fops);
	debugfs_create_file("pages", 0400, xptilab_dir, NULL,
			    &xptilab_pages_fops);
	debugfs_create_file("mirror_drops", 0400, xptilab_dir, NULL,
			    &xptilab_mirror_drops_fops);
	debugfs_create_file("exposure", 0400, xptilab_dir, NULL,
			    &xptilab_exposure_fops);
	for_each_possible_cpu(cpu) {
		struct dentry *d;

		snprintf(name, sizeof(name), "cpu%u", cpu);
		d = debugfs_create_dir(name, xptilab_dir);
		debugfs_create_file("shadow", 0400, d, (void *)(unsigned long)cpu,
				    &xptilab_shadow_fops);
	}
}

void xptilab_debugfs_exit(void)
{
	debugfs_remove_recursive(xptilab_dir);
	xptilab_dir = NULL;
}
