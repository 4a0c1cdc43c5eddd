// SPDX-License-Identifier: GPL-2.0
/*
 * The NMI delivery check: does every NMI still reach Linux while the
 * private IDTs are loaded?
 *
 * Linux's NMI entry keeps state on the NMI IST stack below the hardware
 * frame ("NMI executing", the saved iret frames; entry_64.S first_nmi and
 * repeat_nmi) and decides from it whether an NMI is nested. A stub that
 * writes there makes Linux drop NMIs as nested: perf then loses PMIs (and
 * leaves LVTPC masked), the NMI watchdog goes quiet and kdump's shootdown
 * misses CPUs. So one CPU spins in kernel mode, interrupts off, holding a
 * chosen value in %eax (1 was the value the old stub turned into "NMI
 * executing"), while the caller sends it NMIs one by one and waits for
 * each to reach a handler registered with Linux.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "xptilab.h"

struct nmi_ctx {
	struct work_struct work;
	unsigned int cpu;
	u32 eax;
	int spinning;		/* set by the spinner once interrupts are off */
	int stop;		/* set by the caller when it is done */
	atomic_t seen;		/* NMIs our handler saw on cpu while armed */
	int armed;
};

static struct nmi_ctx nmi_ctx;

static int xptilab_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	if (!READ_ONCE(nmi_ctx.armed) ||
	    smp_processor_id() != READ_ONCE(nmi_ctx.cpu))
		return NMI_DONE;
	atomic_inc(&nmi_ctx.seen);
	return NMI_HANDLED;
}

/* Interrupts off, %eax fixed, until the caller says stop. */
static void nmi_spin(struct work_struct *work)
{
	struct nmi_ctx *c = container_of(work, struct nmi_ctx, work);
	unsigned long flags;
	u32 eax = c->eax;

	local_irq_save(flags);
	WRITE_ONCE(c->spinning, 1);
	asm volatile("1:\n\t"
		     "pause\n\t"
		     "cmpl $0, %[stop]\n\t"
		     "je 1b\n\t"
		     : "+a" (eax)
		     : [stop] "m" (c->stop)
		     : "memory");
	local_irq_restore(flags);
	WRITE_ONCE(c->spinning, 0);
}

/* Wait up to ms milliseconds for *flag to become want. */
static bool wait_flag(const int *flag, int want, unsigned int ms)
{
	ktime_t end = ktime_add_ms(ktime_get(), ms);

	while (READ_ONCE(*flag) != want) {
		if (ktime_after(ktime_get(), end))
			return false;
		usleep_range(10, 50);
	}
	return true;
}

/*
 * Send n NMIs to c->cpu, the next only once the last has arrived (or ms
 * passed: a pending NMI would swallow the next one); returns how many
 * arrived, late ones included.
 */
static u32 nmi_send(struct nmi_ctx *c, u32 n, unsigned int ms)
{
	ktime_t end;
	u32 i;

	for (i = 0; i < n && READ_ONCE(c->spinning); i++) {
		end = ktime_add_ms(ktime_get(), ms);
		apic->send_IPI(c->cpu, NMI_VECTOR);
		while ((u32)atomic_read(&c->seen) <= i &&
		       !ktime_after(ktime_get(), end))
			usleep_range(10, 50);
	}
	end = ktime_add_ms(ktime_get(), ms);
	while ((u32)atomic_read(&c->seen) < i && !ktime_after(ktime_get(), end))
		usleep_range(10, 50);
	return min_t(u32, atomic_read(&c->seen), n);
}

#define NMI_INVAL(fmt, ...) XPTILAB_INVAL("nmi", fmt, ##__VA_ARGS__)

static long nmi_validate(const struct xptilab_nmi_check *r)
{
	if (!xptilab_zeroed(r->reserved, sizeof(r->reserved)) || r->delivered)
		return NMI_INVAL("reserved and output fields must be zero");
	if (!r->nmis || r->nmis > XPTILAB_MAX_NMIS)
		return NMI_INVAL("nmis %u not in 1..%u", r->nmis,
				 XPTILAB_MAX_NMIS);
	if (!r->timeout_ms || r->timeout_ms > XPTILAB_MAX_NMI_WAIT_MS)
		return NMI_INVAL("timeout_ms %u not in 1..%u", r->timeout_ms,
				 XPTILAB_MAX_NMI_WAIT_MS);
	/* The target spins with interrupts off: bound how long. */
	if ((u64)r->nmis * r->timeout_ms > 10000)
		return NMI_INVAL("nmis * timeout_ms above 10000 ms");
	if (r->cpu >= nr_cpu_ids || !cpu_online(r->cpu))
		return NMI_INVAL("cpu %u is not online", r->cpu);
	/* The caller must never be scheduled on the spinning CPU. */
	if (current->nr_cpus_allowed != 1 ||
	    cpumask_test_cpu(r->cpu, current->cpus_ptr))
		return NMI_INVAL("pin the caller to one CPU other than %u",
				 r->cpu);
	return 0;
}

long xptilab_ioc_nmi_check(void __user *uarg)
{
	struct xptilab_nmi_check r;
	struct nmi_ctx *c = &nmi_ctx;
	long ret;

	ret = xptilab_copy_arg(&r, sizeof(r), uarg);
	if (ret)
		return ret;
	if (mutex_lock_interruptible(&xptilab_run_lock))
		return -EINTR;
	cpus_read_lock();
	ret = nmi_validate(&r);
	if (ret)
		goto out;
	memset(c, 0, sizeof(*c));
	INIT_WORK(&c->work, nmi_spin);
	c->cpu = r.cpu;
	c->eax = r.eax;
	ret = register_nmi_handler(NMI_LOCAL, xptilab_nmi_handler, 0,
				   "xptilab");
	if (ret)
		goto out;
	WRITE_ONCE(c->armed, 1);
	queue_work_on(r.cpu, system_highpri_wq, &c->work);
	if (wait_flag(&c->spinning, 1, 2000)) {
		r.delivered = nmi_send(c, r.nmis, r.timeout_ms);
	} else {
		pr_info_ratelimited("nmi: cpu %u did not start spinning\n",
				    r.cpu);
		ret = -ETIMEDOUT;
	}
	WRITE_ONCE(c->stop, 1);
	flush_work(&c->work);
	WRITE_ONCE(c->armed, 0);
	unregister_nmi_handler(NMI_LOCAL, "xptilab");
out:
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	if (ret)
		return ret;
	if (r.delivered != r.nmis)
		pr_err("nmi: %u of %u NMIs to cpu%u (eax=%#x) reached Linux\n",
		       r.delivered, r.nmis, r.cpu, r.eax);
	if (copy_to_user(uarg, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}
