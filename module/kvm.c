// SPDX-License-Identifier: GPL-2.0
/*
 * KVM and the private IDTs (issue #14, defect 2). On every VM exit VMX
 * loads IDTR from the VMCS's HOST_IDTR_BASE, which kvm_intel takes from
 * store_idt() once, when it loads. With kvm_intel loaded first, the
 * private IDT silently vanishes on CPUs that run guests; loaded after
 * xptilab, it keeps pointing at xptilab's IDT after rmmod, and the next VM
 * exit triple-faults. SVM saves and restores the IDTR that is current at
 * VMRUN, which is safe, but kvm_amd is refused as well so that one rule
 * covers KVM whatever the vendor.
 *
 * So xptilab refuses to load while kvm_intel or kvm_amd is present, and
 * vetoes their load while it is loaded: a module notifier returns an error
 * for MODULE_STATE_COMING, which load_module() turns into a failed load
 * (prepare_coming_module() has honoured the notifier's error since 5.10;
 * Linux 6.1 and 6.12 both do).
 *
 * "Present" is asked of the module kset (/sys/module) with kset_find_obj(),
 * reached from our own module kobject: every loaded module, and every
 * built-in one with parameters (kvm_intel has some), has a kobject there.
 * find_module() is not exported. The notifier is registered before that
 * look-up, so a KVM module loads either before it (then its kobject is
 * found) or after (then it is vetoed), except one that passed its
 * COMING notification just before the registration and has no kobject
 * yet. Such a module is seen when it goes live: xptilab then pins itself
 * (it can no longer be unloaded) and says so, because that KVM module may
 * have captured a private IDT.
 *
 * On unload, every CPU's IDTR is checked before and after the original is
 * put back: a CPU found on another IDT is reported, and a CPU still on a
 * private IDT afterwards keeps the area, its pages and the entry text
 * alive (leaked on purpose) rather than leave it pointing at freed memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/desc.h>

#include "layout.h"
#include "xptilab.h"

static const char *const kvm_modules[] = { "kvm_intel", "kvm_amd" };

static bool is_kvm_module(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kvm_modules); i++)
		if (!strcmp(name, kvm_modules[i]))
			return true;
	return false;
}

static bool pinned;

static int kvm_module_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct module *mod = data;

	if (!is_kvm_module(mod->name))
		return NOTIFY_DONE;
	switch (action) {
	case MODULE_STATE_COMING:
		pr_err("refusing to let %s load while xptilab is loaded: VM exits would reload the IDT KVM saw at its load (rmmod xptilab first)\n",
		       mod->name);
		return notifier_from_errno(-EBUSY);
	case MODULE_STATE_LIVE:
		/* It was past COMING when the notifier was registered. */
		if (!pinned) {
			pinned = true;
			__module_get(THIS_MODULE);
		}
		pr_err("%s loaded while xptilab was loading: it may hold a private IDT; xptilab stays loaded until reboot\n",
		       mod->name);
		return NOTIFY_OK;
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block kvm_nb = {
	.notifier_call = kvm_module_notify,
};

int xptilab_kvm_init(void)
{
	struct kset *modules = THIS_MODULE->mkobj.kobj.kset;
	unsigned int i;
	int ret;

	ret = register_module_notifier(&kvm_nb);
	if (ret) {
		pr_err("cannot register the module notifier: %d\n", ret);
		return ret;
	}
	for (i = 0; modules && i < ARRAY_SIZE(kvm_modules); i++) {
		struct kobject *k = kset_find_obj(modules, kvm_modules[i]);

		if (!k)
			continue;
		kobject_put(k);
		pr_err("refusing to load: %s is loaded, and VM exits would replace the private IDTs (rmmod %s first)\n",
		       kvm_modules[i], kvm_modules[i]);
		unregister_module_notifier(&kvm_nb);
		return -EBUSY;
	}
	if (!modules) {
		pr_err("refusing to load: no module kset to look for KVM in\n");
		unregister_module_notifier(&kvm_nb);
		return -ENODEV;
	}
	return 0;
}

void xptilab_kvm_exit(void)
{
	unregister_module_notifier(&kvm_nb);
}

/* ---- the IDTR of every CPU at unload ---- */

static unsigned long idtr_seen[XPTILAB_MAX_CPUS];

static void read_idtr(void *unused)
{
	struct desc_ptr d;

	store_idt(&d);
	idtr_seen[smp_processor_id()] = d.address;
}

static bool in_area(unsigned long addr)
{
	unsigned long base = xptilab_area_addr(0);

	return addr >= base && addr < base + XPTILAB_AREA_SIZE;
}

/* Before the IDTs are restored: is every CPU still on its private IDT? */
void xptilab_kvm_check_idts(void)
{
	unsigned int cpu;

	cpus_read_lock();
	memset(idtr_seen, 0, sizeof(idtr_seen));
	on_each_cpu(read_idtr, NULL, 1);
	for_each_online_cpu(cpu) {
		struct desc_ptr orig;
		bool inst;

		xptilab_idt_saved(cpu, &orig, &inst);
		if (inst && idtr_seen[cpu] != xptilab_idt_addr(cpu))
			pr_err("cpu%u: IDT at %#lx, not xptilab's %#lx: something replaced it (KVM?)\n",
			       cpu, idtr_seen[cpu], xptilab_idt_addr(cpu));
	}
	cpus_read_unlock();
}

/*
 * After the IDTs are restored: true when no CPU is on a private IDT any
 * more. Otherwise the entry text's pages get an extra reference, so that
 * they survive the module, and the caller must leave the area mapped.
 */
bool xptilab_kvm_idts_released(void)
{
	unsigned long va;
	unsigned int cpu;
	bool busy = false;

	cpus_read_lock();
	memset(idtr_seen, 0, sizeof(idtr_seen));
	on_each_cpu(read_idtr, NULL, 1);
	for_each_online_cpu(cpu) {
		if (!in_area(idtr_seen[cpu]))
			continue;
		pr_err("cpu%u: still on xptilab's IDT at %#lx after unload: its pages stay allocated\n",
		       cpu, idtr_seen[cpu]);
		busy = true;
	}
	cpus_read_unlock();
	if (!busy)
		return true;
	for (va = (unsigned long)xptilab_entry_start;
	     va < (unsigned long)xptilab_entry_end; va += PAGE_SIZE)
		get_page(vmalloc_to_page((void *)va));
	return false;
}
