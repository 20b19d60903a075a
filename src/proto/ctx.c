/* SPDX-License-Identifier: Apache-2.0 */
/* The per-thread crypto context of the protocol core and its randomness;
 * constant-time comparison and wiping, which need no crypto library. */
#include "config.h"

#include "src/proto/ctx.h"

#include <stdlib.h>

enum m2m_err
proto_ctx_new(struct proto_ctx **out, const struct proto_rng *rng)
{
	struct proto_ctx *ctx;
	enum m2m_err err;

	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return M2M_E_NOMEM;
	if ((err = crypto_be_new(&ctx->be)) != M2M_OK) {
		free(ctx);
		return err;
	}
	ctx->rng.fill = crypto_be_random;
	ctx->rng.arg = ctx->be;
	if (rng != NULL)
		ctx->rng = *rng;
	/* Not from ctx->rng: a deterministic one would repeat it after a
	 * restart, and known-answer streams stay as they were. */
	if (!crypto_be_random(ctx->be, ctx->instance, sizeof(ctx->instance))) {
		proto_ctx_free(ctx);
		return M2M_E_CRYPTO;
	}
	*out = ctx;
	return M2M_OK;
}

void
proto_ctx_ops(const struct proto_ctx *ctx, struct proto_ops *out)
{
	*out = ctx->ops;
}

void
proto_ctx_free(struct proto_ctx *ctx)
{
	if (ctx == NULL)
		return;
	crypto_be_free(ctx->be);
	free(ctx);
}

enum m2m_err
proto_random(struct proto_ctx *ctx, uint8_t *buf, size_t len)
{
	return ctx->rng.fill(ctx->rng.arg, buf, len) ? M2M_OK : M2M_E_CRYPTO;
}

/* Every byte is read whatever the others hold: the time does not depend on
 * where the first difference is. */
int
proto_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}

/* Through a volatile pointer, so the stores are not dropped as dead. */
void
proto_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	for (size_t i = 0; i < len; i++)
		v[i] = 0;
}
