// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the tool's statistics (userspace/stats.c); needs no module
 * and runs on the host too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "stats.h"

TEST(empty_is_refused)
{
	struct stats s;
	uint64_t v[1] = { 0 };

	EXPECT_EQ(-1, stats_compute(v, 0, &s));
}

TEST(single_sample)
{
	uint64_t v[] = { 42 };
	struct stats s;

	ASSERT_EQ(0, stats_compute(v, 1, &s));
	EXPECT_EQ(1u, s.n);
	EXPECT_EQ(42u, s.min);
	EXPECT_EQ(42u, s.median);
	EXPECT_EQ(42u, s.p90);
	EXPECT_EQ(42u, s.p99);
	EXPECT_EQ(42u, s.max);
	EXPECT_EQ(42.0, s.mean);
	EXPECT_EQ(0.0, s.stddev);
}

/* The nearest-rank example of Wikipedia's "Percentile" article. */
TEST(nearest_rank_example)
{
	uint64_t v[] = { 50, 35, 15, 40, 20 };

	stats_sort(v, ARRAY_SIZE(v));
	EXPECT_EQ(15u, stats_percentile(v, 5, 5));
	EXPECT_EQ(20u, stats_percentile(v, 5, 30));
	EXPECT_EQ(20u, stats_percentile(v, 5, 40));
	EXPECT_EQ(35u, stats_percentile(v, 5, 50));
	EXPECT_EQ(50u, stats_percentile(v, 5, 100));
	EXPECT_EQ(15u, stats_percentile(v, 5, 0));
}

TEST(one_to_ten)
{
	uint64_t v[] = { 10, 3, 7, 1, 9, 2, 8, 4, 6, 5 };
	struct stats s;

	ASSERT_EQ(0, stats_compute(v, ARRAY_SIZE(v), &s));
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		EXPECT_EQ(i + 1, v[i]);		/* sorted in place */
	EXPECT_EQ(1u, s.min);
	EXPECT_EQ(5u, s.median);			/* lower median */
	EXPECT_EQ(9u, s.p90);
	EXPECT_EQ(10u, s.p99);
	EXPECT_EQ(10u, s.max);
	EXPECT_EQ(5.5, s.mean);
	/* sample variance of 1..10 is 55/6 */
	EXPECT_GT(1e-12, fabs(s.stddev - sqrt(55.0 / 6)));
}

TEST(one_to_hundred_shuffled)
{
	uint64_t v[100];
	struct stats s;

	for (size_t i = 0; i < 100; i++)
		v[i] = (i * 37) % 100 + 1;	/* 37 is coprime with 100 */
	ASSERT_EQ(0, stats_compute(v, 100, &s));
	EXPECT_EQ(1u, s.min);
	EXPECT_EQ(50u, s.median);
	EXPECT_EQ(90u, s.p90);
	EXPECT_EQ(99u, s.p99);
	EXPECT_EQ(100u, s.max);
	EXPECT_EQ(50.5, s.mean);
}

TEST(huge_values_do_not_overflow)
{
	uint64_t v[] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
	struct stats s;

	ASSERT_EQ(0, stats_compute(v, 3, &s));
	EXPECT_EQ(UINT64_MAX, s.median);
	EXPECT_EQ((double)UINT64_MAX, s.mean);
	EXPECT_EQ(0.0, s.stddev);
}

TEST(outlier_only_in_the_tail)
{
	uint64_t v[1000];
	struct stats s;

	for (size_t i = 0; i < 1000; i++)
		v[i] = 100;
	v[500] = 1000000;
	ASSERT_EQ(0, stats_compute(v, 1000, &s));
	EXPECT_EQ(100u, s.median);
	EXPECT_EQ(100u, s.p99);
	EXPECT_EQ(1000000u, s.max);
	EXPECT_EQ(100 + 999900 / 1000.0, s.mean);
}

/* Random vectors: the summary is ordered and the samples are only permuted. */
TEST(random_vectors_are_ordered)
{
	unsigned int seed = 1;

	for (int round = 0; round < 200; round++) {
		size_t n = 1 + rand_r(&seed) % 2000;
		uint64_t *v = malloc(n * sizeof(*v));
		uint64_t sum = 0, sorted_sum = 0;
		struct stats s;

		ASSERT_NE(NULL, v);
		for (size_t i = 0; i < n; i++) {
			v[i] = (uint64_t)rand_r(&seed) << (round % 32);
			sum += v[i];
		}
		ASSERT_EQ(0, stats_compute(v, n, &s));
		for (size_t i = 0; i < n; i++) {
			sorted_sum += v[i];
			if (i)
				ASSERT_LE(v[i - 1], v[i]);
		}
		EXPECT_EQ(sum, sorted_sum);
		EXPECT_EQ(n, s.n);
		EXPECT_LE(s.min, s.median);
		EXPECT_LE(s.median, s.p90);
		EXPECT_LE(s.p90, s.p99);
		EXPECT_LE(s.p99, s.max);
		EXPECT_LE((double)s.min, s.mean);
		EXPECT_GE((double)s.max, s.mean);
		EXPECT_LE(0.0, s.stddev);
		free(v);
	}
}

TEST_HARNESS_MAIN
