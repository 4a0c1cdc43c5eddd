// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow roots: xptilab's per-CPU restricted root page tables, the
 * counterpart of Xen's per-CPU root_pgt under XPTI.
 *
 * A shadow root maps, of the kernel, only:
 *  - the cpu_entry_area slot, by copying the kernel's entry for it (the
 *    "shared slot": GDT, TSS, IDT, entry and IST stacks, and the xptilab
 *    area with the private IDTs and the entry stubs);
 *  - clones: the pages of xptilab's entry text at their module address and
 *    this CPU's xptilab data page at its directmap address, each with
 *    intermediate tables of the shadow root's own, down to a 4k leaf.
 * The user half is empty, or mirrors the top-level user entries of one
 * task's page tables (copied by the sync/flush IPIs, like Xen's root_pgt
 * copies of a guest's L4): the mirror's page-table pages are the task's,
 * kept alive by a reference on its mm while mirrored.
 *
 * Clones are global or non-global (module parameter clone_global, or per
 * experiment run): that is the knob of Xen commit 9d1d31ad94.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mem_encrypt.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/bsearch.h>
#include <linux/sort.h>
#include <linux/topology.h>
#include <asm/cpu_entry_area.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "layout.h"
#include "xptilab.h"

#define XPTILAB_MAX_CLONES	(XPTILAB_TEXT_MAX / PAGE_SIZE + 1)
#define XPTILAB_MAX_TABLES	32

struct xptilab_clone {
	unsigned long va;
	pte_t *ptep;
};

struct xptilab_shadow {
	pgd_t *pgd;
	pud_t *slot_pud;	/* our copy of the cpu_entry_area PUD table */
	int node;
	bool global;
	unsigned int nr_tables;
	void *tables[XPTILAB_MAX_TABLES];	/* every table page we own */
	unsigned int nr_clones;
	struct xptilab_clone clones[XPTILAB_MAX_CLONES];
};

static struct xptilab_shadow *shadows[XPTILAB_MAX_CPUS];
/* shadows[] against the mirror's notifier, which may run at any time. */
static DEFINE_SPINLOCK(shadows_lock);

static void *shadow_table(struct xptilab_shadow *sh)
{
	void *p;

	if (sh->nr_tables == XPTILAB_MAX_TABLES)
		return NULL;
	p = xptilab_zalloc_page(sh->node);
	if (p)
		sh->tables[sh->nr_tables++] = p;
	return p;
}

/* A table entry pointing at one of our pages: kernel-only, writable. */
#define XPTILAB_TABLE_FLAGS	(_KERNPG_TABLE)

/*
 * The shadow root's p4d entry for va, giving it a p4d table of its own with
 * 5-level paging. (With 4-level paging p4d_offset() folds onto the pgd.)
 */
static p4d_t *shadow_p4d(struct xptilab_shadow *sh, unsigned long va)
{
	pgd_t *pgd = sh->pgd + pgd_index(va);

	if (pgtable_l5_enabled() && pgd_none(*pgd)) {
		void *p4d = shadow_table(sh);

		if (!p4d)
			return NULL;
		*pgd = __pgd(XPTILAB_TABLE_FLAGS | __pa(p4d));
	}
	return p4d_offset(pgd, va);
}

/* The shadow root's own pte for va, allocating the levels above it. */
static pte_t *shadow_pte(struct xptilab_shadow *sh, unsigned long va)
{
	p4d_t *p4d = shadow_p4d(sh, va);
	pud_t *pud;
	pmd_t *pmd;
	void *t;

	if (!p4d)
		return NULL;
	if (p4d_none(*p4d)) {
		t = shadow_table(sh);
		if (!t)
			return NULL;
		*p4d = __p4d(XPTILAB_TABLE_FLAGS | __pa(t));
	}
	pud = pud_offset(p4d, va);
	if (pud_none(*pud)) {
		t = shadow_table(sh);
		if (!t)
			return NULL;
		*pud = __pud(XPTILAB_TABLE_FLAGS | __pa(t));
	}
	pmd = pmd_offset(pud, va);
	if (pmd_none(*pmd)) {
		t = shadow_table(sh);
		if (!t)
			return NULL;
		*pmd = __pmd(XPTILAB_TABLE_FLAGS | __pa(t));
	}
	return pte_offset_kernel(pmd, va);
}

/*
 * The kernel's mapping of the 4k page at va, as a pfn and 4k protections,
 * whether the kernel maps it with a 4k, 2M or 1G page.
 */
