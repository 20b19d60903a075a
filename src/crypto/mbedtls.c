/* SPDX-License-Identifier: Apache-2.0 */
/* The Mbed TLS 2.28 backend of the protocol core (backend.h), the usual
 * crypto library of microcontrollers. Mbed TLS 2.28 cannot read a
 * compressed point, so decompression is done here: y = rhs^((p+1)/4), as
 * p = 3 mod 4, then y^2 = rhs is checked, which rejects an x with no
 * point. The ECP arithmetic's blinding draws from the backend's own
 * CTR_DRBG, never from the context's rng: the bytes the protocol draws are
 * the same on every backend, and the known-answer vector holds. */
#include "config.h"

#include "src/crypto/backend.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

struct crypto_be {
	mbedtls_ecp_group grp;
	mbedtls_gcm_context gcm;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

const char *
crypto_be_name(void)
{
	return "mbedtls";
}

enum m2m_err
crypto_be_new(struct crypto_be **out)
{
	static const char pers[] = "m2m crypto backend";
	struct crypto_be *be;

	*out = NULL;
	if ((be = calloc(1, sizeof(*be))) == NULL)
		return M2M_E_NOMEM;
	mbedtls_ecp_group_init(&be->grp);
	mbedtls_gcm_init(&be->gcm);
	mbedtls_entropy_init(&be->entropy);
	mbedtls_ctr_drbg_init(&be->drbg);
	if (mbedtls_ecp_group_load(&be->grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
	    mbedtls_ctr_drbg_seed(&be->drbg, mbedtls_entropy_func, &be->entropy,
	    (const unsigned char *)pers, sizeof(pers) - 1) != 0) {
		crypto_be_free(be);
		return M2M_E_CRYPTO;
	}
	*out = be;
	return M2M_OK;
}

void
crypto_be_free(struct crypto_be *be)
{
	if (be == NULL)
		return;
	mbedtls_ecp_group_free(&be->grp);
	mbedtls_gcm_free(&be->gcm);
	mbedtls_ctr_drbg_free(&be->drbg);
	mbedtls_entropy_free(&be->entropy);
	free(be);
}

int
crypto_be_random(void *arg, uint8_t *buf, size_t len)
{
	struct crypto_be *be = arg;

	while (len > 0) {
		size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;

		if (mbedtls_ctr_drbg_random(&be->drbg, buf, n) != 0)
			return 0;
		buf += n;
		len -= n;
	}
	return 1;
}

/* rhs = x^3 - 3x + b mod p (P-256's a is -3). */
static int
curve_rhs(const mbedtls_ecp_group *g, const mbedtls_mpi *x, mbedtls_mpi *rhs)
{
	mbedtls_mpi t;
	int rc;

	mbedtls_mpi_init(&t);
	rc = mbedtls_mpi_mul_mpi(&t, x, x);
	rc = rc ? rc : mbedtls_mpi_mod_mpi(&t, &t, &g->P);
	rc = rc ? rc : mbedtls_mpi_sub_int(&t, &t, 3);
	rc = rc ? rc : mbedtls_mpi_mul_mpi(&t, &t, x);
	rc = rc ? rc : mbedtls_mpi_add_mpi(&t, &t, &g->B);
	rc = rc ? rc : mbedtls_mpi_mod_mpi(rhs, &t, &g->P);
	mbedtls_mpi_free(&t);
	return rc;
}

/* The point of a compressed encoding: y from x, or nonzero if x has none. */
static int
decompress(const mbedtls_ecp_group *g, const uint8_t *buf, mbedtls_ecp_point *p)
{
	mbedtls_mpi rhs, e, y2;
	int rc;

	mbedtls_mpi_init(&rhs);
	mbedtls_mpi_init(&e);
	mbedtls_mpi_init(&y2);
	rc = mbedtls_mpi_read_binary(&p->X, buf + 1, CRYPTO_SCALAR_LEN);
	rc = rc ? rc : (mbedtls_mpi_cmp_mpi(&p->X, &g->P) < 0 ? 0 : -1);
	rc = rc ? rc : curve_rhs(g, &p->X, &rhs);
	rc = rc ? rc : mbedtls_mpi_add_int(&e, &g->P, 1);
	rc = rc ? rc : mbedtls_mpi_shift_r(&e, 2);
	rc = rc ? rc : mbedtls_mpi_exp_mod(&p->Y, &rhs, &e, &g->P, NULL);
	rc = rc ? rc : mbedtls_mpi_mul_mpi(&y2, &p->Y, &p->Y);
	rc = rc ? rc : mbedtls_mpi_mod_mpi(&y2, &y2, &g->P);
	rc = rc ? rc : (mbedtls_mpi_cmp_mpi(&y2, &rhs) == 0 ? 0 : -1);
	if (rc == 0 && mbedtls_mpi_get_bit(&p->Y, 0) != (buf[0] & 1))
		rc = mbedtls_mpi_sub_mpi(&p->Y, &g->P, &p->Y);
	rc = rc ? rc : mbedtls_mpi_lset(&p->Z, 1);
	mbedtls_mpi_free(&rhs);
	mbedtls_mpi_free(&e);
	mbedtls_mpi_free(&y2);
	return rc;
}

/* Accepts only SEC1 compressed (33) and uncompressed (65) forms;
 * mbedtls_ecp_check_pubkey rejects coordinates >= p, points off the curve
 * and infinity. */
static enum m2m_err
point_decode(struct crypto_be *be, const uint8_t *buf, size_t len, mbedtls_ecp_point *p)
{
	int compressed = len == 33 && (buf[0] == 0x02 || buf[0] == 0x03);
	int uncompressed = len == 65 && buf[0] == 0x04;
	int rc;

	if (!compressed && !uncompressed)
		return M2M_E_PROTO_POINT;
	if (compressed)
		rc = decompress(&be->grp, buf, p);
	else
		rc = mbedtls_ecp_point_read_binary(&be->grp, p, buf, len);
	if (rc != 0 || mbedtls_ecp_check_pubkey(&be->grp, p) != 0)
		return M2M_E_PROTO_POINT;
	return M2M_OK;
}

enum m2m_err
crypto_p256_point(struct crypto_be *be, const uint8_t *pt, size_t len,
    uint8_t full[CRYPTO_POINT_FULL_LEN])
{
	mbedtls_ecp_point p;
	enum m2m_err err;
	size_t n = 0;

	mbedtls_ecp_point_init(&p);
	err = point_decode(be, pt, len, &p);
	if (err == M2M_OK && full != NULL &&
	    (mbedtls_ecp_point_write_binary(&be->grp, &p, MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
	    full, CRYPTO_POINT_FULL_LEN) != 0 || n != CRYPTO_POINT_FULL_LEN))
		err = M2M_E_CRYPTO;
	mbedtls_ecp_point_free(&p);
	return err;
}

/* Loads a scalar and checks 1 <= k < n. */
static enum m2m_err
scalar_load(struct crypto_be *be, const uint8_t *priv, size_t len, mbedtls_mpi *k)
{
	if (len == 0 || len > CRYPTO_SCALAR_LEN + 1 || mbedtls_mpi_read_binary(k, priv, len) != 0)
		return M2M_E_INVALID_ARG;
	if (mbedtls_ecp_check_privkey(&be->grp, k) != 0)
		return M2M_E_INVALID_ARG;
	return M2M_OK;
}

static int
blind_rng(void *arg, unsigned char *buf, size_t len)
{
	return crypto_be_random(arg, buf, len) ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

enum m2m_err
crypto_p256_public(struct crypto_be *be, const uint8_t *priv, size_t privlen,
    uint8_t pub[CRYPTO_POINT_LEN])
{
	mbedtls_mpi k;
	mbedtls_ecp_point p;
	enum m2m_err err;
	size_t n = 0;

	mbedtls_mpi_init(&k);
	mbedtls_ecp_point_init(&p);
	err = scalar_load(be, priv, privlen, &k);
	if (err == M2M_OK && (mbedtls_ecp_mul(&be->grp, &p, &k, &be->grp.G, blind_rng, be) != 0 ||
	    mbedtls_ecp_point_write_binary(&be->grp, &p, MBEDTLS_ECP_PF_COMPRESSED, &n, pub,
	    CRYPTO_POINT_LEN) != 0 || n != CRYPTO_POINT_LEN))
		err = M2M_E_CRYPTO;
	mbedtls_mpi_free(&k);
	mbedtls_ecp_point_free(&p);
	return err;
}

enum m2m_err
crypto_p256_ecdh(struct crypto_be *be, const uint8_t *priv, size_t privlen,
    const uint8_t *peer, size_t peerlen, uint8_t out[CRYPTO_HASH_LEN])
{
	mbedtls_mpi k;
	mbedtls_ecp_point p, r;
	enum m2m_err err;

	mbedtls_mpi_init(&k);
	mbedtls_ecp_point_init(&p);
	mbedtls_ecp_point_init(&r);
	if ((err = point_decode(be, peer, peerlen, &p)) == M2M_OK &&
	    (err = scalar_load(be, priv, privlen, &k)) == M2M_OK &&
	    (mbedtls_ecp_mul(&be->grp, &r, &k, &p, blind_rng, be) != 0 ||
	    mbedtls_ecp_is_zero(&r) ||
	    mbedtls_mpi_write_binary(&r.X, out, CRYPTO_HASH_LEN) != 0))
		err = M2M_E_CRYPTO;
	mbedtls_mpi_free(&k);
	mbedtls_ecp_point_free(&p);
	mbedtls_ecp_point_free(&r);
	return err;
}

enum m2m_err
crypto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[CRYPTO_HASH_LEN])
{
	mbedtls_sha256_context md;
	int rc;

	mbedtls_sha256_init(&md);
	rc = mbedtls_sha256_starts_ret(&md, 0);
	rc = rc ? rc : mbedtls_sha256_update_ret(&md, a, alen);
	rc = rc ? rc : (blen == 0 ? 0 : mbedtls_sha256_update_ret(&md, b, blen));
	rc = rc ? rc : (clen == 0 ? 0 : mbedtls_sha256_update_ret(&md, c, clen));
	rc = rc ? rc : mbedtls_sha256_finish_ret(&md, out);
	mbedtls_sha256_free(&md);
	return rc == 0 ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_hmac_sha256(struct crypto_be *be, const uint8_t *key, size_t keylen,
    const uint8_t *msg, size_t msglen, uint8_t out[CRYPTO_HASH_LEN])
{
	(void)be;
	return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, keylen,
	    msg, msglen, out) == 0 ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_hkdf_expand(struct crypto_be *be, const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	(void)be;
	if (outlen == 0 || outlen > 255 * CRYPTO_HASH_LEN || prklen < CRYPTO_HASH_LEN)
		return M2M_E_INVALID_ARG;
	return mbedtls_hkdf_expand(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), prk, prklen,
	    info, infolen, out, outlen) == 0 ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_aead_seal(struct crypto_be *be, const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	int rc;

	rc = mbedtls_gcm_setkey(&be->gcm, MBEDTLS_CIPHER_ID_AES, key, CRYPTO_KEY_LEN * 8);
	rc = rc ? rc : mbedtls_gcm_crypt_and_tag(&be->gcm, MBEDTLS_GCM_ENCRYPT, ptlen, iv,
	    CRYPTO_IV_LEN, aad, aadlen, pt, out, CRYPTO_TAG_LEN, out + ptlen);
	return rc == 0 ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_aead_open(struct crypto_be *be, const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	size_t len;
	int rc;

	if (ctlen < CRYPTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	len = ctlen - CRYPTO_TAG_LEN;
	if (mbedtls_gcm_setkey(&be->gcm, MBEDTLS_CIPHER_ID_AES, key, CRYPTO_KEY_LEN * 8) != 0)
		return M2M_E_CRYPTO;
	/* Mbed TLS compares the tag in constant time and zeroes out on failure. */
	rc = mbedtls_gcm_auth_decrypt(&be->gcm, len, iv, CRYPTO_IV_LEN, aad, aadlen,
	    ct + len, CRYPTO_TAG_LEN, ct, out);
	if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED) {
		mbedtls_platform_zeroize(out, len);
		return M2M_E_PROTO_DECRYPT;
	}
	return rc == 0 ? M2M_OK : M2M_E_CRYPTO;
}
