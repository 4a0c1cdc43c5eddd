// SPDX-License-Identifier: GPL-2.0
/*
 * The xptilab area (see layout.h): our own PMD and PTE tables hung from
 * one free PUD entry of the cpu_entry_area slot. Everything mapped here is
 * seen on the kernel page tables, on every process's PTI user tables and on
 * the shadow roots, because all of them share that slot's PUD table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <asm/cpu_entry_area.h>
#include <asm/pgalloc.h>
#include <asm/tlbflush.h>

#include "layout.h"
#include "xptilab.h"

#define XPTILAB_AREA_PTES	DIV_ROUND_UP(XPTILAB_AREA_SIZE, PMD_SIZE)

static unsigned long area_base;
static pud_t *area_pudp;		/* the slot's PUD entry we took */
static pmd_t *area_pmd;			/* our PMD table */
static pte_t *area_pte[XPTILAB_AREA_PTES];
/* The window's PUD entry: in the kernel's view, one zero page (layout.h). */
static pud_t *window_pudp;
static pmd_t *window_pmd;
static pte_t *window_pte;
static void *window_zero;

unsigned long xptilab_area_addr(unsigned long off)
{
	return area_base + off;
}

/* The kernel's page table for kernel-half addresses: any pgd will do. */
pgd_t *xptilab_kernel_pgd(void)
{
	return (pgd_t *)__va(read_cr3_pa());
}

/*
 * The highest PUD entry of the slot that nothing maps, with the window's
 * entry (XPTILAB_AREA_WINDOW above it) free too. Linux 6.1 packs the
 * per-CPU entry areas at the start of the slot; since 6.2 (CVE-2023-0597)
 * each CPU's entry area sits at a random offset in the whole slot
 * (CPU_ENTRY_AREA_MAP_SIZE is the slot's size), so "the first entries past
 * the map" no longer exist. Every possible CPU's entry area is mapped at
 * boot, so entries that are empty now stay ours. Entry 0 holds the
 * read-only IDT and is never empty.
 */
static pud_t *area_free_pud(p4d_t *p4d, unsigned long *base)
{
	unsigned long va;

	for (va = CPU_ENTRY_AREA_BASE + P4D_SIZE - PUD_SIZE - XPTILAB_AREA_WINDOW;
	     va > CPU_ENTRY_AREA_BASE; va -= PUD_SIZE) {
		pud_t *pudp = pud_offset(p4d, va);

		if (pud_none(*pudp) &&
		    pud_none(*pud_offset(p4d, va + XPTILAB_AREA_WINDOW))) {
			*base = va;
			return pudp;
		}
	}
	return NULL;
}

int xptilab_area_init(void)
{
	pgd_t *pgd;
	p4d_t *p4d;
	int i;

	BUILD_BUG_ON(XPTILAB_AREA_SIZE > PUD_SIZE);
	BUILD_BUG_ON(XPTILAB_AREA_WINDOW % PUD_SIZE);
	pgd = pgd_offset_pgd(xptilab_kernel_pgd(), CPU_ENTRY_AREA_BASE);
	p4d = p4d_offset(pgd, CPU_ENTRY_AREA_BASE);
	if (p4d_none(*p4d) || p4d_bad(*p4d)) {
		pr_err("cpu_entry_area slot has no PUD table\n");
		return -ENODEV;
	}
	area_pudp = area_free_pud(p4d, &area_base);
	if (!area_pudp) {
		pr_err("no two free PUD entries in the cpu_entry_area slot\n");
		return -EBUSY;
	}

	window_pudp = pud_offset(p4d, area_base + XPTILAB_AREA_WINDOW);

	area_pmd = xptilab_zalloc_page(NUMA_NO_NODE);
	window_pmd = xptilab_zalloc_page(NUMA_NO_NODE);
	window_pte = xptilab_zalloc_page(NUMA_NO_NODE);
	window_zero = xptilab_zalloc_page(NUMA_NO_NODE);
	if (!area_pmd || !window_pmd || !window_pte || !window_zero) {
		xptilab_area_exit();
		return -ENOMEM;
	}
	for (i = 0; i < XPTILAB_AREA_PTES; i++) {
		area_pte[i] = xptilab_zalloc_page(NUMA_NO_NODE);
		if (!area_pte[i]) {
			xptilab_area_exit();
			return -ENOMEM;
		}
		set_pmd(area_pmd + i, __pmd(_KERNPG_TABLE | __pa(area_pte[i])));
	}
	/*
	 * Non-global: the shadow roots map the window to their private page,
	 * and neither view may survive a CR3 switch in the TLB.
	 */
	set_pte(window_pte, pfn_pte(PHYS_PFN(__pa(window_zero)),
				    __pgprot(pgprot_val(PAGE_KERNEL_RO) &
					     ~_PAGE_GLOBAL)));
	set_pmd(window_pmd, __pmd(_KERNPG_TABLE | __pa(window_pte)));
	/* Not-present to present: no TLB flush needed. */
	set_pud(window_pudp, __pud(_KERNPG_TABLE | __pa(window_pmd)));
	set_pud(area_pudp, __pud(_KERNPG_TABLE | __pa(area_pmd)));
	return 0;
}