int xptilab_kernel_leaf(unsigned long va, unsigned long *pfn, pgprot_t *prot)
{
	unsigned int level;
	pte_t *kpte = lookup_address(va, &level);

	if (!kpte || !(pte_flags(*kpte) & _PAGE_PRESENT))
		return -EFAULT;
	switch (level) {
	case PG_LEVEL_4K:
		*pfn = pte_pfn(*kpte);
		*prot = pte_pgprot(*kpte);
		break;
	case PG_LEVEL_2M:
		*pfn = pmd_pfn(*(pmd_t *)kpte) +
		       ((va & ~PMD_MASK) >> PAGE_SHIFT);
		*prot = pgprot_large_2_4k(pmd_pgprot(*(pmd_t *)kpte));
		break;
	case PG_LEVEL_1G:
		*pfn = pud_pfn(*(pud_t *)kpte) +
		       ((va & ~PUD_MASK) >> PAGE_SHIFT);
		*prot = pgprot_large_2_4k(pud_pgprot(*(pud_t *)kpte));
		break;
	default:
		return -EFAULT;
	}
	return 0;
}

static pteval_t clone_flags(pgprot_t prot, bool global)
{
	pteval_t f = pgprot_val(prot);

	return global ? f | _PAGE_GLOBAL : f & ~_PAGE_GLOBAL;
}

/*
 * clone: give the shadow root the kernel's 4k leaf for va, at the same
 * address, through intermediate tables of its own (cf. Xen's
 * clone_mapping()). Never a user page, never writable and executable.
 */
static int shadow_clone(struct xptilab_shadow *sh, unsigned long va)
{
	unsigned long pfn;
	pgprot_t prot;
	pte_t *ptep;
	int ret;

	va &= PAGE_MASK;
	ret = xptilab_kernel_leaf(va, &pfn, &prot);
	if (ret) {
		pr_err("clone %#lx: not mapped by the kernel\n", va);
		return ret;
	}
	if (pgprot_val(prot) & _PAGE_USER) {
		pr_err("clone %#lx: refusing a user-accessible page\n", va);
		return -EPERM;
	}
	if ((pgprot_val(prot) & _PAGE_RW) && !(pgprot_val(prot) & _PAGE_NX)) {
		pr_err("clone %#lx: refusing a writable+executable page\n", va);
		return -EPERM;
	}
	if (sh->nr_clones == XPTILAB_MAX_CLONES)
		return -ENOSPC;
	ptep = shadow_pte(sh, va);
	if (!ptep)
		return -ENOMEM;
	set_pte(ptep, pfn_pte(pfn, __pgprot(clone_flags(prot, sh->global))));
	sh->clones[sh->nr_clones].va = va;
	sh->clones[sh->nr_clones].ptep = ptep;
	sh->nr_clones++;
	return 0;
}

/*
 * The shared slot: the kernel's cpu_entry_area PUD table, copied into a
 * table of the shadow root's own, so that all its entries (GDT, TSS, IDT,
 * entry and IST stacks, the xptilab area) point at the kernel's lower
 * tables, except the window's: that maps this CPU's private page, which
 * the kernel's view (and so every user table) shows as a zero page. Linux
 * fills that PUD table at boot, for every possible CPU.
 */
static int shadow_share_slot(struct xptilab_shadow *sh,
			     const struct xptilab_priv *priv)
{
	unsigned long va = CPU_ENTRY_AREA_BASE;
	pud_t *kpud = xptilab_area_slot_pud();
	p4d_t *p4d = shadow_p4d(sh, va);
	pud_t *spud;
	pmd_t *spmd;
	pte_t *spte;

	if (!p4d || !kpud)
		return -ENOMEM;
	spud = shadow_table(sh);
	spmd = shadow_table(sh);
	spte = shadow_table(sh);
	if (!spud || !spmd || !spte)
		return -ENOMEM;
	memcpy(spud, kpud, PAGE_SIZE);
	set_pte(spte, pfn_pte(PHYS_PFN(__pa(priv)),
			      __pgprot(pgprot_val(PAGE_KERNEL) & ~_PAGE_GLOBAL)));
	spmd[0] = __pmd(XPTILAB_TABLE_FLAGS | __pa(spte));
	spud[xptilab_area_window_index()] =
		__pud(XPTILAB_TABLE_FLAGS | __pa(spmd));
	sh->slot_pud = spud;
	*p4d = __p4d(XPTILAB_TABLE_FLAGS | __pa(spud));
	return 0;
}

