// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters: every invalid value refuses the load (finit_module
 * fails with EINVAL), the module's own message in the kernel log names the
 * parameter, nothing is left loaded (no module, no /dev/xptilab, no debugfs
 * directory), and the module loads normally afterwards. Valid non-default
 * values load and are reported back (sysfs, ENTRY_CONFIG, SESSION).
 * Needs $XPTILAB_KO; the module is left loaded with default parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "trigger.h"
#include "robust_helpers.h"

struct bad_param {
	const char *params;	/* what finit_module gets */
	const char *name;	/* the parameter the message must name */
};

static const struct bad_param bad_params[] = {
	/* out of range, not a number, empty, overflowing */
	{ "clone_global=2", "clone_global" },
	{ "clone_global=-1", "clone_global" },
	{ "clone_global=abc", "clone_global" },
	{ "clone_global=", "clone_global" },
	{ "clone_global=1x", "clone_global" },
	{ "clone_global=0x100000000", "clone_global" },
	{ "clone_global=99999999999999999999", "clone_global" },
	/* vectors: outside 0..255, or not a free exception vector */
	{ "vector_gate=300", "vector_gate" },
	{ "vector_gate=-1", "vector_gate" },
	{ "vector_gate=0x", "vector_gate" },
	{ "vector_gate=0x80", "vector_gate" },	/* int $0x80 */
	{ "vector_gate=0x20", "vector_gate" },	/* first device vector */
	{ "vector_gate=0x0e", "vector_gate" },	/* #PF */
	{ "vector_gate=0", "vector_gate" },	/* #DE */
	{ "vector_gate=0x15", "vector_gate" },	/* #CP */
	{ "vector_gate=0x1c", "vector_gate" },	/* #HV */
	{ "vector_gate=0x1d", "vector_gate" },	/* #VC */
	{ "vector_gate=0x1e", "vector_gate" },	/* #SX */
	{ "vector_gate=0xef", "vector_gate" },	/* local APIC timer */
	{ "vector_gate=0xff", "vector_gate" },	/* spurious */
	{ "vector_trap=0x80", "vector_trap" },
	{ "vector_trap=256", "vector_trap" },
	{ "vector_trap=0x02", "vector_trap" },	/* NMI */
	{ "vector_trap=0x08", "vector_trap" },	/* #DF */
	{ "vector_trap=seventeen", "vector_trap" },
	{ "vector_session=0x0e", "vector_session" },
	{ "vector_session=0x12", "vector_session" },	/* #MC */
	{ "vector_session=0x20", "vector_session" },
	{ "vector_session=1000", "vector_session" },
	/* two vectors the same */
	{ "vector_trap=0x17", "vector_trap" },	/* = the default gate */
	{ "vector_session=0x18", "vector_session" },	/* = the default trap */
	{ "vector_gate=0x19", "vector_gate" },	/* = the default session */
	{ "vector_gate=0x1a vector_trap=0x1a", "vector_trap" },
	{ "vector_gate=0x1f vector_session=0x1f", "vector_session" },
	/* one good value and one bad */
	{ "clone_global=1 vector_gate=0x80", "vector_gate" },
	{ "vector_gate=0x1a clone_global=7", "clone_global" },
};

struct find {
	const char *name;
	struct kmsg_verdict v;	/* complaints among the lines read */
	char line[300];		/* the module's line naming the parameter */
	char any[300];		/* any line naming it */
};

/*
 * The module's own message names the parameter ("xptilab: parameter
 * clone_global=2: ..." or "xptilab: vector_gate=0x80: ..."), not only
 * the kernel's generic "xptilab: `2' invalid for parameter `clone_global'".
 */
static void find_one(int level, const char *msg, void *arg)
{
	struct find *f = arg;

	kmsg_judge_one(level, msg, &f->v);
	if (strncmp(msg, "xptilab: ", 9) || !strstr(msg, f->name))
		return;
	if (!f->any[0])
		snprintf(f->any, sizeof(f->any), "%.290s", msg);
	if (!f->line[0] && !strstr(msg, "invalid for parameter"))
		snprintf(f->line, sizeof(f->line), "%.290s", msg);
}

FIXTURE(params) {
	int kmsg;
};

