/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Timing in user mode: serialized TSC reads and CPU pinning, shared by all
 * experiments so that every number is taken the same way.
 *
 * A read is LFENCE; RDTSC; LFENCE: the first fence keeps earlier work from
 * drifting past the read, the second keeps later work from starting before
 * it. (Linux sets up LFENCE to be dispatch-serializing on AMD too.) The
 * overhead of a pair of reads is measured in the same run with
 * timing_overhead() and subtracted by the experiments.
 */
#ifndef XPTILAB_TIMING_H
#define XPTILAB_TIMING_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t tsc_serialized(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc\n\tlfence"
			     : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Pin the calling thread to cpu; on failure say why and return -1. */
int timing_pin(int cpu);

/*
 * Fill v[0..n) with back-to-back read pairs (the timer's own cost).
 * Returns 0.
 */
int timing_overhead(uint64_t *v, size_t n);

/* Subtract ovh from every sample, clamping at 0. */
void timing_subtract(uint64_t *v, size_t n, uint64_t ovh);

#endif /* XPTILAB_TIMING_H */
