/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Summary statistics of a set of u64 samples (TSC ticks, nanoseconds...):
 * n, min, median, p90, p99, max by the nearest-rank method (every reported
 * value is one of the samples), mean and sample standard deviation.
 */
#ifndef XPTILAB_STATS_H
#define XPTILAB_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats {
	size_t n;
	uint64_t min;
	uint64_t median;	/* nearest-rank p50: the lower median */
	uint64_t p90;
	uint64_t p99;
	uint64_t max;
	double mean;
	double stddev;		/* sample (n - 1) standard deviation; 0 if n == 1 */
};

/* Sort samples in ascending order, in place. */
void stats_sort(uint64_t *v, size_t n);

/*
 * The pct-th percentile (1..100) of n >= 1 sorted samples by nearest rank:
 * the smallest sample with at least pct% of the samples at or below it.
 */
uint64_t stats_percentile(const uint64_t *sorted, size_t n, unsigned int pct);

/* Sort v in place and summarise it.  Returns 0, or -1 when n == 0. */
int stats_compute(uint64_t *v, size_t n, struct stats *s);

#endif /* XPTILAB_STATS_H */
