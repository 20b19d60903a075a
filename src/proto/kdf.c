/* SHA-256 and HKDF-SHA-256 (RFC 5869) through OpenSSL's EVP interfaces.
 * Extract is HMAC(salt, IKM) by definition; it goes through EVP_MAC because
 * OpenSSL's HKDF refuses an empty IKM, which RFC 5869 allows. */
#include "config.h"

#include "src/proto/ctx.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

enum m2m_err
proto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[PROTO_HASH_LEN])
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
proto_hkdf_extract(struct proto_ctx *ctx, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, uint8_t prk[PROTO_HASH_LEN])
{
	static const uint8_t zeros[PROTO_HASH_LEN];
	OSSL_PARAM params[2];
	EVP_MAC_CTX *mac;
	size_t outlen = 0;
	int ok;

	ctx->ops.hkdf_extract++;
	if (saltlen == 0) {		/* RFC 5869: HashLen zero bytes */
		salt = zeros;
		saltlen = sizeof(zeros);
	}
	if ((mac = EVP_MAC_CTX_new(ctx->hmac)) == NULL)
		return M2M_E_NOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(mac, salt, saltlen, params) == 1 &&
	    (ikmlen == 0 || EVP_MAC_update(mac, ikm, ikmlen) == 1) &&
	    EVP_MAC_final(mac, prk, &outlen, PROTO_HASH_LEN) == 1 &&
	    outlen == PROTO_HASH_LEN;
	EVP_MAC_CTX_free(mac);
	return ok ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
proto_hkdf_expand(struct proto_ctx *ctx, const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *kctx;
	int ok;

	ctx->ops.hkdf_expand++;
	if (outlen == 0 || outlen > 255 * PROTO_HASH_LEN || prklen < PROTO_HASH_LEN)
		return M2M_E_INVALID_ARG;
	if ((kctx = EVP_KDF_CTX_new(ctx->kdf)) == NULL)
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
