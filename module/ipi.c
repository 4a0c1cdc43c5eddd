// SPDX-License-Identifier: GPL-2.0
/*
 * IPIs. The storm: one CPU sends Linux call-function IPIs to another back
 * to back, for the race experiment. Each IPI is waited for, so the sender
 * never queues more than one and the rate is whatever the target sustains.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

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