/* Map one 4k page at area offset off. prot must not be user-accessible. */
void xptilab_area_map(unsigned long off, unsigned long pfn, pgprot_t prot)
{
	unsigned long idx = off >> PAGE_SHIFT;

	set_pte(area_pte[idx / PTRS_PER_PTE] + idx % PTRS_PER_PTE,
		pfn_pte(pfn, prot));
}

static void xptilab_flush_all_cpu(void *unused)
{
	__flush_tlb_all();
}

/*
 * Unhook the tables from the shared slot, flush every CPU (globals and
 * paging-structure caches included), then free them. The IDTs must have
 * been restored on every CPU before this runs.
 */
void xptilab_area_exit(void)
{
	int i;

	bool mapped = false;

	if (area_pudp && !pud_none(*area_pudp)) {
		pud_clear(area_pudp);
		mapped = true;
	}
	if (window_pudp && !pud_none(*window_pudp)) {
		pud_clear(window_pudp);
		mapped = true;
	}
	if (mapped)
		on_each_cpu(xptilab_flush_all_cpu, NULL, 1);
	for (i = 0; i < XPTILAB_AREA_PTES; i++) {
		xptilab_free_page(area_pte[i]);
		area_pte[i] = NULL;
	}
	xptilab_free_page(area_pmd);
	area_pmd = NULL;
	area_pudp = NULL;
	xptilab_free_page(window_pte);
	xptilab_free_page(window_pmd);
	xptilab_free_page(window_zero);
	window_pte = NULL;
	window_pmd = NULL;
	window_zero = NULL;
	window_pudp = NULL;
}

/* The kernel's PUD table of the cpu_entry_area slot (shared by all roots). */
pud_t *xptilab_area_slot_pud(void)
{
	return area_pudp ? area_pudp - pud_index(area_base) : NULL;
}

unsigned int xptilab_area_window_index(void)
{
	return pud_index(area_base + XPTILAB_AREA_WINDOW);
}

/*
 * Call visit for every page the area maps (they are all in every process's
 * user tables under PTI) and for the kernel view's window page.
 */
void xptilab_area_visit_pages(xptilab_page_fn_t visit, void *ctx)
{
	unsigned long idx;

	for (idx = 0; idx < XPTILAB_AREA_SIZE >> PAGE_SHIFT; idx++) {
		pte_t pte = area_pte[idx / PTRS_PER_PTE][idx % PTRS_PER_PTE];

		if (pte_present(pte))
			visit(ctx, idx << PAGE_SHIFT, pfn_to_kaddr(pte_pfn(pte)));
	}
	if (window_zero)
		visit(ctx, XPTILAB_AREA_WINDOW, window_zero);
}
