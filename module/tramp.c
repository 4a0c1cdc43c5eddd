// SPDX-License-Identifier: GPL-2.0
/*
 * Trampoline configuration and counters. The trampolines themselves are in
 * entry.S; this sets, per CPU, what they do (mode and trap-gate window) and
 * the clone mode that goes with it, and reads the per-CPU counters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/mem_encrypt.h>
#include <linux/mutex.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/segment.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "layout.h"
#include "xptilab.h"

/*
 * The test vectors serve one task: the one whose descriptor last
 * configured them (ENTRY_CONFIG, or a session START/SYNC). Every CPU's
 * data page holds its user root, which the trampolines compare with CR3;
 * anyone else gets the #GP of a vector without a user gate. The mm is
 * grabbed so that its pgd, and so that root, cannot be reused by another
 * task while it is recorded. Run lock held.
 */
static const void *owner_file;
static struct mm_struct *owner_mm;

static void owner_write(u64 root)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		WRITE_ONCE(xptilab_pcpu(cpu)->towner, root);
}

void xptilab_owner_set(const void *file)
{
	if (owner_mm != current->mm) {
		xptilab_owner_release(owner_file);
		mmgrab(current->mm);
		owner_mm = current->mm;
	}
	owner_file = file;
	owner_write(xptilab_user_root(current->mm));
}

/* On each CPU: xptilab's stub on vector 0x80 again (after LINUX_INT80). */
static void int80_stub(void *unused)
{
	xptilab_idt_int80(smp_processor_id(), false);
}

/* The owner's descriptor is closing (or another task takes over). */
void xptilab_owner_release(const void *file)
{
	if (!owner_mm || owner_file != file)
		return;
	owner_write(0);
	on_each_cpu(int80_stub, NULL, 1);
	mmdrop(owner_mm);
	owner_mm = NULL;
	owner_file = NULL;
}

/*
 * CR3 writes of one round trip from the task's own tables (entry.S): to the
 * shadow root and back around the entry and exit switches, and under PTI
 * first to the full root, where the private page is reachable. In a
 * session the task is on the shadow root already: 2.
 */
#define XPTILAB_TRAMP_CR3_WRITES (boot_cpu_has(X86_FEATURE_PTI) ? 5 : 4)

struct tramp_set {
	unsigned int cpu;
	u64 tmode;
	u64 window;
	bool global;
	bool linux_int80;
};

/* On the CPU itself, with interrupts off: no trampoline is running. */
static void tramp_apply(void *arg)
{
	struct tramp_set *t = arg;
	struct xptilab_pcpu *p = xptilab_pcpu(t->cpu);

	xptilab_shadow_set_global(t->cpu, t->global);
	__flush_tlb_all();
	WRITE_ONCE(p->twindow, t->window);
	WRITE_ONCE(p->tmode, t->tmode);
	/*
	 * Linux's int $0x80 gate must never meet a session here: disarm it.
	 * A session running here was ended by this IPI's entry.
	 */
	if (t->linux_int80)
		WRITE_ONCE(p->sess_pgd, 0);
	xptilab_idt_int80(t->cpu, t->linux_int80);
}