FIXTURE_SETUP(params)
{
	self->kmsg = kmsg_open_end();
}

FIXTURE_TEARDOWN(params)
{
	struct kmsg_verdict kv;

	if (!module_loaded()) {
		EXPECT_EQ(0, module_load("")) TH_LOG("reload: %s", strerror(errno));
	}
	kv = kmsg_judge(self->kmsg);
	EXPECT_EQ(0, kv.complaints - kv.xptilab_errors)
		TH_LOG("kernel log: %s", kv.first);
	close(self->kmsg);
}

TEST_F_TIMEOUT(params, invalid_values_are_refused, 300)
{
	int refused = 0;

	REQUIRE_RELOADABLE();
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	ASSERT_EQ(0, module_unload()) TH_LOG("unload: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(bad_params); i++) {
		const struct bad_param *b = &bad_params[i];
		struct find f = { .name = b->name };
		int ret = module_load(b->params), err = errno;

		kmsg_each(self->kmsg, find_one, &f);
		/* the module's own errors are expected here, nothing else */
		EXPECT_EQ(0, f.v.complaints - f.v.xptilab_errors)
			TH_LOG("'%s': kernel log: %s", b->params, f.v.first);
		EXPECT_EQ(-1, ret) TH_LOG("'%s' loaded", b->params);
		if (!ret) {
			module_unload();
			continue;
		}
		EXPECT_EQ(EINVAL, err) TH_LOG("'%s': %s", b->params, strerror(err));
		EXPECT_FALSE(module_loaded()) TH_LOG("'%s'", b->params);
		EXPECT_NE(0, access(XPTILAB_DEVICE, F_OK)) TH_LOG("'%s'", b->params);
		EXPECT_NE(0, access(XDBG, F_OK)) TH_LOG("'%s'", b->params);
		EXPECT_NE(0, f.line[0])
			TH_LOG("'%s': no message of the module names %s (kernel: %s)",
			       b->params, b->name, f.any[0] ? f.any : "nothing");
		if (f.line[0]) {
			refused++;
			RDIAG("params: %-40s refused: %s", b->params, f.line);
		}
	}
	RDIAG("params-summary: refused=%d of %zu", refused, ARRAY_SIZE(bad_params));
	/* and it loads normally afterwards */
	ASSERT_EQ(0, module_load("")) TH_LOG("load: %s", strerror(errno));
	EXPECT_EQ(0x17, module_param_int("vector_gate"));
	EXPECT_EQ(0, module_param_int("clone_global"));
}

TEST_F(params, valid_values_load)
{
	struct xptilab_entry_config e = { .size = sizeof(e) };
	struct xptilab_session s = { .size = sizeof(s) };
	struct xptilab_info info;
	char audit[4096];
	int fd;

	REQUIRE_RELOADABLE();
	ASSERT_EQ(0, module_unload()) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, module_load("clone_global=1 vector_gate=0x1a vector_trap=0x1f vector_session=0x16"))
		TH_LOG("load: %s", strerror(errno));
	EXPECT_EQ(1, module_param_int("clone_global"));
	EXPECT_EQ(0x1a, module_param_int("vector_gate"));
	EXPECT_EQ(0x1f, module_param_int("vector_trap"));
	EXPECT_EQ(0x16, module_param_int("vector_session"));
	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, &info));
	EXPECT_EQ(1u, info.clone_global);
	ASSERT_EQ(0, pin_to(0));
	ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &e)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0x1au, e.vector_gate);
	EXPECT_EQ(0x1fu, e.vector_trap);
	ASSERT_EQ(0, ioctl(fd, XPTILAB_IOC_SESSION, &s)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0x16u, s.vector);
	trigger_vector(0x1a);
	trigger_vector(0x1f);
	EXPECT_LE(0, session_int(0x16));
	unpin();
	close(fd);
	EXPECT_TRUE(audit_ok(audit, sizeof(audit))) TH_LOG("%s", audit);
	ASSERT_EQ(0, module_unload()) TH_LOG("unload: %s", strerror(errno));
	ASSERT_EQ(0, module_load("")) TH_LOG("load: %s", strerror(errno));
}

TEST_HARNESS_MAIN
