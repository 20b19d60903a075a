/* SPDX-License-Identifier: Apache-2.0 */
/* Token buckets in a hashed array (see ratelimit.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "src/server/ratelimit.h"

enum m2m_err
rl_init(struct ratelimit *r, size_t buckets, unsigned rate_per_s, unsigned burst)
{
	size_t n = 1;

	memset(r, 0, sizeof(*r));
	while (n < buckets)
		n <<= 1;
	if ((r->b = calloc(n, sizeof(*r->b))) == NULL)
		return M2M_E_NOMEM;
	r->mask = n - 1;
	r->rate_per_ms = (float)rate_per_s / 1000.0f;
	r->burst = (float)burst;
	for (size_t i = 0; i < n; i++)
		r->b[i].tokens = r->burst;
	if (RAND_bytes((unsigned char *)&r->seed, sizeof(r->seed)) != 1)
		r->seed = 0x9e3779b97f4a7c15ULL;
	return M2M_OK;
}

void
rl_free(struct ratelimit *r)
{
	free(r->b);
	memset(r, 0, sizeof(*r));
}

int
rl_take(struct ratelimit *r, const uint8_t *key, size_t len, uint32_t now_ms)
{
	uint64_t h = r->seed;
	struct rl_bucket *b;
	float t;

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	h ^= h >> 31;
	b = &r->b[h & r->mask];
	t = b->tokens + (float)(uint32_t)(now_ms - b->last_ms) * r->rate_per_ms;
	b->tokens = t > r->burst ? r->burst : t;
	b->last_ms = now_ms;
	if (b->tokens < 1.0f)
		return 0;
	b->tokens -= 1.0f;
	return 1;
}
