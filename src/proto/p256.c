/* SPDX-License-Identifier: Apache-2.0 */
/* P-256 for the core: validation, key generation from the context's rng
 * and ECDH on the backend's arithmetic (src/crypto/backend.h). */
#include "config.h"

#include "src/proto/ctx.h"

#include <string.h>

enum m2m_err
proto_p256_check(struct proto_ctx *ctx, const uint8_t *pt, size_t len)
{
	return crypto_p256_point(ctx->be, pt, len, NULL);
}

enum m2m_err
proto_p256_decompress(struct proto_ctx *ctx, const uint8_t *pt, size_t len,
    uint8_t out[PROTO_POINT_FULL_LEN])
{
	return crypto_p256_point(ctx->be, pt, len, out);
}

void
proto_p256_compress(const uint8_t full[PROTO_POINT_FULL_LEN], uint8_t out[PROTO_POINT_LEN])
{
	out[0] = (uint8_t)(0x02 | (full[PROTO_POINT_FULL_LEN - 1] & 1));
	memcpy(out + 1, full + 1, PROTO_POINT_LEN - 1);
}

enum m2m_err
proto_p256_public(struct proto_ctx *ctx, const uint8_t *priv, size_t privlen,
    uint8_t pub[PROTO_POINT_LEN])
{
	return crypto_p256_public(ctx->be, priv, privlen, pub);
}

enum m2m_err
proto_p256_keygen(struct proto_ctx *ctx, uint8_t priv[PROTO_SCALAR_LEN],
    uint8_t pub[PROTO_POINT_LEN])
{
	enum m2m_err err;
	int tries;

	/* Rejection sampling: a 32-byte string is >= n with probability 2^-32.
	 * Done here, not in the backend, so every backend draws the same bytes
	 * from the rng and the known-answer vector holds for all. */
	for (tries = 0; tries < 16; tries++) {
		if ((err = proto_random(ctx, priv, PROTO_SCALAR_LEN)) != M2M_OK)
			return err;
		err = crypto_p256_public(ctx->be, priv, PROTO_SCALAR_LEN, pub);
		if (err != M2M_E_INVALID_ARG)
			break;
	}
	if (err != M2M_OK)
		proto_wipe(priv, PROTO_SCALAR_LEN);
	return err;
}

enum m2m_err
proto_p256_ecdh(struct proto_ctx *ctx, const uint8_t *priv, size_t privlen,
    const uint8_t *peer, size_t peerlen, uint8_t out[PROTO_DH_LEN])
{
	ctx->ops.ecdh++;
	return crypto_p256_ecdh(ctx->be, priv, privlen, peer, peerlen, out);
}

enum m2m_err
proto_key_id(const uint8_t pub[PROTO_POINT_LEN], uint8_t id[PROTO_KEY_ID_LEN])
{
	uint8_t h[PROTO_HASH_LEN];
	enum m2m_err err;

	if ((err = proto_sha256(pub, PROTO_POINT_LEN, NULL, 0, NULL, 0, h)) != M2M_OK)
		return err;
	memcpy(id, h, PROTO_KEY_ID_LEN);
	return M2M_OK;
}
