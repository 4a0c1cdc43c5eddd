// SPDX-License-Identifier: GPL-2.0
/*
 * The stale-translation experiment: after a top-level (L4) update, which
 * IPI is needed so that no CPU reads through a stale translation? The
 * question Beulich and Cooper left open in 2018 (docs/stale.md).
 *
 * The full root is the caller's own page tables: the target CPU runs a
 * worker on the caller's mm (kthread_use_mm), so that nobody else's tables
 * are touched and Linux's lazy-TLB switches cannot move it elsewhere. The
 * test address lies in a top-level slot of the kernel half that Linux
 * leaves empty (the hypervisor hole), so no Linux code ever reads it and
 * no new page table copies it (pgd_ctor copies from swapper_pg_dir, not
 * from the caller). Two subtrees of our own map it to two pages holding
 * two markers; the slot's entry in the full root, and the copy of it in
 * the target's shadow root, select one subtree or the other.
 *
 * One trial, target side (a worker bound to the target, preemption off):
 * IRQs off; put the old subtree in both roots; flush everything (CR4.PGE
 * toggle); read the address through the full root or through the shadow
 * root (the fill); IRQs on and wait. Initiator (the caller, pinned): point
 * the full root's slot at the new subtree (the L4 update), send the IPI
 * variant (SYNC copies the slot into the target's shadow root, FLUSH* then
 * flush as the ipi experiment does), and let the target go on. Target,
 * IRQs off: read on the full root with no CR3 write since the fill
 * (SAME), then switch to the shadow root and read there (SHADOW), then
 * back to the full root and read (FULL). Reading the old marker is stale.
 *
 * Safety: the shadow-root read runs in entry.S (xptilab_stale_read), from
 * the cloned entry text, touching only registers and the test address,
 * which the shadow root always maps (its slot is ours and only ever holds
 * one of our subtrees). The private page's full_cr3 is set first, so that
 * an NMI there goes back to the full root. Everything is torn down (slot cleared in
 * both roots, every CPU's TLB flushed) before the pages are freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/hardirq.h>
#include <asm/invpcid.h>
#include <asm/pgtable.h>
#include <asm/processor-flags.h>
#include <asm/tlbflush.h>

#include "layout.h"
#include "xptilab.h"

/* A slot of the hypervisor hole (Linux's guard hole), 4- and 5-level. */
#define STALE_SLOT		257
#define STALE_OLD		0x444c4f454c415453ULL	/* "STALEOLD" */
#define STALE_NEW		0x57454e454c415453ULL	/* "STALENEW" */
#define STALE_LEVELS		4	/* p4d (5-level only), pud, pmd, pte */
/*
 * The test page's index in its page table: odd, so that the address does
 * not share a slot of a direct-mapped software TLB (QEMU's, Bochs's) with
 * the 2M-aligned kernel text and data the target runs meanwhile, which
 * would evict the entry under test.
 */
#define STALE_PTE_INDEX		0x1b7
/* How long either side waits for the other, in jiffies of guest time. */
#define STALE_WAIT		(5 * HZ)

enum { PH_IDLE, PH_GO, PH_FILLED, PH_SENT, PH_READ, PH_STOP };

struct stale_tree {
	void *table[STALE_LEVELS];
	u64 *page;
	pgdval_t top;		/* the top-level entry selecting this tree */
};

struct stale_ctx {
	struct xptilab_stale_run run;
	struct mm_struct *mm;
	pgd_t *full;		/* the caller's (kernel) top-level table */
	pgd_t *shadow;		/* the target's shadow root */
	unsigned long va;
	struct stale_tree tree[2];
	struct work_struct work;
	atomic_t phase;
	int err;
	bool nmi_or_event;	/* this trial was disturbed */
};

static unsigned long stale_va(void)
{
	unsigned long va = (unsigned long)STALE_SLOT << PGDIR_SHIFT;

	/* Sign-extend: the slot is in the upper half. */
	va |= ~((1UL << (PGDIR_SHIFT + 9)) - 1);
	return va + ((unsigned long)STALE_PTE_INDEX << PAGE_SHIFT);
}

static void stale_tree_free(struct stale_tree *t)
{
	int i;

	for (i = 0; i < STALE_LEVELS; i++)
		if (t->table[i])
			xptilab_free_page(t->table[i]);
	if (t->page)
		xptilab_free_page(t->page);
	memset(t, 0, sizeof(*t));
}

