/* SPDX-License-Identifier: Apache-2.0 */
/* AES-128-GCM with a 12-byte IV and a 16-byte tag appended to the
 * ciphertext, on the backend's cipher. */
#include "config.h"

#include "src/proto/ctx.h"

enum m2m_err
proto_aead_seal(struct proto_ctx *ctx, const uint8_t key[PROTO_KEY_LEN],
    const uint8_t iv[PROTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	ctx->ops.aead_seal++;
	return crypto_aead_seal(ctx->be, key, iv, aad, aadlen, pt, ptlen, out);
}

enum m2m_err
proto_aead_open(struct proto_ctx *ctx, const uint8_t key[PROTO_KEY_LEN],
    const uint8_t iv[PROTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	ctx->ops.aead_open++;
	if (ctlen < PROTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	return crypto_aead_open(ctx->be, key, iv, aad, aadlen, ct, ctlen, out);
}
