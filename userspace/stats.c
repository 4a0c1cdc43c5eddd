// SPDX-License-Identifier: GPL-2.0
/* Summary statistics of u64 samples, see stats.h. */
#include <math.h>
#include <stdlib.h>

#include "stats.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void stats_sort(uint64_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t stats_percentile(const uint64_t *sorted, size_t n, unsigned int pct)
{
	/*
	 * rank = ceil(n * pct / 100), 1-based, clamped to 1..n; computed
	 * as n = 100q + r so that n * pct cannot overflow.
	 */
	size_t rank = n / 100 * pct + (n % 100 * pct + 99) / 100;

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

int stats_compute(uint64_t *v, size_t n, struct stats *s)
{
	long double sum = 0, sq = 0, mean;

	if (n == 0)
		return -1;
	stats_sort(v, n);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	mean = sum / n;
	/* two passes: no cancellation between large sums of squares */
	for (size_t i = 0; i < n; i++)
		sq += (v[i] - mean) * (v[i] - mean);

	s->n = n;
	s->min = v[0];
	s->median = stats_percentile(v, n, 50);
	s->p90 = stats_percentile(v, n, 90);
	s->p99 = stats_percentile(v, n, 99);
	s->max = v[n - 1];
	s->mean = (double)mean;
	s->stddev = n > 1 ? sqrt((double)(sq / (n - 1))) : 0.0;
	return 0;
}
