/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What entry_test and race_test share: configuring the test vectors on a
 * CPU, reading its counters, and a clock (the debugfs audit and reads:
 * shadow_helpers.h).
 * Include after kselftest_harness.h and helpers.h.
 */
#ifndef XPTILAB_SELFTESTS_ENTRY_HELPERS_H
#define XPTILAB_SELFTESTS_ENTRY_HELPERS_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "shadow_helpers.h"	/* read_text(), audit_ok() */
#include "trigger.h"

/* A "# " diagnostic line that survives the test child's _exit(). */
#define DIAG(fmt, ...) do { \
	ksft_print_msg(fmt, ##__VA_ARGS__); \
	fflush(stdout); \
} while (0)

/* XPTILAB_IOC_ENTRY_CONFIG; returns ioctl()'s result, errno set. */
static inline int entry_config(int fd, int cpu, unsigned int mode,
			       unsigned int window,
			       struct xptilab_entry_config *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->cpu = cpu;
	c->mode = mode;
	c->window = window;
	return ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, c);
}

static inline int entry_reset(int fd, int cpu)
{
	struct xptilab_entry_config c;

	return entry_config(fd, cpu, XPTILAB_ENTRY_GATE, 0, &c);
}

static inline int get_counters(int fd, int cpu, struct xptilab_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->cpu = cpu;
	return ioctl(fd, XPTILAB_IOC_COUNTERS, c);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* XPTILAB_SELFTESTS_ENTRY_HELPERS_H */
