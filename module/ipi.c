// SPDX-License-Identifier: GPL-2.0
/*
 * IPIs.
 *
 * The ipi experiment: after a top-level page-table update, Xen sent an
 * empty "sync" IPI so that every CPU re-copied the guest's L4 into its
 * root_pgt; the 2018 change made it a real global flush IPI. Here the
 * caller (pinned to the initiating CPU) sends each variant's IPI to a set
 * of targets with smp_call_function_many() and waits for all of them; the
 * initiator's latency and every target's handler time are TSC deltas.
 *
 * The storm: one CPU sends Linux call-function IPIs to another back to
 * back, for the race experiment. Each IPI is waited for, so the sender
 * never queues more than one and the rate is whatever the target sustains.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/invpcid.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "layout.h"

#include "xptilab.h"

static void ipi_noop(void *unused)
{
}

static long storm_work(void *arg)
{
	struct xptilab_storm *s = arg;
	unsigned long end = jiffies + msecs_to_jiffies(s->duration_ms);
	long ret;

	while (time_before(jiffies, end)) {
		ret = smp_call_function_single(s->target_cpu, ipi_noop, NULL, 1);
		if (ret)
			return ret;
		s->ipis++;
		if (!(s->ipis & 63))
			cond_resched();
	}
	return 0;
}

long xptilab_ioc_storm(void __user *uarg)
{
	struct xptilab_storm s;
	long ret;

	ret = xptilab_copy_arg(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if (!xptilab_zeroed(s.reserved, sizeof(s.reserved)) || s.ipis) {
		pr_info_ratelimited("storm: reserved and output fields must be zero\n");
		return -EINVAL;
	}
	if (!s.duration_ms || s.duration_ms > XPTILAB_MAX_STORM_MS ||
	    s.from_cpu == s.target_cpu) {
		pr_info_ratelimited("storm: bad duration %u ms or from == target\n",
				    s.duration_ms);
		return -EINVAL;
	}
	cpus_read_lock();
	if (s.from_cpu >= nr_cpu_ids || s.target_cpu >= nr_cpu_ids ||
	    !cpu_online(s.from_cpu) || !cpu_online(s.target_cpu)) {
		pr_info_ratelimited("storm: cpu %u or %u is not online\n",
				    s.from_cpu, s.target_cpu);
		ret = -EINVAL;
	} else {
		ret = work_on_cpu(s.from_cpu, storm_work, &s);
	}
	cpus_read_unlock();
	if (ret)
		return ret;
	if (copy_to_user(uarg, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

struct ipi_ctx {
	unsigned int variant;
	u32 iter;		/* current iteration */
	u32 iterations;
	int slot[XPTILAB_MAX_CPU_BITS];	/* target CPU -> its index */
	u64 *handler;		/* [slot * iterations + iter] */
};

/* Toggle CR4.PGE: flushes every TLB entry, global ones included. */
static void flush_global(void)
{
	unsigned long cr4 = __read_cr4();

	asm volatile("mov %0, %%cr4" : : "r" (cr4 & ~X86_CR4_PGE) : "memory");
	asm volatile("mov %0, %%cr4" : : "r" (cr4) : "memory");
}

/* What each variant's handler does on its CPU (IRQs off). */
void xptilab_sync_local(unsigned int variant)
{
	unsigned int cpu = smp_processor_id();

	switch (variant) {
	case XPTILAB_IPI_SYNC:
		xptilab_shadow_sync_user(cpu);
		break;
	case XPTILAB_IPI_FLUSH:
		xptilab_shadow_sync_user(cpu);
		flush_global();
		break;
	case XPTILAB_IPI_FLUSH_NONGLOBAL:
		xptilab_shadow_sync_user(cpu);
		native_write_cr3(__native_read_cr3());
		break;
	case XPTILAB_IPI_INVPCID:
		xptilab_shadow_sync_user(cpu);
		invpcid_flush_all();
		break;
	default:
		break;
	}
}

static void ipi_handler(void *arg)
{
	struct ipi_ctx *c = arg;
	unsigned int cpu = smp_processor_id();
	u64 t0 = rdtsc_ordered();

	xptilab_sync_local(c->variant);
	c->handler[c->slot[cpu] * c->iterations + c->iter] = rdtsc_ordered() - t0;
	xptilab_pcpu(cpu)->ipi_handled[c->variant]++;
}

#define IPI_INVAL(fmt, ...) XPTILAB_INVAL("ipi", fmt, ##__VA_ARGS__)

static long ipi_targets(const struct xptilab_ipi_run *r, struct cpumask *mask,
			struct ipi_ctx *c)
{
	unsigned int words = DIV_ROUND_UP(r->target_bits, 64), cpu, n = 0;
	u64 bits[XPTILAB_MAX_CPU_BITS / 64] = {};

