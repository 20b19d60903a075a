/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 and HKDF-SHA-256 (RFC 5869) for the core. Extract is
 * HMAC-SHA-256 keyed with the salt by definition, so every backend gets
 * an empty IKM right (RFC 5869 allows it; OpenSSL's HKDF refuses it). */
#include "config.h"

#include "src/proto/ctx.h"

enum m2m_err
proto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[PROTO_HASH_LEN])
{
	return crypto_sha256(a, alen, b, blen, c, clen, out);
}

enum m2m_err
proto_hkdf_extract(struct proto_ctx *ctx, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, uint8_t prk[PROTO_HASH_LEN])
{
	static const uint8_t zeros[PROTO_HASH_LEN];

	ctx->ops.hkdf_extract++;
	if (saltlen == 0) {		/* RFC 5869: HashLen zero bytes */
		salt = zeros;
		saltlen = sizeof(zeros);
	}
	return crypto_hmac_sha256(ctx->be, salt, saltlen, ikm, ikmlen, prk);
}

enum m2m_err
proto_hkdf_expand(struct proto_ctx *ctx, const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	ctx->ops.hkdf_expand++;
	if (outlen == 0 || outlen > 255 * PROTO_HASH_LEN || prklen < PROTO_HASH_LEN)
		return M2M_E_INVALID_ARG;
	return crypto_hkdf_expand(ctx->be, prk, prklen, info, infolen, out, outlen);
}
