/* The per-thread crypto context of the protocol core and its randomness. */
#include "config.h"

#include "src/proto/ctx.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

static int
rand_openssl(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	return RAND_priv_bytes(buf, (int)len) == 1;
}

enum m2m_err
proto_ctx_new(struct proto_ctx **out, const struct proto_rng *rng)
{
	struct proto_ctx *ctx;

	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return M2M_E_NOMEM;
	ctx->rng.fill = rand_openssl;
	if (rng != NULL)
		ctx->rng = *rng;
	/* Not from ctx->rng: a deterministic one would repeat it after a
	 * restart, and known-answer streams stay as they were. */
	if (!rand_openssl(NULL, ctx->instance, sizeof(ctx->instance))) {
		free(ctx);
		return M2M_E_CRYPTO;
	}
	ctx->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	ctx->bn = BN_CTX_secure_new();
	ctx->cipher = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	ctx->cctx = EVP_CIPHER_CTX_new();
	ctx->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx->kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (ctx->group == NULL || ctx->bn == NULL || ctx->cipher == NULL ||
	    ctx->cctx == NULL || ctx->hmac == NULL || ctx->kdf == NULL) {
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
	EC_GROUP_free(ctx->group);
	BN_CTX_free(ctx->bn);
	EVP_CIPHER_free(ctx->cipher);
	EVP_CIPHER_CTX_free(ctx->cctx);
	EVP_MAC_free(ctx->hmac);
	EVP_KDF_free(ctx->kdf);
	free(ctx);
}

enum m2m_err
proto_random(struct proto_ctx *ctx, uint8_t *buf, size_t len)
{
	return ctx->rng.fill(ctx->rng.arg, buf, len) ? M2M_OK : M2M_E_CRYPTO;
}

int
proto_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void
proto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}