long xptilab_ioc_entry_config(void __user *uarg, const void *owner)
{
	struct xptilab_entry_config c;
	struct tramp_set t;
	long ret;

	ret = xptilab_copy_arg(&c, sizeof(c), uarg);
	if (ret)
		return ret;
	if (!xptilab_zeroed(c.reserved, sizeof(c.reserved)) ||
	    c.vector_gate || c.vector_trap || c.cr3_writes || c.global_flushes) {
		pr_info_ratelimited("entry: reserved and output fields must be zero\n");
		return -EINVAL;
	}
	if (c.mode >= XPTILAB_ENTRY_NR_MODES || c.window > XPTILAB_MAX_WINDOW) {
		pr_info_ratelimited("entry: mode %u or window %u out of range\n",
				    c.mode, c.window);
		return -EINVAL;
	}
	t.cpu = c.cpu;
	t.window = c.window;
	t.global = c.mode == XPTILAB_ENTRY_XPTI_GLOBAL;
	t.linux_int80 = c.mode == XPTILAB_ENTRY_LINUX_INT80;
	if (t.linux_int80 && !xptilab_idt_has_int80()) {
		pr_info_ratelimited("entry: mode LINUX_INT80: Linux has no int $0x80 gate (no IA32 emulation)\n");
		return -EOPNOTSUPP;
	}
	switch (c.mode) {
	case XPTILAB_ENTRY_LINUX_INT80:
	case XPTILAB_ENTRY_GATE:
		t.tmode = 0;
		t.global = xptilab_clone_global;
		c.cr3_writes = 0;
		c.global_flushes = 0;
		break;
	case XPTILAB_ENTRY_XPTI:
		t.tmode = XPTILAB_TRAMP_SWITCH | XPTILAB_TRAMP_FLUSH_EXIT;
		c.cr3_writes = XPTILAB_TRAMP_CR3_WRITES;
		c.global_flushes = 1;
		break;
	default:
		t.tmode = XPTILAB_TRAMP_SWITCH | XPTILAB_TRAMP_FLUSH_EXIT |
			  XPTILAB_TRAMP_FLUSH_ENTRY;
		c.cr3_writes = XPTILAB_TRAMP_CR3_WRITES;
		c.global_flushes = 2;
		break;
	}
	if (mutex_lock_interruptible(&xptilab_run_lock))
		return -EINTR;
	cpus_read_lock();
	if (c.cpu >= nr_cpu_ids || !cpu_online(c.cpu)) {
		pr_info_ratelimited("entry: cpu %u is not online\n", c.cpu);
		ret = -EINVAL;
	} else {
		/*
		 * Owner first: a change of owner puts the stub back on every
		 * CPU's vector 0x80, which must not undo this configuration.
		 */
		xptilab_owner_set(owner);
		ret = smp_call_function_single(c.cpu, tramp_apply, &t, 1);
	}
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	if (ret)
		return ret;
	c.vector_gate = xptilab_vector_gate;
	c.vector_trap = xptilab_vector_trap;
	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

long xptilab_ioc_counters(void __user *uarg)
{
	struct xptilab_counters c;
	const struct xptilab_pcpu *p;
	unsigned int i;
	long ret;

	ret = xptilab_copy_arg(&c, sizeof(c), uarg);
	if (ret)
		return ret;
	if (!xptilab_zeroed(c.reserved, sizeof(c.reserved)))
		return -EINVAL;
	BUILD_BUG_ON(ARRAY_SIZE(p->ipi_handled) != ARRAY_SIZE(c.ipi_handled));
	if (c.cpu >= nr_cpu_ids || !cpu_possible(c.cpu)) {
		pr_info_ratelimited("counters: cpu %u does not exist\n", c.cpu);
		return -EINVAL;
	}
	p = xptilab_pcpu(c.cpu);
	c.entries = READ_ONCE(p->entries);
	c.race_hits = READ_ONCE(p->race_hits);
	c.deferred = READ_ONCE(p->deferred);
	c.shadow_events = READ_ONCE(p->events);
	BUILD_BUG_ON(ARRAY_SIZE(c.ipi_handled) < XPTILAB_IPI_NR_VARIANTS);
	for (i = 0; i < ARRAY_SIZE(c.ipi_handled); i++)
		c.ipi_handled[i] = READ_ONCE(p->ipi_handled[i]);
	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

/* ---- sessions ---- */

static void session_sync(void *arg)
{
	xptilab_sync_local(*(unsigned int *)arg);
}

static long session_start(const struct xptilab_session *s, const void *owner)
{
	struct xptilab_pcpu *p = xptilab_pcpu(s->cpu);
	unsigned int variant = XPTILAB_IPI_SYNC;
	pgd_t *pgd;
	long ret;

	/*
	 * A session's iretq runs on the shadow root, which does not map the
	 * LDT: a CS or SS from it would fault at CPL 0. The session vector
	 * checks LDTR and the frame's selectors again at every entry.
	 */
	if (xptilab_compat_mm_has_ldt(current->mm) ||
	    (current_pt_regs()->cs & SEGMENT_TI_MASK) ||
	    (current_pt_regs()->ss & SEGMENT_TI_MASK)) {
		pr_warn_ratelimited("session: refused: pid %d has an LDT (not mapped on the shadow root)\n",
				    task_pid_nr(current));
		return -EOPNOTSUPP;
	}
	if (xptilab_idt_int80_is_linux(s->cpu)) {
		pr_info_ratelimited("session: refused: cpu %u has Linux's int $0x80 gate (entry mode LINUX_INT80), which a session would reach on the shadow root\n",
				    s->cpu);
		return -EBUSY;
	}
	ret = xptilab_mirror_set(current->mm, owner);
	if (ret) {
		pr_info_ratelimited("session: another process has sessions\n");
		return ret;
	}
	/* Every shadow root mirrors the caller from now on. */
	on_each_cpu(session_sync, &variant, 1);
	pgd = xptilab_mirror_user_pgd();
	WRITE_ONCE(xptilab_priv(s->cpu)->sess_pgd_va, (u64)pgd);
	WRITE_ONCE(p->sess_pgd, __sme_pa(pgd));
	return 0;
}

long xptilab_ioc_session(void __user *uarg, const void *owner)
{
	struct xptilab_session s;
	unsigned int variant;
	long ret;

	ret = xptilab_copy_arg(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if (!xptilab_zeroed(s.reserved, sizeof(s.reserved)) || s.pad ||
	    s.vector || s.op >= XPTILAB_SESSION_NR_OPS) {
		pr_info_ratelimited("session: bad op %u or nonzero reserved fields\n",
				    s.op);
		return -EINVAL;
	}
	variant = s.variant;
	if (s.op == XPTILAB_SESSION_SYNC ? (variant != XPTILAB_IPI_SYNC &&
					    variant != XPTILAB_IPI_FLUSH)
					 : variant != 0) {
		pr_info_ratelimited("session: bad variant %u for op %u\n",
				    variant, s.op);
		return -EINVAL;
	}
	if (mutex_lock_interruptible(&xptilab_run_lock))
		return -EINTR;
	cpus_read_lock();
	if (s.cpu >= nr_cpu_ids || !cpu_online(s.cpu) ||
	    current->nr_cpus_allowed != 1 ||
	    !cpumask_test_cpu(s.cpu, current->cpus_ptr)) {
		pr_info_ratelimited("session: pin the caller to online cpu %u first\n",
				    s.cpu);
		ret = -EINVAL;
		goto out;
	}
	switch (s.op) {
	case XPTILAB_SESSION_START:
		ret = session_start(&s, owner);
		if (!ret)
			xptilab_owner_set(owner);
		break;
	case XPTILAB_SESSION_STOP:
		WRITE_ONCE(xptilab_pcpu(s.cpu)->sess_pgd, 0);
		break;
	default:
		/* Only the mirrored task refreshes the mirror. */
		ret = xptilab_mirror_set(current->mm, owner);
		if (!ret) {
			on_each_cpu(session_sync, &variant, 1);
			xptilab_owner_set(owner);
		}
		break;
	}
out:
	cpus_read_unlock();
	mutex_unlock(&xptilab_run_lock);
	if (ret)
		return ret;
	s.vector = xptilab_vector_session;
	if (copy_to_user(uarg, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

long xptilab_ioc_session_stats(void __user *uarg)
{
	struct xptilab_session_stats *st;
	const struct xptilab_pcpu *p;
	long ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = xptilab_copy_arg(st, sizeof(*st), uarg);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (!xptilab_zeroed(st->reserved, sizeof(st->reserved)))
		goto out;
	if (st->cpu >= nr_cpu_ids || !cpu_possible(st->cpu)) {
		pr_info_ratelimited("session: cpu %u does not exist\n", st->cpu);
		goto out;
	}
	p = xptilab_pcpu(st->cpu);
	st->enters = READ_ONCE(p->sess_enters);
	st->exits = READ_ONCE(p->sess_exits);
	st->refused = READ_ONCE(p->sess_refused);
	st->ticks = READ_ONCE(p->sess_ticks);
	BUILD_BUG_ON(sizeof(st->exits_by_vector) != sizeof(p->sess_vec));
	BUILD_BUG_ON(sizeof(st->duration_log2) != sizeof(p->sess_hist));
	memcpy(st->exits_by_vector, p->sess_vec, sizeof(p->sess_vec));
	memcpy(st->duration_log2, p->sess_hist, sizeof(p->sess_hist));
	ret = copy_to_user(uarg, st, sizeof(*st)) ? -EFAULT : 0;
out:
	kfree(st);
	return ret;
}
