// SPDX-License-Identifier: GPL-2.0
/*
 * The cr3 experiment: what one full -> shadow -> full round trip costs on
 * one CPU, per variant of the XPTI design:
 *
 *  plain      two CR3 writes, no global flush: the lower bound;
 *  nonglobal  non-global clones, global flush (CR4.PGE toggle) only on the
 *             way into the shadow root: Xen after 9d1d31ad94;
 *  global     global clones, global flush on both switches: Xen before it;
 *  pcid       shadow root under its own PCID, NOFLUSH both ways.
 *
 * It runs in a kworker bound to the CPU, in batches with interrupts off;
 * each sample is preceded by a timer-overhead sample of the same sequence
 * without the CR3 writes. A sample during which an NMI arrived, or an entry
 * was taken on the shadow root, is dropped and taken again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/hardirq.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "layout.h"
#include "xptilab.h"

#define CR3_BATCH		64
/* A PCID Linux never uses: kernel ASIDs are 1..6, user ones set bit 11. */
#define XPTILAB_SHADOW_PCID	0x400ULL

struct cr3_job {
	struct xptilab_cr3_run run;
	u64 *samples;
	u64 *overhead;
	u64 *touch;
	void **pages;
};

static u64 time_touch(void **pages, u32 n)
{
	u64 t0 = rdtsc_ordered();
	u32 k;

	for (k = 0; k < n; k++)
		(void)READ_ONCE(*(unsigned long *)pages[k]);
	return rdtsc_ordered() - t0;
}

static void set_clones(unsigned int cpu, bool global)
{
	preempt_disable();
	xptilab_shadow_set_global(cpu, global);
	__flush_tlb_all();
	preempt_enable();
}

static long cr3_work(void *arg)
{
	struct cr3_job *j = arg;
	struct xptilab_cr3_run *r = &j->run;
	unsigned int cpu = r->cpu;
	struct xptilab_pcpu *pcpu = xptilab_pcpu(cpu);
	bool pcid = r->variant == XPTILAB_CR3_PCID;
	u64 shadow = xptilab_shadow_cr3(cpu);
	u64 max_attempts = 2ULL * r->iterations + 1000, attempts = 0;
	struct xptilab_priv *priv = xptilab_priv(cpu);
	struct xptilab_loop loop = { .probe = (u64)&priv->canary };
	struct xptilab_loop idle;
	/* An entry configuration's clone mode outlives this run. */
	bool was_global = xptilab_shadow_is_global(cpu);
	u32 i = 0;

	if (!shadow)
		return -ENODEV;
	loop.mode = XPTILAB_LOOP_SWITCH;
	r->cr3_writes = 2;
	switch (r->variant) {
	case XPTILAB_CR3_NONGLOBAL:
		set_clones(cpu, false);
		loop.mode |= XPTILAB_LOOP_FLUSH_IN;
		r->global_flushes = 1;
		break;
	case XPTILAB_CR3_GLOBAL:
		set_clones(cpu, true);
		loop.mode |= XPTILAB_LOOP_FLUSH_IN | XPTILAB_LOOP_FLUSH_OUT;
		r->global_flushes = 2;
		break;
	default:
		r->global_flushes = 0;
		break;
	}
	while (i < r->iterations && attempts < max_attempts) {
		unsigned long flags;
		u64 full;
		int k;

		local_irq_save(flags);
		/*
		 * CR4 is written back in every round trip: read it with
		 * interrupts off, since cond_resched() below may run a task
		 * that changes it (TSD, PCE).
		 */
		loop.cr4 = __read_cr4();
		loop.cr4_nopge = loop.cr4 & ~X86_CR4_PGE;
		idle = loop;
		idle.mode = 0;
		full = __read_cr3();
		WRITE_ONCE(priv->full_cr3, full);
		loop.full_cr3 = full;
		loop.shadow_cr3 = shadow;
		if (pcid) {
			/* A first switch without NOFLUSH drops stale entries. */
			loop.shadow_cr3 = shadow | XPTILAB_SHADOW_PCID;
			xptilab_cr3_roundtrip(&loop);
			loop.shadow_cr3 |= X86_CR3_PCID_NOFLUSH;
			loop.full_cr3 |= X86_CR3_PCID_NOFLUSH;
		}
		for (k = 0; k < CR3_BATCH && i < r->iterations; k++) {
			u64 ev = READ_ONCE(pcpu->events);
			unsigned int nmi = this_cpu_read(irq_stat.__nmi_count);
			u64 o, t, tt = 0;

			attempts++;
			o = xptilab_cr3_roundtrip(&idle);
			t = xptilab_cr3_roundtrip(&loop);
			if (r->touch_pages)
				tt = time_touch(j->pages, r->touch_pages);
			if (READ_ONCE(pcpu->events) != ev ||
			    this_cpu_read(irq_stat.__nmi_count) != nmi) {
				r->dropped++;
				continue;
			}
			j->overhead[i] = o;
			j->samples[i] = t;
			if (j->touch)
				j->touch[i] = tt;
			i++;
		}
		local_irq_restore(flags);
		cond_resched();
	}
	r->n = i;
	set_clones(cpu, was_global);
	return 0;
}

#define CR3_INVAL(fmt, ...) XPTILAB_INVAL("cr3", fmt, ##__VA_ARGS__)

