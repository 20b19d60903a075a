/* SPDX-License-Identifier: Apache-2.0 */
/* The latency histogram of m2m-sim: bucket precision over the whole range,
 * and percentiles of known distributions within 1%. */
#include "config.h"

#include <stdlib.h>

#include <criterion/criterion.h>

#include "module-sim/hist.h"

static struct sim_hist h;

static void
setup(void)
{
	sim_hist_init(&h);
}

TestSuite(hist, .init = setup);

/* |got - want| <= 1% of want (and exact for small values). */
static void
assert_close(uint64_t got, uint64_t want, const char *what)
{
	uint64_t diff = got > want ? got - want : want - got;

	cr_assert_leq(diff * 100, want, "%s: got %llu, want %llu within 1%%", what,
	    (unsigned long long)got, (unsigned long long)want);
}

Test(hist, buckets_are_monotonic_and_within_one_percent)
{
	unsigned prev = 0;

	for (uint64_t v = 1; v <= SIM_HIST_MAX_US; v += 1 + v / 1000) {
		unsigned i = sim_hist_index(v);
		uint64_t high = sim_hist_bucket_high(i);

		cr_assert_geq(i, prev, "index goes down at %llu", (unsigned long long)v);
		cr_assert_lt(i, SIM_HIST_BUCKETS);
		cr_assert_geq(high, v, "bucket of %llu ends below it", (unsigned long long)v);
		cr_assert_leq((high - v) * 128, v, "bucket of %llu too wide", (unsigned long long)v);
		prev = i;
	}
	/* Beyond 60 s: clamped into the last bucket in use, not out of range. */
	cr_assert_eq(sim_hist_index(UINT64_MAX), sim_hist_index(SIM_HIST_MAX_US));
}

Test(hist, empty_is_zero)
{
	cr_assert_eq(sim_hist_percentile(&h, 50), 0);
	cr_assert_eq(sim_hist_max(&h), 0);
	cr_assert_eq(sim_hist_count(&h), 0);
}

Test(hist, uniform_distribution)
{
	for (uint64_t v = 1; v <= 100000; v++)
		sim_hist_record(&h, v);
	cr_assert_eq(sim_hist_count(&h), 100000);
	assert_close(sim_hist_percentile(&h, 50), 50000, "p50");
	assert_close(sim_hist_percentile(&h, 90), 90000, "p90");
	assert_close(sim_hist_percentile(&h, 99), 99000, "p99");
	assert_close(sim_hist_percentile(&h, 99.9), 99900, "p99.9");
	cr_assert_eq(sim_hist_percentile(&h, 100), 100000);
	cr_assert_eq(sim_hist_max(&h), 100000);
}

Test(hist, small_values_are_exact)
{
	for (uint64_t v = 1; v <= 100; v++)
		sim_hist_record(&h, v);
	cr_assert_eq(sim_hist_percentile(&h, 50), 50);
	cr_assert_eq(sim_hist_percentile(&h, 99), 99);
	cr_assert_eq(sim_hist_percentile(&h, 0), 1);
}

/* 99% fast answers at 1 ms, 1% slow ones at 2 s: the tail shows in p99.9
 * and max, not in p50..p99. */
Test(hist, bimodal_tail)
{
	for (int i = 0; i < 99000; i++)
		sim_hist_record(&h, 1000);
	for (int i = 0; i < 1000; i++)
		sim_hist_record(&h, 2000000);
	assert_close(sim_hist_percentile(&h, 50), 1000, "p50");
	assert_close(sim_hist_percentile(&h, 99), 1000, "p99");
	assert_close(sim_hist_percentile(&h, 99.9), 2000000, "p99.9");
	cr_assert_eq(sim_hist_max(&h), 2000000);
}

/* Exponential with mean 10 ms: percentile p is -mean * ln(1 - p). */
Test(hist, exponential_distribution)
{
	static const double want[] = { 6931.5, 23025.9, 46051.7, 69077.6 };
	static const double pct[] = { 50, 90, 99, 99.9 };
	const int n = 1000000;

	for (int i = 0; i < n; i++) {
		double u = (i + 0.5) / n;	/* quantiles, not random: exact */

		sim_hist_record(&h, (uint64_t)(-10000.0 * __builtin_log(1 - u)));
	}
	for (int i = 0; i < 4; i++)
		assert_close(sim_hist_percentile(&h, pct[i]), (uint64_t)want[i], "exponential");
}

Test(hist, merge_equals_recording_everything_in_one)
{
	static struct sim_hist a, b, all;

	sim_hist_init(&a), sim_hist_init(&b), sim_hist_init(&all);
	for (uint64_t v = 1; v <= 5000; v++) {
		sim_hist_record(v % 2 ? &a : &b, v * 37);
		sim_hist_record(&all, v * 37);
	}
	sim_hist_merge(&h, &a);
	sim_hist_merge(&h, &b);
	cr_assert_eq(sim_hist_count(&h), sim_hist_count(&all));
	cr_assert_eq(sim_hist_max(&h), sim_hist_max(&all));
	for (double p = 1; p < 100; p += 7.3)
		cr_assert_eq(sim_hist_percentile(&h, p), sim_hist_percentile(&all, p));
}

Test(hist, clamps_beyond_sixty_seconds)
{
	uint64_t p;

	sim_hist_record(&h, 3600ull * 1000000);
	p = sim_hist_percentile(&h, 50);
	cr_assert_eq(sim_hist_count(&h), 1);
	cr_assert_eq(sim_hist_max(&h), 3600ull * 1000000, "max stays exact");
	assert_close(p, SIM_HIST_MAX_US, "clamped percentile");
}
