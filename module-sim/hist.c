/* SPDX-License-Identifier: Apache-2.0 */
/* Log-linear latency histogram: exact below 256 µs, then 128 linear
 * sub-buckets per power of two, so every bucket is within 1/128 of its value. */
#include "config.h"

#include "module-sim/hist.h"

#define RELAXED memory_order_relaxed

void
sim_hist_init(struct sim_hist *h)
{
	atomic_init(&h->count, 0);
	atomic_init(&h->max, 0);
	for (unsigned i = 0; i < SIM_HIST_BUCKETS; i++)
		atomic_init(&h->bucket[i], 0);
}

static unsigned
msb64(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

unsigned
sim_hist_index(uint64_t us)
{
	unsigned shift, idx;

	if (us > SIM_HIST_MAX_US)
		us = SIM_HIST_MAX_US;
	if (us < 2 * SIM_HIST_SUB)
		return (unsigned)us;
	shift = msb64(us) - SIM_HIST_SUB_BITS;
	idx = 2 * SIM_HIST_SUB + (shift - 1) * SIM_HIST_SUB +
	    (unsigned)((us >> shift) - SIM_HIST_SUB);
	return idx < SIM_HIST_BUCKETS ? idx : SIM_HIST_BUCKETS - 1;
}

uint64_t
sim_hist_bucket_high(unsigned idx)
{
	unsigned shift;
	uint64_t mant;

	if (idx < 2 * SIM_HIST_SUB)
		return idx;
	shift = (idx - 2 * SIM_HIST_SUB) / SIM_HIST_SUB + 1;
	mant = SIM_HIST_SUB + (idx - 2 * SIM_HIST_SUB) % SIM_HIST_SUB;
	return ((mant + 1) << shift) - 1;
}

void
sim_hist_record(struct sim_hist *h, uint64_t us)
{
	uint64_t old;

	atomic_fetch_add_explicit(&h->bucket[sim_hist_index(us)], 1, RELAXED);
	atomic_fetch_add_explicit(&h->count, 1, RELAXED);
	/* One writer per histogram: a plain compare is enough. */
	old = atomic_load_explicit(&h->max, RELAXED);
	if (us > old)
		atomic_store_explicit(&h->max, us, RELAXED);
}

void
sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src)
{
	uint64_t n = 0, m, b;

	/* The count is the sum of the buckets read, so percentiles of a
	 * snapshot taken during recording stay consistent. */
	for (unsigned i = 0; i < SIM_HIST_BUCKETS; i++) {
		b = atomic_load_explicit(&src->bucket[i], RELAXED);
		if (b != 0)
			atomic_fetch_add_explicit(&dst->bucket[i], b, RELAXED);
		n += b;
	}
	atomic_fetch_add_explicit(&dst->count, n, RELAXED);
	m = atomic_load_explicit(&src->max, RELAXED);
	if (m > atomic_load_explicit(&dst->max, RELAXED))
		atomic_store_explicit(&dst->max, m, RELAXED);
}

uint64_t
sim_hist_count(const struct sim_hist *h)
{
	return atomic_load_explicit(&h->count, RELAXED);
}

uint64_t
sim_hist_max(const struct sim_hist *h)
{
	return atomic_load_explicit(&h->max, RELAXED);
}

uint64_t
sim_hist_percentile(const struct sim_hist *h, double pct)
{
	uint64_t n = sim_hist_count(h), rank, seen = 0, max = sim_hist_max(h);
	double r = pct / 100.0 * (double)n;

	if (n == 0)
		return 0;
	rank = (uint64_t)r;
	if ((double)rank < r)	/* ceil without libm */
		rank++;
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < SIM_HIST_BUCKETS; i++) {
		seen += atomic_load_explicit(&h->bucket[i], RELAXED);
		if (seen >= rank) {
			uint64_t v = sim_hist_bucket_high(i);

			return v < max ? v : max;
		}
	}
	return max;
}
