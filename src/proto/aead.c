/* AES-128-GCM with a 12-byte IV and a 16-byte tag appended to the
 * ciphertext, on the context's reusable cipher context. */
#include "config.h"

#include "src/proto/ctx.h"

#include <openssl/err.h>

enum m2m_err
proto_aead_seal(struct proto_ctx *ctx, const uint8_t key[PROTO_KEY_LEN],
    const uint8_t iv[PROTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	EVP_CIPHER_CTX *c = ctx->cctx;
	int n, ok;

	ctx->ops.aead_seal++;
	ok = EVP_EncryptInit_ex2(c, ctx->cipher, key, iv, NULL) == 1 &&
	    (aadlen == 0 || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1) &&
	    (ptlen == 0 || EVP_EncryptUpdate(c, out, &n, pt, (int)ptlen) == 1) &&
	    EVP_EncryptFinal_ex(c, out + ptlen, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, PROTO_TAG_LEN, out + ptlen) == 1;
	return ok ? M2M_OK : M2M_E_CRYPTO;
}

enum m2m_err
proto_aead_open(struct proto_ctx *ctx, const uint8_t key[PROTO_KEY_LEN],
    const uint8_t iv[PROTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	EVP_CIPHER_CTX *c = ctx->cctx;
	size_t len;
	int n, ok;

	ctx->ops.aead_open++;
	if (ctlen < PROTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	len = ctlen - PROTO_TAG_LEN;
	ok = EVP_DecryptInit_ex2(c, ctx->cipher, key, iv, NULL) == 1 &&
	    (aadlen == 0 || EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1) &&
	    (len == 0 || EVP_DecryptUpdate(c, out, &n, ct, (int)len) == 1) &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, PROTO_TAG_LEN,
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