/*
 * Tables for va down to a page: index 0 at every level below the top but
 * the last, STALE_PTE_INDEX there.
 */
static int stale_tree_build(struct stale_tree *t, int node, u64 marker)
{
	int first = pgtable_l5_enabled() ? 0 : 1, i;

	t->page = xptilab_zalloc_page(node);
	if (!t->page)
		return -ENOMEM;
	t->page[0] = marker;
	for (i = first; i < STALE_LEVELS; i++) {
		t->table[i] = xptilab_zalloc_page(node);
		if (!t->table[i])
			return -ENOMEM;
	}
	for (i = first; i < STALE_LEVELS - 1; i++)
		*(u64 *)t->table[i] = _KERNPG_TABLE | __pa(t->table[i + 1]);
	t->top = _KERNPG_TABLE | __pa(t->table[first]);
	return 0;
}

/* The test leaf: read-only, not executable, global or not. */
static void stale_tree_leaf(struct stale_tree *t, bool global)
{
	pteval_t f = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX | _PAGE_ENC;

	if (global)
		f |= _PAGE_GLOBAL;
	f &= __supported_pte_mask;
	WRITE_ONCE(((u64 *)t->table[STALE_LEVELS - 1])[STALE_PTE_INDEX],
		   __pa(t->page) | f);
}

/* Toggle CR4.PGE: every TLB entry goes, global ones and paging caches too. */
static void stale_flush_global(void)
{
	unsigned long cr4 = __read_cr4();

	asm volatile("mov %0, %%cr4" : : "r" (cr4 & ~X86_CR4_PGE) : "memory");
	asm volatile("mov %0, %%cr4" : : "r" (cr4) : "memory");
}

/* The IPI variants, as the ipi experiment's handlers do them. */
static void stale_ipi(void *arg)
{
	struct stale_ctx *c = arg;
	unsigned int v = c->run.variant;

	if (v == XPTILAB_IPI_EMPTY)
		return;
	/* SYNC: the shadow root re-copies the top-level entry. */
	WRITE_ONCE(c->shadow[STALE_SLOT], READ_ONCE(c->full[STALE_SLOT]));
	switch (v) {
	case XPTILAB_IPI_FLUSH:
		stale_flush_global();
		break;
	case XPTILAB_IPI_FLUSH_NONGLOBAL:
		native_write_cr3(__native_read_cr3());
		break;
	case XPTILAB_IPI_INVPCID:
		invpcid_flush_all();
		break;
	default:
		break;
	}
}

/* Wait for phase 'want' (or STOP); false on STOP or timeout. */
static bool stale_wait(struct stale_ctx *c, int want)
{
	unsigned long end = jiffies + STALE_WAIT;
	int ph;

	while ((ph = atomic_read_acquire(&c->phase)) != want) {
		if (ph == PH_STOP || time_after(jiffies, end))
			return false;
		cpu_relax();
	}
	return true;
}

static void stale_count(u32 *stale, u32 *fresh, u32 *other, int st, u64 v)
{
	if (v == STALE_OLD)
		stale[st]++;
	else if (v == STALE_NEW)
		fresh[st]++;
	else
		other[st]++;
}

/*
 * One trial on the target, between GO and READ. A trial that does not
 * start on the full root (the worker was moved off it) still takes part in
 * the handshake, but reads nothing and counts as disturbed.
 */
static void stale_trial(struct stale_ctx *c, struct xptilab_pcpu *pcpu,
			u64 shadow_cr3, u64 *r, bool *ok)
{
	struct xptilab_stale_run *run = &c->run;
	unsigned long full_pa = __pa(c->full), flags;
	unsigned int nmi;
	u64 ev, full_cr3, v;
	bool valid;

	*ok = false;
	local_irq_save(flags);
	nmi = this_cpu_read(irq_stat.__nmi_count);
	ev = READ_ONCE(pcpu->events);
	full_cr3 = __read_cr3();
	valid = (full_cr3 & CR3_ADDR_MASK) == full_pa;
	if (valid) {
		WRITE_ONCE(xptilab_priv(smp_processor_id())->full_cr3, full_cr3);
		WRITE_ONCE(c->full[STALE_SLOT], __pgd(c->tree[0].top));
		WRITE_ONCE(c->shadow[STALE_SLOT], __pgd(c->tree[0].top));
		stale_flush_global();
		if (run->fill == XPTILAB_STALE_FILL_SHADOW)
			v = xptilab_stale_read(shadow_cr3, full_cr3, c->va);
		else
			v = READ_ONCE(*(u64 *)c->va);
		if (v != STALE_OLD)
			run->fill_errors++;
	}
	local_irq_restore(flags);

	atomic_set_release(&c->phase, PH_FILLED);
	if (!stale_wait(c, PH_SENT))
		return;

	local_irq_save(flags);
	/* No CR3 write since the fill: the same root, or it is disturbed. */
	if (valid && __read_cr3() == full_cr3) {
		r[XPTILAB_STALE_SAME] = READ_ONCE(*(u64 *)c->va);
		WRITE_ONCE(xptilab_priv(smp_processor_id())->full_cr3, full_cr3);
		r[XPTILAB_STALE_SHADOW] = xptilab_stale_read(shadow_cr3, full_cr3, c->va);
		r[XPTILAB_STALE_FULL] = READ_ONCE(*(u64 *)c->va);
		*ok = this_cpu_read(irq_stat.__nmi_count) == nmi &&
		      READ_ONCE(pcpu->events) == ev;
	}
	local_irq_restore(flags);
}

