// SPDX-License-Identifier: GPL-2.0
/*
 * The private per-CPU IDTs and what their stubs need, all in the xptilab
 * area: the alias of the entry text, one global page of Linux's original
 * handler addresses, and one data page per CPU (its shadow root, the full
 * root to return to, and the counters of entries taken on the shadow root).
 *
 * Each private IDT is a copy of Linux's in which every present gate points
 * at xptilab's stub for that vector and stays an interrupt gate with the
 * same DPL and IST index, so a vector reaches Linux's handler unchanged
 * unless a shadow root is in CR3 (see entry.S). The original IDTR of every
 * CPU is recorded when ours is loaded and restored on unload and CPU
 * offline; Linux reloads its own IDT when a CPU comes online, and the
 * hotplug callback then installs ours again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mm.h>
#include <linux/topology.h>
#include <asm/desc.h>
#include <asm/irq_vectors.h>
#include <asm/pgtable.h>
#include <asm/processor-flags.h>
#include <asm/tlbflush.h>

#include "layout.h"
#include "xptilab.h"

/* Bit 1 of an exception error code: the selector indexes the IDT. */
#define XPTILAB_GP_ERR_IDT	2

static struct xptilab_global *global_page;
static struct xptilab_pcpu *pcpu_pages[XPTILAB_MAX_CPUS];
static struct xptilab_priv *priv_pages[XPTILAB_MAX_CPUS];
/*
 * The private page's address, for the trampolines on the full root (read
 * with the kernel's GS base): the only way there that puts no kernel
 * address in a page the user tables map.
 */
DEFINE_PER_CPU(u64, xptilab_priv_ptr);
static gate_desc *idt_pages[XPTILAB_MAX_CPUS];
static struct desc_ptr orig_idtr[XPTILAB_MAX_CPUS];
static struct desc_ptr linux_idtr;	/* Linux's IDT, as loaded at our load */
static bool installed[XPTILAB_MAX_CPUS];
static enum cpuhp_state hp_state;
/*
 * Vector 0x80 of a private IDT: xptilab's stub, or Linux's own gate
 * (XPTILAB_ENTRY_LINUX_INT80), the baseline of what the stub adds to every
 * entry while the private IDT is loaded. Both as built at load; int80_linux
 * is not present without IA32 emulation.
 */
static gate_desc int80_stub, int80_linux;
static bool int80_is_linux[XPTILAB_MAX_CPUS];

struct xptilab_pcpu *xptilab_pcpu(unsigned int cpu)
{
	return pcpu_pages[cpu];
}

struct xptilab_priv *xptilab_priv(unsigned int cpu)
{
	return priv_pages[cpu];
}

unsigned long xptilab_idt_addr(unsigned int cpu)
{
	return xptilab_area_addr(XPTILAB_AREA_IDT + cpu * PAGE_SIZE);
}

static unsigned long xptilab_pfn(const void *p)
{
	return PHYS_PFN(__pa(p));
}

/*
 * The stub for a vector: Linux's IST vectors (NMI, #DB, #MC, #DF) get one
 * that leaves the IST stack below the hardware frame alone (entry.S).
 */
static unsigned long stub_addr(unsigned int vector, bool ist)
{
	if (ist && vector < XPTILAB_IST_VECTORS)
		return xptilab_area_addr(XPTILAB_AREA_TEXT +
					 (xptilab_ist_stubs - xptilab_entry_start) +
					 vector * XPTILAB_IST_STUB_SIZE);
	return xptilab_area_addr(XPTILAB_AREA_TEXT + vector * XPTILAB_STUB_SIZE);
}

/* Where a symbol of the entry text is in the alias. */
static unsigned long tramp_addr(const char *sym)
{
	return xptilab_area_addr(XPTILAB_AREA_TEXT +
				 (sym - xptilab_entry_start));
}