static void shadow_destroy(struct xptilab_shadow *sh)
{
	unsigned int i;

	for (i = 0; i < sh->nr_tables; i++)
		xptilab_free_page(sh->tables[i]);
	kfree(sh);
}

int xptilab_shadow_build(unsigned int cpu)
{
	struct xptilab_priv *priv = xptilab_priv(cpu);
	struct xptilab_shadow *sh;
	unsigned long va;
	int ret;

	if (cpu >= XPTILAB_MAX_CPUS)
		return -EINVAL;
	sh = kzalloc_node(sizeof(*sh), GFP_KERNEL, cpu_to_node(cpu));
	if (!sh)
		return -ENOMEM;
	sh->node = cpu_to_node(cpu);
	sh->global = xptilab_clone_global;
	sh->pgd = shadow_table(sh);
	if (!sh->pgd) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = shadow_share_slot(sh, priv);
	for (va = (unsigned long)xptilab_entry_start;
	     !ret && va < (unsigned long)xptilab_entry_end; va += PAGE_SIZE)
		ret = shadow_clone(sh, va);
	if (!ret)
		ret = shadow_clone(sh, (unsigned long)priv);
	if (ret)
		goto fail;
	WRITE_ONCE(priv->shadow_va, (u64)sh->pgd);
	WRITE_ONCE(priv->shadow_cr3, __sme_pa(sh->pgd));
	spin_lock(&shadows_lock);
	shadows[cpu] = sh;
	spin_unlock(&shadows_lock);
	return 0;
fail:
	pr_err("cpu%u: cannot build the shadow root: %d\n", cpu, ret);
	shadow_destroy(sh);
	return ret;
}

void xptilab_shadow_free(unsigned int cpu)
{
	struct xptilab_shadow *sh = shadows[cpu];

	if (!sh)
		return;
	WRITE_ONCE(xptilab_priv(cpu)->shadow_cr3, 0);
	WRITE_ONCE(xptilab_priv(cpu)->shadow_va, 0);
	spin_lock(&shadows_lock);
	shadows[cpu] = NULL;
	spin_unlock(&shadows_lock);
	shadow_destroy(sh);
}

u64 xptilab_shadow_cr3(unsigned int cpu)
{
	return shadows[cpu] ? __sme_pa(shadows[cpu]->pgd) : 0;
}

/*
 * Switch this CPU's clones between global and non-global. Runs on that CPU
 * with preemption disabled; the caller flushes its TLB afterwards.
 */
void xptilab_shadow_set_global(unsigned int cpu, bool global)
{
	struct xptilab_shadow *sh = shadows[cpu];
	unsigned int i;

	if (!sh || sh->global == global)
		return;
	for (i = 0; i < sh->nr_clones; i++) {
		pte_t *ptep = sh->clones[i].ptep;
		pteval_t v = pte_val(*ptep);

		v = global ? v | _PAGE_GLOBAL : v & ~_PAGE_GLOBAL;
		set_pte(ptep, __pte(v));
	}
	sh->global = global;
}

bool xptilab_shadow_is_global(unsigned int cpu)
{
	return shadows[cpu] && shadows[cpu]->global;
}

/* ---- the user half: a mirror of one task's top-level user entries ---- */

static struct mm_struct *mirror_mm;	/* referenced with mmget() */
static pid_t mirror_pid;
static const void *mirror_owner;
static struct mmu_notifier mirror_mn;
/* Mirrored entries dropped because Linux freed what they pointed to. */
static atomic_long_t mirror_drops = ATOMIC_LONG_INIT(0);

/* The task's top-level table as user mode sees it (PTI: the user copy). */
static pgd_t *user_pgd(struct mm_struct *mm)
{
	if (boot_cpu_has(X86_FEATURE_PTI))
		return kernel_to_user_pgdp(mm->pgd);
	return mm->pgd;
}

/* What CR3 holds (PCID bits aside) while mm runs in user mode. */
u64 xptilab_user_root(struct mm_struct *mm)
{
	return __sme_pa(user_pgd(mm));
}

/*
 * Clear, in every shadow root, the mirrored entries first..last that no
 * longer match the source. Returns true when any was cleared.
 */