static void stale_target(struct work_struct *w)
{
	struct stale_ctx *c = container_of(w, struct stale_ctx, work);
	struct xptilab_stale_run *run = &c->run;
	unsigned int cpu = smp_processor_id();
	struct xptilab_pcpu *pcpu = xptilab_pcpu(cpu);
	u64 shadow_cr3 = READ_ONCE(xptilab_priv(cpu)->shadow_cr3);
	u32 t;
	int st;

	if (cpu != run->target_cpu || !shadow_cr3) {
		c->err = -ENODEV;
		atomic_set_release(&c->phase, PH_STOP);
		return;
	}
	kthread_use_mm(c->mm);
	preempt_disable();
	xptilab_shadow_set_global(cpu, run->global);
	__flush_tlb_all();
	preempt_enable();

	for (t = 0; t < run->trials; t++) {
		u64 r[XPTILAB_STALE_NR_STATES] = {};
		bool ok;

		if (!stale_wait(c, PH_GO))
			break;
		preempt_disable();
		stale_trial(c, pcpu, shadow_cr3, r, &ok);
		preempt_enable();
		if (atomic_read(&c->phase) == PH_STOP)
			break;
		if (ok) {
			run->done++;
			for (st = 0; st < XPTILAB_STALE_NR_STATES; st++)
				stale_count(run->stale, run->fresh, run->other,
					    st, r[st]);
		} else {
			run->disturbed++;
		}
		atomic_set_release(&c->phase, PH_READ);
		cond_resched();
	}

	preempt_disable();
	WRITE_ONCE(c->full[STALE_SLOT], __pgd(0));
	WRITE_ONCE(c->shadow[STALE_SLOT], __pgd(0));
	xptilab_shadow_set_global(cpu, xptilab_clone_global);
	WRITE_ONCE(xptilab_priv(cpu)->full_cr3, __read_cr3());
	__flush_tlb_all();
	preempt_enable();
	kthread_unuse_mm(c->mm);
}

/* The initiator's side of the trials: the caller, pinned to from_cpu. */
static void stale_initiate(struct stale_ctx *c)
{
	u32 t;

	for (t = 0; t < c->run.trials; t++) {
		atomic_set_release(&c->phase, PH_GO);
		if (!stale_wait(c, PH_FILLED))
			break;
		/* The L4 update. */
		WRITE_ONCE(c->full[STALE_SLOT], __pgd(c->tree[1].top));
		if (c->run.variant != XPTILAB_STALE_NO_IPI)
			smp_call_function_single(c->run.target_cpu, stale_ipi, c, 1);
		atomic_set_release(&c->phase, PH_SENT);
		if (!stale_wait(c, PH_READ))
			break;
		if (fatal_signal_pending(current))
			break;
	}
	atomic_set_release(&c->phase, PH_STOP);
}

static void stale_flush_one(void *unused)
{
	__flush_tlb_all();
}

#define STALE_INVAL(fmt, ...) XPTILAB_INVAL("stale", fmt, ##__VA_ARGS__)