static void gate_set_offset(gate_desc *g, unsigned long addr)
{
	g->offset_low = (u16)addr;
	g->offset_middle = (u16)(addr >> 16);
	g->offset_high = (u32)(addr >> 32);
}

/* The alias of the entry text: read-only and executable, never writable. */
static int map_text_alias(void)
{
	unsigned long start = (unsigned long)xptilab_entry_start;
	unsigned long end = (unsigned long)xptilab_entry_end;
	unsigned long va;

	if (end - start > XPTILAB_TEXT_MAX ||
	    end - start < PAGE_ALIGN(256 * XPTILAB_STUB_SIZE)) {
		pr_err("entry text size %lu out of bounds\n", end - start);
		return -EINVAL;
	}
	for (va = start; va < end; va += PAGE_SIZE) {
		struct page *page = vmalloc_to_page((void *)va);

		if (!page)
			return -EFAULT;
		xptilab_area_map(XPTILAB_AREA_TEXT + (va - start),
				 page_to_pfn(page), PAGE_KERNEL_ROX);
	}
	return 0;
}

/*
 * A test vector must be one neither the CPU nor the running kernel uses.
 * The CPU never raises the reserved exception vectors 0x16-0x1b and 0x1f,
 * and Linux hands out device vectors from 0x20 up, so only those qualify.
 * Linux may leave them present (some boots keep the early-exception stubs
 * there), but only reachable from ring 0; a DPL-3 gate there would mean
 * the kernel deliberately uses it, and is refused.
 */
static bool vector_is_free(const gate_desc *linux_idt, int v)
{
	if (!((v >= 0x16 && v <= 0x1b) || v == 0x1f))
		return false;
	return !(linux_idt[v].bits.p && linux_idt[v].bits.dpl == 3);
}

static int set_test_gate(gate_desc *tmpl, const gate_desc *linux_idt,
			 int v, unsigned int type, const char *name,
			 const char *param)
{
	if (!vector_is_free(linux_idt, v)) {
		pr_err("%s=%#x: vector in use by the CPU or the kernel (free: 0x16-0x1b, 0x1f)\n",
		       param, v);
		return -EINVAL;
	}
	pack_gate(&tmpl[v], type, (unsigned long)name, 3, 0, __KERNEL_CS);
	return 0;
}

/* Build the template gates from Linux's IDT as loaded on this CPU. */
static int build_idts(void)
{
	const gate_desc *linux_idt;
	gate_desc *tmpl;
	unsigned int v, cpu;

	store_idt(&linux_idtr);
	if (linux_idtr.size != IDT_ENTRIES * sizeof(gate_desc) - 1) {
		pr_err("unexpected IDT limit %#x\n", linux_idtr.size);
		return -ENODEV;
	}
	linux_idt = (const gate_desc *)linux_idtr.address;
	tmpl = idt_pages[0];
	for (v = 0; v < IDT_ENTRIES; v++) {
		tmpl[v] = linux_idt[v];
		if (!tmpl[v].bits.p)
			continue;
		global_page->orig[v] = gate_offset(&linux_idt[v]);
		/* Linux's 64-bit gates are all interrupt gates; ours too. */
		tmpl[v].bits.type = GATE_INTERRUPT;
		gate_set_offset(&tmpl[v], stub_addr(v, tmpl[v].bits.ist));
	}
	if (xptilab_vector_gate == xptilab_vector_trap ||
	    xptilab_vector_gate == xptilab_vector_session ||
	    xptilab_vector_trap == xptilab_vector_session) {
		pr_err("vector_gate, vector_trap and vector_session must differ (%#x, %#x, %#x)\n",
		       xptilab_vector_gate, xptilab_vector_trap,
		       xptilab_vector_session);
		return -EINVAL;
	}
	/* What "int $N" pushes on a #GP when the gate is not for user mode. */
	global_page->gp_gate = (xptilab_vector_gate << 3) | XPTILAB_GP_ERR_IDT;
	global_page->gp_trap = (xptilab_vector_trap << 3) | XPTILAB_GP_ERR_IDT;
	global_page->gp_session = (xptilab_vector_session << 3) |
				  XPTILAB_GP_ERR_IDT;
	if (set_test_gate(tmpl, linux_idt, xptilab_vector_gate, GATE_INTERRUPT,
			  (const char *)tramp_addr(xptilab_tramp_gate),
			  "vector_gate") ||
	    set_test_gate(tmpl, linux_idt, xptilab_vector_trap, GATE_TRAP,
			  (const char *)tramp_addr(xptilab_tramp_trap),
			  "vector_trap") ||
	    set_test_gate(tmpl, linux_idt, xptilab_vector_session,
			  GATE_INTERRUPT,
			  (const char *)tramp_addr(xptilab_tramp_session),
			  "vector_session"))
		return -EINVAL;
	int80_linux = linux_idt[IA32_SYSCALL_VECTOR];
	int80_stub = tmpl[IA32_SYSCALL_VECTOR];
	for_each_possible_cpu(cpu)
		if (cpu)
			memcpy(idt_pages[cpu], tmpl, PAGE_SIZE);
	return 0;
}