static bool mirror_drop_gone(pgd_t *src, unsigned long first,
			     unsigned long last)
{
	bool dropped = false;
	unsigned long i;
	unsigned int cpu;

	spin_lock(&shadows_lock);
	for_each_possible_cpu(cpu) {
		struct xptilab_shadow *sh = cpu < XPTILAB_MAX_CPUS ?
					    shadows[cpu] : NULL;

		if (!sh)
			continue;
		for (i = first; i <= last; i++) {
			pgdval_t v = pgd_val(READ_ONCE(sh->pgd[i]));

			if (v && v != pgd_val(READ_ONCE(src[i]))) {
				WRITE_ONCE(sh->pgd[i], __pgd(0));
				dropped = true;
			}
		}
	}
	spin_unlock(&shadows_lock);
	return dropped;
}

static void mirror_quiesce(void *unused)
{
}

/*
 * The mm reference keeps the task's pgd, not the tables its top-level
 * entries point to: munmap() and mremap() may free those. Linux clears
 * the top-level entry first, then flushes the TLB, and only then frees the
 * tables (mmu_gather: tlb_table_invalidate() before the free); this op
 * runs in that flush. Drop every mirrored entry that no longer matches
 * the task's. A copier (the sync IPI handler, a session entry) runs with
 * interrupts off and may have read the old entry before Linux cleared it
 * and write it back after the first drop: once every CPU has taken an IPI
 * it has finished, and the second drop is final. The IPI also ends every
 * session (an interrupt on a shadow root does), so no CPU still walks a
 * shadow root that held the old entry. Not sleeping: this may run under
 * the page-table lock.
 */
static void mirror_tlb_invalidate(struct mmu_notifier *mn,
				  struct mm_struct *mm, unsigned long start,
				  unsigned long end)
{
	unsigned long first = 0, last = XPTILAB_USER_PGDS - 1;
	pgd_t *src;

	if (READ_ONCE(mirror_mm) != mm)
		return;
	if (end > start && end <= TASK_SIZE_MAX) {
		first = pgd_index(start);
		last = min_t(unsigned long, pgd_index(end - 1), last);
	}
	src = user_pgd(mm);
	if (!mirror_drop_gone(src, first, last))
		return;
	on_each_cpu(mirror_quiesce, NULL, 1);
	mirror_drop_gone(src, first, last);
	atomic_long_inc(&mirror_drops);
}

long xptilab_mirror_drops(void)
{
	return atomic_long_read(&mirror_drops);
}

static const struct mmu_notifier_ops mirror_mn_ops = {
	.XPTILAB_MN_TLB_INVALIDATE = mirror_tlb_invalidate,
};

/* IPI handler work: copy the mirror source into this CPU's shadow root. */
void xptilab_shadow_sync_user(unsigned int cpu)
{
	struct xptilab_shadow *sh = shadows[cpu];
	struct mm_struct *mm = READ_ONCE(mirror_mm);
	pgd_t *src;
	int i;

	if (!sh || !mm)
		return;
	src = user_pgd(mm);
	for (i = 0; i < XPTILAB_USER_PGDS; i++)
		WRITE_ONCE(sh->pgd[i], READ_ONCE(src[i]));
}

static void clear_user_half(void *unused)
{
	struct xptilab_shadow *sh = shadows[smp_processor_id()];

	/* An IPI ended any session here; none may start again. */
	WRITE_ONCE(xptilab_pcpu(smp_processor_id())->sess_pgd, 0);
	if (sh)
		memset(sh->pgd, 0, XPTILAB_USER_PGDS * sizeof(pgd_t));
	__flush_tlb_all();
}

/*
 * Make mm the mirror source (owner: the file that asked). Empties every
 * shadow root's user half first when the source changes. Process context,
 * under the run lock and the hotplug read lock.
 */
int xptilab_mirror_set(struct mm_struct *mm, const void *owner)
{
	unsigned int cpu;
	int ret;

	if (mirror_mm == mm) {
		mirror_owner = owner;
		return 0;
	}
	/* Another task's sessions keep the mirror. */
	for_each_possible_cpu(cpu)
		if (mirror_mm && READ_ONCE(xptilab_pcpu(cpu)->sess_pgd))
			return -EBUSY;
	xptilab_mirror_clear();
	mirror_mn.ops = &mirror_mn_ops;
	ret = mmu_notifier_register(&mirror_mn, mm);
	if (ret)
		return ret;
	mmget(mm);
	mirror_mm = mm;
	mirror_pid = task_tgid_vnr(current);
	mirror_owner = owner;
	return 0;
}

/* The mirror source's top-level table as user mode sees it, or NULL. */
pgd_t *xptilab_mirror_user_pgd(void)
{
	return mirror_mm ? user_pgd(mirror_mm) : NULL;
}

