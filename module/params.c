// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters. Each integer parameter carries its range; the set
 * callback rejects a value outside it, so a bad value refuses the load
 * (insmod fails with EINVAL) with a message naming the parameter, instead of
 * being clamped behind the user's back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "xptilab.h"

struct xptilab_int_param {
	int *val;
	int min;
	int max;
};

static int xptilab_param_set(const char *arg, const struct kernel_param *kp)
{
	const struct xptilab_int_param *p = kp->arg;
	int v;

	if (kstrtoint(arg, 0, &v)) {
		pr_err("parameter %s=%s: not an integer\n", kp->name, arg);
		return -EINVAL;
	}
	if (v < p->min || v > p->max) {
		pr_err("parameter %s=%d: out of range [%d, %d]\n",
		       kp->name, v, p->min, p->max);
		return -EINVAL;
	}
	*p->val = v;
	return 0;
}

static int xptilab_param_get(char *buf, const struct kernel_param *kp)
{
	const struct xptilab_int_param *p = kp->arg;

	return sysfs_emit(buf, "%d\n", *p->val);
}

static const struct kernel_param_ops xptilab_int_ops = {
	.set = xptilab_param_set,
	.get = xptilab_param_get,
};

/* The parameter's range travels in kp->arg, next to its storage. */
int xptilab_clone_global;
static const struct xptilab_int_param clone_global_p = {
	.val = &xptilab_clone_global, .min = 0, .max = 1,
};
module_param_cb(clone_global, &xptilab_int_ops, (void *)&clone_global_p, 0444);
MODULE_PARM_DESC(clone_global,
		 "shadow-root clones are global (1) or non-global (0, the default, as after Xen 9d1d31ad94) [0..1]");

/* Test vectors: checked again at load against the CPU and Linux's IDT. */
int xptilab_vector_gate = 0x17;
static const struct xptilab_int_param vector_gate_p = {
	.val = &xptilab_vector_gate, .min = 0, .max = 255,
};
module_param_cb(vector_gate, &xptilab_int_ops, (void *)&vector_gate_p, 0444);
MODULE_PARM_DESC(vector_gate,
		 "DPL-3 interrupt-gate test vector (free: 0x16-0x1b, 0x1f) [default 0x17]");

int xptilab_vector_trap = 0x18;
static const struct xptilab_int_param vector_trap_p = {
	.val = &xptilab_vector_trap, .min = 0, .max = 255,
};
module_param_cb(vector_trap, &xptilab_int_ops, (void *)&vector_trap_p, 0444);
MODULE_PARM_DESC(vector_trap,
		 "DPL-3 trap-gate test vector (free: 0x16-0x1b, 0x1f) [default 0x18]");

int xptilab_vector_session = 0x19;
static const struct xptilab_int_param vector_session_p = {
	.val = &xptilab_vector_session, .min = 0, .max = 255,
};
module_param_cb(vector_session, &xptilab_int_ops, (void *)&vector_session_p,
		0444);
MODULE_PARM_DESC(vector_session,
		 "DPL-3 session-entry vector (free: 0x16-0x1b, 0x1f) [default 0x19]");