/* Linux has an int $0x80 gate (IA32 emulation) for mode LINUX_INT80. */
bool xptilab_idt_has_int80(void)
{
	return int80_linux.bits.p;
}

/*
 * Point the CPU's vector 0x80 at Linux's gate or back at xptilab's stub.
 * On the CPU itself with interrupts off (or while it is offline): its IDT
 * is used by no other CPU, and only "int $0x80" reaches this vector, which
 * nothing executes on a shadow root once sessions are refused there.
 */
void xptilab_idt_int80(unsigned int cpu, bool linux_gate)
{
	if (!xptilab_idt_has_int80())
		return;
	idt_pages[cpu][IA32_SYSCALL_VECTOR] = linux_gate ? int80_linux :
							   int80_stub;
	WRITE_ONCE(int80_is_linux[cpu], linux_gate);
}

bool xptilab_idt_int80_is_linux(unsigned int cpu)
{
	return READ_ONCE(int80_is_linux[cpu]);
}

static void install_idt(unsigned int cpu)
{
	struct desc_ptr d = {
		.size = IDT_ENTRIES * sizeof(gate_desc) - 1,
		.address = xptilab_idt_addr(cpu),
	};

	store_idt(&orig_idtr[cpu]);
	load_idt(&d);
	installed[cpu] = true;
}

static void restore_idt(unsigned int cpu)
{
	if (!installed[cpu])
		return;
	load_idt(&orig_idtr[cpu]);
	installed[cpu] = false;
}

/* cpuhp callbacks: run on the CPU coming up or going down. */
static int xptilab_cpu_online(unsigned int cpu)
{
	int ret = xptilab_shadow_build(cpu);

	if (ret)
		return ret;
	local_irq_disable();
	install_idt(cpu);
	local_irq_enable();
	return 0;
}

static int xptilab_cpu_offline(unsigned int cpu)
{
	/*
	 * The shadow root is rebuilt with the parameter's clone mode when the
	 * CPU comes back, so its trampoline mode must start over too.
	 */
	WRITE_ONCE(pcpu_pages[cpu]->tmode, 0);
	WRITE_ONCE(pcpu_pages[cpu]->twindow, 0);
	WRITE_ONCE(pcpu_pages[cpu]->sess_pgd, 0);
	local_irq_disable();
	restore_idt(cpu);
	xptilab_idt_int80(cpu, false);
	local_irq_enable();
	xptilab_shadow_free(cpu);
	return 0;
}

void xptilab_idt_saved(unsigned int cpu, struct desc_ptr *orig, bool *inst)
{
	*orig = orig_idtr[cpu];
	*inst = installed[cpu];
}