/* Empty every user half and drop the mm. Run lock and hotplug lock held. */
void xptilab_mirror_clear(void)
{
	struct mm_struct *mm = mirror_mm;

	if (!mm)
		return;
	WRITE_ONCE(mirror_mm, NULL);
	on_each_cpu(clear_user_half, NULL, 1);
	mirror_owner = NULL;
	mmu_notifier_unregister(&mirror_mn, mm);
	mmput(mm);
}

/* The owner's descriptor is being released. */
void xptilab_mirror_release(const void *owner)
{
	if (mirror_owner == owner)
		xptilab_mirror_clear();
}

static void dump_user(struct seq_file *m, struct xptilab_shadow *sh)
{
	int i;

	for (i = 0; i < XPTILAB_USER_PGDS; i++) {
		unsigned long va = (unsigned long)i << PGDIR_SHIFT;

		if (pgd_val(sh->pgd[i]))
			seq_printf(m, "0x%016lx-0x%016lx %9luK top-level entry mirrored from pid %d user\n",
				   va, va + PGDIR_SIZE, PGDIR_SIZE >> 10,
				   mirror_pid);
	}
}

/* User half: empty, or equal to the mirror source's current entries. */
static void audit_user(struct seq_file *m, struct xptilab_shadow *sh,
		       unsigned int cpu, unsigned int *problems)
{
	struct mm_struct *mm = mirror_mm;
	pgd_t *src = mm ? user_pgd(mm) : NULL;
	bool empty = true, same = true;
	int i;

	for (i = 0; i < XPTILAB_USER_PGDS; i++) {
		pgdval_t v = pgd_val(sh->pgd[i]);
		pgdval_t want = src ? pgd_val(READ_ONCE(src[i])) : 0;

		if (v)
			empty = false;
		if (v != want)
			same = false;
		/* Missing is only stale; anything else may be freed. */
		if (v && v != want) {
			seq_printf(m, "cpu%u: user entry %d is not the task's top-level entry\n",
				   cpu, i);
			(*problems)++;
		}
		if (v & _PAGE_PRESENT && !(v & _PAGE_USER)) {
			seq_printf(m, "cpu%u: user entry %d lacks the user bit\n",
				   cpu, i);
			(*problems)++;
		}
	}
	if (!empty && !same) {
		seq_printf(m, "cpu%u: user half is stale: differs from pid %d's top-level entries\n",
			   cpu, mirror_pid);
		(*problems)++;
	}
}

/* ---- walking a shadow root, for the debugfs dump and the audit ---- */

enum xptilab_kind { KIND_USER, KIND_SHARED, KIND_CLONE };

static const char *const kind_names[] = {
	[KIND_USER] = "user", [KIND_SHARED] = "shared", [KIND_CLONE] = "clone",
};

struct xptilab_leaf {
	unsigned long va;
	unsigned long size;
	unsigned long pfn;
	pteval_t flags;		/* leaf flags, with RW/USER/NX made effective */
	enum xptilab_kind kind;
};

typedef void (*xptilab_leaf_fn)(void *ctx, const struct xptilab_leaf *l);

struct xptilab_walk {
	xptilab_leaf_fn fn;
	void *ctx;
};

#define EFF_AND	(_PAGE_RW | _PAGE_USER)

static enum xptilab_kind kind_of(unsigned long va)
{
	if (va >= CPU_ENTRY_AREA_BASE && va - CPU_ENTRY_AREA_BASE < P4D_SIZE)
		return KIND_SHARED;
	if (va < TASK_SIZE_MAX)
		return KIND_USER;
	return KIND_CLONE;
}

static void walk_leaf(struct xptilab_walk *w, unsigned long va,
		      unsigned long size, unsigned long pfn, pteval_t leaf,
		      pteval_t andf, pteval_t orf)
{
	struct xptilab_leaf l = {
		.va = va, .size = size, .pfn = pfn, .kind = kind_of(va),
	};

	l.flags = (leaf & ~EFF_AND) | (leaf & andf & EFF_AND) | (orf & _PAGE_NX);
	w->fn(w->ctx, &l);
}