static long stale_validate(const struct xptilab_stale_run *r)
{
	if (!xptilab_zeroed(r->reserved, sizeof(r->reserved)) || r->pad)
		return STALE_INVAL("reserved fields must be zero");
	if (r->done || r->disturbed || r->fill_errors ||
	    !xptilab_zeroed(r->stale, sizeof(r->stale)) ||
	    !xptilab_zeroed(r->fresh, sizeof(r->fresh)) ||
	    !xptilab_zeroed(r->other, sizeof(r->other)))
		return STALE_INVAL("output fields must be zero on input");
	if (r->from_cpu >= nr_cpu_ids || r->target_cpu >= nr_cpu_ids ||
	    r->from_cpu == r->target_cpu)
		return STALE_INVAL("cpus %u -> %u: two different CPUs needed",
				   r->from_cpu, r->target_cpu);
	if (r->variant >= XPTILAB_STALE_NR_VARIANTS)
		return STALE_INVAL("unknown variant %u", r->variant);
	if (r->global > 1 || r->fill >= XPTILAB_STALE_NR_FILLS)
		return STALE_INVAL("global %u / fill %u out of range",
				   r->global, r->fill);
	if (!r->trials || r->trials > XPTILAB_MAX_STALE_TRIALS)
		return STALE_INVAL("trials %u not in 1..%u", r->trials,
				   XPTILAB_MAX_STALE_TRIALS);
	if (r->variant == XPTILAB_IPI_INVPCID &&
	    !boot_cpu_has(X86_FEATURE_INVPCID))
		return -EOPNOTSUPP;
	if (r->global && !(__read_cr4() & X86_CR4_PGE))
		return -EOPNOTSUPP;
	return 0;
}

static long stale_run(struct stale_ctx *c)
{
	struct xptilab_stale_run *r = &c->run;
	int node = cpu_to_node(r->target_cpu), i;
	long ret;

	if (!cpu_online(r->target_cpu) || !cpu_online(r->from_cpu))
		return STALE_INVAL("cpu %u or %u is not online",
				   r->from_cpu, r->target_cpu);
	if (current->nr_cpus_allowed != 1 ||
	    !cpumask_test_cpu(r->from_cpu, current->cpus_ptr))
		return STALE_INVAL("the caller must be pinned to cpu %u",
				   r->from_cpu);
	c->shadow = (pgd_t *)READ_ONCE(xptilab_priv(r->target_cpu)->shadow_va);
	if (!c->shadow)
		return -ENODEV;
	c->full = (pgd_t *)c->mm->pgd;
	/* Raw values: pgd_none() is always false with 4-level paging. */
	if (pgd_val(READ_ONCE(c->full[STALE_SLOT])) ||
	    pgd_val(READ_ONCE(c->shadow[STALE_SLOT]))) {
		pr_info_ratelimited("stale: top-level slot %d is in use\n",
				    STALE_SLOT);
		return -EBUSY;
	}
	for (i = 0; i < 2; i++) {
		ret = stale_tree_build(&c->tree[i], node,
				       i ? STALE_NEW : STALE_OLD);
		if (ret)
			return ret;
		stale_tree_leaf(&c->tree[i], r->global);
	}
	c->va = stale_va();
	atomic_set(&c->phase, PH_IDLE);
	INIT_WORK(&c->work, stale_target);
	queue_work_on(r->target_cpu, system_highpri_wq, &c->work);
	stale_initiate(c);
	flush_work(&c->work);
	/* The target cleared the slot; no CPU may keep a walk into the trees. */
	WRITE_ONCE(c->full[STALE_SLOT], __pgd(0));
	on_each_cpu(stale_flush_one, NULL, 1);
	if (c->err)
		return c->err;
	if (r->done + r->disturbed < r->trials && fatal_signal_pending(current))
		return -EINTR;
	return 0;
}

long xptilab_ioc_run_stale(void __user *uarg)
{
	struct stale_ctx *c;
	long ret;
	int i;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = xptilab_copy_arg(&c->run, sizeof(c->run), uarg);
	if (!ret)
		ret = stale_validate(&c->run);
	if (ret)
		goto out;
	if (!current->mm) {
		ret = -EINVAL;
		goto out;
	}
	c->mm = current->mm;
	mmgrab(c->mm);
	if (mutex_lock_interruptible(&xptilab_run_lock)) {
		ret = -EINTR;
		goto drop;
	}
	cpus_read_lock();
	ret = stale_run(c);
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	if (!ret && copy_to_user(uarg, &c->run, sizeof(c->run)))
		ret = -EFAULT;
drop:
	mmdrop(c->mm);
out:
	for (i = 0; i < 2; i++)
		stale_tree_free(&c->tree[i]);
	kfree(c);
	return ret;
}