static void free_pages_all(void)
{
	unsigned int cpu;

	for (cpu = 0; cpu < XPTILAB_MAX_CPUS; cpu++) {
		xptilab_free_page(idt_pages[cpu]);
		idt_pages[cpu] = NULL;
		xptilab_free_page(pcpu_pages[cpu]);
		pcpu_pages[cpu] = NULL;
		xptilab_free_page(priv_pages[cpu]);
		priv_pages[cpu] = NULL;
		if (cpu < nr_cpu_ids && cpu_possible(cpu))
			per_cpu(xptilab_priv_ptr, cpu) = 0;
	}
	xptilab_free_page(global_page);
	global_page = NULL;
}

int xptilab_idt_init(void)
{
	unsigned int cpu;
	int ret;

	XPTILAB_LAYOUT_CHECKS();
	if (nr_cpu_ids > XPTILAB_MAX_CPUS) {
		pr_err("%u possible CPUs, xptilab supports %u\n", nr_cpu_ids,
		       XPTILAB_MAX_CPUS);
		return -ENODEV;
	}
	global_page = xptilab_zalloc_page(NUMA_NO_NODE);
	if (!global_page)
		return -ENOMEM;
	global_page->pcpu_base = xptilab_area_addr(XPTILAB_AREA_PCPU);
	for_each_possible_cpu(cpu) {
		pcpu_pages[cpu] = xptilab_zalloc_page(cpu_to_node(cpu));
		priv_pages[cpu] = xptilab_zalloc_page(cpu_to_node(cpu));
		idt_pages[cpu] = xptilab_zalloc_page(cpu_to_node(cpu));
		if (!pcpu_pages[cpu] || !priv_pages[cpu] || !idt_pages[cpu]) {
			free_pages_all();
			return -ENOMEM;
		}
		priv_pages[cpu]->mark = 1;
		priv_pages[cpu]->self = (u64)priv_pages[cpu];
		priv_pages[cpu]->canary = 0x78707469ULL;	/* "xpti" */
		per_cpu(xptilab_priv_ptr, cpu) = (u64)priv_pages[cpu];
		/* What Linux's SWITCH_TO_KERNEL_CR3 does to a user CR3. */
		if (boot_cpu_has(X86_FEATURE_PTI))
			pcpu_pages[cpu]->kcr3_clear =
				BIT_ULL(PTI_PGTABLE_SWITCH_BIT) |
				BIT_ULL(X86_CR3_PTI_PCID_USER_BIT);
		if (boot_cpu_has(X86_FEATURE_PCID))
			pcpu_pages[cpu]->kcr3_set = X86_CR3_PCID_NOFLUSH;
	}
	ret = build_idts();
	if (!ret)
		ret = map_text_alias();
	if (ret) {
		free_pages_all();
		return ret;
	}
	xptilab_area_map(XPTILAB_AREA_GLOBAL, xptilab_pfn(global_page),
			 PAGE_KERNEL_RO);
	for_each_possible_cpu(cpu) {
		xptilab_area_map(XPTILAB_AREA_PCPU + cpu * PAGE_SIZE,
				 xptilab_pfn(pcpu_pages[cpu]), PAGE_KERNEL);
		xptilab_area_map(XPTILAB_AREA_IDT + cpu * PAGE_SIZE,
				 xptilab_pfn(idt_pages[cpu]), PAGE_KERNEL_RO);
	}

	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "xptilab:online",
				xptilab_cpu_online, xptilab_cpu_offline);
	if (ret < 0) {
		/*
		 * The pages are mapped in the area now: the caller unmaps and
		 * flushes it before xptilab_idt_free() frees them.
		 */
		pr_err("cannot install the private IDTs: %d\n", ret);
		return ret;
	}
	hp_state = ret;
	return 0;
}

/* Restores every CPU's IDT and frees the shadow roots; pages stay until
 * xptilab_idt_free(), after the area is unmapped and flushed.
 */
void xptilab_idt_exit(void)
{
	cpuhp_remove_state(hp_state);
}

void xptilab_idt_free(void)
{
	free_pages_all();
}