static void walk_pmd(struct xptilab_walk *w, pmd_t *pmdp, unsigned long va,
		     pteval_t andf, pteval_t orf)
{
	pmd_t pmd = *pmdp;
	pte_t *pte;
	int i;

	if (!(pmd_flags(pmd) & _PAGE_PRESENT))
		return;
	andf &= pmd_flags(pmd);
	orf |= pmd_flags(pmd);
	if (pmd_leaf(pmd)) {
		walk_leaf(w, va, PMD_SIZE, pmd_pfn(pmd), pmd_flags(pmd), andf, orf);
		return;
	}
	pte = (pte_t *)pmd_page_vaddr(pmd);
	for (i = 0; i < PTRS_PER_PTE; i++)
		if (pte_flags(pte[i]) & _PAGE_PRESENT)
			walk_leaf(w, va + i * PAGE_SIZE, PAGE_SIZE,
				  pte_pfn(pte[i]), pte_flags(pte[i]), andf, orf);
}

static void walk_pud(struct xptilab_walk *w, pud_t *pudp, unsigned long va,
		     pteval_t andf, pteval_t orf)
{
	pud_t pud = *pudp;
	pmd_t *pmd;
	int i;

	if (!(pud_flags(pud) & _PAGE_PRESENT))
		return;
	andf &= pud_flags(pud);
	orf |= pud_flags(pud);
	if (pud_leaf(pud)) {
		walk_leaf(w, va, PUD_SIZE, pud_pfn(pud), pud_flags(pud), andf, orf);
		return;
	}
	pmd = pud_pgtable(pud);
	for (i = 0; i < PTRS_PER_PMD; i++)
		walk_pmd(w, pmd + i, va + i * PMD_SIZE, andf, orf);
}

static void walk_p4d(struct xptilab_walk *w, p4d_t *p4dp, unsigned long va,
		     pteval_t andf, pteval_t orf)
{
	p4d_t p4d = *p4dp;
	pud_t *pud;
	int i;

	if (!(p4d_flags(p4d) & _PAGE_PRESENT))
		return;
	andf &= p4d_flags(p4d);
	orf |= p4d_flags(p4d);
	pud = p4d_pgtable(p4d);
	for (i = 0; i < PTRS_PER_PUD; i++)
		walk_pud(w, pud + i, va + i * PUD_SIZE, andf, orf);
}

static unsigned long canonical(unsigned long va)
{
	int bits = pgtable_l5_enabled() ? 57 : 48;

	return (unsigned long)((long)(va << (64 - bits)) >> (64 - bits));
}

static void walk_root(pgd_t *root, xptilab_leaf_fn fn, void *ctx)
{
	struct xptilab_walk w = { .fn = fn, .ctx = ctx };
	int i, j;

	/* The user half is the mirrored task's own tables: not walked. */
	for (i = XPTILAB_USER_PGDS; i < PTRS_PER_PGD; i++) {
		unsigned long va = canonical((unsigned long)i << PGDIR_SHIFT);
		pgd_t pgd = root[i];

		if (!pgtable_l5_enabled()) {
			walk_p4d(&w, (p4d_t *)&root[i], va, EFF_AND, 0);
			continue;
		}
		if (!(pgd_flags(pgd) & _PAGE_PRESENT))
			continue;
		for (j = 0; j < PTRS_PER_P4D; j++)
			walk_p4d(&w, (p4d_t *)pgd_page_vaddr(pgd) + j,
				 va + j * P4D_SIZE, pgd_flags(pgd) & EFF_AND,
				 pgd_flags(pgd));
	}
}

/* ---- debugfs cpuN/shadow: merged ranges ---- */

struct dump_ctx {
	struct seq_file *m;
	bool open;
	unsigned long start, end;
	pteval_t key;
	enum xptilab_kind kind;
};

#define DUMP_KEY (_PAGE_RW | _PAGE_USER | _PAGE_NX | _PAGE_GLOBAL)

static void dump_flush(struct dump_ctx *d)
{
	if (!d->open)
		return;
	seq_printf(d->m, "0x%016lx-0x%016lx %9luK %s %s %s %s %s\n",
		   d->start, d->end, (d->end - d->start) >> 10,
		   d->key & _PAGE_RW ? "RW" : "ro",
		   d->key & _PAGE_NX ? "NX" : "x ",
		   d->key & _PAGE_USER ? "USR" : "sup",
		   d->key & _PAGE_GLOBAL ? "G " : "ng",
		   kind_names[d->kind]);
	d->open = false;
}