static long cr3_validate(const struct xptilab_cr3_run *r)
{
	size_t bytes = (size_t)r->iterations * sizeof(u64);

	if (!xptilab_zeroed(r->reserved, sizeof(r->reserved)) || r->flags)
		return CR3_INVAL("reserved fields and flags must be zero");
	/* Before anything indexes per-CPU data with it. */
	if (r->cpu >= nr_cpu_ids || !cpu_possible(r->cpu))
		return CR3_INVAL("cpu %u does not exist", r->cpu);
	if (r->variant >= XPTILAB_CR3_NR_VARIANTS)
		return CR3_INVAL("unknown variant %u", r->variant);
	if (!r->iterations || r->iterations > XPTILAB_MAX_ITERATIONS)
		return CR3_INVAL("iterations %u not in 1..%u", r->iterations,
				 XPTILAB_MAX_ITERATIONS);
	if (r->touch_pages > XPTILAB_MAX_TOUCH_PAGES)
		return CR3_INVAL("touch_pages %u above %u", r->touch_pages,
				 XPTILAB_MAX_TOUCH_PAGES);
	if (!r->touch_pages != !r->touch_samples)
		return CR3_INVAL("touch_samples must be given iff touch_pages");
	if (r->n || r->dropped || r->cr3_writes || r->global_flushes ||
	    r->shadow_events || r->tsc_khz)
		return CR3_INVAL("output fields must be zero on input");
	if (!r->samples || !r->overhead ||
	    !access_ok(u64_to_user_ptr(r->samples), bytes) ||
	    !access_ok(u64_to_user_ptr(r->overhead), bytes) ||
	    (r->touch_samples &&
	     !access_ok(u64_to_user_ptr(r->touch_samples), bytes)))
		return -EFAULT;
	if (r->variant == XPTILAB_CR3_PCID &&
	    (!boot_cpu_has(X86_FEATURE_PCID) || !(__read_cr4() & X86_CR4_PCIDE)))
		return -EOPNOTSUPP;
	if ((r->variant == XPTILAB_CR3_GLOBAL ||
	     r->variant == XPTILAB_CR3_NONGLOBAL) &&
	    !(__read_cr4() & X86_CR4_PGE))
		return -EOPNOTSUPP;
	return 0;
}

static void cr3_free(struct cr3_job *j)
{
	u32 k;

	if (j->pages)
		for (k = 0; k < j->run.touch_pages; k++)
			xptilab_free_page(j->pages[k]);
	kvfree(j->pages);
	kvfree(j->samples);
	kvfree(j->overhead);
	kvfree(j->touch);
}

static int cr3_alloc(struct cr3_job *j)
{
	u32 n = j->run.iterations, k;
	int node = cpu_to_node(j->run.cpu);

	j->samples = kvcalloc(n, sizeof(u64), GFP_KERNEL);
	j->overhead = kvcalloc(n, sizeof(u64), GFP_KERNEL);
	if (!j->samples || !j->overhead)
		return -ENOMEM;
	if (!j->run.touch_pages)
		return 0;
	j->touch = kvcalloc(n, sizeof(u64), GFP_KERNEL);
	j->pages = kvcalloc(j->run.touch_pages, sizeof(void *), GFP_KERNEL);
	if (!j->touch || !j->pages)
		return -ENOMEM;
	for (k = 0; k < j->run.touch_pages; k++) {
		j->pages[k] = xptilab_zalloc_page(node);
		if (!j->pages[k])
			return -ENOMEM;
	}
	return 0;
}

static int cr3_copy_out(struct cr3_job *j, void __user *uarg)
{
	struct xptilab_cr3_run *r = &j->run;
	size_t bytes = (size_t)r->n * sizeof(u64);

	if (copy_to_user(u64_to_user_ptr(r->samples), j->samples, bytes) ||
	    copy_to_user(u64_to_user_ptr(r->overhead), j->overhead, bytes) ||
	    (j->touch &&
	     copy_to_user(u64_to_user_ptr(r->touch_samples), j->touch, bytes)) ||
	    copy_to_user(uarg, r, sizeof(*r)))
		return -EFAULT;
	return 0;
}

long xptilab_ioc_run_cr3(void __user *uarg)
{
	struct cr3_job j = {};
	struct xptilab_pcpu *pcpu;
	u64 ev0;
	long ret;

	ret = xptilab_copy_arg(&j.run, sizeof(j.run), uarg);
	if (ret)
		return ret;
	ret = cr3_validate(&j.run);
	if (ret)
		return ret;
	ret = cr3_alloc(&j);
	if (ret)
		goto out;
	if (mutex_lock_interruptible(&xptilab_run_lock)) {
		ret = -EINTR;
		goto out;
	}
	cpus_read_lock();
	if (j.run.cpu >= nr_cpu_ids || !cpu_online(j.run.cpu)) {
		ret = CR3_INVAL("cpu %u is not online", j.run.cpu);
	} else {
		pcpu = xptilab_pcpu(j.run.cpu);
		ev0 = READ_ONCE(pcpu->events);
		ret = work_on_cpu(j.run.cpu, cr3_work, &j);
		j.run.shadow_events = READ_ONCE(pcpu->events) - ev0;
	}
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	j.run.tsc_khz = tsc_khz;
	if (!ret)
		ret = cr3_copy_out(&j, uarg);
out:
	cr3_free(&j);
	return ret;
}
