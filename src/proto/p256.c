/* P-256 through OpenSSL's EC arithmetic: strict point decoding, key
 * generation from the context's rng, ECDH. Scalars are handled as
 * constant-time BIGNUMs in secure memory and cleared after use. */
#include "config.h"

#include "src/proto/ctx.h"

#include <string.h>

#include <openssl/err.h>

/* Accepts only SEC1 compressed (33) and uncompressed (65) forms; OpenSSL
 * rejects coordinates >= p and points off the curve. */
static enum m2m_err
point_decode(struct proto_ctx *ctx, const uint8_t *buf, size_t len, EC_POINT *p)
{
	int compressed = len == 33 && (buf[0] == 0x02 || buf[0] == 0x03);
	int uncompressed = len == 65 && buf[0] == 0x04;

	if (!compressed && !uncompressed)
		return M2M_E_PROTO_POINT;
	if (EC_POINT_oct2point(ctx->group, p, buf, len, ctx->bn) != 1) {
		ERR_clear_error();
		return M2M_E_PROTO_POINT;
	}
	if (EC_POINT_is_at_infinity(ctx->group, p) ||
	    EC_POINT_is_on_curve(ctx->group, p, ctx->bn) != 1)
		return M2M_E_PROTO_POINT;
	return M2M_OK;
}

enum m2m_err
proto_p256_check(struct proto_ctx *ctx, const uint8_t *pt, size_t len)
{
	EC_POINT *p = EC_POINT_new(ctx->group);
	enum m2m_err err;

	if (p == NULL)
		return M2M_E_NOMEM;
	err = point_decode(ctx, pt, len, p);
	EC_POINT_free(p);
	return err;
}

enum m2m_err
proto_p256_decompress(struct proto_ctx *ctx, const uint8_t *pt, size_t len,
    uint8_t out[PROTO_POINT_FULL_LEN])
{
	EC_POINT *p = EC_POINT_new(ctx->group);
	enum m2m_err err;

	if (p == NULL)
		return M2M_E_NOMEM;
	err = point_decode(ctx, pt, len, p);
	if (err == M2M_OK && EC_POINT_point2oct(ctx->group, p, POINT_CONVERSION_UNCOMPRESSED,
	    out, PROTO_POINT_FULL_LEN, ctx->bn) != PROTO_POINT_FULL_LEN)
		err = M2M_E_CRYPTO;
	EC_POINT_free(p);
	return err;
}

void
proto_p256_compress(const uint8_t full[PROTO_POINT_FULL_LEN], uint8_t out[PROTO_POINT_LEN])
{
	out[0] = (uint8_t)(0x02 | (full[PROTO_POINT_FULL_LEN - 1] & 1));
	memcpy(out + 1, full + 1, PROTO_POINT_LEN - 1);
}

/* Loads a scalar and checks 1 <= k < n. */
static enum m2m_err
scalar_load(struct proto_ctx *ctx, const uint8_t *priv, size_t len, BIGNUM *k)
{
	const BIGNUM *order = EC_GROUP_get0_order(ctx->group);

	BN_set_flags(k, BN_FLG_CONSTTIME);
	if (len == 0 || len > PROTO_SCALAR_LEN + 1 || BN_bin2bn(priv, (int)len, k) == NULL)
		return M2M_E_INVALID_ARG;
	if (BN_is_zero(k) || BN_cmp(k, order) >= 0)
		return M2M_E_INVALID_ARG;
	return M2M_OK;
}

static enum m2m_err
point_encode(struct proto_ctx *ctx, const EC_POINT *p, uint8_t out[PROTO_POINT_LEN])
{
	if (EC_POINT_point2oct(ctx->group, p, POINT_CONVERSION_COMPRESSED, out,
	    PROTO_POINT_LEN, ctx->bn) != PROTO_POINT_LEN)
		return M2M_E_CRYPTO;
	return M2M_OK;
}

enum m2m_err
proto_p256_public(struct proto_ctx *ctx, const uint8_t *priv, size_t privlen,
    uint8_t pub[PROTO_POINT_LEN])
{
	BIGNUM *k = BN_secure_new();
	EC_POINT *p = EC_POINT_new(ctx->group);
	enum m2m_err err = M2M_E_NOMEM;

	if (k != NULL && p != NULL) {
		err = scalar_load(ctx, priv, privlen, k);
		if (err == M2M_OK && EC_POINT_mul(ctx->group, p, k, NULL, NULL, ctx->bn) != 1)
			err = M2M_E_CRYPTO;
		if (err == M2M_OK)
			err = point_encode(ctx, p, pub);
	}
	BN_clear_free(k);
	EC_POINT_free(p);
	return err;
}

enum m2m_err
proto_p256_keygen(struct proto_ctx *ctx, uint8_t priv[PROTO_SCALAR_LEN],
    uint8_t pub[PROTO_POINT_LEN])
{
	enum m2m_err err;
	int tries;

	/* Rejection sampling: a 32-byte string is >= n with probability 2^-32. */
	for (tries = 0; tries < 16; tries++) {
		if ((err = proto_random(ctx, priv, PROTO_SCALAR_LEN)) != M2M_OK)
			return err;
		err = proto_p256_public(ctx, priv, PROTO_SCALAR_LEN, pub);
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
	BIGNUM *k = BN_secure_new(), *x = BN_secure_new();
	EC_POINT *p = EC_POINT_new(ctx->group), *r = EC_POINT_new(ctx->group);
	enum m2m_err err = M2M_E_NOMEM;

	ctx->ops.ecdh++;
	if (k == NULL || x == NULL || p == NULL || r == NULL)
		goto out;
	if ((err = point_decode(ctx, peer, peerlen, p)) != M2M_OK)
		goto out;
	if ((err = scalar_load(ctx, priv, privlen, k)) != M2M_OK)
		goto out;
	err = M2M_E_CRYPTO;
	if (EC_POINT_mul(ctx->group, r, NULL, p, k, ctx->bn) != 1 ||
	    EC_POINT_is_at_infinity(ctx->group, r) ||
	    EC_POINT_get_affine_coordinates(ctx->group, r, x, NULL, ctx->bn) != 1 ||
	    BN_bn2binpad(x, out, PROTO_DH_LEN) != PROTO_DH_LEN)
		goto out;
	err = M2M_OK;
out:
	BN_clear_free(k);
	BN_clear_free(x);
	EC_POINT_clear_free(r);
	EC_POINT_free(p);
	return err;
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