static void dump_leaf(void *ctx, const struct xptilab_leaf *l)
{
	struct dump_ctx *d = ctx;
	pteval_t key = l->flags & DUMP_KEY;

	if (d->open && l->va == d->end && key == d->key && l->kind == d->kind) {
		d->end += l->size;
		return;
	}
	dump_flush(d);
	d->open = true;
	d->start = l->va;
	d->end = l->va + l->size;
	d->key = key;
	d->kind = l->kind;
}

int xptilab_shadow_dump(struct seq_file *m, unsigned int cpu)
{
	struct dump_ctx d = { .m = m };

	if (!shadows[cpu]) {
		seq_puts(m, "no shadow root (CPU offline)\n");
		return 0;
	}
	seq_printf(m, "# cpu%u shadow root at pa %#llx, %u-level, clones %s\n",
		   cpu, (u64)__pa(shadows[cpu]->pgd), xptilab_paging_levels(),
		   shadows[cpu]->global ? "global" : "non-global");
	seq_puts(m, "# start-end size perms exec user global kind\n");
	dump_user(m, shadows[cpu]);
	walk_root(shadows[cpu]->pgd, dump_leaf, &d);
	dump_flush(&d);
	return 0;
}

/* ---- audit ---- */

struct audit_ctx {
	struct seq_file *m;
	struct xptilab_shadow *sh;
	const struct xptilab_priv *priv;
	unsigned int cpu;
	unsigned int problems;
	unsigned int clones_seen;
};

static void audit_report(struct audit_ctx *a, unsigned long va,
			 const char *what)
{
	seq_printf(a->m, "cpu%u: 0x%016lx: %s\n", a->cpu, va, what);
	a->problems++;
}

/* Flags a clone must share with the kernel's mapping (G is the knob). */
#define CLONE_SAME	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_PWT | \
			 _PAGE_PCD | _PAGE_PAT | _PAGE_NX)

static void audit_clone(struct audit_ctx *a, const struct xptilab_leaf *l)
{
	unsigned long pfn;
	pgprot_t prot;
	unsigned int i;

	for (i = 0; i < a->sh->nr_clones; i++)
		if (a->sh->clones[i].va == l->va)
			break;
	if (i == a->sh->nr_clones || l->size != PAGE_SIZE) {
		audit_report(a, l->va, "not in the expected set");
		return;
	}
	a->clones_seen++;
	if (xptilab_kernel_leaf(l->va, &pfn, &prot)) {
		audit_report(a, l->va, "clone of a page the kernel no longer maps");
		return;
	}
	if (pfn != l->pfn)
		audit_report(a, l->va, "clone pfn differs from the kernel's");
	if ((pgprot_val(prot) & CLONE_SAME) != (l->flags & CLONE_SAME))
		audit_report(a, l->va, "clone flags differ from the kernel's");
	if (!!(l->flags & _PAGE_GLOBAL) != a->sh->global)
		audit_report(a, l->va, "clone global bit differs from the clone mode");
}

/* Our slot PUD table is the kernel's but for the window's entry. */
static void audit_slot(struct audit_ctx *a)
{
	const pud_t *kpud = xptilab_area_slot_pud();
	unsigned int i, w = xptilab_area_window_index();

	for (i = 0; i < PTRS_PER_PUD; i++)
		if (i != w && pud_val(a->sh->slot_pud[i]) != pud_val(kpud[i]))
			audit_report(a, CPU_ENTRY_AREA_BASE + i * PUD_SIZE,
				     "shared slot entry differs from the kernel's");
}

/* The window: this CPU's private page, non-global, kernel-only, NX. */
static void audit_window(struct audit_ctx *a, const struct xptilab_leaf *l)
{
	if (l->size != PAGE_SIZE || l->pfn != PHYS_PFN(__pa(a->priv)))
		audit_report(a, l->va, "window does not map this CPU's private page");
	if (l->flags & (_PAGE_GLOBAL | _PAGE_USER) || !(l->flags & _PAGE_NX))
		audit_report(a, l->va, "window is global, user or executable");
}

static void audit_leaf(void *ctx, const struct xptilab_leaf *l)
{
	struct audit_ctx *a = ctx;

	if ((l->flags & _PAGE_RW) && !(l->flags & _PAGE_NX))
		audit_report(a, l->va, "writable and executable");
	if (l->kind != KIND_USER && (l->flags & _PAGE_USER))
		audit_report(a, l->va, "user-accessible in the kernel half");
	switch (l->kind) {
	case KIND_CLONE:
		audit_clone(a, l);
		break;
	case KIND_USER:
		audit_report(a, l->va, "user mapping in the kernel half");
		break;
	case KIND_SHARED:
		if (l->va >= xptilab_area_addr(XPTILAB_AREA_WINDOW) &&
		    l->va < xptilab_area_addr(XPTILAB_AREA_WINDOW) + PUD_SIZE)
			audit_window(a, l);
		break;
	}
}

