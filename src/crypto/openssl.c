/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenSSL 3 backend of the protocol core (backend.h): P-256 through
 * OpenSSL's EC arithmetic with scalars as constant-time BIGNUMs in secure
 * memory, HMAC and HKDF through EVP_MAC and EVP_KDF fetched once,
 * AES-128-GCM on one reusable cipher context. */
#include "config.h"

#include "src/crypto/backend.h"

#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

struct crypto_be {
	EC_GROUP *group;
	BN_CTX *bn;
	EVP_CIPHER *cipher;		/* AES-128-GCM, fetched once */
	EVP_CIPHER_CTX *cctx;		/* reused for every AEAD operation */
	EVP_MAC *hmac;
	EVP_KDF *kdf;
};

const char *
crypto_be_name(void)
{
	return "openssl";
}

enum m2m_err
crypto_be_new(struct crypto_be **out)
{
	struct crypto_be *be;

	*out = NULL;
	if ((be = calloc(1, sizeof(*be))) == NULL)
		return M2M_E_NOMEM;
	be->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	be->bn = BN_CTX_secure_new();
	be->cipher = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	be->cctx = EVP_CIPHER_CTX_new();
	be->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	be->kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (be->group == NULL || be->bn == NULL || be->cipher == NULL ||
	    be->cctx == NULL || be->hmac == NULL || be->kdf == NULL) {
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
	EC_GROUP_free(be->group);
	BN_CTX_free(be->bn);
	EVP_CIPHER_free(be->cipher);
	EVP_CIPHER_CTX_free(be->cctx);
	EVP_MAC_free(be->hmac);
	EVP_KDF_free(be->kdf);
	free(be);
}

int
crypto_be_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	return RAND_priv_bytes(buf, (int)len) == 1;
}

/* Accepts only SEC1 compressed (33) and uncompressed (65) forms; OpenSSL
 * rejects coordinates >= p and points off the curve. */
static enum m2m_err
point_decode(struct crypto_be *be, const uint8_t *buf, size_t len, EC_POINT *p)
{
	int compressed = len == 33 && (buf[0] == 0x02 || buf[0] == 0x03);
	int uncompressed = len == 65 && buf[0] == 0x04;

	if (!compressed && !uncompressed)
		return M2M_E_PROTO_POINT;
	if (EC_POINT_oct2point(be->group, p, buf, len, be->bn) != 1) {
		ERR_clear_error();
		return M2M_E_PROTO_POINT;
	}
	if (EC_POINT_is_at_infinity(be->group, p) ||
	    EC_POINT_is_on_curve(be->group, p, be->bn) != 1)
		return M2M_E_PROTO_POINT;
	return M2M_OK;
}

enum m2m_err
crypto_p256_point(struct crypto_be *be, const uint8_t *pt, size_t len,
    uint8_t full[CRYPTO_POINT_FULL_LEN])
{
	EC_POINT *p = EC_POINT_new(be->group);
	enum m2m_err err;

	if (p == NULL)
		return M2M_E_NOMEM;
	err = point_decode(be, pt, len, p);
	if (err == M2M_OK && full != NULL &&
	    EC_POINT_point2oct(be->group, p, POINT_CONVERSION_UNCOMPRESSED, full,
	    CRYPTO_POINT_FULL_LEN, be->bn) != CRYPTO_POINT_FULL_LEN)
		err = M2M_E_CRYPTO;
	EC_POINT_free(p);
	return err;
}

/* Loads a scalar and checks 1 <= k < n. */
static enum m2m_err
scalar_load(struct crypto_be *be, const uint8_t *priv, size_t len, BIGNUM *k)
{
	const BIGNUM *order = EC_GROUP_get0_order(be->group);

	BN_set_flags(k, BN_FLG_CONSTTIME);
	if (len == 0 || len > CRYPTO_SCALAR_LEN + 1 || BN_bin2bn(priv, (int)len, k) == NULL)
		return M2M_E_INVALID_ARG;
	if (BN_is_zero(k) || BN_cmp(k, order) >= 0)
		return M2M_E_INVALID_ARG;
	return M2M_OK;
}

enum m2m_err
crypto_p256_public(struct crypto_be *be, const uint8_t *priv, size_t privlen,
    uint8_t pub[CRYPTO_POINT_LEN])
{
	BIGNUM *k = BN_secure_new();
	EC_POINT *p = EC_POINT_new(be->group);
	enum m2m_err err = M2M_E_NOMEM;

	if (k != NULL && p != NULL) {
		err = scalar_load(be, priv, privlen, k);
		if (err == M2M_OK && EC_POINT_mul(be->group, p, k, NULL, NULL, be->bn) != 1)
			err = M2M_E_CRYPTO;
		if (err == M2M_OK && EC_POINT_point2oct(be->group, p,
		    POINT_CONVERSION_COMPRESSED, pub, CRYPTO_POINT_LEN, be->bn) != CRYPTO_POINT_LEN)
			err = M2M_E_CRYPTO;
	}
	BN_clear_free(k);
	EC_POINT_free(p);
	return err;
}

