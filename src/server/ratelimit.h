/* SPDX-License-Identifier: Apache-2.0 */
/* Token buckets for sources and pseudonyms in a fixed array indexed by a
 * keyed hash: bounded memory whatever the number of keys; two keys that
 * share a bucket share its budget, which errs on the side of refusing. */
#ifndef M2M_SRV_RATELIMIT_H
#define M2M_SRV_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "src/common/err.h"

struct rl_bucket {
	float tokens;
	uint32_t last_ms;
};

struct ratelimit {
	struct rl_bucket *b;
	size_t mask;
	float rate_per_ms, burst;
	uint64_t seed;
};

enum m2m_err rl_init(struct ratelimit *r, size_t buckets, unsigned rate_per_s, unsigned burst);
void rl_free(struct ratelimit *r);
/* 1 and one token taken, or 0: over the rate. */
int rl_take(struct ratelimit *r, const uint8_t *key, size_t len, uint32_t now_ms);

#endif