/* Returns the number of problems found on this CPU's shadow root. */
unsigned int xptilab_shadow_audit(struct seq_file *m, unsigned int cpu)
{
	struct xptilab_shadow *sh = shadows[cpu];
	struct audit_ctx a = { .m = m, .sh = sh, .cpu = cpu };
	unsigned long va = CPU_ENTRY_AREA_BASE;
	p4d_t *kp4d, *sp4d;

	if (!sh)
		return 0;
	a.priv = xptilab_priv(cpu);
	kp4d = p4d_offset(pgd_offset_pgd(xptilab_kernel_pgd(), va), va);
	sp4d = p4d_offset(sh->pgd + pgd_index(va), va);
	if (p4d_pfn(*sp4d) != PHYS_PFN(__pa(sh->slot_pud)) ||
	    p4d_pfn(*kp4d) != PHYS_PFN(__pa(xptilab_area_slot_pud())))
		audit_report(&a, va, "shared slot is not our copy of the kernel's");
	else
		audit_slot(&a);
	audit_user(m, sh, cpu, &a.problems);
	walk_root(sh->pgd, audit_leaf, &a);
	if (a.clones_seen != sh->nr_clones)
		audit_report(&a, 0, "a registered clone is missing");
	return a.problems;
}

/* ---- what the user tables can read: the area's pages ---- */

struct exposure_ctx {
	struct seq_file *m;
	u64 *pas;		/* sorted physical addresses of our pages */
	unsigned int npas;
	unsigned int pages, flagged;
	unsigned long words;
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static const char *exposed_as(const struct exposure_ctx *e, u64 v)
{
	u64 pa = v & PTE_PFN_MASK;

	if (v >= PAGE_OFFSET && v < (u64)high_memory)
		return "a directmap address";
	if (v >= MODULES_VADDR && v < MODULES_END)
		return "a module address";
	if (pa && !(v >> 52) &&
	    bsearch(&pa, e->pas, e->npas, sizeof(u64), cmp_u64))
		return "the physical address of a page of xptilab's";
	return NULL;
}

static void exposure_page(void *ctx, unsigned long off, const void *page)
{
	struct exposure_ctx *e = ctx;
	const u64 *w = page;
	unsigned int i;

	e->pages++;
	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++) {
		const char *what = exposed_as(e, READ_ONCE(w[i]));

		e->words++;
		if (!what)
			continue;
		e->flagged++;
		if (e->m)
			seq_printf(e->m, "area+%#lx word %u (mapped in every user table under PTI) holds %s\n",
				   off, i, what);
	}
}

/*
 * Under PTI every user table maps the area, and Meltdown reads it: scan
 * every page it maps for a kernel virtual address (directmap, module) or
 * the physical address of a page xptilab owns (shadow-root tables, data
 * pages). Problems are printed to m; with summary, a count line is.
 * Hotplug lock held (shadow roots).
 */
unsigned int xptilab_exposure_audit(struct seq_file *m, bool summary)
{
	struct exposure_ctx e = { .m = summary ? NULL : m };
	unsigned int cpu, i, max = 0;

	for_each_possible_cpu(cpu)
		max += XPTILAB_MAX_TABLES + 2;
	e.pas = kvmalloc_array(max, sizeof(u64), GFP_KERNEL);
	if (!e.pas) {
		seq_puts(m, "exposure: out of memory\n");
		return 1;
	}
	for_each_possible_cpu(cpu) {
		struct xptilab_shadow *sh = cpu < XPTILAB_MAX_CPUS ?
					    shadows[cpu] : NULL;

		e.pas[e.npas++] = __pa(xptilab_pcpu(cpu));
		e.pas[e.npas++] = __pa(xptilab_priv(cpu));
		for (i = 0; sh && i < sh->nr_tables; i++)
			e.pas[e.npas++] = __pa(sh->tables[i]);
	}
	sort(e.pas, e.npas, sizeof(u64), cmp_u64, NULL);
	xptilab_area_visit_pages(exposure_page, &e);
	kvfree(e.pas);
	if (summary)
		seq_printf(m, "pages %u words %lu kernel_addresses %u\n",
			   e.pages, e.words, e.flagged);
	return e.flagged;
}