	if (!r->target_bits || r->target_bits > XPTILAB_MAX_CPU_BITS)
		return IPI_INVAL("target_bits %u not in 1..%u", r->target_bits,
				 XPTILAB_MAX_CPU_BITS);
	if (copy_from_user(bits, u64_to_user_ptr(r->targets),
			   words * sizeof(u64)))
		return -EFAULT;
	cpumask_clear(mask);
	for (cpu = 0; cpu < r->target_bits; cpu++) {
		if (!(bits[cpu / 64] & BIT_ULL(cpu % 64)))
			continue;
		if (cpu >= nr_cpu_ids || !cpu_online(cpu))
			return IPI_INVAL("target cpu %u is not online", cpu);
		if (cpu == r->from_cpu)
			return IPI_INVAL("target set contains the initiator %u",
					 cpu);
		cpumask_set_cpu(cpu, mask);
		c->slot[cpu] = n++;
	}
	/* Bits beyond target_bits in the last word must be clear too. */
	if (r->target_bits % 64 &&
	    bits[words - 1] >> (r->target_bits % 64))
		return IPI_INVAL("bits set beyond target_bits");
	if (!n)
		return IPI_INVAL("empty target set");
	return n;
}

static long ipi_validate(const struct xptilab_ipi_run *r)
{
	if (!xptilab_zeroed(r->reserved, sizeof(r->reserved)) ||
	    r->ntargets || r->tsc_khz)
		return IPI_INVAL("reserved and output fields must be zero");
	if (r->variant >= XPTILAB_IPI_NR_VARIANTS)
		return IPI_INVAL("unknown variant %u", r->variant);
	if (!r->iterations || r->iterations > XPTILAB_MAX_IPI_ITERATIONS)
		return IPI_INVAL("iterations %u not in 1..%u", r->iterations,
				 XPTILAB_MAX_IPI_ITERATIONS);
	if (r->variant == XPTILAB_IPI_INVPCID &&
	    !boot_cpu_has(X86_FEATURE_INVPCID))
		return -EOPNOTSUPP;
	if (r->from_cpu >= nr_cpu_ids || !cpu_online(r->from_cpu))
		return IPI_INVAL("from_cpu %u is not online", r->from_cpu);
	/* The initiator is the caller: it must stay on from_cpu. */
	if (current->nr_cpus_allowed != 1 ||
	    !cpumask_test_cpu(r->from_cpu, current->cpus_ptr))
		return IPI_INVAL("pin the caller to cpu %u first", r->from_cpu);
	return 0;
}

static long ipi_run(struct xptilab_ipi_run *r, struct ipi_ctx *c,
		    const struct cpumask *mask, u64 *latency)
{
	u32 i;

	for (i = 0; i < r->iterations; i++) {
		u64 t0;

		preempt_disable();
		if (smp_processor_id() != r->from_cpu) {
			preempt_enable();
			return IPI_INVAL("caller left cpu %u", r->from_cpu);
		}
		c->iter = i;
		t0 = rdtsc_ordered();
		smp_call_function_many(mask, ipi_handler, c, true);
		latency[i] = rdtsc_ordered() - t0;
		preempt_enable();
		if (!(i & 63))
			cond_resched();
	}
	return 0;
}

long xptilab_ioc_run_ipi(void __user *uarg, const void *owner)
{
	struct xptilab_ipi_run r;
	struct ipi_ctx *c = NULL;
	cpumask_var_t mask;
	u64 *latency = NULL;
	long ret, n;

	ret = xptilab_copy_arg(&r, sizeof(r), uarg);
	if (ret)
		return ret;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ret = -ENOMEM;
		goto out;
	}
	if (mutex_lock_interruptible(&xptilab_run_lock)) {
		ret = -EINTR;
		goto out;
	}
	cpus_read_lock();
	ret = ipi_validate(&r);
	if (ret)
		goto unlock;
	n = ipi_targets(&r, mask, c);
	if (n < 0) {
		ret = n;
		goto unlock;
	}
	r.ntargets = n;
	c->variant = r.variant;
	c->iterations = r.iterations;
	latency = kvcalloc(r.iterations, sizeof(u64), GFP_KERNEL);
	c->handler = kvcalloc((size_t)r.iterations * n, sizeof(u64),
			      GFP_KERNEL);
	if (!latency || !c->handler) {
		ret = -ENOMEM;
		goto unlock;
	}
	if (r.variant != XPTILAB_IPI_EMPTY)
		ret = xptilab_mirror_set(current->mm, owner);
	if (!ret)
		ret = ipi_run(&r, c, mask, latency);
unlock:
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	if (!ret) {
		r.tsc_khz = tsc_khz;
		if (copy_to_user(u64_to_user_ptr(r.latency), latency,
				 r.iterations * sizeof(u64)) ||
		    copy_to_user(u64_to_user_ptr(r.handler), c->handler,
				 (size_t)r.iterations * r.ntargets * sizeof(u64)) ||
		    copy_to_user(uarg, &r, sizeof(r)))
			ret = -EFAULT;
	}
out:
	if (c)
		kvfree(c->handler);
	kfree(c);
	kvfree(latency);
	free_cpumask_var(mask);
	return ret;
}
