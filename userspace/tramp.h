/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's test-vector trampolines, for the entry and race
 * experiments: configure a CPU (XPTILAB_IOC_ENTRY_CONFIG), read its
 * counters, run an IPI storm. A configured CPU is put back to mode GATE
 * with window 0 by tramp_reset(), and, once tramp_arm() has been called,
 * also when the tool is stopped by SIGINT, SIGTERM or SIGHUP.
 */
#ifndef XPTILAB_TRAMP_H
#define XPTILAB_TRAMP_H

#include <stdint.h>

#include <uapi/xptilab.h>

/* "gate", "xpti" or "xpti-global". */
const char *tramp_mode_name(unsigned int mode);

/*
 * Configure cpu's test vectors; *out gets the vectors and the CR3 writes
 * and global flushes per round trip. On failure say why, return -1.
 */
int tramp_config(int fd, int cpu, unsigned int mode, unsigned int window,
		 struct xptilab_entry_config *out);

/* Back to mode GATE, window 0; says why on failure and returns -1. */
int tramp_reset(int fd, int cpu);

/* Reset (fd, cpu) if the tool is stopped by a signal; until tramp_disarm(). */
void tramp_arm(int fd, int cpu);
void tramp_disarm(void);

int tramp_counters(int fd, int cpu, struct xptilab_counters *c);

/* Storm from_cpu -> target_cpu for ms; *ipis gets the IPIs sent. */
int tramp_storm(int fd, int from_cpu, int target_cpu, unsigned int ms,
		uint64_t *ipis);

#endif /* XPTILAB_TRAMP_H */
