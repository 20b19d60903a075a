/* SPDX-License-Identifier: Apache-2.0 */
/* Latency histogram of m2m-sim: log-linear buckets (HdrHistogram-like) from
 * 1 µs to 60 s with under 1% relative error, safe to read while recorded. */
#ifndef SIM_HIST_H
#define SIM_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define SIM_HIST_SUB_BITS	7	/* 128 sub-buckets per power of two: 0.78% */
#define SIM_HIST_SUB		(1u << SIM_HIST_SUB_BITS)
#define SIM_HIST_MAX_US		60000000ull	/* larger values are clamped */
#define SIM_HIST_BUCKETS	2560	/* enough for SIM_HIST_MAX_US */

/* Written by one thread, read by the progress reporter: relaxed atomics
 * cost an uncontended add and keep the cross-thread reads defined. */
struct sim_hist {
	_Atomic uint64_t count;
	_Atomic uint64_t max;
	_Atomic uint64_t bucket[SIM_HIST_BUCKETS];
};

void sim_hist_init(struct sim_hist *h);
void sim_hist_record(struct sim_hist *h, uint64_t us);
/* Adds src into dst (dst owned by the caller, src possibly still recorded). */
void sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src);
uint64_t sim_hist_count(const struct sim_hist *h);
uint64_t sim_hist_max(const struct sim_hist *h);
/* The value below which pct percent of the samples fall, in µs: the highest
 * value of its bucket, never above the largest sample; 0 when empty. */
uint64_t sim_hist_percentile(const struct sim_hist *h, double pct);

/* Bucket mapping, exposed for the tests. */
unsigned sim_hist_index(uint64_t us);
uint64_t sim_hist_bucket_high(unsigned idx);

#endif
