// SPDX-License-Identifier: GPL-2.0
/* Trampoline configuration, counters and the IPI storm (see tramp.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "tramp.h"
#include "xptilab.h"

static const char *const mode_names[XPTILAB_ENTRY_NR_MODES] = {
	[XPTILAB_ENTRY_GATE] = "gate",
	[XPTILAB_ENTRY_XPTI] = "xpti",
	[XPTILAB_ENTRY_XPTI_GLOBAL] = "xpti-global",
	[XPTILAB_ENTRY_LINUX_INT80] = "linux-int80",
};

const char *tramp_mode_name(unsigned int mode)
{
	return mode < XPTILAB_ENTRY_NR_MODES ? mode_names[mode] : "?";
}

static int config(int fd, int cpu, unsigned int mode, unsigned int window,
		  struct xptilab_entry_config *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->cpu = cpu;
	c->mode = mode;
	c->window = window;
	return ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, c);
}

int tramp_config(int fd, int cpu, unsigned int mode, unsigned int window,
		 struct xptilab_entry_config *out)
{
	if (config(fd, cpu, mode, window, out) < 0) {
		xptilab_err("cpu %d: entry mode %s window %u: %s", cpu,
			    tramp_mode_name(mode), window, strerror(errno));
		return -1;
	}
	return 0;
}

int tramp_reset(int fd, int cpu)
{
	struct xptilab_entry_config c;

	return tramp_config(fd, cpu, XPTILAB_ENTRY_GATE, 0, &c);
}

/* What a signal handler needs to put the CPU back. */
static volatile sig_atomic_t armed_fd = -1, armed_cpu = -1;
static const int reset_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void reset_and_die(int sig)
{
	struct xptilab_entry_config c;

	if (armed_fd >= 0)
		config(armed_fd, armed_cpu, XPTILAB_ENTRY_GATE, 0, &c);
	signal(sig, SIG_DFL);
	raise(sig);
}

void tramp_arm(int fd, int cpu)
{
	struct sigaction sa;

	armed_fd = -1;
	armed_cpu = cpu;
	armed_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reset_and_die;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(reset_signals); i++)
		sigaction(reset_signals[i], &sa, NULL);
}

void tramp_disarm(void)
{
	armed_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(reset_signals); i++)
		signal(reset_signals[i], SIG_DFL);
}

int tramp_counters(int fd, int cpu, struct xptilab_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->cpu = cpu;
	if (ioctl(fd, XPTILAB_IOC_COUNTERS, c) < 0) {
		xptilab_err("cpu %d: XPTILAB_IOC_COUNTERS: %s", cpu,
			    strerror(errno));
		return -1;
	}
	return 0;
}

int tramp_storm(int fd, int from_cpu, int target_cpu, unsigned int ms,
		uint64_t *ipis)
{
	struct xptilab_storm s;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.from_cpu = from_cpu;
	s.target_cpu = target_cpu;
	s.duration_ms = ms;
	if (ioctl(fd, XPTILAB_IOC_STORM, &s) < 0) {
		xptilab_err("storm cpu %d -> cpu %d, %u ms: %s", from_cpu,
			    target_cpu, ms, strerror(errno));
		return -1;
	}
	*ipis = s.ipis;
	return 0;
}