enum m2m_err
crypto_p256_ecdh(struct crypto_be *be, const uint8_t *priv, size_t privlen,
    const uint8_t *peer, size_t peerlen, uint8_t out[CRYPTO_HASH_LEN])
{
	BIGNUM *k = BN_secure_new(), *x = BN_secure_new();
	EC_POINT *p = EC_POINT_new(be->group), *r = EC_POINT_new(be->group);
	enum m2m_err err = M2M_E_NOMEM;

	if (k == NULL || x == NULL || p == NULL || r == NULL)
		goto out;
	if ((err = point_decode(be, peer, peerlen, p)) != M2M_OK)
		goto out;
	if ((err = scalar_load(be, priv, privlen, k)) != M2M_OK)
		goto out;
	err = M2M_E_CRYPTO;
	if (EC_POINT_mul(be->group, r, NULL, p, k, be->bn) != 1 ||
	    EC_POINT_is_at_infinity(be->group, r) ||
	    EC_POINT_get_affine_coordinates(be->group, r, x, NULL, be->bn) != 1 ||
	    BN_bn2binpad(x, out, CRYPTO_HASH_LEN) != CRYPTO_HASH_LEN)
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
crypto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[CRYPTO_HASH_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	if (md == NULL)
		return M2M_E_NOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(md, b, blen) == 1) &&
	    (clen == 0 || EVP_DigestUpdate(md, c, clen) == 1) &&
	    EVP_DigestFinal_ex(md, out, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_hmac_sha256(struct crypto_be *be, const uint8_t *key, size_t keylen,
    const uint8_t *msg, size_t msglen, uint8_t out[CRYPTO_HASH_LEN])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *mac;
	unsigned int hlen = 0;
	size_t outlen = 0;
	int ok;

	if (be == NULL)
		return HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &hlen) != NULL &&
		    hlen == CRYPTO_HASH_LEN ? M2M_OK : M2M_E_CRYPTO;
	if ((mac = EVP_MAC_CTX_new(be->hmac)) == NULL)
		return M2M_E_NOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(mac, key, keylen, params) == 1 &&
	    (msglen == 0 || EVP_MAC_update(mac, msg, msglen) == 1) &&
	    EVP_MAC_final(mac, out, &outlen, CRYPTO_HASH_LEN) == 1 &&
	    outlen == CRYPTO_HASH_LEN;
	EVP_MAC_CTX_free(mac);
	return ok ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_hkdf_expand(struct crypto_be *be, const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *kctx;
	int ok;

	if (outlen == 0 || outlen > 255 * CRYPTO_HASH_LEN || prklen < CRYPTO_HASH_LEN)
		return M2M_E_INVALID_ARG;
	if ((kctx = EVP_KDF_CTX_new(be->kdf)) == NULL)
		return M2M_E_NOMEM;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prklen);
	if (infolen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
	EVP_KDF_CTX_free(kctx);
	return ok ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_aead_seal(struct crypto_be *be, const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	EVP_CIPHER_CTX *c = be->cctx;
	int n, ok;

	ok = EVP_EncryptInit_ex2(c, be->cipher, key, iv, NULL) == 1 &&
	    (aadlen == 0 || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1) &&
	    (ptlen == 0 || EVP_EncryptUpdate(c, out, &n, pt, (int)ptlen) == 1) &&
	    EVP_EncryptFinal_ex(c, out + ptlen, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, CRYPTO_TAG_LEN, out + ptlen) == 1;
	return ok ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
crypto_aead_open(struct crypto_be *be, const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	EVP_CIPHER_CTX *c = be->cctx;
	size_t len;
	int n, ok;

	if (ctlen < CRYPTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	len = ctlen - CRYPTO_TAG_LEN;
	ok = EVP_DecryptInit_ex2(c, be->cipher, key, iv, NULL) == 1 &&
	    (aadlen == 0 || EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1) &&
	    (len == 0 || EVP_DecryptUpdate(c, out, &n, ct, (int)len) == 1) &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, CRYPTO_TAG_LEN,
		(void *)(ct + len)) == 1;
	if (!ok)
		return M2M_E_CRYPTO;
	/* The tag check is OpenSSL's, in constant time. */
	if (EVP_DecryptFinal_ex(c, out + len, &n) != 1) {
		ERR_clear_error();
		OPENSSL_cleanse(out, len);
		return M2M_E_PROTO_DECRYPT;
	}
	return M2M_OK;
}
